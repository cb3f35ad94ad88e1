"""Side-by-side comparison of one duplicate group: the photos at the same zoom, their differences in bold.

Zooming (Ctrl+wheel, or the +/- keys) or scrolling one photo moves every other one to the same scale
and the same relative spot, so a detail can be compared across copies. Each column lists size,
format, date, folder and file size; a value that differs from the keeper's is highlighted.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui.workers import Latest, TaskRunner

PREVIEW_SIDE = 1600  # pixels decoded per photo: enough to compare detail at a comfortable zoom
ZOOM_STEP = 1.25


def _size_text(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def facts(member: object) -> dict[str, str]:
    """The fields compared across a group, as shown."""
    m = member
    return {
        "Size": f"{m.width}×{m.height} px" if m.width and m.height else "unknown",
        "Format": (m.format or "unknown").upper(),
        "Date": (m.taken_at or "undated").replace("T", " ") + ("" if m.dated else " (file date)"),
        "Folder": str(Path(m.path).parent),
        "File size": _size_text(m.size),
    }


def differences(members: list) -> dict[int, set[str]]:
    """Per member id, the fields whose value differs from the keeper's (the first member)."""
    if not members:
        return {}
    keep = facts(members[0])
    out = {}
    for m in members:
        mine = facts(m)
        out[m.id] = {k for k, v in mine.items() if v != keep[k]}
    return out


class ZoomView(QGraphicsView):
    """One photo; reports its zoom and scroll position so the others can follow."""

    viewChanged = Signal(float, float, float)  # scale, horizontal and vertical position (0..1)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumSize(240, 240)
        self.scale_factor = 1.0
        self._following = False
        self.horizontalScrollBar().valueChanged.connect(self._moved)
        self.verticalScrollBar().valueChanged.connect(self._moved)

    def set_image(self, image: QImage | None, full_width: int | None) -> None:
        """Show ``image``; ``full_width`` is the photo's real width, so 100% means the same for every copy."""
        if image is None or image.isNull():
            self.item.setPixmap(QPixmap())
            return
        self.item.setPixmap(QPixmap.fromImage(image))
        # Scale the decoded preview so every copy shows at the size of its real pixels: a half-size copy
        # then looks half as big at one zoom, which is what comparing copies is about.
        ratio = (full_width or image.width()) / image.width()
        self.item.setScale(ratio)
        self.scene().setSceneRect(QRectF(0, 0, image.width() * ratio, image.height() * ratio))
        self.apply(self.scale_factor, 0.5, 0.5)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()
            return
        super().wheelEvent(event)

    def zoom_by(self, factor: float) -> None:
        self.scale_factor = max(0.02, min(8.0, self.scale_factor * factor))
        self.setTransform(self.transform().fromScale(self.scale_factor, self.scale_factor))
        self._moved()

    def position(self) -> tuple[float, float]:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        return (h.value() / h.maximum() if h.maximum() else 0.5, v.value() / v.maximum() if v.maximum() else 0.5)

    def apply(self, scale: float, hpos: float, vpos: float) -> None:
        """Follow another view (without echoing back)."""
        self._following = True
        try:
            self.scale_factor = scale
            self.setTransform(self.transform().fromScale(scale, scale))
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(round(hpos * h.maximum()))
            v.setValue(round(vpos * v.maximum()))
        finally:
            self._following = False

    def _moved(self, *_args: object) -> None:
        if not self._following:
            self.viewChanged.emit(self.scale_factor, *self.position())


class CompareView(QWidget):
    """The photos of one group side by side; "Keep this" picks another keeper."""

    keepRequested = Signal(int)  # photo id

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._latest = Latest()
        self.views: dict[int, ZoomView] = {}
        self.labels: dict[int, QLabel] = {}
        self.group = None
        self._syncing = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        zoom = QHBoxLayout()
        self.hint = QLabel("Ctrl+wheel zooms every photo together; drag to look around.", self)
        zoom.addWidget(self.hint, 1)
        for text, factor in (("−", 1 / ZOOM_STEP), ("+", ZOOM_STEP)):
            button = QPushButton(text, self)
            button.setAccessibleName("Zoom out" if text == "−" else "Zoom in")
            button.setFixedWidth(32)
            button.clicked.connect(lambda _=False, f=factor: self.zoom_by(f))
            zoom.addWidget(button)
        fit = QPushButton("Fit", self)
        fit.clicked.connect(self.fit)
        zoom.addWidget(fit)
        outer.addLayout(zoom)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.row = QWidget(self.scroll)
        self.row_layout = QHBoxLayout(self.row)
        self.scroll.setWidget(self.row)
        outer.addWidget(self.scroll, 1)

    def show_group(self, group: object | None) -> None:
        self.group = group
        ticket = self._latest.next()
        while self.row_layout.count():
            w = self.row_layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.views.clear()
        self.labels.clear()
        if group is None:
            return
        diff = differences(group.members)
        for m in group.members:
            self.row_layout.addWidget(self._column(m, group, diff.get(m.id, set())))
        for m in group.members:
            path, mid, width = m.path, m.id, m.width
            self.tasks.run(lambda p=path: _load(p),
                           lambda image, i=mid, w=width: self._loaded(ticket, i, image, w),
                           lambda _exc, i=mid: self._failed(ticket, i))

    def _column(self, m: object, group: object, changed: set[str]) -> QWidget:
        col = QWidget(self.row)
        lay = QVBoxLayout(col)
        title = QLabel(("<b>Keep</b> · " if m.id == group.keep.id else "") + Path(m.path).name, col)
        title.setToolTip(m.path)
        lay.addWidget(title)
        view = ZoomView(col)
        view.viewChanged.connect(lambda s, h, v, src=view: self._sync(src, s, h, v))
        lay.addWidget(view, 1)
        rows = []
        for key, value in facts(m).items():
            text = f"<b style='color:#d9480f'>{value}</b>" if key in changed else value
            rows.append(f"<tr><td>{key}</td><td>{text}</td></tr>")
        info = QLabel("<table>" + "".join(rows) + f"</table><i>{m.reason}</i>", col)
        info.setTextFormat(Qt.TextFormat.RichText)
        info.setWordWrap(True)
        lay.addWidget(info)
        keep = QPushButton("Keep this one", col)
        keep.setEnabled(m.id != group.keep.id)
        keep.clicked.connect(lambda _=False, pid=m.id: self.keepRequested.emit(pid))
        lay.addWidget(keep)
        self.views[m.id] = view
        self.labels[m.id] = info
        return col

    def _loaded(self, ticket: int, photo_id: int, image: QImage, width: int | None) -> None:
        if self._latest.is_current(ticket) and photo_id in self.views:
            self.views[photo_id].set_image(image, width)
            if all(not v.item.pixmap().isNull() for v in self.views.values()):
                self.fit()

    def _failed(self, ticket: int, photo_id: int) -> None:
        if self._latest.is_current(ticket) and photo_id in self.labels:
            self.labels[photo_id].setText(self.labels[photo_id].text() + "<br><b>cannot show this file</b>")

    def _sync(self, source: ZoomView, scale: float, hpos: float, vpos: float) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            for view in self.views.values():
                if view is not source:
                    view.apply(scale, hpos, vpos)
        finally:
            self._syncing = False

    def zoom_by(self, factor: float) -> None:
        views = list(self.views.values())
        if views:
            views[0].zoom_by(factor)  # the others follow

    def fit(self) -> None:
        """Fit the biggest photo in its column; the rest take the same scale."""
        views = [v for v in self.views.values() if not v.item.pixmap().isNull()]
        if not views:
            return
        biggest = max(views, key=lambda v: v.scene().sceneRect().width())
        rect = biggest.scene().sceneRect()
        port = biggest.viewport().size()
        scale = min(port.width() / rect.width(), port.height() / rect.height()) if rect.width() else 1.0
        biggest.apply(scale, 0.5, 0.5)
        self._sync(biggest, scale, 0.5, 0.5)


def _load(path: str) -> QImage:
    """Decode off the GUI thread (Pillow), hand Qt an image it owns."""
    from photoclip import imaging

    image = imaging.thumbnail(path, PREVIEW_SIDE)
    data = image.tobytes("raw", "RGB")
    return QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888).copy()
