"""Words inside a photo in the preview: the recognised text with the query's words highlighted, and
the boxes of the lines that hold them drawn over the picture.

The search reports matched words folded (lower case, no accents) and a word may only start a longer
one (the keyword index matches prefixes), so spans are found by folding each word of the text in
place rather than by searching the folded text, whose positions can differ from the original's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from photoclip.enrich.ocr import OcrLine
from photoclip.search.keywords import fold

_WORD = re.compile(r"[^\W_]+")  # where the keyword tokenizer splits words
HIGHLIGHT = QColor(255, 214, 0, 150)
BOX_PEN = QColor(255, 196, 0)
MAX_LINES = 8


def match_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of every word of ``text`` that is one of ``words`` or starts with one."""
    wanted = [fold(w) for w in words if w]
    if not wanted:
        return []
    return [(m.start(), m.end()) for m in _WORD.finditer(text)
            if any(fold(m.group()).startswith(w) for w in wanted)]


def matching_lines(lines: Sequence[OcrLine], words: Sequence[str]) -> list[OcrLine]:
    return [line for line in lines if match_spans(line.text, words)]


def draw_boxes(pixmap: QPixmap, lines: Sequence[OcrLine], source_size: tuple[int, int]) -> QPixmap:
    """A copy of ``pixmap`` with the lines' boxes drawn on it.

    Boxes are in the pixels of the upright photo (``source_size``), the pixmap a reduced copy of it,
    so the corners are scaled by the ratio of the two widths and heights.
    """
    width, height = source_size
    if not lines or width <= 0 or height <= 0 or pixmap.isNull():
        return pixmap
    sx, sy = pixmap.width() / width, pixmap.height() / height
    out = pixmap.copy()
    painter = QPainter(out)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(BOX_PEN)
        pen.setWidthF(max(2.0, min(out.width(), out.height()) / 200))
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for line in lines:
            painter.drawPolygon(QPolygonF([QPointF(x * sx, y * sy) for x, y in line.box]))
    finally:
        painter.end()
    return out


class RecognisedText(QPlainTextEdit):
    """Read-only, selectable and copyable text read inside the photo, matched words highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setAccessibleName("Text in the photo")

    def show_lines(self, lines: Sequence[OcrLine], words: Sequence[str]) -> None:
        text = "\n".join(line.text for line in lines)
        self.setPlainText(text)
        # as tall as the text (a sign holds a line or two, a document many), scrolling past MAX_LINES
        shown = min(max(1, len(lines)), MAX_LINES)
        margins = self.contentsMargins().top() + self.contentsMargins().bottom() + 2 * self.document().documentMargin()
        self.setFixedHeight(round(shown * self.fontMetrics().lineSpacing() + margins + 2))
        fmt = QTextCharFormat()
        fmt.setBackground(HIGHLIGHT)
        selections = []
        for start, end in match_spans(text, words):
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor  # type: ignore[attr-defined]
            selection.format = fmt  # type: ignore[attr-defined]
            selections.append(selection)
        self.setExtraSelections(selections)

    def highlighted(self) -> list[str]:
        """The highlighted pieces of text, in order (what a reader sees marked)."""
        return [s.cursor.selectedText() for s in self.extraSelections()]
