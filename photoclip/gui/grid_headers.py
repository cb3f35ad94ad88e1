"""The date headers of the grid in date order: their text, where they go, how they are drawn.

A day's date sits over its first photo; where a month begins, the month's name runs across the
grid above it. Texts follow the user's language (`QLocale`) and are made once per day. Days that
share a line (see grid_layout.py) all use the short form, so the line reads evenly; a day alone on
its line gets the long one. While scrolling, the top photos' day is pinned at the top left once
its header has gone by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QLocale, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QWidget

from photoclip.gui.grid_layout import SectionLayout
from photoclip.gui.grid_paint import CELL_MARGIN
from photoclip.gui.timeline import UNDATED

if TYPE_CHECKING:
    from photoclip.gui.grid_model import PhotoListModel
    from photoclip.gui.queries import DaySections


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
        self.day_metrics = QFontMetrics(self.day_font)
        self.month_h = QFontMetrics(self.month_font).height() + 18
        self.day_h = self.day_metrics.height() + 12

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
    metrics = style.day_metrics
    text = long if metrics.horizontalAdvance(long) <= box.width() else short
    if metrics.horizontalAdvance(text) > box.width():
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, box.width())
    painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)


def paint_date_pill(painter: QPainter, view: QWidget, text: str) -> QRect:
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


class DateHeaders:
    """The view's headers for the model's days: heights for the layout, texts, places and painting."""

    def __init__(self, model: PhotoListModel, font: QFont) -> None:
        self.model = model
        self.style = HeaderStyle(font)
        self._heights: tuple[DaySections | None, tuple[list[int], list[bool]]] = (None, ([], []))
        self._labels: dict[str, str] = {}

    def heights(self, days: DaySections) -> tuple[list[int], list[bool]]:
        """Each day's band and whether it begins a month, worked out once per list of days."""
        if self._heights[0] is not days:
            self._heights = (days, self.style.heights(days.keys))
        return self._heights[1]

    def _label(self, key: str, kind: str) -> str:
        """The month ("m"), long day ("d") or short day ("s") header of a day, made once."""
        name = kind + key
        text = self._labels.get(name)
        if text is None:
            make = {"m": month_header, "d": day_header, "s": short_day_header}[kind]
            text = self._labels[name] = make(key)
        return text

    def rects(self, layout: SectionLayout, i: int, offset: int, width: int) -> tuple[QRect | None, QRect | None]:
        """Where day ``i``'s month name (if it begins a month) and its date go, in viewport coordinates."""
        days = self.model.days
        if days is None or i >= len(days.keys):
            return None, None
        key, style = days.keys[i], self.style
        starts_month = i == 0 or key[:7] != days.keys[i - 1][:7]
        month = QRect(0, layout.tops[i] - offset, width, style.month_h) if starts_month else None
        if not key:
            return month, None
        x = layout.col0[i] * layout.cell_w
        shares = layout.band(i)[1] > i  # a day after it on the same line: stop where that one starts
        right = (layout.col0[i] + layout.count(i)) * layout.cell_w if shares else width
        return month, QRect(x, layout.cell_tops[i] - offset - style.day_h, right - x, style.day_h)

    def paint(self, painter: QPainter, palette: QPalette, layout: SectionLayout, i: int, offset: int,
              width: int, area: QRect) -> None:
        """Day ``i``'s headers, where they meet ``area`` of a viewport ``width`` wide."""
        days = self.model.days
        if days is None or i >= len(days.keys):
            return
        key = days.keys[i]
        month, day = self.rects(layout, i, offset, width)
        if month is not None and month.intersects(area):
            paint_month(painter, self.style, palette, month, self._label(key, "m"))
        if day is not None and day.intersects(area):
            first, last = layout.band(i)
            long = self._label(key, "s" if first != last else "d")  # days sharing a line: all short
            paint_day(painter, self.style, palette, day, long, self._label(key, "s"))

    def all(self, layout: SectionLayout, offset: int, width: int) -> list[tuple[str, QRect]]:
        """Every header's (long) text and place in order, months and days."""
        days = self.model.days
        if days is None:
            return []
        out = []
        for i, key in enumerate(days.keys[:len(layout)]):
            month, day = self.rects(layout, i, offset, width)
            if month is not None:
                out.append((self._label(key, "m"), month))
            if day is not None:
                out.append((self._label(key, "d"), day))
        return out

    def paint_pinned(self, painter: QPainter, view: QWidget, layout: SectionLayout, offset: int) -> None:
        """The top photos' day, pinned at the top left once their header has scrolled away."""
        days = self.model.days
        if days is None or not days.keys:
            return
        i = layout.section_at(offset)
        if i >= len(days.keys) or not days.keys[i] or offset < layout.cell_tops[i]:
            return  # the header itself is in view (or these photos have no date)
        pill_bottom = 8 + view.fontMetrics().height() + 8
        nxt = layout.band(i)[1] + 1
        if nxt < len(layout) and layout.tops[nxt] - offset < pill_bottom + 6:
            return  # the next header is arriving where the pill would sit
        paint_date_pill(painter, view, self._label(days.keys[i], "d"))
