"""What the user does to the library from the main window: folders and albums.

Each action asks what it needs (a folder, a name, a confirmation) on the GUI thread, then runs
the facade call on the window's task runner and reports failures in a message box. The window
hears about the result through the library's change events, like any other change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget

from photoclip.gui.queries import FilterState
from photoclip.gui.workers import TaskRunner

if TYPE_CHECKING:
    from photoclip.gui.sidebar import SidebarData
    from photoclip.library import Library


def choose_folder(parent: QWidget | None) -> str:
    """Ask for a photo folder (module function so tests replace the dialog)."""
    return QFileDialog.getExistingDirectory(parent, "Add a photo folder", pictures_folder())


def pictures_folder() -> str:
    """Where a folder picker starts: the user's Pictures folder, else home (never the working directory)."""
    for location in (QStandardPaths.StandardLocation.PicturesLocation,
                     QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """Ask for one line of text (module function so tests replace the dialog)."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value.strip() if ok and value.strip() else None


def confirm(parent: QWidget | None, title: str, question: str) -> bool:
    return QMessageBox.question(parent, title, question) == QMessageBox.StandardButton.Yes


class LibraryActions(QObject):
    """Folder and album actions; ``folderAdded`` asks the window to index, ``message`` to tell the user."""

    folderAdded = Signal(str)
    folderRemoved = Signal(str)
    albumDeleted = Signal(str)
    message = Signal(str)

    def __init__(self, library: Library, tasks: TaskRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self._parent = parent

    def _warn(self, title: str) -> Callable[[BaseException], None]:
        return lambda exc: QMessageBox.warning(self._parent, title, str(exc))

    # -- folders ----------------------------------------------------------------------------

    def add_folder(self, path: str | None = None) -> None:
        path = path or choose_folder(self._parent)
        if not path:
            return
        library = self.library
        self.tasks.run(lambda: library.add_folder(path), lambda _folder: self.folderAdded.emit(path),
                       self._warn("Cannot add this folder"))

    def remove_folder(self, path: str) -> None:
        if not confirm(self._parent, "Remove folder",
                       f"Forget {path} and its photos? The files on disk are not touched."):
            return
        library = self.library
        self.tasks.run(lambda: library.remove_folder(path), lambda _n: self.folderRemoved.emit(path),
                       self._warn("Cannot remove this folder"))

    # -- albums -----------------------------------------------------------------------------

    def save_search_as_album(self, query: str, filters: FilterState, name: str | None = None) -> None:
        """Make a smart album from the current search: it keeps every photo that matches, now and later."""
        query = query.strip()
        if not query:
            QMessageBox.information(self._parent, "Save search as album", "Type a search first; the album "
                                    "keeps every photo that matches it, now and as new photos arrive.")
            return
        library = self.library
        search_filters = filters.to_search_filters() if filters.active else None
        if name is None:  # the dialog previews the album with a threshold slider before saving
            from photoclip.gui.album_rule_dialog import save_search_as_album

            marks = getattr(getattr(self._parent, "results", None), "examples", None)
            like, unlike = marks.for_query(query) if marks is not None else ((), ())
            save_search_as_album(library, self.tasks, self._parent, query, search_filters,
                                 loader=getattr(self._parent, "loader", None), like=like, unlike=unlike,
                                 on_done=lambda album: self.message.emit(f"Album {album.name} created"),
                                 on_error=self._warn("Cannot create the album"))
            return
        self.tasks.run(lambda: library.create_album(name, query=query, filters=search_filters),
                       lambda _album: self.message.emit(f"Album {name} created"),
                       self._warn("Cannot create the album"))

    def edit_smart_album(self, name: str | None = None) -> None:
        """Change a smart album's query and threshold, previewing what it would hold."""
        from photoclip.gui.album_rule_dialog import edit_smart_album

        smart = [a for a in self.library.albums() if a.kind == "smart"]
        if not smart:
            QMessageBox.information(self._parent, "Edit smart album", "There is no smart album yet.")
            return
        if name is None:
            name, ok = QInputDialog.getItem(self._parent, "Edit smart album", "Album:", [a.name for a in smart],
                                            0, False)
            if not ok:
                return
        album = next((a for a in smart if a.name == name), None)
        if album is None:
            return
        edit_smart_album(self.library, self.tasks, self._parent, album,
                         loader=getattr(self._parent, "loader", None),
                         on_done=lambda a: self.message.emit(f"Album {a.name} now holds {a.count} photos"),
                         on_error=self._warn("Cannot change the album"))

    def add_to_album(self, photo_ids: list[int], name: str, *, create: bool = False) -> None:
        library = self.library

        def work() -> None:
            if create:
                library.create_album(name)
            library.add_to_album(name, photo_ids)

        count = f"{len(photo_ids)} photos" if len(photo_ids) != 1 else "1 photo"
        self.tasks.run(work, lambda _r: self.message.emit(f"Added {count} to {name}"),
                       self._warn("Cannot add to the album"))

    def choose_album_for(self, photo_ids: list[int], sidebar: SidebarData) -> None:
        """Pop up the manual albums (smart ones fill themselves) plus "New album…" at the pointer."""
        if not photo_ids:
            return
        menu = QMenu(self._parent)
        for entry in sidebar.albums:
            if entry.kind_note != "smart":
                menu.addAction(entry.label, lambda n=entry.value: self.add_to_album(photo_ids, n))
        menu.addSeparator()
        menu.addAction("New album\u2026", lambda: self.new_album_with(photo_ids))
        menu.exec(QCursor.pos())

    def new_album_with(self, photo_ids: list[int]) -> None:
        name = ask_text(self._parent, "New album", "Album name:")
        if name:
            self.add_to_album(photo_ids, name, create=True)

    def delete_album(self, name: str) -> None:
        if confirm(self._parent, "Delete album", f"Delete the album {name}? Photos are kept."):
            library = self.library
            self.tasks.run(lambda: library.delete_album(name), lambda _r: self.albumDeleted.emit(name),
                           self._warn("Cannot delete the album"))
