"""The main window's look between runs: geometry, docks, splitter, zoom and sort, kept in QSettings.

This is UI state, owned by the GUI and kept apart from the library's settings file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray

from photoclip.gui.queries import SORT_RELEVANCE

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow


def restore(window: MainWindow) -> None:
    ui = window.ui
    geometry = ui.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    state = ui.value("window/state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    splitter = ui.value("window/splitter")
    if isinstance(splitter, QByteArray):
        window.splitter.restoreState(splitter)
    window.zoom.setValue(int(ui.value("grid/zoom", 160)))
    window.search_bar.set_sort(str(ui.value("grid/sort", SORT_RELEVANCE)))


def save(window: MainWindow) -> None:
    ui = window.ui
    ui.setValue("window/geometry", window.saveGeometry())
    ui.setValue("window/state", window.saveState())
    ui.setValue("window/splitter", window.splitter.saveState())
    ui.setValue("grid/zoom", window.zoom.value())
    ui.setValue("grid/sort", window.search_bar.sort_key())
    ui.sync()
