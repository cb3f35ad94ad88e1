"""Everyday actions on the selected photos: favourite, rate, album, tag, trash, copy, open with...

Each catalog edit runs on a worker, then is recorded in the undo history with what it captured
before (marks, rows, the trash outcome), so Ctrl+Z restores exactly that. Moving to the trash
only ever happens after a confirmation that names the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from photoclip.gui.undo import Edit, UndoHistory
from photoclip.gui.workers import TaskRunner

if TYPE_CHECKING:
    from photoclip.library import Library

NAMES_IN_CONFIRMATION = 12


def photos_text(n: int) -> str:
    return "1 photo" if n == 1 else f"{n:,} photos"


def confirm_trash(parent: QWidget | None, paths: list[str]) -> bool:
    """Ask before trashing, naming the files (a module function so tests answer it)."""
    names = [Path(p).name for p in paths[:NAMES_IN_CONFIRMATION]]
    more = len(paths) - len(names)
    listing = "\n".join(names) + (f"\n\u2026 and {more:,} more" if more else "")
    box = QMessageBox(QMessageBox.Icon.Warning, "Move to trash",
                      f"Move {photos_text(len(paths))} to the trash?\n\n{listing}\n\n"
                      "The files go to the system's trash, from where Undo (Ctrl+Z) or the file manager "
                      "can restore them.", QMessageBox.StandardButton.Cancel, parent)
    trash = box.addButton("Move to trash", QMessageBox.ButtonRole.DestructiveRole)
    box.setDetailedText("\n".join(paths))
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is trash


class PhotoActions(QObject):
    """``marksChanged(dict)`` after marks changed (id -> Mark); ``message`` for the status bar."""

    marksChanged = Signal(object)
    message = Signal(str)
    trashed = Signal(object)  # TrashOutcome

    def __init__(self, library: Library, tasks: TaskRunner, undo: UndoHistory, parent: QWidget) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self.undo = undo
        self._parent = parent

    def _failed(self, what: str) -> Any:
        return lambda exc: self.message.emit(f"{what}: {exc}")

    # -- favourites and ratings -----------------------------------------------------------------

    def toggle_favourite(self, ids: list[int], marks: dict[int, Any]) -> None:
        """Favourite the photos, or unfavourite them when every one already is."""
        if not ids:
            return
        on = not all(getattr(marks.get(i), "favourite", False) for i in ids)
        text = f"{'Favourite' if on else 'Unfavourite'} {photos_text(len(ids))}"
        self._mark(ids, lambda: self.library.set_favourite(ids, on), text)

    def rate(self, ids: list[int], stars: int) -> None:
        if ids:
            text = f"Rate {photos_text(len(ids))} {stars} star{'s' if stars != 1 else ''}"
            self._mark(ids, lambda: self.library.set_rating(ids, stars), text)

    def _mark(self, ids: list[int], change: Any, text: str) -> None:
        library = self.library
        state: dict[str, Any] = {}

        def work() -> dict[int, Any]:
            state["before"] = change()
            return library.marks(ids)

        def undo() -> dict[int, Any]:
            state["after"] = library.restore_marks(state["before"])
            return library.marks(ids)

        def redo() -> dict[int, Any]:
            library.restore_marks(state["after"])
            return library.marks(ids)

        def done(now: dict[int, Any]) -> None:
            self.marksChanged.emit(now)
            self.undo.push(Edit(text, undo, redo, self.marksChanged.emit))
            self.message.emit(text)

        self.tasks.run(work, done, self._failed("Not changed"))

    # -- albums -------------------------------------------------------------------------------

    def add_to_album(self, ids: list[int], name: str, *, create: bool = False) -> None:
        self._members(ids, name, add=True, create=create)

    def remove_from_album(self, ids: list[int], name: str) -> None:
        self._members(ids, name, add=False)

    def _members(self, ids: list[int], name: str, *, add: bool, create: bool = False) -> None:
        if not ids:
            return
        library = self.library
        text = (f"Add {photos_text(len(ids))} to {name}" if add else f"Remove {photos_text(len(ids))} from {name}")
        state: dict[str, Any] = {}

        def work() -> None:
            if create:
                library.create_album(name)
            state["before"] = library.snapshot_members(name, ids)
            (library.add_to_album if add else library.remove_from_album)(name, ids)

        def undo() -> None:
            if create:
                state["album"] = library.snapshot_album(name)
                library.delete_album(name)
            else:
                state["after"] = library.restore_members(state["before"])
                library.notify("albums")

        def redo() -> None:
            if create:
                library.restore_album(state["album"])
            else:
                library.restore_members(state["after"])
            library.notify("albums")

        def done(_r: object) -> None:
            self.undo.push(Edit(text, undo, redo))
            self.message.emit(text)

        self.tasks.run(work, done, self._failed("Album not changed"))

    # -- tags ---------------------------------------------------------------------------------

    def tag(self, ids: list[int], name: str, *, accept: bool = True) -> None:
        """Give the photos a tag (or reject it on them), undoably."""
        name = " ".join(name.split())
        if not ids or not name:
            return
        library = self.library
        verb = "Tag" if accept else "Reject tag"
        text = f"{verb} {photos_text(len(ids))} \u201c{name}\u201d"
        state: dict[str, Any] = {}

        def work() -> None:
            state["before"] = library.snapshot_tag_rows(name, ids)
            for pid in ids:
                (library.accept_tag if accept else library.reject_tag)(pid, name)

        def undo() -> None:
            state["after"] = library.restore_tag_rows(state["before"])
            library.notify("tags", tuple(ids))

        def redo() -> None:
            library.restore_tag_rows(state["after"])
            library.notify("tags", tuple(ids))

        def done(_r: object) -> None:
            self.undo.push(Edit(text, undo, redo))
            self.message.emit(text)

        self.tasks.run(work, done, self._failed("Tag not changed"))

    # -- trash --------------------------------------------------------------------------------

    def move_to_trash(self, ids: list[int], paths: list[str]) -> None:
        """After a confirmation naming the files, move them to the system's trash (undoable)."""
        if not ids or not confirm_trash(self._parent, paths):
            return
        library = self.library
        state: dict[str, Any] = {}

        def work() -> Any:
            state["outcome"] = library.move_to_trash(ids)
            return state["outcome"]

        def undo() -> Any:
            back = library.restore_from_trash(state["outcome"])
            if back.skipped:
                raise RuntimeError("; ".join(f"{Path(s.path).name}: {s.reason}" for s in back.skipped))
            return back

        def redo() -> Any:
            state["outcome"] = library.move_to_trash(ids)
            return state["outcome"]

        def done(outcome: Any) -> None:
            n = len(outcome.trashed)
            text = f"Move {photos_text(n)} to the trash"
            if n:
                self.undo.push(Edit(text, undo, redo))
            skipped = "" if not outcome.skipped else \
                "; not moved: " + ", ".join(f"{Path(s.path).name} ({s.reason})" for s in outcome.skipped[:3])
            self.message.emit(f"Moved {photos_text(n)} to the trash{skipped}")
            if outcome.skipped:
                QMessageBox.warning(self._parent, "Some photos were not moved",
                                    "\n".join(f"{s.path}: {s.reason}" for s in outcome.skipped))
            self.trashed.emit(outcome)

        self.tasks.run(work, done, self._failed("Not moved to the trash"))

    # -- clipboard ------------------------------------------------------------------------------

    @staticmethod
    def copy_files(paths: list[str]) -> None:
        """Put the files on the clipboard (paste into a file manager or a mail), with their paths as text."""
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(p) for p in paths])
        data.setText("\n".join(paths))
        QGuiApplication.clipboard().setMimeData(data)

    @staticmethod
    def copy_paths(paths: list[str]) -> None:
        QGuiApplication.clipboard().setText("\n".join(paths))
