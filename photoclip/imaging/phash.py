"""A 64-bit perceptual hash (DCT hash) of decoded pixels, for finding the same picture in other files.

The hash describes the coarse brightness layout of the image: a 32x32 grey image goes through a 2-D
DCT and the 8x8 lowest frequencies are compared with their median. Resizing, recompression, a format
change, new metadata and a mild exposure change leave it (nearly) the same; two different photos
differ in about half of its bits. Written here on numpy rather than taken from ``imagehash``, which
would bring SciPy and PyWavelets along for these few lines.

Hashes are stored in SQLite as signed 64-bit integers, cut into four 16-bit bands: two hashes at most
three bits apart share at least one band exactly, so an indexed lookup on the bands finds them
without comparing every pair.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 32
FLAT_STD = 2.0  # grey levels: below this an image (a blank frame, a solid colour) has no layout to hash
LOW = 8
BANDS = 4
BAND_BITS = 64 // BANDS


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float64)


_DCT = _dct_matrix(SIDE)[:LOW]  # only the rows of the frequencies kept


def grey_thumb(image: Image.Image) -> np.ndarray:
    """The 32x32 luma the hash is computed from (float64, 0..255)."""
    grey = image.convert("L")
    # A reduce first keeps the Lanczos resize cheap on a full-size image and averages away noise.
    factor = min(grey.width, grey.height) // (SIDE * 4)
    if factor > 1:
        grey = grey.reduce(factor)
    return np.asarray(grey.resize((SIDE, SIDE), Image.Resampling.LANCZOS), dtype=np.float64)


def phash(image: Image.Image) -> int | None:
    """The image's 64-bit DCT hash as a signed integer (SQLite's INTEGER range), or None for a plain image.

    Plain images would all share one hash, and every one of them would be a candidate for every other.
    """
    grey = grey_thumb(image)
    if float(grey.std()) < FLAT_STD:
        return None
    low = _DCT @ grey @ _DCT.T
    coeffs = low.reshape(-1)
    # The DC term is the mean brightness: leaving it out of the median keeps an exposure change from
    # flipping bits; its own bit still says whether the image is brighter than its detail.
    bits = coeffs > np.median(coeffs[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return to_signed(value)


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def stored_row(photo_id: int, content_hash: str, value: int | None) -> tuple:
    """A photo's row of the catalog's hash table: no bands when the photo has no hash."""
    return (photo_id, content_hash, value, *(bands(value) if value is not None else (None,) * BANDS))


def bands(value: int) -> tuple[int, ...]:
    """The hash cut into four 16-bit pieces, each an indexed column of the catalog."""
    unsigned = value & ((1 << 64) - 1)
    mask = (1 << BAND_BITS) - 1
    return tuple((unsigned >> (BAND_BITS * i)) & mask for i in range(BANDS))


def distance(a: int, b: int) -> int:
    """Number of differing bits."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def distances(value: int, others: np.ndarray) -> np.ndarray:
    """Bit distances from one hash to an array of int64 hashes."""
    return popcount64(np.bitwise_xor(others.astype(np.int64), np.int64(value)))


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(values: np.ndarray) -> np.ndarray:
    """Set bits of each int64 (a byte table: numpy's bitwise_count arrived only in 2.0)."""
    as_bytes = np.ascontiguousarray(values, dtype=np.int64).view(np.uint8).reshape(-1, 8)
    return _POP8[as_bytes].sum(axis=1, dtype=np.int64)
