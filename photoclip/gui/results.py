"""What the grid shows: the current request (text, filters, sort, similar-to) and its answer.

`ResultsController` turns the search bar, the filter bar and "find similar" into a `Request`,
answers it on a worker (`queries.run`), plans the grid edits there too (`plan_grid`), and applies
them on the GUI thread: the count line, the grid or the empty state. A newer request supersedes an
older one still running; refreshes caused by library changes never overlap each other, so a huge
library being indexed cannot pile up queries.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from photoclip.gui import queries
from photoclip.gui.empty_state import describe_empty
from photoclip.gui.examples import ExampleMarks
from photoclip.gui.grid_model import GridPlan, plan_grid
from photoclip.gui.workers import Latest

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow

log = logging.getLogger(__name__)


class ResultsController(QObject):
    """Owns the request state; ``shown(answer)`` fires after the grid was filled."""

    shown = Signal(object)  # queries.Answer

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.similar: int | str | None = None
        self.filters = queries.FilterState()
        self.answer: queries.Answer | None = None
        self.last_error: str | None = None
        self._latest = Latest()
        self._shown_request: queries.Request | None = None
        self._event_ticket: int | None = None  # an event-driven refresh still on a worker
        self._refresh_again = False
        self.cost_ms = 0.0  # worker time of the last answer, to pace refreshes on huge libraries
        # The photo last looked at: selected again when a later view holds it (back from "similar").
        self.keep_id: int | None = None
        self.examples = ExampleMarks()

    def request(self) -> queries.Request:
        bar = self.w.search_bar
        like, unlike = self.examples.for_query(bar.text())
        return queries.Request(bar.text(), self.filters, bar.sort_key(), self.similar,
                               self.w.library.settings.default_top, like, unlike)

    def mark_current(self, liked: bool) -> None:
        """"More like this" / "not this" on the current photo: the search re-ranks at once."""
        item = self.w.grid.current_item()
        if item is not None and self.w.search_bar.text().strip():
            self.examples.mark(self.w.search_bar.text(), item.id, liked)
            self.refresh()

    # -- asking -----------------------------------------------------------------------------

    def refresh(self, *, from_events: bool = False) -> None:
        """Ask again for what the grid should show; a newer call supersedes this one."""
        if from_events and self._event_ticket is not None:
            self._refresh_again = True
            return
        ticket = self._latest.next()
        request, library = self.request(), self.w.library
        base = self.w.model.rows if request == self._shown_request else None
        if from_events:
            self._event_ticket = ticket
        else:
            busy = "Searching\u2026" if request.query.strip() or request.similar_to else "Loading\u2026"
            self.w.count_label.setText(busy)

        def work() -> tuple[queries.Answer, GridPlan, float]:
            started = time.perf_counter()
            answer = queries.run(library, request)
            plan = plan_grid(answer.rows, base, answer.days)
            return answer, plan, (time.perf_counter() - started) * 1000

        self.w.tasks.run(work, lambda result: self._answered(ticket, result[0], result[1], None, result[2]),
                         lambda exc: self._answered(ticket, None, None, exc))

    def set_query(self, _text: str = "") -> None:
        self.similar = None
        self.refresh()

    def set_filters(self, state: queries.FilterState) -> None:
        self.filters = state
        self.refresh()

    def show_similar(self, target: int | str) -> None:
        self.similar = target
        label = Path(target).name if isinstance(target, str) else self._name_of(target)
        self.w.search_bar.clear_quietly()  # clearing must not ask for a search that drops "similar"
        self.w.search_bar.show_similar(label)
        self.refresh()

    def clear_similar(self) -> None:
        self.similar = None
        self.refresh()

    def _name_of(self, photo_id: int) -> str:
        row = self.w.model.row_of(photo_id)
        return Path(self.w.model.item(row).path).name if row >= 0 else f"photo {photo_id}"

    # -- answering --------------------------------------------------------------------------

    def _answered(self, ticket: int, answer: queries.Answer | None, plan: GridPlan | None,
                  exc: BaseException | None, cost_ms: float = 0.0) -> None:
        self.cost_ms = cost_ms
        if ticket == self._event_ticket:
            self._event_ticket = None
        if self._latest.is_current(ticket):
            if answer is not None and plan is not None:
                self._show_answer(answer, plan)
            elif exc is not None:
                self._show_error(exc)
        if self._refresh_again and self._event_ticket is None:
            self._refresh_again = False
            self.refresh(from_events=True)

    def _show_answer(self, answer: queries.Answer, plan: GridPlan) -> None:
        w = self.w
        self.answer = answer
        self.last_error = None
        new_view = answer.request != self._shown_request
        self._shown_request = answer.request
        current = w.grid.current_item()
        keep = current.id if current is not None else self.keep_id
        scroll = w.grid.verticalScrollBar().value()
        w.model.marks = answer.marks
        edited = w.model.show_plan(plan)
        w.search_bar.set_browsing(not answer.searched)
        n = len(answer)
        if answer.searched:
            hidden = f" \u00b7 {answer.hidden:,} weak matches hidden" if answer.hidden else ""
            words = "" if answer.meaning else " \u00b7 matched by words only (no search model)"
            text = f"{n:,} result{'s' if n != 1 else ''}{hidden}{words}"
            if answer.unknown and not n:
                text = "No meaningful match: the model does not know " + ", ".join(f"'{u}'" for u in answer.unknown)
            w.count_label.setText(text)
        else:
            w.count_label.setText(f"{n:,} photo{'s' if n != 1 else ''}")
        if n:
            w.stack.setCurrentWidget(w.grid)
            if not edited:  # a reset: put back the current photo, and the scroll in the same view
                row = w.model.row_of(keep) if keep is not None else -1
                if row >= 0:
                    w.grid.setCurrentIndex(w.model.index(row, 0))
                if not new_view:
                    w.grid.verticalScrollBar().setValue(scroll)
                elif row >= 0:
                    w.grid.scrollTo(w.model.index(row, 0))
                else:
                    w.grid.scrollToTop()
        else:
            self.show_empty()
        if w.grid.current_item() is None and w.preview.photo_id is not None:
            w.preview.show_photo(None, None)  # the photo shown is no longer among the results
        self.shown.emit(answer)

    def _show_error(self, exc: BaseException) -> None:
        self.answer = None
        self.last_error = str(exc)
        self._shown_request = None
        self.w.model.set_items([])
        self.w.preview.show_photo(None, None)
        self.w.count_label.setText("")
        self.show_empty()
        if type(exc).__module__ != "photoclip.errors":
            log.warning("request failed: %r", exc)

    def show_empty(self) -> None:
        """Put the empty state for the current request in place of the grid."""
        w = self.w
        if self.answer is None and self.last_error is None:
            return
        request = self.answer.request if self.answer is not None else self.request()
        data = w.sidebar.data
        state = describe_empty(
            searched=bool(request.query.strip()) or request.similar_to is not None,
            narrowed=request.filters.active or request.similar_to is not None,
            has_folders=bool(data.folders) if w.sidebar_loaded else None,
            indexing=w.jobs.busy or bool(data.pending), error=self.last_error,
            words_only=self.answer is not None and not self.answer.meaning)
        w.empty.set_state(state)
        w.stack.setCurrentWidget(w.empty)
        w.scrubber.hide()
