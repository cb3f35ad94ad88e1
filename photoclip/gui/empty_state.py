"""What the grid area shows when there is nothing to show, and the one step that helps.

Three cases a person can meet: no folders yet (add one), nothing matches (show all photos), and
folders whose photos are still being read (wait). The message comes from `describe_empty`, plain
Python, so the wording is tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

ADD_FOLDER, SHOW_ALL, NO_ACTION = "add-folder", "show-all", ""


@dataclass(frozen=True)
class EmptyState:
    title: str
    hint: str
    action: str = NO_ACTION  # ADD_FOLDER, SHOW_ALL or NO_ACTION


def describe_empty(*, searched: bool, narrowed: bool, has_folders: bool | None, indexing: bool,
                   error: str | None = None, words_only: bool = False) -> EmptyState:
    """The message for an empty grid; ``narrowed`` means a filter, album or similar-photo view.

    ``has_folders`` is None until the folder list has been read: a plain empty library says nothing
    until then.
    ``words_only`` means the search could only look at names and words (no model installed).
    """
    if error:
        return EmptyState("This search could not run", error, SHOW_ALL if searched or narrowed else NO_ACTION)
    if has_folders is False:
        return EmptyState("No photos yet",
                          "Add a folder of photos to get started. PhotoClip reads it in place: nothing is "
                          "copied, uploaded or changed.", ADD_FOLDER)
    if searched:
        hint = "Try other words, or fewer of them."
        if narrowed:
            hint = "Try other words, or remove a filter."
        if words_only:
            hint = ("Only file names, places and words written in photos were searched. Finding photos by what "
                    "they show needs a search model: see the banner above.")
        return EmptyState("No matching photos", hint, SHOW_ALL)
    if narrowed:
        return EmptyState("No photos here", "Nothing matches these filters.", SHOW_ALL)
    if has_folders is None:
        return EmptyState("", "")
    if indexing:
        return EmptyState("Reading your photos\u2026", "They appear here as they are indexed.")
    return EmptyState("No photos found in your folders",
                      "PhotoClip reads JPEG, PNG, HEIC, WebP, TIFF, GIF, BMP and AVIF files. Use "
                      "File \u2192 Index now after copying photos in.")


class EmptyStateWidget(QWidget):
    """A centred title, a hint and an action button; emits ``addFolder`` or ``showAll``."""

    addFolder = Signal()
    showAll = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = EmptyState("", "")
        self.title = QLabel(self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.hint = QLabel(self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setMinimumWidth(360)
        self.hint.setMaximumWidth(520)
        self.hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.button = QPushButton(self)
        self.button.clicked.connect(self._act)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.button)
        row.addStretch(1)
        hint_row = QHBoxLayout()
        hint_row.addStretch(1)
        hint_row.addWidget(self.hint)
        hint_row.addStretch(1)
        col = QVBoxLayout(self)
        col.addStretch(2)
        col.addWidget(self.title)
        col.addLayout(hint_row)
        col.addSpacing(8)
        col.addLayout(row)
        col.addStretch(3)

    def set_state(self, state: EmptyState) -> None:
        self.state = state
        self.title.setText(state.title)
        self.hint.setText(state.hint)
        labels = {ADD_FOLDER: "Add a folder\u2026", SHOW_ALL: "Show all photos"}
        self.button.setText(labels.get(state.action, ""))
        self.button.setVisible(state.action in labels)

    def text(self) -> str:
        return f"{self.state.title}\n{self.state.hint}"

    def _act(self) -> None:
        if self.state.action == ADD_FOLDER:
            self.addFolder.emit()
        elif self.state.action == SHOW_ALL:
            self.showAll.emit()
