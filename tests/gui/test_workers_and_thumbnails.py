"""The off-thread helpers: results and errors come back on the GUI thread; thumbnails are cached."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThread

from photoclip.errors import DecodeError
from photoclip.gui import thumbnails
from photoclip.gui.job_runner import JobRunner
from photoclip.gui.workers import Latest, TaskRunner
from photoclip.jobs import ProgressTracker
from tests.gui.conftest import make_photos


def test_task_results_and_errors_arrive_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner(parent=QCoreApplication.instance())
    gui_thread = QThread.currentThread()
    seen: list[tuple[str, object, bool]] = []
    worker_threads: list[int] = []

    def work() -> int:
        worker_threads.append(threading.get_ident())
        return 42

    def fail() -> None:
        raise DecodeError("broken file")

    runner.run(work, lambda v: seen.append(("ok", v, QThread.currentThread() is gui_thread)))
    runner.run(fail, None, lambda e: seen.append(("error", str(e), QThread.currentThread() is gui_thread)))
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert sorted(seen) == [("error", "broken file", True), ("ok", 42, True)]
    assert worker_threads and worker_threads[0] != threading.get_ident()
    qtbot.waitUntil(lambda: not runner.busy)
    assert runner.wait(1000)


def test_latest_only_keeps_the_newest_ticket() -> None:
    latest = Latest()
    first = latest.next()
    second = latest.next()
    assert not latest.is_current(first)
    assert latest.is_current(second)


def test_job_runner_reports_progress_and_runs_jobs_one_at_a_time(qtbot) -> None:
    jobs = JobRunner(QCoreApplication.instance())  # lives as long as the app, like the window's
    running = threading.Lock()
    overlaps: list[bool] = []
    progress: list[tuple[str, int]] = []
    jobs.progress.connect(lambda job, p: progress.append((job.label, p.done)))

    def job(sink, token):  # type: ignore[no-untyped-def]
        overlaps.append(not running.acquire(blocking=False))
        tracker = ProgressTracker(sink, "index", total=3, interval=0)
        for _ in range(3):
            tracker.advance()
        running.release()
        return token.cancelled

    with qtbot.waitSignal(jobs.idle, timeout=5000):
        jobs.submit("one", job)
        jobs.submit("two", job)
    assert overlaps == [False, False]
    assert ("one", 3) in progress and ("two", 3) in progress
    assert progress.index(("one", 3)) < progress.index(("two", 1))
    assert jobs.wait(1000)


def test_thumbnails_are_cached_on_disk_by_content_hash(qtbot, tmp_path: Path, monkeypatch) -> None:
    photo = make_photos(tmp_path / "p", {"red": (200, 10, 10)})["red"]
    cache = tmp_path / "thumbs"
    loader = thumbnails.ThumbnailLoader(cache, parent=QCoreApplication.instance())
    assert loader.pixmap("abc123", str(photo)) is None
    with qtbot.waitSignal(loader.ready, timeout=5000):
        pass
    pm = loader.pixmap("abc123", str(photo))
    assert pm is not None and max(pm.width(), pm.height()) == 64
    assert thumbnails.cache_path(cache, "abc123").is_file()
    assert loader.wait(1000)

    def no_decoding(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("a cached thumbnail must not be decoded again")

    monkeypatch.setattr(thumbnails.imaging, "thumbnail", no_decoding)
    fresh = thumbnails.ThumbnailLoader(cache, parent=QCoreApplication.instance())
    fresh.pixmap("abc123", "/moved/elsewhere.jpg")
    qtbot.waitUntil(lambda: fresh.pixmap("abc123", "/moved/elsewhere.jpg") is not None, timeout=5000)
    assert fresh.wait(1000)


def test_unreadable_photo_is_marked_failed_not_retried(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    loader = thumbnails.ThumbnailLoader(tmp_path / "thumbs", parent=QCoreApplication.instance())
    loader.pixmap("bad", str(bad))
    qtbot.waitUntil(lambda: loader.failed("bad"), timeout=5000)
    assert loader.pixmap("bad", str(bad)) is None
    assert loader.wait(1000)


@pytest.mark.parametrize("limit_files", [2])
def test_prune_cache_removes_oldest_first(tmp_path: Path, limit_files: int) -> None:
    import os

    files = []
    for i in range(4):
        p = thumbnails.cache_path(tmp_path, f"h{i}")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * 100)
        os.utime(p, (1000 + i, 1000 + i))
        files.append(p)
    removed = thumbnails.prune_cache(tmp_path, limit_files * 100)
    assert removed == 2
    assert [p.exists() for p in files] == [False, False, True, True]
