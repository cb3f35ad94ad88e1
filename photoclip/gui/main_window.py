"""The main window: search bar, sidebar, thumbnail grid, preview, and indexing in the status bar.

The window wires the pieces together and owns the off-thread helpers (a task runner for reads
and searches, a job runner for long jobs, a thumbnail loader, the folder watcher). Everything that
reads disk, decodes, queries SQLite or runs the model goes through them; the GUI thread only
updates widgets. Library changes arrive as events and are coalesced into at most a few refreshes
a second, each applied to the grid as row edits so what the user looks at does not jump.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui import duplicates_view, help_dialogs, queries, window_state
from photoclip.gui.album_actions import AlbumActions
from photoclip.gui.empty_state import EmptyStateWidget
from photoclip.gui.errors_panel import ErrorsPanelWidget
from photoclip.gui.export_dialog import export_album
from photoclip.gui.filter_bar import FilterBarWidget
from photoclip.gui.grid_menu import SelectionController
from photoclip.gui.grid_model import PhotoListModel
from photoclip.gui.indexing_controller import THUMB_THREADS, IndexingController
from photoclip.gui.indexing_status import IndexingStatusWidget
from photoclip.gui.job_runner import Job, JobRunner
from photoclip.gui.library_actions import LibraryActions, confirm
from photoclip.gui.library_events import LibraryEventsBridge
from photoclip.gui.model_setup import ModelBannerWidget, ModelSetupController, explain_failure
from photoclip.gui.photo_actions import PhotoActions
from photoclip.gui.preview_pane import PreviewPaneWidget
from photoclip.gui.results import ResultsController
from photoclip.gui.search_bar import SearchBarWidget
from photoclip.gui.sidebar import SidebarWidget, place_query
from photoclip.gui.theme import app_icon
from photoclip.gui.thumbnail_grid import ThumbnailGridWidget
from photoclip.gui.thumbnails import ThumbnailLoader
from photoclip.gui.timeline import TimelineScrubber
from photoclip.gui.undo import UndoHistory
from photoclip.gui.viewer import PhotoViewerWidget, info_lines
from photoclip.gui.window_menus import build_menus
from photoclip.gui.window_refresh import LibraryRefresh
from photoclip.gui.workers import TaskRunner

if TYPE_CHECKING:
    from photoclip.ingest.livesync import LiveSync
    from photoclip.library import Library

log = logging.getLogger(__name__)



def window_title(library_dir: Path) -> str:
    """"Family photos — PhotoClip" for a named library, plain "PhotoClip" for the default one."""
    name = library_dir.name
    return "PhotoClip" if name.lower() in ("", "library", "photoclip") else f"{name} \u2014 PhotoClip"


class MainWindow(QMainWindow):
    resultsShown = Signal(object)  # queries.Answer, after the grid was filled
    sidebarLoaded = Signal(object)  # SidebarData, after the sidebar was filled

    def __init__(self, library: Library, *, ui_settings: QSettings | None = None,
                 live_sync: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ui = ui_settings if ui_settings is not None else QSettings()
        self.setWindowTitle(window_title(library.directory))
        self.setWindowIcon(app_icon())
        self.setObjectName("PhotoClipMainWindow")
        self.setAcceptDrops(True)
        self.tasks = TaskRunner(max_threads=2, parent=self)
        self.jobs = JobRunner(self)
        self.loader = ThumbnailLoader(library.directory / "thumbs", threads=THUMB_THREADS, parent=self)
        self.events = LibraryEventsBridge(library, self)
        self.model_setup = ModelSetupController(library, self.jobs, self.tasks, self)
        self.actions = LibraryActions(library, self.tasks, self)
        self.undo = UndoHistory(self.tasks, self)
        self.photo_actions = PhotoActions(library, self.tasks, self.undo, self)
        self.album_actions = AlbumActions(library, self.tasks, self.undo, self)
        self._want_live = live_sync
        self._build()
        self.results = ResultsController(self)
        self.indexing = IndexingController(self)
        self.selection = SelectionController(self)
        self.refresher = LibraryRefresh(self)
        build_menus(self)
        self._connect()
        self._restore_ui_state()
        self.refresh()
        self.refresher.reload_sidebar()
        self.refresher.reload_problems()
        self.refresher.prune_thumbnails()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_bar = SearchBarWidget(self)
        self.filter_bar = FilterBarWidget(self)
        self.filter_bar.hide()
        self.banner = ModelBannerWidget(self.model_setup, self)

        self.sidebar = SidebarWidget(self)
        self.model = PhotoListModel(self.loader, self)
        self.grid = ThumbnailGridWidget(self.model, self)
        self.empty = EmptyStateWidget(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.empty)
        self.zoom = QSlider(Qt.Orientation.Horizontal, self)
        self.zoom.setRange(80, 320)
        self.zoom.setSingleStep(20)
        self.zoom.setPageStep(40)
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
        self.scrubber = TimelineScrubber(self)
        self.scrubber.hide()
        self._scrub_timer = QTimer(self)
        self._scrub_timer.setSingleShot(True)
        self._scrub_timer.setInterval(50)
        self._scrub_timer.timeout.connect(self._place_scrubber)
        grid_row = QHBoxLayout()
        grid_row.setSpacing(0)
        grid_row.addWidget(self.stack, 1)
        grid_row.addWidget(self.scrubber)
        col.addLayout(grid_row, 1)
        col.addLayout(bottom)
        self.preview = PreviewPaneWidget(self.library, self.tasks, self)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.content = QStackedWidget(self)  # beside the sidebar: the photos, or a page such as Duplicates
        self.content.addWidget(center)
        self.splitter.addWidget(self.content)
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
        self.browser = root
        self.viewer = PhotoViewerWidget(self.loader, self)
        self.viewer.info_runner = self.tasks
        self.pages = QStackedWidget(self)  # the browser, or one photo filling the window
        self.pages.addWidget(root)
        self.pages.addWidget(self.viewer)
        self.setCentralWidget(self.pages)

        self.problems = ErrorsPanelWidget(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems)
        self.problems.hide()
        self.status = IndexingStatusWidget(self)
        self.problems_button = QPushButton("No problems", self)
        self.problems_button.setFlat(True)
        self.problems_button.setToolTip("Files PhotoClip could not read, and why")
        self.statusBar().addPermanentWidget(self.status)
        self.statusBar().addPermanentWidget(self.problems_button)
        self.resize(1300, 820)

    def _connect(self) -> None:
        self.search_bar.searchRequested.connect(self.results.set_query)
        self.search_bar.sortChanged.connect(lambda _s: self.results.refresh())
        self.search_bar.filtersToggled.connect(self.filter_bar.setVisible)
        self.search_bar.similarCleared.connect(self.results.clear_similar)
        self.filter_bar.filtersChanged.connect(self.results.set_filters)
        self.filter_bar.filtersChanged.connect(self._reveal_filters)
        self.filter_bar.filtersChanged.connect(
            lambda state: self.sidebar.show_filters(state.album, state.tags, state.folder, state.favourite))
        self.results.shown.connect(self.show_timeline)
        self.results.shown.connect(self.resultsShown)
        self.sidebar.allChosen.connect(self.show_all)
        self.sidebar.folderChosen.connect(self._on_folder_chosen)
        self.sidebar.tagChosen.connect(self._on_tag_chosen)
        self.sidebar.albumChosen.connect(self.filter_bar.set_album)
        self.sidebar.addFolderRequested.connect(lambda: self.actions.add_folder())
        self.sidebar.removeFolderRequested.connect(self.actions.remove_folder)
        self.sidebar.deleteAlbumRequested.connect(self.album_actions.delete)
        self.sidebar.renameAlbumRequested.connect(self.album_actions.rename)
        self.sidebar.editAlbumRequested.connect(self.album_actions.edit_rule)
        self.sidebar.exportAlbumRequested.connect(lambda name: export_album(self, name))
        self.sidebar.favouritesChosen.connect(self._on_favourites_chosen)
        self.sidebar.placeChosen.connect(lambda name: self.search_bar.set_text(place_query(name)))
        self.sidebar.tagActionRequested.connect(self._on_tag_action)
        self.album_actions.deleted.connect(lambda name: self.results.filters.album == name and self.show_all())
        self.album_actions.renamed.connect(
            lambda old, new: self.results.filters.album == old and self.filter_bar.set_album(new))
        for source in (self.album_actions, self.photo_actions, self.undo):
            source.message.connect(lambda msg: self.statusBar().showMessage(msg, 6000))
        self.empty.addFolder.connect(lambda: self.actions.add_folder())
        self.empty.showAll.connect(self.show_all)
        self.actions.folderAdded.connect(lambda _path: self.start_indexing())
        self.actions.albumDeleted.connect(lambda name: self.results.filters.album == name and self.show_all())
        self.actions.folderRemoved.connect(lambda path: self.results.filters.folder == path and self.show_all())
        self.actions.message.connect(lambda msg: self.statusBar().showMessage(msg, 5000))
        self.grid.currentPhotoChanged.connect(self._on_current_photo)
        self.grid.activatedPhoto.connect(lambda _item: self.open_viewer())
        self.viewer.closed.connect(self.close_viewer)
        self.viewer.fullScreenRequested.connect(self._viewer_full_screen)
        self.zoom.valueChanged.connect(self.grid.set_thumb_size)
        self.scrubber.jumpTo.connect(self.jump_to_row)
        self.grid.verticalScrollBar().valueChanged.connect(self._follow_scroll)
        self.preview.decide = lambda pid, name, accept: self.photo_actions.tag([pid], name, accept=accept)
        self.preview.similarRequested.connect(self.show_similar)
        self.preview.addToAlbumRequested.connect(lambda _pid: self.add_selection_to_album())
        self.preview.errorOccurred.connect(lambda msg: self.statusBar().showMessage(msg, 15000))
        self.events.changed.connect(self.refresher.on_library_event)
        self.duplicates = duplicates_view.install(self)
        self.indexing.indexed.connect(self._after_indexing)
        self.problems_button.clicked.connect(lambda: self.problems.setVisible(not self.problems.isVisible()))
        self.model_setup.installed.connect(self._on_model_installed)
        self.model_setup.failed.connect(self._model_failed)

    # -- what the grid shows (see results.py) ------------------------------------------------

    @property
    def answer(self) -> queries.Answer | None:
        return self.results.answer

    @property
    def last_error(self) -> str | None:
        return self.results.last_error

    def refresh(self) -> None:
        self.results.refresh()

    def show_similar(self, target: int | str) -> None:
        self.results.show_similar(target)

    def similar_to_current(self) -> None:
        item = self.grid.current_item()
        if item is not None:
            self.results.show_similar(item.id)

    def show_all(self) -> None:
        """Back to every photo: no search, no filter, no album, no similar-photo view."""
        self.results.similar = None
        self.search_bar.similar_chip.hide()
        self.search_bar.edit.clear()
        self.sidebar.select_all()
        self.filter_bar.clear()  # emits filtersChanged, which refreshes

    def _reveal_filters(self, state: queries.FilterState) -> None:
        """A filter set from the sidebar shows the filter bar, so it is clear why photos are missing."""
        if state.folder or state.tags or state.types or state.after or state.before:
            self.search_bar.filters_button.setChecked(True)

    def _on_folder_chosen(self, path: str) -> None:
        self.filter_bar.album = None
        self.filter_bar.set_folder(path)

    def _on_tag_chosen(self, name: str) -> None:
        self.filter_bar.album = None
        self.filter_bar.set_tag(name)

    def _on_favourites_chosen(self) -> None:
        self.filter_bar.album = None
        self.filter_bar.set_favourites(True)

    def _on_tag_action(self, action: str, name: str) -> None:
        library = self.library
        if action == "disable":
            self.tasks.run(lambda: library.set_tag_enabled(name, False),
                           lambda _r: self.statusBar().showMessage(f"The tag {name} is off; Settings > Tagging "
                                                                   "turns it on again", 8000))
        elif action == "remove" and confirm(self, "Remove tag", f"Remove the tag {name} from every photo? "
                                            "Photos are not touched."):
            self.tasks.run(lambda: library.remove_tag(name),
                           lambda _r: self.statusBar().showMessage(f"Tag {name} removed", 6000))

    def escape_search(self) -> None:
        if self.search_bar.text():
            self.search_bar.edit.clear()
        else:
            self.focus_grid()

    def focus_grid(self) -> None:
        self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)
        current = self.grid.currentIndex()
        if not current.isValid() and self.model.rowCount():
            self.grid.select_row(0)
        elif current.isValid() and not self.grid.selectionModel().isSelected(current):
            # The photo kept current across a refresh is shown selected: Enter then opens what is seen.
            self.grid.selectionModel().select(current, self.grid.selectionModel().SelectionFlag.ClearAndSelect)

    def _on_current_photo(self, item: queries.GridItem | None) -> None:
        if item is not None:
            self.results.keep_id = item.id
        self.preview.show_item(item)  # carries why the photo matched and the words to highlight

    # -- the timeline -----------------------------------------------------------------------

    def show_timeline(self, answer: queries.Answer) -> None:
        """The scrubber shows while the grid is in date order and spans more than one month."""
        self.grid.show_dates = answer.by_date and bool(answer.sections) and answer.sections[0][0] != ""
        self.grid.viewport().update()
        useful = answer.by_date and len(answer.sections) > 1 and self.stack.currentWidget() is self.grid
        self.scrubber.set_sections(answer.sections if useful else [], len(answer))
        self.scrubber.setVisible(useful)
        self._follow_scroll()

    def jump_to_row(self, row: int) -> None:
        """To a month's first photo, its header at the top (the grid scrolls a first line with its header)."""
        if 0 <= row < self.model.rowCount():
            self.grid.scrollTo(self.model.index(row, 0), self.grid.ScrollHint.PositionAtTop)

    def _follow_scroll(self, *_args: object) -> None:
        """Move the scrubber's marker, at most every 50 ms (scrolling sends many values a frame)."""
        if self.scrubber.isVisible() and not self._scrub_timer.isActive():
            self._scrub_timer.start()

    def _place_scrubber(self) -> None:
        self.scrubber.set_position(self.grid.top_row())

    # -- the viewer -------------------------------------------------------------------------

    def open_viewer(self) -> None:
        """Show the current photo filling the window; ←/→ step through the results in their order."""
        idx = self.grid.currentIndex()
        if not idx.isValid() or idx.row() >= len(self.model.rows):
            return
        library = self.library
        self.viewer.info_loader = lambda item: info_lines(library, item)
        self.pages.setCurrentWidget(self.viewer)
        self.statusBar().hide()
        self.viewer.open(self.model.rows, idx.row(), self.model.thumb_side)
        self.viewer.setFocus(Qt.FocusReason.OtherFocusReason)

    def viewing(self) -> bool:
        return self.pages.currentWidget() is self.viewer

    def close_viewer(self, photo_id: int) -> None:
        """Back to the grid with the photo last viewed selected and in view."""
        self.pages.setCurrentWidget(self.browser)
        self.statusBar().show()
        row = self.model.row_of(photo_id)
        if row >= 0:
            index = self.model.index(row, 0)
            self.grid.setCurrentIndex(index)
            self.grid.scrollTo(index, self.grid.ScrollHint.EnsureVisible)
        self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def _viewer_full_screen(self, on: bool) -> None:
        if on:
            self._was_maximized = self.isMaximized()
            self.menuBar().hide()
            self.showFullScreen()
        else:
            self.menuBar().show()
            self.showMaximized() if getattr(self, "_was_maximized", False) else self.showNormal()

    # -- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.show_similar(files[0])

    # -- library changes (see window_refresh.py) ---------------------------------------------

    @property
    def sidebar_loaded(self) -> bool:
        return self.refresher.sidebar_loaded

    def reload_sidebar(self) -> None:
        self.refresher.reload_sidebar()

    def reload_problems(self) -> None:
        self.refresher.reload_problems()

    def update_problems_button(self) -> None:
        self.refresher.update_problems_button()

    # -- the model --------------------------------------------------------------------------

    @property
    def model_name(self) -> str | None:
        """The active model as last read on a worker (None before the first read, or none installed)."""
        return self.sidebar.data.model

    def _model_failed(self, message: str) -> None:
        # The failed download's progress must not linger behind the dialog (a job still running
        # shows its own again at its next progress report).
        self.sidebar.set_activity(None)
        self.status.set_idle()
        explain_failure(self, message)

    def _on_model_installed(self, name: str) -> None:
        self.reload_sidebar()
        self.statusBar().showMessage(f"Model {name} installed; indexing your photos with it", 8000)
        self.start_indexing()

    # -- indexing (see indexing_controller.py) ----------------------------------------------

    def start_indexing(self) -> Job | None:
        return self.indexing.start_indexing()

    def start_live_sync(self) -> None:
        if self._want_live:
            self.indexing.start_live_sync()

    @property
    def live_sync(self) -> LiveSync | None:
        return self.indexing.live

    def _after_indexing(self) -> None:
        self.reload_problems()
        self.refresher.queue({"photos", "tags"}, now=True)

    # -- albums from the window's state -----------------------------------------------------

    def save_search_as_album(self, name: str | None = None) -> None:
        self.actions.save_search_as_album(self.search_bar.text(), self.results.filters, name)

    def select_all_photos(self) -> None:
        self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.grid.selectAll()

    def trash_selection(self) -> None:
        self.photo_actions.move_to_trash(self.selection.ids(), self.selection.paths())

    def add_selection_to_album(self) -> None:
        self.actions.choose_album_for([i.id for i in self.grid.selected_items()], self.sidebar.data)

    # -- dialogs ----------------------------------------------------------------------------

    def open_settings(self) -> None:
        from photoclip.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.library, self.tasks, self.jobs, self.model_setup, self)
        dialog.reindexRequested.connect(self.start_indexing)
        dialog.queryLanguageChanged.connect(lambda _code: self.refresh())  # the shown search, in the new language
        if dialog.exec():
            self.prune_thumbnails()
        self.reload_sidebar()

    def show_about(self) -> None:
        help_dialogs.show_about(self, str(self.library.directory), self.model_name)

    def show_search_tips(self) -> None:
        help_dialogs.show_search_tips(self)

    # -- state, shutdown ----------------------------------------------------------------------

    def _restore_ui_state(self) -> None:
        window_state.restore(self)

    def save_ui_state(self) -> None:
        window_state.save(self)

    def shutdown(self) -> None:
        """Stop every background activity (watcher first); then the library can be closed safely."""
        self.refresher.stop()
        self.indexing.stop()
        self.viewer.slideshow.stop()
        self.tasks.wait()
        self.viewer.wait()
        self.loader.wait()
        self.events.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_ui_state()
        self.shutdown()
        super().closeEvent(event)
