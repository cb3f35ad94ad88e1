"""What the grid shows, computed on a worker: browsing (newest first) or search results.

Plain Python with no Qt, so it runs on any thread. Browsing reads the catalog with the same filters
search uses; searching goes through the facade. When the search package is not installed in this
build, a plain text query falls back to an exact cosine ranking over the stored vectors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from photoclip.catalog import Catalog
from photoclip.errors import NoModelError

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

    @property
    def active(self) -> bool:
        return any((self.folder, self.after, self.before, self.tags, self.types, self.album))

    def to_search_filters(self) -> Any:
        from photoclip.search import Filters

        return Filters(folder=self.folder, after=self.after, before=self.before, tags=self.tags,
                       types=self.types, album=self.album)


@dataclass(frozen=True, slots=True)
class GridItem:
    """One cell of the grid: small on purpose, since a library may hold 100,000 of them."""

    id: int
    path: str
    content_hash: str
    taken_at: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class Request:
    """What the user asked for; ``similar_to`` is a photo id or an image path."""

    query: str = ""
    filters: FilterState = field(default_factory=FilterState)
    sort: str = SORT_RELEVANCE
    similar_to: int | str | None = None
    top: int = 200


@dataclass
class Answer:
    request: Request
    items: list[GridItem]
    hidden: int = 0
    searched: bool = False  # False for the browsing view


def run(library: Library, request: Request) -> Answer:
    """Answer one request; raises the core's typed errors (QueryError, NoModelError...)."""
    if request.similar_to is not None:
        result = library.similar(request.similar_to, filters=_search_filters(request.filters),
                                 top=request.top)
        return _sorted(Answer(request, _hits(result), result.hidden, True))
    if not request.query.strip():
        newest = request.sort != SORT_OLDEST
        return Answer(request, browse(library.catalog, request.filters, newest_first=newest))
    if not library.has_model:
        raise NoModelError("searching by meaning needs a CLIP model; browsing by date works without one")
    if not search_available():
        return _sorted(Answer(request, exact_search(library, request), 0, True))
    result = library.search(request.query, filters=_search_filters(request.filters), top=request.top)
    return _sorted(Answer(request, _hits(result), result.hidden, True))


def search_available() -> bool:
    """Whether this build has the search package (similar-photo search needs it)."""
    try:
        from photoclip.search import Filters, Searcher  # noqa: F401
    except ImportError:
        return False
    return True


def _search_filters(state: FilterState) -> Any:
    if not state.active:
        return None
    return state.to_search_filters()


def _hits(result: Any) -> list[GridItem]:
    return [GridItem(h.id, h.path, h.photo.content_hash, h.photo.taken_at, h.score) for h in result.hits]


def _sorted(answer: Answer) -> Answer:
    if answer.request.sort in (SORT_NEWEST, SORT_OLDEST):
        answer.items.sort(key=lambda i: i.taken_at or "", reverse=answer.request.sort == SORT_NEWEST)
    return answer


def _where(state: FilterState) -> tuple[str, list[Any]]:
    clauses = ["p.state IN ('ok','pending')"]
    params: list[Any] = []
    if state.folder:
        root = state.folder.rstrip("/\\")
        escaped = root.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("(p.path LIKE ? ESCAPE '\\' OR p.path LIKE ? ESCAPE '\\')")
        params += [escaped + "/%", escaped + "\\\\%"]
    if state.after:
        clauses.append("p.taken_at >= ?")
        params.append(state.after.isoformat())
    if state.before:
        clauses.append("p.taken_at < ?")
        params.append((state.before + timedelta(days=1)).isoformat())
    if state.types:
        kinds = sorted({"jpeg" if t.lower() in ("jpg", "jpeg") else t.lower() for t in state.types})
        clauses.append(f"p.format IN ({','.join('?' * len(kinds))})")
        params += kinds
    for tag in state.tags:
        clauses.append("EXISTS (SELECT 1 FROM photo_tags pt JOIN tags t ON t.id=pt.tag_id "
                       "WHERE pt.photo_id=p.id AND pt.rejected=0 AND t.name=?)")
        params.append(tag)
    if state.album:
        clauses.append("EXISTS (SELECT 1 FROM album_photos ap JOIN albums a ON a.id=ap.album_id "
                       "WHERE ap.photo_id=p.id AND a.name=? AND ap.source != 'excluded')")
        params.append(state.album)
    return " AND ".join(clauses), params


def browse(catalog: Catalog, state: FilterState, *, newest_first: bool = True) -> list[GridItem]:
    """Every live photo passing the filters, by capture date (undated ones last)."""
    where, params = _where(state)
    order = "DESC" if newest_first else "ASC"
    sql = (f"SELECT p.id, p.path, p.content_hash, p.taken_at FROM photos p WHERE {where} "
           f"ORDER BY p.taken_at IS NULL, p.taken_at {order}, p.id {order}")
    return [GridItem(r[0], r[1], r[2], r[3]) for r in catalog.read().execute(sql, params)]


def exact_search(library: Library, request: Request) -> list[GridItem]:
    """Cosine ranking of a plain text query over every stored vector of the active model."""
    engine = library.engine
    query = engine.embed_texts([request.query.strip()])[0]
    ids, matrix = library.catalog.vectors(engine.model_name, live_only=True)
    if not len(ids):
        return []
    allowed = {i.id: i for i in browse(library.catalog, request.filters)}
    scores = matrix @ query
    order = np.argsort(-scores)
    out = []
    for k in order:
        item = allowed.get(int(ids[k]))
        if item is not None:
            out.append(GridItem(item.id, item.path, item.content_hash, item.taken_at, float(scores[k])))
            if len(out) >= request.top:
                break
    return out


def is_image_file(path: str) -> bool:
    from photoclip.imaging import is_supported

    return os.path.isfile(path) and is_supported(path)
