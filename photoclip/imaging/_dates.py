"""Capture dates: every place a photo may say when it was taken, and which of them to believe.

Cameras, phones and photo programs write the moment of capture in different places; an edit or a
copy rewrites some of them. The order below puts the fields that only a camera writes first and the
ones any program touches last, so an exported or copied photo keeps its capture date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Best first. "exif" is EXIF DateTimeOriginal; "sidecar" is an XMP file beside the photo, read as an
# embedded XMP packet is (a sidecar is what darktable, digiKam and Lightroom write instead of the file).
SOURCES: tuple[str, ...] = ("exif", "xmp", "sidecar", "iptc", "exif-digitized", "container", "exif-modified",
                            "file")
RANK = {source: i for i, source in enumerate(SOURCES)}
LABELS = {
    "exif": "EXIF date taken",
    "xmp": "XMP date created",
    "sidecar": "XMP sidecar",
    "iptc": "IPTC date created",
    "exif-digitized": "EXIF date digitized",
    "container": "HEIF/MP4 creation time",
    "exif-modified": "EXIF date modified",
    "file": "file date",
}


def source_label(source: str | None) -> str:
    """Words for where a date came from, for the preview and `info`."""
    return LABELS.get(source or "", source or "unknown")


def describe(taken_at: str | None, offset: int | None, source: str | None) -> str:
    """"2021-06-01 10:20:30 +02:00 (EXIF date taken)": a stored date as a person reads it."""
    if not taken_at:
        return "-"
    zone = ""
    if offset is not None:
        sign = "-" if offset < 0 else "+"
        zone = f" {sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return f"{taken_at.replace('T', ' ')}{zone} ({source_label(source)})"


@dataclass(frozen=True)
class CaptureDate:
    """A moment of capture as the photo states it: wall-clock time, and its UTC offset when known."""

    local: datetime  # naive local time, with sub-seconds when the photo has them
    offset: int | None  # minutes east of UTC; None when the photo does not say
    source: str

    @property
    def local_iso(self) -> str:
        """Local time to the second: what is shown and what date filters compare against."""
        return self.local.replace(microsecond=0).isoformat()

    @property
    def order_key(self) -> str:
        """A sortable text: the UTC instant when the offset is known (photos from several time zones
        then interleave correctly), else the local time; sub-seconds keep burst frames in order."""
        moment = self.local if self.offset is None else self.local - timedelta(minutes=self.offset)
        return moment.isoformat(timespec="microseconds")


def best(dates: list[CaptureDate] | tuple[CaptureDate, ...]) -> CaptureDate | None:
    """The date from the most trusted source (the first of equal rank)."""
    return min(dates, key=lambda d: RANK.get(d.source, len(RANK)), default=None)


def file_date(mtime: float) -> CaptureDate:
    """The file's modification time: an exact instant, so its local offset is known too."""
    moment = datetime.fromtimestamp(mtime).astimezone()
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else None
    return CaptureDate(moment.replace(tzinfo=None, microsecond=0), minutes, "file")


_EXIF_DATE = re.compile(r"\s*(\d{4})[:\-/.](\d{2})[:\-/.](\d{2})[ T](\d{2}):(\d{2}):?(\d{2})?")
_OFFSET = re.compile(r"\s*(Z|[+-]\d{2}(?::?\d{2})?)\s*$")
_ISO = re.compile(r"\s*(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                  r"(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?\s*$")


def parse_offset(text: str | None) -> int | None:
    """"+02:00", "-0530", "+09", "Z" -> minutes east of UTC; None for anything else."""
    found = _OFFSET.match(text or "")
    if not found:
        return None
    value = found.group(1)
    if value == "Z":
        return 0
    digits = value[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes >= 60:
        return None
    total = hours * 60 + minutes
    return -total if value[0] == "-" else total


def _fraction(digits: str | None) -> int:
    digits = re.sub(r"\D", "", digits or "")[:6]
    return int(digits.ljust(6, "0")) if digits else 0


def exif_date(text: str | None, subsec: str | None, offset: str | None, source: str) -> CaptureDate | None:
    """An EXIF "YYYY:MM:DD HH:MM:SS" with its SubSecTime* and OffsetTime* companions."""
    found = _EXIF_DATE.match(text or "")
    if not found:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in found.groups())
    try:
        local = datetime(y, mo, d, h, mi, s, _fraction(subsec))
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    return CaptureDate(local, parse_offset(offset), source)


def iso_date(text: str | None, source: str) -> CaptureDate | None:
    """An XMP (ISO 8601) date: "2021-06-01T10:20:30.45+02:00", down to a bare day ("2021-06-01").

    A year or a month alone says too little to place a photo, so it is not taken as its date.
    """
    found = _ISO.match(text or "")
    if not found or found.group(3) is None:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in found.groups()[:6])
    try:
        local = datetime(y, mo, d, h, mi, s, _fraction(found.group(7)))
    except ValueError:
        return None
    if local.year < 1800:  # 0001-01-01 and friends: an empty field, not a date
        return None
    return CaptureDate(local, parse_offset(found.group(8)), source)


def iptc_date(date: bytes | str | None, time: bytes | str | None) -> CaptureDate | None:
    """IPTC IIM DateCreated (CCYYMMDD) and TimeCreated (HHMMSS±HHMM)."""
    day = _ascii(date)
    if not re.fullmatch(r"\d{8}", day):
        return None
    clock = _ascii(time)
    found = re.fullmatch(r"(\d{2})(\d{2})(\d{2})([+-]\d{4})?", clock)
    h, mi, s = (int(found.group(i)) for i in (1, 2, 3)) if found else (0, 0, 0)
    try:
        local = datetime(int(day[:4]), int(day[4:6]), int(day[6:]), h, mi, s)
    except ValueError:
        return None
    return CaptureDate(local, parse_offset(found.group(4)) if found else None, "iptc")


def utc_date(moment: datetime, source: str) -> CaptureDate:
    """A time stated in UTC (a container's creation time): kept as is, with offset zero."""
    return CaptureDate(moment.astimezone(UTC).replace(tzinfo=None), 0, source)


def _ascii(value: bytes | str | None) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return (value or "").strip().strip("\x00")
