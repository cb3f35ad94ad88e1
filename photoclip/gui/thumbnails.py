"""Thumbnails: made on pool threads at the size the grid draws them, cached on disk and in memory.

The disk cache lives in the library's ``thumbs/`` folder as JPEG files named by the photo's content
hash, so a moved or renamed photo keeps its thumbnail and an edited one gets a new one. A worker
reads that file (or decodes the photo), scales it to the cell's exact pixel size and converts it to
the screen's 32-bit format, so the GUI thread only wraps it in a QPixmap and paints it 1:1: scaling
at paint time made Qt split every cell over helper threads and wait for them, which stalled the
grid on a busy machine. Requests are served newest first, so rows now on screen win over rows that
scrolled away, and the queue is capped so it never grows with the library.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from photoclip import imaging
from photoclip.errors import PhotoClipError

log = logging.getLogger(__name__)

THUMB_SIZE = 320  # pixels, longest side, of the cached file; the grid scales down from this
MAX_QUEUE = 400
JPEG_QUALITY = 85
TOUCH_AFTER_SECONDS = 86_400  # refresh a used file's mtime at most daily, so pruning keeps it


def cache_path(cache_dir: Path, content_hash: str) -> Path:
    safe = "".join(c for c in content_hash if c.isalnum() or c in "-_") or "unknown"
    return cache_dir / safe[:2] / f"{safe}.jpg"


def make_thumbnail(cache_dir: Path, content_hash: str, source: str) -> QImage:
    """Read the cached file, or decode the photo and cache it; raises PhotoClipError if unreadable."""
    target = cache_path(cache_dir, content_hash)
    try:
        mtime = target.stat().st_mtime
    except OSError:
        mtime = None
    if mtime is not None:
        image = QImage(str(target))
        if not image.isNull():
            if time.time() - mtime > TOUCH_AFTER_SECONDS:
                _touch(target)
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


def fit_to(image: QImage, side: int) -> QImage:
    """Scale down to fit a ``side`` x ``side`` box (never up) in the 32-bit format screens paint fastest."""
    if side > 0 and max(image.width(), image.height()) > side:
        image = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image.convertToFormat(QImage.Format.Format_RGB32)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def prune_cache(cache_dir: Path, max_bytes: int) -> int:
    """Delete the least recently used thumbnails until the cache fits; returns files removed."""
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
    made = Signal(str, int, object)  # content hash, side, QImage or None when the file cannot be read


class _Worker(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader

    def run(self) -> None:
        while True:
            job = self._loader._take()
            if job is None:
                return
            key, source, side = job
            try:
                image: QImage | None = fit_to(make_thumbnail(self._loader.cache_dir, key, source), side)
            except PhotoClipError as exc:
                log.debug("no thumbnail for %s: %s", source, exc)
                image = None
            except Exception:  # a bad file must never stop thumbnailing
                log.exception("thumbnail failed for %s", source)
                image = None
            self._loader._signals.made.emit(key, side, image)


class ThumbnailLoader(QObject):
    """Pixmaps by content hash and pixel size: from memory, else made in the background.

    ``ready(content_hash)`` fires on the GUI thread when a requested thumbnail is in memory.
    """

    ready = Signal(str)

    def __init__(self, cache_dir: Path, *, memory_mb: int = 160, threads: int = 2,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache_dir = Path(cache_dir)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, threads))
        self._threads = max(1, threads)
        self._memory: OrderedDict[str, tuple[int, QPixmap]] = OrderedDict()  # hash -> (side, pixmap)
        self._memory_bytes = 0
        self._memory_limit = memory_mb * 1024 * 1024
        self._failed: set[str] = set()
        self._queue: OrderedDict[str, tuple[str, int]] = OrderedDict()  # newest request last
        self._in_flight: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._workers = 0
        self.device_pixel_ratio = 1.0  # the grid's screen scale; sizes asked for are in device pixels
        self._signals = _Signals(self)
        self._signals.made.connect(self._on_made)

    def lookup(self, content_hash: str, source: str, side: int) -> tuple[QPixmap | None, bool]:
        """(pixmap, exact): the best pixmap in memory, and whether it was made for ``side``.

        A pixmap of another size (the zoom changed) is still returned, to draw scaled until the
        right one arrives; anything missing or inexact is queued to be made.
        """
        entry = self._memory.get(content_hash)
        if entry is not None:
            self._memory.move_to_end(content_hash)
            if entry[0] == side:
                return entry[1], True
        if content_hash not in self._failed:
            self._request(content_hash, source, side)
        return (entry[1] if entry is not None else None), False

    def pixmap(self, content_hash: str, source: str, side: int = THUMB_SIZE) -> QPixmap | None:
        """The pixmap made for ``side``, or None after queueing it to be made."""
        pm, exact = self.lookup(content_hash, source, side)
        return pm if exact else None

    def failed(self, content_hash: str) -> bool:
        return content_hash in self._failed

    def set_threads(self, threads: int) -> None:
        """Use fewer threads while indexing competes for the cores, more when it is done."""
        with self._lock:
            self._threads = max(1, threads)
            self.pool.setMaxThreadCount(self._threads)

    def _request(self, key: str, source: str, side: int) -> None:
        with self._lock:
            if (key, side) in self._in_flight:
                return
            self._queue[key] = (source, side)
            self._queue.move_to_end(key)
            while len(self._queue) > MAX_QUEUE:
                self._queue.popitem(last=False)
            start = self._workers < self._threads
            if start:
                self._workers += 1
        if start:
            self.pool.start(_Worker(self))

    def _take(self) -> tuple[str, str, int] | None:
        with self._lock:
            if not self._queue or self._workers > self._threads:
                self._workers -= 1
                return None
            key, (source, side) = self._queue.popitem(last=True)
            self._in_flight.add((key, side))
            return key, source, side

    @Slot(str, int, object)
    def _on_made(self, key: str, side: int, image: QImage | None) -> None:
        with self._lock:
            self._in_flight.discard((key, side))
        if image is None:
            self._failed.add(key)
        else:
            old = self._memory.pop(key, None)
            if old is not None:
                self._memory_bytes -= _cost(old[1])
            pm = QPixmap.fromImage(image)
            pm.setDevicePixelRatio(self.device_pixel_ratio)
            self._memory[key] = (side, pm)
            self._memory_bytes += _cost(pm)
            while self._memory_bytes > self._memory_limit and len(self._memory) > 1:
                _old_key, (_side, evicted) = self._memory.popitem(last=False)
                self._memory_bytes -= _cost(evicted)
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
