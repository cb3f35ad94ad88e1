"""The catalog: schema migrations, refusal of foreign or newer files, folders, vectors and a full disk."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from photoclip.errors import CatalogError, DiskFullError, NotFoundError
from photoclip.store.catalog import Catalog, _split_sql
from photoclip.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.fakes import FakeEmbedder, add_photo, axis_vector


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as cat:
        yield cat


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _v1_catalog(path: Path, photos_dir: Path) -> None:
    """A catalog as the first release wrote it: migration 1 only, with a folder, a photo, a vector, a tag."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in _split_sql(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version=1")
    now = time.time()
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES(1, ?, ?)", (str(photos_dir), now))
    conn.execute("INSERT INTO photos(id, folder_id, path, size, mtime_ns, content_hash, state, added_at, updated_at) "
                 "VALUES(7, 1, ?, 10, 1, 'h7', 'ok', ?, ?)", (str(photos_dir / "a.jpg"), now, now))
    conn.execute("INSERT INTO models(id, name, dim, seq) VALUES(1, 'm', 2, 1)")
    conn.execute("INSERT INTO embeddings VALUES(7, 1, 'h7', 1, ?)", (np.ones(2, "<f4").tobytes(),))
    conn.execute("INSERT INTO tags(id, name, created_at) VALUES(3, 'beach', ?)", (now,))
    conn.execute("INSERT INTO photo_tags VALUES(7, 3, 0.5, 'auto', 0, ?)", (now,))
    conn.close()


def test_new_file_gets_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "catalog.sqlite3"
    with Catalog(path) as cat:
        assert cat.schema_version == SCHEMA_VERSION
        assert {"folders", "photos", "embeddings", "albums", "album_photos", "text_vectors"} <= _tables(cat.conn)
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.integrity_ok()
    # Reopening an up-to-date catalog migrates nothing and keeps the version.
    with Catalog(path) as cat:
        assert cat.schema_version == SCHEMA_VERSION


def test_previous_version_is_migrated_and_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    _v1_catalog(path, tmp_path / "photos")
    with Catalog(path) as cat:
        assert cat.schema_version == SCHEMA_VERSION
        assert "albums" in _tables(cat.conn)
        photo = cat.photo(7)
        assert photo.path == str(tmp_path / "photos" / "a.jpg") and photo.state == "ok"
        assert cat.vector("m", 7).tolist() == [1.0, 1.0]
        assert cat.conn.execute("SELECT tag_id FROM photo_tags WHERE photo_id=7").fetchall() == [(3,)]
        # The new tables are usable straight away.
        with cat.write() as c:
            c.execute("INSERT INTO albums(name, kind, created_at, updated_at) VALUES('trip', 'manual', 0, 0)")
            c.execute("INSERT INTO album_photos VALUES(1, 7, 'manual', NULL, 0)")
        assert cat.conn.execute("SELECT COUNT(*) FROM album_photos").fetchone()[0] == 1


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(CatalogError, match="newer PhotoClip") as info:
        Catalog(path)
    assert str(SCHEMA_VERSION + 5) in str(info.value)
    # Nothing was written to the newer file.
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    assert _tables(conn) == set()
    conn.close()


@pytest.mark.parametrize("content", [b"Shopping list: milk, eggs\n" * 200, bytes(range(256)) * 64])
def test_non_sqlite_file_is_refused_clearly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(content)
    with pytest.raises(CatalogError) as info:
        Catalog(path)
    message = str(info.value)
    assert str(path) in message and "not a database" in message
    assert path.read_bytes() == content  # the foreign file is left exactly as it was


def test_folders_add_absorb_refuse_remove(catalog: Catalog, tmp_path: Path) -> None:
    parent = tmp_path / "photos"
    child = parent / "2023"
    other = tmp_path / "other"
    for d in (child / "deep", other):
        d.mkdir(parents=True)
    (child / "a.jpg").write_bytes(b"x")

    c1 = catalog.add_folder(child)
    pid = add_photo(catalog, c1.id, child / "a.jpg")
    assert catalog.add_folder(child).id == c1.id  # adding twice is a no-op
    with pytest.raises(CatalogError, match="already in the library"):
        catalog.add_folder(child / "deep")

    p = catalog.add_folder(parent)  # the parent absorbs the child and its photos
    assert [f.path for f in catalog.folders()] == [str(parent)]
    assert catalog.photo(pid).folder_id == p.id
    # A sibling whose name merely starts like an existing folder is not "inside" it.
    sibling = tmp_path / "photos-2"
    sibling.mkdir()
    catalog.add_folder(sibling)
    catalog.add_folder(other, polling=True)
    assert catalog.folder_by_path(other).polling
    assert catalog.folder_for_path(str(child / "a.jpg")).id == p.id

    assert catalog.remove_folder(parent) == 1
    assert (child / "a.jpg").read_bytes() == b"x"  # files are never touched
    with pytest.raises(NotFoundError):
        catalog.photo(pid)
    with pytest.raises(NotFoundError):
        catalog.remove_folder(parent)
    assert {f.path for f in catalog.folders()} == {str(sibling), str(other)}


def test_embedding_sequence_bumps_on_write_and_delete(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path)
    a = add_photo(catalog, folder.id, tmp_path / "a.jpg", axis_vector("red"))
    seq_after_a = catalog.model_seq(FakeEmbedder.model_name)
    b = add_photo(catalog, folder.id, tmp_path / "b.jpg", axis_vector("blue"))
    seq_after_b = catalog.model_seq(FakeEmbedder.model_name)
    assert seq_after_b > seq_after_a > 0
    ids, matrix = catalog.vectors(FakeEmbedder.model_name, since_seq=seq_after_a)
    assert ids.tolist() == [b] and matrix.shape == (1, 8)

    # Re-embedding a photo also counts as a write.
    model_id = catalog.model_id(FakeEmbedder.model_name)
    with catalog.write() as c:
        catalog.put_embeddings(c, model_id, [(a, "new", axis_vector("green"))])
    seq_after_update = catalog.model_seq(FakeEmbedder.model_name)
    assert seq_after_update > seq_after_b
    np.testing.assert_allclose(catalog.vector(FakeEmbedder.model_name, a), axis_vector("green"))

    # Deleting a photo deletes its vector through the cascade, and the trigger bumps the sequence.
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (b,))
    assert catalog.model_seq(FakeEmbedder.model_name) > seq_after_update
    assert catalog.embedded_ids(FakeEmbedder.model_name).tolist() == [a]


def test_model_dimension_mismatch_is_refused(catalog: Catalog) -> None:
    catalog.model_id("m", 4)
    with pytest.raises(CatalogError, match="4 dimensions"):
        catalog.model_id("m", 8)
    with pytest.raises(NotFoundError):
        catalog.model_id("unknown")


def test_photos_needing_work_pages_by_id(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path)
    pending = [add_photo(catalog, folder.id, tmp_path / f"p{i:02}.jpg", state="pending") for i in range(7)]
    done = add_photo(catalog, folder.id, tmp_path / "done.jpg", axis_vector("red"))
    stale = add_photo(catalog, folder.id, tmp_path / "stale.jpg", axis_vector("red"))
    with catalog.write() as c:  # content changed after embedding: the vector no longer matches
        c.execute("UPDATE photos SET content_hash='changed' WHERE id=?", (stale,))
    no_vector = add_photo(catalog, folder.id, tmp_path / "meta-only.jpg")
    add_photo(catalog, folder.id, tmp_path / "bad.jpg", state="error")
    add_photo(catalog, folder.id, tmp_path / "gone.jpg", state="missing")

    model = FakeEmbedder.model_name
    expected = [*pending, stale, no_vector]
    seen: list[int] = []
    after = 0
    while page := catalog.photos_needing_work(model, limit=3, after_id=after):
        assert len(page) <= 3
        seen += [p.id for p in page]
        after = page[-1].id
    assert seen == expected
    assert done not in seen
    assert catalog.count_needing_work(model) == len(expected)
    # Without a model only pending photos need reading.
    assert [p.id for p in catalog.photos_needing_work(None)] == pending
    assert catalog.count_needing_work(None) == len(pending)


def test_disk_full_becomes_disk_full_error_and_nothing_is_corrupted(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path)
    kept = [add_photo(catalog, folder.id, tmp_path / f"{i}.jpg", axis_vector("red")) for i in range(5)]
    pages = catalog.conn.execute("PRAGMA page_count").fetchone()[0]
    with catalog.write() as c:  # a limit of the writer connection, the one every write goes through
        c.execute(f"PRAGMA max_page_count={pages + 2}")
    model_id = catalog.model_id(FakeEmbedder.model_name)
    now = time.time()
    with pytest.raises(DiskFullError, match="full"), catalog.write() as c:
        for i in range(2000):
            cur = c.execute(
                "INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, added_at, updated_at) "
                "VALUES(?,?,?,?,?,?,?)", (folder.id, f"{tmp_path}/big-{i}-{'x' * 200}.jpg", 1, 1, "h", now, now))
            catalog.put_embeddings(c, model_id, [(cur.lastrowid, "h", np.ones(512, np.float32))])
    # The failed transaction left nothing behind and the file is sound.
    assert catalog.integrity_ok()
    assert catalog.counts()["photos"] == len(kept)
    assert catalog.embedded_ids(FakeEmbedder.model_name).tolist() == kept
    # Once space is back, writing works again on the same connection.
    with catalog.write() as c:
        c.execute("PRAGMA max_page_count=1073741823")
    add_photo(catalog, folder.id, tmp_path / "after.jpg")
    assert catalog.counts()["photos"] == len(kept) + 1


def test_offline_folder_and_back(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path)
    embedded = add_photo(catalog, folder.id, tmp_path / "a.jpg", axis_vector("red"))
    waiting = add_photo(catalog, folder.id, tmp_path / "b.jpg", state="pending")
    failed = add_photo(catalog, folder.id, tmp_path / "c.jpg", state="error")
    with catalog.write() as c:
        c.execute("UPDATE photos SET error='truncated JPEG' WHERE id=?", (failed,))
    assert catalog.set_folder_state(folder.id, "offline")
    assert not catalog.set_folder_state(folder.id, "offline")  # no change the second time
    assert {p.state for p in catalog.photos([embedded, waiting, failed]).values()} == {"offline"}
    assert catalog.live_ids().tolist() == []
    assert catalog.set_folder_state(folder.id, "ok")
    states = {i: p.state for i, p in catalog.photos([embedded, waiting, failed]).items()}
    assert states == {embedded: "ok", waiting: "pending", failed: "error"}
    assert catalog.errors() == [(str(tmp_path / "c.jpg"), "truncated JPEG")]


def test_closed_catalog_refuses_use(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite3")
    cat.close()
    with pytest.raises(CatalogError, match="closed"):
        cat.folders()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


needs_proc_fd = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to count open files")


@needs_proc_fd
def test_connections_of_finished_threads_are_closed(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path)
    add_photo(catalog, folder.id, tmp_path / "a.jpg")
    before = _open_fds()
    counted: list[int] = []
    for _ in range(50):  # like pool threads that expire, or one enrichment thread per live-sync batch
        thread = threading.Thread(target=lambda: counted.append(catalog.counts()["photos"]))
        thread.start()
        thread.join()
    assert counted == [1] * 50  # every thread really read through its own connection
    # Each connection holds the database and its WAL open; 50 leaked ones would add about 100 files.
    assert _open_fds() - before <= 3
    assert catalog.counts()["photos"] == 1  # the main thread's connection is untouched


@needs_proc_fd
def test_close_closes_connections_of_threads_still_running(tmp_path: Path) -> None:
    before = _open_fds()
    cat = Catalog(tmp_path / "c.sqlite3")
    opened, closed = threading.Event(), threading.Event()
    outcome: dict[str, BaseException] = {}

    def worker() -> None:
        conn = cat.read()
        conn.execute("SELECT COUNT(*) FROM photos").fetchone()
        opened.set()
        closed.wait(10)
        for name, use in (("held", lambda: conn.execute("SELECT 1")), ("fresh", lambda: cat.read())):
            try:
                use()
            except BaseException as exc:  # the test inspects whatever was raised
                outcome[name] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert opened.wait(10)
        cat.close()
        assert _open_fds() <= before  # nothing stays open although the worker thread is alive
    finally:
        closed.set()
        thread.join(10)
    assert isinstance(outcome.get("held"), sqlite3.ProgrammingError)  # its connection was closed under it
    assert isinstance(outcome.get("fresh"), CatalogError) and "closed" in str(outcome["fresh"])
