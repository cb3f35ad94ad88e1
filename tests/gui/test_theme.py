"""The dark palette keeps every text colour the app paints with legible (WCAG contrast)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette

from photoclip.gui.empty_state import EmptyState
from photoclip.gui.theme import dark_palette

R = QPalette.ColorRole


def luminance(c: QColor) -> float:
    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(("fg", "bg", "minimum"), [
    (R.Text, R.Base, 7.0),  # file names under thumbnails, lists
    (R.WindowText, R.Window, 7.0),  # labels, the preview's details
    (R.HighlightedText, R.Highlight, 4.5),  # the selected cell's name
    (R.PlaceholderText, R.Base, 4.5),  # the search field's hint, "No tags", the sidebar's activity
    (R.PlaceholderText, R.Window, 4.5),  # the empty grid's hint
    (R.ButtonText, R.Button, 7.0),
    (R.Text, R.AlternateBase, 7.0),  # "cannot read" placeholders in the grid
])
def test_dark_palette_text_is_legible(fg: QPalette.ColorRole, bg: QPalette.ColorRole, minimum: float) -> None:
    p = dark_palette()
    assert contrast(p.color(fg), p.color(bg)) >= minimum


def test_dark_window_paints_with_the_dark_palette(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    window.setPalette(dark_palette())
    window.empty.set_state(EmptyState("No photos here", "Nothing matches these filters."))
    window.stack.setCurrentWidget(window.empty)
    image = window.empty.grab().toImage()
    corner = QColor(image.pixel(2, 2))
    assert luminance(corner) < 0.05, "the empty grid area is dark"
    assert window.grid.palette().color(R.Text) == dark_palette().color(R.Text)
