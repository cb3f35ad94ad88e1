"""Acceptance tests of live sync: real files, real watchdog observers, the fake embedder."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from photoclip.ingest.livesync import LiveSync, SyncReport
from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder

RED, GREEN, BLUE = (220, 10, 10), (10, 220, 10), (10, 10, 220)
FAST = {"quiet": 0.3, "max_wait": 1.0, "stable": 0.3, "root_check": 0.3, "polling_interval": 0.3}


def make_png(path: Path, color: tuple[int, int, int] = RED, size: int = 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), color).save(path)
    return path


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out waiting"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder


@pytest.fixture
def library(tmp_path: Path, photos: Path) -> Iterator[Library]:
    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"), engine_factory=FakeEmbedder)
    lib.settings.auto_tag = False  # tagging has tests of its own; these watch files
    lib.settings.ocr = lib.settings.places = False  # so do words and places
    lib.add_folder(photos)
    yield lib
    lib.close()


@contextmanager
def syncing(library: Library, **kw) -> Iterator[LiveSync]:
    reports: list[SyncReport] = []
    sync = LiveSync(library, on_report=reports.append, **{**FAST, **kw})
    sync.reports = reports  # type: ignore[attr-defined]
    sync.start()
    try:
        wait_for(lambda: sync.ready, timeout=10)
        yield sync
    finally:
        sync.stop()
        assert not sync.running


def state(library: Library, path: Path) -> str | None:
    photo = library.catalog.photo_by_path(str(path))
    return photo.state if photo else None


def top_hit(library: Library, query: str) -> str | None:
    hits = library.search(query, top=5, show_all=True).hits
    return hits[0].path if hits else None


def image_calls(library: Library) -> int:
    return library.engine.image_calls  # type: ignore[attr-defined]


def test_changes_made_while_not_watching_are_picked_up_on_start(library: Library, photos: Path) -> None:
    red = make_png(photos / "red.png", RED)
    blue = make_png(photos / "old" / "blue.png", BLUE)
    with syncing(library) as sync:
        wait_for(lambda: sync.reports)
        assert sync.reports[0].initial and sync.reports[0].added == 2
        assert state(library, red) == state(library, blue) == "ok"
        assert top_hit(library, "blue") == str(blue)
    # Stopped: a removal and an addition happen while nobody watches.
    blue.unlink()
    green = make_png(photos / "green.png", GREEN)
    with syncing(library) as sync:
        wait_for(lambda: sync.reports)
        first = sync.reports[0]
        assert (first.initial, first.added, first.missing) == (True, 1, 1)
        assert state(library, blue) == "missing"
        assert top_hit(library, "green") == str(green)


def test_a_copied_photo_is_searchable_within_five_seconds(library: Library, photos: Path, tmp_path: Path) -> None:
    make_png(photos / "red.png", RED)
    outside = make_png(tmp_path / "camera" / "blue.png", BLUE)
    with syncing(library):
        dest = photos / "blue.png"
        shutil.copy(outside, dest)
        seconds = wait_for(lambda: top_hit(library, "blue") == str(dest), timeout=5.0)
        assert state(library, dest) == "ok"
        assert library.catalog.vector(FakeEmbedder.model_name, library.catalog.photo_by_path(str(dest)).id) is not None
    print(f"copied photo searchable after {seconds:.2f} s")


def test_a_deleted_photo_leaves_the_results_within_five_seconds(library: Library, photos: Path) -> None:
    blue = make_png(photos / "blue.png", BLUE)
    make_png(photos / "red.png", RED)
    with syncing(library) as sync:
        assert top_hit(library, "blue") == str(blue)
        blue.unlink()
        wait_for(lambda: state(library, blue) == "missing", timeout=5.0)
        hits = library.search("blue", top=5, show_all=True).hits
        assert str(blue) not in [h.path for h in hits]
        wait_for(lambda: any(r.missing == 1 for r in sync.reports))  # reported once its batch is finished


def test_slow_words_and_places_never_hold_up_the_watcher(library: Library, photos: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """OCR runs on its own thread: while it is busy, new and deleted photos still arrive in seconds."""
    busy = threading.Event()

    def slow_enrich(**_kw: object) -> None:
        busy.set()
        time.sleep(4.0)  # a long OCR stage

    monkeypatch.setattr(library, "enrich", slow_enrich)
    blue = make_png(photos / "blue.png", BLUE)
    with syncing(library):
        wait_for(busy.is_set, timeout=5.0)
        green = make_png(photos / "green.png", GREEN)
        wait_for(lambda: state(library, green) == "ok", timeout=3.5)
        blue.unlink()
        wait_for(lambda: state(library, blue) == "missing", timeout=3.5)


def test_a_renamed_photo_keeps_its_id_tags_and_vector(library: Library, photos: Path) -> None:
    old = make_png(photos / "IMG_0001.png", GREEN)
    with syncing(library) as sync:
        photo_id = library.catalog.photo_by_path(str(old)).id
        with library.catalog.write() as c:
            c.execute("INSERT INTO tags(name, created_at) VALUES('garden', 0)")
            c.execute("INSERT INTO photo_tags(photo_id, tag_id, source, updated_at) "
                      "SELECT ?, id, 'manual', 0 FROM tags WHERE name='garden'", (photo_id,))
        calls = image_calls(library)
        new = photos / "holiday" / "garden.png"
        new.parent.mkdir()
        old.rename(new)
        wait_for(lambda: library.catalog.photo_by_path(str(new)) is not None, timeout=5.0)
        moved = library.catalog.photo_by_path(str(new))
        assert moved.id == photo_id and moved.state == "ok"
        assert library.catalog.photo_by_path(str(old)) is None
        tags = library.catalog.conn.execute("SELECT COUNT(*) FROM photo_tags WHERE photo_id=?", (photo_id,))
        assert tags.fetchone()[0] == 1
        assert sync.wait_idle(timeout=5.0)  # every change it saw handled, the index run after it included
        assert image_calls(library) == calls  # the vector followed the photo: nothing re-embedded


def test_a_folder_renamed_away_goes_offline_and_comes_back(library: Library, photos: Path,
                                                           tmp_path: Path) -> None:
    red = make_png(photos / "red.png", RED)
    with syncing(library):
        photos.rename(tmp_path / "unplugged")
        wait_for(lambda: state(library, red) == "offline", timeout=5.0)
        assert library.catalog.folders()[0].state == "offline"
        assert top_hit(library, "red") is None
        (tmp_path / "unplugged").rename(photos)
        wait_for(lambda: state(library, red) == "ok", timeout=5.0)
        assert library.catalog.folders()[0].state == "ok"
        assert top_hit(library, "red") == str(red)
        # Watched again after coming back:
        blue = make_png(photos / "blue.png", BLUE)
        wait_for(lambda: state(library, blue) == "ok", timeout=5.0)


def test_a_slowly_written_file_is_embedded_once_when_complete(library: Library, photos: Path,
                                                              tmp_path: Path) -> None:
    source = make_png(tmp_path / "big.png", BLUE, size=256)
    data = source.read_bytes()
    with syncing(library) as sync:
        calls = image_calls(library)
        dest = photos / "import.png"
        chunks = 6
        step = len(data) // chunks + 1
        with open(dest, "wb") as f:
            for i in range(chunks):
                f.write(data[i * step:(i + 1) * step])
                f.flush()
                time.sleep(0.25)  # 1.5 s in all, like a slow card reader
        wait_for(lambda: state(library, dest) == "ok", timeout=5.0)
        assert sync.wait_idle(timeout=5.0, settle=0.8)
        assert image_calls(library) == calls + 1
        assert library.catalog.photo_by_path(str(dest)).size == len(data)
        assert top_hit(library, "blue") == str(dest)


def test_bad_files_are_recorded_and_do_not_stop_watching(library: Library, photos: Path) -> None:
    with syncing(library):
        broken = photos / "broken.jpg"
        broken.write_bytes(b"this is not a jpeg at all" * 10)
        wait_for(lambda: state(library, broken) == "error", timeout=5.0)
        assert library.catalog.photo_by_path(str(broken)).error
        good = make_png(photos / "good.png", RED)
        wait_for(lambda: state(library, good) == "ok", timeout=5.0)


def test_without_a_model_the_catalog_stays_current(tmp_path: Path, photos: Path) -> None:
    lib = Library(tmp_path / "lib2", Catalog(tmp_path / "lib2" / "catalog.sqlite3"))
    lib.add_folder(photos)
    assert not lib.has_model
    try:
        with syncing(lib) as sync:
            photo = make_png(photos / "red.png", RED)
            # Read (size, date, errors) even without a model, but never embedded.
            wait_for(lambda: state(lib, photo) == "ok", timeout=5.0)
            wait_for(lambda: any(r.added for r in sync.reports))
            assert all(r.embedding_skipped for r in sync.reports if r.added)
            assert lib.catalog.embedded_counts() == {}
            photo.unlink()
            wait_for(lambda: state(lib, photo) == "missing", timeout=5.0)
    finally:
        lib.close()


def test_a_polling_folder_is_kept_current(library: Library, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    library.add_folder(share, polling=True)
    with syncing(library) as sync:
        assert sync.watcher.modes()[str(share)] == "polling"
        photo = make_png(share / "red.png", RED)
        wait_for(lambda: state(library, photo) == "ok", timeout=5.0)


def test_a_folder_added_while_watching_is_scanned_and_watched(library: Library, tmp_path: Path) -> None:
    later = tmp_path / "later"
    existing = make_png(later / "blue.png", BLUE)
    with syncing(library) as sync:
        library.add_folder(later)
        wait_for(lambda: state(library, existing) == "ok", timeout=5.0)
        wait_for(lambda: str(later) in sync.watcher.modes())
        photo = make_png(later / "green.png", GREEN)
        wait_for(lambda: state(library, photo) == "ok", timeout=5.0)


@pytest.mark.slow
def test_a_memory_card_of_2000_photos_arrives_in_batches(library: Library, photos: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    card = tmp_path / "card"
    card.mkdir()
    for i in range(2000):
        Image.new("RGB", (8, 8), (i % 256, (i // 256) * 30, 100)).save(card / f"IMG_{i:04}.png")
    library.settings.batch_size = 32
    writes = 0
    real_write = library.catalog.write

    def counting_write():
        nonlocal writes
        writes += 1
        return real_write()

    with syncing(library) as sync:
        monkeypatch.setattr(library.catalog, "write", counting_write)
        calls = image_calls(library)
        started = time.monotonic()
        shutil.copytree(card, photos / "DCIM")
        wait_for(lambda: library.catalog.counts()["ok"] == 2000, timeout=90)
        seconds = time.monotonic() - started
        assert sync.wait_idle(timeout=10, settle=1.0)
        assert image_calls(library) - calls == 2000  # each photo embedded exactly once
        assert library.catalog.counts()["photos"] == 2000
        assert sync.stats.events >= 2000
        assert sync.stats.batches <= 30
        assert writes < 200  # batched: nowhere near one write per event
    print(f"2000 photos: {seconds:.1f} s, {sync.stats.batches} batches, {sync.stats.events} events, "
          f"{writes} write transactions")


def test_watch_command_prints_a_line_per_batch(tmp_path: Path, photos: Path) -> None:
    library_dir = tmp_path / "cli-lib"
    with Catalog(library_dir / "catalog.sqlite3") as catalog:
        catalog.add_folder(photos)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "PHOTOCLIP_MODELS": str(tmp_path / "no-models")}
    proc = subprocess.Popen([sys.executable, "-m", "photoclip", "--library", str(library_dir), "watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 20
        line = proc.stdout.readline()  # the start-up reconcile
        assert "start-up scan" in line
        make_png(photos / "new.png", RED)
        line = proc.stdout.readline()
        assert "1 added" in line and "not embedded" in line
        assert time.monotonic() < deadline
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_files_whose_events_the_kernel_dropped_are_found_by_a_rescan(library: Library, photos: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The inotify queue overflows (an archive unpacked into the folder): the lost files still arrive.

    The overflow is noticed from the kernel's event itself, not from watchdog's log: here all logging
    is off, as an application may well have it.
    """
    from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent

    from photoclip.ingest import watcher as watcher_module

    with syncing(library) as sync:
        wait_for(lambda: sync.reports)
        assert sync.watcher.modes() == {str(photos): "native"}
        # Events for these files are lost, as the kernel would lose them.
        monkeypatch.setattr(watcher_module._EventHandler, "dispatch", lambda self, event: None)
        lost = [make_png(photos / "unpacked" / f"lost{i}.png", GREEN) for i in range(3)]
        assert sync.wait_idle(timeout=5.0) and all(state(library, p) is None for p in lost)
        monkeypatch.undo()
        logging.disable(logging.CRITICAL)
        try:
            # What the kernel hands the observer's inotify reader when its queue overflowed.
            reader = sync.watcher._watches[str(photos)].observer._inotify_fd  # type: ignore[union-attr]
            reader.handle_event(InotifyEvent(-1, InotifyConstants.IN_Q_OVERFLOW, 0, b""))
            wait_for(lambda: all(state(library, p) == "ok" for p in lost), timeout=10)
        finally:
            logging.disable(logging.NOTSET)
        assert sync.watcher.overflows == 1


def test_importing_the_watcher_changes_no_logging(tmp_path: Path) -> None:
    code = ("import logging; before = {n: (l.level, list(l.handlers)) for n, l in logging.root.manager.loggerDict"
            ".items() if isinstance(l, logging.Logger)}; import photoclip.ingest.watcher; after = {n: (l.level, "
            "list(l.handlers)) for n, l in logging.root.manager.loggerDict.items() if isinstance(l, logging.Logger)};"
            " changed = {n for n in after if n in before and after[n] != before[n]} | "
            "{n for n in after if n not in before and (after[n][0] or after[n][1])}; print(sorted(changed))")
    out = subprocess.run([sys.executable, "-c", "import watchdog.observers.inotify_c\n" + code],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _stuck_first_scan(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event,
                                                                 list[threading.Thread]]:
    """The first rescan hangs (a slow drive, deaf to cancel) until released; later ones wait for it to end.

    Returns (entered, release, callers). Making later rescans wait for the first caller's thread turns
    "a restarted worker overlaps the old one" from a timing accident into a certainty.
    """
    from photoclip.ingest import livesync

    entered, release = threading.Event(), threading.Event()
    callers: list[threading.Thread] = []
    real_scan = livesync.scan

    def scan(*args: object, **kwargs: object) -> object:
        callers.append(threading.current_thread())
        if len(callers) == 1:
            entered.set()
            release.wait(30)
        else:
            callers[0].join(10)
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(livesync, "scan", scan)
    return entered, release, callers


@contextmanager
def _stop_timed_out(library: Library, monkeypatch: pytest.MonkeyPatch
                    ) -> Iterator[tuple[LiveSync, threading.Event, list[threading.Thread]]]:
    """Live sync whose stop gave up while its worker hangs in the first rescan; cleaned up after."""
    entered, release, callers = _stuck_first_scan(monkeypatch)
    sync = LiveSync(library, **FAST)
    sync.start()
    try:
        assert entered.wait(10)
        sync.stop(timeout=0.05)  # gives up: the old worker is still in its rescan
        yield sync, release, callers
    finally:
        release.set()
        sync.stop()
    assert not sync.running


def test_a_restart_after_a_stop_that_timed_out_keeps_watching(library: Library, photos: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The old worker, ending late, must not stop the watcher the new worker is using."""
    with _stop_timed_out(library, monkeypatch) as (sync, release, callers):
        old = callers[0]
        assert old.is_alive()
        threading.Timer(0.3, release.set).start()  # the drive answers a moment later
        sync.start()
        wait_for(lambda: sync.ready, timeout=10)
        assert not old.is_alive()
        green = make_png(photos / "green.png", GREEN)
        wait_for(lambda: state(library, green) == "ok", timeout=5.0)


def test_a_restart_is_refused_while_the_old_worker_will_not_end(library: Library, photos: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from photoclip.errors import PhotoClipError

    with _stop_timed_out(library, monkeypatch) as (sync, release, callers):
        with pytest.raises(PhotoClipError, match="still finishing"):
            sync.start(timeout=0.2)
        assert not sync.running and len(callers) == 1  # no second worker was started
        release.set()
        sync.start()  # once the old worker has ended, watching starts again
        wait_for(lambda: sync.ready, timeout=10)
        assert len(callers) == 2


def test_a_request_for_words_and_places_made_as_the_enricher_ends_is_served(library: Library, photos: Path,
                                                                              monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    """The enricher has seen no more work and is ending when a batch asks for enrichment: it still runs."""
    import types

    from photoclip.ingest import livesync

    runs: list[int] = []
    monkeypatch.setattr(library, "enrich", lambda **_kw: runs.append(1))
    ending, go_on = threading.Event(), threading.Event()

    class PausingAtEnd(threading.Thread):
        """Holds the first enricher between its last look for work and its end."""

        def run(self) -> None:
            super().run()
            if self.name == "photoclip-enrich" and not ending.is_set():
                ending.set()
                go_on.wait(10)

    monkeypatch.setattr(livesync, "threading", types.SimpleNamespace(**{**vars(threading), "Thread": PausingAtEnd}))
    try:
        with syncing(library) as sync:
            assert ending.wait(10)  # the start-up pass has been enriched; its enricher is ending
            runs_before = len(runs)
            make_png(photos / "green.png", GREEN)
            wait_for(lambda: any(r.added for r in sync.reports if not r.initial), timeout=5.0)  # enrichment asked
            go_on.set()
            wait_for(lambda: len(runs) > runs_before, timeout=5.0)
    finally:
        go_on.set()


CHURN = r"""
import os, sys
root, staged = sys.argv[1], sys.argv[2]
blobs = [open(os.path.join(staged, n), "rb").read() for n in sorted(os.listdir(staged))]
noise = [os.path.join(root, "noise-a.txt"), os.path.join(root, "noise-b.txt")]
fds = [os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND) for p in noise]

def flood(n):  # alternating writes: the kernel merges only identical consecutive events
    for i in range(n):
        os.write(fds[i % 2], b"x")

def put(path, i):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blobs[i % len(blobs)])

n = 0
flood(40000)  # far past the kernel's queue of 16384 events while the reader cannot run
for rnd in range(12):  # then creates, renames, moves, folder renames and deletes, with more floods
    base = os.path.join(root, f"r{rnd}")
    made = []
    for d in range(4):
        for j in range(8):
            path = os.path.join(base, f"d{d}", f"p{j}.png")
            put(path, n)
            n += 1
            made.append(path)
    flood(30000)
    for path in made[:6]:
        os.rename(path, path[:-4] + "-renamed.png")
    os.makedirs(os.path.join(root, "moved"), exist_ok=True)
    for path in made[6:10]:
        os.rename(path, os.path.join(root, "moved", f"{rnd}-{os.path.basename(path)}"))
    os.rename(os.path.join(base, "d3"), os.path.join(base, "d3-renamed"))
    for path in made[10:14]:
        os.unlink(path)
    flood(20000)
print("done", flush=True)
"""


def disk_photos(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*.png")}


def catalog_photos(library: Library) -> set[str]:
    return {p.path for p in library.catalog.photos_with_state("ok", "pending")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_after_a_real_inotify_overflow_the_catalog_converges_on_the_disk(library: Library, photos: Path,
                                                                         tmp_path: Path) -> None:
    """A storm that overflows the kernel's inotify queue while files keep changing (creates, renames, moves,
    folder renames, deletes): once it is over, the catalog holds exactly the photos on disk."""
    staged = tmp_path / "staged"
    for i in range(16):
        make_png(staged / f"{i:02}.png", (i * 15, 255 - i * 15, (i * 40) % 256))
    reports: list[SyncReport] = []
    arrived = threading.Condition()

    def on_report(report: SyncReport) -> None:
        with arrived:
            reports.append(report)
            arrived.notify_all()

    sync = LiveSync(library, on_report=on_report, **FAST)
    sync.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: reports, timeout=15), "the first scan never reported"
        assert sync.watcher.modes() == {str(photos): "native"}
        churn = subprocess.Popen([sys.executable, "-c", CHURN, str(photos), str(staged)],
                                 stdout=subprocess.PIPE, text=True)
        # Keep the watcher's reader thread from running while the churn starts, so the queue overflows
        # for certain: a long switch interval and a pure-Python loop hold the interpreter lock.
        previous = sys.getswitchinterval()
        sys.setswitchinterval(5.0)
        try:
            until = time.monotonic() + 0.5
            while time.monotonic() < until:
                pass
        finally:
            sys.setswitchinterval(previous)
        assert churn.stdout is not None and churn.stdout.readline().strip() == "done"
        churn.wait(30)
        expected = disk_photos(photos)
        assert len(expected) > 100
        with arrived:
            # Event-driven: re-checked at each report; the long bound only matters on a loaded machine.
            converged = arrived.wait_for(lambda: catalog_photos(library) == expected, timeout=120)
        missing = expected - catalog_photos(library)
        extra = catalog_photos(library) - expected
        states = {p: (ph.state, ph.error) if (ph := library.catalog.photo_by_path(p)) else None for p in missing}
        assert converged, f"{len(missing)} photos on disk not in the catalog, {len(extra)} gone but listed: {states}"
        assert sync.watcher.overflows >= 1, "the kernel queue did not overflow"
    finally:
        sync.stop()


def test_photos_embedded_reach_a_loaded_index_before_the_next_search(library: Library, photos: Path) -> None:
    """The index run brings the app's loaded vector index up to date itself: the next search finds it current."""
    make_png(photos / "red.png", RED)
    library.index(enrich=False)
    index = library.searcher.index
    index.sync()
    before = index.stats().count
    make_png(photos / "green.png", GREEN)
    library.index(enrich=False)
    assert index.stats().count == before + 1  # no search ran in between
