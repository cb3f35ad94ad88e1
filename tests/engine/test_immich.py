"""Immich model folders: import both exporter generations and match the PyTorch model they came from.

The folders are random-weight replicas built by open_clip and Immich's exporter settings
(tests/engine/replicas.py); the reference is the same open_clip model run in PyTorch, with open_clip's
own tokenizer and an independent implementation of Immich's image preprocessing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.engine import export_stack, fixed_images

pytestmark = pytest.mark.torch
export_stack.require("onnxruntime")

ROOT = Path(__file__).resolve().parents[2]
CAPTIONS = [
    "a photo of a dog",
    "Ein Hund läuft über die Straße — café, 東京の犬 🐕",
    "a long caption " + " ".join(f"with word{i}" for i in range(60)) + " that runs past the context",
]


def _images(folder: Path) -> list[Path]:
    return fixed_images.write(folder, [(64, 64), (120, 80), (50, 97)], seed=7, darken=2)  # the crop matters


def _reference_pixels(path: Path, cfg: dict) -> np.ndarray:
    """Immich's preprocessing, written from its description: shortest side to size (int), centre crop."""
    size = cfg["size"][0] if isinstance(cfg["size"], list) else cfg["size"]
    img = Image.open(path).convert("RGB")
    if img.width < img.height:
        img = img.resize((size, int((img.height / img.width) * size)), Image.Resampling.BICUBIC)
    else:
        img = img.resize((int((img.width / img.height) * size), size), Image.Resampling.BICUBIC)
    left, top = int(img.width / 2 - size / 2), int(img.height / 2 - size / 2)
    img = img.crop((left, top, left + size, top + size))
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = (arr - np.array(cfg["mean"], dtype=np.float32)) / np.array(cfg["std"], dtype=np.float32)
    return arr.transpose(2, 0, 1)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from tests.engine.replicas import build_model, export_immich

    base = tmp_path_factory.mktemp("immich")
    model, config = build_model(seed=11)
    folders = {g: export_immich(model, config, base / f"tiny-{g}", generation=g) for g in ("fixed", "dynamic")}
    return {"model": model, "config": config, "folders": folders, "base": base}


def _run(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "photoclip", *args], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return out


@pytest.mark.parametrize("generation", ["fixed", "dynamic"])
def test_import_and_embed_match_pytorch(replicas: dict, tmp_path: Path, generation: str) -> None:
    import torch

    from tests.engine.replicas import reference_tokenize

    env = {**os.environ, "PHOTOCLIP_MODELS": str(tmp_path / "models")}
    imported = _run(env, "models", "import", str(replicas["folders"][generation]), "--name", f"immich-{generation}")
    assert "RANDOM" in imported.stdout  # a replica never passes for a real model
    images = _images(tmp_path)
    args = ["embed", "--json", "--model", f"immich-{generation}", *map(str, images)]
    for caption in CAPTIONS:
        args += ["--text", caption]
    out = _run(env, *args)
    assert "RANDOM" in out.stderr
    rows = json.loads(out.stdout)
    assert [r["input"] for r in rows] == [*map(str, images), *CAPTIONS]
    got = np.array([r["vector"] for r in rows], dtype=np.float32)

    model = replicas["model"]
    pre = json.loads((replicas["folders"][generation] / "visual" / "preprocess_cfg.json").read_text())
    with torch.no_grad():
        pixels = torch.from_numpy(np.stack([_reference_pixels(p, pre) for p in images]))
        ref_images = model.encode_image(pixels, normalize=True).numpy()
        ids = reference_tokenize(CAPTIONS, replicas["config"]["text_cfg"]["context_length"])
        ref_texts = model.encode_text(ids, normalize=True).numpy()
    expected = np.concatenate([ref_images, ref_texts])
    cosines = (got * expected).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.999, cosines
    # The three captions differ, and the long one was cut, not refused: vectors are distinct.
    assert np.abs(got[-1] - got[-2]).max() > 1e-3


def test_installed_immich_model_keeps_its_text_and_image_handling(replicas: dict, tmp_path: Path) -> None:
    from photoclip.engine import ClipEngine, ModelStore

    store = ModelStore(tmp_path / "models")
    info = store.install_from_dir(replicas["folders"]["fixed"], "tiny")
    assert info.layout == "photoclip" and info.random and info.dim == 32 and info.context_length == 77
    with pytest.warns(UserWarning, match="RANDOM"):
        engine = ClipEngine.load(info.path, device="cpu")
    assert engine._image_batch == 1 and engine._fixed_length == 77
    texts = engine.embed_texts(CAPTIONS)  # a batch on a batch-1 model runs one at a time
    assert texts.shape == (3, 32)


def test_download_an_immich_folder_from_a_hub(replicas: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`models download` of an Immich repository: pinned commit, every file verified, installed and usable."""
    from photoclip.engine import ClipEngine, ModelStore
    from photoclip.engine.download import download_model
    from tests.engine.test_download_verified import COMMIT, HubLike

    files = ["config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx",
             "textual/tokenizer.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json"]
    hub = HubLike(replicas["folders"]["dynamic"], files, lfs={"visual/model.onnx", "textual/model.onnx",
                                                              "textual/tokenizer.json"})
    try:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        catalogue = tmp_path / "known.json"
        catalogue.write_text(json.dumps({"default": "tiny", "models": {"tiny": {
            "repo": "immich-app/tiny", "revision": COMMIT, "files": {f: None for f in files}}}}))
        info = download_model("tiny", ModelStore(tmp_path / "models"), catalogue=catalogue)
    finally:
        hub.close()
    assert info.random and COMMIT in info.source
    with pytest.warns(UserWarning, match="RANDOM"):
        engine = ClipEngine.load(info.path, device="cpu")
    assert engine.embed_texts(["a photo of a dog"]).shape == (1, 32)
