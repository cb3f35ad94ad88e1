"""Checks that a bundle really works before it is installed: shapes, then one image and one text."""

from __future__ import annotations

import numpy as np
from PIL import Image

from photoclip.engine.bundle import BundleInfo
from photoclip.errors import ModelError


def validate_bundle(info: BundleInfo) -> None:
    """Open both towers on the CPU and embed a test image and text; raise ModelError if anything is off."""
    from photoclip.engine.engine import ClipEngine

    engine = ClipEngine.load(info.path, device="cpu", threads=1, warn_random=False)
    _check_shapes(engine)
    image = Image.linear_gradient("L").convert("RGB").resize((info.image_size + 7, info.image_size))
    try:
        images = engine.embed_images([image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
        texts = engine.embed_texts(["a photo of a dog", "validation"])
    except ModelError:
        raise
    except Exception as exc:  # onnxruntime raises its own exception types on bad graphs
        raise ModelError(f"The model in {info.path} fails on a test input: {str(exc).strip()[:300]}") from exc
    for what, vectors in (("image", images), ("text", texts)):
        if vectors.shape != (2, info.dim):
            raise ModelError(
                f"The {what} tower of {info.path} returns vectors of shape {vectors.shape[1:]}, "
                f"but the bundle declares {info.dim} dimensions."
            )
        if not np.all(np.isfinite(vectors)):
            raise ModelError(f"The {what} tower of {info.path} returns NaN or infinite values.")


def _check_shapes(engine: object) -> None:
    info: BundleInfo = engine.info  # type: ignore[attr-defined]
    image_session = engine._image  # type: ignore[attr-defined]
    text_session = engine._text  # type: ignore[attr-defined]
    pixel = next(i for i in image_session.get_inputs() if i.name == engine._pixel_name)  # type: ignore[attr-defined]
    channels, height, width = pixel.shape[1:]
    if isinstance(channels, int) and channels != 3:
        raise ModelError(f"The image tower of {info.path} takes {channels} channels, not 3 (RGB).")
    for side in (height, width):
        if isinstance(side, int) and side != info.image_size:
            raise ModelError(
                f"The image tower of {info.path} takes {height}x{width} images but the bundle says "
                f"{info.image_size} px."
            )
    for session, what in ((image_session, "image"), (text_session, "text")):
        for out in session.get_outputs():
            if len(out.shape) == 2 and isinstance(out.shape[1], int) and out.shape[1] != info.dim:
                raise ModelError(
                    f"The {what} tower of {info.path} outputs {out.shape[1]} dimensions but the bundle "
                    f"declares {info.dim}."
                )
