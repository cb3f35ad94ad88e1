"""Pixels: reduced decodes, conversion of every mode to 8-bit RGB, and orientation."""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms

from photoclip.errors import DecodeError

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_WHITE = (255, 255, 255, 255)
_SRGB = ImageCms.createProfile("sRGB")


def draft(im: Image.Image, width: int, height: int) -> None:
    """Decode less when the result must only cover (width, height): JPEG at 1/2, 1/4 or 1/8 scale,
    HEIC from its embedded thumbnail. Other formats decode in full."""
    try:
        if im.format in ("JPEG", "MPO"):
            # Twice the needed size, as Image.thumbnail does, so the final resize still has pixels to
            # average instead of relying on the coarse DCT scaling alone.
            im.draft(None, (2 * width, 2 * height))
        elif im.format == "HEIF":
            im.draft(None, (width, height))
    except Exception:  # a failed shortcut only costs time: the full decode still follows
        pass


def to_rgb(im: Image.Image) -> Image.Image:
    """Plain 8-bit RGB: transparency composited on white, 16-bit scaled (not clipped), CMYK via its
    ICC profile when it has one."""
    try:
        mode = im.mode
        if mode == "RGB":
            return im
        if mode.startswith("I") or mode == "F":
            return Image.fromarray(_to_uint8(np.asarray(im)), "L").convert("RGB")
        if mode == "CMYK":
            return _cmyk_to_rgb(im)
        if im.has_transparency_data:
            rgba = im.convert("RGBA")
            base = Image.new("RGBA", rgba.size, _WHITE)
            base.alpha_composite(rgba)
            return base.convert("RGB")
        return im.convert("RGB")
    except MemoryError:
        raise DecodeError("not enough memory to decode the image") from None
    except Exception:
        raise DecodeError(f"unsupported colour mode {im.mode}") from None


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        scale = 255.0 if np.nanmax(a, initial=0.0) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(a) * scale, 0, 255).astype(np.uint8)
    # Integer modes come from 16-bit sources (PNG, TIFF): map 0-65535 onto 0-255.
    return (np.clip(a.astype(np.int64), 0, 65535) >> 8).astype(np.uint8)


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if out is not None:
                return out
        except Exception:  # a broken profile is common; the plain conversion is close enough
            pass
    return im.convert("RGB")

def transpose(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im if method is None else im.transpose(method)


def embedded_rgb_profile(im: Image.Image) -> bytes | None:
    """The ICC profile an RGB-family image carries (CMYK is converted with its own in ``to_rgb``)."""
    icc = im.info.get("icc_profile")
    return icc if icc and im.mode != "CMYK" and isinstance(icc, bytes) else None


def to_srgb(rgb: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels of a Display P3 (iPhone), Adobe RGB or ProPhoto photo re-expressed in sRGB.

    The model was trained on sRGB and screens assume it, so untreated wide-gamut photos look dull and
    embed slightly off. Called on the final, reduced image, where it costs about a millisecond.
    """
    transform = _srgb_transform(icc) if icc else None
    if transform is None:
        return rgb
    try:
        return ImageCms.applyTransform(rgb, transform) or rgb
    except Exception:  # a profile that builds but will not apply: the untouched pixels are close enough
        return rgb


@functools.lru_cache(maxsize=32)
def _srgb_transform(icc: bytes) -> ImageCms.ImageCmsTransform | None:
    """None when there is nothing to do (an sRGB profile) or nothing to trust (a broken or non-RGB one)."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if src.profile.xcolor_space.strip() != "RGB":
            return None
        if "srgb" in (src.profile.profile_description or "").lower():
            return None
        return ImageCms.buildTransform(src, _SRGB, "RGB", "RGB",
                                       renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    except Exception:
        return None
