"""Undo and redo of a person's catalog edits (Edit menu, Ctrl+Z and Ctrl+Shift+Z).

An `Edit` is recorded after it was done, with two functions that run on a worker: one puts the
catalog back, the other does the edit again. They are built from what the edit returned or
captured (the marks before, a snapshot of rows, the trash outcome), so undo restores exactly what
was there, not the opposite edit's idea of it. One undo or redo runs at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from photoclip.gui.workers import TaskRunner

log = logging.getLogger(__name__)
HISTORY_LIMIT = 100


@dataclass
class Edit:
    text: str  # "Rate 3 photos 4 stars": the menu says "Undo Rate 3 photos 4 stars"
    undo: Callable[[], Any]  # run on a worker
    redo: Callable[[], Any]  # run on a worker
    after: Callable[[Any], None] | None = None  # on the GUI thread after either ran (repaint...)


class UndoHistory(QObject):
    """``changed`` after every push, undo or redo; ``message(text)`` says what was undone or failed."""

    changed = Signal()
    message = Signal(str)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self.busy = False

    def push(self, edit: Edit) -> None:
        self._done.append(edit)
        del self._done[:-HISTORY_LIMIT]
        self._undone.clear()
        self.changed.emit()

    def can_undo(self) -> bool:
        return bool(self._done) and not self.busy

    def can_redo(self) -> bool:
        return bool(self._undone) and not self.busy

    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def undo(self) -> None:
        if self.can_undo():
            edit = self._done.pop()
            self._run(edit, edit.undo, self._undone, "Undone")

    def redo(self) -> None:
        if self.can_redo():
            edit = self._undone.pop()
            self._run(edit, edit.redo, self._done, "Redone")

    def _run(self, edit: Edit, fn: Callable[[], Any], target: list[Edit], verb: str) -> None:
        self.busy = True
        self.changed.emit()

        def done(result: Any) -> None:
            self.busy = False
            target.append(edit)
            if edit.after is not None:
                edit.after(result)
            self.message.emit(f"{verb}: {edit.text}")
            self.changed.emit()

        def failed(exc: BaseException) -> None:
            self.busy = False
            log.warning("%s failed: %r", verb, exc)
            self.message.emit(f"Could not undo {edit.text}: {exc}" if verb == "Undone"
                              else f"Could not redo {edit.text}: {exc}")
            self.changed.emit()

        self.tasks.run(fn, done, failed)
