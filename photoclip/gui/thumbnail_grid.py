"""The thumbnail grid: a wrapping list view that stays smooth at 100,000 photos while indexing.

Where the time goes decides the design. Each time Qt calls into Python (a model method, a
delegate's paint) the GUI thread must first win the interpreter lock from the indexing and
thumbnail threads, which can take a switch interval each time. Qt's own item painting makes
several such calls per visible cell, so a repaint during indexing took tens of milliseconds. This
view paints the visible cells itself in one Python call (`paintEvent`), from the Python rows of
the model, with thumbnails already at their on-screen pixel size (no scaling while painting).

In date order the grid shows a header over each day and month, the way photo apps group a
timeline. The headers are not rows of the model (so a row is always a photo, for the selection,
Ctrl+A, the viewer, drags and every action): the view places cells itself with a `SectionLayout`
and answers Qt's geometry questions from it (`visualRect`, `indexAt`, `moveCursor`,
`setSelection`, `scrollTo`, the scroll range). Colours come from the palette, so light and dark
themes work.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDrag, QFontMetrics, QKeyEvent, QPainter, QPaintEvent, QPixmap, QRegion, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from photoclip.gui.grid_headers import DateHeaders
from photoclip.gui.grid_layout import SectionLayout
from photoclip.gui.grid_model import PhotoListModel, file_name
from photoclip.gui.grid_paint import CELL_ASPECT, CELL_MARGIN, ThumbnailDelegate, paint_cell
from photoclip.gui.queries import DaySections, GridItem
from photoclip.gui.thumbnails import ThumbnailLoader

MARK_KEYS = (".", "0", "1", "2", "3", "4", "5")
Action = QAbstractItemView.CursorAction
Hint = QAbstractItemView.ScrollHint


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
        self.headers = DateHeaders(model, self.font())
        self._layout = SectionLayout([0], [0], 0, 1, 1, 1)
        self._layout_key: tuple | None = None
        self._layout_days: DaySections | None = None  # kept so its id() stays unique while cached
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
        model.sectionsChanged.connect(self._on_sections)

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
        self.updateGeometries()
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
        self.updateGeometries()

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

    # -- layout: where cells and headers go (see grid_layout.py) ------------------------------

    def columns(self) -> int:
        return max(1, (self.viewport().width() - 1) // max(1, self.gridSize().width()))

    def grid_layout(self) -> SectionLayout:
        """The layout for the model's rows and days at this width and zoom, made once for each."""
        model = self.photo_model()
        days = model.days
        grid, cols = self.gridSize(), self.columns()
        # While the model edits its rows the days still describe the final rows: keep their layout.
        total = days.total if days is not None else len(model.rows)
        key = (id(days), total, cols, grid.width(), grid.height())
        if key != self._layout_key:
            if days is None:
                self._layout = SectionLayout([0], [0], total, cols, grid.width(), grid.height())
            else:
                heights, breaks = self.headers.heights(days)
                self._layout = SectionLayout(days.starts, heights, total, cols, grid.width(), grid.height(), breaks)
            self._layout_key, self._layout_days = key, days
        return self._layout

    def _on_sections(self) -> None:
        self.updateGeometries()
        self.viewport().update()

    def updateGeometries(self) -> None:
        """The scroll range comes from our layout (Qt's own list layout has no headers)."""
        QAbstractItemView.updateGeometries(self)
        layout = self.grid_layout()
        height = self.viewport().height()
        bar = self.verticalScrollBar()
        bar.setSingleStep(layout.cell_h)
        bar.setPageStep(height)
        bar.setRange(0, max(0, layout.height - height))
        self.horizontalScrollBar().setRange(0, 0)

    def visualRect(self, index: QModelIndex) -> QRect:
        row = index.row()
        if not index.isValid() or row >= self.photo_model().rowCount():
            return QRect()
        return self.cell_rect(row)

    def cell_rect(self, row: int) -> QRect:
        """Where ``row`` is drawn, in viewport coordinates."""
        layout = self.grid_layout()
        col, y = layout.cell(row)
        return QRect(col * layout.cell_w, y - self.verticalOffset(), layout.cell_w, layout.cell_h)

    def indexAt(self, point: QPoint) -> QModelIndex:
        row = self._row_at(point)
        return self.photo_model().index(row, 0) if row >= 0 else QModelIndex()

    def _row_at(self, point: QPoint) -> int:
        layout = self.grid_layout()
        if point.x() < 0:
            return -1
        row = layout.row_at(point.x() // layout.cell_w, point.y() + self.verticalOffset())
        return row if row < self.photo_model().rowCount() else -1

    def top_row(self) -> int:
        """The first photo at the top of the viewport (what the scrubber and the pinned date follow)."""
        return self.grid_layout().first_row_at(self.verticalOffset())

    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """Arrows move from photo to photo: Down from a day's last line goes to the next day's first."""
        model = self.photo_model()
        n = model.rowCount()
        current = self.currentIndex()
        if not n:
            return QModelIndex()
        if not current.isValid():
            return model.index(0, 0)
        layout, row = self.grid_layout(), current.row()
        if action in (Action.MoveRight, Action.MoveNext):
            row += 1
        elif action in (Action.MoveLeft, Action.MovePrevious):
            row -= 1
        elif action == Action.MoveDown:
            row = layout.below(row)
        elif action == Action.MoveUp:
            row = layout.above(row)
        elif action == Action.MoveHome:
            row = 0
        elif action == Action.MoveEnd:
            row = n - 1
        elif action in (Action.MovePageDown, Action.MovePageUp):
            col, y = layout.cell(row)
            page = self.viewport().height() * (1 if action == Action.MovePageDown else -1)
            row = layout.near(col, y + page)
        return model.index(min(max(row, 0), n - 1), 0)

    def setSelection(self, rect: QRect, command: object) -> None:
        """Select the photos from where the rectangle starts to where it ends, in reading order.

        Qt passes the anchor as the first corner and the pointer (or the new current photo) as
        the second, for Shift+click, Shift+arrows and dragging alike; a range, not a rectangle, is
        what a timeline selects. A plain click on a header or an empty place selects nothing.
        """
        model = self.photo_model()
        start, end = rect.topLeft(), rect.bottomRight()
        if start == end:
            first = last = self._row_at(start)
        else:
            layout, offset = self.grid_layout(), self.verticalOffset()
            a = layout.near(start.x() // layout.cell_w, start.y() + offset)
            b = layout.near(end.x() // layout.cell_w, end.y() + offset)
            first, last = min(a, b), min(max(a, b), model.rowCount() - 1)
        selection = QItemSelection()
        if 0 <= first <= last:
            selection.select(model.index(first, 0), model.index(last, 0))
        self.selectionModel().select(selection, command)  # type: ignore[arg-type]

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        layout, offset = self.grid_layout(), self.verticalOffset()
        width, height = self.viewport().width(), self.viewport().height()
        region = QRegion()
        for part in selection:
            top = layout.cell(part.top())[1] - offset
            bottom = layout.cell(part.bottom())[1] + layout.cell_h - offset
            if bottom > 0 and top < height:
                region = region.united(QRect(0, max(0, top), width, min(height, bottom) - max(0, top)))
        return region

    def scrollTo(self, index: QModelIndex, hint: Hint = Hint.EnsureVisible) -> None:
        """Scroll so the photo shows; a photo on its day's first line shows with the day's header."""
        if not index.isValid() or index.row() >= self.photo_model().rowCount():
            return
        layout = self.grid_layout()
        row = index.row()
        top, cell_top = layout.top_of(row), layout.cell(row)[1]
        bottom = cell_top + layout.cell_h
        bar, height = self.verticalScrollBar(), self.viewport().height()
        if bar.maximum() != max(0, layout.height - height):
            self.updateGeometries()
        value = bar.value()
        if hint == Hint.PositionAtTop:
            value = top
        elif hint == Hint.PositionAtBottom:
            value = bottom - height
        elif hint == Hint.PositionAtCenter:
            value = (cell_top + bottom - height) // 2
        elif top < value:
            value = top
        elif bottom > value + height:
            value = min(cell_top, bottom - height)
        bar.setValue(value)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        """Drag the selected photos as files (and ids, for albums); the picture is the photo grabbed."""
        indexes = self.selectionModel().selectedIndexes()
        if not indexes:
            return
        drag = QDrag(self)
        drag.setMimeData(self.model().mimeData(indexes))
        grabbed = self.currentIndex() if self.currentIndex().isValid() else indexes[0]
        picture = self.viewport().grab(self.visualRect(grabbed)) if self.visualRect(grabbed).isValid() else QPixmap()
        if not picture.isNull():
            drag.setPixmap(picture.scaledToWidth(min(picture.width(), 120), Qt.TransformationMode.SmoothTransformation))
        drag.exec(Qt.DropAction.CopyAction)

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint every visible header and cell in this one call (see the module docstring for why)."""
        model = self.photo_model()
        rows = model.rows
        if not len(rows):
            return
        paths, hashes, ids, marks = rows.paths, rows.hashes, rows.ids, model.marks
        layout, offset = self.grid_layout(), self.verticalOffset()
        gw, gh, cols = layout.cell_w, layout.cell_h, layout.cols
        area = event.rect()
        width = self.viewport().width()
        selection = self.selectionModel()
        current = self.currentIndex().row() if self.hasFocus() else -1
        palette = self.palette()
        painter = QPainter(self.viewport())
        try:
            for i, first, last in layout.visible(area.top() + offset, area.bottom() + offset):
                if layout.headers[i]:
                    self.headers.paint(painter, palette, layout, i, offset, width, area)
                start, top = layout.starts[i] - layout.col0[i], layout.cell_tops[i] - offset
                for row in range(first, min(last, len(rows) - 1) + 1):
                    k = row - start
                    rect = QRect((k % cols) * gw, top + (k // cols) * gh, gw, gh)
                    if rect.intersects(area):
                        paint_cell(painter, self, palette, rect, paths[row], hashes[row],
                                   selected=selection.isRowSelected(row), focused=row == current,
                                   mark=marks.get(ids[row]) if marks else None)
            if self.show_dates:
                self.headers.paint_pinned(painter, self, layout, offset)
        finally:
            painter.end()

    def date_headers(self) -> list[tuple[str, QRect]]:
        """Every header's text and place (viewport coordinates) in order: months and days."""
        return self.headers.all(self.grid_layout(), self.verticalOffset(), self.viewport().width())

    def _repaint_date(self, value: int) -> None:
        """Scrolling blits the viewport, pinned date and all: repaint the band the old one moved into."""
        moved, self._scroll_at = abs(value - self._scroll_at), value
        if self.show_dates:
            band = 16 + self.fontMetrics().height() + 8 + moved
            self.viewport().update(QRect(0, 0, min(self.viewport().width(), 420), band))

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
