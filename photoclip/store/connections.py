"""The catalog's connections: one per reading thread, and the process's one writer.

Each thread reads through its own connection (WAL lets readers run beside the writer). Every write of the
process goes through one writer connection, in the order writers asked (``store.writer``); within a write,
the writing thread's reads use that connection too, so they see what the transaction changed. Each write
runs in ``BEGIN IMMEDIATE`` so a writer in another process queues instead of deadlocking. A catalog whose
disk was full when it was opened is read-only: reading works, every write says the disk is full.
"""

from __future__ import annotations

import errno
import logging
import shutil
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from photoclip.errors import CatalogError, DiskFullError
from photoclip.store import pathtext
from photoclip.store.writer import WriteTurns

log = logging.getLogger(__name__)
_FULL_BELOW_BYTES = 256 * 1024
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another (in this process or another) before giving up


def _is_disk_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


class _ThreadConnection:
    """One thread's connection, referenced only from that thread's ``threading.local`` storage.

    Python drops a thread's local storage when the thread ends, so this holder dies with its thread and the
    finalizer closes the connection then (thread pools and live sync start threads all session long). The
    connection cannot be the trigger itself: it sits in a reference cycle with its statement cache and would
    keep its files open until the cyclic garbage collector happened to run.
    """

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        weakref.finalize(self, _close_quietly, conn)


class Connections:
    """The connections of one catalog file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        # Weak, so a thread that ends takes its connection away; close() still reaches every live one.
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False
        self._turns = WriteTurns()
        self._writer: sqlite3.Connection | None = None  # the one write connection, opened on first write
        # True when the disk was full at opening: reading works, every write says the disk is full.
        self.read_only = False

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use and closed when the thread ends; the writer
        connection while this thread is inside ``write()``."""
        if self._turns.held_here and self._writer is not None:
            return self._writer
        owner = getattr(self._local, "owner", None)
        if owner is None:
            if self._closed:
                raise CatalogError("the catalog is closed")
            owner = _ThreadConnection(self._connect())
            with self._lock:
                if self._closed:  # close() ran while this connection was opening
                    _close_quietly(owner.conn)
                    raise CatalogError("the catalog is closed")
                self._open.add(owner)
            self._local.owner = owner
        return owner.conn

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            return self._connect_read_only()
        # check_same_thread=False: close() and the end-of-thread finalizer may close it from another thread.
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.DatabaseError as exc:
            if self._may_read_only():
                return self._connect_read_only()
            raise CatalogError(f"cannot open the catalog {self.path}: {exc}") from exc
        pathtext.use_for(conn)  # paths that are not UTF-8 come back exactly as they were stored
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.DatabaseError as exc:
            _close_quietly(conn)
            if self._may_read_only():
                return self._connect_read_only()
            raise CatalogError(f"cannot open the catalog {self.path}: {exc}") from exc
        return conn

    def _may_read_only(self) -> bool:
        """Whether a failed open is a full disk that reading can work around: a WAL catalog needs its
        shared-memory file created before the first read, which a full disk refuses. With no write-ahead
        log pending, the file itself holds everything and can be read as it is."""
        wal = Path(f"{self.path}-wal")
        try:
            if not self.path.is_file() or self.path.stat().st_size == 0 or (wal.exists() and wal.stat().st_size):
                return False
            full = shutil.disk_usage(self.path.parent).free < _FULL_BELOW_BYTES
        except OSError:
            return False
        if full:
            log.warning("the disk holding %s is full: the catalog is opened read-only", self.path)
            self.read_only = True
        return full

    def _connect_read_only(self) -> sqlite3.Connection:
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
            pathtext.use_for(conn)
            conn.execute("PRAGMA query_only=ON")
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot open the catalog {self.path}: {exc}") from exc
        return conn

    def close(self) -> None:
        """Close every open connection, including those of threads still running (they can no longer use it)."""
        with self._lock:
            self._closed = True
            owners = list(self._open)
            self._open.clear()
            writer, self._writer = self._writer, None
        for owner in owners:
            _close_quietly(owner.conn)
        if writer is not None:
            _close_quietly(writer)
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the process's writer connection, after the writers that asked before;
        a full disk becomes DiskFullError with everything rolled back."""
        if self.read_only:
            raise DiskFullError(self._disk_full_message())
        self._turns.acquire(BUSY_TIMEOUT_S)
        try:
            conn = self._writer_connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from exc
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    raise DiskFullError(self._disk_full_message()) from exc
                raise
        finally:
            self._turns.release()

    def _writer_connection(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise CatalogError("the catalog is closed")
            if self._writer is None:
                self._writer = self._connect()
            return self._writer

    def read(self) -> sqlite3.Connection:
        return self.conn

    def _disk_full_message(self) -> str:
        return f"the disk holding the library ({self.path.parent}) is full; free some space and run again"

    def _translate(self, exc: sqlite3.Error) -> CatalogError:
        if _is_disk_full(exc):
            return DiskFullError(self._disk_full_message())
        return CatalogError(f"catalog error: {exc}")
