"""The main window's menus and keyboard shortcuts, in one place so they are easy to review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    window.add_folder_action = file_menu.addAction("Add folder\u2026", lambda: window.actions.add_folder())
    window.add_folder_action.setShortcut(QKeySequence("Ctrl+O"))
    window.add_folder_action.setToolTip("Add a folder of photos to the library")
    index = file_menu.addAction("Index now", window.start_indexing)
    index.setShortcut(QKeySequence("F5"))
    file_menu.addAction("Save search as album\u2026", window.save_search_as_album)
    file_menu.addAction("Edit smart album\u2026", window.actions.edit_smart_album)
    file_menu.addSeparator()
    settings = file_menu.addAction("Settings\u2026", window.open_settings)
    settings.setShortcut(QKeySequence.StandardKey.Preferences)
    file_menu.addSeparator()
    quit_action = file_menu.addAction("Quit", window.close)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)

    view = bar.addMenu("&View")
    view.addAction(window.problems.toggleViewAction())
    filters = QAction("Filters", window, checkable=True)
    filters.setShortcut(QKeySequence("Ctrl+Shift+L"))
    filters.toggled.connect(window.search_bar.filters_button.setChecked)
    window.search_bar.filters_button.toggled.connect(filters.setChecked)
    view.addAction(filters)
    view.addAction("Show all photos", window.show_all)
    view.addSeparator()
    view.addAction("Bigger thumbnails", lambda: window.zoom.setValue(window.zoom.value() + 40),
                   QKeySequence.StandardKey.ZoomIn)
    view.addAction("Smaller thumbnails", lambda: window.zoom.setValue(window.zoom.value() - 40),
                   QKeySequence.StandardKey.ZoomOut)

    photo = bar.addMenu("&Photo")
    photo.addAction("Find similar", window.similar_to_current, QKeySequence("Ctrl+Shift+S"))
    photo.addAction("View", window.open_viewer)  # Enter, Space or a double click in the grid
    photo.addAction("Open with the system viewer", window.preview.open_photo, QKeySequence("Ctrl+Return"))
    photo.addAction("More like this", lambda: window.results.mark_current(True), QKeySequence("Ctrl+]"))
    photo.addAction("Not this", lambda: window.results.mark_current(False), QKeySequence("Ctrl+["))
    photo.addAction("Show in folder", window.preview.show_in_folder)
    photo.addAction("Copy path", window.preview.copy_path, QKeySequence("Ctrl+Shift+C"))
    photo.addAction("Add to album\u2026", window.add_selection_to_album, QKeySequence("Ctrl+Shift+A"))

    help_menu = bar.addMenu("&Help")
    help_menu.addAction("Search tips", window.show_search_tips)
    help_menu.addAction("About PhotoClip", window.show_about)

    for keys in ("Ctrl+F", "/"):
        QShortcut(QKeySequence(keys), window, window.search_bar.focus_search)
    # Only while the search field has focus: window-wide, Down would never reach the grid.
    for keys, slot in (("Escape", window.escape_search), ("Down", window.focus_grid)):
        shortcut = QShortcut(QKeySequence(keys), window.search_bar.edit, slot)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
