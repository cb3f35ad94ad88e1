"""GUI test setup: a real library on temporary folders, the fake embedder, real image files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PIL import Image
from PySide6.QtCore import QSettings, QThreadPool

from photoclip.library import Library
from photoclip.store.catalog import Catalog
from photoclip.store.settings import Settings
from tests.fakes import FakeEmbedder

COLOURS = {"red": (220, 20, 20), "green": (20, 200, 30), "blue": (25, 30, 210)}
# Capture dates via mtime (no EXIF): green newest, then blue, then red.
MTIMES = {"red": 1_500_000_000, "blue": 1_600_000_000, "green": 1_700_000_000}


def quick_settings(**overrides: object) -> Settings:
    """Library settings for GUI tests: no auto-tagging and no text reading (seconds, not minutes)."""
    values: dict[str, object] = {"auto_tag": False, "ocr": False, "places": False}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_photos(folder: Path, colours: dict[str, tuple[int, int, int]] | None = None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, rgb in (colours or COLOURS).items():
        p = folder / f"{name}.jpg"
        Image.new("RGB", (64, 48), rgb).save(p, "JPEG", quality=90)
        t = MTIMES.get(name, 1_400_000_000)
        os.utime(p, (t, t))
        out[name] = p
    return out


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Modal message boxes would block a test: record them and answer Yes."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []
    for kind in ("warning", "information", "critical", "question"):
        def fake(_parent, title, text, *_a, _kind=kind, **_k):  # type: ignore[no-untyped-def]
            shown.append((_kind, f"{title}: {text}"))
            return QMessageBox.StandardButton.Yes
        monkeypatch.setattr(QMessageBox, kind, staticmethod(fake))
    return shown


@pytest.fixture
def ui_settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib_dir = tmp_path / "lib"
    lib = Library(lib_dir, Catalog(lib_dir / "catalog.sqlite3"), engine_factory=FakeEmbedder,
                  settings=quick_settings())
    yield lib
    lib.close()


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    return make_photos(tmp_path / "photos")


@pytest.fixture
def indexed(library: Library, photos: dict[str, Path]) -> Library:
    library.add_folder(photos["red"].parent)
    library.index()
    return library


@pytest.fixture
def make_window(qtbot, ui_settings):  # type: ignore[no-untyped-def]
    """Build windows per test; afterwards fail if any worker is still running."""
    from photoclip.gui.main_window import MainWindow

    made: list[MainWindow] = []

    def make(library: Library) -> MainWindow:
        window = MainWindow(library, ui_settings=ui_settings, live_sync=False)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        window.shutdown()
        pools = [window.tasks.pool, window.jobs._tasks.pool, window.loader.pool]
        assert all(p.activeThreadCount() == 0 for p in pools), "a worker was left running"
    assert QThreadPool.globalInstance().activeThreadCount() == 0
