"""Raw file events turned into calm change sets: paths to look at again and moves, held back while a file is
still being written (its size or modification time still moving)."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from photoclip.ingest.scanner import SKIP_DIR_NAMES, is_photo_name, walk_folder

log = logging.getLogger(__name__)

QUIET_SECONDS = 0.75  # flush once no event arrived for this long
MAX_WAIT_SECONDS = 2.0  # ...or at the latest this long after the first event of a burst
STABLE_SECONDS = 0.5  # a file is complete once its size and mtime hold still this long
EMPTY_GRACE_SECONDS = 3.0  # an empty file is usually one about to be written: wait longer


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
