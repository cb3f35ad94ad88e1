"""Albums: manual ones (photos added by hand) and smart ones defined by a rule.

A smart album's rule is a text query and/or tags plus search filters and a threshold on the
calibrated search score. ``refresh_albums`` re-runs the rules (the pipeline calls it after each
run, the watcher after changes) and rewrites only the ``rule`` rows of ``album_photos``: rows a
person made (``pinned``, ``excluded``, ``manual``) are never touched by a rule, so an excluded
photo never comes back. Photos that leave the disk drop out through the live-state filter, and
deleted photos through the foreign-key cascade.
"""

from __future__ import annotations

import json
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from photoclip.errors import NotFoundError, PhotoClipError
from photoclip.search.filters import Filters, allowed_ids
from photoclip.store.catalog import LIVE_STATES, PHOTO_COLUMNS, Catalog, Photo, chunked

DEFAULT_THRESHOLD = 0.5  # the calibrated score from which search calls a photo clearly related
MAX_NAME = 200
MEMBER_SOURCES = ("rule", "pinned", "manual")


class AlbumError(PhotoClipError):
    """An album cannot be created or changed as asked (bad name, duplicate, bad rule)."""


class _Searcher(Protocol):
    def search(self, query: str, *, filters: Filters | None = None, top: int = 50,
               min_score: float | None = None, show_all: bool = False, **examples: Any) -> Any: ...


@dataclass(frozen=True)
class Rule:
    query: str | None = None
    tags: tuple[str, ...] = ()
    filters: Mapping[str, Any] = field(default_factory=dict)  # Filters fields; dates as ISO text
    threshold: float = DEFAULT_THRESHOLD
    like: tuple[int, ...] = ()  # example photos the query was taught with ("more like this")
    unlike: tuple[int, ...] = ()  # and "not this"

    def to_json(self) -> str:
        data: dict[str, Any] = {"query": self.query, "tags": list(self.tags), "filters": dict(self.filters),
                                "threshold": self.threshold}
        if self.like or self.unlike:
            data.update(like=list(self.like), unlike=list(self.unlike))
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Rule:
        data = json.loads(text)
        return cls(data.get("query"), tuple(data.get("tags") or ()), dict(data.get("filters") or {}),
                   float(data.get("threshold", DEFAULT_THRESHOLD)), tuple(int(i) for i in data.get("like") or ()),
                   tuple(int(i) for i in data.get("unlike") or ()))

    def search_filters(self) -> Filters:
        f = dict(self.filters)
        return Filters(folder=f.get("folder"),
                       after=date.fromisoformat(f["after"]) if f.get("after") else None,
                       before=date.fromisoformat(f["before"]) if f.get("before") else None,
                       tags=tuple(dict.fromkeys([*self.tags, *(f.get("tags") or ())])),
                       types=tuple(f.get("types") or ()), album=f.get("album"))


@dataclass(frozen=True)
class Album:
    id: int
    name: str
    kind: str  # "manual" or "smart"
    rule: Rule | None
    count: int  # live members
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class AlbumEntry:
    photo: Photo
    source: str  # rule, pinned, manual (members) or excluded
    score: float | None


@dataclass(frozen=True)
class RefreshResult:
    album: str
    added: int = 0
    removed: int = 0
    error: str | None = None  # the rule could not run (e.g. a tag it names was removed)


def _clean_name(name: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", str(name)).split())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    if not text:
        raise AlbumError("an album name cannot be empty")
    if len(text) > MAX_NAME:
        raise AlbumError(f"an album name is at most {MAX_NAME} characters")
    return text


def _filters_dict(filters: Filters | Mapping[str, Any] | None) -> dict[str, Any]:
    if filters is None:
        return {}
    raw = dict(filters) if isinstance(filters, Mapping) else {
        "folder": filters.folder, "after": filters.after, "before": filters.before,
        "tags": list(filters.tags), "types": list(filters.types), "album": filters.album}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in ("folder", "after", "before", "tags", "types", "album"):
            raise AlbumError(f"'{key}' is not an album filter")
        if value in (None, "", [], ()):
            continue
        out[key] = value.isoformat() if isinstance(value, date) else (
            list(value) if isinstance(value, (list, tuple)) else value)
    return out


def _album_row(conn: sqlite3.Connection, name: str) -> tuple[int, str, str, str | None, float, float]:
    row = conn.execute("SELECT id, name, kind, rule, created_at, updated_at FROM albums WHERE name=?",
                       (_clean_name(name),)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no album named '{name}'")
    return row


def _album(conn: sqlite3.Connection, row: Sequence[Any], count: int) -> Album:
    album_id, name, kind, rule, created, updated = row
    return Album(album_id, name, kind, Rule.from_json(rule) if rule else None, count, created, updated)


def _member_counts(conn: sqlite3.Connection) -> dict[int, int]:
    rows = conn.execute(
        "SELECT a.album_id, COUNT(*) FROM album_photos a JOIN photos p ON p.id=a.photo_id "
        f"WHERE a.source IN ('rule','pinned','manual') AND p.state IN {LIVE_STATES!r} GROUP BY a.album_id")
    return dict(rows.fetchall())


def create_album(catalog: Catalog, name: str, *, query: str | None = None, tags: Iterable[str] = (),
                 filters: Filters | Mapping[str, Any] | None = None, threshold: float | None = None,
                 searcher: _Searcher | None = None, like: Iterable[int] = (), unlike: Iterable[int] = ()) -> Album:
    """A smart album when any rule part is given, else a manual one; filled now if a searcher is given.
    ``like`` and ``unlike`` are example photos the query was taught with (they need a query)."""
    clean = _clean_name(name)
    query = " ".join(query.split()) if query else None
    tag_list = tuple(dict.fromkeys(" ".join(t.split()) for t in tags if t.strip()))
    filter_dict = _filters_dict(filters)
    smart = bool(query or tag_list or filter_dict)
    examples = (tuple(int(i) for i in like), tuple(int(i) for i in unlike)) if query else ((), ())
    rule = Rule(query, tag_list, filter_dict, DEFAULT_THRESHOLD if threshold is None else float(threshold),
                *examples)
    if smart:
        _check_rule(rule)
    now = time.time()
    with catalog.write() as c:
        if c.execute("SELECT 1 FROM albums WHERE name=?", (clean,)).fetchone():
            raise AlbumError(f"an album named '{clean}' already exists")
        for tag in tag_list:
            if not c.execute("SELECT 1 FROM tags WHERE name=?", (tag,)).fetchone():
                raise NotFoundError(f"there is no tag named '{tag}'")
        c.execute("INSERT INTO albums(name, kind, rule, created_at, updated_at) VALUES(?, ?, ?, ?, ?)",
                  (clean, "smart" if smart else "manual", rule.to_json() if smart else None, now, now))
    if smart:
        refresh_albums(catalog, searcher, [get_album(catalog, clean).id])
    return get_album(catalog, clean)


def _check_rule(rule: Rule) -> None:
    """Fail at creation, not at the first refresh, on a bad threshold or date."""
    if not 0.0 <= rule.threshold <= 1.0:
        raise AlbumError(f"an album threshold is a score between 0 and 1, not {rule.threshold}")
    try:
        rule.search_filters()
    except (ValueError, TypeError) as exc:
        raise AlbumError(f"the album filter is not valid: {exc}") from exc


def get_album(catalog: Catalog, name: str) -> Album:
    conn = catalog.read()
    row = _album_row(conn, name)
    return _album(conn, row, _member_counts(conn).get(row[0], 0))


def list_albums(catalog: Catalog) -> list[Album]:
    conn = catalog.read()
    counts = _member_counts(conn)
    rows = conn.execute("SELECT id, name, kind, rule, created_at, updated_at FROM albums "
                        "ORDER BY name COLLATE NOCASE").fetchall()
    return [_album(conn, row, counts.get(row[0], 0)) for row in rows]


def album_entries(catalog: Catalog, name: str, *, include_excluded: bool = False) -> list[AlbumEntry]:
    """Live photos of an album with how each got there: by hand first, then best rule score."""
    conn = catalog.read()
    album_id = _album_row(conn, name)[0]
    sources = ("rule", "pinned", "manual", "excluded") if include_excluded else MEMBER_SOURCES
    cols = ", ".join(f"p.{c.strip()}" for c in PHOTO_COLUMNS.split(","))
    rows = conn.execute(
        f"SELECT {cols}, a.source, a.score FROM album_photos a JOIN photos p ON p.id=a.photo_id "
        f"WHERE a.album_id=? AND a.source IN ({','.join('?' * len(sources))}) "
        f"AND p.state IN ({','.join('?' * len(LIVE_STATES))}) "
        "ORDER BY a.source='excluded', a.score IS NOT NULL, a.score DESC, p.taken_at, p.path",
        [album_id, *sources, *LIVE_STATES]).fetchall()
    return [AlbumEntry(Photo(*r[:-2]), r[-2], r[-1]) for r in rows]


def album_members(catalog: Catalog, name: str) -> list[Photo]:
    return [entry.photo for entry in album_entries(catalog, name)]


def _set_source(catalog: Catalog, name: str, photo_ids: Iterable[int], source: str) -> int:
    ids = [int(i) for i in photo_ids]
    known = set(catalog.photos(ids))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise NotFoundError(f"no photo with id {unknown[0]}")
    now = time.time()
    with catalog.write() as c:
        album_id, _, kind, *_ = _album_row(c, name)
        if kind == "manual" and source == "pinned":
            source = "manual"
        c.executemany("INSERT INTO album_photos(album_id, photo_id, source, score, added_at) "
                      "VALUES(?, ?, ?, NULL, ?) ON CONFLICT(album_id, photo_id) DO UPDATE SET "
                      "source=excluded.source, added_at=excluded.added_at",
                      [(album_id, i, source, now) for i in ids])
        c.execute("UPDATE albums SET updated_at=? WHERE id=?", (now, album_id))
    return len(ids)


def pin(catalog: Catalog, name: str, photo_ids: int | Iterable[int]) -> int:
    """Keep photos in an album whatever its rule says."""
    return _set_source(catalog, name, _ids(photo_ids), "pinned")


def exclude(catalog: Catalog, name: str, photo_ids: int | Iterable[int]) -> int:
    """Keep photos out of an album; its rule never brings them back."""
    return _set_source(catalog, name, _ids(photo_ids), "excluded")


def add_to_album(catalog: Catalog, name: str, photo_ids: int | Iterable[int]) -> int:
    """Add photos by hand (pinned, in a smart album)."""
    return _set_source(catalog, name, _ids(photo_ids), "pinned")


def remove_from_album(catalog: Catalog, name: str, photo_ids: int | Iterable[int]) -> int:
    """Take photos out: forgotten in a manual album, excluded in a smart one."""
    ids = _ids(photo_ids)
    album_id, _, kind, *_ = _album_row(catalog.read(), name)
    if kind == "smart":
        return exclude(catalog, name, ids)
    with catalog.write() as c:
        removed = _delete_members(c, album_id, ids)
        c.execute("UPDATE albums SET updated_at=? WHERE id=?", (time.time(), album_id))
        return removed


def reset_member(catalog: Catalog, name: str, photo_ids: int | Iterable[int]) -> None:
    """Forget a pin or an exclusion: the rule decides again at the next refresh."""
    ids = _ids(photo_ids)
    with catalog.write() as c:
        _delete_members(c, _album_row(c, name)[0], ids)


def _delete_members(c: sqlite3.Connection, album_id: int, ids: list[int], source: str | None = None) -> int:
    """Delete in chunks: a selection of 50,000 photos must not exceed SQLite's bound-parameter limit."""
    removed = 0
    only = " AND source=?" if source else ""
    for chunk in chunked(ids):
        cur = c.execute(f"DELETE FROM album_photos WHERE album_id=?{only} AND photo_id IN "
                        f"({','.join('?' * len(chunk))})", [album_id, *([source] if source else []), *chunk])
        removed += cur.rowcount
    return removed


def _ids(photo_ids: int | Iterable[int]) -> list[int]:
    return [int(photo_ids)] if isinstance(photo_ids, int) else [int(i) for i in photo_ids]


def delete_album(catalog: Catalog, name: str) -> None:
    """Forget an album (its photos are not touched)."""
    with catalog.write() as c:
        c.execute("DELETE FROM albums WHERE id=?", (_album_row(c, name)[0],))


def rename_album(catalog: Catalog, name: str, new_name: str) -> Album:
    clean = _clean_name(new_name)
    with catalog.write() as c:
        album_id = _album_row(c, name)[0]
        other = c.execute("SELECT id FROM albums WHERE name=?", (clean,)).fetchone()
        if other and other[0] != album_id:
            raise AlbumError(f"an album named '{clean}' already exists")
        c.execute("UPDATE albums SET name=?, updated_at=? WHERE id=?", (clean, time.time(), album_id))
    return get_album(catalog, clean)


class _Library:
    """What every rule of one refresh needs from the library, read once rather than once per album."""

    def __init__(self, catalog: Catalog, searcher: _Searcher | None) -> None:
        self.live = {int(i) for i in catalog.live_ids()}
        self._catalog, self._searcher = catalog, searcher
        self._embedded: set[int] | None = None

    def judged(self, rule: Rule) -> set[int]:
        """Photos the rule could judge just now: live ones, and for a query only those with a vector of
        the active model. A rule member outside this set is kept: a photo on an unplugged drive, or one
        not yet re-embedded after a model switch, has not stopped matching."""
        model = getattr(getattr(self._searcher, "embedder", None), "model_name", None) if rule.query else None
        if model is None:
            return self.live
        if self._embedded is None:
            rows = self._catalog.read().execute(
                "SELECT e.photo_id FROM embeddings e JOIN models m ON m.id = e.model_id WHERE m.name = ?", (model,))
            self._embedded = self.live & {r[0] for r in rows}
        return self._embedded


def _rule_members(catalog: Catalog, searcher: _Searcher | None, rule: Rule, live: int) -> dict[int, float | None]:
    filters = rule.search_filters()
    if not rule.query:
        return {int(i): None for i in allowed_ids(catalog, filters)}
    if searcher is None:
        raise AlbumError("no model is active, so the album's text query cannot run")
    if live == 0:
        return {}
    examples = {"like": rule.like, "unlike": rule.unlike} if rule.like or rule.unlike else {}
    result = searcher.search(rule.query, filters=filters if filters.active else None, top=live,
                             min_score=rule.threshold, show_all=False, **examples)
    return {hit.id: hit.score for hit in result.hits if hit.score >= rule.threshold}


def refresh_albums(catalog: Catalog, searcher: _Searcher | None, album_ids: Iterable[int] | None = None
                   ) -> list[RefreshResult]:
    """Re-run smart albums' rules; a rule that cannot run is reported and its members are kept."""
    conn = catalog.read()
    sql = "SELECT id, name, rule FROM albums WHERE kind='smart'"
    params: list[int] = []
    if album_ids is not None:
        params = [int(i) for i in album_ids]
        if not params:
            return []
        sql += f" AND id IN ({','.join('?' * len(params))})"
    rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    if not rows:
        return []
    library = _Library(catalog, searcher)
    results = []
    for album_id, name, rule_text in rows:
        try:
            rule = Rule.from_json(rule_text)
            wanted = _rule_members(catalog, searcher, rule, len(library.live))
        except (PhotoClipError, ValueError) as exc:
            results.append(RefreshResult(name, error=str(exc)))
            continue
        results.append(_apply_rule(catalog, album_id, name, wanted, library.judged(rule)))
    return results


def _apply_rule(catalog: Catalog, album_id: int, name: str, wanted: dict[int, float | None],
                judged: set[int]) -> RefreshResult:
    now = time.time()
    with catalog.write() as c:
        current = dict(c.execute("SELECT photo_id, source FROM album_photos WHERE album_id=?",
                                 (album_id,)).fetchall())
        gone = [pid for pid, source in current.items() if source == "rule" and pid not in wanted and pid in judged]
        new = [(album_id, pid, score, now) for pid, score in wanted.items() if pid not in current]
        _delete_members(c, album_id, gone, "rule")
        c.executemany("INSERT INTO album_photos(album_id, photo_id, source, score, added_at) "
                      "VALUES(?, ?, 'rule', ?, ?)", new)
        # Only scores that moved: every row written here marks its photo for keyword re-indexing.
        c.executemany("UPDATE album_photos SET score=? WHERE album_id=? AND photo_id=? AND source='rule' "
                      "AND score IS NOT ?",
                      [(score, album_id, pid, score) for pid, score in wanted.items()
                       if current.get(pid) == "rule"])
        if gone or new:
            c.execute("UPDATE albums SET updated_at=? WHERE id=?", (now, album_id))
    return RefreshResult(name, added=len(new), removed=len(gone))


def set_rule(catalog: Catalog, name: str, *, query: str | None = None, tags: Iterable[str] = (),
             filters: Filters | Mapping[str, Any] | None = None, threshold: float | None = None,
             searcher: _Searcher | None = None) -> Album:
    """Replace a smart album's rule (rule members are recomputed; pins and exclusions stay)."""
    album = get_album(catalog, name)
    tag_list = tuple(dict.fromkeys(" ".join(t.split()) for t in tags if t.strip()))
    rule = Rule(" ".join(query.split()) if query else None, tag_list, _filters_dict(filters),
                DEFAULT_THRESHOLD if threshold is None else float(threshold))
    if not (rule.query or rule.tags or rule.filters):
        raise AlbumError("a smart album's rule needs a query, a tag or a filter")
    _check_rule(rule)
    with catalog.write() as c:
        c.execute("UPDATE albums SET kind='smart', rule=?, updated_at=? WHERE id=?",
                  (rule.to_json(), time.time(), album.id))
    refresh_albums(catalog, searcher, [album.id])
    return get_album(catalog, name)


def rule_scores(catalog: Catalog, searcher: _Searcher, query: str,
                filters: Filters | Mapping[str, Any] | None = None, *, like: Iterable[int] = (),
                unlike: Iterable[int] = ()) -> list[tuple[int, float]]:
    """Every live photo's score for a rule's query (best first): what a threshold would keep.

    Scores belong to the photo and the query, so counting those at or above a threshold previews the
    album exactly, for any threshold, without searching again."""
    rule = Rule(" ".join(query.split()) or None, (), _filters_dict(filters))
    if not rule.query:
        raise AlbumError("a preview needs a query")
    live = len(catalog.live_ids())
    if live == 0:
        return []
    found = rule.search_filters()
    like, unlike = tuple(like), tuple(unlike)
    examples = {"like": like, "unlike": unlike} if like or unlike else {}
    result = searcher.search(rule.query, filters=found if found.active else None, top=live, show_all=True,
                             **examples)
    return [(hit.id, float(hit.score)) for hit in result.hits]
