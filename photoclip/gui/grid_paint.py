"""How the grid draws: one photo's cell, and the date headers between days in date order.

Called from the view's single `paintEvent` (see thumbnail_grid.py for why the view paints the
visible cells itself), and from the delegate when Qt asks for one cell (a drag image).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QLocale, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from photoclip.gui.grid_model import Index
from photoclip.gui.timeline import UNDATED

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


# -- date headers ---------------------------------------------------------------------------------


def _date(key: str) -> QDate | None:
    if len(key) < 10:
        return None
    date = QDate.fromString(key[:10], "yyyy-MM-dd")
    return date if date.isValid() else None


def day_header(key: str, locale: QLocale | None = None) -> str:
    """"Saturday, 14 June 2025" (in the user's language and order) for ``2025-06-14``; "No date" for ""."""
    date = _date(key)
    if date is None:
        return key or UNDATED
    return (locale or QLocale()).toString(date, QLocale.FormatType.LongFormat)


def short_day_header(key: str, locale: QLocale | None = None) -> str:
    """"Sat 14 Jun" (day and month names in the user's language), for a day that shares a line."""
    date = _date(key)
    if date is None:
        return key or UNDATED
    return (locale or QLocale()).toString(date, "ddd d MMM")


def month_header(key: str, locale: QLocale | None = None) -> str:
    """"June 2025" (the month's name in the user's language) for a ``2025-06...`` key; "No date" for ""."""
    date = _date(key[:7] + "-01") if len(key) >= 7 else None
    if date is None:
        return UNDATED
    locale = locale or QLocale()
    return f"{locale.standaloneMonthName(date.month(), QLocale.FormatType.LongFormat)} {date.year()}"


class HeaderStyle:
    """Fonts and band heights of the headers, from the view's font (so zoom and DPI follow it)."""

    def __init__(self, font: QFont) -> None:
        self.month_font = QFont(font)
        self.month_font.setPointSizeF(font.pointSizeF() * 1.45)
        self.month_font.setBold(True)
        self.day_font = QFont(font)
        self.day_font.setWeight(QFont.Weight.DemiBold)
        self.month_h = QFontMetrics(self.month_font).height() + 18
        self.day_h = QFontMetrics(self.day_font).height() + 12

    def heights(self, keys: list[str]) -> tuple[list[int], list[bool]]:
        """The band above each day (its date, and the month's name where a month begins), and
        whether each day begins a month (it then starts a line of its own)."""
        heights, breaks, last = [], [], None
        for key in keys:
            month = key[:7]
            heights.append((self.month_h if month != last else 0) + (self.day_h if key else 0))
            breaks.append(month != last)
            last = month
        return heights, breaks


def paint_month(painter: QPainter, style: HeaderStyle, palette: QPalette, rect: QRect, text: str) -> None:
    """A month's name across the grid, over the first day of that month."""
    painter.setFont(style.month_font)
    painter.setPen(palette.color(QPalette.ColorRole.WindowText))
    painter.drawText(rect.adjusted(CELL_MARGIN + 3, 14, -CELL_MARGIN, 0),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)


def paint_day(painter: QPainter, style: HeaderStyle, palette: QPalette, rect: QRect, long: str, short: str) -> None:
    """A day's date over its photos: the long form where it fits, else the short one, else cut."""
    painter.setFont(style.day_font)
    painter.setPen(palette.color(QPalette.ColorRole.Text))
    box = rect.adjusted(CELL_MARGIN + 3, 8, -CELL_MARGIN, 0)
    metrics = QFontMetrics(style.day_font)
    text = long if metrics.horizontalAdvance(long) <= box.width() else short
    if metrics.horizontalAdvance(text) > box.width():
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, box.width())
    painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)


def paint_date_pill(painter: QPainter, view: ThumbnailGridWidget, text: str) -> QRect:
    """The date of the top photos, pinned at the top left while their header is scrolled away."""
    metrics = view.fontMetrics()
    box = QRect(10, 8, metrics.horizontalAdvance(text) + 20, metrics.height() + 8)
    painter.setFont(view.font())
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 150))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    return box
