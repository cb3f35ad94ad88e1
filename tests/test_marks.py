"""Favourites and star ratings: stored in the catalog, undoable, filterable, exported as xmp:Rating."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoclip.cli import main, search_cmds
from photoclip.errors import QueryError
from photoclip.library import Library
from photoclip.organize import albums
from photoclip.organize.albumexport import export_album
from photoclip.organize.marks import NO_MARK, Mark
from photoclip.organize.xmp import read_rating, sidecar_xml
from photoclip.search.filters import Filters, allowed_ids
from photoclip.store.catalog import Catalog
from tests.fakes import add_photo


@pytest.fixture()
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"))
    yield lib
    lib.close()


@pytest.fixture()
def ids(library: Library, tmp_path: Path) -> list[int]:
    folder = tmp_path / "photos"
    folder.mkdir()
    fid = library.catalog.add_folder(folder).id
    out = []
    for name in ("a", "b", "c", "d"):
        (folder / f"{name}.jpg").write_bytes(name.encode())
        out.append(add_photo(library.catalog, fid, folder / f"{name}.jpg"))
    return out


def test_favourite_and_rating_are_stored_and_undone(library: Library, ids: list[int]) -> None:
    a, b, c, _d = ids
    events = []
    library.subscribe(events.append)
    before = library.set_favourite([a, b])
    assert before == {a: NO_MARK, b: NO_MARK}
    assert events[-1].kind == "marks" and set(events[-1].ids) == {a, b}
    stars = library.set_rating([b, c], 4)
    assert stars == {b: Mark(True, 0), c: NO_MARK}
    assert library.marks([a, b, c]) == {a: Mark(True, 0), b: Mark(True, 4), c: Mark(False, 4)}
    redo = library.restore_marks(stars)  # undo the rating
    assert library.marks([b, c]) == {b: Mark(True, 0), c: NO_MARK}
    library.restore_marks(redo)  # redo it
    assert library.marks([b, c]) == {b: Mark(True, 4), c: Mark(False, 4)}
    library.restore_marks(before)
    assert library.marks() == {c: Mark(False, 4)}, "only marked photos are listed"
    with pytest.raises(QueryError):
        library.set_rating([a], 6)


def test_marks_go_with_a_deleted_photo(library: Library, ids: list[int]) -> None:
    library.set_rating([ids[0]], 3)
    with library.catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (ids[0],))
    assert library.marks() == {}


def test_filters_by_favourite_and_minimum_rating(library: Library, ids: list[int]) -> None:
    a, b, c, d = ids
    library.set_favourite([a, c])
    library.set_rating([b], 5)
    library.set_rating([c], 2)
    assert allowed_ids(library.catalog, Filters(favourite=True)).tolist() == [a, c]
    assert allowed_ids(library.catalog, Filters(min_rating=2)).tolist() == [b, c]
    assert allowed_ids(library.catalog, Filters(min_rating=3)).tolist() == [b]
    assert allowed_ids(library.catalog, Filters(favourite=True, min_rating=1)).tolist() == [c]
    assert Filters(favourite=True).active and Filters(min_rating=1).active
    assert len(allowed_ids(library.catalog, Filters())) == 4 and d


def test_cli_search_passes_favourite_and_rating(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    class Lib:
        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def search(self, query, **kw):  # type: ignore[no-untyped-def]
            seen.append(kw["filters"])
            from types import SimpleNamespace

            return SimpleNamespace(hits=[], hidden=0)

    monkeypatch.setattr(search_cmds, "open_library", lambda args: Lib())
    main(["search", "beach", "--favourite", "--rating", "3"])
    assert seen and seen[0].favourite and seen[0].min_rating == 3
    with pytest.raises(SystemExit):
        main(["search", "beach", "--rating", "7"])


def test_export_writes_the_rating_to_the_sidecar(library: Library, ids: list[int], tmp_path: Path) -> None:
    albums.create_album(library.catalog, "Best")
    albums.add_to_album(library.catalog, "Best", ids[:2])
    library.set_rating([ids[0]], 4)
    report = export_album(library.catalog, "Best", tmp_path / "out", xmp_sidecars=True)
    by_name = {Path(e.source).name: Path(e.sidecar or "") for e in report.exported}
    assert read_rating(by_name["a.jpg"].read_bytes()) == 4
    assert read_rating(by_name["b.jpg"].read_bytes()) is None
    assert b'xmlns:xmp="http://ns.adobe.com/xap/1.0/"' in sidecar_xml(["x"], 2)
