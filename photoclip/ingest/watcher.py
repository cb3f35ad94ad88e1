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
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from photoclip.ingest.scanner import SKIP_DIR_NAMES, is_photo_name, walk_folder

log = logging.getLogger(__name__)

QUIET_SECONDS = 0.75  # flush once no event arrived for this long
MAX_WAIT_SECONDS = 2.0  # ...or at the latest this long after the first event of a burst
STABLE_SECONDS = 0.5  # a file is complete once its size and mtime hold still this long
EMPTY_GRACE_SECONDS = 3.0  # an empty file is usually one about to be written: wait longer
ROOT_CHECK_SECONDS = 2.0
LOST_EVENTS_MAX_WAIT_SECONDS = 10.0  # rescan after lost events at the latest this long into a storm
POLLING_SECONDS = 2.0
# Errors that mean "the kernel will not give us more inotify watches", not "the folder is broken".
WATCH_LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENOMEM})
# File system types whose native change events miss changes made by other machines.
NETWORK_FS_PREFIXES = ("nfs", "cifs", "smb", "ncpfs", "9p", "afs", "ceph", "glusterfs", "lustre", "davfs",
                       "fuse.")
LOCAL_FUSE_TYPES = frozenset({"fuseblk", "fuse.fuse-overlayfs", "fuse.portal", "fuse.lxcfs"})

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


# -- file system types -------------------------------------------------------------------------

def _unescape_mount(field_text: str) -> str:
    """/proc/mounts writes spaces, tabs and backslashes in mount points as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field_text = field_text.replace(code, char)
    return field_text


def mount_type(path: str, mounts_text: str | None = None) -> str | None:
    """The file system type of the mount holding ``path`` (Linux /proc/mounts), or None if unknown."""
    if mounts_text is None:
        try:
            with open("/proc/mounts", encoding="utf-8", errors="replace") as f:
                mounts_text = f.read()
        except OSError:
            return None
    best, best_type = "", None
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point, fstype = _unescape_mount(parts[1]), parts[2]
        prefix = point if point.endswith("/") else point + "/"
        if (path == point or path.startswith(prefix)) and len(point) >= len(best):
            best, best_type = point, fstype
    return best_type


def is_network_fs(fstype: str | None) -> bool:
    """True for network and user-space mounts, where inotify does not see other machines' changes."""
    if not fstype or fstype in LOCAL_FUSE_TYPES:
        return False
    return fstype.startswith(NETWORK_FS_PREFIXES)


# -- collecting events ---------------------------------------------------------------------------

@dataclass
class Collected:
    """Raw changes of one burst: paths to look at again, created folders to expand, and moves."""

    paths: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    moves: list[tuple[str, str]] = field(default_factory=list)
    events: int = 0


class ChangeCollector:
    """Thread-safe accumulation of events from observer threads; knows when a burst has settled."""

    def __init__(self, *, quiet: float = QUIET_SECONDS, max_wait: float = MAX_WAIT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self.clock = clock
        self._lock = threading.Lock()
        self._current = Collected()
        self._first: float | None = None
        self._last: float | None = None
        self.latest: float | None = None  # time of the last event ever, kept across takes

    def _touch(self) -> None:
        now = self.clock()
        if self._first is None:
            self._first = now
        self._last = self.latest = now
        self._current.events += 1

    def created(self, path: str, is_dir: bool) -> None:
        with self._lock:
            self._touch()
            (self._current.dirs if is_dir else self._current.paths).add(path)

    def changed(self, path: str) -> None:
        with self._lock:
            self._touch()
            self._current.paths.add(path)

    def deleted(self, path: str) -> None:
        with self._lock:
            self._touch()
            self._current.paths.add(path)

    def moved(self, src: str, dest: str) -> None:
        with self._lock:
            self._touch()
            self._current.moves.append((src, dest))

    def due(self, now: float | None = None) -> bool:
        with self._lock:
            if self._first is None or self._last is None:
                return False
            now = self.clock() if now is None else now
            return now - self._last >= self.quiet or now - self._first >= self.max_wait

    def take(self) -> Collected:
        with self._lock:
            out, self._current = self._current, Collected()
            self._first = self._last = None
            return out

    def __len__(self) -> int:
        with self._lock:
            return self._current.events


def _visible(path: str, root: str) -> bool:
    """False for paths inside hidden folders or other tools' cache folders (the scanner skips those)."""
    rel = os.path.relpath(path, root)
    if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
        return rel == "."
    parts = rel.split(os.sep)
    return not any(p.startswith(".") or p in SKIP_DIR_NAMES for p in parts)


class _EventHandler(FileSystemEventHandler):
    """Feeds one folder's watchdog events into the collector, keeping only what can matter to photos."""

    def __init__(self, root: str, collector: ChangeCollector) -> None:
        self.root = root
        self.collector = collector

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._record(event)
        except Exception:  # an observer thread that raises stops watching: never let that happen
            log.exception("could not record the file event %r", event)

    def _record(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        src = os.fsdecode(event.src_path)
        is_dir = event.is_directory
        relevant = is_dir or is_photo_name(os.path.basename(src))
        if kind == "moved":
            dest = os.fsdecode(event.dest_path)
            src_seen = _visible(src, self.root) and relevant
            dest_seen = _visible(dest, self.root) and (is_dir or is_photo_name(os.path.basename(dest)))
            if src_seen and dest_seen:
                self.collector.moved(src, dest)
            elif dest_seen:  # e.g. "photo.jpg.part" renamed to "photo.jpg" once complete
                self.collector.created(dest, is_dir)
            elif src_seen:
                self.collector.deleted(src)  # renamed to a name that is not a photo, or hidden away
            return
        if not relevant or not _visible(src, self.root) or src == self.root:
            return
        if kind == "created":
            self.collector.created(src, is_dir)
        elif kind == "deleted":
            self.collector.deleted(src)
        elif kind in ("modified", "closed") and not is_dir:
            self.collector.changed(src)


# -- the stability check -------------------------------------------------------------------------

class StabilityGate:
    """Holds files until their size and mtime are the same at two checks ``interval`` apart."""

    def __init__(self, *, interval: float = STABLE_SECONDS, empty_grace: float = EMPTY_GRACE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.empty_grace = empty_grace
        self.clock = clock
        # path -> ((size, mtime_ns), last check, first seen)
        self._waiting: dict[str, tuple[tuple[int, int], float, float]] = {}

    def offer(self, paths: Iterable[str], dirs: Iterable[str] = ()) -> list[str]:
        """Start watching files (folders are expanded to their photos); returns paths already gone."""
        now = self.clock()
        gone: list[str] = []
        for d in dirs:
            if os.path.isdir(d):
                for f in walk_folder(d).files:
                    self._remember(f.path, (f.size, f.mtime_ns), now)
            else:
                gone.append(d)
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                self._waiting.pop(path, None)
                gone.append(path)
                continue
            if stat.S_ISDIR(st.st_mode):
                for f in walk_folder(path).files:
                    self._remember(f.path, (f.size, f.mtime_ns), now)
            elif stat.S_ISREG(st.st_mode) and is_photo_name(os.path.basename(path)):
                self._remember(path, (st.st_size, st.st_mtime_ns), now)
        return gone

    def _remember(self, path: str, sig: tuple[int, int], now: float) -> None:
        old = self._waiting.get(path)
        self._waiting[path] = (sig, now, old[2] if old else now)

    def ready(self) -> tuple[list[str], list[str]]:
        """(files complete now, files that vanished while waiting)."""
        now = self.clock()
        done: list[str] = []
        gone: list[str] = []
        for path, (sig, checked, first) in list(self._waiting.items()):
            if now - checked < self.interval:
                continue
            try:
                st = os.stat(path)
            except OSError:
                del self._waiting[path]
                gone.append(path)
                continue
            current = (st.st_size, st.st_mtime_ns)
            still_moving = current != sig
            if still_moving or (current[0] == 0 and now - first < self.empty_grace):
                self._waiting[path] = (current, now, first)
            else:
                del self._waiting[path]
                done.append(path)
        return done, gone

    def __len__(self) -> int:
        return len(self._waiting)


# -- the watcher ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WatchedFolder:
    path: str
    polling: bool = False


@dataclass
class ChangeBatch:
    """One settled set of changes: apply ``moves`` first, then bring ``paths`` up to date."""

    moves: list[tuple[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # complete files, and files or folders now gone
    offline: list[str] = field(default_factory=list)  # folder roots that vanished
    online: list[str] = field(default_factory=list)  # folder roots that came back (rescan them)
    events: int = 0  # raw file events absorbed into this batch

    def __bool__(self) -> bool:
        return bool(self.moves or self.paths or self.offline or self.online)


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
