"""The main window's menus and keyboard shortcuts, in one place so they are easy to review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

from photoclip.gui.icons import icon

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

    edit = bar.addMenu("&Edit")
    window.undo_action = edit.addAction(icon("undo"), "Undo", window.undo.undo)
    window.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
    window.redo_action = edit.addAction(icon("redo"), "Redo", window.undo.redo)
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])

    def follow_history() -> None:
        undo = window.undo
        window.undo_action.setEnabled(undo.can_undo())
        window.undo_action.setText(f"Undo {undo.undo_text()}" if undo.can_undo() else "Undo")
        window.redo_action.setEnabled(undo.can_redo())
        window.redo_action.setText(f"Redo {undo.redo_text()}" if undo.can_redo() else "Redo")

    window.undo.changed.connect(follow_history)
    follow_history()
    edit.addSeparator()
    select_all = edit.addAction("Select all photos", window.select_all_photos)
    select_all.setShortcut(QKeySequence.StandardKey.SelectAll)
    select_all.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # the search field keeps Ctrl+A
    window.grid.addAction(select_all)

    view = bar.addMenu("&View")
    view.addAction(window.problems.toggleViewAction())
    filters = QAction("Filters", window, checkable=True)
    filters.setShortcut(QKeySequence("Ctrl+Shift+L"))
    filters.toggled.connect(window.search_bar.filters_button.setChecked)
    window.search_bar.filters_button.toggled.connect(filters.setChecked)
    view.addAction(filters)
    view.addAction("Show all photos", window.show_all)
    names = QAction("Show file names", window, checkable=True)
    names.toggled.connect(window.grid.set_show_names)
    view.addAction(names)
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
    photo.addSeparator()
    # "." and the digits mark photos in the grid and the viewer; as menu shortcuts they would also
    # fire while typing a search, so the menu only shows them.
    photo.addAction(icon("heart"), "Favourite\t.", lambda: window.selection.mark("."))
    rate = photo.addMenu(icon("star"), "Rate")
    for stars in range(6):
        rate.addAction(("No stars" if not stars else "\u2605" * stars) + f"\t{stars}",
                       lambda s=stars: window.selection.mark(str(s)))
    photo.addAction(icon("export"), "Export\u2026", lambda: window.selection.export(window.selection.paths()))
    trash = QAction(icon("trash"), "Move to trash\u2026", window)
    trash.setShortcut(QKeySequence.StandardKey.Delete)
    trash.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # Delete in the search field edits text
    trash.triggered.connect(window.trash_selection)
    window.grid.addAction(trash)
    photo.addAction(trash)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction("Search tips", window.show_search_tips)
    help_menu.addAction("About PhotoClip", window.show_about)

    for keys in ("Ctrl+F", "/"):
        QShortcut(QKeySequence(keys), window, window.search_bar.focus_search)
    # Only while the search field has focus: window-wide, Down would never reach the grid.
    for keys, slot in (("Escape", window.escape_search), ("Down", window.focus_grid)):
        shortcut = QShortcut(QKeySequence(keys), window.search_bar.edit, slot)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
