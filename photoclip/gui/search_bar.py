"""The search field: results follow typing after a short pause, Enter searches at once.

The text is the facade's query language (``2:beach + sunset - people``, image paths as terms), so
this widget only decides *when* to ask. A "similar to" chip shows when the grid holds the photos
similar to one photo; typing or clearing it goes back to text search.

The sort box remembers the person's choice, but shows the order the grid really has: browsing has
no "best match", so while browsing that entry is greyed out and the box reads "Newest first".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QToolButton, QWidget

from photoclip.gui.queries import SORT_NEWEST, SORT_OLDEST, SORT_RELEVANCE

DEBOUNCE_MS = 250
PLACEHOLDER = "Search your photos \u2014 e.g. dog on the beach at sunset"
SORTS = ((SORT_RELEVANCE, "Best match"), (SORT_NEWEST, "Newest first"), (SORT_OLDEST, "Oldest first"))


class SearchBarWidget(QWidget):
    """Emits ``searchRequested(text)`` after a pause in typing, or at once on Enter."""

    searchRequested = Signal(str)
    sortChanged = Signal(str)
    filtersToggled = Signal(bool)
    similarCleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(PLACEHOLDER)
        self.edit.setToolTip("Describe what is in the photo. Combine ideas with + and -, e.g. beach + sunset "
                             "- people.\nDrop a photo on the window to find similar ones. (Ctrl+F)")
        self.edit.setClearButtonEnabled(True)
        self.edit.setAccessibleName("Search")
        self.similar_chip = QToolButton(self)
        self.similar_chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.similar_chip.setToolTip("Showing photos similar to this one; click to go back")
        self.similar_chip.hide()
        self.sort = QComboBox(self)
        for key, label in SORTS:
            self.sort.addItem(label, key)
        self.sort.setAccessibleName("Sort")
        self._preferred = SORT_RELEVANCE
        self._browsing = True
        self.sort.setToolTip("Order of the photos: best match for a search, or by the date taken")
        self.filters_button = QToolButton(self)
        self.filters_button.setText("Filters")
        self.filters_button.setCheckable(True)
        self.filters_button.setToolTip("Filter by folder, date, type or tag")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.similar_chip)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.sort)
        layout.addWidget(self.filters_button)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._fire)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.textChanged.connect(self._on_changed)
        self.edit.returnPressed.connect(self._fire)
        self.sort.activated.connect(self._picked)
        self.filters_button.toggled.connect(self.filtersToggled)
        self.similar_chip.clicked.connect(self.clear_similar)
        self._last_sent: str | None = None

    def text(self) -> str:
        return self.edit.text()

    def sort_key(self) -> str:
        """The chosen order; "best match" stays chosen while browsing, which lists newest first."""
        return self._preferred

    def set_sort(self, key: str) -> None:
        if self.sort.findData(key) < 0:
            return
        changed = key != self._preferred
        self._preferred = key
        self._show_sort()
        if changed:
            self.sortChanged.emit(key)

    def _picked(self, index: int) -> None:
        key = str(self.sort.itemData(index))
        if self._browsing and key == SORT_NEWEST and self._preferred == SORT_RELEVANCE:
            return  # picked what the box already showed: keep "best match" for the next search
        self.set_sort(key)

    def set_browsing(self, browsing: bool) -> None:
        """Tell the box whether the grid shows a search (ranked) or the library (by date)."""
        self._browsing = browsing
        self._show_sort()

    def _show_sort(self) -> None:
        relevance = self.sort.findData(SORT_RELEVANCE)
        item = self.sort.model().item(relevance)  # type: ignore[attr-defined]
        item.setEnabled(not self._browsing)
        shown = SORT_NEWEST if self._browsing and self._preferred == SORT_RELEVANCE else self._preferred
        self.sort.setCurrentIndex(self.sort.findData(shown))

    def focus_search(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def set_text(self, text: str, *, search: bool = True) -> None:
        self.edit.setText(text)
        if search:
            self._fire()

    def clear_quietly(self) -> None:
        """Empty the field without asking for a search (the caller shows something else)."""
        self._timer.stop()
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._last_sent = ""

    def show_similar(self, label: str) -> None:
        self.similar_chip.setText(f"Similar to {label}  \u2715")
        self.similar_chip.show()

    def clear_similar(self) -> None:
        if self.similar_chip.isVisible():
            self.similar_chip.hide()
            self.similarCleared.emit()

    def _on_edited(self, _text: str) -> None:
        if self.similar_chip.isVisible():
            self.similar_chip.hide()
        self._timer.start()

    def _on_changed(self, text: str) -> None:
        # The clear button changes the text without an edit signal: browsing again should be instant.
        if not text and self._last_sent:
            self._fire()

    def _fire(self) -> None:
        self._timer.stop()
        self._last_sent = self.edit.text()
        self.searchRequested.emit(self.edit.text())
