"""Reading photos: format detection, metadata, oriented RGB pixels and fast reduced decodes.

Everything that touches an image file goes through here so that one place decides what counts as
a photo, how big a file may be, and how every failure is worded: callers only ever see
``DecodeError`` with a short reason that is stored as the photo's "why it was skipped".
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from photoclip.imaging._files import MAX_PIXELS, is_transient, load_pixels, open_image
from photoclip.imaging._metadata import PhotoMeta, pending_orientation, photo_meta
from photoclip.imaging._pixels import Colour, draft, embedded_colour, reduce_loaded, to_rgb, to_srgb, transpose

__all__ = ["MAX_PIXELS", "SUPPORTED_EXTENSIONS", "PhotoMeta", "is_supported", "is_transient", "load_image", "read_meta",
           "thumbnail"]

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".dib",
     ".heic", ".heif", ".hif", ".avif"}
)


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Whether the scanner should consider this file; macOS "._" resource forks are not photos."""
    p = Path(path)
    return p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith("._")


def read_meta(path: str | os.PathLike[str]) -> PhotoMeta:
    """Format, oriented size and EXIF facts from the header only (no pixel decode)."""
    with open_image(path) as (im, fmt):
        return photo_meta(im, fmt, im.size, loaded=False)


def load_image(
    path: str | os.PathLike[str], min_side: int | None = None
) -> tuple[Image.Image, PhotoMeta]:
    """Decode to an upright RGB image.

    With ``min_side`` the result may be reduced, its shortest side staying >= ``min_side`` and at most
    about twice that, so a 24 MP photo is never fully decoded just to make a 224 px model input.
    """
    with open_image(path) as (im, fmt):
        rgb, meta, orientation, colour = _decode(im, fmt, (min_side, min_side) if min_side else None)
    short = min(rgb.size)
    if min_side and short > 2 * min_side:
        scale = 2 * min_side / short
        target = (max(2 * min_side, round(rgb.width * scale)), max(2 * min_side, round(rgb.height * scale)))
        rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return transpose(to_srgb(rgb, colour), orientation), meta


def thumbnail(path: str | os.PathLike[str], size: int) -> Image.Image:
    """Upright RGB image whose longest side is <= ``size``, using reduced JPEG decode or the HEIC
    embedded thumbnail when they are big enough."""
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

