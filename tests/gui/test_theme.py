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


def _bright_pixels(menu, action) -> int:  # type: ignore[no-untyped-def]
    image = menu.grab().toImage()
    r = menu.actionGeometry(action)
    return sum(1 for x in range(r.x(), r.x() + r.height()) for y in range(r.y(), r.bottom())
               if image.pixelColor(x, y).lightness() > 200)


def test_appearance_setting_applies_live_and_dark_menus_show_check_marks(qtbot, make_window, indexed) -> None:
    from PySide6.QtWidgets import QApplication, QMenu

    from photoclip.gui.settings_dialog import SettingsDialog
    from photoclip.gui.theme import THEME_KEY, apply_theme

    app = QApplication.instance()
    apply_theme(app, "system")
    system_window = app.palette().color(R.Window)
    window = make_window(indexed)
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    qtbot.addWidget(dialog)
    try:
        dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
        assert app.palette().color(R.Window) == dark_palette().color(R.Window)
        assert window.ui.value(THEME_KEY) == "dark"
        menu = QMenu(window)
        checked = menu.addAction("Filters")
        checked.setCheckable(True)
        checked.setChecked(True)
        menu.show()
        assert _bright_pixels(menu, checked) >= 8, "the check mark must stand out on a dark menu"
        menu.close()
        dialog.theme.setCurrentIndex(dialog.theme.findData("system"))
        assert app.palette().color(R.Window) == system_window
    finally:
        dialog.reject()
        apply_theme(app, "system")
