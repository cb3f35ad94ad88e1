"""Reading photos: format detection, metadata, oriented RGB pixels and fast reduced decodes.

Everything that touches an image file goes through here so that one place decides what counts as
a photo, how big a file may be, and how every failure is worded: callers only ever see
``DecodeError`` with a short reason that is stored as the photo's "why it was skipped".
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PIL import Image

from photoclip.imaging import _raw
from photoclip.imaging._container import container_date
from photoclip.imaging._dates import RANK, CaptureDate, best, describe, file_date, source_label
from photoclip.imaging._filekinds import raw_companions, raw_partner, shown_partner, uncatalogued_reason
from photoclip.imaging._files import MAX_PIXELS, is_transient, load_pixels, open_image
from photoclip.imaging._metadata import PhotoMeta, pending_orientation, photo_meta
from photoclip.imaging._pixels import Colour, draft, embedded_colour, reduce_loaded, to_rgb, to_srgb, transpose
from photoclip.imaging._raw import RAW_EXTENSIONS, is_raw
from photoclip.imaging._sidecar import read_sidecar, sidecar_paths
from photoclip.imaging._xmp_read import XmpFacts

__all__ = [
    "MAX_PIXELS", "RAW_EXTENSIONS", "SUPPORTED_EXTENSIONS", "CaptureDate", "PhotoMeta", "XmpFacts",
    "best_date", "describe", "file_date", "is_supported", "is_transient", "load_image", "raw_companions",
    "raw_partner", "read_meta", "read_sidecar", "shown_partner", "sidecar_paths", "source_label", "thumbnail",
    "uncatalogued_reason",
]

best_date = best

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".dib",
     ".heic", ".heif", ".hif", ".avif"}
) | RAW_EXTENSIONS


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Whether the scanner should consider this file; macOS "._" resource forks are not photos."""
    p = Path(path)
    return p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith("._")


def read_meta(path: str | os.PathLike[str]) -> PhotoMeta:
    """Format, oriented size and EXIF facts from the header only (no pixel decode)."""
    if is_raw(path):
        return _with_container_date(_raw.inspect(path).meta, path)
    with open_image(path) as (im, fmt):
        meta = photo_meta(im, fmt, im.size, loaded=False)
    return _with_container_date(meta, path)


def load_image(
    path: str | os.PathLike[str], min_side: int | None = None
) -> tuple[Image.Image, PhotoMeta]:
    """Decode to an upright RGB image.

    With ``min_side`` the result may be reduced, its shortest side staying >= ``min_side`` and at most
    about twice that, so a 24 MP photo is never fully decoded just to make a 224 px model input.
    """
    if is_raw(path):
        info = _raw.inspect(path)
        rgb, orientation = _raw.decode(path, info, min_side or _raw.FULL_SIDE)
        meta, colour = info.meta, None
    else:
        with open_image(path) as (im, fmt):
            rgb, meta, orientation, colour = _decode(im, fmt, (min_side, min_side) if min_side else None)
    short = min(rgb.size)
    if min_side and short > 2 * min_side:
        scale = 2 * min_side / short
        target = (max(2 * min_side, round(rgb.width * scale)), max(2 * min_side, round(rgb.height * scale)))
        rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return transpose(to_srgb(rgb, colour), orientation), _with_container_date(meta, path)


def _with_container_date(meta: PhotoMeta, path: str | os.PathLike[str]) -> PhotoMeta:
    """Add an ISO-media container's creation time when nothing better dates the photo."""
    taken = meta.taken
    if meta.format not in ("heic", "heif", "avif", "cr3") or (taken and RANK[taken.source] < RANK["container"]):
        return meta
    found = container_date(path)
    if found is None:
        return meta
    dates = (*meta.dates, found)
    return dataclasses.replace(meta, dates=dates, taken_at=best(dates).local)  # type: ignore[union-attr]


def thumbnail(path: str | os.PathLike[str], size: int) -> Image.Image:
    """Upright RGB image whose longest side is <= ``size``, using reduced JPEG decode or the HEIC
    embedded thumbnail when they are big enough (a RAW file's embedded JPEG likewise)."""
    if is_raw(path):
        info = _raw.inspect(path)
        m = info.meta
        long_side = max(m.width, m.height, 1)
        rgb, orientation = _raw.decode(path, info, max(1, round(size * min(m.width, m.height) / long_side)))
        rgb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
        return transpose(rgb, orientation)
    with open_image(path) as (im, fmt):
        scale = min(1.0, size / max(im.size))
        need = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        rgb, _, orientation, colour = _decode(im, fmt, need)
    rgb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return transpose(to_srgb(rgb, colour), orientation)


def _decode(
    im: Image.Image, fmt: str, need: tuple[int, int] | None
) -> tuple[Image.Image, PhotoMeta, int, Colour]:
    """Metadata, then RGB pixels reduced as far as ``need`` allows; the orientation still to apply and
    the colour space still to convert from, both left for the final (smaller) image."""
    size = im.size  # stored size, before a draft shrinks it
    meta = photo_meta(im, fmt, size, loaded=False)
    if need:
        draft(im, *need)
    load_pixels(im, fmt)
    if im.format == "PNG":  # EXIF stored after the pixels is only seen now
        meta = photo_meta(im, fmt, size, loaded=True)
    colour = embedded_colour(im)
    orientation = pending_orientation(im, meta, fmt)
    return to_rgb(reduce_loaded(im, need)), meta, orientation, colour

