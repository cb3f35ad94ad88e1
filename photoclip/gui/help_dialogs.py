"""Help menu dialogs: search tips and About (version, library, and the promise about privacy)."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QMessageBox, QWidget

from photoclip import __version__

SEARCH_TIPS = (
    "<h3>Searching</h3>"
    "<p>Describe what you want to see: <i>dog on the beach at sunset</i>, <i>birthday cake with "
    "candles</i>, <i>snowy mountains</i>.</p>"
    "<ul>"
    "<li><b>beach + sunset</b> \u2014 both ideas at once</li>"
    "<li><b>beach - people</b> \u2014 beaches, but not the ones with people</li>"
    "<li><b>2:beach + sunset</b> \u2014 weigh one idea more than the other</li>"
    "<li>Drop a photo on the window, or use <b>Find similar</b>, to see photos like it</li>"
    "</ul>"
    "<p>Filters (Ctrl+Shift+L) narrow any search or the browsing view by folder, date, type and tag.</p>")


def about_text(library_dir: str, model: str | None) -> str:
    return (
        f"<h3>PhotoClip {__version__}</h3>"
        "<p>Find your photos by what is in them. Everything runs on this computer: photos are "
        "never uploaded or changed.</p>"
        f"<p>Library: {library_dir}<br>Search model: {model or 'none installed'}</p>"
        f"<p><small>Python {platform.python_version()} \u00b7 Qt for Python {pyside_version}</small></p>")


def show_about(parent: QWidget | None, library_dir: str, model: str | None) -> None:
    QMessageBox.about(parent, "About PhotoClip", about_text(library_dir, model))


def show_search_tips(parent: QWidget | None) -> None:
    QMessageBox.about(parent, "Search tips", SEARCH_TIPS)
