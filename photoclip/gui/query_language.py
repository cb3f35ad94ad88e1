"""The query-language choice of the settings dialog, with a note on whether the active model uses it.

Multilingual NLLB-style models read a FLORES-200 language code before each query. "Automatic" lets
the core tell it from the query's writing system, English for Latin letters; other models ignore the
setting, and the note says so (it is read off the GUI thread: it may open the model's description).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from photoclip.gui.workers import TaskRunner

if TYPE_CHECKING:
    from photoclip.library import Library

AUTOMATIC_LANGUAGE = ("auto", "Automatic (from the query's script, else English)")


class QueryLanguageBox(QWidget):
    """A combo of "Automatic" and common languages, and a note about the active model."""

    def __init__(self, library: Library, tasks: TaskRunner, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Query language")
        self.combo.addItem(AUTOMATIC_LANGUAGE[1], AUTOMATIC_LANGUAGE[0])
        for code, name in library.query_languages():
            self.combo.addItem(f"{name} ({code})", code)
        if self.combo.findData(current) < 0:  # a code set elsewhere (the settings file) stays choosable
            self.combo.addItem(current, current)
        self.combo.setCurrentIndex(self.combo.findData(current))
        self.note = QLabel("Checking the active model\u2026", self)
        self.note.setWordWrap(True)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Language of search queries", self.combo)
        form.addRow(self.note)
        self.reload_note()

    def code(self) -> str:
        return str(self.combo.currentData())

    def reload_note(self) -> None:
        self.tasks.run(self.library.model_takes_language, self._fill_note,
                       lambda exc: self.note.setText(f"Cannot read the active model: {exc}"))

    def _fill_note(self, takes: bool | None) -> None:
        if takes is None:
            text = "No model is installed yet; multilingual models use this setting."
        elif takes:
            text = ("The active model reads the language of each query. Automatic tells it from the writing "
                    "(Japanese, Greek, Cyrillic...) and takes English for Latin letters: choose your language "
                    "if you search in German, French, Spanish...")
        else:
            text = "The active model does not use a query language: this setting makes no difference to it."
        self.note.setText(text)
