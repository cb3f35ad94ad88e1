"""Exporting transformers CLIP models to ONNX bundles, checked against PyTorch."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from photoclip.engine import ClipEngine, RandomWeightsWarning, read_bundle
from photoclip.errors import ModelError

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

TEXTS = ["a red circle", "a photo of a dog running on the beach at sunset", "x", "long caption words " * 30]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def _torch_reference(model: object, engine: ClipEngine, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = engine.tokenize(TEXTS, pad=True)
    with torch.no_grad():
        image = model.get_image_features(pixel_values=torch.from_numpy(pixels)).pooler_output.numpy()
        text = model.get_text_features(input_ids=torch.from_numpy(ids)).pooler_output.numpy()
    return image, text


def _load(path: Path) -> ClipEngine:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomWeightsWarning)
        return ClipEngine.load(path, device="cpu")


def _parity(bundle: Path, model: object) -> tuple[float, float]:
    engine = _load(bundle)
    pixels = np.random.default_rng(5).standard_normal((3, 3, engine.image_size, engine.image_size)).astype(np.float32)
    ref_image, ref_text = _torch_reference(model, engine, pixels)
    ours_image = engine.embed_pixels(pixels)
    ours_text = np.concatenate([engine.embed_texts([t]) for t in TEXTS])  # each query on its real tokens
    return float(_cos(ours_image, ref_image).min()), float(_cos(ours_text, ref_text).min())


def _tiny_model(seed: int) -> object:
    from photoclip.engine.export import random_config

    torch.manual_seed(seed)
    return transformers.CLIPModel(random_config("tiny")).eval()


def test_tiny_random_export_matches_pytorch(tiny_export: Path) -> None:
    info = read_bundle(tiny_export)
    assert info.random and info.precision == "fp32" and info.dim == 32 and info.image_size == 64
    image_cos, text_cos = _parity(tiny_export, _tiny_model(seed=3))
    assert image_cos >= 0.9999 and text_cos >= 0.9999


def test_random_bundle_warns_loudly(tiny_export: Path) -> None:
    with pytest.warns(RandomWeightsWarning, match="RANDOM weights"):
        engine = ClipEngine.load(tiny_export, device="cpu")
    assert engine.is_random


def test_query_on_real_tokens_equals_padded_and_batched(tiny_export: Path) -> None:
    engine = _load(tiny_export)
    for text in TEXTS:
        short = engine.tokenize([text])
        padded = engine.tokenize([text], pad=True)
        assert padded.shape == (1, 77) and short.shape[1] <= 77
        assert np.allclose(engine._run_text(short), engine._run_text(padded), atol=1e-5)
    batch = engine.embed_texts(TEXTS)  # padded to the longest text of the batch
    singles = np.concatenate([engine.embed_texts([t]) for t in TEXTS])
    assert np.allclose(batch, singles, atol=1e-5)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_int8_export_loads_and_roughly_agrees(tiny_export: Path, tmp_path: Path) -> None:
    from photoclip.engine.export import export_random

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = export_random("tiny", tmp_path / "int8", seed=3, int8=True)
    assert report.info.precision == "int8"
    fp32, int8 = _load(tiny_export), _load(report.info.path)
    assert report.sizes["text.onnx"] < (tiny_export / "text.onnx").stat().st_size / 2
    pixels = np.random.default_rng(1).standard_normal((4, 3, 64, 64)).astype(np.float32)
    assert _cos(fp32.embed_pixels(pixels), int8.embed_pixels(pixels)).min() > 0.95
    assert _cos(fp32.embed_texts(TEXTS), int8.embed_texts(TEXTS)).min() > 0.95
    assert report.image_cosine > 0.95 and report.text_cosine > 0.95


@pytest.mark.slow
def test_from_transformers_checkpoint_with_short_context(tmp_path: Path) -> None:
    """A toy-sized checkpoint folder: context 16, its own preprocessing, no tokenizer of its own."""
    from photoclip.engine.export import export_from_transformers

    config = transformers.CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 48,
            "patch_size": 16,
        },
        projection_dim=24,
    )
    torch.manual_seed(0)
    model = transformers.CLIPModel(config).eval()
    ckpt = tmp_path / "ckpt"
    model.save_pretrained(ckpt)
    (ckpt / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "size": {"shortest_edge": 48}})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = export_from_transformers(ckpt, tmp_path / "out", name="toy")
    info = report.info
    assert (info.name, info.context_length, info.dim, info.image_size, info.random) == ("toy", 16, 24, 48, False)
    assert info.mean == (0.5, 0.5, 0.5)
    assert report.text_cosine >= 0.9999 and report.image_cosine >= 0.9999
    engine = _load(info.path)
    ids = engine.tokenize(["many words " * 20])
    assert ids.shape == (1, 16) and ids[0, -1] == engine.tokenizer.end_id
    image_cos, text_cos = _parity(info.path, model)
    assert image_cos >= 0.9999 and text_cos >= 0.9999
    with pytest.raises(ModelError, match="not empty"):
        export_from_transformers(ckpt, tmp_path / "out")


def test_int8_and_fp16_together_are_refused(tmp_path: Path) -> None:
    from photoclip.engine.export import export_random

    with pytest.raises(ModelError, match="not both"):
        export_random("tiny", tmp_path / "x", int8=True, fp16=True)


@pytest.mark.slow
def test_vit_b32_random_export_matches_pytorch(vitb32_export: Path) -> None:
    from photoclip.engine.export import random_config

    info = read_bundle(vitb32_export)
    assert (info.dim, info.image_size, info.context_length) == (512, 224, 77)
    torch.manual_seed(0)
    model = transformers.CLIPModel(random_config("vit-b-32")).eval()
    image_cos, text_cos = _parity(vitb32_export, model)
    assert image_cos >= 0.9999 and text_cos >= 0.9999


@pytest.mark.slow
def test_fp16_export_keeps_float32_inputs_and_agrees(tiny_export: Path, tmp_path: Path) -> None:
    from photoclip.engine.export import export_random

    report = export_random("tiny", tmp_path / "fp16", seed=3, fp16=True)
    assert report.info.precision == "fp16"
    assert report.sizes["text.onnx"] < (tiny_export / "text.onnx").stat().st_size * 0.6
    fp32, fp16 = _load(tiny_export), _load(report.info.path)
    pixels = np.random.default_rng(2).standard_normal((2, 3, 64, 64)).astype(np.float32)
    assert _cos(fp32.embed_pixels(pixels), fp16.embed_pixels(pixels)).min() > 0.999
    assert _cos(fp32.embed_texts(TEXTS), fp16.embed_texts(TEXTS)).min() > 0.999
