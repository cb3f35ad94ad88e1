"""A damaged or emptied catalog is reported, never opened in silence, and can be rebuilt from the photos."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from photoclip.errors import CatalogError
from photoclip.store.catalog import Catalog
from tests.corpus import make_image
from tests.test_cli import run

ENV: dict[str, str] = {}


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(40):
        make_image(folder / f"p{i:02}.png", "png", (16, 16), (i * 6, 100, 200))
    library = tmp_path / "lib"
    ENV["PHOTOCLIP_MODELS"] = str(tmp_path / "no-models")
    assert run("--library", str(library), "index", "--no-embed", str(folder), env=ENV).returncode == 0
    (library / "settings.json").write_text("{}", encoding="utf-8")  # a library that has been used
    return library, folder


def damage_photos_table(catalog: Path) -> None:
    conn = sqlite3.connect(catalog)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='photos'").fetchone()[0]
    conn.close()
    with open(catalog, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x0d\xff\xff\xff" + bytes(range(256)) * 4)


def test_damaged_pages_are_reported_and_a_rebuild_reads_the_photos_again(indexed: tuple[Path, Path]) -> None:
    library, folder = indexed
    catalog = library / "catalog.sqlite3"
    damage_photos_table(catalog)

    status = run("--library", str(library), "status", env=ENV)
    assert status.returncode != 0
    assert "Traceback" not in status.stderr
    assert "damaged" in (status.stdout + status.stderr).lower()
    assert "--rebuild" in status.stdout + status.stderr
    index = run("--library", str(library), "index", "--no-embed", env=ENV)
    assert "damaged" in index.stderr.lower() and "Traceback" not in index.stderr

    rebuilt = run("--library", str(library), "index", "--rebuild", "--no-embed", env=ENV)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "40 new" in rebuilt.stdout
    assert len(list(library.glob("catalog.sqlite3.damaged-*[0-9]"))) == 1
    data = json.loads(run("--library", str(library), "status", "--json", env=ENV).stdout)
    assert data["catalog"] == {"checked": True, "ok": True, "problems": []}
    assert data["photos"] == 40 and [f["path"] for f in data["folders"]] == [str(folder)]


def test_a_zero_byte_catalog_is_reported_not_opened_as_an_empty_library(indexed: tuple[Path, Path]) -> None:
    library, folder = indexed
    (library / "catalog.sqlite3").write_bytes(b"")
    for args in (("status",), ("search", "anything"), ("index", "--no-embed")):
        out = run("--library", str(library), *args, env=ENV)
        assert out.returncode == 1, out.stdout
        assert "empty (0 bytes)" in out.stderr and "--rebuild" in out.stderr
    assert (library / "catalog.sqlite3").stat().st_size == 0  # the evidence is left as it was
    rebuilt = run("--library", str(library), "index", "--rebuild", "--no-embed", str(folder), env=ENV)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "40 new" in rebuilt.stdout


def test_an_interrupted_creation_is_simply_created_again(tmp_path: Path) -> None:
    path = tmp_path / "lib" / "catalog.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"")  # killed between creating the file and writing the schema
    with Catalog(path) as cat:
        assert cat.quick_check() == []


def test_catalog_problem_wording(tmp_path: Path) -> None:
    (tmp_path / "index-m.json").write_text("{}")
    (tmp_path / "catalog.sqlite3").write_bytes(b"")
    with pytest.raises(CatalogError, match="empty"):
        Catalog(tmp_path / "catalog.sqlite3")
