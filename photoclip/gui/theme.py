"""How the app looks: its icon, and light or dark colours (every widget and the grid paint from them).

The app follows the desktop's colours by default; Settings > Appearance (kept in the UI settings as
``appearance/theme``) or ``PHOTOCLIP_THEME=dark`` (or ``light``) picks a Fusion palette instead, for
desktops that do not tell Qt their colour scheme. The choice applies live.
"""

from __future__ import annotations

import os

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from photoclip.paths import resources_dir

THEME_VARIABLE = "PHOTOCLIP_THEME"
THEME_KEY = "appearance/theme"
THEMES = (("system", "Same as the system"), ("light", "Light"), ("dark", "Dark"))
_system: tuple[str, QPalette] | None = None  # the desktop's style and colours, to go back to


def app_icon() -> QIcon:
    """The PhotoClip icon at every rendered size (PNG needs no image plugin), else the SVG."""
    folder = resources_dir() / "icons"
    icon = QIcon()
    for png in sorted(folder.glob("photoclip-*.png")):
        icon.addFile(str(png))
    return icon if not icon.isNull() else QIcon(str(folder / "photoclip.svg"))


def dark_palette() -> QPalette:
    """A calm dark palette with enough contrast for text, placeholders and selections."""
    p = QPalette()
    window, base, text = QColor(37, 38, 41), QColor(27, 28, 30), QColor(226, 228, 232)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(48, 50, 54),
        QPalette.ColorRole.ToolTipBase: QColor(55, 57, 61),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(150, 154, 160),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(50, 52, 56),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 120, 120),
        QPalette.ColorRole.Highlight: QColor(47, 101, 184),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 170, 250),
        QPalette.ColorRole.Light: QColor(70, 72, 77),
        QPalette.ColorRole.Midlight: QColor(58, 60, 64),
        QPalette.ColorRole.Mid: QColor(44, 46, 50),
        QPalette.ColorRole.Dark: QColor(20, 21, 23),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    muted = QColor(125, 128, 134)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, muted)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(70, 72, 77))
    return p


def apply_theme(app: QApplication, name: str | None = None) -> str:
    """Use ``name`` ("dark", "light", "system"), else $PHOTOCLIP_THEME, else the desktop's; returns it."""
    global _system
    if _system is None:
        _system = (app.style().name(), QPalette(app.palette()))
    name = (name or os.environ.get(THEME_VARIABLE, "")).strip().lower()
    if name == "dark":
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
        app.setStyleSheet(CHECK_MARKS)
        return "dark"
    if name == "light":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
        app.setStyleSheet("")
        return "light"
    app.setStyle(_system[0])
    app.setPalette(_system[1])
    app.setStyleSheet("")
    return "system"


# Fusion draws a menu's check mark thin and grey, which all but vanishes on a dark menu: a clear
# mark in the text colour instead.
_CHECK = (resources_dir() / "icons" / "check-light.png").as_posix()
CHECK_MARKS = f"QMenu::indicator:checked {{ image: url({_CHECK}); width: 16px; height: 16px; }}"
