"""Switching models never leaves the library unsearchable: the previous model answers searches until
the new one has embedded as many photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from photoclip.engine import ModelStore
from photoclip.library import Library
from tests.test_e2e_toy import FIXTURE

pytestmark = pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")


def shapes(folder: Path) -> None:
    folder.mkdir()
    for colour in ("red", "green", "blue"):
        image = Image.new("RGB", (160, 120), "white")
        ImageDraw.Draw(image).ellipse((50, 30, 110, 90), fill=colour)
        image.save(folder / f"{colour}.jpg", quality=92)


def test_the_previous_model_answers_until_the_new_one_has_caught_up(tmp_path: Path) -> None:
    models = tmp_path / "models"
    store = ModelStore(models)
    store.install_from_dir(FIXTURE, "first")
    store.install_from_dir(FIXTURE, "second")
    store.set_active("first")
    shapes(tmp_path / "photos")
    library = Library.open(tmp_path / "lib", models_folder=models)
    try:
        library.settings.auto_tag = library.settings.ocr = library.settings.places = False
        library.add_folder(tmp_path / "photos")
        library.index()
        assert library.search_model_name() == "first"

        library.use_model("second")  # nothing is embedded with it yet
        assert library.model_name == "second"
        assert library.search_model_name() == "first"
        hits = library.search("a red circle", show_all=True).hits
        assert len(hits) == 3 and library.searcher.embedder.model_name == "first"

        library.index()  # the new model embeds every photo
        assert library.catalog.embedded_counts()["second"] == 3
        assert library.search_model_name() == "second"
        assert len(library.search("a red circle", show_all=True).hits) == 3
        assert library.searcher.embedder.model_name == "second"
    finally:
        library.close()


def test_status_says_which_model_answers_during_a_switch(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from photoclip.cli import main

    models = tmp_path / "models"
    monkeypatch.setenv("PHOTOCLIP_MODELS", str(models))
    store = ModelStore(models)
    store.install_from_dir(FIXTURE, "first")
    store.install_from_dir(FIXTURE, "second")
    store.set_active("first")
    shapes(tmp_path / "photos")
    lib = str(tmp_path / "lib")
    assert main(["--library", lib, "index", str(tmp_path / "photos")]) == 0
    assert main(["--library", lib, "models", "use", "second"]) == 0
    capsys.readouterr()
    assert main(["--library", lib, "status"]) == 0
    assert "searches use first until second has embedded as many photos" in capsys.readouterr().out
