"""The catalog's one writer: every write of a process goes through one connection, one transaction at a time.

SQLite lets a single writer in at a time anyway; with a connection per thread, writers of one process met
at SQLite's file lock and polled its busy handler, in no particular order, and a long batch could starve a
person's edit. Here they queue in the order they asked: a tag edit waits at most for the batch transaction
already running (batches commit in small chunks), never behind writers that came after it. Writers in other
processes still meet at the file lock (``BEGIN IMMEDIATE`` with a busy timeout).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from photoclip.errors import CatalogError


class WriteTurns:
    """A first-come, first-served lock with a timeout: the order writers of one process get the connection."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._waiting: deque[object] = deque()
        self._owner: int | None = None

    @property
    def held_here(self) -> bool:
        """Whether the calling thread holds the turn (a write inside a write would wait for itself)."""
        return self._owner == threading.get_ident()

    def acquire(self, timeout: float) -> None:
        me = threading.get_ident()
        ticket = object()
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._owner == me:
                raise CatalogError("a catalog write was started inside another write of the same thread")
            self._waiting.append(ticket)
            while self._owner is not None or self._waiting[0] is not ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._waiting.remove(ticket)
                    self._cond.notify_all()  # the next in line may be free to go now
                    raise CatalogError("the catalog is busy: another write of this program did not finish "
                                       f"within {timeout:.0f} s")
                self._cond.wait(remaining)
            self._waiting.popleft()
            self._owner = me

    def release(self) -> None:
        with self._cond:
            self._owner = None
            self._cond.notify_all()
