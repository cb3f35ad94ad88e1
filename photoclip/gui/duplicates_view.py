"""The Duplicates page: groups of copies and of similar shots, a side-by-side compare, and the clean-up.

"Keep suggested, move the others to the trash" works on one group or on every group of a kind, always
after a confirmation that names how many files go, always through the platform's trash, and can be
undone. Similar shots are shown apart and never offered for removal in bulk: only copies are. Finding
runs as a job (progress in the status bar, cancellable) so a first pass over a big library never
blocks the window.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui.compare_view import CompareView
from photoclip.gui.library_actions import confirm
from photoclip.gui.workers import Latest, TaskRunner

if TYPE_CHECKING:
    from photoclip.gui.job_runner import JobRunner
    from photoclip.gui.main_window import MainWindow
    from photoclip.library import Library

KIND_CHOICES = [("All groups", None), ("Identical files", "identical"), ("Same picture", "same"),
                ("Similar shots", "similar")]
LABELS = {"identical": "Identical files", "same": "Same picture", "similar": "Similar shots"}
REMOVABLE = ("identical", "same")
ID_ROLE = Qt.ItemDataRole.UserRole


class DuplicatesView(QWidget):
    """Lists groups, compares the chosen one, trashes copies on request; ``changed`` after a trash or undo."""

    changed = Signal()

    def __init__(self, library: Library, tasks: TaskRunner, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self.jobs = jobs
        self.groups: list[Any] = []
        self.last_trash: Any = None  # what the last trash moved, for undo
        self.confirm = confirm  # replaced in tests
        self._latest = Latest()
        self._finding = False
        self._build()

    def _build(self) -> None:
        top = QHBoxLayout()
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Kind of group")
        for label, value in KIND_CHOICES:
            self.kind.addItem(label, value)
        self.kind.currentIndexChanged.connect(lambda _i: self.reload())
        self.summary = QLabel(self)
        self.find_button = QPushButton("Find again", self)
        self.find_button.setToolTip("Compare the whole library afresh")
        self.find_button.clicked.connect(lambda: self.find(full=True))
        self.keep_group = QPushButton("Keep suggested, trash the others", self)
        self.keep_group.clicked.connect(self.trash_current_group)
        self.keep_all = QPushButton("…in every group of this kind", self)
        self.keep_all.clicked.connect(self.trash_all_of_kind)
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo)
        top.addWidget(self.kind)
        top.addWidget(self.summary, 1)
        top.addWidget(self.find_button)
        top.addWidget(self.keep_group)
        top.addWidget(self.keep_all)
        top.addWidget(self.undo_button)
        self.hide_copies = QCheckBox("Show only the keeper of each group in search and albums", self)
        self.hide_copies.setChecked(self.library.settings.hide_duplicates)
        self.hide_copies.setToolTip("Copies stay on disk and in the catalog; search results and albums just "
                                    "skip them (similar shots are always shown)")
        self.hide_copies.toggled.connect(self.set_hide_copies)

        self.list = QListWidget(self)
        self.list.setAccessibleName("Duplicate groups")
        self.list.currentRowChanged.connect(self._on_row)
        self.compare = CompareView(self.tasks, self)
        self.compare.keepRequested.connect(self.choose_keeper)
        self.empty = QLabel("No duplicates found.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget(self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(self.compare)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 900])
        self.pages.addWidget(split)
        self.pages.addWidget(self.empty)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.hide_copies)
        lay.addWidget(self.pages, 1)
        self._update_buttons()

    # -- finding and listing -----------------------------------------------------------------

    def activate(self) -> None:
        """Shown: bring hashes and pairs up to date (a job), then list."""
        self.reload()
        self.find(full=False)

    def find(self, *, full: bool) -> None:
        if self._finding:
            return
        self._finding = True
        self.find_button.setEnabled(False)
        library = self.library
        job = self.jobs.submit("Finding duplicates",
                               lambda sink, token: library.update_duplicates(progress=sink, cancel=token, full=full))

        def done(finished: Any, _result: Any = None) -> None:
            if finished is job:
                self._finding = False
                self.find_button.setEnabled(True)
                self.jobs.finished.disconnect(done)
                self.jobs.failed.disconnect(done)
                self.reload()

        self.jobs.finished.connect(done)
        self.jobs.failed.connect(done)

    @property
    def kind_filter(self) -> str | None:
        return self.kind.currentData()

    def reload(self) -> None:
        ticket = self._latest.next()
        kind, library = self.kind_filter, self.library
        self.tasks.run(lambda: library.duplicate_groups(kind), lambda groups: self._show(ticket, groups),
                       lambda exc: self.summary.setText(f"Cannot list duplicates: {exc}"))

    def _show(self, ticket: int, groups: list[Any]) -> None:
        if not self._latest.is_current(ticket):
            return
        current = self.current_group()
        keep_id = current.keep.id if current is not None else None
        self.groups = groups
        self.list.blockSignals(True)
        self.list.clear()
        row = 0
        for i, g in enumerate(groups):
            item = QListWidgetItem(f"{LABELS[g.kind]} · {len(g.members)} photos\nkeep {Path(g.keep.path).name}")
            item.setToolTip(f"{g.keep.path}\n{g.keep.reason}")
            item.setData(ID_ROLE, i)
            self.list.addItem(item)
            if g.keep.id == keep_id:
                row = i
        self.list.blockSignals(False)
        copies = sum(len(g.others) for g in groups if g.kind in REMOVABLE)
        shots = sum(1 for g in groups if g.kind == "similar")
        self.summary.setText(f"{len(groups)} group{'s' * (len(groups) != 1)}: {copies} "
                             f"cop{'ies' if copies != 1 else 'y'} could go"
                             + (f", {shots} set{'s' * (shots != 1)} of similar shots" if shots else ""))
        self.pages.setCurrentIndex(0 if groups else 1)
        if groups:
            self.list.setCurrentRow(row)
            self._on_row(row)
        else:
            self.compare.show_group(None)
        self._update_buttons()

    def current_group(self) -> Any:
        row = self.list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def _on_row(self, row: int) -> None:
        self.compare.show_group(self.groups[row] if 0 <= row < len(self.groups) else None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        group = self.current_group()
        self.keep_group.setEnabled(group is not None and group.kind in REMOVABLE)
        self.keep_group.setToolTip("" if group is None or group.kind in REMOVABLE else
                                   "Similar shots are different photos: pick what to keep yourself")
        kind = self.kind_filter
        self.keep_all.setEnabled(kind in REMOVABLE and any(g.kind == kind for g in self.groups))
        self.keep_all.setText(f"…in every “{LABELS[kind]}” group" if kind in REMOVABLE else "…in every group of a kind")

    def set_hide_copies(self, on: bool) -> None:
        library = self.library
        settings = replace(library.settings, hide_duplicates=on)
        self.tasks.run(lambda: library.save_settings(settings), lambda _r: self.changed.emit(),
                       lambda exc: QMessageBox.warning(self, "Cannot save the setting", str(exc)))

    # -- keeping and trashing -----------------------------------------------------------------

    def choose_keeper(self, photo_id: int) -> None:
        library = self.library
        self.tasks.run(lambda: library.choose_keeper(photo_id), lambda _r: self.reload(),
                       lambda exc: QMessageBox.warning(self, "Cannot keep this photo", str(exc)))

    def trash_current_group(self) -> None:
        group = self.current_group()
        if group is not None and group.kind in REMOVABLE:
            self._trash([group], f"Move {len(group.others)} copies of {Path(group.keep.path).name} to the trash?")

    def trash_all_of_kind(self) -> None:
        kind = self.kind_filter
        if kind not in REMOVABLE:
            return
        groups = [g for g in self.groups if g.kind == kind]
        n = sum(len(g.others) for g in groups)
        self._trash(groups, f"Move {n} files from {len(groups)} “{LABELS[kind]}” groups to the trash, keeping the "
                            "suggested photo of each?")

    def _trash(self, groups: list[Any], question: str) -> None:
        ids = [m.id for g in groups for m in g.others]
        if not ids:
            return
        if not self.confirm(self, "Move to trash", question + "\nYou can undo this, or restore them from the trash."):
            return
        library = self.library

        def work() -> Any:
            outcome = library.move_to_trash(ids)
            library.refresh_duplicates()
            return outcome

        self.tasks.run(work, self._trashed, lambda exc: QMessageBox.warning(self, "Cannot move to trash", str(exc)))

    def _trashed(self, outcome: Any) -> None:
        self.last_trash = outcome if outcome.trashed else None
        self.undo_button.setEnabled(bool(outcome.trashed) and outcome.restorable)
        self.undo_button.setToolTip("" if outcome.restorable else
                                    "This system does not say where trashed files went: restore them from the trash")
        if outcome.skipped:
            QMessageBox.warning(self, "Some files stayed",
                                "\n".join(f"{s.path}: {s.reason}" for s in outcome.skipped[:20]))
        self.changed.emit()
        self.reload()

    def undo(self) -> None:
        outcome, self.last_trash = self.last_trash, None
        self.undo_button.setEnabled(False)
        if outcome is None:
            return
        library = self.library

        def work() -> Any:
            back = library.restore_from_trash(outcome)
            library.refresh_duplicates()
            return back

        self.tasks.run(work, lambda _b: (self.changed.emit(), self.reload()),
                       lambda exc: QMessageBox.warning(self, "Cannot undo", str(exc)))


def install(window: MainWindow) -> DuplicatesView:
    """Add the page beside the sidebar: the sidebar's Duplicates entry shows it, any other entry leaves it."""
    view = DuplicatesView(window.library, window.tasks, window.jobs, window)
    # A page in waiting must not make the window's minimum size its own (a stack takes its pages' largest).
    view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
    window.content.addWidget(view)
    photos_page = window.content.widget(0)
    state = {"preview": True}

    def show_duplicates() -> None:
        if window.content.currentWidget() is not view:
            state["preview"] = window.preview.isVisible()
        window.preview.hide()
        window.content.setCurrentWidget(view)
        view.activate()

    def show_photos(*_args: object) -> None:
        if window.content.currentWidget() is view:
            window.content.setCurrentWidget(photos_page)
            window.preview.setVisible(state["preview"])

    window.sidebar.duplicatesChosen.connect(show_duplicates)
    for signal in (window.sidebar.allChosen, window.sidebar.folderChosen, window.sidebar.albumChosen,
                   window.sidebar.tagChosen, window.search_bar.searchRequested):
        signal.connect(show_photos)
    view.changed.connect(window.refresh)
    return view
