"""The thumbnail grid: a wrapping list view that stays smooth at 100,000 photos while indexing.

Where the time goes decides the design. Each time Qt calls into Python (a model method, a
delegate's paint) the GUI thread must first win the interpreter lock from the indexing and
thumbnail threads, which can take a switch interval each time. Qt's own item painting makes
several such calls per visible cell, so a repaint during indexing took tens of milliseconds. This
view paints the visible cells itself in one Python call (`paintEvent`), from the Python rows of
the model, with thumbnails already at their on-screen pixel size (no scaling while painting).
The layout is Qt's list mode with wrapping and uniform sizes, which places 10,000 cells without
calling back into Python per cell. Colours come from the palette, so light and dark themes work.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QPainter, QPaintEvent, QPalette, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from photoclip.gui.grid_model import Index, PhotoListModel, file_name
from photoclip.gui.queries import GridItem
from photoclip.gui.thumbnails import ThumbnailLoader

SHADOW, HEART, STAR = QColor(0, 0, 0, 200), QColor(255, 92, 112), QColor(255, 214, 64)
MARK_KEYS = (".", "0", "1", "2", "3", "4", "5")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def day_label(taken: str) -> str:
    """"Saturday 8 July 2023" style, from an ISO date: what Google Photos and Immich pin on the grid."""
    from datetime import date

    try:
        day = date.fromisoformat(taken[:10])
    except ValueError:
        return taken[:10]
    return f"{day.strftime('%a')} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
CELL_ASPECT = 0.75  # cell height / width for the picture
CELL_MARGIN = 7  # pixels around the picture inside a cell (3 outside the highlight, 4 inside)


def paint_cell(painter: QPainter, view: ThumbnailGridWidget, palette: QPalette, rect: QRect, path: str,
               content_hash: str, *, selected: bool, focused: bool, mark: Any = None) -> None:
    """Draw one cell: highlight, the thumbnail centred in its box (or a placeholder), the name."""
    model = view.photo_model()
    inner = rect.adjusted(3, 3, -3, -3)
    if selected:
        painter.fillRect(inner, palette.color(QPalette.ColorRole.Highlight))
    text_h = view.text_height
    box = inner.adjusted(4, 4, -4, -4 - text_h)
    pm, exact = model.loader.lookup(content_hash, path, model.thumb_side)
    picture = box
    if pm is not None and not pm.isNull():
        picture = _draw_thumbnail(painter, box, pm, exact, bottom=text_h > 0)
    else:
        painter.fillRect(box, palette.color(QPalette.ColorRole.AlternateBase))
        if model.loader.failed(content_hash):
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "cannot read")
    if mark is not None:
        _paint_mark(painter, view, picture, mark)
    if text_h:
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        text_rect = QRect(inner.x() + 4, inner.bottom() - text_h, inner.width() - 8, text_h)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, view.elided_name(path, text_rect.width()))
    if focused:
        painter.setPen(palette.color(QPalette.ColorRole.Highlight))
        painter.drawRect(inner.adjusted(0, 0, -1, -1))


def _paint_mark(painter: QPainter, view: ThumbnailGridWidget, box: QRect, mark: Any) -> None:
    """A heart (favourite) at the bottom left, stars at the bottom right, legible on any photo."""
    painter.setFont(view.mark_font)
    h = view.mark_height
    strip = QRect(box.x() + 4, box.bottom() - h - 3, box.width() - 8, h)
    for text, align in (("\u2665" if mark.favourite else "", Qt.AlignmentFlag.AlignLeft),
                        ("\u2605" * mark.rating, Qt.AlignmentFlag.AlignRight)):
        if text:
            painter.setPen(SHADOW)
            painter.drawText(strip.translated(1, 1), align | Qt.AlignmentFlag.AlignVCenter, text)
            painter.setPen(HEART if text.startswith("\u2665") else STAR)
            painter.drawText(strip, align | Qt.AlignmentFlag.AlignVCenter, text)
    painter.setFont(view.font())


def _draw_thumbnail(painter: QPainter, box: QRect, pm: QPixmap, exact: bool, *, bottom: bool = False) -> QRect:
    """Centred in its box (with a caption under it, sat on the caption); returns where it went."""
    size = pm.deviceIndependentSize().toSize()
    fits = size.width() <= box.width() and size.height() <= box.height()
    if not (exact and fits):  # another zoom level until redone, or a portrait photo in a landscape cell
        size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = box.x() + (box.width() - size.width()) // 2
    y = box.bottom() + 1 - size.height() if bottom else box.y() + (box.height() - size.height()) // 2
    if exact and fits:  # made for this size: a plain 1:1 copy, the cheapest thing a painter does
        painter.drawPixmap(QPoint(x, y), pm)
    else:
        painter.drawPixmap(QRect(x, y, size.width(), size.height()), pm)
    return QRect(x, y, size.width(), size.height())


class ThumbnailDelegate(QStyledItemDelegate):
    """Gives every cell the grid size, and paints single cells where Qt asks (drag images)."""

    def __init__(self, view: ThumbnailGridWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self._view.gridSize()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rows = self._view.photo_model().rows
        row = index.row()
        if row < len(rows):
            paint_cell(painter, self._view, option.palette, option.rect, rows.paths[row], rows.hashes[row],
                       selected=bool(option.state & QStyle.StateFlag.State_Selected), focused=False)


class ThumbnailGridWidget(QListView):
    """A wrapping grid of photos; ``activatedPhoto`` fires on Enter or double click."""

    currentPhotoChanged = Signal(object)  # GridItem or None
    activatedPhoto = Signal(object)  # GridItem
    markRequested = Signal(str)  # "." (favourite) or "0".."5" (stars), for the selected photos

    def __init__(self, model: PhotoListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader: ThumbnailLoader = model.loader
        self.show_names = False  # photos, not file names; the name is in the tooltip and the viewer
        self.show_dates = False  # the top row's date pinned over the grid, while in date order
        self.text_height = 0
        self._target = 160
        self.mark_font = self.font()
        self.mark_font.setPointSizeF(self.mark_font.pointSizeF() * 1.15)
        self.mark_font.setBold(True)
        self.mark_height = QFontMetrics(self.mark_font).height()
        self._elided: dict[tuple[str, int], str] = {}
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setSpacing(0)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setAccessibleName("Photos")
        self.set_thumb_size(160)
        self.selectionModel().currentChanged.connect(self._on_current)
        self._scroll_at = 0
        self.verticalScrollBar().valueChanged.connect(self._repaint_date)
        self.activated.connect(lambda idx: self.activatedPhoto.emit(model.item(idx.row())))

    def photo_model(self) -> PhotoListModel:
        model = self.model()
        assert isinstance(model, PhotoListModel)
        return model

    def set_thumb_size(self, size: int) -> None:
        """Cells of about ``size`` pixels, stretched so a whole number of them fills the width."""
        self._target = size
        self._fit_grid()

    def set_show_names(self, show: bool) -> None:
        self.show_names = show
        self._fit_grid()

    def _fit_grid(self) -> None:
        current = self.currentIndex()
        width = max(1, self.viewport().width() - 1)  # Qt wraps a cell that would touch the right edge
        cols = max(1, width // (self._target + 2 * CELL_MARGIN))
        cell = max(self._target + 2 * CELL_MARGIN, width // cols)
        size = cell - 2 * CELL_MARGIN
        self.text_height = self.fontMetrics().height() + 4 if self.show_names else 0
        # Most photos are landscape (3:2, 4:3): a 4:3 cell wastes far less space than a square one.
        grid = QSize(cell, round((cell - 2 * CELL_MARGIN) * CELL_ASPECT) + 2 * CELL_MARGIN + self.text_height)
        if grid == self.gridSize() and self.iconSize().width() == size:
            return
        self.setIconSize(QSize(size, size))
        self.setGridSize(grid)
        dpr = self.devicePixelRatioF()
        self.loader.device_pixel_ratio = dpr
        self.photo_model().thumb_side = round(size * dpr)
        self._elided.clear()
        self.viewport().update()
        if current.isValid():  # zooming keeps the photo one was looking at in view
            QTimer.singleShot(0, lambda: self.currentIndex().isValid() and self.scrollTo(self.currentIndex()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_grid()

    def thumb_size(self) -> int:
        """The size thumbnails are drawn at: the zoom's size, stretched to fill the width."""
        return self.iconSize().width()

    def target_size(self) -> int:
        """The size the zoom asks for."""
        return self._target

    def elided_name(self, path: str, width: int) -> str:
        """The file name shortened to ``width`` pixels, remembered (painting asks for it often)."""
        key = (path, width)
        text = self._elided.get(key)
        if text is None:
            if len(self._elided) > 20_000:
                self._elided.clear()
            text = self.fontMetrics().elidedText(file_name(path), Qt.TextElideMode.ElideMiddle, width)
            self._elided[key] = text
        return text

    # -- painting ---------------------------------------------------------------------------

    def columns(self) -> int:
        return max(1, (self.viewport().width() - 1) // max(1, self.gridSize().width()))

    def _origin(self) -> QPoint:
        """Where Qt's layout puts the first cell now (scrolling included); the rest follow the grid."""
        model = self.photo_model()
        return self.visualRect(model.index(0)).topLeft() if model.rowCount() else QPoint(0, 0)

    def cell_rect(self, row: int) -> QRect:
        """Where ``row`` is drawn, in viewport coordinates (the same place Qt's layout puts it)."""
        grid, cols, origin = self.gridSize(), self.columns(), self._origin()
        return QRect(origin.x() + (row % cols) * grid.width(), origin.y() + (row // cols) * grid.height(),
                     grid.width(), grid.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint every visible cell in this one call (see the module docstring for why)."""
        model = self.photo_model()
        rows = model.rows
        if not len(rows):
            return
        paths, hashes, ids, marks = rows.paths, rows.hashes, rows.ids, model.marks
        grid, cols, origin = self.gridSize(), self.columns(), self._origin()
        gw, gh = grid.width(), grid.height()
        area = event.rect()
        first = max(0, (area.top() - origin.y()) // gh) * cols
        last = min(len(rows) - 1, ((area.bottom() - origin.y()) // gh + 1) * cols - 1)
        selection = self.selectionModel()
        current = self.currentIndex().row() if self.hasFocus() else -1
        palette = self.palette()
        painter = QPainter(self.viewport())
        try:
            for row in range(first, last + 1):
                rect = QRect(origin.x() + (row % cols) * gw, origin.y() + (row // cols) * gh, gw, gh)
                if rect.intersects(area):
                    paint_cell(painter, self, palette, rect, paths[row], hashes[row],
                               selected=selection.isRowSelected(row), focused=row == current,
                               mark=marks.get(ids[row]) if marks else None)
            if self.show_dates:
                self._paint_date(painter, rows.taken, max(0, (-origin.y()) // gh * cols))
        finally:
            painter.end()

    def _repaint_date(self, value: int) -> None:
        """Scrolling blits the viewport, pinned date and all: repaint the band the old one moved into."""
        moved, self._scroll_at = abs(value - self._scroll_at), value
        if self.show_dates:
            band = 16 + self.fontMetrics().height() + 8 + moved
            self.viewport().update(QRect(0, 0, min(self.viewport().width(), 420), band))

    def _paint_date(self, painter: QPainter, taken: list, first_row: int) -> None:
        """The month and day of the top row, pinned at the top left while scrolling (in date order)."""
        if first_row >= len(taken) or not taken[first_row]:
            return
        text = day_label(taken[first_row])
        metrics = self.fontMetrics()
        box = QRect(10, 8, metrics.horizontalAdvance(text) + 20, metrics.height() + 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Space opens the current photo, as Enter and a double click do; "." and 0-5 mark the selection."""
        plain = not event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
        if event.key() == Qt.Key.Key_Space and not event.modifiers() and self.current_item() is not None:
            self.activatedPhoto.emit(self.current_item())
            event.accept()
            return
        if plain and event.text() in MARK_KEYS and event.text():
            self.markRequested.emit(event.text())
            event.accept()
            return
        super().keyPressEvent(event)

    # -- selection --------------------------------------------------------------------------

    def selected_items(self) -> list[GridItem]:
        model = self.photo_model()
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [model.item(r) for r in rows]

    def current_item(self) -> GridItem | None:
        idx = self.currentIndex()
        model = self.photo_model()
        return model.item(idx.row()) if idx.isValid() and idx.row() < len(model.rows) else None

    def select_row(self, row: int) -> None:
        idx = self.model().index(row, 0)
        self.setCurrentIndex(idx)
        self.scrollTo(idx)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.currentPhotoChanged.emit(self.current_item() if current.isValid() else None)
