"""The browsing rows the app re-reads while indexing: the same photos in the same order as `browse`, read
without leaving Python's garbage collector one object per photo to look at."""

from __future__ import annotations

import gc
import time

import pytest

from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder

PHOTOS = 30_000


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("browse")
    catalog = Catalog(base / "lib" / "catalog.sqlite3")
    folder = catalog.add_folder(base / "photos")
    now = time.time()
    with catalog.write() as c:
        c.executemany(
            "INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, taken_at, state, added_at, "
            "updated_at) VALUES(?,?,?,?,?,?,?,?,?)",
            [(folder.id, f"{base}/photos/{i:05d}.jpg", 1, 1, f"h{i}",
              None if i % 97 == 0 else f"20{10 + i % 14}-0{1 + i % 9}-1{i % 10}T12:00:00", "ok", now, now)
             for i in range(PHOTOS)])
    lib = Library(base / "lib", catalog, engine_factory=FakeEmbedder)
    yield lib
    lib.close()


def test_columns_hold_what_browse_holds_in_its_order(library: Library) -> None:
    for newest_first in (True, False):
        items = library.browse(newest_first=newest_first)
        columns = library.browse_columns(newest_first=newest_first)
        assert len(columns) == len(items) == PHOTOS
        assert columns.ids == [i.id for i in items]
        assert columns.paths == [i.path for i in items] and columns.hashes == [i.content_hash for i in items]
        assert columns.taken == [i.taken_at for i in items]


def test_reading_the_columns_sets_the_garbage_collector_no_work(library: Library) -> None:
    """A collection while the grid refreshes holds the interpreter lock, and so the window, for as long as
    it takes to look at every object made since the last one."""
    collections: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    old = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever the app tunes
    gc.collect()
    gc.callbacks.append(count)
    try:
        library.browse_columns()
        by_columns = len(collections)
        collections.clear()
        library.browse()  # one object per photo: what the grid used to read
        by_items = len(collections)
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*old)
    assert by_items > 10  # the measure sees the work objects cause
    assert by_columns == 0
