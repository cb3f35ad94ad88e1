"""The filter bar under the search field: folder, date range, type and tag.

It edits a `FilterState`, the GUI's mirror of ``photoclip.search.Filters``; the same state filters
both search results and the browsing view. Choices are filled from the sidebar's data so this
widget never reads the catalog itself.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLabel, QPushButton, QWidget

from photoclip.gui.queries import FilterState

TYPES = (("", "Any type"), ("jpeg", "JPEG"), ("png", "PNG"), ("heic", "HEIC"), ("webp", "WebP"),
         ("tiff", "TIFF"), ("gif", "GIF"), ("bmp", "BMP"), ("avif", "AVIF"))


class FilterBarWidget(QWidget):
    filtersChanged = Signal(object)  # FilterState

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = QComboBox(self)
        self.folder.setAccessibleName("Folder filter")
        self.folder.setToolTip("Only photos in this folder and its sub-folders")
        self.tag = QComboBox(self)
        self.tag.setAccessibleName("Tag filter")
        self.tag.setToolTip("Only photos with this tag")
        self.type = QComboBox(self)
        self.type.setAccessibleName("Type filter")
        self.type.setToolTip("Only photos of this file type")
        for key, label in TYPES:
            self.type.addItem(label, key)
        self.use_after = QCheckBox("From", self)
        self.after = QDateEdit(self)
        self.use_before = QCheckBox("to", self)
        self.before = QDateEdit(self)
        for edit in (self.after, self.before):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(QDate.currentDate())
            edit.setEnabled(False)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setToolTip("Remove every filter")
        self.album: str | None = None
        self.set_choices([], [])

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Folder", self))
        layout.addWidget(self.folder, 2)
        layout.addWidget(self.use_after)
        layout.addWidget(self.after)
        layout.addWidget(self.use_before)
        layout.addWidget(self.before)
        layout.addWidget(self.type)
        layout.addWidget(QLabel("Tag", self))
        layout.addWidget(self.tag, 1)
        layout.addWidget(self.clear_button)

        for combo in (self.folder, self.tag, self.type):
            combo.currentIndexChanged.connect(self._emit)
        self.use_after.toggled.connect(self.after.setEnabled)
        self.use_before.toggled.connect(self.before.setEnabled)
        for w in (self.use_after, self.use_before):
            w.toggled.connect(self._emit)
        self.after.dateChanged.connect(self._emit)
        self.before.dateChanged.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)

    def set_choices(self, folders: list[str], tags: list[str]) -> None:
        """Refill the folder and tag lists, keeping the current choices when they still exist."""
        for combo, values, anything in ((self.folder, folders, "All folders"), (self.tag, tags, "Any tag")):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(anything, "")
            for v in values:
                combo.addItem(v, v)
            i = combo.findData(current) if current else 0
            combo.setCurrentIndex(max(0, i))
            combo.blockSignals(False)

    def state(self) -> FilterState:
        after = self.after.date().toPython() if self.use_after.isChecked() else None
        before = self.before.date().toPython() if self.use_before.isChecked() else None
        tag = self.tag.currentData() or ""
        kind = self.type.currentData() or ""
        return FilterState(folder=self.folder.currentData() or None, after=_as_date(after),
                           before=_as_date(before), tags=(tag,) if tag else (),
                           types=(kind,) if kind else (), album=self.album)

    def set_folder(self, path: str | None) -> None:
        self._select(self.folder, path)

    def set_tag(self, name: str | None) -> None:
        self._select(self.tag, name)

    def set_album(self, name: str | None) -> None:
        self.album = name
        self._emit()

    def clear(self) -> None:
        for w in (self.folder, self.tag, self.type, self.use_after, self.use_before):
            w.blockSignals(True)
        self.folder.setCurrentIndex(0)
        self.tag.setCurrentIndex(0)
        self.type.setCurrentIndex(0)
        self.use_after.setChecked(False)
        self.use_before.setChecked(False)
        self.after.setEnabled(False)
        self.before.setEnabled(False)
        for w in (self.folder, self.tag, self.type, self.use_after, self.use_before):
            w.blockSignals(False)
        self.album = None
        self._emit()

    def _select(self, combo: QComboBox, value: str | None) -> None:
        if value and combo.findData(value) < 0:
            combo.addItem(value, value)
        combo.setCurrentIndex(max(0, combo.findData(value)) if value else 0)

    def _emit(self, *_args: object) -> None:
        self.filtersChanged.emit(self.state())


def _as_date(value: object) -> date | None:
    return value if isinstance(value, date) else None
