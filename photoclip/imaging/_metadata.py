"""Photo metadata from the header: oriented size and the EXIF facts the catalog keeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, IptcImagePlugin

from photoclip.imaging._dates import CaptureDate, best, exif_date, iptc_date
from photoclip.imaging._xmp_read import read_xmp


@dataclass(frozen=True)
class PhotoMeta:
    """What the catalog records about a photo without decoding its pixels."""

    format: str  # 'jpeg','png','webp','gif','tiff','bmp','heic','heif','avif'
    width: int  # after EXIF orientation
    height: int
    orientation: int  # EXIF orientation 1-8 (1 when absent)
    taken_at: datetime | None  # local time of the best of ``dates``
    camera_make: str | None
    camera_model: str | None
    gps: tuple[float, float] | None = None  # (lat, lon) in decimal degrees
    dates: tuple[CaptureDate, ...] = ()  # every capture date the file states (EXIF, XMP, IPTC, container)
    rating: int | None = None  # XMP rating
    keywords: tuple[str, ...] = ()  # XMP dc:subject

    @property
    def taken(self) -> CaptureDate | None:
        return best(self.dates)


def photo_meta(im: Image.Image, fmt: str, size: tuple[int, int], loaded: bool) -> PhotoMeta:
    """Metadata from the header; ``size`` is the stored (unrotated) size, taken before any draft."""
    exif = _exif(im, loaded)
    orientation = 1
    if fmt in ("heic", "heif"):  # pillow-heif resets the tag after applying it, keeping the original
        original = im.info.get("original_orientation")
        orientation = original if isinstance(original, int) and 1 <= original <= 8 else 1
    elif exif is not None:
        value = exif.get(0x0112, 1)
        orientation = value if isinstance(value, int) and 1 <= value <= 8 else 1
    width, height = size
    if fmt == "tiff":  # Pillow reports a TIFF's size already rotated; the tags hold the stored one
        tags = getattr(im, "tag_v2", {})
        width, height = tags.get(256, width), tags.get(257, height)
    if orientation >= 5 and fmt not in ("heic", "heif"):
        width, height = height, width
    return assemble(fmt, width, height, orientation, exif_dirs(exif) if exif is not None else None,
                    _xmp_bytes(im), _iptc_dates(im))


# IFD0, the EXIF sub-IFD and the GPS sub-IFD, as tag -> value mappings.
ExifDirs = tuple[Mapping[int, Any], Mapping[int, Any], Mapping[int, Any]]


def exif_dirs(exif: Image.Exif) -> ExifDirs:
    """The three directories the catalog reads from; a broken sub-IFD reads as empty."""
    found = []
    for tag in (0x8769, 0x8825):
        try:
            found.append(dict(exif.get_ifd(tag)))
        except Exception:
            found.append({})
    return dict(exif), found[0], found[1]


def assemble(fmt: str, width: int, height: int, orientation: int, dirs: ExifDirs | None,
             xmp_data: bytes | str | None, iptc: list[CaptureDate]) -> PhotoMeta:
    """PhotoMeta from the EXIF directories, the XMP packet and the IPTC dates, wherever they were read."""
    xmp = read_xmp(xmp_data)
    dates = [*(_exif_dates(dirs) if dirs is not None else ()), *xmp.dates, *iptc]
    taken = best(dates)
    make = model = gps = None
    if dirs is not None:
        make, model, gps = _text(dirs[0].get(0x010F)), _text(dirs[0].get(0x0110)), _gps(dirs[2])
    return PhotoMeta(fmt, width, height, orientation, taken.local if taken else None, make, model, gps,
                     tuple(dates), xmp.rating, xmp.keywords)


def _exif(im: Image.Image, loaded: bool) -> Image.Exif | None:
    # PNG keeps EXIF after the pixels at times; reading it would decode the whole image, so a header
    # read skips it (after load() Pillow has found it and it is used).
    if im.format == "PNG" and "exif" not in im.info and not loaded:
        return None
    try:
        exif = im.getexif()
    except Exception:  # broken EXIF never makes a readable photo unreadable
        return None
    return exif if len(exif) else None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _exif_dates(dirs: ExifDirs) -> list[CaptureDate]:
    """DateTimeOriginal, DateTimeDigitized and DateTime, each with its sub-seconds and UTC offset."""
    exif, sub, _ = dirs
    found = []
    for tag, subsec, offset, where, source in ((0x9003, 0x9291, 0x9011, sub, "exif"),
                                               (0x9004, 0x9292, 0x9012, sub, "exif-digitized"),
                                               (0x0132, 0x9290, 0x9010, exif, "exif-modified")):
        # Some TIFF writers put the EXIF date tags in IFD0 itself rather than in the EXIF directory.
        value = where.get(tag) if where is exif else where.get(tag, exif.get(tag))
        date = exif_date(_text(value), _text(sub.get(subsec)), _text(sub.get(offset)), source)
        if date is not None:
            found.append(date)
    return found


def _xmp_bytes(im: Image.Image) -> bytes | str | None:
    """The embedded XMP packet, wherever this format's reader left it."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = im.info.get(key)
        if value:
            return value
    tags = getattr(im, "tag_v2", None)
    if tags is not None:
        try:
            value = tags.get(700)  # TIFF XMLPacket
        except Exception:
            return None
        if isinstance(value, bytes | str) and value:
            return value
    return None


def _iptc_dates(im: Image.Image) -> list[CaptureDate]:
    """IPTC IIM DateCreated + TimeCreated (2:55, 2:60) from a JPEG's Photoshop block or a TIFF tag."""
    if im.format not in ("JPEG", "MPO", "TIFF"):
        return []
    try:
        info = IptcImagePlugin.getiptcinfo(im) or {}
    except Exception:  # a damaged IPTC block never makes a readable photo unreadable
        return []
    found = iptc_date(info.get((2, 55)), info.get((2, 60)))
    return [found] if found is not None else []


def _gps(info: Mapping[int, Any]) -> tuple[float, float] | None:
    try:
        lat = _degrees(info.get(2), info.get(1), "S")
        lon = _degrees(info.get(4), info.get(3), "W")
    except Exception:
        return None
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:  # what cameras write when they have no fix
        return None
    return (lat, lon)


def _degrees(value: object, ref: object, negative: str) -> float | None:
    if value is None:
        return None
    parts = [float(v) for v in (value if isinstance(value, tuple | list) else (value,))][:3]
    if not parts or any(p != p for p in parts):  # NaN from a zero denominator
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    return -degrees if (_text(ref) or "").upper().startswith(negative) else degrees


def pending_orientation(im: Image.Image, meta: PhotoMeta, fmt: str) -> int:
    """The orientation the loaded pixels still need: libheif rotates HEIF while decoding, and Pillow's
    TIFF loader rotates in place and drops the tag, so neither must be rotated twice."""
    if fmt in ("heic", "heif") or meta.orientation == 1:
        return 1
    exif = _exif(im, loaded=True)
    return meta.orientation if exif is not None and exif.get(0x0112) == meta.orientation else 1

