"""The filter bar under the search field: folder, date range, type and tag.

It edits a `FilterState`, the GUI's mirror of ``photoclip.search.Filters``; the same state filters
both search results and the browsing view. Choices are filled from the sidebar's data so this
widget never reads the catalog itself.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from photoclip.gui.queries import FilterState

TYPES = (("", "Any type"), ("jpeg", "JPEG"), ("png", "PNG"), ("heic", "HEIC"), ("webp", "WebP"),
         ("tiff", "TIFF"), ("gif", "GIF"), ("bmp", "BMP"), ("avif", "AVIF"))


def parse_date(text: str) -> QDate | None:
    """A typed date: 2020-01-31, 2020-1-31, 2020/01/31 or 31.01.2020; None when it is not one."""
    text = text.strip()
    for fmt in ("yyyy-M-d", "yyyy/M/d", "d.M.yyyy", "yyyyMMdd"):
        parsed = QDate.fromString(text, fmt)
        if parsed.isValid():
            return parsed
    return None


class DateField(QWidget):
    """A date typed as text (read whole when typing ends) or picked from a calendar.

    Qt's date edit types section by section, which garbles a date typed in one go
    (2020-01-01 became 2026-01-03); a plain field parsed on Enter or on leaving it does not.
    """

    dateChanged = Signal(QDate)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("YYYY-MM-DD")
        self.edit.setMaximumWidth(110)
        self.calendar = QCalendarWidget()
        self.button = QToolButton(self)
        self.button.setText("\u25be")
        self.button.setToolTip("Pick the date from a calendar")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.button)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.calendar)
        menu.addAction(action)
        self.button.setMenu(menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.edit)
        layout.addWidget(self.button)
        self._date = QDate.currentDate()
        self.edit.setText(self._date.toString("yyyy-MM-dd"))
        self.edit.editingFinished.connect(self._typed)
        self.calendar.clicked.connect(self._picked)
        self.calendar.clicked.connect(lambda _d: menu.close())

    def date(self) -> QDate:
        return self._date

    def setDate(self, value: QDate) -> None:
        self.edit.setStyleSheet("")
        self.edit.setText(value.toString("yyyy-MM-dd"))
        self.calendar.setSelectedDate(value)
        if value != self._date:
            self._date = value
            self.dateChanged.emit(value)

    def _typed(self) -> None:
        parsed = parse_date(self.edit.text())
        if parsed is None:
            self.edit.setStyleSheet("color: #d04040;")
            self.edit.setToolTip("Not a date: type it as 2020-01-31")
            return
        self.edit.setToolTip("")
        self.setDate(parsed)

    def _picked(self, value: QDate) -> None:
        self.setDate(value)


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
        self.after = DateField(self)
        self.use_before = QCheckBox("to", self)
        self.before = DateField(self)
        for edit in (self.after, self.before):
            edit.setEnabled(False)
        self.favourite = QCheckBox("\u2665 Favourites", self)
        self.favourite.setToolTip("Only photos you marked as favourites (the . key)")
        self.rating = QComboBox(self)
        self.rating.setAccessibleName("Rating filter")
        self.rating.setToolTip("Only photos with at least this many stars (keys 1 to 5)")
        self.rating.addItem("Any rating", 0)
        for stars in range(1, 6):
            self.rating.addItem("\u2605" * stars + (" or more" if stars < 5 else ""), stars)
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
        layout.addWidget(self.favourite)
        layout.addWidget(self.rating)
        layout.addWidget(self.clear_button)

        for combo in (self.folder, self.tag, self.type, self.rating):
            combo.currentIndexChanged.connect(self._emit)
        self.favourite.toggled.connect(self._emit)
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
                           types=(kind,) if kind else (), album=self.album, favourite=self.favourite.isChecked(),
                           min_rating=int(self.rating.currentData() or 0))

    def set_folder(self, path: str | None) -> None:
        self._select(self.folder, path)

    def set_tag(self, name: str | None) -> None:
        self._select(self.tag, name)

    def set_favourites(self, on: bool = True) -> None:
        self.favourite.setChecked(on)

    def set_album(self, name: str | None) -> None:
        self.album = name
        self._emit()

    def clear(self) -> None:
        for w in (self.folder, self.tag, self.type, self.use_after, self.use_before, self.favourite, self.rating):
            w.blockSignals(True)
        self.favourite.setChecked(False)
        self.rating.setCurrentIndex(0)
        self.folder.setCurrentIndex(0)
        self.tag.setCurrentIndex(0)
        self.type.setCurrentIndex(0)
        self.use_after.setChecked(False)
        self.use_before.setChecked(False)
        self.after.setEnabled(False)
        self.before.setEnabled(False)
        for w in (self.folder, self.tag, self.type, self.use_after, self.use_before, self.favourite, self.rating):
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
