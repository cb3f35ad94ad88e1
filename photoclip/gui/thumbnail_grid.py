"""The thumbnail grid: a list model of photos and an icon-mode view that stays smooth at 100,000.

The model holds small `GridItem` rows and asks the `ThumbnailLoader` for pixmaps only when the view
paints a cell, so only visible rows cost anything. Uniform item sizes let Qt lay the grid out
without measuring each cell. Colours come from the palette, so light and dark themes both work.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from photoclip.gui.queries import GridItem
from photoclip.gui.thumbnails import ThumbnailLoader

PHOTO_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
SCORE_ROLE = Qt.ItemDataRole.UserRole + 3
ITEM_ROLE = Qt.ItemDataRole.UserRole + 4

Index = QModelIndex | QPersistentModelIndex


class PhotoListModel(QAbstractListModel):
    """Rows of photos; thumbnails are fetched lazily through the loader."""

    def __init__(self, loader: ThumbnailLoader, parent: object = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self._items: list[GridItem] = []
        self._rows_by_hash: dict[str, list[int]] = {}
        self._changed_rows: set[int] = set()
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(30)
        self._flush_timer.timeout.connect(self._flush_changes)
        loader.ready.connect(self._on_thumbnail)

    def set_items(self, items: list[GridItem]) -> None:
        self.beginResetModel()
        self._items = items
        self._rows_by_hash = {}
        for row, item in enumerate(items):
            self._rows_by_hash.setdefault(item.content_hash, []).append(row)
        self._changed_rows.clear()
        self.endResetModel()
        self.loader.forget_queue()

    def items(self) -> list[GridItem]:
        return self._items

    def item(self, row: int) -> GridItem:
        return self._items[row]

    def row_of(self, photo_id: int) -> int:
        for row, item in enumerate(self._items):
            if item.id == photo_id:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.path.replace("\\", "/").rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.DecorationRole:
            pm = self.loader.pixmap(item.content_hash, item.path)
            return pm
        if role == Qt.ItemDataRole.ToolTipRole:
            score = f"\nscore {item.score:.2f}" if item.score is not None else ""
            taken = f"\n{item.taken_at.replace('T', ' ')}" if item.taken_at else ""
            return f"{item.path}{taken}{score}"
        if role == PHOTO_ID_ROLE:
            return item.id
        if role == PATH_ROLE:
            return item.path
        if role == SCORE_ROLE:
            return item.score
        if role == ITEM_ROLE:
            return item
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        """Dragged thumbnails leave as file URLs, so file managers and editors take the files."""
        mime = QMimeData()
        paths = [self._items[i.row()].path for i in indexes if i.isValid()]
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        mime.setText("\n".join(paths))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _on_thumbnail(self, content_hash: str) -> None:
        """Coalesce finished thumbnails into one repaint every 30 ms instead of one per photo."""
        rows = self._rows_by_hash.get(content_hash)
        if rows:
            self._changed_rows.update(rows)
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def _flush_changes(self) -> None:
        rows = [r for r in self._changed_rows if r < len(self._items)]
        self._changed_rows.clear()
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws a thumbnail centred in its cell, with the file name below, in palette colours."""

    def __init__(self, view: ThumbnailGridWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self._view.gridSize()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        palette: QPalette = option.palette
        rect: QRect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        text_h = option.fontMetrics.height() + 4
        image_rect = rect.adjusted(4, 4, -4, -4 - text_h)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if pm is not None and not pm.isNull():
            scaled = pm.size().scaled(image_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = image_rect.x() + (image_rect.width() - scaled.width()) // 2
            y = image_rect.y() + (image_rect.height() - scaled.height()) // 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawPixmap(QRect(x, y, scaled.width(), scaled.height()), pm)
        else:
            painter.fillRect(image_rect, palette.color(QPalette.ColorRole.AlternateBase))
            loader = self._view.loader
            item = index.data(ITEM_ROLE)
            if loader is not None and item is not None and loader.failed(item.content_hash):
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(image_rect, Qt.AlignmentFlag.AlignCenter, "cannot read")
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        text_rect = QRect(rect.x() + 4, rect.bottom() - text_h, rect.width() - 8, text_h)
        name = option.fontMetrics.elidedText(str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
                                             Qt.TextElideMode.ElideMiddle, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, name)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.restore()


class ThumbnailGridWidget(QListView):
    """Icon-mode list of photos; ``activatedPhoto`` fires on Enter or double click."""

    currentPhotoChanged = Signal(object)  # GridItem or None
    activatedPhoto = Signal(object)  # GridItem

    def __init__(self, model: PhotoListModel, parent: object = None) -> None:
        super().__init__(parent)
        self.loader: ThumbnailLoader | None = model.loader
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setAccessibleName("Photos")
        self.set_thumb_size(160)
        self.selectionModel().currentChanged.connect(self._on_current)
        self.activated.connect(lambda idx: self.activatedPhoto.emit(model.item(idx.row())))

    def photo_model(self) -> PhotoListModel:
        model = self.model()
        assert isinstance(model, PhotoListModel)
        return model

    def set_thumb_size(self, size: int) -> None:
        text_h = self.fontMetrics().height() + 4
        self.setIconSize(QSize(size, size))
        self.setGridSize(QSize(size + 14, size + 14 + text_h))
        self.setSpacing(0)

    def thumb_size(self) -> int:
        return self.iconSize().width()

    def selected_items(self) -> list[GridItem]:
        model = self.photo_model()
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [model.item(r) for r in rows]

    def current_item(self) -> GridItem | None:
        idx = self.currentIndex()
        return self.photo_model().item(idx.row()) if idx.isValid() else None

    def select_row(self, row: int) -> None:
        idx = self.model().index(row, 0)
        self.setCurrentIndex(idx)
        self.scrollTo(idx)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        model = self.photo_model()
        self.currentPhotoChanged.emit(model.item(current.row()) if current.isValid() else None)
