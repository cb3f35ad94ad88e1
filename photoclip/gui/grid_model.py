"""The grid's list of photos: a Qt model whose row bookkeeping stays in C++, and its edit plans.

Qt asks a model for its row count once per item whenever the view lays itself out (10,000 calls
for 10,000 photos), and every call into a Python method has to win the interpreter lock from the
indexing threads first. So the model is a `QStringListModel`, whose rows, flags and indexes are
answered in C++ (its strings stay empty); Python keeps the photos beside the rows as `GridRows`
columns and answers `data()`, which the view's painting does not use.

When the same view is refreshed (photos arrive while indexing), `plan_grid` works out on a worker
which rows to insert and remove, and `show_plan` applies them on the GUI thread, so the selection,
the current photo and the scroll position stay put.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QStringListModel, Qt, QTimer, QUrl, Signal

from photoclip.gui.queries import DaySections, GridItem, GridRows
from photoclip.gui.thumbnails import ThumbnailLoader
from photoclip.store.pathtext import display

PHOTO_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
SCORE_ROLE = Qt.ItemDataRole.UserRole + 3
ITEM_ROLE = Qt.ItemDataRole.UserRole + 4
MAX_EDIT_RUNS = 400  # beyond this many separate inserts/removals, one reset is cheaper

Index = QModelIndex | QPersistentModelIndex


def file_name(path: str) -> str:
    """The name as shown: a byte that is not UTF-8 as U+FFFD (Qt would drop it without a trace)."""
    return display(path).replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class GridPlan:
    """What the grid should show next, worked out off the GUI thread by `plan_grid`.

    ``edits`` is (removed runs, inserted runs, first and last changed row) to get from ``base``
    to ``rows``, or None when the model must reset. ``days`` are the grid's date headers (None:
    not in date order, no headers).
    """

    rows: GridRows
    rows_by_hash: dict[str, int | list[int]]  # a list only for the rare photo kept twice
    base: GridRows | None = None
    edits: tuple[list[tuple[int, int]], list[tuple[int, int]], tuple[int, int] | None] | None = None
    days: DaySections | None = None


def plan_grid(rows: GridRows, base: GridRows | None = None, days: DaySections | None = None) -> GridPlan:
    """Plan the move from ``base`` (what the grid shows) to ``rows``; plain Python, any thread.

    In-place edits are planned when the photos kept keep their relative order (a refreshed browse
    or search) and the edits are few enough; otherwise the plan is a reset.
    """
    rows_by_hash: dict[str, int | list[int]] = {}
    for row, digest in enumerate(rows.hashes):
        seen = rows_by_hash.setdefault(digest, row)
        if seen != row:
            rows_by_hash[digest] = [*seen, row] if isinstance(seen, list) else [seen, row]
    plan = GridPlan(rows, rows_by_hash, base, days=days)
    if base is None:
        return plan
    new_ids, old_ids = set(rows.ids), set(base.ids)
    if len(new_ids) != len(rows) or len(old_ids) != len(base):
        return plan
    if [i for i in rows.ids if i in old_ids] != [i for i in base.ids if i in new_ids]:
        return plan
    removals = _runs([r for r, i in enumerate(base.ids) if i not in new_ids])
    inserts = _runs([r for r, i in enumerate(rows.ids) if i not in old_ids])
    if len(removals) + len(inserts) > MAX_EDIT_RUNS:
        return plan
    old_row = {i: r for r, i in enumerate(base.ids)}
    changed = [r for r, i in enumerate(rows.ids) if i in old_row and _differs(rows, r, base, old_row[i])]
    plan.edits = (removals, inserts, (changed[0], changed[-1]) if changed else None)
    return plan


def _differs(a: GridRows, ra: int, b: GridRows, rb: int) -> bool:
    return (a.paths[ra] != b.paths[rb] or a.hashes[ra] != b.hashes[rb] or a.taken[ra] != b.taken[rb]
            or a.scores[ra] != b.scores[rb])


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers grouped into (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


PHOTO_IDS_MIME = "application/x-photoclip-photo-ids"


def photo_ids_from(mime: QMimeData) -> list[int]:
    """The photo ids a drag from the grid carries (none for files dragged in from elsewhere)."""
    if not mime.hasFormat(PHOTO_IDS_MIME):
        return []
    text = bytes(mime.data(PHOTO_IDS_MIME).data()).decode()
    return [int(x) for x in text.split(",") if x.strip().isdigit()]


class PhotoListModel(QStringListModel):
    """Rows of photos (row bookkeeping in C++, `GridRows` in Python); thumbnails come from the loader.

    Rows are photos only: the date headers the view draws between days are not rows, so a row
    number means the same photo to the selection, the viewer and every action.
    """

    sectionsChanged = Signal()  # ``days`` were replaced (after the rows they describe)

    def __init__(self, loader: ThumbnailLoader, parent: object = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.thumb_side = 160  # device pixels the view draws a thumbnail at; set by the view
        self.marks: dict[int, Any] = {}  # photo id -> Mark, for marked photos only
        self.rows = GridRows()
        self.days: DaySections | None = None  # the days of ``rows`` in date order, else None
        self._rows_by_hash: dict[str, int | list[int]] = {}
        self._rows_by_id: dict[int, int] | None = None
        self._changed_rows: set[int] = set()
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(30)
        self._flush_timer.timeout.connect(self._flush_changes)
        loader.ready.connect(self._on_thumbnail)

    # -- contents ---------------------------------------------------------------------------

    def set_items(self, items: list[GridItem]) -> None:
        """Show another list altogether (a new search or filter)."""
        self.show_plan(plan_grid(GridRows.of(items)))

    def update_items(self, items: list[GridItem]) -> bool:
        """Move to ``items`` by inserting and removing rows; False when it had to reset instead."""
        return self.show_plan(plan_grid(GridRows.of(items), self.rows))

    def show_plan(self, plan: GridPlan) -> bool:
        """Apply a plan made by `plan_grid` (on a worker); True when rows were edited in place.

        A plan made against rows the model no longer shows (another answer came first) falls back
        to a reset. Edits go to a copy: another plan may still be reading the current rows.
        """
        self._changed_rows.clear()
        self._rows_by_id = None
        if plan.edits is None or plan.base is not self.rows:
            self.rows = plan.rows
            self.days = plan.days  # before the reset: the view lays out rows and days together
            self._rows_by_hash = plan.rows_by_hash
            self.setStringList([""] * len(plan.rows))  # the names live in Python; Qt only counts rows
            self.loader.forget_queue()
            self.sectionsChanged.emit()
            return False
        removals, inserts, changed = plan.edits
        current = self.rows.copy()
        columns = ("ids", "paths", "hashes", "taken", "scores")
        for first, last in reversed(removals):
            for name in columns:
                del getattr(current, name)[first:last + 1]
            self.rows = current  # Python and C++ rows change together: views read both in between
            self.removeRows(first, last - first + 1)
        for first, last in inserts:
            for name in columns:
                getattr(current, name)[first:first] = getattr(plan.rows, name)[first:last + 1]
            self.rows = current
            self.insertRows(first, last - first + 1)
        self.rows = plan.rows
        self.days = plan.days
        self._rows_by_hash = plan.rows_by_hash
        self.sectionsChanged.emit()
        if changed is not None:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[1]))
        return True

    def items(self) -> list[GridItem]:
        """Every row as a `GridItem` (made on demand: for tests and small lists, not for painting)."""
        return self.rows.items()

    def item(self, row: int) -> GridItem:
        return self.rows.item(row)

    def update_marks(self, marks: dict[int, Any]) -> None:
        """Take new marks for some photos (a favourite or rating changed); the view repaints."""
        for pid, mark in marks.items():
            if mark.favourite or mark.rating:
                self.marks[pid] = mark
            else:
                self.marks.pop(pid, None)

    def row_of(self, photo_id: int) -> int:
        if self._rows_by_id is None:
            self._rows_by_id = {photo_id: row for row, photo_id in enumerate(self.rows.ids)}
        return self._rows_by_id.get(photo_id, -1)

    # -- Qt model interface (not on the painting path) ---------------------------------------

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = index.row()
        if not index.isValid() or row >= len(self.rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return file_name(self.rows.paths[row])
        if role == Qt.ItemDataRole.DecorationRole:
            return self.loader.lookup(self.rows.hashes[row], self.rows.paths[row], self.thumb_side)[0]
        item = self.rows.item(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            score = f"\nmatch {item.score:.2f}" if item.score is not None else ""
            taken = f"\n{item.taken_at.replace('T', ' ')}" if item.taken_at else ""
            return f"{display(item.path)}{taken}{score}"
        if role == PHOTO_ID_ROLE:
            return item.id
        if role == PATH_ROLE:
            return item.path
        if role == SCORE_ROLE:
            return item.score
        if role == ITEM_ROLE:
            return item
        return None

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        """Dragged thumbnails leave as file URLs, so file managers and editors take the files."""
        mime = QMimeData()
        paths = [self.rows.paths[i.row()] for i in indexes if i.isValid() and i.row() < len(self.rows)]
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        mime.setText("\n".join(paths))
        ids = [self.rows.ids[i.row()] for i in indexes if i.isValid() and i.row() < len(self.rows)]
        mime.setData(PHOTO_IDS_MIME, ",".join(map(str, ids)).encode())  # for dropping onto an album
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # -- thumbnails arriving ----------------------------------------------------------------

    def _on_thumbnail(self, content_hash: str) -> None:
        """Coalesce finished thumbnails into one repaint every 30 ms instead of one per photo."""
        rows = self._rows_by_hash.get(content_hash)
        if rows is not None:
            if isinstance(rows, int):
                self._changed_rows.add(rows)
            else:
                self._changed_rows.update(rows)
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def _flush_changes(self) -> None:
        rows = [r for r in self._changed_rows if r < len(self.rows)]
        self._changed_rows.clear()
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DecorationRole])
