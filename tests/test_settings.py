"""Settings files: versioned migration, one bad value costs only that value, every value in range."""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from pathlib import Path

import pytest

from photoclip.store import settings as settings_mod
from photoclip.store.settings import Settings, load_settings, save_settings


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_huge_thread_count_is_clamped_with_a_warning(tmp_path: Path, caplog) -> None:
    path = write(tmp_path / "settings.json", {"schema_version": 2, "threads": 100000, "batch_size": 16})
    with caplog.at_level(logging.WARNING, logger="photoclip.store.settings"):
        s = load_settings(path)
    assert 0 <= s.threads <= settings_mod.MAX_THREADS < 100000
    assert s.batch_size == 16
    assert any("threads" in w and "100000" in w for w in s.warnings)
    assert "threads" in caplog.text


@pytest.mark.parametrize(("name", "value"), [
    ("threads", -3), ("batch_size", 10_000), ("decode_workers", 1 << 40), ("ocr_threads", 0),
    ("max_tags_per_photo", 999), ("thumbnail_cache_mb", 1), ("default_top", 10 ** 9)])
def test_every_number_has_a_range(tmp_path: Path, name: str, value: int) -> None:
    s = load_settings(write(tmp_path / "settings.json", {"schema_version": 2, name: value}))
    assert getattr(s, name) != value and any(name in w for w in s.warnings)
    assert load_settings(write(tmp_path / "settings.json", {name: getattr(s, name)})).warnings == []


def test_one_mistyped_value_resets_only_that_value(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", {"schema_version": 2, "batch_size": "lots", "ocr": False,
                                              "default_top": 50, "device": "cpu", "places": "yes"})
    s = load_settings(path)
    assert s.batch_size == Settings().batch_size and s.places is Settings().places
    assert (s.ocr, s.default_top, s.device) == (False, 50, "cpu")
    assert sorted(w.split(":")[0] for w in s.warnings) == ["setting batch_size", "setting places"]
    assert path.exists() and not path.with_suffix(".json.broken").exists()


def test_schema_version_is_read_and_old_files_migrate(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", {"schema_version": 1, "tag_threshold": 0.3,
                                              "show_all_results": True, "threads": 2, "future_knob": 7})
    s = load_settings(path)
    assert s.threads == 2 and s.extra == {"future_knob": 7} and not s.warnings
    save_settings(path, s)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["schema_version"] == settings_mod.SCHEMA_VERSION > 1
    assert "tag_threshold" not in saved and "show_all_results" not in saved
    assert saved["future_knob"] == 7 and saved["threads"] == 2


def test_the_unused_settings_are_gone() -> None:
    names = {f.name for f in fields(Settings)}
    assert not names & {"tag_threshold", "show_all_results"}


def test_a_file_from_a_newer_version_keeps_what_it_can(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path / "settings.json", {"schema_version": 99, "threads": 1, "new": [1]}))
    assert s.threads == 1 and s.extra == {"new": [1]}
    assert any("newer" in w for w in s.warnings)


def test_a_file_that_is_not_json_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{threads: 4", encoding="utf-8")
    s = load_settings(path)
    assert s == Settings() and s.warnings
    assert path.with_suffix(".json.broken").read_text(encoding="utf-8") == "{threads: 4"
