"""File names that are not valid UTF-8 (legal on Linux, common on old disks and network shares): the
catalog stores them exactly, every command works beside them, and people see them with U+FFFD."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from photoclip.ingest import path_changes, scanner
from photoclip.library import Library
from photoclip.store import pathtext
from photoclip.store.catalog import Catalog
from tests.conftest import ROOT
from tests.corpus import make_image
from tests.fakes import FakeEmbedder
from tests.test_e2e_toy import FIXTURE
from tests.test_livesync import make_png, syncing, wait_for


def odd(folder: Path, raw: bytes) -> Path:
    """``folder / raw`` where ``raw`` is a name in bytes; skips where the file system refuses such names."""
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), raw)))
    try:
        path.touch()
        path.unlink()
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    return path


def test_display_form_marks_each_undecodable_byte() -> None:
    name = os.fsdecode(b"caf\xe9 \xff\xfe.jpg")
    assert pathtext.display(name) == "caf\ufffd \ufffd\ufffd.jpg"
    assert pathtext.display("café.jpg") == "café.jpg"
    assert pathtext.from_sql(pathtext.to_sql(name)) == name  # type: ignore[arg-type]


def test_scan_catalogues_a_non_utf8_name_losslessly(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    good = make_image(photos / "good.jpg", "jpeg", (32, 24), (200, 30, 30))
    bad = odd(photos, b"bad\xff.jpg")
    bad.write_bytes(good.read_bytes()[:-2] + b"\xff\xd9")  # other content, so not taken for a copy
    sub = odd(photos, b"Sommer \xe4")  # a Latin-1 folder name
    sub.mkdir()
    inner = make_image(sub / "x.png", "png", (16, 16), (1, 2, 3))
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as cat:
        cat.add_folder(photos)
        report = scanner.scan(cat)
        assert (report.added, report.skipped) == (3, [])
        stored = cat.photo_by_path(str(bad))
        assert stored is not None and stored.path == str(bad) and os.path.exists(stored.path)
        assert {p.path for p in cat.photos_with_state("pending")} == {str(good), str(bad), str(inner)}
        assert scanner.scan(cat).unchanged == 3

        # A rename to another undecodable name keeps the photo's id (found by content hash).
        renamed = odd(photos, b"renamed \x80.jpg")
        bad.rename(renamed)
        again = scanner.scan(cat)
        assert (again.moved, again.added, again.missing) == (1, 0, 0)
        assert cat.photo_by_path(str(renamed)).id == stored.id  # type: ignore[union-attr]

        # The watcher's way: a folder with an undecodable name moved, then removed.
        moved_sub = odd(photos, b"Winter \xf6")
        sub.rename(moved_sub)
        assert path_changes.move_path(cat, str(sub), str(moved_sub)) == 1
        assert cat.photo_by_path(str(moved_sub / "x.png")) is not None
        for p in moved_sub.iterdir():
            p.unlink()
        moved_sub.rmdir()
        assert path_changes.scan_paths(cat, [str(moved_sub)]).missing == 1


def test_live_sync_catalogues_a_non_utf8_name(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"), engine_factory=FakeEmbedder)
    lib.settings.auto_tag = lib.settings.ocr = lib.settings.places = False
    lib.add_folder(photos)
    try:
        with syncing(lib):
            path = make_png(odd(photos, b"neu \xfc.png"))
            wait_for(lambda: (p := lib.catalog.photo_by_path(str(path))) is not None and p.state == "ok",
                     timeout=15)
            gone = odd(photos, b"weg \xfc.png")
            path.rename(gone)
            wait_for(lambda: lib.catalog.photo_by_path(str(gone)) is not None, timeout=15)
    finally:
        lib.close()


def photoclip(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "photoclip", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


@pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")
def test_every_command_works_beside_a_non_utf8_name(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    good = make_image(photos / "good.jpg", "jpeg", (64, 48), (200, 30, 30))
    bad = odd(photos, b"bad\xff.jpg")
    bad.write_bytes(good.read_bytes())
    shown = str(photos / "bad\ufffd.jpg")
    env = {**os.environ, "PHOTOCLIP_LIBRARY": str(tmp_path / "lib"), "PHOTOCLIP_MODELS": str(tmp_path / "models"),
           "PYTHONPATH": str(ROOT)}
    assert photoclip(env, "models", "import", str(FIXTURE)).returncode == 0
    index = photoclip(env, "index", str(photos))
    assert index.returncode == 0, index.stderr
    assert "2 new" in index.stdout and "Traceback" not in index.stderr

    status = photoclip(env, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["ok"] == 2

    found = photoclip(env, "search", "bad", "--json")
    assert found.returncode == 0, found.stderr
    assert shown in [hit["path"] for hit in json.loads(found.stdout)]
    text = photoclip(env, "search", "red", "--all")  # the listing, whatever the score of a plain red image
    assert text.returncode == 0 and shown in text.stdout

    assert photoclip(env, "albums", "create", "All", "--query", "red", "--threshold", "0").returncode == 0
    export = photoclip(env, "albums", "export", "All", str(tmp_path / "out"))
    assert export.returncode == 0, export.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "All").iterdir()) == ["bad\ufffd.jpg", "good.jpg"]
    assert (tmp_path / "out" / "All" / "bad\ufffd.jpg").read_bytes() == bad.read_bytes()
    again = photoclip(env, "index")
    assert again.returncode == 0 and "2 unchanged" in again.stdout


def test_the_grid_shows_an_undecodable_byte_as_a_replacement_character() -> None:
    pytest.importorskip("PySide6")
    from photoclip.gui.grid_model import file_name

    assert file_name(os.fsdecode(b"/photos/bad\xff.jpg")) == "bad\ufffd.jpg"
    assert file_name("/photos/café.jpg") == "café.jpg"


def test_the_folder_filter_takes_a_folder_whose_name_is_not_utf8(tmp_path: Path) -> None:
    from photoclip.search.filters import Filters, allowed_ids

    photos = tmp_path / "photos"
    photos.mkdir()
    make_image(photos / "outside.jpg", "jpeg", (32, 24), (200, 30, 30))
    sub = odd(photos, b"Sommer \xe4")
    sub.mkdir()
    inner = make_image(sub / "x.png", "png", (16, 16), (1, 2, 3))
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as cat:
        cat.add_folder(photos)
        scanner.scan(cat)
        wanted = cat.photo_by_path(str(inner))
        assert wanted is not None
        assert allowed_ids(cat, Filters(folder=str(sub))).tolist() == [wanted.id]
