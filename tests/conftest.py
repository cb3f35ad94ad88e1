"""Shared test setup: tests never touch the user's real data or config folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every PhotoClip data and config location at a fresh temporary folder."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PHOTOCLIP_LIBRARY", str(base / "library"))
    monkeypatch.setenv("PHOTOCLIP_MODELS", str(base / "models"))
    monkeypatch.setenv("PHOTOCLIP_CONFIG", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
