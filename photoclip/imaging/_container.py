"""The creation time an ISO base media file (HEIF, AVIF, MP4, QuickTime, CR3) states in its movie header.

Some phones and cameras write no EXIF date in a HEIF sequence or a Live Photo's still, but the
container's ``moov/mvhd`` box carries the moment it was made, in UTC. Only box headers are read.
"""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime, timedelta
from typing import IO

from photoclip.imaging._dates import CaptureDate, utc_date

_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_MAX_BOXES = 64  # top-level and inside moov: a real file has a handful


def container_date(path: str | os.PathLike[str]) -> CaptureDate | None:
    """moov/mvhd creation time, or None when the file has none (most still HEIF/AVIF photos)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            moov = _find(f, 0, size, b"moov")
            if moov is None:
                return None
            mvhd = _find(f, moov[0], moov[1], b"mvhd")
            if mvhd is None:
                return None
            f.seek(mvhd[0])
            head = f.read(min(mvhd[1] - mvhd[0], 32))
    except OSError:
        return None
    if len(head) < 12:
        return None
    version = head[0]
    seconds = struct.unpack(">Q", head[4:12])[0] if version == 1 else struct.unpack(">I", head[4:8])[0]
    if seconds == 0:  # "not set", written by many encoders
        return None
    try:
        moment = _EPOCH_1904 + timedelta(seconds=seconds)
    except OverflowError:
        return None
    if moment.year < 1970:  # a time counted from 1970 by mistake, or garbage: not a capture date
        return None
    return utc_date(moment, "container")


def _find(f: IO[bytes], start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(payload start, payload end) of the first box of this type between start and end."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return None
        f.seek(pos)
        header = f.read(16)
        if len(header) < 8:
            return None
        size, box = struct.unpack(">I4s", header[:8])
        body = pos + 8
        if size == 1:
            if len(header) < 16:
                return None
            size = struct.unpack(">Q", header[8:16])[0]
            body = pos + 16
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            return None
        if box == kind:
            return body, pos + size
        pos += size
    return None
