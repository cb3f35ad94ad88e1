"""One progress-and-cancel interface for every long job of the core.

A job (scan, index, tag, rebuild) is plain Python that takes a ``ProgressSink`` and a
``CancelToken``. The CLI feeds a tqdm bar from the sink and sets the token on Ctrl-C; the GUI runs
the same job on a worker thread, turns progress into a Qt signal and sets the token from a Cancel
button. Progress is data, never UI text, so both front ends can render it their own way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised inside a job when its token was cancelled; the job keeps what it committed."""


class CancelToken:
    """A thread-safe flag a job checks between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True early if cancelled meanwhile."""
        return self._event.wait(seconds)


@dataclass(frozen=True)
class Skipped:
    """A file the job could not handle, with the reason recorded for it."""

    path: str
    reason: str


@dataclass
class Progress:
    """A snapshot of a job: ``total`` is None while it is still unknown."""

    phase: str
    done: int = 0
    total: int | None = None
    skipped: int = 0
    rate: float | None = None  # items per second over the phase so far
    eta: float | None = None  # seconds left, when total and rate are known
    current: str | None = None  # the item being worked on, for display
    last_skipped: Skipped | None = None


ProgressSink = Callable[[Progress], None]


def null_sink(_: Progress) -> None:
    """A sink that ignores progress, for callers that do not show any."""


@dataclass
class ProgressTracker:
    """Builds ``Progress`` snapshots for one phase and throttles them to about 10 per second."""

    sink: ProgressSink
    phase: str
    total: int | None = None
    interval: float = 0.1
    done: int = 0
    skipped: int = 0
    _start: float = field(default_factory=time.monotonic)
    _last_emit: float = 0.0

    def advance(self, n: int = 1, *, current: str | None = None, skipped: Skipped | None = None) -> None:
        self.done += n
        if skipped is not None:
            self.skipped += 1
        now = time.monotonic()
        if skipped is not None or now - self._last_emit >= self.interval:
            self.emit(current=current, last_skipped=skipped, now=now)

    def emit(self, *, current: str | None = None, last_skipped: Skipped | None = None,
             now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._last_emit = now
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 and self.done else None
        eta = None
        if rate and self.total is not None:
            eta = max(0.0, (self.total - self.done) / rate)
        self.sink(Progress(self.phase, self.done, self.total, self.skipped, rate, eta, current, last_skipped))
