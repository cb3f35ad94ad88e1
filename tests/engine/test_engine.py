"""ClipEngine on small hand-built bundles: outputs, queries, devices, caching, and import hygiene."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoclip.engine import ClipEngine, Embedder, RandomWeightsWarning, available_devices
from photoclip.engine.runtime import choose_providers
from photoclip.errors import ModelError, QueryError
from tests.engine.conftest import write_bundle

pytest.importorskip("onnxruntime")


def test_embeddings_are_normalised_float32(bundle: Path) -> None:
    engine = ClipEngine.load(bundle, device="cpu")
    assert isinstance(engine, Embedder)
    images = [Image.new("RGB", (50 + i * 13, 40), (i * 40, 100, 200 - i * 30)) for i in range(5)]
    vectors = engine.embed_images(images)
    texts = engine.embed_texts(["a dog", "a cat on a mat", "sunset"])
    for v, n in ((vectors, 5), (texts, 3)):
        assert v.shape == (n, engine.dim) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(vectors[0], vectors[4])  # different colours give different vectors
    pixels = np.stack([engine.preprocess(im) for im in images])
    assert np.allclose(engine.embed_pixels(pixels), vectors)
    assert engine.embed_images([]).shape == (0, engine.dim)


def test_text_pooled_at_end_token_regardless_of_padding(bundle: Path) -> None:
    engine = ClipEngine.load(bundle, device="cpu")
    single = engine.embed_texts(["a red circle"])
    in_batch = engine.embed_texts(["a red circle", "a much longer caption than the first one"])[0]
    assert np.allclose(single[0], in_batch)
    assert engine.tokenize(["a red circle"]).shape == (1, 5)  # real tokens only


def test_empty_queries_raise_query_error(bundle: Path) -> None:
    engine = ClipEngine.load(bundle, device="cpu")
    with pytest.raises(QueryError):
        engine.embed_texts(["   "])
    with pytest.raises(QueryError):
        engine.embed_texts([])
    with pytest.raises(QueryError):
        engine.embed_texts(["fine", ""])


def test_recent_queries_are_cached(bundle: Path) -> None:
    engine = ClipEngine.load(bundle, device="cpu")
    calls = []
    real_run = engine._run_text
    engine._run_text = lambda ids: calls.append(ids.shape) or real_run(ids)  # type: ignore[method-assign]
    first = engine.embed_texts(["a dog"])
    first[0, 0] = 99.0  # callers may scribble on results without corrupting the cache
    second = engine.embed_texts(["a dog"])
    assert len(calls) == 1 and second[0, 0] != 99.0
    engine.embed_texts(["a cat"])
    assert len(calls) == 2


def test_devices(bundle: Path) -> None:
    engine = ClipEngine.load(bundle, device="cpu", threads=1)
    assert engine.providers == ["CPUExecutionProvider"]
    assert choose_providers("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])[0] == "CUDAExecutionProvider"
    assert choose_providers("auto", ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    with pytest.raises(ModelError, match="No GPU execution provider"):
        choose_providers("gpu", ["CPUExecutionProvider"])
    with pytest.raises(ModelError, match="Unknown device"):
        ClipEngine.load(bundle, device="tpu")
    devices = available_devices()
    assert "CPUExecutionProvider" in devices["providers"] and devices["physical_cores"] >= 1


def test_random_flag_warns(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "r", random=True)
    with pytest.warns(RandomWeightsWarning):
        engine = ClipEngine.load(folder)
    assert engine.is_random
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not ClipEngine.load(write_bundle(tmp_path / "n")).is_random


def test_wrong_pixel_shape_is_refused(bundle: Path) -> None:
    engine = ClipEngine.load(bundle, device="cpu")
    with pytest.raises(ModelError, match="Expected pixels"):
        engine.embed_pixels(np.zeros((1, 3, 10, 10), dtype=np.float32))


def test_missing_onnxruntime_is_explained(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ModelError, match=r'pip install "photoclip\[cpu\]"'):
        ClipEngine.load(bundle)


def test_importing_the_engine_loads_neither_torch_nor_onnxruntime() -> None:
    code = "import sys, photoclip.engine; print('torch' in sys.modules, 'onnxruntime' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.split() == ["False", "False"]
