"""Search filters, turned into the set of live photo ids that pass them with one SQL query.

The vector index does the ranking; filters only say which ids may be ranked. Names the user gives
(a tag, an album, a folder) that the library does not know raise NotFoundError instead of quietly
returning nothing.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from photoclip.errors import NotFoundError, QueryError
from photoclip.store import pathtext
from photoclip.store.catalog import ERROR, LIVE_STATES, MISSING, OFFLINE, Catalog
from photoclip.store.pathtext import path_prefix_range

# Spellings people type for the formats the catalog records.
FORMAT_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff", "heif": "heic"}
ALBUM_MEMBER_SOURCES = ("rule", "pinned", "manual")
DEAD_STATES = (ERROR, MISSING, OFFLINE)
# Bumped by catalog triggers whenever a photo enters or leaves one of DEAD_STATES (schema 4).
HIDDEN_GENERATION_KEY = "hidden_generation"

# An SQL condition on ``photos p`` with its parameters (see where_clause).
Condition = tuple[str, list[object]]

_dead_cache: weakref.WeakKeyDictionary[Catalog, tuple[str, np.ndarray]] = weakref.WeakKeyDictionary()
_dead_lock = threading.Lock()


@dataclass(frozen=True)
class Filters:
    folder: str | None = None  # a library folder or any sub-folder path
    after: date | None = None  # taken_at >= after (inclusive)
    before: date | None = None  # taken_at < before + 1 day (inclusive date)
    tags: tuple[str, ...] = ()  # photo has all these tags (not rejected)
    types: tuple[str, ...] = ()  # photos.format in types; 'jpg' means 'jpeg'
    album: str | None = None  # member of the album (rule, pinned or manual)
    hide_duplicates: bool = False  # only the keeper of each group of copies (set from the library setting)
    favourite: bool = False  # only favourites
    min_rating: int = 0  # only photos with at least this many stars (1-5)

    @property
    def active(self) -> bool:
        return bool(self.folder or self.after or self.before or self.tags or self.types or self.album
                    or self.hide_duplicates or self.favourite or self.min_rating)


def normalise_type(name: str) -> str:
    key = name.strip().lower().lstrip(".")
    return FORMAT_ALIASES.get(key, key)


PATH = pathtext.PARAM


def _folder_prefix(catalog: Catalog, folder: str) -> str:
    path = Path(folder).expanduser()
    resolved = str(path.resolve())
    if catalog.folder_for_path(resolved) is None:
        raise NotFoundError(f"{folder} is not inside a library folder")
    return resolved


def allowed_ids(catalog: Catalog, filters: Filters) -> np.ndarray:
    """Sorted ids of live photos that pass every filter."""
    where, params = where_clause(catalog, filters)
    rows = catalog.read().execute(f"SELECT p.id FROM photos p WHERE {where} ORDER BY p.id", params)
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


def passing(catalog: Catalog, filters: Filters, ids: np.ndarray) -> np.ndarray:
    """Which of these ids (a ranked candidate list) are live photos passing every filter, as a mask."""
    if len(ids) == 0:
        return np.zeros(0, dtype=bool)
    where, params = where_clause(catalog, filters)
    rows = catalog.read().execute(
        f"SELECT p.id FROM photos p WHERE p.id IN (SELECT value FROM json_each(?)) AND {where}",
        [json.dumps(ids.tolist()), *params])
    ok = np.fromiter((r[0] for r in rows), dtype=np.int64)
    return np.isin(ids, ok)


def where_clause(catalog: Catalog, filters: Filters) -> Condition:
    """The SQL condition (on ``photos p``) for live photos passing every filter, with its parameters;
    shared by search and by the browsing view so both agree on what a filter means."""
    if filters.after and filters.before and filters.after > filters.before:
        raise QueryError(f"--after {filters.after} is later than --before {filters.before}")
    conn = catalog.read()
    where = [f"p.state IN ({','.join('?' * len(LIVE_STATES))})"]
    params: list[object] = list(LIVE_STATES)
    if filters.folder:
        prefix = _folder_prefix(catalog, filters.folder)
        # A range the path index answers; a folder whose name is not UTF-8 is bound as its bytes.
        where.append(f"(p.path = {PATH} OR (p.path >= {PATH} AND p.path < {PATH}))")
        params += [pathtext.to_sql(p) for p in (prefix, *path_prefix_range(prefix))]
    if filters.after:
        where.append("p.taken_at >= ?")
        params.append(filters.after.isoformat())
    if filters.before:
        where.append("p.taken_at < ?")
        params.append((filters.before + timedelta(days=1)).isoformat())
    for tag in filters.tags:
        row = conn.execute("SELECT id FROM tags WHERE name = ?", (tag,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no tag called {tag!r}")
        where.append("EXISTS (SELECT 1 FROM photo_tags t WHERE t.photo_id = p.id AND t.tag_id = ? "
                     "AND t.rejected = 0)")
        params.append(row[0])
    if filters.types:
        kinds = sorted({normalise_type(t) for t in filters.types})
        where.append(f"lower(p.format) IN ({','.join('?' * len(kinds))})")
        params += kinds
    if filters.album:
        row = conn.execute("SELECT id FROM albums WHERE name = ?", (filters.album,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no album called {filters.album!r}")
        where.append("EXISTS (SELECT 1 FROM album_photos a WHERE a.photo_id = p.id AND a.album_id = ? "
                     f"AND a.source IN ({','.join('?' * len(ALBUM_MEMBER_SOURCES))}))")
        params += [row[0], *ALBUM_MEMBER_SOURCES]
    if filters.hide_duplicates:
        where.append("NOT EXISTS (SELECT 1 FROM duplicate_hidden d WHERE d.photo_id = p.id)")
    if filters.favourite:
        where.append("EXISTS (SELECT 1 FROM photo_marks m WHERE m.photo_id = p.id AND m.favourite = 1)")
    if filters.min_rating:
        if not 1 <= filters.min_rating <= 5:
            raise QueryError(f"a rating is 1 to 5 stars, not {filters.min_rating}")
        where.append("EXISTS (SELECT 1 FROM photo_marks m WHERE m.photo_id = p.id AND m.rating >= ?)")
        params.append(filters.min_rating)
    return " AND ".join(where), params


# The absolute capture moment when known; rows dated before it was stored sort by their local time.
_TAKEN_ORDER = "COALESCE(p.taken_order, p.taken_at)"


def by_date(catalog: Catalog, filters: Filters, *,
            newest_first: bool = True) -> Iterator[tuple[int, str, str, str | None]]:
    """(id, path, content hash, capture date) of every photo passing the filters, by capture moment
    (undated ones last, ties by id): the browsing view's rows, one at a time (a caller keeping columns
    never holds 100,000 row objects at once)."""
    where, params = where_clause(catalog, filters)
    order = "DESC" if newest_first else "ASC"
    yield from catalog.read().execute(
        f"SELECT p.id, p.path, p.content_hash, p.taken_at FROM photos p WHERE {where} "
        f"ORDER BY {_TAKEN_ORDER} IS NULL, {_TAKEN_ORDER} {order}, p.id {order}", params)


def dead_ids(catalog: Catalog) -> np.ndarray:
    """Ids of photos that must not appear (missing, offline, failed), sorted and read-only.

    Usually few, but an unplugged drive can hold most of a library: listing 80,000 ids cost tens of
    ms, on every query. So the list is kept per catalog and read again only when the catalog's hidden
    generation moved. The same array object comes back while nothing changed, which lets the vector
    index keep what it derived from it.
    """
    generation = catalog.get_meta(HIDDEN_GENERATION_KEY)
    with _dead_lock:
        cached = _dead_cache.get(catalog)
    if generation is not None and cached is not None and cached[0] == generation:
        return cached[1]
    # Listing the dead states (not NOT IN the live ones) lets SQLite use the state index.
    marks = ",".join("?" * len(DEAD_STATES))
    rows = catalog.read().execute(f"SELECT id FROM photos WHERE state IN ({marks}) ORDER BY id", DEAD_STATES)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64)
    ids.flags.writeable = False
    if generation is not None:
        # Read after the generation: at worst the list is newer than its key and is read once more.
        with _dead_lock:
            _dead_cache[catalog] = (generation, ids)
    return ids
