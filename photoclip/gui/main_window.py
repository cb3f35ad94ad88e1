"""The main window: search bar, sidebar, thumbnail grid, preview, and indexing in the status bar.

The window wires the pieces together and owns the three off-thread helpers (a task runner for
reads and searches, a job runner for long jobs, a thumbnail loader). Everything that reads disk,
decodes or runs the model goes through them; the GUI thread only updates widgets.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui import queries
from photoclip.gui.errors_panel import ErrorsPanelWidget
from photoclip.gui.filter_bar import FilterBarWidget
from photoclip.gui.indexing_status import IndexingStatusWidget
from photoclip.gui.job_runner import Job, JobRunner
from photoclip.gui.library_events import LibraryEventsBridge
from photoclip.gui.model_setup import ModelSetupController, explain_failure
from photoclip.gui.preview_pane import PreviewPaneWidget
from photoclip.gui.search_bar import SearchBarWidget
from photoclip.gui.sidebar import SidebarData, SidebarWidget, load_sidebar
from photoclip.gui.thumbnail_grid import PhotoListModel, ThumbnailGridWidget
from photoclip.gui.thumbnails import ThumbnailLoader
from photoclip.gui.workers import Latest, TaskRunner
from photoclip.jobs import CancelToken, Progress, ProgressSink

if TYPE_CHECKING:
    from photoclip.library import Library, LibraryEvent

log = logging.getLogger(__name__)

REFRESH_DELAY_MS = 1000  # coalesce the flood of "photos changed" events while indexing


def choose_folder(parent: QWidget | None) -> str:
    """Ask for a photo folder (module function so tests replace the dialog)."""
    return QFileDialog.getExistingDirectory(parent, "Add a photo folder")


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value.strip() if ok and value.strip() else None


def run_index_job(library: Library, sink: ProgressSink, token: CancelToken) -> Any:
    """Index with the model when there is one; otherwise scan and read dates so browsing works."""
    if library.has_model:
        return library.index(progress=sink, cancel=token)
    from photoclip.pipeline import Indexer

    report = library.scan(progress=sink, cancel=token)
    if not token.cancelled:
        Indexer(library.catalog, None).run(progress=sink, cancel=token)
        library.notify("photos")
    return report


class MainWindow(QMainWindow):
    resultsShown = Signal(object)  # queries.Answer, after the grid was filled

    def __init__(self, library: Library, *, ui_settings: QSettings | None = None,
                 live_sync: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ui = ui_settings if ui_settings is not None else QSettings()
        self.setWindowTitle("PhotoClip")
        self.setObjectName("PhotoClipMainWindow")
        self.setAcceptDrops(True)
        self.tasks = TaskRunner(max_threads=2, parent=self)
        self.jobs = JobRunner(self)
        self.loader = ThumbnailLoader(library.directory / "thumbs", parent=self)
        self.events = LibraryEventsBridge(library, self)
        self.model_setup = ModelSetupController(library, self.jobs, self.tasks, self)
        self._latest = Latest()
        self._sidebar_latest = Latest()
        self._similar: int | str | None = None
        self._filters = queries.FilterState()
        self._live: Any = None
        self._want_live = live_sync
        self.answer: queries.Answer | None = None
        self.last_error: str | None = None
        self._build()
        self._connect()
        self._restore_ui_state()
        self.update_model_banner()
        self.reload_sidebar()
        self.refresh()
        self.reload_problems()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_bar = SearchBarWidget(self)
        self.filter_bar = FilterBarWidget(self)
        self.filter_bar.hide()
        self.banner = QFrame(self)
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.download_button = QPushButton("Download a model\u2026", self.banner)
        self.import_button = QPushButton("Import a model folder\u2026", self.banner)
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.import_button)

        self.sidebar = SidebarWidget(self)
        self.model = PhotoListModel(self.loader, self)
        self.grid = ThumbnailGridWidget(self.model, self)
        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.empty)
        self.zoom = QSlider(Qt.Orientation.Horizontal, self)
        self.zoom.setRange(80, 320)
        self.zoom.setValue(160)
        self.zoom.setMaximumWidth(200)
        self.zoom.setAccessibleName("Thumbnail size")
        self.zoom.setToolTip("Thumbnail size (Ctrl+plus / Ctrl+minus)")
        self.count_label = QLabel(self)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(QLabel("Size", self))
        bottom.addWidget(self.zoom)
        center = QWidget(self)
        col = QVBoxLayout(center)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.stack, 1)
        col.addLayout(bottom)
        self.preview = PreviewPaneWidget(self.library, self.tasks, self)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 760, 320])

        root = QWidget(self)
        outer = QVBoxLayout(root)
        outer.setContentsMargins(6, 6, 6, 0)
        outer.addWidget(self.search_bar)
        outer.addWidget(self.filter_bar)
        outer.addWidget(self.banner)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(root)

        self.problems = ErrorsPanelWidget(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems)
        self.problems.hide()
        self.status = IndexingStatusWidget(self)
        self.problems_button = QPushButton("No problems", self)
        self.problems_button.setFlat(True)
        self.statusBar().addPermanentWidget(self.status)
        self.statusBar().addPermanentWidget(self.problems_button)
        self._build_menus()
        self.resize(1300, 820)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.add_folder_action = file_menu.addAction("Add folder\u2026", self.add_folder)
        self.add_folder_action.setShortcut(QKeySequence("Ctrl+O"))
        file_menu.addAction("Index now", self.start_indexing)
        file_menu.addAction("Save search as album\u2026", self.save_search_as_album)
        file_menu.addSeparator()
        settings = file_menu.addAction("Settings\u2026", self.open_settings)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("Quit", self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        view = self.menuBar().addMenu("&View")
        view.addAction(self.problems.toggleViewAction())
        filters = QAction("Filters", self, checkable=True)
        filters.setShortcut(QKeySequence("Ctrl+Shift+L"))
        filters.toggled.connect(self.search_bar.filters_button.setChecked)
        view.addAction(filters)
        view.addAction("Bigger thumbnails", lambda: self.zoom.setValue(self.zoom.value() + 40),
                       QKeySequence.StandardKey.ZoomIn)
        view.addAction("Smaller thumbnails", lambda: self.zoom.setValue(self.zoom.value() - 40),
                       QKeySequence.StandardKey.ZoomOut)
        photo = self.menuBar().addMenu("&Photo")
        photo.addAction("Find similar", self._similar_to_current, QKeySequence("Ctrl+Shift+S"))
        photo.addAction("Open in viewer", self.preview.open_photo, QKeySequence("Ctrl+Return"))
        photo.addAction("Copy path", self.preview.copy_path, QKeySequence("Ctrl+Shift+C"))
        photo.addAction("Add to album\u2026", self._add_current_to_album, QKeySequence("Ctrl+Shift+A"))
        for keys in ("Ctrl+F", "/"):
            QShortcut(QKeySequence(keys), self, self.search_bar.focus_search)
        QShortcut(QKeySequence("Escape"), self.search_bar.edit, self._escape_search)
        QShortcut(QKeySequence("Down"), self.search_bar.edit, self._focus_grid)

    def _connect(self) -> None:
        self.search_bar.searchRequested.connect(self._on_query)
        self.search_bar.sortChanged.connect(lambda _s: self.refresh())
        self.search_bar.filtersToggled.connect(self.filter_bar.setVisible)
        self.search_bar.similarCleared.connect(self._clear_similar)
        self.filter_bar.filtersChanged.connect(self._on_filters)
        self.sidebar.allChosen.connect(self._show_all)
        self.sidebar.folderChosen.connect(self._on_folder_chosen)
        self.sidebar.tagChosen.connect(self._on_tag_chosen)
        self.sidebar.albumChosen.connect(self._on_album_chosen)
        self.sidebar.addFolderRequested.connect(self.add_folder)
        self.sidebar.removeFolderRequested.connect(self.remove_folder)
        self.sidebar.deleteAlbumRequested.connect(self.delete_album)
        self.grid.currentPhotoChanged.connect(self._on_current_photo)
        self.grid.activatedPhoto.connect(lambda _item: self.preview.open_photo())
        self.zoom.valueChanged.connect(self.grid.set_thumb_size)
        self.preview.similarRequested.connect(self.show_similar)
        self.preview.addToAlbumRequested.connect(lambda _pid: self._add_current_to_album())
        self.preview.errorOccurred.connect(lambda msg: self.statusBar().showMessage(msg, 15000))
        self.events.changed.connect(self._on_library_event)
        self.jobs.started.connect(lambda job: self.status.set_running(job.label))
        self.jobs.progress.connect(self._on_job_progress)
        self.jobs.finished.connect(self._on_job_finished)
        self.jobs.failed.connect(self._on_job_failed)
        self.jobs.idle.connect(self.status.set_idle)
        self.status.cancel_button.clicked.connect(self.cancel_jobs)
        self.problems_button.clicked.connect(lambda: self.problems.setVisible(not self.problems.isVisible()))
        self.download_button.clicked.connect(lambda: self.model_setup.download())
        self.import_button.clicked.connect(lambda: self.model_setup.import_folder())
        self.model_setup.installed.connect(self._on_model_installed)
        self.model_setup.failed.connect(lambda msg: explain_failure(self, msg))
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self._refresh_from_events)

    # -- asking for results -----------------------------------------------------------------

    def request(self) -> queries.Request:
        sort = self.search_bar.sort_key()
        return queries.Request(self.search_bar.text(), self._filters, sort, self._similar,
                               self.library.settings.default_top)

    def refresh(self) -> None:
        """Ask again for what the grid should show; a newer call supersedes this one."""
        ticket = self._latest.next()
        request, library = self.request(), self.library
        self.count_label.setText("Searching\u2026" if request.query or request.similar_to else "Loading\u2026")
        self.tasks.run(lambda: queries.run(library, request),
                       lambda answer: self._latest.is_current(ticket) and self._show_answer(answer),
                       lambda exc: self._latest.is_current(ticket) and self._show_error(exc))

    def _show_answer(self, answer: queries.Answer) -> None:
        self.answer = answer
        self.last_error = None
        current = self.grid.current_item()
        scroll = self.grid.verticalScrollBar().value()
        same_view = self.model.items() and answer.request == getattr(self, "_shown_request", None)
        self._shown_request = answer.request
        self.model.set_items(answer.items)
        n = len(answer.items)
        if answer.searched:
            hidden = f" \u00b7 {answer.hidden:,} weak matches hidden" if answer.hidden else ""
            self.count_label.setText(f"{n:,} result{'s' if n != 1 else ''}{hidden}")
        else:
            self.count_label.setText(f"{n:,} photo{'s' if n != 1 else ''}")
        if n:
            self.stack.setCurrentWidget(self.grid)
            row = self.model.row_of(current.id) if current is not None else -1
            if row >= 0:
                self.grid.setCurrentIndex(self.model.index(row, 0))
            if same_view:
                self.grid.verticalScrollBar().setValue(scroll)
            elif row < 0:
                self.grid.scrollToTop()
        else:
            self.stack.setCurrentWidget(self.empty)
            self.empty.setText(self._empty_text(answer))
        self.resultsShown.emit(answer)

    def _empty_text(self, answer: queries.Answer) -> str:
        if answer.searched:
            return "No matching photos." + (" Try removing a filter." if answer.request.filters.active else "")
        if answer.request.filters.active:
            return "No photos match these filters."
        if not self.sidebar.data.folders:
            return "No photos yet.\nAdd a folder of photos (File \u2192 Add folder, Ctrl+O) to get started."
        return "No photos indexed yet in these folders."

    def _show_error(self, exc: BaseException) -> None:
        self.last_error = str(exc)
        self.model.set_items([])
        self.count_label.setText("")
        self.stack.setCurrentWidget(self.empty)
        self.empty.setText(str(exc))
        if not isinstance(exc, Exception) or type(exc).__module__ != "photoclip.errors":
            log.warning("request failed: %r", exc)

    def _on_query(self, _text: str) -> None:
        self._similar = None
        self.refresh()

    def _on_filters(self, state: queries.FilterState) -> None:
        self._filters = state
        self.refresh()

    def show_similar(self, target: int | str) -> None:
        self._similar = target
        label = Path(target).name if isinstance(target, str) else self._name_of(target)
        self.search_bar.edit.clear()
        self.search_bar.show_similar(label)
        self.refresh()

    def _name_of(self, photo_id: int) -> str:
        row = self.model.row_of(photo_id)
        return Path(self.model.item(row).path).name if row >= 0 else f"photo {photo_id}"

    def _clear_similar(self) -> None:
        self._similar = None
        self.refresh()

    def _similar_to_current(self) -> None:
        item = self.grid.current_item()
        if item is not None:
            self.show_similar(item.id)

    def _show_all(self) -> None:
        self.filter_bar.clear()

    def _on_folder_chosen(self, path: str) -> None:
        self.filter_bar.album = None
        self.filter_bar.set_folder(path)

    def _on_tag_chosen(self, name: str) -> None:
        self.filter_bar.album = None
        self.filter_bar.set_tag(name)

    def _on_album_chosen(self, name: str) -> None:
        self.filter_bar.set_album(name)

    def _escape_search(self) -> None:
        if self.search_bar.text():
            self.search_bar.edit.clear()
        else:
            self._focus_grid()

    def _focus_grid(self) -> None:
        self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if not self.grid.currentIndex().isValid() and self.model.rowCount():
            self.grid.select_row(0)

    def _on_current_photo(self, item: queries.GridItem | None) -> None:
        self.preview.show_photo(item.id if item else None, item.path if item else None)

    # -- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.show_similar(files[0])

    # -- library changes --------------------------------------------------------------------

    def _on_library_event(self, event: LibraryEvent) -> None:
        if event.kind in ("photos", "folders"):
            if not self._refresh_timer.isActive():
                self._refresh_timer.start()
        elif event.kind in ("tags", "albums"):
            self.reload_sidebar()
            if self._filters.tags or self._filters.album:
                self.refresh()
        elif event.kind == "model":
            self.update_model_banner()

    def _refresh_from_events(self) -> None:
        self.reload_sidebar()
        self.refresh()

    def reload_sidebar(self) -> None:
        ticket = self._sidebar_latest.next()
        library = self.library
        self.tasks.run(lambda: load_sidebar(library),
                       lambda data: self._sidebar_latest.is_current(ticket) and self._on_sidebar(data))

    def _on_sidebar(self, data: SidebarData) -> None:
        self.sidebar.set_data(data)
        self.filter_bar.set_choices([f.value for f in data.folders], [t.value for t in data.tags])
        if self.answer is not None and not self.answer.items and self.stack.currentWidget() is self.empty:
            self.empty.setText(self._empty_text(self.answer))

    def reload_problems(self) -> None:
        catalog = self.library.catalog
        self.tasks.run(catalog.errors, self._on_problems)

    def _on_problems(self, problems: list[tuple[str, str]]) -> None:
        self.problems.set_problems(problems)
        self._update_problems_button()

    def _update_problems_button(self) -> None:
        n = len(self.problems.problems())
        self.problems_button.setText(f"{n:,} problem{'s' if n != 1 else ''}" if n else "No problems")

    # -- the model --------------------------------------------------------------------------

    def update_model_banner(self) -> None:
        if self.library.has_model:
            self.banner.hide()
            return
        self.banner_label.setText(
            "<b>No CLIP model is installed.</b> You can browse your photos by date now; searching by "
            "meaning, similar photos and tags need a model (about 150\u2013600 MB, downloaded once, "
            "then everything stays on this computer).")
        self.banner.show()

    def _on_model_installed(self, name: str) -> None:
        self.update_model_banner()
        self.statusBar().showMessage(f"Model {name} installed; indexing your photos with it", 8000)
        self.start_indexing()

    # -- jobs -------------------------------------------------------------------------------

    def start_indexing(self) -> Job:
        library = self.library
        return self.jobs.submit("Indexing", lambda sink, token: run_index_job(library, sink, token))

    def cancel_jobs(self) -> None:
        if self.jobs.busy:
            self.status.set_cancelling()
            self.jobs.cancel()

    def _on_job_progress(self, job: Job, p: Progress) -> None:
        if not job.token.cancelled:
            self.status.set_progress(job.label, p)
        if p.last_skipped is not None:
            self.problems.add_problem(p.last_skipped.path, p.last_skipped.reason)
            self._update_problems_button()

    def _on_job_finished(self, job: Job, _result: Any) -> None:
        if job.label == "Indexing":
            note = "Indexing stopped; what was done is kept" if job.token.cancelled else "Indexing finished"
            self.statusBar().showMessage(note, 6000)
            self.reload_problems()
            self._refresh_from_events()

    def _on_job_failed(self, job: Job, exc: BaseException) -> None:
        self.statusBar().showMessage(f"{job.label} failed: {exc}", 15000)
        if job.label == "Indexing":
            QMessageBox.warning(self, "Indexing stopped", str(exc))

    # -- folders and albums -----------------------------------------------------------------

    def add_folder(self, path: str | None = None) -> None:
        path = path or choose_folder(self)
        if not path:
            return
        library = self.library
        self.tasks.run(lambda: library.add_folder(path),
                       lambda _folder: (self.reload_sidebar(), self.start_indexing()),
                       lambda exc: QMessageBox.warning(self, "Cannot add this folder", str(exc)))

    def remove_folder(self, path: str) -> None:
        answer = QMessageBox.question(
            self, "Remove folder", f"Forget {path} and its photos? The files on disk are not touched.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        library = self.library
        self.tasks.run(lambda: library.remove_folder(path), lambda _n: self._refresh_from_events(),
                       lambda exc: QMessageBox.warning(self, "Cannot remove this folder", str(exc)))

    def save_search_as_album(self, name: str | None = None) -> None:
        query = self.search_bar.text().strip()
        if not query:
            QMessageBox.information(self, "Save search as album", "Type a search first; the album keeps "
                                    "every photo that matches it, now and as new photos arrive.")
            return
        name = name or ask_text(self, "Save search as album", "Album name:", query)
        if not name:
            return
        library, state = self.library, self._filters
        filters = state.to_search_filters() if state.active else None
        self.tasks.run(lambda: library.create_album(name, query=query, filters=filters),
                       lambda _album: self.reload_sidebar(),
                       lambda exc: QMessageBox.warning(self, "Cannot create the album", str(exc)))

    def add_to_album(self, photo_ids: list[int], name: str, *, create: bool = False) -> None:
        library = self.library

        def work() -> None:
            if create:
                library.create_album(name)
            library.add_to_album(name, photo_ids)

        self.tasks.run(work, lambda _r: self.statusBar().showMessage(f"Added to {name}", 4000),
                       lambda exc: QMessageBox.warning(self, "Cannot add to the album", str(exc)))

    def _add_current_to_album(self) -> None:
        ids = [i.id for i in self.grid.selected_items()]
        if not ids:
            return
        menu = QMenu(self)
        for entry in self.sidebar.data.albums:
            if entry.kind_note != "smart":
                menu.addAction(entry.label, lambda n=entry.value: self.add_to_album(ids, n))
        menu.addSeparator()
        menu.addAction("New album\u2026", lambda: self._new_album_with(ids))
        menu.exec(self.cursor().pos())

    def _new_album_with(self, ids: list[int]) -> None:
        name = ask_text(self, "New album", "Album name:")
        if name:
            self.add_to_album(ids, name, create=True)

    def delete_album(self, name: str) -> None:
        answer = QMessageBox.question(self, "Delete album", f"Delete the album {name}? Photos are kept.")
        if answer == QMessageBox.StandardButton.Yes:
            library = self.library
            self.tasks.run(lambda: library.delete_album(name), lambda _r: self._show_all())

    # -- settings, live sync, state -------------------------------------------------------------

    def open_settings(self) -> None:
        from photoclip.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.library, self.tasks, self.jobs, self.model_setup, self)
        dialog.reindexRequested.connect(self.start_indexing)
        dialog.exec()
        self.reload_sidebar()
        self.update_model_banner()

    def start_live_sync(self) -> None:
        """Keep results current while the app runs (when this build has the watcher)."""
        if not self._want_live or self._live is not None:
            return
        try:
            from photoclip.livesync import LiveSync  # type: ignore[import-not-found]
        except ImportError:
            return
        try:
            self._live = LiveSync(self.library)
            self._live.start()
        except Exception as exc:
            log.warning("cannot watch folders: %s", exc)
            self.statusBar().showMessage(f"Folders are not watched for changes: {exc}", 10000)
            self._live = None

    def _restore_ui_state(self) -> None:
        geometry = self.ui.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.ui.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = self.ui.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        self.zoom.setValue(int(self.ui.value("grid/zoom", 160)))
        self.search_bar.set_sort(str(self.ui.value("grid/sort", queries.SORT_RELEVANCE)))

    def save_ui_state(self) -> None:
        self.ui.setValue("window/geometry", self.saveGeometry())
        self.ui.setValue("window/state", self.saveState())
        self.ui.setValue("window/splitter", self.splitter.saveState())
        self.ui.setValue("grid/zoom", self.zoom.value())
        self.ui.setValue("grid/sort", self.search_bar.sort_key())
        self.ui.sync()

    def shutdown(self) -> None:
        """Stop every background activity; the window can then be destroyed safely."""
        self._refresh_timer.stop()
        if self._live is not None:
            try:
                self._live.stop()
            except Exception:
                log.exception("stopping the folder watcher failed")
            self._live = None
        self.jobs.cancel()
        self.jobs.wait()
        self.tasks.wait()
        self.loader.wait()
        self.events.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_ui_state()
        self.shutdown()
        super().closeEvent(event)
