"""Writers of test images and of a corpus of bad inputs, shared by the test suites.

``make_image`` draws a known picture (a flat colour, optionally with an asymmetric marker) in any
format and pixel mode we read, with chosen EXIF facts. ``make_bad_corpus`` writes the files a photo
folder really contains besides photos, each with the reason keyword ``DecodeError`` should give.
"""

from __future__ import annotations

import functools
import os
import struct
import sys
import zlib
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, TiffImagePlugin

# Where make_image(marker=True) puts its marker in the upright picture, as fractions of width and
# height: a wide bar in the top-left corner, so every flip and rotation moves it somewhere else.
MARKER_BOX = (0.0, 0.0, 0.5, 0.2)
MARKER_COLOR = (0, 0, 0)

# Inverse of each EXIF orientation: what to do to the upright picture so that a viewer applying the
# orientation shows it upright again. 6 and 8 are each other's inverse; the rest undo themselves.
_STORE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "tiff": "TIFF", "bmp": "BMP",
               "heic": "HEIF", "heif": "HEIF", "avif": "AVIF"}
_NO_EXIF = {"gif", "bmp"}

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# Files make_bad_corpus writes that must decode in spite of their odd name or extension.
GOOD_IN_BAD_CORPUS = ("png named.jpg", "café ünïcode.jpg", "emoji 📷.png", " leading space.jpg",
                      "new\nline.jpg")

# Bad files whose fault only shows when the pixels are decoded, so read_meta (header only) accepts them.
NEEDS_DECODE = frozenset({"truncated.jpg"})


def make_image(
    path: str | os.PathLike[str],
    fmt: str,
    size: tuple[int, int],
    color: object,
    orientation: int | None = None,
    exif_datetime: datetime | str | None = None,
    make: str | None = None,
    model: str | None = None,
    gps: tuple[float, float] | None = None,
    mode: str = "RGB",
    *,
    marker: bool = False,
    noise: float = 0.0,
    quality: int = 90,
    heic_thumbnails: tuple[int, ...] = (),
    exif_extra: dict[int, object] | None = None,
) -> Path:
    """Write a picture that shows as ``size`` (width, height) once ``orientation`` is applied.

    ``color`` is a fill value of ``mode`` (a 16-bit integer for "I;16"/"I", a triple of 16-bit
    integers for the 48-bit "RGB;16"). ``noise`` adds Gaussian noise of that standard deviation to
    give JPEGs realistic sizes. ``exif_extra`` sets raw IFD0 tags.
    """
    path = Path(path)
    fmt = fmt.lower()
    if mode == "RGB;16":
        _write_rgb16(path, fmt, size, color)  # type: ignore[arg-type]
        return path
    img = Image.new(mode, size, color)  # type: ignore[arg-type]
    if marker:
        w, h = size
        box = (round(MARKER_BOX[0] * w), round(MARKER_BOX[1] * h),
               round(MARKER_BOX[2] * w) - 1, round(MARKER_BOX[3] * h) - 1)
        ImageDraw.Draw(img).rectangle(box, fill=_marker_fill(mode))
    if noise:
        img = _add_noise(img, noise)
    if orientation and orientation in _STORE:
        img = img.transpose(_STORE[orientation])
    kwargs: dict[str, object] = {}
    exif = _exif(orientation, exif_datetime, make, model, gps, exif_extra)
    if exif is not None:
        if fmt in _NO_EXIF:
            raise ValueError(f"{fmt} cannot carry EXIF")
        kwargs["exif"] = exif.tobytes()
    if fmt in ("jpeg", "webp", "heic", "heif", "avif"):
        kwargs["quality"] = quality
    if fmt in ("heic", "heif"):
        import pillow_heif

        pillow_heif.register_heif_opener()
        kwargs["thumbnails"] = list(heic_thumbnails)
    img.save(path, _PIL_FORMAT[fmt], **kwargs)
    return path


def _marker_fill(mode: str) -> object:
    probe = Image.new("RGB", (1, 1), MARKER_COLOR).convert(mode if mode not in ("P", "I;16", "I") else "L")
    value = probe.getpixel((0, 0))
    if mode == "P":
        return 0 if value else 1  # any index distinct from the background's usual index 0
    if mode in ("LA", "RGBA", "PA"):
        return (*(value if isinstance(value, tuple) else (value,))[:-1], 255)
    return value


def _add_noise(img: Image.Image, sigma: float) -> Image.Image:
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    rng = np.random.default_rng(1234)
    a = a + rng.normal(0.0, sigma, a.shape).astype(np.float32)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB").convert(img.mode)


def _exif(
    orientation: int | None,
    when: datetime | str | None,
    make: str | None,
    model: str | None,
    gps: tuple[float, float] | None,
    extra: dict[int, object] | None,
) -> Image.Exif | None:
    if not any((orientation, when, make, model, gps, extra)):
        return None
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    for tag, value in (extra or {}).items():
        exif[tag] = value
    if when:
        text = when.strftime("%Y:%m:%d %H:%M:%S") if isinstance(when, datetime) else when
        exif.get_ifd(0x8769)[0x9003] = text
    if gps:
        lat, lon = gps
        exif.get_ifd(0x8825).update({
            0: b"\x02\x03\x00\x00",
            1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)),
            3: "E" if lon >= 0 else "W", 4: _dms(abs(lon)),
        })
    return exif


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction((value - degrees - minutes / 60) * 3600).limit_denominator(10_000)
    return (TiffImagePlugin.IFDRational(degrees, 1), TiffImagePlugin.IFDRational(minutes, 1),
            TiffImagePlugin.IFDRational(seconds.numerator, seconds.denominator))


# ---------------------------------------------------------------------------------------------------
# Formats Pillow cannot write: 16-bit-per-channel RGB (PNG) and 48-bit TIFF, and the PNG bomb


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _write_rgb16(path: Path, fmt: str, size: tuple[int, int], color: tuple[int, int, int]) -> None:
    w, h = size
    pixels = np.empty((h, w, 3), dtype=">u2")
    pixels[...] = color
    if fmt == "png":
        raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))
        ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                         + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))
    elif fmt == "tiff":
        data = pixels.tobytes()
        entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, 0), (259, 3, 1, 1), (262, 3, 1, 2),
                   (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, h), (279, 4, 1, len(data)), (284, 3, 1, 1)]
        ifd_at = 8
        bps_at = ifd_at + 2 + 12 * len(entries) + 4
        data_at = bps_at + 6
        body = b""
        for tag, kind, count, value in entries:
            if tag == 258:
                value = bps_at
            elif tag == 273:
                value = data_at
            short = kind == 3 and count == 1
            packed = struct.pack(">HH", value, 0) if short else struct.pack(">I", value)
            body += struct.pack(">HHI", tag, kind, count) + packed
        path.write_bytes(b"MM\x00*" + struct.pack(">I", ifd_at) + struct.pack(">H", len(entries)) + body
                         + b"\x00\x00\x00\x00" + struct.pack(">HHH", 16, 16, 16) + data)
    else:
        raise ValueError(f"48-bit RGB is written only as png or tiff, not {fmt}")


@functools.lru_cache(maxsize=2)
def bomb_png_bytes(width: int = 20000, height: int = 20000) -> bytes:
    """A valid 1-bit PNG of width x height zeros: a few hundred KB on disk, gigabytes when decoded."""
    row = bytes(1 + (width + 7) // 8)
    packer = zlib.compressobj(1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


@functools.lru_cache(maxsize=2)
def huge_rgba_png_bytes(width: int, height: int) -> bytes:
    """A valid 8-bit RGBA PNG: the top half opaque red, the rest fully transparent. Tiny on disk (long
    runs compress to almost nothing), 4 bytes a pixel once decoded."""
    red = b"\x00" + b"\xff\x00\x00\xff" * width
    clear = bytes(1 + 4 * width)
    packer = zlib.compressobj(1)
    idat = b"".join(packer.compress(red if y < height // 2 else clear) for y in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------------
# The bad-input corpus


def make_bad_corpus(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Write awkward files into ``folder``; return {file name: keyword expected in the DecodeError}.

    The folder also holds files that must decode (``GOOD_IN_BAD_CORPUS``) and a directory symlink
    ``loop`` pointing at the folder itself, for the scanner. The unreadable file is listed only when
    permissions are enforced (not as root, not on Windows).
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    (root / "empty.jpg").write_bytes(b"")
    expected["empty.jpg"] = "empty file"

    good = root / "good.jpg"
    make_image(good, "jpeg", (256, 192), (40, 120, 200), noise=30)
    data = good.read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) * 6 // 10])
    expected["truncated.jpg"] = "truncated"
    good.unlink()

    (root / "notes.jpg").write_text("Shopping list:\n- milk\n- eggs\n", encoding="utf-8")
    expected["notes.jpg"] = "text file"

    (root / "random.jpg").write_bytes(np.random.default_rng(7).integers(0, 256, 4096, np.uint8).tobytes())
    expected["random.jpg"] = "not an image"

    (root / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    expected["garbage.png"] = "damaged PNG"

    (root / "bomb.png").write_bytes(bomb_png_bytes())
    expected["bomb.png"] = "too large"

    (root / "album.jpg").mkdir(exist_ok=True)
    expected["album.jpg"] = "folder"

    locked = root / "locked.jpg"
    make_image(locked, "jpeg", (32, 32), (200, 10, 10))
    locked.chmod(0)
    if not IS_ROOT and sys.platform != "win32":
        expected["locked.jpg"] = "permission denied"

    make_image(root / "png named.jpg", "png", (40, 30), (0, 200, 0))
    for name in GOOD_IN_BAD_CORPUS[1:]:
        try:
            make_image(root / name, "png" if name.endswith(".png") else "jpeg", (40, 30), (10, 20, 200))
        except OSError:  # file systems that refuse a newline in a name
            pass

    loop = root / "loop"
    if not loop.is_symlink():
        try:
            loop.symlink_to(".", target_is_directory=True)
        except OSError:  # Windows without the symlink privilege
            pass
    return expected


# ---------------------------------------------------------------------------------------------------
# Hostile inputs for a whole library: names, links and sizes that once stopped indexing or never ended


def _fs_name(folder: Path, raw: bytes) -> Path:
    return Path(os.fsdecode(os.path.join(os.fsencode(folder), raw)))


def _good(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    make_image(path, "png", (24, 16), (shade % 256, 90, 200 - shade % 150))


def _non_utf8_file(root: Path) -> set[str]:
    _good(_fs_name(root, b"bad\xff.png"), 10)
    return set()


def _non_utf8_folder(root: Path) -> set[str]:
    _good(_fs_name(root, b"Sommer \xe4") / "a.png", 20)
    _good(_fs_name(root, b"Sommer \xe4") / "b\x80.png", 30)
    return set()


def _latin1_and_utf8_twins(root: Path) -> set[str]:
    _good(_fs_name(root, b"caf\xe9.png"), 40)  # Latin-1 bytes
    _good(root / "café.png", 40)  # the same name in UTF-8, and the same content
    return set()


def _long_names(root: Path) -> set[str]:
    for i, n in enumerate((196, 200, 240)):
        _good(root / (f"{i}" + "x" * (n - 5) + ".png"), 50 + i)
    return set()


def _dangling_symlink(root: Path) -> set[str]:
    _good(root / "real.png", 60)
    (root / "dangling.png").symlink_to(root / "nowhere.png")
    return {"dangling.png"}


def _symlink_loop(root: Path) -> set[str]:
    _good(root / "real.png", 70)
    (root / "loop-a.png").symlink_to(root / "loop-b.png")
    (root / "loop-b.png").symlink_to(root / "loop-a.png")
    (root / "self").symlink_to(".", target_is_directory=True)
    return {"loop-a.png", "loop-b.png"}


def _huge_dimensions(root: Path) -> set[str]:
    (root / "huge.png").write_bytes(huge_rgba_png_bytes(4000, 4000))
    return set()


def _unreadable_folder(root: Path) -> set[str]:
    _good(root / "shut" / "inside.png", 80)
    (root / "shut").chmod(0)
    return set() if IS_ROOT else {"shut"}


def _bad_files(root: Path) -> set[str]:
    make_bad_corpus(root)
    return set()


# name -> writer of the case into an empty folder, returning the names the scan cannot read
HOSTILE_CASES = {
    "non-utf8 file name": _non_utf8_file,
    "non-utf8 folder name": _non_utf8_folder,
    "latin-1 and utf-8 twins": _latin1_and_utf8_twins,
    "names of 196 to 240 bytes": _long_names,
    "dangling symlink": _dangling_symlink,
    "symlink loops": _symlink_loop,
    "huge dimensions": _huge_dimensions,
    "unreadable folder": _unreadable_folder,
    "bad files": _bad_files,
}


def make_hostile_case(folder: str | os.PathLike[str], case: str) -> set[str]:
    """Write one of ``HOSTILE_CASES`` into ``folder``; returns the names the scan must report as not read.

    Raises OSError where the file system refuses such names (not UTF-8 on macOS, symlinks on Windows).
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    return HOSTILE_CASES[case](root)
