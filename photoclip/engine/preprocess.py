"""CLIP image preprocessing, identical to transformers' ``CLIPImageProcessor`` (PIL backend).

Input is an already decoded, EXIF-oriented RGB image: the shortest side is resized to the model's
size with PIL bicubic, the centre is cropped, values are scaled to [0, 1] and normalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def resized_size(width: int, height: int, shortest: int) -> tuple[int, int]:
    """(width, height) after scaling the shortest side to ``shortest``, truncating the other side."""
    if width <= height:
        return shortest, int(shortest * height / width)
    return int(shortest * width / height), shortest


def preprocess_image(
    image: Image.Image,
    *,
    resize: int,
    crop: int,
    mean: Sequence[float] = OPENAI_CLIP_MEAN,
    std: Sequence[float] = OPENAI_CLIP_STD,
    mode: str = "shortest",
    interpolation: str = "bicubic",
) -> np.ndarray:
    """A (3, crop, crop) float32 array ready for the image tower.

    ``mode`` "squash" resizes to crop x crop ignoring the aspect ratio, as SigLIP was trained.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    resample = Image.Resampling.BILINEAR if interpolation == "bilinear" else Image.Resampling.BICUBIC
    target = (crop, crop) if mode == "squash" else resized_size(image.width, image.height, resize)
    if target != image.size:
        image = image.resize(target, resample)
    left = (image.width - crop) // 2
    top = (image.height - crop) // 2
    pixels = np.asarray(image, dtype=np.uint8)[top : top + crop, left : left + crop]
    out = pixels.astype(np.float32) * np.float32(1 / 255)
    out -= np.asarray(mean, dtype=np.float32)
    out /= np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(out.transpose(2, 0, 1))
