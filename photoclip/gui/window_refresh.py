"""Library changes reaching the window: events coalesced into at most a few refreshes a second, each
applied as row edits to the grid, and the sidebar, problems list and thumbnail cache kept current.

Indexing sends a flood of events; refreshing for each would keep the GUI busy re-reading the library.
The first event starts a timer, the rest add to what it will apply, and the wait grows with what the
last refresh cost, so a huge library is refreshed at a fraction of the time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from photoclip.gui.sidebar import SidebarData, load_sidebar
from photoclip.gui.thumbnails import prune_cache
from photoclip.gui.workers import Latest

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow
    from photoclip.library import LibraryEvent

log = logging.getLogger(__name__)

REFRESH_DELAY_MS = 400  # coalesce the flood of change events while indexing: at most ~2 refreshes/s
REFRESH_COST_FACTOR = 5  # ...and wait at least 5x what the last refresh cost its worker


class LibraryRefresh(QObject):
    """Keeps the window's views current with the library (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self._sidebar_latest = Latest()
        self._pending_kinds: set[str] = set()
        self._preview_stale = False  # the previewed photo's tags changed
        self.sidebar_loaded = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self._apply)

    def on_library_event(self, event: LibraryEvent) -> None:
        if event.kind == "marks":
            self.queue({"marks"})
            return
        if event.kind == "tags" and (not event.ids or self.w.preview.photo_id in event.ids):
            self._preview_stale = True
        self.queue({event.kind})

    def queue(self, kinds: set[str], *, now: bool = False) -> None:
        """Remember what changed; the timer applies it all at once (the first event starts it)."""
        self._pending_kinds |= kinds
        if now:
            self._timer.start(0)
        elif not self._timer.isActive():
            # A huge library takes a while to re-read: keep refreshing to a fraction of the time.
            self._timer.start(max(REFRESH_DELAY_MS, int(REFRESH_COST_FACTOR * self.w.results.cost_ms)))

    def stop(self) -> None:
        """No refresh after this (the window is shutting down)."""
        self._timer.stop()

    def _apply(self) -> None:
        kinds, self._pending_kinds = self._pending_kinds, set()
        self.reload_sidebar()
        if kinds & {"photos", "folders"}:
            self.reload_problems()  # the watcher finds unreadable files too, not only indexing
        filters = self.w.results.filters
        narrowed_by_tags = bool(filters.tags or filters.album)
        marked = bool(filters.favourite or filters.min_rating)
        if kinds & {"photos", "folders", "model"} or (kinds & {"tags", "albums"} and narrowed_by_tags) \
                or ("marks" in kinds and marked):
            self.w.results.refresh(from_events=True)
        elif "marks" in kinds:
            self._reload_marks()
        if self._preview_stale and self.w.preview.photo_id is not None:
            self.w.preview.reload_details()
        self._preview_stale = False

    def _reload_marks(self) -> None:
        library = self.w.library

        def apply(marks: dict) -> None:
            self.w.model.marks = marks
            self.w.grid.viewport().update()

        self.w.tasks.run(library.marks, apply)

    def reload_sidebar(self) -> None:
        ticket = self._sidebar_latest.next()
        library = self.w.library
        self.w.tasks.run(lambda: load_sidebar(library),
                       lambda data: self._sidebar_latest.is_current(ticket) and self._on_sidebar(data))

    def _on_sidebar(self, data: SidebarData) -> None:
        self.sidebar_loaded = True
        self.w.sidebar.set_data(data)
        self.w.filter_bar.set_choices([f.value for f in data.folders], [t.value for t in data.tags])
        self.w.banner.set_model(data.model)
        if self.w.stack.currentWidget() is self.w.empty:
            self.w.results.show_empty()
        self.w.sidebarLoaded.emit(data)

    def reload_problems(self) -> None:
        library = self.w.library
        self.w.tasks.run(lambda: library.status().error_list, self._on_problems)

    def _on_problems(self, problems: list[tuple[str, str]]) -> None:
        self.w.problems.set_problems(problems)
        self.update_problems_button()

    def update_problems_button(self) -> None:
        n = len(self.w.problems.problems())
        self.w.problems_button.setText(f"{n:,} problem{'s' if n != 1 else ''}" if n else "No problems")

    def prune_thumbnails(self) -> None:
        """Trim the thumbnail cache to its size setting, on a worker (it walks the whole cache)."""
        folder = self.w.loader.cache_dir
        limit = self.w.library.settings.thumbnail_cache_mb * 1024 * 1024
        self.w.tasks.run(lambda: prune_cache(folder, limit),
                       lambda n: n and log.info("removed %d old thumbnails", n))
