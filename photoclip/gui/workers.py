"""Running work off the GUI thread, and getting the answer back onto it.

Every screen uses `TaskRunner.run(fn, on_result, on_error)`: ``fn`` runs on a pool thread and never
touches a widget; the callbacks run on the GUI thread. Delivery goes through a small QObject that
lives on the GUI thread, so Qt queues the call across threads instead of running it on the worker.
`Latest` drops stale answers: when a newer search starts, the older one's result is ignored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _Delivery(QObject):
    """Lives on the GUI thread; the worker emits ``done`` and Qt queues the slot call to this thread."""

    done = Signal(bool, object)

    def __init__(self, runner: TaskRunner, on_result: ResultCallback | None,
                 on_error: ErrorCallback | None) -> None:
        super().__init__(runner)
        self._runner = runner
        self._on_result = on_result
        self._on_error = on_error
        self.done.connect(self._deliver)

    @Slot(bool, object)
    def _deliver(self, ok: bool, value: object) -> None:
        try:
            if ok and self._on_result is not None:
                self._on_result(value)
            elif not ok:
                if self._on_error is not None:
                    self._on_error(value)  # type: ignore[arg-type]
                else:
                    log.error("background task failed", exc_info=value)  # type: ignore[arg-type]
        finally:
            self._runner._finished(self)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], delivery: _Delivery) -> None:
        super().__init__()
        self._fn = fn
        self._delivery = delivery

    def run(self) -> None:
        try:
            value = self._fn()
        except BaseException as exc:  # delivered to the GUI thread, never lost
            self._delivery.done.emit(False, exc)
        else:
            self._delivery.done.emit(True, value)


class TaskRunner(QObject):
    """Runs callables on its own thread pool and delivers results on the GUI thread."""

    def __init__(self, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._pending: set[_Delivery] = set()
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], Any], on_result: ResultCallback | None = None,
            on_error: ErrorCallback | None = None) -> None:
        delivery = _Delivery(self, on_result, on_error)
        with self._lock:
            self._pending.add(delivery)
        self.pool.start(_Task(fn, delivery))

    def _finished(self, delivery: _Delivery) -> None:
        with self._lock:
            self._pending.discard(delivery)
        delivery.deleteLater()

    @property
    def busy(self) -> bool:
        """True while a task runs or its answer has not been delivered yet."""
        with self._lock:
            return bool(self._pending)

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until the pool is idle (for shutdown and tests); True when it is."""
        return self.pool.waitForDone(msecs)


class Latest:
    """Hands out tickets; only the newest ticket's answer is still wanted."""

    def __init__(self) -> None:
        self._generation = 0

    def next(self) -> int:
        self._generation += 1
        return self._generation

    def is_current(self, ticket: int) -> bool:
        return ticket == self._generation
