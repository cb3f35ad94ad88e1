"""RAW files: catalogued, read from their embedded JPEG preview, dated from their own EXIF, and refused
with a clear reason when nothing in them can be shown without LibRaw."""

from __future__ import annotations

import io
import struct
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoclip import imaging
from photoclip.errors import DecodeError
from photoclip.imaging import _raw

SENSOR = b"\xff\xd8\xff\xc4\x00\x04\x00\x00\xff\xc3\x00\x0b\x0c\x00\x10\x00\x10\x01\x01\x11\x00" + bytes(500)


def jpeg_bytes(size: tuple[int, int], colour: tuple[int, int, int], exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def _ifd(entries: list[tuple[int, int, bytes]], at: int, little: bool) -> tuple[bytes, bytes]:
    """One IFD starting at ``at``: (directory, data area that follows it)."""
    e = "<" if little else ">"
    count = len(entries)
    data_at = at + 2 + 12 * count + 4
    head, data = struct.pack(e + "H", count), b""
    for tag, kind, value in sorted(entries):
        n = len(value) if kind == 2 else len(value) // {3: 2, 4: 4}[kind]
        if len(value) <= 4:
            head += struct.pack(e + "HHI", tag, kind, n) + value.ljust(4, b"\x00")
        else:
            head += struct.pack(e + "HHII", tag, kind, n, data_at + len(data))
            data += value + (b"\x00" if len(value) % 2 else b"")
    return head + struct.pack(e + "I", 0), data


def raw_like(path: Path, preview: bytes | None, *, magic: bytes = b"II*\x00", orientation: int = 1,
             original: str = "2021:09:10 08:07:06", offset: str = "-07:00") -> Path:
    """A TIFF-structured RAW as cameras write them: IFD0 with make, model and orientation, an EXIF
    directory with the capture date, a lossless-JPEG "sensor" block and a JPEG preview."""
    little = magic[:2] == b"II"
    e = "<" if little else ">"

    def ascii_(s: str) -> bytes:
        return s.encode() + b"\x00"

    exif_at = 8 + 400
    exif_dir, exif_data = _ifd([(0x9003, 2, ascii_(original)), (0x9011, 2, ascii_(offset))], exif_at, little)
    ifd0, ifd0_data = _ifd([(0x010F, 2, ascii_("Testcam")), (0x0110, 2, ascii_("RX-1")),
                            (0x0112, 3, struct.pack(e + "H", orientation)),
                            (0x0132, 2, ascii_("2024:01:01 00:00:00")),
                            (0x8769, 4, struct.pack(e + "I", exif_at))], 8, little)
    block = (ifd0 + ifd0_data).ljust(400, b"\x00")
    data = magic + struct.pack(e + "I", 8) + block + exif_dir + exif_data + SENSOR + (preview or b"")
    path.write_bytes(data)
    return path


def test_raw_extensions_are_catalogued() -> None:
    for ext in (".CR2", ".cr3", ".nef", ".NRW", ".arw", ".dng", ".raf", ".rw2", ".orf", ".pef", ".srw"):
        assert imaging.is_supported(f"x{ext}")


def test_metadata_from_the_raw_and_pixels_from_its_preview(tmp_path: Path) -> None:
    path = raw_like(tmp_path / "a.dng", jpeg_bytes((600, 400), (220, 40, 40)), orientation=6)
    meta = imaging.read_meta(path)
    assert (meta.format, meta.camera_make, meta.camera_model) == ("dng", "Testcam", "RX-1")
    assert (meta.width, meta.height, meta.orientation) == (400, 600, 6)  # the preview, turned upright
    assert meta.taken is not None
    assert (meta.taken.source, meta.taken.local, meta.taken.offset) == ("exif", datetime(2021, 9, 10, 8, 7, 6), -420)
    image, _ = imaging.load_image(path, min_side=224)
    assert image.width < image.height  # rotated by the RAW's orientation
    r, g, b = image.getpixel((image.width // 2, image.height // 2))
    assert r > 180 and g < 90 and b < 90
    thumb = imaging.thumbnail(path, 128)
    assert max(thumb.size) == 128 and thumb.height > thumb.width


@pytest.mark.parametrize(("name", "magic"), [("a.orf", b"IIRO"), ("a.rw2", b"IIU\x00"), ("a.nef", b"MM\x00*")])
def test_tiff_variants(tmp_path: Path, name: str, magic: bytes) -> None:
    path = raw_like(tmp_path / name, jpeg_bytes((320, 240), (40, 200, 40)), magic=magic)
    meta = imaging.read_meta(path)
    assert meta.camera_model == "RX-1" and meta.taken is not None and meta.taken.source == "exif"


def test_raf_like_file_dates_from_its_preview(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Fujifilm"
    exif.get_ifd(0x8769)[0x9003] = "2020:02:02 20:20:20"
    path = tmp_path / "a.raf"
    path.write_bytes(b"FUJIFILMCCD-RAW 0201FF383501" + bytes(100) + jpeg_bytes((400, 300), (0, 0, 200), exif)
                     + SENSOR)
    meta = imaging.read_meta(path)
    assert meta.camera_make == "Fujifilm" and meta.taken_at == datetime(2020, 2, 2, 20, 20, 20)
    assert (meta.width, meta.height) == (400, 300)


def test_lossless_sensor_data_is_not_taken_for_a_preview(tmp_path: Path) -> None:
    assert _raw.previews(SENSOR) == []


def test_without_a_usable_preview_the_reason_names_the_extra(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rawpy", None)  # as when the extra is not installed
    path = raw_like(tmp_path / "a.cr2", jpeg_bytes((120, 80), (1, 2, 3)))
    with pytest.raises(DecodeError, match=r"photoclip\[raw\]"):
        imaging.load_image(path, min_side=224)
    assert imaging.read_meta(path).camera_model == "RX-1"  # its metadata is still read


def test_small_preview_is_used_when_libraw_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rawpy", None)
    path = raw_like(tmp_path / "a.arw", jpeg_bytes((200, 180), (1, 2, 3)))
    image, _ = imaging.load_image(path, min_side=224)
    assert image.size == (200, 180)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _tiff(tags: dict[int, object]) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[tag] = value
    data = exif.tobytes()
    return data[6:] if data.startswith(b"Exif\x00\x00") else data


def test_cr3_metadata_from_its_cmt_boxes(tmp_path: Path) -> None:
    """Canon CR3 is an ISO media file: EXIF as TIFF blobs in CMT1 (IFD0) and CMT2 (EXIF) boxes."""
    canon = b"\x85\xc0\xb6\x87\x82\x0f\x11\xe0\x81\x11\xf4\xce\x46\x2b\x6a\x48"
    cmt1 = _box(b"CMT1", _tiff({0x010F: "Canon", 0x0110: "EOS R5", 0x0112: 8}))
    cmt2 = _box(b"CMT2", _tiff({0x9003: "2023:11:12 13:14:15", 0x9011: "+01:00", 0x9291: "5"}))
    moov = _box(b"moov", _box(b"uuid", canon + cmt1 + cmt2))
    preview = _box(b"uuid", bytes(16) + _box(b"PRVW", bytes(8) + jpeg_bytes((360, 240), (200, 200, 0))))
    path = tmp_path / "IMG_1.CR3"
    path.write_bytes(_box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + moov + preview + _box(b"mdat", SENSOR))
    meta = imaging.read_meta(path)
    assert (meta.format, meta.camera_make, meta.camera_model, meta.orientation) == ("cr3", "Canon", "EOS R5", 8)
    assert (meta.width, meta.height) == (240, 360)
    assert meta.taken is not None
    assert (meta.taken.local, meta.taken.offset) == (datetime(2023, 11, 12, 13, 14, 15, 500000), 60)
    image, _ = imaging.load_image(path, min_side=224)
    assert image.size[0] < image.size[1]


def test_a_damaged_preview_is_reported_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rawpy", None)
    broken = bytearray(jpeg_bytes((400, 300), (5, 5, 5)))
    at = broken.find(b"\xff\xc4")
    broken[at + 5:at + 21] = b"\xff" * 16  # a Huffman table no decoder accepts
    path = raw_like(tmp_path / "a.pef", bytes(broken))
    with pytest.raises(DecodeError, match="embedded preview"):
        imaging.load_image(path, min_side=224)


def bayer_dng(path: Path, width: int = 64, height: int = 48) -> Path:
    """A DNG holding only an uncompressed RGGB mosaic of a red scene: no preview, so LibRaw must decode it."""
    mosaic = np.zeros((height, width), dtype="<u2")
    mosaic[0::2, 0::2], mosaic[0::2, 1::2], mosaic[1::2, 0::2], mosaic[1::2, 1::2] = 50000, 8000, 8000, 4000
    pixels = mosaic.tobytes()
    unit = {1: 1, 2: 1, 3: 2, 4: 4, 10: 8}

    def shorts(*v: int) -> bytes:
        return b"".join(struct.pack("<H", x) for x in v)

    def longs(*v: int) -> bytes:
        return b"".join(struct.pack("<I", x) for x in v)

    def directory(strip_at: int) -> bytes:
        identity = b"".join(struct.pack("<ii", a, 10000) for a in (10000, 0, 0, 0, 10000, 0, 0, 0, 10000))
        entries = sorted([
            (254, 4, longs(0)), (256, 4, longs(width)), (257, 4, longs(height)), (258, 3, shorts(16)),
            (259, 3, shorts(1)), (262, 3, shorts(32803)), (271, 2, b"Testcam\x00"), (272, 2, b"RX-1\x00"),
            (273, 4, longs(strip_at)), (274, 3, shorts(1)), (277, 3, shorts(1)), (278, 4, longs(height)),
            (279, 4, longs(len(pixels))), (284, 3, shorts(1)), (33421, 3, shorts(2, 2)),
            (33422, 1, bytes([0, 1, 1, 2])), (50706, 1, bytes([1, 4, 0, 0])), (50708, 2, b"Testcam RX-1\x00"),
            (50717, 4, longs(65535)), (50721, 10, identity), (50778, 3, shorts(21))])
        data_at = 8 + 2 + 12 * len(entries) + 4
        head, data = struct.pack("<H", len(entries)), b""
        for tag, kind, value in entries:
            if len(value) <= 4:
                head += struct.pack("<HHI", tag, kind, len(value) // unit[kind]) + value.ljust(4, b"\x00")
            else:
                head += struct.pack("<HHII", tag, kind, len(value) // unit[kind], data_at + len(data))
                data += value + (b"\x00" if len(value) % 2 else b"")
        return b"II*\x00" + struct.pack("<I", 8) + head + struct.pack("<I", 0) + data

    path.write_bytes(directory(len(directory(0))) + pixels)
    return path


def test_without_a_preview_libraw_decodes_the_mosaic(tmp_path: Path) -> None:
    pytest.importorskip("rawpy")
    path = bayer_dng(tmp_path / "a.dng")
    assert _raw.previews(path.read_bytes()) == []
    image, meta = imaging.load_image(path, min_side=16)
    assert meta.camera_model == "RX-1" and image.mode == "RGB" and min(image.size) >= 16
    r, g, _ = image.getpixel((image.width // 2, image.height // 2))
    assert r > 200 and g < 80  # the red scene, demosaiced
