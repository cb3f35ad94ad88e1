"""What the grid shows, computed on a worker: browsing (newest first) or search results.

Plain Python with no Qt, so it runs on any thread, and only the facade is asked: `Library.browse`
for the date-ordered view, `Library.search` (meaning and words together; words alone while no
model is installed) and `Library.similar`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from photoclip.search import Filters

if TYPE_CHECKING:
    from photoclip.library import Library

SORT_RELEVANCE, SORT_NEWEST, SORT_OLDEST = "relevance", "newest", "oldest"


@dataclass(frozen=True)
class FilterState:
    """The filter bar's choices; maps one to one onto ``photoclip.search.Filters``."""

    folder: str | None = None
    after: date | None = None
    before: date | None = None
    tags: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    album: str | None = None
    favourite: bool = False
    min_rating: int = 0

    @property
    def active(self) -> bool:
        return any((self.folder, self.after, self.before, self.tags, self.types, self.album, self.favourite,
                    self.min_rating))

    def to_search_filters(self) -> Filters:
        return Filters(folder=self.folder, after=self.after, before=self.before, tags=self.tags,
                       types=self.types, album=self.album, favourite=self.favourite, min_rating=self.min_rating)


@dataclass(frozen=True, slots=True)
class GridItem:
    """One cell of the grid, made on demand from `GridRows` (the selection, the current photo)."""

    id: int
    path: str
    content_hash: str
    taken_at: str | None = None
    score: float | None = None
    why: tuple[str, ...] = ()  # why a search hit matched ("text: INVOICE", "meaning: 0.81")
    words: tuple[str, ...] = ()  # the query words it matched, to highlight in the preview


Reasons = tuple[tuple[str, ...], tuple[str, ...]]  # (why, words) of one search hit


@dataclass
class GridRows:
    """The grid's photos as parallel columns rather than one object per photo.

    A library may hold 100,000 photos and the grid is refreshed while indexing. Lists of ints and
    strings are a handful of objects for Python's garbage collector to look at; 100,000 small
    objects made every refresh kept it busy for up to 100 ms at a time, holding the interpreter
    lock and so freezing the window.
    """

    ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    taken: list[str | None] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    # by photo id, and only for hits that have reasons: browsing carries none, so costs nothing
    reasons: dict[int, Reasons] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def item(self, row: int) -> GridItem:
        why, words = self.reasons.get(self.ids[row], ((), ()))
        return GridItem(self.ids[row], self.paths[row], self.hashes[row], self.taken[row], self.scores[row],
                        why, words)

    def items(self) -> list[GridItem]:
        return [self.item(row) for row in range(len(self.ids))]

    def copy(self) -> GridRows:
        return GridRows(list(self.ids), list(self.paths), list(self.hashes), list(self.taken), list(self.scores),
                        dict(self.reasons))

    @classmethod
    def of(cls, items: Iterable[Any]) -> GridRows:
        """From anything with id, path, content_hash and taken_at (and maybe score, why, words) attributes."""
        rows = cls()
        for i in items:
            rows.ids.append(i.id)
            rows.paths.append(i.path)
            rows.hashes.append(i.content_hash)
            rows.taken.append(i.taken_at)
            rows.scores.append(getattr(i, "score", None))
            why, words = tuple(getattr(i, "why", ())), tuple(getattr(i, "words", ()))
            if why or words:
                rows.reasons[i.id] = (why, words)
        return rows


@dataclass(frozen=True)
class Request:
    """What the user asked for; ``similar_to`` is a photo id or an image path."""

    query: str = ""
    filters: FilterState = field(default_factory=FilterState)
    sort: str = SORT_RELEVANCE
    similar_to: int | str | None = None
    top: int = 200
    like: tuple[int, ...] = ()  # "more like this" examples for the query
    unlike: tuple[int, ...] = ()  # "not this" examples


@dataclass(frozen=True)
class DaySections:
    """Runs of photos taken on the same day, in row order: where the grid puts its date headers.

    ``keys`` are ``YYYY-MM-DD`` ("" for photos without a date) and ``starts`` the first row of
    each run; ``total`` is the number of rows they were found in.
    """

    keys: list[str]
    starts: list[int]
    total: int

    def months(self) -> list[tuple[str, int]]:
        """(``YYYY-MM`` or "", first row) of each month: what the scrubber shows."""
        out: list[tuple[str, int]] = []
        for key, start in zip(self.keys, self.starts, strict=True):
            if not out or out[-1][0] != key[:7]:
                out.append((key[:7], start))
        return out


@dataclass
class Answer:
    request: Request
    rows: GridRows
    hidden: int = 0
    searched: bool = False  # False for the browsing view
    meaning: bool = True  # False when a search could only match words (no model installed)
    unknown: tuple[str, ...] = ()  # query words the model cannot tell from made-up ones
    marks: dict[int, Any] = field(default_factory=dict)  # favourites and stars of marked photos
    sections: list[tuple[str, int]] = field(default_factory=list)  # months, when in date order
    days: DaySections | None = None  # days, when in date order

    @property
    def by_date(self) -> bool:
        return not self.searched or self.request.sort in (SORT_NEWEST, SORT_OLDEST)

    @property
    def items(self) -> list[GridItem]:
        return self.rows.items()

    def __len__(self) -> int:
        return len(self.rows)


def run(library: Library, request: Request) -> Answer:
    """Answer one request; raises the core's typed errors (QueryError, NoModelError...)."""
    answer = _run(library, request)
    if answer.by_date:
        answer.days = day_sections(answer.rows.taken)
        answer.sections = answer.days.months()
    try:
        answer.marks = library.marks()
    except Exception:  # a catalog from before marks: nothing to paint
        answer.marks = {}
    return answer


def _run(library: Library, request: Request) -> Answer:
    if request.similar_to is not None:
        result = library.similar(request.similar_to, filters=_search_filters(request.filters),
                                 top=request.top)
        return Answer(request, _hits(result, request.sort), result.hidden, True)
    if not request.query.strip():
        photos = library.browse_columns(_search_filters(request.filters), newest_first=request.sort != SORT_OLDEST)
        return Answer(request, GridRows(photos.ids, photos.paths, photos.hashes, photos.taken,
                                        [None] * len(photos)))
    examples = {"like": request.like, "unlike": request.unlike} if request.like or request.unlike else {}
    result = library.search(request.query, filters=_search_filters(request.filters), top=request.top, **examples)
    return Answer(request, _hits(result, request.sort), result.hidden, True, meaning=library.has_model,
                  unknown=tuple(getattr(result, "unknown", ())))


def month_sections(taken: Any) -> list[tuple[str, int]]:
    """(``YYYY-MM`` or "", first row) for each run of photos taken in the same month, in row order."""
    return day_sections(taken).months()


def day_sections(taken: Any) -> DaySections:
    """The runs of photos taken on the same day (one pass over the dates, on a worker)."""
    keys: list[str] = []
    starts: list[int] = []
    last: str | None = None
    row = -1
    for row, when in enumerate(taken):
        key = when[:10] if when else ""
        if key != last:
            keys.append(key)
            starts.append(row)
            last = key
    return DaySections(keys, starts, row + 1)


def _search_filters(state: FilterState) -> Filters | None:
    if not state.active:
        return None
    return state.to_search_filters()


def _hits(result: Any, sort: str) -> GridRows:
    if sort in (SORT_NEWEST, SORT_OLDEST):
        result.sort_by_date(newest=sort == SORT_NEWEST)
    hits = [GridItem(h.id, h.path, h.photo.content_hash, h.photo.taken_at, h.score, tuple(getattr(h, "why", ())),
                     tuple(getattr(h, "words", ()))) for h in result.hits]
    return GridRows.of(hits)
