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


def reduce_loaded(im: Image.Image, need: tuple[int, int] | None) -> Image.Image:
    """Shrink freshly decoded pixels by a whole factor while they still cover twice ``need``.

    For formats without a reduced decode (PNG, TIFF, WebP...) this runs before the mode conversion, so
    compositing and converting work on the small image: a 196 MP RGBA PNG then peaks near its raw
    decode (4 bytes a pixel) instead of several full-size copies.
    """
    if need is None:
        return im
    factor = min(im.width // max(1, 2 * need[0]), im.height // max(1, 2 * need[1]))
    if factor < 2:
        return im
    try:
        if im.mode == "1":
            im = im.convert("L")
        elif im.mode in ("P", "PA"):
            im = im.convert("RGBA" if im.has_transparency_data else "RGB")
        if im.mode in ("LA", "RGBA"):
            return _reduce_in_strips(im, factor)
        return im.reduce(factor)
    except (ValueError, MemoryError):  # a mode reduce does not take: the full-size path still works
        return im


_STRIP_BYTES = 16 << 20


def _reduce_in_strips(im: Image.Image, factor: int) -> Image.Image:
    """``im.reduce(factor)`` for images with alpha, a strip at a time: Pillow premultiplies the alpha into
    a full-size copy first, which for a huge image costs as much again as the decode."""
    width, height = im.size
    rows = max(1, _STRIP_BYTES // max(1, width * 4 * factor))
    step = rows * factor
    out = Image.new(im.mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, step):
        strip = im.crop((0, top, width, min(height, top + step)))
        out.paste(strip.reduce(factor), (0, top // factor))
    out.info = dict(im.info)
    return out


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


# Chromaticities (x, y) of red, green, blue and white: what an nclx colour box describes.
Primaries = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]
# The colour of an RGB image: its ICC profile, the primaries of its nclx box, or None for sRGB.
Colour = bytes | Primaries | None

# H.273 code points of nclx boxes (HEIC, AVIF). Primaries 1 is sRGB's (BT.709), 2 unspecified.
_SRGB_PRIMARY_CODES = (1, 2)
# Transfer curves decoded as sRGB's: sRGB itself, unspecified, and the BT.709/601/2020 SDR curves
# that players show with it. PQ and HLG (HDR) are left alone rather than tone mapped badly.
_SRGB_LIKE_TRANSFERS = (1, 2, 6, 13, 14, 15)
_NCLX_COLOURS = ("red", "green", "blue", "white")
_SRGB_PRIMARIES: Primaries = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def embedded_colour(im: Image.Image) -> Colour:
    """How an RGB-family image says its colours are meant: the ICC profile it carries, else the
    primaries of a HEIC/AVIF nclx box when they are not sRGB's (Display P3 from phones that write no
    ICC). CMYK is converted with its own profile in ``to_rgb``."""
    icc = im.info.get("icc_profile")
    if icc and isinstance(icc, bytes):
        return icc if im.mode != "CMYK" else None
    nclx = im.info.get("nclx_profile")
    if not isinstance(nclx, dict) or nclx.get("color_primaries") in _SRGB_PRIMARY_CODES:
        return None
    if nclx.get("transfer_characteristics") not in _SRGB_LIKE_TRANSFERS:
        return None
    try:
        xy = tuple((float(nclx[f"color_primary_{c}_x"]), float(nclx[f"color_primary_{c}_y"])) for c in _NCLX_COLOURS)
    except (KeyError, TypeError, ValueError):
        return None
    if any(not 0.0 < y <= 1.0 or not 0.0 <= x <= 1.0 for x, y in xy):
        return None
    return xy  # type: ignore[return-value]


def to_srgb(rgb: Image.Image, colour: Colour) -> Image.Image:
    """Pixels of a Display P3 (iPhone), Adobe RGB or ProPhoto photo re-expressed in sRGB.

    The model was trained on sRGB and screens assume it, so untreated wide-gamut photos look dull and
    embed slightly off. Called on the final, reduced image, where an ICC profile costs about a
    millisecond and nclx primaries a few (a model-sized image; HEIC decoding costs far more).
    """
    if isinstance(colour, tuple):
        return _primaries_to_srgb(rgb, colour)
    transform = _srgb_transform(colour) if colour else None
    if transform is None:
        return rgb
    try:
        return ImageCms.applyTransform(rgb, transform) or rgb
    except Exception:  # a profile that builds but will not apply: the untouched pixels are close enough
        return rgb


def _srgb_tables() -> tuple[np.ndarray, np.ndarray]:
    """sRGB's curve as two lookup tables: 8-bit code -> linear, and linear (in ENCODE_STEPS) -> 8-bit."""
    v = np.arange(256, dtype=np.float64) / 255.0
    decode = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)
    lin = np.arange(_ENCODE_STEPS, dtype=np.float64) / (_ENCODE_STEPS - 1)
    encoded = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return decode, np.rint(encoded * 255.0).astype(np.uint8)


# Fine enough that the steepest part of the curve (near black) moves under a quarter of a level per step.
_ENCODE_STEPS = 16384
_SRGB_DECODE, _SRGB_ENCODE = _srgb_tables()


def _primaries_to_srgb(rgb: Image.Image, primaries: Primaries) -> Image.Image:
    """Convert through linear light with a 3x3 matrix: an nclx box gives primaries, not a profile."""
    matrix = _to_srgb_matrix(primaries)
    if matrix is None:
        return rgb
    linear = _SRGB_DECODE[np.asarray(rgb, dtype=np.uint8)] @ matrix.T.astype(np.float32)
    steps = np.clip(linear * (_ENCODE_STEPS - 1) + 0.5, 0, _ENCODE_STEPS - 1).astype(np.intp)
    return Image.fromarray(_SRGB_ENCODE[steps], "RGB")


def _xyz_matrix(primaries: Primaries) -> tuple[np.ndarray, np.ndarray]:
    """Linear RGB -> XYZ for these primaries, and the XYZ of their white."""
    def xyz(x: float, y: float) -> np.ndarray:
        return np.array([x / y, 1.0, (1.0 - x - y) / y])

    columns = np.stack([xyz(*p) for p in primaries[:3]], axis=1)
    white = xyz(*primaries[3])
    return columns * np.linalg.solve(columns, white), white


@functools.lru_cache(maxsize=16)
def _to_srgb_matrix(primaries: Primaries) -> np.ndarray | None:
    """Linear source RGB -> linear sRGB, adapting the white point (Bradford) when it differs; None for
    sRGB itself or primaries that make no colour space."""
    try:
        src, src_white = _xyz_matrix(primaries)
        dst, dst_white = _xyz_matrix(_SRGB_PRIMARIES)
        cone_src, cone_dst = _BRADFORD @ src_white, _BRADFORD @ dst_white
        adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD
        matrix = np.linalg.solve(dst, adapt @ src)
    except (np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError):
        return None
    if not np.all(np.isfinite(matrix)) or np.allclose(matrix, np.eye(3), atol=1e-3):
        return None
    return matrix


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
