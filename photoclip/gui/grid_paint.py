"""How the grid draws one photo's cell (the date headers are in grid_headers.py).

Called from the view's single `paintEvent` (see thumbnail_grid.py for why the view paints the
visible cells itself), and from the delegate when Qt asks for one cell (a drag image).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from photoclip.gui.grid_model import Index

if TYPE_CHECKING:
    from photoclip.gui.thumbnail_grid import ThumbnailGridWidget

SHADOW, HEART, STAR = QColor(0, 0, 0, 200), QColor(255, 92, 112), QColor(255, 214, 64)

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
