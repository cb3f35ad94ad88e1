"""The catalog's one writer: every thread's writes go through one connection, in the order they asked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from photoclip.errors import CatalogError
from photoclip.store.catalog import Catalog
from photoclip.store.writer import WriteTurns


@pytest.fixture
def catalog(tmp_path: Path):
    cat = Catalog(tmp_path / "catalog.db")
    yield cat
    cat.close()


def test_every_thread_writes_through_one_connection(catalog: Catalog) -> None:
    seen: set[int] = set()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(50):
                with catalog.write() as conn:
                    seen.add(id(conn))
                    conn.execute("INSERT INTO meta(key, value) VALUES(?, ?)", (f"t{n}-{i}", "x"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen) == 1
    assert catalog.read().execute("SELECT COUNT(*) FROM meta WHERE key LIKE 't%'").fetchone()[0] == 200


def test_an_edit_waits_for_the_running_batch_transaction_only(catalog: Catalog) -> None:
    """A batch that writes transaction after transaction cannot starve a person's edit: the edit gets the
    writer right after the transaction that was running when it asked."""
    stop = threading.Event()
    in_batch = threading.Event()
    commits = 0

    def batch() -> None:
        nonlocal commits
        while not stop.is_set():
            with catalog.write() as conn:
                in_batch.set()
                conn.execute("INSERT INTO meta(key, value) VALUES('batch', ?) "
                             "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(commits),))
                time.sleep(0.02)  # the work of one chunk
            commits += 1

    worker = threading.Thread(target=batch)
    worker.start()
    try:
        assert in_batch.wait(5)
        waits = []
        for i in range(10):
            before = commits
            with catalog.write() as conn:
                waits.append(commits - before)
                conn.execute("INSERT INTO meta(key, value) VALUES(?, 'edit')", (f"edit{i}",))
    finally:
        stop.set()
        worker.join()
    assert max(waits) <= 1, waits
    assert catalog.read().execute("SELECT COUNT(*) FROM meta WHERE value='edit'").fetchone()[0] == 10


def test_reads_inside_a_write_see_the_write(catalog: Catalog) -> None:
    with catalog.write() as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES('k', 'v')")
        assert catalog.get_meta("k") == "v"
    other: list[str | None] = []
    with catalog.write() as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES('k2', 'v2')")
        reader = threading.Thread(target=lambda: other.append(catalog.get_meta("k2")))
        reader.start()
        reader.join()
    assert other == [None]  # another thread does not see an uncommitted write
    assert catalog.get_meta("k2") == "v2"


def test_a_write_inside_a_write_is_an_error_not_a_hang(catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="inside another write"), catalog.write(), catalog.write():
        pass
    catalog.set_meta("after", "ok")  # the turn was given back
    assert catalog.get_meta("after") == "ok"


def test_a_failed_write_rolls_back_and_frees_the_writer(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.write() as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES('gone', 'x')")
        raise RuntimeError("boom")
    assert catalog.get_meta("gone") is None
    done = threading.Event()
    threading.Thread(target=lambda: (catalog.set_meta("next", "y"), done.set())).start()
    assert done.wait(5)


def test_turns_are_served_in_order_and_time_out() -> None:
    turns = WriteTurns()
    turns.acquire(1)
    order: list[int] = []
    queued = threading.Semaphore(0)

    def wait_turn(n: int) -> None:
        queued.release()
        turns.acquire(10)
        order.append(n)
        turns.release()

    threads = []
    for n in range(5):
        t = threading.Thread(target=wait_turn, args=(n,))
        t.start()
        queued.acquire()
        while len(turns._waiting) < n + 1:  # the thread is in the queue
            time.sleep(0.001)
        threads.append(t)
    late: list[BaseException] = []

    def give_up() -> None:
        try:
            turns.acquire(0.05)
        except CatalogError as exc:
            late.append(exc)

    impatient = threading.Thread(target=give_up)
    impatient.start()
    impatient.join()
    assert late and "busy" in str(late[0])
    turns.release()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]


def test_closing_closes_the_writer(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.db")
    cat.set_meta("a", "b")
    cat.close()
    with pytest.raises(CatalogError, match="closed"):
        cat.set_meta("c", "d")
