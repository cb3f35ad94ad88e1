"""Test doubles: an embedder with hand-made vectors, and helpers that fill a catalog directly.

The fake embedder maps an image to a unit vector from its mean colour and a text to a vector from a
small table, so tests know the expected order of results exactly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from photoclip.errors import QueryError
from photoclip.store.catalog import Catalog

DIM = 8
# Axis per concept: images get their mean colour on axes 0-2; texts name concepts.
AXES = {"red": 0, "green": 1, "blue": 2, "beach": 3, "sunset": 4, "people": 5, "snow": 6, "dog": 7}


def unit(v: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(a))
    return a / n if n else a


def axis_vector(*words: str, dim: int = DIM) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    for w in words:
        v[AXES[w]] += 1.0
    return unit(v)


class FakeEmbedder:
    """Satisfies photoclip.engine.Embedder with exact, predictable vectors."""

    model_name = "fake-model"
    dim = DIM
    image_size = 8
    takes_language = False  # True: a stand-in for a multilingual model that takes a query language

    def __init__(self, texts: dict[str, np.ndarray] | None = None) -> None:
        self.texts = dict(texts or {})
        self.text_calls = 0
        self.image_calls = 0
        self.languages: list[tuple[str, str | None]] = []  # (text, language) of every text embedded

    def preprocess(self, image: Image.Image) -> np.ndarray:
        small = np.asarray(image.convert("RGB").resize((8, 8)), dtype=np.float32) / 255.0
        return small.transpose(2, 0, 1)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        self.image_calls += len(pixels)
        out = np.zeros((len(pixels), DIM), dtype=np.float32)
        means = pixels.reshape(len(pixels), 3, -1).mean(axis=2)
        out[:, :3] = means
        out[:, 7] = 0.05  # keep black images off the zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_pixels(np.stack([self.preprocess(i) for i in images]))

    def embed_texts(self, texts: Sequence[str], *, language: str | None = None) -> np.ndarray:
        self.text_calls += len(texts)
        self.languages.extend((t, language) for t in texts)
        rows = []
        for t in texts:
            t = t.strip().lower()
            if not t:
                raise QueryError("the query is empty")
            if t in self.texts:
                rows.append(unit(self.texts[t]))
                continue
            words = [w for w in t.replace(",", " ").split() if w in AXES]
            rows.append(axis_vector(*words) if words else unit(np.ones(DIM)))
        return np.stack(rows).astype(np.float32)


def add_photo(catalog: Catalog, folder_id: int, path: str | Path, vector: np.ndarray | None = None, *,
              model: str = FakeEmbedder.model_name, state: str = "ok", taken_at: str | None = None,
              fmt: str = "jpeg", content_hash: str | None = None) -> int:
    """Insert one photo row (and its vector) straight into the catalog, as the indexer would."""
    now = time.time()
    digest = content_hash or f"hash-{path}"
    with catalog.write() as c:
        cur = c.execute(
            "INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, width, height, format, taken_at, "
            "taken_at_source, state, added_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (folder_id, str(path), 100, 1, digest, 10, 10, fmt, taken_at, "exif" if taken_at else None,
             state, now, now))
        photo_id = cur.lastrowid
    if vector is not None:
        model_id = catalog.model_id(model, len(vector))
        with catalog.write() as c:
            catalog.put_embeddings(c, model_id, [(photo_id, digest, unit(vector))])
    assert photo_id is not None
    return photo_id
