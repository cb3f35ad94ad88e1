"""Keeping the library current from the window: indexing runs, their progress, and folder watching.

Indexing runs as a job (`JobRunner`), shown in the status bar and as a line in the sidebar, and
the thumbnail loader steps down to one thread meanwhile so decoding for the index and for the grid
do not fight over two cores. `LiveSync` watches the folders on a thread of its own; it must stop
before the library closes, which `stop` guarantees.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from photoclip.gui.indexing_status import describe, percent
from photoclip.gui.job_runner import Job
from photoclip.jobs import Progress

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow
    from photoclip.ingest.livesync import LiveSync

log = logging.getLogger(__name__)

INDEXING = "Indexing"
THUMB_THREADS, THUMB_THREADS_WHILE_INDEXING = 2, 1


def finished_note(run: Any) -> str:
    """What an indexing run did, in a few words; "up to date" when it found nothing to do."""
    scan, embed = getattr(run, "scan", None), getattr(run, "embed", None)
    embedded = embed.embedded if embed is not None else 0
    if scan is not None and not scan.touched and not embedded:
        return "Everything is up to date"
    parts = []
    if scan is not None and scan.added:
        parts.append(f"{scan.added:,} new photo{'s' if scan.added != 1 else ''}")
    if embedded:
        parts.append(f"{embedded:,} indexed")
    return "Indexing finished" + (": " + ", ".join(parts) if parts else "")


class IndexingController(QObject):
    """Starts and reports jobs; ``indexed`` fires after each indexing run (finished or stopped)."""

    indexed = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.live: LiveSync | None = None
        jobs = window.jobs
        jobs.started.connect(self._on_started)
        jobs.progress.connect(self._on_progress)
        jobs.finished.connect(self._on_finished)
        jobs.failed.connect(self._on_failed)
        jobs.idle.connect(self._on_idle)
        window.status.cancel_button.clicked.connect(self.cancel)

    def start_indexing(self) -> Job | None:
        """Index (scan, read, embed, tag) in the background; a run already waiting is enough."""
        if self.w.jobs.waiting(INDEXING):
            return None
        library = self.w.library
        return self.w.jobs.submit(INDEXING, lambda sink, token: library.index(progress=sink, cancel=token))

    def cancel(self) -> None:
        if self.w.jobs.busy:
            self.w.status.set_cancelling()
            self.w.jobs.cancel()

    def _on_started(self, job: Job) -> None:
        self.w.status.set_running(job.label)
        self.w.sidebar.set_activity(f"{job.label}\u2026")
        self.w.loader.set_threads(THUMB_THREADS_WHILE_INDEXING)

    def _on_progress(self, job: Job, p: Progress) -> None:
        if not job.token.cancelled:
            self.w.status.set_progress(job.label, p)
            self.w.sidebar.set_activity(describe(job.label, p, short=True), percent(p))
        if p.last_skipped is not None:
            self.w.problems.add_problem(p.last_skipped.path, p.last_skipped.reason)
            self.w.update_problems_button()

    def _on_idle(self) -> None:
        self.w.status.set_idle()
        self.w.sidebar.set_activity(None)
        self.w.loader.set_threads(THUMB_THREADS)

    def _on_finished(self, job: Job, result: Any) -> None:
        if job.label == INDEXING:
            note = "Indexing stopped; what was done is kept" if job.token.cancelled else finished_note(result)
            self.w.statusBar().showMessage(note, 6000)
            self.indexed.emit()

    def _on_failed(self, job: Job, exc: BaseException) -> None:
        self.w.statusBar().showMessage(f"{job.label} failed: {exc}", 15000)
        if job.label == INDEXING:
            QMessageBox.warning(self.w, "Indexing stopped", str(exc))
            self.indexed.emit()

    # -- watching folders -------------------------------------------------------------------

    def start_live_sync(self) -> None:
        """Keep results current while the app runs: new, changed and deleted files show up alone."""
        if self.live is not None:
            return
        from photoclip.ingest.livesync import LiveSync

        try:
            self.live = LiveSync(self.w.library)
            self.live.start()
        except Exception as exc:  # the app still works without watching; say so
            log.warning("cannot watch folders: %s", exc)
            self.w.statusBar().showMessage(f"Folders are not watched for changes: {exc}", 10000)
            self.live = None

    def stop(self) -> None:
        """Stop the watcher, then any job; returns once both have let go of the library."""
        live, self.live = self.live, None
        if live is not None:
            try:
                live.stop()
            except Exception:
                log.exception("stopping the folder watcher failed")
        self.w.jobs.cancel()
        self.w.jobs.wait()
