"""The embedding interface the rest of PhotoClip codes against (ClipEngine and test fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class Embedder(Protocol):
    """Turns images and texts into L2-normalised float32 vectors of one shared space."""

    model_name: str  # stable key used by the catalog (the bundle's name)
    dim: int
    image_size: int

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """(3, S, S) float32 from an oriented RGB image."""
        ...

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 3, S, S) -> (N, dim)."""
        ...

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...

    def embed_texts(self, texts: Sequence[str], *, language: str | None = None) -> np.ndarray:
        """(N, dim); raises QueryError on empty text. ``language`` (a FLORES-200 code) is the query
        language chosen by the user, for models that take one; others ignore it."""
        ...
