"""XMP sidecars: the files darktable, digiKam and Lightroom keep beside a photo instead of writing it.

Both names in use are read: ``photo.jpg.xmp`` (darktable, digiKam) before ``photo.xmp`` (Lightroom,
Capture One). They are only ever read here; a sidecar is written only when the user exports.
"""

from __future__ import annotations

import os
from pathlib import Path

from photoclip.imaging._xmp_read import MAX_PACKET, XmpFacts, read_xmp

SIDECAR_SUFFIXES = (".xmp", ".XMP")


def sidecar_paths(path: str | os.PathLike[str], companion: str | None = None) -> list[Path]:
    """Where a sidecar of this photo may be, in the order they are tried; a RAW+JPEG pair's RAW
    (``companion``) is where darktable and digiKam keep theirs (``IMG_1.CR2.xmp``)."""
    p = Path(path)
    names = [p.name + s for s in SIDECAR_SUFFIXES] + [p.stem + s for s in SIDECAR_SUFFIXES]
    if companion:
        names += [Path(companion).name + s for s in SIDECAR_SUFFIXES]
    return [p.with_name(n) for n in dict.fromkeys(names)]


def read_sidecar(path: str | os.PathLike[str], companion: str | None = None) -> XmpFacts:
    """Dates (source "sidecar"), rating and keywords of the photo's sidecar; empty when it has none."""
    for candidate in sidecar_paths(path, companion):
        try:
            with open(candidate, "rb") as f:
                data = f.read(MAX_PACKET)
        except OSError:  # no sidecar by this name (or an unreadable one: the photo itself still counts)
            continue
        facts = read_xmp(data, source="sidecar")
        if facts != XmpFacts():
            return facts
    return XmpFacts()
