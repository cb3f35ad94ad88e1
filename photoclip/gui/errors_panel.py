"""A dock listing the files PhotoClip could not read, with the reason for each.

It shows the catalog's recorded errors (read on a worker by the window) plus files skipped by the
current run, so a user can see at once why a photo is missing from results.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


class ErrorsPanelWidget(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problems", parent)
        self.setObjectName("ProblemsDock")
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setAccessibleName("Problems")
        self.setWidget(self.table)
        self._rows: dict[str, str] = {}

    def set_problems(self, problems: list[tuple[str, str]]) -> None:
        self._rows = dict(problems)
        self._refill()

    def add_problem(self, path: str, reason: str) -> None:
        if self._rows.get(path) != reason:
            self._rows[path] = reason
            self._refill()

    def problems(self) -> list[tuple[str, str]]:
        return sorted(self._rows.items())

    def _refill(self) -> None:
        rows = self.problems()
        self.table.setRowCount(len(rows))
        for r, (path, reason) in enumerate(rows):
            item = QTableWidgetItem(path)
            item.setToolTip(path)
            self.table.setItem(r, 0, item)
            reason_item = QTableWidgetItem(reason)
            reason_item.setToolTip(reason)
            self.table.setItem(r, 1, reason_item)
        self.table.resizeColumnToContents(0)
        self.setWindowTitle(f"Problems ({len(rows)})" if rows else "Problems")
        self.table.setSortingEnabled(False)
        self.table.sortItems(0, Qt.SortOrder.AscendingOrder)
