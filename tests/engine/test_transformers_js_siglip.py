"""SigLIP in the transformers.js layout (``Xenova/siglip-*``): import, embed and calibrate.

The folder is a random-weight replica made by transformers and the export settings of transformers.js's
conversion (tests/engine/replicas_siglip.py). The reference is the same SiglipModel in PyTorch, fed by
transformers' SiglipImageProcessor and by the tokenizer file through transformers on text cleaned as
SigLIP's tokenizer cleans it (lower case, no punctuation), padded to 64 with the pad token.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.engine import export_stack, fixed_images
from tests.engine.test_tokenizer import WORDS

pytestmark = pytest.mark.torch
export_stack.require("transformers", "onnxruntime")

ROOT = Path(__file__).resolve().parents[2]
CAPTIONS = [
    "A dog, on the Beach!",
    "Ein Hund läuft über die Straße — café, 東京の犬 garçon_été 🐕",
    "a long caption " + " ".join(f"word{i}" for i in range(90)),
]


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from tests.engine.replicas_siglip import build_siglip, export_transformers_js, siglip_tokenizer

    base = tmp_path_factory.mktemp("siglip-js")
    rng = random.Random(3)
    extra = ["Hund", "Straße", "café", "東京", "犬", "été", "garçon", "word"]
    corpus = [" ".join(rng.choices(WORDS + extra, k=rng.randint(2, 14))) for _ in range(4000)]
    corpus += [f"word{i}" for i in range(100)]
    siglip_tokenizer(base / "tokenizer", corpus)
    model = build_siglip(base / "tokenizer", seed=7)
    folder = export_transformers_js(model, base / "tokenizer", base / "siglip-js")
    return {"model": model, "folder": folder}


def _images(folder: Path) -> list[Path]:
    return fixed_images.write(folder, [(64, 64), (120, 50), (41, 90)], seed=5, darken=3)  # squash, not crop


def _reference(model, folder: Path, images: list[Path], captions: list[str]) -> np.ndarray:
    import torch
    from open_clip.tokenizer import get_clean_fn
    from transformers import PreTrainedTokenizerFast, SiglipImageProcessor

    def features(out):  # a tensor, or an output object whose pooled vector is the embedding
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    processor = SiglipImageProcessor.from_pretrained(str(folder))
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), pad_token="</s>")
    clean = get_clean_fn("canonicalize")
    ids = tokenizer([clean(c) for c in captions], padding="max_length", truncation=True, max_length=64,
                    return_tensors="pt").input_ids
    pixels = processor([Image.open(p).convert("RGB") for p in images], return_tensors="pt").pixel_values
    with torch.no_grad():
        vectors = torch.cat([features(model.get_image_features(pixel_values=pixels)),
                             features(model.get_text_features(input_ids=ids))]).numpy()
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _run(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "photoclip", *args], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def test_import_and_embed_match_pytorch(replica: dict, tmp_path: Path) -> None:
    env = {**os.environ, "PHOTOCLIP_MODELS": str(tmp_path / "models")}
    imported = _run(env, "models", "import", str(replica["folder"]), "--name", "siglip-js")
    assert "RANDOM" in imported.stdout  # a replica never passes for a real model
    images = _images(tmp_path)
    args = ["embed", "--json", "--model", "siglip-js", *map(str, images)]
    for caption in CAPTIONS:
        args += ["--text", caption]
    rows = json.loads(_run(env, *args).stdout)
    assert [r["input"] for r in rows] == [*map(str, images), *CAPTIONS]
    got = np.array([r["vector"] for r in rows], dtype=np.float32)
    expected = _reference(replica["model"], replica["folder"], images, CAPTIONS)
    cosines = (got * expected).sum(axis=1) / np.linalg.norm(got, axis=1)
    assert cosines.min() >= 0.999, cosines
    assert np.abs(got[-1] - got[-2]).max() > 1e-3  # the long caption was cut, not refused


def test_siglip_handling_and_calibration_come_from_the_folder(replica: dict, tmp_path: Path) -> None:
    from photoclip.engine import ClipEngine, ModelStore, read_bundle

    model = replica["model"]
    info = read_bundle(replica["folder"])
    assert info.layout == "huggingface" and info.random and (info.dim, info.context_length) == (64, 64)
    assert (info.tokenizer_kind, info.text_clean, info.pad_to_context) == ("template", "canonicalize", True)
    assert (info.resize_mode, info.image_size, info.mean, info.std) == ("squash", 64, (0.5,) * 3, (0.5,) * 3)
    assert info.pad_id == json.loads((replica["folder"] / "tokenizer.json").read_text())["model"]["vocab"].index(
        ["</s>", 0.0])  # SiglipTokenizer pads with its end token
    # The calibration is the model's own: logits = exp(logit_scale) * cosine + logit_bias.
    assert info.logit_scale == pytest.approx(math.exp(float(model.logit_scale)), rel=1e-4)
    assert info.logit_bias == pytest.approx(float(model.logit_bias), abs=1e-4)
    installed = ModelStore(tmp_path / "models").install_from_dir(replica["folder"], "siglip-js")
    assert (installed.logit_scale, installed.logit_bias) == (info.logit_scale, info.logit_bias)
    with pytest.warns(UserWarning, match="RANDOM"):
        engine = ClipEngine.load(installed.path, device="cpu")
    assert (engine.logit_scale, engine.logit_bias) == (info.logit_scale, info.logit_bias)
    # The tower sees every position: padding with anything but the pad id gives another vector.
    ids = engine.tokenize([CAPTIONS[0]])
    assert ids.shape == (1, 64) and (ids[0, -10:] == info.pad_id).all()
    wrong = np.where(np.arange(64) > int(np.flatnonzero(ids[0] == info.pad_id)[1]), 0, ids)
    assert float((engine._run_text(wrong)[0] * engine.embed_texts([CAPTIONS[0]])[0]).sum()) < 0.999


def test_towers_without_the_combined_model_import_without_a_calibration(replica: dict, tmp_path: Path) -> None:
    import shutil

    from photoclip.engine import read_bundle

    folder = tmp_path / "split-only"
    shutil.copytree(replica["folder"], folder)
    (folder / "onnx" / "model.onnx").unlink()
    info = read_bundle(folder)
    assert info.logit_scale is None and info.logit_bias is None and info.tokenizer_kind == "template"
