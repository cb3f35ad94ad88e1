"""Image preprocessing equal to transformers' CLIPImageProcessor (PIL backend) on varied images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photoclip.engine.preprocess import preprocess_image, resized_size

clip_pil = pytest.importorskip("transformers.models.clip.image_processing_pil_clip")


@pytest.mark.parametrize(
    ("width", "height", "size", "crop"),
    [
        (224, 224, 224, 224),
        (640, 480, 224, 224),
        (300, 1000, 224, 224),
        (225, 224, 224, 224),
        (50, 37, 224, 224),
        (1001, 999, 224, 224),
        (4000, 30, 224, 224),
        (97, 203, 64, 64),
        (500, 333, 256, 224),
        (333, 500, 36, 32),
    ],
)
def test_matches_clip_image_processor(width: int, height: int, size: int, crop: int) -> None:
    rng = np.random.default_rng(width * 7 + height)
    # smooth gradients plus noise, so resampling differences would show
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 / max(width - 1, 1), yy * 255 / max(height - 1, 1), (xx + yy) % 256], axis=-1)
    array = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(array, "RGB")
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.3, 0.25)
    processor = clip_pil.CLIPImageProcessorPil(
        size={"shortest_edge": size}, crop_size={"height": crop, "width": crop}, image_mean=mean, image_std=std
    )
    expected = processor(images=image, return_tensors="np")["pixel_values"][0]
    ours = preprocess_image(image, resize=size, crop=crop, mean=mean, std=std)
    assert ours.shape == (3, crop, crop) and ours.dtype == np.float32
    assert np.allclose(ours, expected, atol=1e-5)


def test_channel_order_and_modes() -> None:
    red = preprocess_image(Image.new("RGB", (40, 30), (255, 0, 0)), resize=32, crop=32, mean=(0, 0, 0), std=(1, 1, 1))
    assert np.allclose(red[0], 1.0) and np.allclose(red[1:], 0.0)
    grey = preprocess_image(Image.new("L", (40, 30), 128), resize=32, crop=32, mean=(0, 0, 0), std=(1, 1, 1))
    assert np.allclose(grey, 128 / 255)


def test_resized_size_keeps_shortest_side() -> None:
    assert resized_size(640, 480, 224) == (298, 224)
    assert resized_size(480, 640, 224) == (224, 298)
