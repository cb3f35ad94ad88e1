"""The grid's context menu and selection glue: "N selected", marks from keys, drops onto albums.

Every entry works on the whole selection. The menu is built fresh each time from the window's
state (albums from the sidebar's data, the album being looked at), so it never goes stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu

from photoclip.gui.icons import icon
from photoclip.gui.library_actions import ask_text
from photoclip.gui.reveal import reveal_in_file_manager

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow
    from photoclip.gui.queries import GridItem


def choose_application(parent: object) -> str:
    """Ask for a program to open photos with (a module function so tests answer it)."""
    path, _filter = QFileDialog.getOpenFileName(parent, "Open with\u2026", "/usr/bin")  # type: ignore[arg-type]
    return path


class SelectionController(QObject):
    """Acts on the grid's selection for the window: the menu, the keys, the status line."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.label = QLabel(window)
        self.label.setAccessibleName("Selection")
        window.statusBar().addPermanentWidget(self.label)
        grid = window.grid
        grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        grid.customContextMenuRequested.connect(self.show_menu)
        grid.selectionModel().selectionChanged.connect(lambda *_a: self.update_label())
        grid.photo_model().modelReset.connect(self.update_label)
        grid.markRequested.connect(self.mark)
        window.viewer.keyForGrid.connect(lambda event: event.text() and self._viewer_mark(event.text()))
        window.photo_actions.marksChanged.connect(self._marks_changed)
        window.sidebar.photosDropped.connect(self._dropped_on_album)

    # -- the selection ------------------------------------------------------------------------

    def selected(self) -> list[GridItem]:
        if self.w.viewing():
            item = self.w.viewer.current()
            return [item] if item is not None else []
        return self.w.grid.selected_items()

    def ids(self) -> list[int]:
        return [i.id for i in self.selected()]

    def paths(self) -> list[str]:
        return [i.path for i in self.selected()]

    def update_label(self) -> None:
        n = len(self.w.grid.selectionModel().selectedIndexes())
        self.label.setText(f"{n:,} selected" if n > 1 else "")

    # -- marks ----------------------------------------------------------------------------------

    def mark(self, key: str) -> None:
        ids = self.ids()
        if key == ".":
            self.w.photo_actions.toggle_favourite(ids, self.w.model.marks)
        elif key.isdigit():
            self.w.photo_actions.rate(ids, int(key))

    def _viewer_mark(self, key: str) -> None:
        if key in (".", "0", "1", "2", "3", "4", "5"):
            self.mark(key)

    def _marks_changed(self, marks: dict) -> None:
        self.w.model.update_marks(marks)
        self.w.grid.viewport().update()
        self.w.viewer.update()
        filters = self.w.results.filters
        if filters.favourite or filters.min_rating:
            self.w.results.refresh(from_events=True)

    # -- drops ----------------------------------------------------------------------------------

    def _dropped_on_album(self, name: str, ids: list[int]) -> None:
        self.w.photo_actions.add_to_album(ids, name)

    # -- the menu -------------------------------------------------------------------------------

    def show_menu(self, pos: QPoint) -> None:
        grid = self.w.grid
        index = grid.indexAt(pos)
        if index.isValid() and not grid.selectionModel().isSelected(index):
            grid.setCurrentIndex(index)  # right-click outside the selection selects that photo
        menu = self.build_menu()
        if menu is not None:
            menu.exec(grid.viewport().mapToGlobal(pos))

    def build_menu(self) -> QMenu | None:
        items = self.selected()
        if not items:
            return None
        w, ids, paths = self.w, [i.id for i in items], [i.path for i in items]
        one = len(items) == 1
        actions = w.photo_actions
        menu = QMenu(w)
        menu.addAction(icon("view"), "View", w.open_viewer).setEnabled(one or w.grid.current_item() is not None)
        menu.addAction(icon("open"), "Open with the system viewer", self.open_external)
        menu.addAction("Open with\u2026", self.open_with)
        menu.addAction(icon("folder"), "Show in folder", lambda: reveal_in_file_manager(paths[0]))
        menu.addAction(icon("similar"), "Find similar", lambda: w.show_similar(ids[0])).setEnabled(one)
        menu.addSeparator()
        marks = w.model.marks
        all_fav = all(getattr(marks.get(i), "favourite", False) for i in ids)
        fav = menu.addAction(icon("heart"), "Unfavourite" if all_fav else "Favourite",
                             lambda: actions.toggle_favourite(ids, marks))
        fav.setShortcut(QKeySequence("."))
        rate = menu.addMenu(icon("star"), "Rate")
        for stars in range(6):
            label = "No stars" if stars == 0 else "\u2605" * stars
            rate.addAction(label, lambda s=stars: actions.rate(ids, s)).setShortcut(QKeySequence(str(stars)))
        menu.addSeparator()
        albums = menu.addMenu(icon("album"), "Add to album")
        for entry in w.sidebar.data.albums:
            albums.addAction(entry.label, lambda n=entry.value: actions.add_to_album(ids, n))
        albums.addSeparator()
        albums.addAction("New album\u2026", lambda: self.new_album(ids))
        album = w.results.filters.album
        if album:
            menu.addAction(f"Remove from \u201c{album}\u201d", lambda: actions.remove_from_album(ids, album))
        menu.addAction(icon("tag"), "Tag\u2026", lambda: self.tag(ids))
        menu.addSeparator()
        copy = menu.addAction(icon("copy"), "Copy", lambda: actions.copy_files(paths))
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        menu.addAction("Copy path" if one else "Copy paths", lambda: actions.copy_paths(paths))
        menu.addAction(icon("export"), "Export\u2026", lambda: self.export(paths))
        menu.addSeparator()
        menu.addAction(icon("trash"), "Move to trash\u2026", lambda: actions.move_to_trash(ids, paths)).setShortcut(
            QKeySequence.StandardKey.Delete)
        return menu

    # -- menu entries that ask something ---------------------------------------------------------

    def open_external(self) -> None:
        from photoclip.gui.preview_pane import open_externally

        for path in self.paths()[:20]:
            if not open_externally(self.w, path):
                break

    def open_with(self) -> None:
        program = choose_application(self.w)
        if program:
            from PySide6.QtCore import QProcess

            started, _pid = QProcess.startDetached(program, self.paths())
            if not started:
                self.w.statusBar().showMessage(f"Could not start {Path(program).name}", 8000)

    def new_album(self, ids: list[int]) -> None:
        name = ask_text(self.w, "New album", "Album name:")
        if name:
            self.w.photo_actions.add_to_album(ids, name, create=True)

    def tag(self, ids: list[int]) -> None:
        name = ask_text(self.w, "Tag photos", f"Tag for {len(ids)} photo{'s' if len(ids) != 1 else ''}:")
        if name:
            self.w.photo_actions.tag(ids, name)

    def export(self, paths: list[str]) -> None:
        from photoclip.gui.export_dialog import export_files

        export_files(self.w, paths)


