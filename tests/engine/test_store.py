"""ModelStore: install, list, activate, remove, and refusing broken bundles without leftovers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from photoclip.engine import ClipEngine, ModelStore
from photoclip.errors import ModelError, NoModelError
from tests.engine.conftest import write_bundle, write_hf_bundle

pytest.importorskip("onnxruntime")


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def test_install_list_use_remove(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    assert store.list() == [] and store.active() is None
    first = store.install_from_dir(write_bundle(tmp_path / "a", name="alpha"))
    second = store.install_from_dir(write_bundle(tmp_path / "b", name="beta", dim=16))
    assert [m.name for m in store.list()] == ["alpha", "beta"]
    assert first.path == store.root / "alpha" and second.dim == 16
    assert store.active().name == "alpha"  # the first install becomes active
    store.set_active("beta")
    assert ModelStore(tmp_path / "models").active().name == "beta"  # persisted on disk
    store.remove("beta")
    assert store.active() is None and store.names() == ["alpha"]
    assert not (store.root / "beta").exists()
    assert _leftovers(store.root) == []


def test_installed_copy_is_independent_and_loads(tmp_path: Path) -> None:
    src = write_bundle(tmp_path / "src", name="alpha")
    store = ModelStore(tmp_path / "models")
    info = store.install_from_dir(src, "renamed")
    for f in src.iterdir():
        f.unlink()
    engine = ClipEngine.load(info.path, device="cpu")
    assert engine.model_name == "renamed"
    assert engine.embed_texts(["a dog"]).shape == (1, 8)
    manifest = json.loads((info.path / "photoclip.json").read_text())
    assert set(manifest["files"]) == {"image.onnx", "text.onnx", "tokenizer.json"}


def test_unknown_names_and_duplicates(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    with pytest.raises(NoModelError, match="No model named 'nope'"):
        store.get("nope")
    with pytest.raises(NoModelError):
        store.set_active("nope")
    with pytest.raises(NoModelError, match="No model is active"):
        store.require_active()
    src = write_bundle(tmp_path / "a", name="alpha")
    store.install_from_dir(src)
    with pytest.raises(ModelError, match="already installed"):
        store.install_from_dir(src)
    store.install_from_dir(src, replace_existing=True)
    with pytest.raises(ModelError, match="not a valid model name"):
        store.install_from_dir(src, "../escape")
    assert _leftovers(store.root) == []


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("missing_text", "missing text.onnx"),
        ("corrupt_image", "image.onnx is not an ONNX model"),
        ("declared_dim", "declares 12"),
        ("channels", "takes 4 channels"),
        ("tampered", "does not match the sha256"),
        ("not_a_bundle", "not a model bundle"),
    ],
)
def test_broken_bundles_are_refused_without_leftovers(tmp_path: Path, breakage: str, message: str) -> None:
    src = tmp_path / "src"
    if breakage == "declared_dim":
        write_bundle(src, declared_dim=12)
    elif breakage == "channels":
        write_bundle(src, channels=4)
    else:
        write_bundle(src)
    if breakage == "missing_text":
        (src / "text.onnx").unlink()
    elif breakage == "corrupt_image":
        (src / "image.onnx").write_bytes(b"\x08\x07garbage" * 100)
        manifest = json.loads((src / "photoclip.json").read_text())
        manifest["files"].pop("image.onnx")
        (src / "photoclip.json").write_text(json.dumps(manifest))
    elif breakage == "tampered":  # a weight byte changed: still an ONNX file, but not the exported one
        data = bytearray((src / "text.onnx").read_bytes())
        data[len(data) // 2] ^= 0x01
        (src / "text.onnx").write_bytes(bytes(data))
    elif breakage == "not_a_bundle":
        (src / "photoclip.json").unlink()
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelError, match=message):
        store.install_from_dir(src)
    assert store.list() == []
    assert not store.root.exists() or os.listdir(store.root) == []


def test_import_hugging_face_layout(tmp_path: Path) -> None:
    src = write_hf_bundle(tmp_path / "clip-hf", dim=8, image_size=32, variants=("", "_quantized"))
    store = ModelStore(tmp_path / "models")
    fp32 = store.install_from_dir(src)
    assert fp32.name == "clip-hf" and fp32.precision == "fp32"
    assert (fp32.image_size, fp32.resize_size, fp32.context_length) == (32, 36, 77)
    assert fp32.mean == (0.4, 0.45, 0.5) and fp32.std == (0.2, 0.25, 0.3)
    assert fp32.source == "test/handmade-clip"
    int8 = store.install_from_dir(src, "clip-hf-int8", variant="int8")
    assert int8.precision == "int8"
    # the two variants carry different weights, so their embeddings differ
    a = ClipEngine.load(fp32.path).embed_texts(["a cat"])
    b = ClipEngine.load(int8.path).embed_texts(["a cat"])
    assert abs(float((a @ b.T)[0, 0])) < 0.999
    # the engine also runs the downloaded folder directly, attention mask and all
    direct = ClipEngine.load(src, device="cpu")
    assert direct._mask_name == "attention_mask"
    assert float((direct.embed_texts(["a cat"]) @ a.T)[0, 0]) == pytest.approx(1.0, abs=1e-6)


def test_hugging_face_variant_missing(tmp_path: Path) -> None:
    src = write_hf_bundle(tmp_path / "clip-hf")
    with pytest.raises(ModelError, match="no vision_model ONNX file \\(the fp16 variant\\)"):
        ModelStore(tmp_path / "models").install_from_dir(src, variant="fp16")


def test_cleanup_removes_interrupted_installs(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.install_from_dir(write_bundle(tmp_path / "a", name="alpha"))
    (store.root / ".install-beta-x1").mkdir()
    assert [m.name for m in store.list()] == ["alpha"]
    store.cleanup()
    assert _leftovers(store.root) == []
