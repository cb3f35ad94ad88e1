"""Album actions from the sidebar: rename, edit a smart album's rule (with a live count), export,
delete; each catalog edit is undoable.

Deleting keeps a snapshot of the album (its row and every membership), so undo brings back the
same album with the same photos, pins and exclusions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from photoclip.gui.library_actions import ask_text, confirm
from photoclip.gui.undo import Edit, UndoHistory
from photoclip.gui.workers import Latest, TaskRunner
from photoclip.organize import history

if TYPE_CHECKING:
    from photoclip.library import Library

COUNT_DELAY_MS = 300


class RuleDialog(QDialog):
    """A smart album's rule: what to look for, which tags, how close a match must be; a live count."""

    def __init__(self, library: Library, tasks: TaskRunner, name: str, rule: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Edit {name}")
        self.library, self.tasks = library, tasks
        self.query = QLineEdit(getattr(rule, "query", None) or "", self)
        self.query.setPlaceholderText("e.g. beach at sunset")
        self.tags = QLineEdit(", ".join(getattr(rule, "tags", ()) or ()), self)
        self.tags.setPlaceholderText("tags, separated by commas")
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(float(getattr(rule, "threshold", 0.5)))
        self.threshold.setToolTip("How close a photo must match the words: 0.5 means clearly related")
        self.count = QLabel("\u2026", self)
        self.count.setAccessibleName("Photos matching")
        self.filters = getattr(rule, "search_filters", lambda: None)()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Photos of", self.query)
        form.addRow("With the tags", self.tags)
        form.addRow("Match at least", self.threshold)
        form.addRow("Photos now", self.count)
        form.addRow(buttons)
        self.setMinimumWidth(440)
        self._latest = Latest()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COUNT_DELAY_MS)
        self._timer.timeout.connect(self.recount)
        for edit in (self.query, self.tags):
            edit.textChanged.connect(lambda _t: self._timer.start())
        self.threshold.valueChanged.connect(lambda _v: self._timer.start())
        self.recount()

    def values(self) -> tuple[str | None, tuple[str, ...], float]:
        tags = tuple(t.strip() for t in self.tags.text().split(",") if t.strip())
        return self.query.text().strip() or None, tags, self.threshold.value()

    def recount(self) -> None:
        query, tags, threshold = self.values()
        ticket = self._latest.next()
        library, filters = self.library, self.filters
        if not (query or tags or (filters is not None and filters.active)):
            self.count.setText("a rule needs words or a tag")
            return
        self.count.setText("counting\u2026")
        self.tasks.run(lambda: library.album_rule_count(query=query, tags=tags, threshold=threshold,
                                                        filters=filters if filters and filters.active else None),
                       lambda n: self._latest.is_current(ticket) and self.count.setText(f"{n:,}"),
                       lambda exc: self._latest.is_current(ticket) and self.count.setText(str(exc)))


def edit_rule_dialog(library: Library, tasks: TaskRunner, name: str, rule: Any,
                     parent: QWidget | None) -> tuple[str | None, tuple[str, ...], float] | None:
    """The edited rule, or None when cancelled (a module function so tests answer it)."""
    dialog = RuleDialog(library, tasks, name, rule, parent)
    return dialog.values() if dialog.exec() else None


class AlbumActions(QObject):
    """``deleted(name)`` / ``renamed(old, new)`` so the window can leave or follow the album."""

    deleted = Signal(str)
    renamed = Signal(str, str)
    message = Signal(str)

    def __init__(self, library: Library, tasks: TaskRunner, undo: UndoHistory, parent: QWidget) -> None:
        super().__init__(parent)
        self.library, self.tasks, self.undo, self._parent = library, tasks, undo, parent

    def _warn(self, title: str) -> Any:
        return lambda exc: QMessageBox.warning(self._parent, title, str(exc))

    def rename(self, name: str, new_name: str | None = None) -> None:
        new_name = new_name or ask_text(self._parent, "Rename album", "New name:", name)
        if not new_name or new_name == name:
            return
        library = self.library
        state = {"old": name, "new": new_name}

        def work() -> str:
            state["new"] = library.rename_album(name, new_name) or new_name
            album = library.albums()
            state["new"] = next((a.name for a in album if a.name.casefold() == new_name.casefold()), new_name)
            return state["new"]

        def done(clean: str) -> None:
            self.renamed.emit(name, clean)
            self.undo.push(Edit(f"Rename album {name}", lambda: library.rename_album(state["new"], name),
                                lambda: library.rename_album(name, state["new"])))
            self.message.emit(f"Album renamed to {clean}")

        self.tasks.run(work, done, self._warn("Cannot rename the album"))

    def delete(self, name: str, *, ask: bool = True) -> None:
        if ask and not confirm(self._parent, "Delete album", f"Delete the album {name}? The photos are kept "
                               "(and Undo brings the album back)."):
            return
        library = self.library
        state: dict[str, Any] = {}

        def work() -> None:
            state["album"] = library.snapshot_album(name)
            library.delete_album(name)

        def undo() -> None:
            library.restore_album(state["album"])
            library.notify("albums")

        def redo() -> None:
            state["album"] = library.snapshot_album(name)
            library.delete_album(name)

        def done(_r: object) -> None:
            self.deleted.emit(name)
            self.undo.push(Edit(f"Delete album {name}", undo, redo))
            self.message.emit(f"Album {name} deleted")

        self.tasks.run(work, done, self._warn("Cannot delete the album"))

    def edit_rule(self, name: str, values: tuple[str | None, tuple[str, ...], float] | None = None) -> None:
        library = self.library
        try:
            album = next(a for a in library.albums() if a.name == name)
        except StopIteration:
            return
        rule = album.rule
        values = values or edit_rule_dialog(library, self.tasks, name, rule, self._parent)
        if values is None:
            return
        query, tags, threshold = values
        filters = rule.search_filters() if rule is not None else None
        filters = filters if filters is not None and filters.active else None
        state: dict[str, Any] = {}

        def work() -> None:
            state["album"] = library.snapshot_album(name)
            library.set_album_rule(name, query=query, tags=tags, threshold=threshold, filters=filters)

        def undo() -> None:
            state["edited"] = library.snapshot_album(name)
            _replace_album(library, state["album"])

        def redo() -> None:
            _replace_album(library, state["edited"])

        def done(_r: object) -> None:
            self.undo.push(Edit(f"Edit album {name}", undo, redo))
            self.message.emit(f"Album {name} updated")

        self.tasks.run(work, done, self._warn("Cannot change the album"))


def _replace_album(library: Library, snap: history.AlbumSnapshot) -> None:
    """Put an album back exactly as snapshotted (rule and members), replacing what it is now."""
    library.restore_album(snap, replace=True)
    library.notify("albums")
