"""Small fixed test images with some structure (a darker top half), so where a resize crops or squashes
changes the embedding; the same seed gives the same pixels on every run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write(folder: Path, sizes: list[tuple[int, int]], *, seed: int, darken: int) -> list[Path]:
    """PNG files ``img0.png``… of the given (width, height), random pixels with the top half divided."""
    rng = np.random.default_rng(seed)
    out = []
    for i, (w, h) in enumerate(sizes):
        pixels = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        pixels[: h // 2] //= darken
        path = folder / f"img{i}.png"
        Image.fromarray(pixels).save(path)
        out.append(path)
    return out
