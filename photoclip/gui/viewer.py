"""The photo viewer: one photo filling the window, stepped with the arrow keys through the results.

Decoding a 12 MP photo takes far longer than a frame, so it happens on the viewer's own worker:
the full-resolution image (for 100 % and deeper zoom) and a copy already scaled to the viewer's
size (for fit, drawn 1:1 without scaling on the GUI thread). Until the decode arrives the grid's
thumbnail stands in. The neighbours of the shown photo are decoded next, so stepping with ←/→
usually finds its photo ready. Only a few decoded photos are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QColorSpace,
    QImage,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from photoclip import imaging
from photoclip.gui.workers import TaskRunner

if TYPE_CHECKING:
    from photoclip.gui.queries import GridItem, GridRows
    from photoclip.gui.thumbnails import ThumbnailLoader

CACHE_PHOTOS = 4  # decoded photos kept: the shown one, its two neighbours, one spare
SLIDESHOW_MS = 3000
MAX_ZOOM = 8.0


@dataclass
class Decoded:
    full: QImage
    fit: QImage  # scaled to the viewer's size when it was asked for


def to_qimage(image: Any) -> QImage:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


def decode_for_view(path: str, size: QSize) -> Decoded:
    """Worker side: the upright photo at full resolution, and a copy that fits ``size``.

    Qt's own reader decodes JPEG, PNG, WebP... in C++ with the interpreter lock released, so the
    GUI thread is never kept waiting by a 12 MP decode; other formats (HEIC, AVIF, RAW previews)
    go through the core's decoder.
    """
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # EXIF orientation
    full = reader.read()
    if full.isNull():
        image, _meta = imaging.load_image(path)
        full = to_qimage(image)
    elif full.colorSpace().isValid() and full.colorSpace() != QColorSpace(QColorSpace.NamedColorSpace.SRgb):
        full.convertToColorSpace(QColorSpace(QColorSpace.NamedColorSpace.SRgb))
    return Decoded(full, fit_image(full, size))


def fit_image(full: QImage, size: QSize) -> QImage:
    """``full`` scaled down to fit ``size`` (not up), in the format that paints fastest."""
    fit = full
    if full.width() > size.width() or full.height() > size.height():
        fit = full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return fit.convertToFormat(QImage.Format.Format_RGB32)


class PhotoViewerWidget(QWidget):
    """Shows row ``index`` of the grid's rows; ``closed(photo_id)`` goes back with that photo selected.

    The rows are the grid's snapshot when the viewer opened (the model never edits a snapshot in
    place), so ←/→ follow the results in their order even if the grid refreshes meanwhile.
    """

    closed = Signal(int)
    currentChanged = Signal(int)  # photo id now shown
    fullScreenRequested = Signal(bool)
    keyForGrid = Signal(object)  # a QKeyEvent the viewer does not handle (ratings, favourites)

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Photo viewer")
        self.setMouseTracking(False)
        self.loader = loader
        self.runner = TaskRunner(max_threads=1, parent=self)
        self.rows: GridRows | None = None
        self.thumb_side = 320
        self.index = -1
        self._errors: dict[str, str] = {}
        self.zoom: float | None = None  # None: fit to the window
        self.centre = QPointF()  # the image point at the window's centre when zoomed
        self.info_visible = False
        self.info_lines: dict[int, list[str]] = {}  # photo id -> lines of the info overlay
        self._cache: OrderedDict[str, Decoded] = OrderedDict()
        self._in_flight: set[str] = set()
        self._refitting: set[str] = set()
        self._drag_from: QPointF | None = None
        self.full_screen = False
        self.slideshow = QTimer(self)
        self.slideshow.setInterval(SLIDESHOW_MS)
        self.slideshow.timeout.connect(self._slide)
        self.info_loader: Any = None  # callable(item) -> list[str], run on a worker; set by the window
        self.info_runner: TaskRunner | None = None

    # -- what is shown ----------------------------------------------------------------------

    def open(self, rows: GridRows, index: int, thumb_side: int = 320) -> None:
        self.rows = rows
        self.thumb_side = thumb_side
        self.zoom = None
        self.show_index(index)

    def count(self) -> int:
        return len(self.rows) if self.rows is not None else 0

    def item_at(self, index: int) -> GridItem | None:
        return self.rows.item(index) if self.rows is not None and 0 <= index < len(self.rows) else None

    def current(self) -> GridItem | None:
        return self.item_at(self.index)

    def show_index(self, index: int) -> None:
        if not self.count():
            return
        self.index = max(0, min(self.count() - 1, index))
        self.zoom = None
        item = self.rows.item(self.index)  # type: ignore[union-attr]
        self._request(item.path)
        self._prefetch()
        self._load_info(item)
        self.currentChanged.emit(item.id)
        self.update()

    def step(self, delta: int) -> None:
        if self.count():
            self.show_index(self.index + delta)

    def is_ready(self) -> bool:
        """Whether the shown photo is decoded (not the thumbnail standing in)."""
        item = self.current()
        return item is not None and item.path in self._cache

    def close_viewer(self) -> None:
        self.slideshow.stop()
        item = self.current()
        if self.full_screen:
            self.toggle_full_screen()
        self.closed.emit(item.id if item is not None else -1)

    # -- decoding ---------------------------------------------------------------------------

    def _request(self, path: str) -> None:
        if path in self._cache:
            self._cache.move_to_end(path)
            return
        if path in self._in_flight:
            return
        self._in_flight.add(path)
        size = self._fit_size()
        self.runner.run(lambda: decode_for_view(path, size), lambda d: self._decoded(path, d),
                        lambda exc: self._failed(path, exc))

    def _fit_size(self) -> QSize:
        dpr = self.devicePixelRatioF()
        return QSize(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))

    def _decoded(self, path: str, decoded: Decoded) -> None:
        self._in_flight.discard(path)
        self._cache[path] = decoded
        while len(self._cache) > CACHE_PHOTOS:
            self._cache.popitem(last=False)
        item = self.current()
        if item is not None and item.path == path:
            self.update()
        self._prefetch()

    def _failed(self, path: str, exc: BaseException) -> None:
        self._in_flight.discard(path)
        self._errors[path] = str(exc)
        self.update()

    def _prefetch(self) -> None:
        """Decode the neighbours once the shown photo is in (one decode at a time)."""
        item = self.current()
        if item is None or self._in_flight or item.path not in self._cache:
            return
        for i in (self.index + 1, self.index - 1):
            neighbour = self.item_at(i)
            if neighbour is not None and neighbour.path not in self._cache:
                self._request(neighbour.path)
                return

    # -- the info overlay -------------------------------------------------------------------

    def toggle_info(self) -> None:
        self.info_visible = not self.info_visible
        item = self.current()
        if item is not None:
            self._load_info(item)
        self.update()

    def _load_info(self, item: GridItem) -> None:
        if not self.info_visible or item.id in self.info_lines or self.info_loader is None:
            return
        runner = self.info_runner or self.runner
        loader = self.info_loader
        runner.run(lambda: loader(item), lambda lines: self._info_loaded(item.id, lines))

    def _info_loaded(self, photo_id: int, lines: list[str]) -> None:
        self.info_lines[photo_id] = lines
        if len(self.info_lines) > 200:
            self.info_lines.pop(next(iter(self.info_lines)))
        self.update()

    def info_text(self) -> list[str]:
        item = self.current()
        if item is None:
            return []
        return self.info_lines.get(item.id, [Path(item.path).name])

    # -- zoom and pan -----------------------------------------------------------------------

    def fit_scale(self) -> float:
        item = self.current()
        decoded = self._cache.get(item.path) if item is not None else None
        if decoded is None:
            return 1.0
        w, h = decoded.full.width(), decoded.full.height()
        dpr = self.devicePixelRatioF()
        return min(self.width() * dpr / max(1, w), self.height() * dpr / max(1, h))

    def scale(self) -> float:
        return self.zoom if self.zoom is not None else self.fit_scale()

    def set_zoom(self, zoom: float | None, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` (None: fit), keeping the image point under ``anchor`` in place."""
        item = self.current()
        decoded = self._cache.get(item.path) if item is not None else None
        if decoded is None:
            return
        if zoom is not None and zoom <= self.fit_scale() * 1.001:
            zoom = None
        if zoom is not None:
            zoom = min(MAX_ZOOM, zoom)
            old = self.scale()
            centre = self.centre if self.zoom is not None else QPointF(decoded.full.width() / 2,
                                                                       decoded.full.height() / 2)
            if anchor is not None:
                dpr = self.devicePixelRatioF()
                offset = (anchor - QPointF(self.width() / 2, self.height() / 2)) * dpr
                point = centre + offset / old
                centre = point - offset / zoom
            self.centre = centre
        self.zoom = zoom
        self._clamp()
        self.update()

    def _clamp(self) -> None:
        item = self.current()
        decoded = self._cache.get(item.path) if item is not None else None
        if decoded is None or self.zoom is None:
            return
        dpr = self.devicePixelRatioF()
        half_w = self.width() * dpr / 2 / self.zoom
        half_h = self.height() * dpr / 2 / self.zoom
        w, h = decoded.full.width(), decoded.full.height()
        x = w / 2 if half_w * 2 >= w else min(max(self.centre.x(), half_w), w - half_w)
        y = h / 2 if half_h * 2 >= h else min(max(self.centre.y(), half_h), h - half_h)
        self.centre = QPointF(x, y)

    def toggle_actual_size(self, anchor: QPointF | None = None) -> None:
        self.set_zoom(1.0 if self.zoom is None else None, anchor)

    # -- modes ------------------------------------------------------------------------------

    def toggle_full_screen(self) -> None:
        self.full_screen = not self.full_screen
        self.fullScreenRequested.emit(self.full_screen)

    def toggle_slideshow(self) -> None:
        if self.slideshow.isActive():
            self.slideshow.stop()
        else:
            self.slideshow.start()

    def _slide(self) -> None:
        if self.index >= self.count() - 1:
            self.slideshow.stop()
        else:
            self.step(1)

    # -- events -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        plain = not (mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier))
        actions = {
            Qt.Key.Key_Right: lambda: self.step(1), Qt.Key.Key_Left: lambda: self.step(-1),
            Qt.Key.Key_Home: lambda: self.show_index(0), Qt.Key.Key_End: lambda: self.show_index(self.count()),
            Qt.Key.Key_Escape: self.close_viewer, Qt.Key.Key_Return: self.close_viewer,
            Qt.Key.Key_Enter: self.close_viewer, Qt.Key.Key_Space: lambda: self.step(1),
            Qt.Key.Key_F: self.toggle_full_screen, Qt.Key.Key_I: self.toggle_info,
            Qt.Key.Key_S: self.toggle_slideshow, Qt.Key.Key_Z: self.toggle_actual_size,
            Qt.Key.Key_Plus: lambda: self.set_zoom(self.scale() * 1.25),
            Qt.Key.Key_Equal: lambda: self.set_zoom(self.scale() * 1.25),
            Qt.Key.Key_Minus: lambda: self.set_zoom(self.scale() / 1.25),
        }
        action = actions.get(Qt.Key(key)) if plain else None
        if action is None:
            self.keyForGrid.emit(event)
            event.accept()
            return
        if key not in (Qt.Key.Key_S, Qt.Key.Key_F, Qt.Key.Key_I):
            self.slideshow.stop()
        action()
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.scale() * (1.25 ** steps), event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.zoom is not None:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None and self.zoom is not None:
            delta = (event.position() - self._drag_from) * self.devicePixelRatioF() / self.zoom
            self.centre = self.centre - delta
            self._drag_from = event.position()
            self._clamp()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.toggle_actual_size(event.position())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._clamp()

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor(12, 12, 13))
            item = self.current()
            if item is None:
                return
            decoded = self._cache.get(item.path)
            if decoded is None:
                self._paint_stand_in(painter, item)
            elif self.zoom is None:
                self._paint_fit(painter, item.path, decoded)
            else:
                self._paint_zoomed(painter, decoded)
            if self.info_visible:
                self._paint_info(painter)
        finally:
            painter.end()

    def _paint_stand_in(self, painter: QPainter, item: GridItem) -> None:
        error = self._errors.get(item.path)
        pm, _exact = self.loader.lookup(item.content_hash, item.path, self.thumb_side)
        if pm is not None and not pm.isNull():
            size = pm.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                           size.width(), size.height())
            painter.drawPixmap(target, pm)
        if error:
            painter.setPen(QColor(230, 230, 230))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, f"Cannot show this photo:\n{error}")

    def _paint_fit(self, painter: QPainter, path: str, decoded: Decoded) -> None:
        """The fit copy drawn 1:1; a small photo is enlarged to fit; after a resize the copy is drawn
        scaled while a worker makes the new one."""
        dpr = self.devicePixelRatioF()
        full, image, room = decoded.full, decoded.fit, self._fit_size()
        want = QSize(full.width(), full.height()).scaled(room, Qt.AspectRatioMode.KeepAspectRatio)
        w, h = want.width() / dpr, want.height() / dpr
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        if abs(image.width() - want.width()) <= 2 and abs(image.height() - want.height()) <= 2:
            painter.drawImage(target.topLeft(), image)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, image.width() < want.width())
        painter.drawImage(target, image)
        fits = full.width() <= room.width() and full.height() <= room.height()
        expected = QSize(full.width(), full.height()) if fits else want
        if (abs(expected.width() - image.width()) > 2 or abs(expected.height() - image.height()) > 2) \
                and path not in self._refitting:
            self._refitting.add(path)
            self.runner.run(lambda: fit_image(full, room), lambda fit: self._refitted(path, fit))

    def _refitted(self, path: str, fit: QImage) -> None:
        self._refitting.discard(path)
        decoded = self._cache.get(path)
        if decoded is not None:
            decoded.fit = fit
            self.update()

    def _paint_zoomed(self, painter: QPainter, decoded: Decoded) -> None:
        dpr = self.devicePixelRatioF()
        zoom = self.zoom or 1.0
        half_w, half_h = self.width() * dpr / 2 / zoom, self.height() * dpr / 2 / zoom
        source = QRectF(self.centre.x() - half_w, self.centre.y() - half_h, 2 * half_w, 2 * half_h)
        source = source.intersected(QRectF(0, 0, decoded.full.width(), decoded.full.height()))
        target = QRectF((source.x() - (self.centre.x() - half_w)) * zoom / dpr,
                        (source.y() - (self.centre.y() - half_h)) * zoom / dpr,
                        source.width() * zoom / dpr, source.height() * zoom / dpr)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < 2)
        painter.drawImage(target, decoded.full, source)

    def _paint_info(self, painter: QPainter) -> None:
        lines = self.info_text()
        if not lines:
            return
        metrics = self.fontMetrics()
        width = min(self.width() - 40, max(metrics.horizontalAdvance(line) for line in lines) + 32)
        height = metrics.height() * len(lines) + 16
        box = QRect(20, self.height() - height - 20, width, height)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor(240, 240, 240))
        for i, line in enumerate(lines):
            painter.drawText(QRect(box.x() + 12, box.y() + 8 + i * metrics.height(), width - 24, metrics.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, width - 24))

    def wait(self) -> None:
        self.runner.wait()


def info_lines(library: Any, item: GridItem) -> list[str]:
    """Worker side: the info overlay's lines (name, date, camera, size, place, tags, why it matched)."""
    from photoclip.gui.preview_pane import load_preview_data

    data = load_preview_data(library, item.id, item.path)
    lines = [Path(item.path).name]
    info = data.info
    if info is not None:
        if info.taken_at:
            lines.append(info.taken_at.replace("T", " "))
        camera = " ".join(x for x in (info.camera_make, info.camera_model) if x)
        if camera:
            lines.append(camera)
        if info.width and info.height:
            lines.append(f"{info.width} \u00d7 {info.height}")
    place = data.place
    if place is not None:
        lines.append(", ".join(x for x in (place.city, place.region, place.country) if x))
    names = [str(getattr(t, "name", t)) for t in data.tags if not getattr(t, "rejected", False)]
    if names:
        lines.append("Tags: " + ", ".join(names[:12]))
    if item.why:
        lines.append("Matched on " + "; ".join(item.why))
    return lines
