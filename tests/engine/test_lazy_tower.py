"""A command loads only the tower it needs: a text search never opens the image tower."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photoclip.cli import main
from photoclip.engine import ModelStore
from photoclip.engine import engine as engine_module
from photoclip.engine.engine import ClipEngine
from photoclip.store.catalog import Catalog
from tests.engine.test_toy_clip import FIXTURE
from tests.fakes import add_photo, unit

pytestmark = pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    real = engine_module.open_session

    def recording(ort, model: Path, providers, options):  # type: ignore[no-untyped-def]
        names.append(Path(model).name)
        return real(ort, model, providers, options)

    monkeypatch.setattr(engine_module, "open_session", recording)
    return names


def test_the_image_tower_opens_on_first_image(opened: list[str]) -> None:
    engine = ClipEngine.load(FIXTURE, device="cpu", threads=1, warn_random=False)
    engine.embed_texts(["a red circle"])
    assert opened == ["text.onnx"]
    vec = engine.embed_images([Image.new("RGB", (64, 64), "red")])
    assert vec.shape == (1, engine.dim)
    assert opened == ["text.onnx", "image.onnx"]


def test_photoclip_search_loads_only_the_text_tower(opened: list[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no instance serves this library
    models = Path(str(tmp_path / "models"))
    ModelStore(models).install_from_dir(FIXTURE)
    monkeypatch.setenv("PHOTOCLIP_MODELS", str(models))
    info = ModelStore(models).list()[0]
    ModelStore(models).set_active(info.name)
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "pics")
    for i in range(3):
        vec = [0.0] * info.dim
        vec[i] = 1.0
        add_photo(catalog, folder.id, tmp_path / "pics" / f"p{i}.png", unit(vec), model=info.name)
    catalog.close()
    opened.clear()  # installing checked both towers; the search starts from here
    assert main(["--library", str(tmp_path / "lib"), "search", "a red circle", "--all", "--top", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert opened == ["text.onnx"]


def test_an_int8_text_tower_stays_close_to_the_fp32_one(tmp_path: Path) -> None:
    import numpy as np

    fp32 = ClipEngine.load(FIXTURE, device="cpu", threads=1, warn_random=False)
    int8 = ClipEngine.load(FIXTURE, device="cpu", threads=1, warn_random=False, text_precision="int8")
    assert int8.text_model_path != fp32.text_model_path and int8.text_model_path.is_file()
    texts = ["a red circle", "a green triangle on the left", "a blue square at the top", "a yellow star"]
    a, b = fp32.embed_texts(texts), int8.embed_texts(texts)
    assert float(np.min(np.sum(a * b, axis=1))) > 0.99
    again = ClipEngine.load(FIXTURE, device="cpu", threads=1, warn_random=False, text_precision="int8")
    assert again.text_model_path == int8.text_model_path  # quantized once, then reused
