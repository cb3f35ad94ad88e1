"""Engine test helpers: small hand-built ONNX bundles (no torch) and session-wide exported ones."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from photoclip import paths
from photoclip.engine.bundle import sha256_file

VOCAB = 49408


def _image_graph(dim: int, size: int, channels: int = 3, seed: int = 0) -> bytes:
    """pixel_values (N,C,S,S) -> mean over pixels -> (N,C) @ W -> image_embeds (N,dim)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((channels, dim)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(dim).astype(np.float32), "B")
    nodes = [
        helper.make_node("ReduceMean", ["pixel_values"], ["pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["pooled", "W"], ["projected"]),
        helper.make_node("Add", ["projected", "B"], ["image_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "image",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", channels, size, size])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", dim])],
        initializer=[weight, bias],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def _text_graph(dim: int, seed: int = 1, with_mask: bool = False) -> bytes:
    """input_ids (N,L) -> embedding rows -> the row at argmax(ids) (the end token) -> text_embeds (N,dim)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    table = numpy_helper.from_array(rng.standard_normal((VOCAB, dim)).astype(np.float32), "T")
    nodes = [
        helper.make_node("Gather", ["T", "input_ids"], ["rows"]),  # (N, L, dim)
        helper.make_node("ArgMax", ["input_ids"], ["end"], axis=1, keepdims=1),  # (N, 1)
        helper.make_node("Unsqueeze", ["end", "axes"], ["end3"]),  # (N, 1, 1)
        helper.make_node("Shape", ["rows"], ["rows_shape"]),
        helper.make_node("Slice", ["rows_shape", "s0", "s1"], ["batch"]),
        helper.make_node("Concat", ["batch", "one", "dimv"], ["target"], axis=0),
        helper.make_node("Expand", ["end3", "target"], ["index"]),
        helper.make_node("GatherElements", ["rows", "index"], ["picked"], axis=1),
        helper.make_node("Squeeze", ["picked", "axes1"], ["text_embeds"]),
    ]
    inits = [
        table,
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes1"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "s0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "s1"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        numpy_helper.from_array(np.array([dim], dtype=np.int64), "dimv"),
    ]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])]
    if with_mask:  # accepted and ignored, like transformers.js text models that take a mask
        inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]))
    graph = helper.make_graph(
        nodes,
        "text",
        inputs,
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", dim])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def write_bundle(
    folder: Path,
    *,
    name: str = "handmade",
    dim: int = 8,
    image_size: int = 32,
    declared_dim: int | None = None,
    channels: int = 3,
    random: bool = False,
    context_length: int = 77,
    with_mask: bool = False,
) -> Path:
    """A PhotoClip-layout bundle whose towers are tiny hand-built graphs."""
    pytest.importorskip("onnx")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "image.onnx").write_bytes(_image_graph(dim, image_size, channels))
    (folder / "text.onnx").write_bytes(_text_graph(dim, with_mask=with_mask))
    shutil.copyfile(paths.resources_dir() / "clip_tokenizer.json", folder / "tokenizer.json")
    manifest = {
        "format": 1,
        "name": name,
        "dim": declared_dim or dim,
        "image_size": image_size,
        "resize_size": image_size,
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
        "context_length": context_length,
        "source": "hand-built test graph",
        "random": random,
        "precision": "fp32",
        "image_model": "image.onnx",
        "text_model": "text.onnx",
        "tokenizer": "tokenizer.json",
        "files": {f: sha256_file(folder / f) for f in ("image.onnx", "text.onnx", "tokenizer.json")},
    }
    (folder / "photoclip.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def write_hf_bundle(folder: Path, *, dim: int = 8, image_size: int = 32, variants: tuple[str, ...] = ("",)) -> Path:
    """A folder in the Hugging Face / transformers.js layout (onnx/vision_model*.onnx ...)."""
    pytest.importorskip("onnx")
    (folder / "onnx").mkdir(parents=True, exist_ok=True)
    for i, suffix in enumerate(variants):
        (folder / "onnx" / f"vision_model{suffix}.onnx").write_bytes(_image_graph(dim, image_size, seed=i))
        (folder / "onnx" / f"text_model{suffix}.onnx").write_bytes(_text_graph(dim, seed=10 + i, with_mask=True))
    shutil.copyfile(paths.resources_dir() / "clip_tokenizer.json", folder / "tokenizer.json")
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "crop_size": {"height": image_size, "width": image_size},
                "do_center_crop": True,
                "size": {"shortest_edge": image_size + 4},
                "image_mean": [0.4, 0.45, 0.5],
                "image_std": [0.2, 0.25, 0.3],
                "resample": 3,
            }
        )
    )
    (folder / "config.json").write_text(
        json.dumps(
            {
                "_name_or_path": "test/handmade-clip",
                "projection_dim": dim,
                "text_config": {"max_position_embeddings": 77},
                "vision_config": {"image_size": image_size},
            }
        )
    )
    return folder


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle-src")


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny CLIP exported once for the whole session (needs torch)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from photoclip.engine.export import export_random

    out = tmp_path_factory.mktemp("export") / "tiny"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_random("tiny", out, seed=3)
    return out


@pytest.fixture(scope="session")
def vitb32_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real ViT-B/32 architecture with random weights, exported once (slow: ~1 min)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from photoclip.engine.export import export_random

    out = tmp_path_factory.mktemp("export") / "vitb32"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_random("vit-b-32", out, seed=0)
    return out
