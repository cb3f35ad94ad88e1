"""Long jobs (index, retag, re-embed, model download) on a worker, with progress and cancel.

A job is a plain core function taking a progress sink and a cancel token. `JobRunner` runs one job
at a time (later ones queue, so two indexing runs never compete for the two cores), re-emits each
`Progress` snapshot as a Qt signal on the GUI thread, and sets the token when the user cancels.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from photoclip.gui.workers import TaskRunner
from photoclip.jobs import CancelToken, Progress, ProgressSink, Skipped

log = logging.getLogger(__name__)

JobFunction = Callable[[ProgressSink, CancelToken], Any]


@dataclass
class Job:
    """One queued or running job; ``skipped`` collects the files it could not handle."""

    label: str
    fn: JobFunction
    token: CancelToken = field(default_factory=CancelToken)
    skipped: list[Skipped] = field(default_factory=list)
    last: Progress | None = None


class _ProgressBridge(QObject):
    """Created on the GUI thread; the worker emits, the slot runs on the GUI thread."""

    progressed = Signal(object)


class JobRunner(QObject):
    """Runs queued jobs one by one and reports on the GUI thread."""

    started = Signal(object)  # Job
    progress = Signal(object, object)  # Job, Progress
    finished = Signal(object, object)  # Job, result
    failed = Signal(object, object)  # Job, exception
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = TaskRunner(max_threads=1, parent=self)
        self._queue: deque[Job] = deque()
        self.current: Job | None = None
        self._bridge = _ProgressBridge(self)
        self._bridge.progressed.connect(self._on_progress)

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self._queue)

    def waiting(self, label: str) -> bool:
        """Whether a job with this label waits to start (a running one may already be past new files)."""
        return any(job.label == label for job in self._queue)

    def submit(self, label: str, fn: JobFunction) -> Job:
        job = Job(label, fn)
        self._queue.append(job)
        if self.current is None:
            self._start_next()
        return job

    def cancel(self) -> None:
        """Cancel the running job and drop the queued ones; the running one stops at its next batch."""
        self._queue.clear()
        if self.current is not None:
            self.current.token.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        return self._tasks.wait(msecs)

    def _start_next(self) -> None:
        if not self._queue:
            self.current = None
            self.idle.emit()
            return
        job = self._queue.popleft()
        self.current = job
        self.started.emit(job)
        bridge = self._bridge

        def sink(p: Progress) -> None:
            bridge.progressed.emit((job, p))

        self._tasks.run(lambda: job.fn(sink, job.token),
                        lambda result: self._done(job, result, None),
                        lambda exc: self._done(job, None, exc))

    @Slot(object)
    def _on_progress(self, payload: tuple[Job, Progress]) -> None:
        job, p = payload
        job.last = p
        if p.last_skipped is not None:
            job.skipped.append(p.last_skipped)
        self.progress.emit(job, p)

    def _done(self, job: Job, result: Any, exc: BaseException | None) -> None:
        if exc is not None:
            log.warning("job %s failed: %s", job.label, exc)
            self.failed.emit(job, exc)
        else:
            self.finished.emit(job, result)
        self.current = None
        self._start_next()
