"""Camera RAW files: metadata from their EXIF, pixels from the JPEG preview the camera embeds.

Every RAW format of note carries a JPEG made by the camera, most at full or near-full size: decoding
it takes milliseconds where demosaicing the sensor data takes seconds, and it shows the photo as the
camera's own rendering did. When no embedded JPEG is big enough, LibRaw (the optional ``raw`` extra,
``rawpy``) demosaics the sensor data; without it such a file fails with a reason saying so.
"""

from __future__ import annotations

import io
import mmap
import os
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image

from photoclip.errors import DecodeError
from photoclip.imaging._metadata import ExifDirs, PhotoMeta, assemble, exif_dirs

RAW_EXTENSIONS: frozenset[str] = frozenset(
    {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng", ".raf", ".rw2", ".orf", ".pef", ".srw"})
RAW_EXTRA_MISSING = ("RAW file without a usable embedded preview: install the 'raw' extra "
                     "(pip install 'photoclip[raw]') to decode it")
FULL_SIDE = 1000  # a preview this big (shorter side) stands in for the whole photo when viewed
MIN_PREVIEW_SIDE = 160  # smaller embedded JPEGs are icons, not pictures of the photo
_SOI = b"\xff\xd8\xff"
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # the next marker after entropy-coded data
_PICTURE_SOF = (0xC0, 0xC1, 0xC2)  # baseline, extended and progressive: what Pillow decodes
_TIFF_HEADS = (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"IIU\x00")  # TIFF and Olympus/Panasonic variants


def is_raw(path: str | os.PathLike[str]) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in RAW_EXTENSIONS


@dataclass(frozen=True)
class Preview:
    offset: int
    length: int
    width: int
    height: int


@contextmanager
def _mapped(path: str | os.PathLike[str]) -> Iterator[mmap.mmap]:
    from photoclip.imaging._files import check_regular_file, read_error

    check_regular_file(path)
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            yield mm
    except OSError as exc:
        raise read_error(exc) from None
    except ValueError:  # mmap of an empty file
        raise DecodeError("empty file") from None


def previews(mm: mmap.mmap | bytes) -> list[Preview]:
    """Every embedded baseline or progressive JPEG, largest first (lossless sensor data left out)."""
    found: list[Preview] = []
    pos = 0
    while True:
        start = mm.find(_SOI, pos)
        if start < 0:
            break
        preview = _jpeg_at(mm, start)
        if preview is None:
            pos = start + 2
            continue
        found.append(preview)
        pos = start + preview.length
    return sorted(found, key=lambda p: p.width * p.height, reverse=True)


def _jpeg_at(mm: mmap.mmap | bytes, start: int) -> Preview | None:
    """Walk a JPEG's segments from its SOI: its size from the frame header and its extent up to EOI."""
    size = len(mm)
    pos = start + 2
    dims: tuple[int, int] | None = None
    while pos + 2 <= size:
        if mm[pos] != 0xFF:
            return None
        marker = mm[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            if dims is None:
                return None
            return Preview(start, pos + 2 - start, dims[0], dims[1])
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > size:
            return None
        length = struct.unpack(">H", mm[pos + 2:pos + 4])[0]
        if length < 2:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if marker not in _PICTURE_SOF or pos + 9 > size:
                return None  # lossless (sensor data) or hierarchical: not a picture Pillow decodes
            height, width = struct.unpack(">HH", mm[pos + 5:pos + 9])
            if not width or not height:
                return None
            dims = (width, height)
        pos += 2 + length
        if marker == 0xDA:  # entropy-coded data runs to the next real marker
            if dims is None:
                return None
            found = _MARKER.search(mm, pos)
            if found is None:
                return None
            pos = found.start()
    return None


def _tiff_dirs(f: IO[bytes], head: bytes) -> ExifDirs | None:
    """The RAW's own IFD0 and its EXIF and GPS directories (TIFF-based formats), read in place."""
    if head[:4] not in _TIFF_HEADS:
        return None
    exif = Image.Exif()
    try:
        exif.load_from_fp(_TiffView(f, head[:2] + (b"*\x00" if head[:2] == b"II" else b"\x00*")))
        return exif_dirs(exif)
    except Exception:  # damaged directories: the preview's EXIF may still serve
        return None


class _TiffView(io.RawIOBase):
    """A file whose first four bytes read as a plain TIFF header: ORF and RW2 change the magic number
    but keep TIFF's directories, which Pillow then reads."""

    def __init__(self, f: IO[bytes], magic: bytes) -> None:
        self._f, self._magic = f, magic
        f.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def read(self, n: int = -1) -> bytes:
        pos = self._f.tell()
        data = self._f.read(n)
        if pos < 4:
            patch = self._magic[pos:4]
            data = patch[:len(data)] + data[len(patch):]
        return data


def _cr3_dirs(mm: mmap.mmap) -> ExifDirs | None:
    """Canon CR3 keeps its EXIF as small TIFF blobs in boxes: CMT1 (IFD0), CMT2 (EXIF), CMT4 (GPS)."""
    dirs: list[dict[int, Any]] = []
    window = mm[:min(len(mm), 1 << 20)]
    for box in (b"CMT1", b"CMT2", b"CMT4"):
        at = window.find(box)
        if at < 4:
            dirs.append({})
            continue
        length = struct.unpack(">I", window[at - 4:at])[0]
        exif = Image.Exif()
        try:
            exif.load(window[at + 4:at - 4 + length])
            dirs.append(dict(exif))
        except Exception:
            dirs.append({})
    return (dirs[0], dirs[1], dirs[2]) if any(dirs) else None


def _xmp_of(mm: mmap.mmap) -> bytes | None:
    start = mm.find(b"<x:xmpmeta")
    if start < 0:
        return None
    end = mm.find(b"</x:xmpmeta>", start)
    return mm[start:end + 12] if end > start else None


@dataclass
class RawInfo:
    meta: PhotoMeta
    previews: list[Preview]


def inspect(path: str | os.PathLike[str]) -> RawInfo:
    """Metadata and the embedded previews of a RAW file, without decoding any pixels."""
    fmt = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    with _mapped(path) as mm:
        found = previews(mm)
        dirs: ExifDirs | None = None
        head = mm[:16]
        if head[4:8] == b"ftyp":
            dirs = _cr3_dirs(mm)
        else:
            with open(path, "rb") as f:
                dirs = _tiff_dirs(f, head)
        if dirs is None or not dirs[1]:  # RAF and others: the EXIF sits in the preview JPEG
            dirs = _preview_dirs(mm, found) or dirs
        xmp = _xmp_of(mm)
    orientation = _orientation(dirs)
    width, height = (found[0].width, found[0].height) if found else _stored_size(dirs)
    if orientation >= 5:
        width, height = height, width
    return RawInfo(assemble(fmt, width, height, orientation, dirs, xmp, []), found)


def _preview_dirs(mm: mmap.mmap, found: list[Preview]) -> ExifDirs | None:
    for p in found:
        try:
            with Image.open(io.BytesIO(mm[p.offset:p.offset + p.length])) as im:
                exif = im.getexif()
                if len(exif):
                    return exif_dirs(exif)
        except Exception:
            continue
    return None


def _orientation(dirs: ExifDirs | None) -> int:
    value = dirs[0].get(0x0112, 1) if dirs else 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _stored_size(dirs: ExifDirs | None) -> tuple[int, int]:
    if not dirs:
        return 0, 0
    for where, w, h in ((dirs[1], 0xA002, 0xA003), (dirs[0], 256, 257)):
        width, height = where.get(w), where.get(h)
        if isinstance(width, int) and isinstance(height, int):
            return width, height
    return 0, 0


def decode(path: str | os.PathLike[str], info: RawInfo, min_side: int) -> tuple[Image.Image, int]:
    """RGB pixels and the orientation still to apply: the largest embedded JPEG when its shorter side
    covers ``min_side``, else LibRaw's demosaic, else (without LibRaw) the largest preview there is."""
    best = info.previews[0] if info.previews else None
    if best is not None and min(best.width, best.height) >= min_side:
        return _preview_pixels(path, best, min_side), info.meta.orientation
    try:
        import rawpy
    except ImportError:
        if best is not None and min(best.width, best.height) >= MIN_PREVIEW_SIDE:
            return _preview_pixels(path, best, min_side), info.meta.orientation
        raise DecodeError(RAW_EXTRA_MISSING) from None
    try:
        with rawpy.imread(os.fspath(path)) as raw:
            rgb = raw.postprocess(use_camera_wb=True, half_size=True, output_bps=8)
    except Exception as exc:  # LibRaw's own errors: an unsupported camera or a damaged file
        raise DecodeError(f"cannot decode the RAW file ({exc})") from None
    return Image.fromarray(rgb, "RGB"), 1  # LibRaw has already turned the picture upright


def _preview_pixels(path: str | os.PathLike[str], preview: Preview, min_side: int) -> Image.Image:
    from photoclip.imaging._files import load_pixels
    from photoclip.imaging._pixels import draft, to_rgb

    with _mapped(path) as mm:
        data = mm[preview.offset:preview.offset + preview.length]
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as im:
            short = min(im.size)
            scale = min_side / short if short else 1.0
            draft(im, max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            load_pixels(im, "jpeg")
            return to_rgb(im).copy()
    except DecodeError as exc:
        raise DecodeError(f"RAW file's embedded preview: {exc}") from None
    except Exception:
        raise DecodeError("RAW file's embedded preview is damaged") from None
