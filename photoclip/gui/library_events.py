"""Library change events, from any thread, turned into a Qt signal on the GUI thread.

The core calls listeners on whatever thread made the change (indexing worker, watcher thread).
Emitting a signal of a QObject that lives on the GUI thread makes Qt queue the delivery there,
so views never run on a worker. Unsubscribes on close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from photoclip.library import Library, LibraryEvent


class LibraryEventsBridge(QObject):
    changed = Signal(object)  # LibraryEvent

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = library.subscribe(self._listener)

    def _listener(self, event: LibraryEvent) -> None:
        self.changed.emit(event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
