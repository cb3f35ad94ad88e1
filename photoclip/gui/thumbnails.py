"""Thumbnails: made on pool threads, kept on disk by content hash and in memory as pixmaps.

The disk cache lives in the library's ``thumbs/`` folder as JPEG files named by the photo's content
hash, so a moved or renamed photo keeps its thumbnail and an edited one gets a new one. The GUI
thread only ever converts a finished QImage to a QPixmap (well under a millisecond at this size).
Requests are served newest first: while the user scrolls fast, the rows now on screen win over
rows that scrolled away, and the queue is capped so it never grows with the library.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from photoclip import imaging
from photoclip.errors import PhotoClipError

log = logging.getLogger(__name__)

THUMB_SIZE = 320  # pixels, longest side; the grid scales down from this for smaller zoom levels
MAX_QUEUE = 400
JPEG_QUALITY = 85


def cache_path(cache_dir: Path, content_hash: str) -> Path:
    safe = "".join(c for c in content_hash if c.isalnum() or c in "-_") or "unknown"
    return cache_dir / safe[:2] / f"{safe}.jpg"


def make_thumbnail(cache_dir: Path, content_hash: str, source: str) -> QImage:
    """Read the cached file, or decode the photo and cache it; raises PhotoClipError if unreadable."""
    target = cache_path(cache_dir, content_hash)
    if target.is_file():
        image = QImage(str(target))
        if not image.isNull():
            return image
    pil = imaging.thumbnail(source, THUMB_SIZE)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{threading.get_ident()}.tmp")
        pil.save(tmp, "JPEG", quality=JPEG_QUALITY)
        os.replace(tmp, target)
    except OSError as exc:  # a full or read-only disk only costs us the cache
        log.debug("cannot cache thumbnail %s: %s", target, exc)
    data = pil.tobytes("raw", "RGB")
    return QImage(data, pil.width, pil.height, pil.width * 3, QImage.Format.Format_RGB888).copy()


def prune_cache(cache_dir: Path, max_bytes: int) -> int:
    """Delete the least recently written thumbnails until the cache fits; returns files removed."""
    files = []
    total = 0
    for root, _dirs, names in os.walk(cache_dir):
        for name in names:
            p = Path(root) / name
            try:
                st = p.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, p))
            total += st.st_size
    removed = 0
    for _mtime, size, p in sorted(files):
        if total <= max_bytes:
            break
        try:
            p.unlink()
        except OSError:
            continue
        total -= size
        removed += 1
    return removed


class _Signals(QObject):
    made = Signal(str, object)  # content hash, QImage or None when the file cannot be read


class _Worker(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader

    def run(self) -> None:
        while True:
            job = self._loader._take()
            if job is None:
                return
            key, source = job
            try:
                image: QImage | None = make_thumbnail(self._loader.cache_dir, key, source)
            except PhotoClipError as exc:
                log.debug("no thumbnail for %s: %s", source, exc)
                image = None
            except Exception:  # a bad file must never stop thumbnailing
                log.exception("thumbnail failed for %s", source)
                image = None
            self._loader._signals.made.emit(key, image)


class ThumbnailLoader(QObject):
    """Pixmaps by content hash: from memory, else made in the background (``ready`` fires then)."""

    ready = Signal(str)

    def __init__(self, cache_dir: Path, *, memory_mb: int = 160, threads: int = 2,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache_dir = Path(cache_dir)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._threads = threads
        self._memory: OrderedDict[str, QPixmap] = OrderedDict()
        self._memory_bytes = 0
        self._memory_limit = memory_mb * 1024 * 1024
        self._failed: set[str] = set()
        self._queue: OrderedDict[str, str] = OrderedDict()  # newest request last
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._workers = 0
        self._signals = _Signals(self)
        self._signals.made.connect(self._on_made)

    def pixmap(self, content_hash: str, source: str) -> QPixmap | None:
        """The cached pixmap, or None after queueing it to be made."""
        pm = self._memory.get(content_hash)
        if pm is not None:
            self._memory.move_to_end(content_hash)
            return pm
        if content_hash not in self._failed:
            self._request(content_hash, source)
        return None

    def failed(self, content_hash: str) -> bool:
        return content_hash in self._failed

    def _request(self, key: str, source: str) -> None:
        with self._lock:
            if key in self._in_flight:
                return
            self._queue[key] = source
            self._queue.move_to_end(key)
            while len(self._queue) > MAX_QUEUE:
                self._queue.popitem(last=False)
            start = self._workers < self._threads
            if start:
                self._workers += 1
        if start:
            self.pool.start(_Worker(self))

    def _take(self) -> tuple[str, str] | None:
        with self._lock:
            if not self._queue:
                self._workers -= 1
                return None
            key, source = self._queue.popitem(last=True)
            self._in_flight.add(key)
            return key, source

    @Slot(str, object)
    def _on_made(self, key: str, image: QImage | None) -> None:
        with self._lock:
            self._in_flight.discard(key)
        if image is None:
            self._failed.add(key)
        else:
            pm = QPixmap.fromImage(image)
            self._memory[key] = pm
            self._memory_bytes += _cost(pm)
            while self._memory_bytes > self._memory_limit and len(self._memory) > 1:
                _old_key, old = self._memory.popitem(last=False)
                self._memory_bytes -= _cost(old)
        self.ready.emit(key)

    def forget_queue(self) -> None:
        """Drop requests not started yet (the grid was replaced by another result)."""
        with self._lock:
            self._queue.clear()

    def wait(self, msecs: int = 10_000) -> bool:
        self.forget_queue()
        return self.pool.waitForDone(msecs)


def _cost(pm: QPixmap) -> int:
    return max(1, pm.width() * pm.height() * 4)
