"""Tag prompts are embedded once per model on this computer: a second library reuses the vectors the
first one made (keyed by the text tower's checksum and the text), and a different tower does not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from photoclip.engine import ClipEngine, prompt_cache
from photoclip.organize import tag_model, vocabulary
from photoclip.store.catalog import Catalog
from tests.engine.test_toy_clip import FIXTURE

pytestmark = pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")


class Counting:
    """The toy engine, counting the texts it embeds."""

    def __init__(self, engine: ClipEngine) -> None:
        self.engine = engine
        self.embedded = 0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.engine, name)

    def embed_texts(self, texts: Sequence[str], *, language: str | None = None) -> np.ndarray:
        self.embedded += len(texts)
        return self.engine.embed_texts(texts)


@pytest.fixture(scope="module")
def toy() -> ClipEngine:
    return ClipEngine.load(FIXTURE, device="cpu", threads=1, warn_random=False)


def _prompts() -> list[str]:
    vocab = vocabulary.load_vocabulary()
    return [p for _, prompts in vocab.tags[:12] for p in prompts] + list(vocab.background)


def _library_vectors(path: Path, engine: Counting) -> np.ndarray:
    """The tag prompt vectors a new library gets, as tagging asks for them."""
    catalog = Catalog(path / "catalog.sqlite3")
    try:
        return tag_model.text_vectors(catalog, engine, _prompts())  # type: ignore[arg-type]
    finally:
        catalog.close()


def test_a_second_library_embeds_no_prompt_again(tmp_path: Path, toy: ClipEngine) -> None:
    first = Counting(toy)
    vectors_a = _library_vectors(tmp_path / "a", first)
    assert first.embedded == len(set(_prompts()))
    assert prompt_cache.cache_path().is_file()
    second = Counting(toy)
    vectors_b = _library_vectors(tmp_path / "b", second)
    assert second.embedded == 0
    np.testing.assert_array_equal(vectors_b, vectors_a)
    third = Counting(toy)  # the library keeps its own copy: no cache needed any more
    prompt_cache.cache_path().unlink()
    np.testing.assert_array_equal(_library_vectors(tmp_path / "b", third), vectors_a)
    assert third.embedded == 0


def test_another_text_tower_does_not_reuse_them(tmp_path: Path, toy: ClipEngine) -> None:
    _library_vectors(tmp_path / "a", Counting(toy))
    other = Counting(toy)
    files = {**toy.info.files, "text.onnx": "0" * 64}  # as if the text tower had other weights
    other.info = replace(toy.info, files=files)  # type: ignore[attr-defined]
    assert prompt_cache.model_key(other) != prompt_cache.model_key(toy)
    _library_vectors(tmp_path / "b", other)
    assert other.embedded == len(set(_prompts()))


def test_search_calibration_is_embedded_once_per_model_on_this_computer(tmp_path: Path, toy: ClipEngine) -> None:
    """A CLI search is a new process each time: the calibration captions come from the shared cache."""
    from photoclip.search import Searcher
    from photoclip.search.calibration import calibration_texts

    calibrators = []
    counts = []
    for name in ("a", "b"):
        engine = Counting(toy)
        catalog = Catalog(tmp_path / name / "catalog.sqlite3")
        try:
            searcher = Searcher(catalog, engine, tmp_path / name)  # type: ignore[arg-type]
            calibrators.append(searcher.calibrator)
            searcher.close()
        finally:
            catalog.close()
        counts.append(engine.embedded)
    assert counts == [len(set(calibration_texts())), 0]
    np.testing.assert_allclose(calibrators[1].reference, calibrators[0].reference, atol=1e-6)
    np.testing.assert_allclose(calibrators[1].nonsense, calibrators[0].nonsense, atol=1e-6)
