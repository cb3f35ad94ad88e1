"""Snapshots of catalog rows a person's edit is about to change, so the edit can be undone exactly.

An album edit or a tag decision can replace rows of several kinds (an automatic tag becomes a
manual one, a pinned photo becomes excluded...). Undoing by calling the opposite edit would not
give back what was there; putting the captured rows back does. Snapshots are plain data and
are restored in one transaction each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from photoclip.errors import NotFoundError
from photoclip.store.catalog import Catalog, chunked

AlbumRow = tuple[int, str, str, str | None, float, float]  # id, name, kind, rule, created, updated
MemberRow = tuple[int, int, str, float | None, float]  # album_id, photo_id, source, score, added_at
TagRow = tuple[int, int, float | None, str, int, float]  # photo_id, tag_id, score, source, rejected, updated


@dataclass(frozen=True)
class MembersSnapshot:
    """The album_photos rows of some photos in one album (absent photos recorded as absent)."""

    album_id: int
    photo_ids: tuple[int, ...]
    rows: tuple[MemberRow, ...]


@dataclass(frozen=True)
class TagSnapshot:
    """The photo_tags rows of some photos for one tag; ``tag_row`` when the tag itself may go too."""

    name: str
    photo_ids: tuple[int, ...]
    rows: tuple[TagRow, ...]
    tag_existed: bool = True
    tag: tuple | None = None  # the tags row itself, to bring a tag back that an undo dropped


@dataclass(frozen=True)
class AlbumSnapshot:
    """A whole album: its row and every membership row (to undo a delete)."""

    album: AlbumRow
    members: tuple[MemberRow, ...] = field(default_factory=tuple)


def _album_id(catalog: Catalog, name: str) -> int:
    row = catalog.read().execute("SELECT id FROM albums WHERE name=?", (name,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no album called {name!r}")
    return int(row[0])


def _in(ids: Iterable[int]) -> tuple[str, list[int]]:
    values = [int(i) for i in ids]
    return ",".join("?" * len(values)) or "NULL", values


def members(catalog: Catalog, album: str, photo_ids: Iterable[int]) -> MembersSnapshot:
    album_id = _album_id(catalog, album)
    ids = tuple(dict.fromkeys(int(i) for i in photo_ids))
    rows: list[MemberRow] = []
    for part in chunked(ids):
        marks, chunk = _in(part)
        rows += catalog.read().execute(
            f"SELECT album_id, photo_id, source, score, added_at FROM album_photos "
            f"WHERE album_id=? AND photo_id IN ({marks})", [album_id, *chunk]).fetchall()
    return MembersSnapshot(album_id, ids, tuple(rows))


def restore_members(catalog: Catalog, snap: MembersSnapshot) -> MembersSnapshot:
    """Put the rows back; returns a snapshot of what they replaced (to redo)."""
    current = _members_by_id(catalog, snap)
    with catalog.write() as c:
        for part in chunked(snap.photo_ids):
            marks, chunk = _in(part)
            c.execute(f"DELETE FROM album_photos WHERE album_id=? AND photo_id IN ({marks})", [snap.album_id, *chunk])
        c.executemany("INSERT INTO album_photos(album_id, photo_id, source, score, added_at) VALUES(?,?,?,?,?)",
                      snap.rows)
    return current


def _members_by_id(catalog: Catalog, snap: MembersSnapshot) -> MembersSnapshot:
    rows: list[MemberRow] = []
    for part in chunked(snap.photo_ids):
        marks, chunk = _in(part)
        rows += catalog.read().execute(
            f"SELECT album_id, photo_id, source, score, added_at FROM album_photos "
            f"WHERE album_id=? AND photo_id IN ({marks})", [snap.album_id, *chunk]).fetchall()
    return MembersSnapshot(snap.album_id, snap.photo_ids, tuple(rows))


def tag_rows(catalog: Catalog, name: str, photo_ids: Iterable[int]) -> TagSnapshot:
    ids = tuple(dict.fromkeys(int(i) for i in photo_ids))
    row = catalog.read().execute("SELECT id, name, prompts, threshold, builtin, enabled, created_at FROM tags "
                                 "WHERE name=?", (name,)).fetchone()
    if row is None:
        return TagSnapshot(name, ids, (), tag_existed=False)
    marks, chunk = _in(ids)
    rows = catalog.read().execute(
        f"SELECT photo_id, tag_id, score, source, rejected, updated_at FROM photo_tags "
        f"WHERE tag_id=? AND photo_id IN ({marks})", [row[0], *chunk]).fetchall()
    return TagSnapshot(name, ids, tuple(rows), tag=tuple(row))


def restore_tag_rows(catalog: Catalog, snap: TagSnapshot) -> TagSnapshot:
    """Put a photo's rows for the tag back (and drop a tag the edit created); returns what was replaced."""
    current = tag_rows(catalog, snap.name, snap.photo_ids)
    row = catalog.read().execute("SELECT id FROM tags WHERE name=?", (snap.name,)).fetchone()
    if row is None and snap.tag is not None and snap.rows:
        with catalog.write() as c:  # an earlier undo dropped the tag this snapshot needs
            c.execute("INSERT INTO tags(id, name, prompts, threshold, builtin, enabled, created_at) "
                      "VALUES(?,?,?,?,?,?,?)", snap.tag)
        row = (snap.tag[0],)
    if row is None:
        return current
    with catalog.write() as c:
        marks, chunk = _in(snap.photo_ids)
        c.execute(f"DELETE FROM photo_tags WHERE tag_id=? AND photo_id IN ({marks})", [row[0], *chunk])
        c.executemany("INSERT INTO photo_tags(photo_id, tag_id, score, source, rejected, updated_at) "
                      "VALUES(?,?,?,?,?,?)", snap.rows)
        if not snap.tag_existed:
            left = c.execute("SELECT 1 FROM photo_tags WHERE tag_id=? LIMIT 1", (row[0],)).fetchone()
            if left is None:
                c.execute("DELETE FROM tags WHERE id=? AND builtin=0", (row[0],))
    return current


def album(catalog: Catalog, name: str) -> AlbumSnapshot:
    conn = catalog.read()
    row = conn.execute("SELECT id, name, kind, rule, created_at, updated_at FROM albums WHERE name=?",
                       (name,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no album called {name!r}")
    rows = conn.execute("SELECT album_id, photo_id, source, score, added_at FROM album_photos WHERE album_id=?",
                        (row[0],)).fetchall()
    return AlbumSnapshot(tuple(row), tuple(rows))  # type: ignore[arg-type]


def restore_album(catalog: Catalog, snap: AlbumSnapshot, *, replace: bool = False) -> None:
    """Bring back a deleted album with its id, rule and members (photos gone since are left out); with
    ``replace``, in place of what the album has become since (one transaction)."""
    with catalog.write() as c:
        if replace:
            c.execute("DELETE FROM albums WHERE id=?", (snap.album[0],))
        c.execute("INSERT INTO albums(id, name, kind, rule, created_at, updated_at) VALUES(?,?,?,?,?,?)", snap.album)
        c.executemany("INSERT INTO album_photos(album_id, photo_id, source, score, added_at) "
                      "SELECT ?,?,?,?,? WHERE EXISTS (SELECT 1 FROM photos WHERE id=?)",
                      [(*m, m[1]) for m in snap.members])
