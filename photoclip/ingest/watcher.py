"""Live folder watching: watchdog observers on library folders, turned into calm, batched change sets.

File systems report changes as storms of tiny events (a memory card copy is thousands of creates and
modifies). The watcher absorbs them into a set of dirty paths plus a list of moves, hands them over
only after a short quiet spell (or every few seconds under a continuous burst), and holds back any
file whose size or modification time is still moving, so a photo is read once, after it is complete.
It also checks folder roots now and then: a folder that vanishes is reported offline and its
observer dropped, and a folder that returns is watched again and reported online. The watcher never
touches the catalog; its consumer (``photoclip.ingest.livesync``) pulls batches with ``next_batch``.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from photoclip.ingest.changes import (
    MAX_WAIT_SECONDS,
    QUIET_SECONDS,
    STABLE_SECONDS,
    ChangeBatch,
    ChangeCollector,
    Collected,
    StabilityGate,
    _EventHandler,
)
from photoclip.ingest.mounts import is_network_fs, mount_type

log = logging.getLogger(__name__)

ROOT_CHECK_SECONDS = 2.0
LOST_EVENTS_MAX_WAIT_SECONDS = 10.0  # rescan after lost events at the latest this long into a storm
POLLING_SECONDS = 2.0
# Errors that mean "the kernel will not give us more inotify watches", not "the folder is broken".
WATCH_LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENOMEM})

NATIVE, POLLING, OFFLINE = "native", "polling", "offline"


def _overflow_aware_observer(on_lost: Callable[[], None]) -> BaseObserver:
    """A native observer that calls ``on_lost`` when the kernel's inotify queue overflows.

    watchdog re-adds its watches after an overflow but tells no event handler, so files created or
    deleted in the burst (unpacking a large archive, a sync client catching up) would stay unseen until
    the next start. On Linux the observer's own inotify reader is given the overflow event (the kernel's
    ``IN_Q_OVERFLOW``) before watchdog handles it; elsewhere the platform's observer is used as it is.
    """
    try:
        from watchdog.observers.inotify import InotifyEmitter, InotifyObserver
        from watchdog.observers.inotify_c import InotifyFD
    except ImportError:  # not Linux
        return Observer()

    class _Reader(InotifyFD):
        def handle_event(self, event: object) -> None:
            if getattr(event, "is_queue_overflow", False):
                on_lost()
            super().handle_event(event)  # type: ignore[arg-type]

    class _Observer(InotifyObserver):
        def __init__(self) -> None:  # InotifyObserver's, with the reader above
            self._inotify_fd = _Reader()
            self._inotify_fd.start()
            BaseObserver.__init__(self, InotifyEmitter, inotify_fd=self._inotify_fd)

    return _Observer()


# -- the watcher ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WatchedFolder:
    path: str
    polling: bool = False


@dataclass
class _FolderWatch:
    spec: WatchedFolder
    observer: BaseObserver | None = None
    mode: str = OFFLINE
    identity: tuple[int, int] | None = None
    online: bool = True
    failures: int = 0  # observer start failures in a row, to warn once rather than every check


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _stop_observer(observer: BaseObserver | None) -> None:
    if observer is None:
        return
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5.0)
    except Exception:  # an observer whose root vanished may fail on the way down; it is gone either way
        log.debug("observer did not stop cleanly", exc_info=True)


class Watcher:
    """Watches library folders and turns file events into settled ``ChangeBatch`` es.

    ``start``/``stop`` manage watchdog's own threads; the consumer calls ``next_batch`` from one
    thread of its own. Folders with ``polling=True``, on network file systems, or beyond the
    inotify watch limit are polled instead of relying on native events.
    """

    def __init__(self, folders: Iterable[WatchedFolder] = (), *, quiet: float = QUIET_SECONDS,
                 max_wait: float = MAX_WAIT_SECONDS, stable: float = STABLE_SECONDS,
                 root_check: float = ROOT_CHECK_SECONDS, polling_interval: float = POLLING_SECONDS,
                 detect_network: bool = True, is_reachable: Callable[[str], bool] = os.path.isdir,
                 native_observer: Callable[[], BaseObserver] | None = None) -> None:
        self.collector = ChangeCollector(quiet=quiet, max_wait=max_wait)
        self.gate = StabilityGate(interval=stable)
        self.root_check = root_check
        self.polling_interval = polling_interval
        self.detect_network = detect_network
        self.is_reachable = is_reachable
        # The default native observer reports a queue overflow to this watcher (events_lost).
        self.native_observer = native_observer or (lambda: _overflow_aware_observer(self.events_lost))
        self.tick = min(0.1, quiet / 4, stable / 4) if min(quiet, stable) > 0 else 0.05
        self._watches: dict[str, _FolderWatch] = {w.path: _FolderWatch(w) for w in folders}
        self._out = ChangeBatch()
        self._started = False
        self._last_root_check = 0.0
        self._wake = threading.Event()
        self._events_lost = threading.Event()
        self._lost_since: float | None = None  # events were lost and the folders not rescanned yet
        self.overflows = 0  # times the kernel reported lost events
        self._lock = threading.RLock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            self._started = True
            self._wake.clear()
            for fw in self._watches.values():
                fw.online = self.is_reachable(fw.spec.path)
                if fw.online:
                    self._start_observer(fw)
            self._last_root_check = time.monotonic()

    def stop(self) -> None:
        with self._lock:
            self._started = False
            self._wake.set()
            for fw in self._watches.values():
                _stop_observer(fw.observer)
                fw.observer, fw.mode = None, OFFLINE

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_folders(self, folders: Iterable[WatchedFolder]) -> None:
        """Watch exactly these folders: new ones start, removed ones stop, changed modes restart."""
        wanted = {w.path: w for w in folders}
        with self._lock:
            for path in list(self._watches):
                fw = self._watches[path]
                if path not in wanted or wanted[path] != fw.spec:
                    _stop_observer(fw.observer)
                    del self._watches[path]
            for path, spec in wanted.items():
                if path not in self._watches:
                    fw = _FolderWatch(spec)
                    self._watches[path] = fw
                    if self._started:
                        fw.online = self.is_reachable(path)
                        if fw.online:
                            self._start_observer(fw)

    @property
    def folders(self) -> list[WatchedFolder]:
        with self._lock:
            return [fw.spec for fw in self._watches.values()]

    def modes(self) -> dict[str, str]:
        """How each folder is watched right now: native, polling or offline."""
        with self._lock:
            return {path: fw.mode for path, fw in self._watches.items()}

    @property
    def pending(self) -> int:
        """Events and files not yet handed over (0 when everything seen so far was delivered)."""
        return len(self.collector) + len(self.gate) + (1 if self._out else 0)

    # -- observers ---------------------------------------------------------------------------

    def _wants_polling(self, spec: WatchedFolder) -> bool:
        if spec.polling:
            return True
        if self.detect_network:
            fstype = mount_type(os.path.realpath(spec.path))
            if is_network_fs(fstype):
                log.info("%s is on a %s file system: watching it by polling", spec.path, fstype)
                return True
        return False

    def _start_observer(self, fw: _FolderWatch) -> None:
        path = fw.spec.path
        fw.identity = _identity(path)
        handler = _EventHandler(path, self.collector)
        if not self._wants_polling(fw.spec):
            observer = self.native_observer()
            try:
                observer.schedule(handler, path, recursive=True)
                observer.start()
            except OSError as exc:
                _stop_observer(observer)
                if exc.errno not in WATCH_LIMIT_ERRNOS:
                    self._start_failed(fw, exc)
                    return
                log.warning("the system's limit on watched folders is reached (%s); watching %s by "
                            "polling instead (raise fs.inotify.max_user_watches to avoid this)",
                            exc.strerror or exc, path)
            else:
                if _native_coverage_ok(observer, path):
                    fw.observer, fw.mode, fw.failures = observer, NATIVE, 0
                    return
                _stop_observer(observer)
                log.warning("the system's limit on watched folders is reached: only part of %s could be "
                            "watched; watching it by polling instead (raise fs.inotify.max_user_watches "
                            "to avoid this)", path)
        observer = PollingObserver(timeout=self.polling_interval)
        try:
            observer.schedule(handler, path, recursive=True)
            observer.start()
        except OSError as exc:
            _stop_observer(observer)
            self._start_failed(fw, exc)
            return
        fw.observer, fw.mode, fw.failures = observer, POLLING, 0

    def _start_failed(self, fw: _FolderWatch, exc: OSError) -> None:
        fw.observer, fw.mode = None, OFFLINE
        fw.failures += 1
        level = logging.WARNING if fw.failures == 1 else logging.DEBUG
        log.log(level, "cannot watch %s: %s; will retry", fw.spec.path, exc.strerror or exc)

    def _check_roots(self) -> None:
        """Report folders that vanished or came back, and re-establish their observers."""
        with self._lock:
            for fw in self._watches.values():
                path = fw.spec.path
                reachable = self.is_reachable(path)
                if fw.online and not reachable:
                    fw.online = False
                    _stop_observer(fw.observer)
                    fw.observer, fw.mode = None, OFFLINE
                    self._out.offline.append(path)
                    log.info("%s is not reachable: its photos are offline", path)
                elif not fw.online and reachable:
                    fw.online = True
                    self._start_observer(fw)
                    self._out.online.append(path)
                    log.info("%s is back", path)
                elif fw.online and (fw.observer is None or not _observer_alive(fw.observer)
                                    or _identity(path) != fw.identity):
                    # A different folder now sits at the path, or the observer died: watch it afresh
                    # and rescan it, since events may have been missed meanwhile.
                    _stop_observer(fw.observer)
                    self._start_observer(fw)
                    if fw.observer is not None:
                        self._out.online.append(path)

    def events_lost(self) -> None:
        """The kernel dropped file events: rescan every natively watched folder, as if it came back.

        Called on the observer's inotify reader thread, which ``stop`` joins while holding the lock: so only a
        flag is set here, and ``next_batch`` does the rest.
        """
        self.overflows += 1
        self._events_lost.set()

    def _rescan_after_lost_events(self, now: float) -> None:
        """Once the burst that overflowed the queue has calmed down, watch each natively watched folder
        afresh and rescan it.

        Waiting for calm matters: a rescan in the middle of the burst misses what changes after it, in
        folders whose watches the overflow cost. A new observer puts a watch on every folder as it is
        now, and the rescan after it finds whatever changed before; what changes later has a watch.
        """
        if self._events_lost.is_set():
            self._events_lost.clear()
            if self._lost_since is None:
                self._lost_since = now
                log.warning("file events were lost (the system's event queue overflowed): the watched "
                            "folders are rescanned once the changes calm down")
        if self._lost_since is None:
            return
        latest = max(self._lost_since, self.collector.latest or 0.0)
        calm = now - latest >= self.collector.quiet
        if not calm and now - self._lost_since < LOST_EVENTS_MAX_WAIT_SECONDS:
            return
        self._lost_since = None
        with self._lock:
            lost = [fw for fw in self._watches.values() if fw.online and fw.mode == NATIVE]
            for fw in lost:
                _stop_observer(fw.observer)
                self._start_observer(fw)
            self._out.online.extend(fw.spec.path for fw in lost if fw.spec.path not in self._out.online)
        if lost:
            log.warning("rescanning %s after lost file events", ", ".join(fw.spec.path for fw in lost))

    # -- handing over batches ----------------------------------------------------------------

    def next_batch(self, timeout: float = 1.0) -> ChangeBatch | None:
        """Wait up to ``timeout`` seconds for settled changes; None if there are none (or on stop)."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if self._started and now - self._last_root_check >= self.root_check:
                self._last_root_check = now
                self._check_roots()
            self._rescan_after_lost_events(now)
            if self.collector.due():
                got = self.collector.take()
                self._out.events += got.events
                self._out.moves.extend(got.moves)
                self._out.paths.extend(self.gate.offer(got.paths, got.dirs))
                # A move's source is looked at again (it may hold something new), its target checked
                # like any new file, so a rename to a non-photo name or out of the library is seen.
                self._out.paths.extend(self.gate.offer([d for _, d in got.moves] + [s for s, _ in got.moves]))
            done, gone = self.gate.ready()
            self._out.paths.extend(done)
            self._out.paths.extend(gone)
            if self._out:
                out, self._out = self._out, ChangeBatch()
                out.paths = list(dict.fromkeys(out.paths))
                return out
            if now >= deadline or self._wake.is_set():
                return None
            self._wake.wait(min(self.tick, max(0.0, deadline - now)))


def _observer_alive(observer: BaseObserver) -> bool:
    return observer.is_alive() and all(e.is_alive() for e in observer.emitters)


def _count_dirs(root: str) -> int:
    n = 0
    for _dirpath, dirnames, _files in os.walk(root):
        n += 1
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(_dirpath, d))]
    return n


def _native_coverage_ok(observer: BaseObserver, root: str, retries: int = 2) -> bool:
    """False when inotify could watch only part of the tree (watchdog skips sub-folders it cannot watch).

    Relies on the inotify emitter's bookkeeping when present; other observers are trusted as they are.
    """
    for attempt in range(retries):
        watched = 0
        for emitter in observer.emitters:
            group = getattr(emitter, "_inotify", None)
            paths = getattr(group, "_active_callbacks_by_path", None)
            if not isinstance(paths, dict):
                return True
            watched += len(paths)
        if watched >= _count_dirs(root):
            return True
        if attempt + 1 < retries:
            time.sleep(0.2)  # folders created just now may still be on their way to a watch
    return False


__all__ = [
    "NATIVE",
    "OFFLINE",
    "POLLING",
    "ChangeBatch",
    "ChangeCollector",
    "Collected",
    "StabilityGate",
    "WatchedFolder",
    "Watcher",
    "is_network_fs",
    "mount_type",
]
