"""The timeline scrubber beside the grid: years and months, to jump through 100,000 photos at once.

While the grid is in date order (browsing, or a search sorted by date), the scrubber shows the
years down its height in proportion to how many photos each holds, the month under the pointer,
and where the grid is now. A click or a drag jumps there. The sections (first row of each month)
are found on the worker that answered the request, so the GUI thread only bisects a list.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

from photoclip.gui.queries import month_sections

__all__ = ["TimelineScrubber", "month_label", "month_sections"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UNDATED = "No date"


def month_label(key: str) -> str:
    """"May 2023" for ``2023-05``; "No date" for photos without one."""
    if len(key) < 7 or not key[:4].isdigit() or not key[5:7].isdigit():
        return UNDATED
    return f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"


class TimelineScrubber(QWidget):
    """Emits ``jumpTo(row)``: the first photo of the month under the pointer."""

    jumpTo = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Timeline")
        self.setToolTip("Drag to move through the years")
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.sections: list[tuple[str, int]] = []
        self._starts: list[int] = []
        self.total = 0
        self.position = 0  # the first visible row of the grid
        self._hover: int | None = None  # y of the pointer while over the scrubber
        self._labels: list[tuple[int, str, bool]] | None = None
        self.setFixedWidth(64)

    def sizeHint(self) -> QSize:
        return QSize(64, 200)

    def set_sections(self, sections: list[tuple[str, int]], total: int) -> None:
        self.sections, self.total = sections, total
        self._starts = [row for _key, row in sections]
        self._labels = None
        self.update()

    def set_position(self, row: int) -> None:
        if self._y_of(row) != self._y_of(self.position):
            old = self._y_of(self.position)
            self.position = row
            self.update(QRect(self.width() - 4, old - 7, 4, 14))  # only the marker moved
            self.update(QRect(self.width() - 4, self._y_of(row) - 7, 4, 14))
        self.position = row

    # -- rows and heights -------------------------------------------------------------------

    def _y_of(self, row: int) -> int:
        usable = max(1, self.height() - 16)
        return 8 + round(usable * row / max(1, self.total))

    def row_at(self, y: int) -> int:
        """The first row of the month at height ``y``."""
        if not self.sections:
            return 0
        usable = max(1, self.height() - 16)
        row = round((min(max(y - 8, 0), usable)) * self.total / usable)
        i = max(0, bisect.bisect_right(self._starts, row) - 1)
        return self._starts[i]

    def section_of(self, row: int) -> str:
        if not self.sections:
            return ""
        i = max(0, bisect.bisect_right(self._starts, row) - 1)
        return self.sections[i][0]

    # -- events -----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._jump(int(event.position().y()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = int(event.position().y())
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(self._hover)
        self.update()

    def leaveEvent(self, _event: object) -> None:
        self._hover = None
        self.update()

    def _jump(self, y: int) -> None:
        if self.sections:
            row = self.row_at(y)
            self.position = row
            self.jumpTo.emit(row)
            self.update()

    # -- painting ---------------------------------------------------------------------------

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._labels = None

    def _layout(self) -> list[tuple[int, str, bool]]:
        """(y, text, is_year) of every label that fits, worked out once per sections and height."""
        if self._labels is not None:
            return self._labels
        line_h = self.fontMetrics().height()
        labels: list[tuple[int, str, bool]] = []
        years: list[int] = []
        last_y, last_year = -line_h, None
        for key, row in self.sections:  # years first: they must always show
            year = key[:4] or UNDATED
            if year == last_year:
                continue
            last_year = year
            y = self._y_of(row)
            labels.append((y, year if y - last_y >= line_h else "", True))
            if y - last_y >= line_h:
                last_y = y
            years.append(y)
        last_y = -line_h
        for key, row in self.sections:  # then months wherever there is room
            y = self._y_of(row)
            if len(key) < 7 or any(abs(y - t) < line_h for t in years):
                continue
            if y - last_y >= line_h:
                labels.append((y, MONTHS[int(key[5:7]) - 1], False))
                last_y = y
        self._labels = labels
        return labels

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.sections:
            return
        painter = QPainter(self)
        try:
            palette = self.palette()
            muted = palette.color(QPalette.ColorRole.PlaceholderText)
            text = palette.color(QPalette.ColorRole.WindowText)
            line_h = self.fontMetrics().height()
            bold = self.font()
            bold.setBold(True)
            for y, label, is_year in self._layout():
                if is_year:
                    painter.setPen(muted)
                    painter.drawLine(self.width() - 8, y, self.width() - 2, y)
                if label:
                    painter.setPen(text if is_year else muted)
                    painter.setFont(bold if is_year else self.font())
                    painter.drawText(QRect(0, y - 2, self.width() - 10, line_h),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, label)
            painter.setFont(self.font())
            here = self._y_of(self.position)
            accent = palette.color(QPalette.ColorRole.Highlight)
            painter.fillRect(QRect(self.width() - 4, here - 6, 4, 12), accent)
            if self._hover is not None:
                label = month_label(self.section_of(self.row_at(self._hover)))
                box = QRect(QPoint(0, self._hover - line_h // 2 - 3), QSize(self.width() - 2, line_h + 6))
                painter.fillRect(box, QColor(accent.red(), accent.green(), accent.blue(), 235))
                painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        finally:
            painter.end()
