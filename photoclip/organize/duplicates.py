"""Duplicate groups built from the recorded pairs, each with a suggested keeper and the reason for it.

Identical files and the same picture in other files form one kind of group (*identical* when every
member has the same bytes, else *same*); similar shots form groups of their own, shown apart and never
pre-selected for removal. Only readable photos (state ok) take part, so a photo moved to the trash
leaves its group at once and comes back with an undo.

The keeper is the photo a person would keep: the most pixels, then an original format over a derived
one (a camera's HEIC or JPEG over a PNG screenshot of it), then more metadata (capture date, place,
camera), then the earliest capture. A keeper the user picked wins over all of these.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photoclip.errors import NotFoundError, QueryError
from photoclip.store.catalog import Catalog, chunked

KINDS = ("identical", "same", "similar")
REMOVABLE_KINDS = ("identical", "same")  # similar shots are never pre-selected for removal

# Formats a camera or phone writes, over formats a copy is usually saved in.
FORMAT_RANK = {"heic": 2, "heif": 2, "avif": 2, "jpeg": 2, "tiff": 2, "webp": 1}


@dataclass(frozen=True)
class Member:
    id: int
    path: str
    width: int | None
    height: int | None
    format: str | None
    size: int
    mtime_ns: int
    taken_at: str | None
    dated: bool  # the capture date comes from the camera, not the file
    gps: bool
    camera: bool
    reason: str = ""

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def metadata(self) -> tuple[str, ...]:
        return tuple(name for name, has in (("date", self.dated), ("place", self.gps), ("camera", self.camera))
                     if has)


@dataclass
class Group:
    kind: str
    members: list[Member]  # the keeper first
    keep: Member
    chosen: bool = False  # the keeper was picked by the user

    @property
    def others(self) -> list[Member]:
        return [m for m in self.members if m.id != self.keep.id]

    def as_json(self) -> dict:
        return {"kind": self.kind, "keep": self.keep.path,
                "photos": [{"path": m.path, "reason": m.reason} for m in self.members]}


@dataclass
class _Links:
    parent: dict[int, int] = field(default_factory=dict)

    def find(self, x: int) -> int:
        root = x
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def components(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return [sorted(v) for v in out.values() if len(v) > 1]


def _members(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Member]:
    out: dict[int, Member] = {}
    id_list = list(ids)
    for chunk in chunked(id_list):
        marks = ",".join("?" * len(chunk))
        for r in conn.execute(
                "SELECT p.id, p.path, p.width, p.height, p.format, p.size, p.mtime_ns, p.taken_at, p.taken_at_source, "
                "EXISTS (SELECT 1 FROM places g WHERE g.photo_id=p.id AND g.lat IS NOT NULL), "
                "p.camera_make IS NOT NULL OR p.camera_model IS NOT NULL "
                f"FROM photos p WHERE p.id IN ({marks}) AND p.state='ok'", chunk):
            out[r[0]] = Member(r[0], r[1], r[2], r[3], (r[4] or "").lower() or None, r[5], r[6], r[7],
                               r[8] == "exif", bool(r[9]), bool(r[10]))
    return out


def _rank(m: Member) -> tuple:
    """Bigger is better; the last items only make the choice stable."""
    taken = m.taken_at or "9999"
    return (m.pixels, FORMAT_RANK.get(m.format or "", 0), len(m.metadata), _Earlier(taken), m.size, -m.mtime_ns,
            _Earlier(m.path))


class _Earlier(str):
    """Orders strings backwards, so the earliest date (or first path) ranks highest."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


def _px(m: Member) -> str:
    return f"{m.width}×{m.height} px" if m.width and m.height else "size unknown"


def _fmt(m: Member) -> str:
    return (m.format or "unknown").upper()


def _keeper_reason(keep: Member, runner: Member | None, chosen: bool, kind: str) -> str:
    if chosen:
        return "keep: chosen by you"
    if runner is None:
        return "keep"
    if keep.pixels != runner.pixels:
        return f"keep: most pixels ({_px(keep)})"
    if FORMAT_RANK.get(keep.format or "", 0) != FORMAT_RANK.get(runner.format or "", 0):
        return f"keep: original format ({_fmt(keep)})"
    if len(keep.metadata) != len(runner.metadata):
        return f"keep: more metadata ({', '.join(keep.metadata)})"
    if keep.taken_at != runner.taken_at and keep.taken_at:
        return f"keep: earliest capture ({keep.taken_at})"
    if keep.mtime_ns != runner.mtime_ns:
        return "keep: the older file"
    return "keep: equal in size, format, metadata and date"


def _other_reason(m: Member, keep: Member, kind: str, same_bytes: bool) -> str:
    if kind == "similar":
        return "similar shot: kept unless you choose"
    if kind == "identical" or same_bytes:
        return "same bytes as the keeper"
    if m.pixels != keep.pixels:
        return f"same picture, fewer pixels ({_px(m)})"
    if FORMAT_RANK.get(m.format or "", 0) != FORMAT_RANK.get(keep.format or "", 0):
        return f"same picture, derived format ({_fmt(m)})"
    if len(m.metadata) != len(keep.metadata):
        missing = [x for x in keep.metadata if x not in m.metadata]
        return f"same picture, less metadata (no {', '.join(missing) or 'extra details'})"
    if m.taken_at != keep.taken_at:
        return f"same picture, captured later ({m.taken_at or 'undated'})"
    return "same picture"


def _build(kind: str, ids: list[int], members: dict[int, Member], chosen_ids: set[int],
           pair_kinds: dict[tuple[int, int], str]) -> Group | None:
    present = [members[i] for i in ids if i in members]
    if len(present) < 2:
        return None
    if kind != "similar":
        identical = len(present) <= 50 and all(pair_kinds.get((a.id, b.id), "") == "identical"
                                               for i, a in enumerate(present) for b in present[i + 1:])
        kind = "identical" if identical else "same"
    ranked = sorted(present, key=_rank, reverse=True)
    picked = [m for m in ranked if m.id in chosen_ids]
    keep = picked[0] if picked else ranked[0]
    runner = next((m for m in ranked if m.id != keep.id), None)
    keep = _with_reason(keep, _keeper_reason(keep, runner, bool(picked), kind))
    others = [_with_reason(m, _other_reason(m, keep, kind, pair_kinds.get((min(m.id, keep.id), max(m.id, keep.id)))
                                            == "identical")) for m in ranked if m.id != keep.id]
    return Group(kind, [keep, *others], keep, bool(picked))


def _with_reason(m: Member, reason: str) -> Member:
    return Member(m.id, m.path, m.width, m.height, m.format, m.size, m.mtime_ns, m.taken_at, m.dated, m.gps, m.camera,
                  reason)


def _in_folder(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/\\") + "/") or path.startswith(folder.rstrip("\\") + "\\")


def groups(catalog: Catalog, kind: str | None = None, folder: str | None = None) -> list[Group]:
    """The library's duplicate groups, keepers first; ``folder`` keeps groups with a photo inside it."""
    if kind is not None and kind not in KINDS:
        raise QueryError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    folder_path = None
    if folder is not None:
        folder_path = str(Path(folder).expanduser().resolve())
        if catalog.folder_for_path(folder_path) is None:
            raise NotFoundError(f"{folder} is not inside a library folder")
    conn = catalog.read()
    pairs = conn.execute("SELECT d.a, d.b, d.kind FROM duplicate_pairs d "
                         "JOIN photos pa ON pa.id=d.a AND pa.state='ok' "
                         "JOIN photos pb ON pb.id=d.b AND pb.state='ok'").fetchall()
    pair_kinds = {(a, b): k for a, b, k in pairs}
    dupes, similar = _Links(), _Links()
    for a, b, k in pairs:
        (similar if k == "similar" else dupes).join(a, b)
    dupe_sets = dupes.components()
    # A similar shot is judged by its group's keeper: the copies of one picture are not a burst.
    wanted_dupes = kind in (None, "identical", "same")
    all_ids = {i for a, b, _ in pairs for i in (a, b)}
    members = _members(conn, all_ids)
    chosen_ids = {r[0] for r in conn.execute("SELECT photo_id FROM duplicate_keepers")}
    out: list[Group] = []
    hidden: set[int] = set()
    for ids in dupe_sets:
        group = _build("same", ids, members, chosen_ids, pair_kinds)
        if group is None:
            continue
        hidden.update(m.id for m in group.others)
        if wanted_dupes and (kind is None or group.kind == kind):
            out.append(group)
    if kind in (None, "similar"):
        for ids in similar.components():
            shots = sorted({i for i in ids if i not in hidden})
            group = _build("similar", shots, members, chosen_ids, pair_kinds)
            if group is not None:
                out.append(group)
    if folder_path is not None:
        out = [g for g in out if any(_in_folder(m.path, folder_path) for m in g.members)]
    order = {k: i for i, k in enumerate(KINDS)}
    out.sort(key=lambda g: (order[g.kind], g.keep.path))
    return out


def hidden_ids(catalog: Catalog) -> set[int]:
    """Photos that are not the keeper of their identical or same-picture group."""
    return {m.id for g in groups(catalog) if g.kind in REMOVABLE_KINDS for m in g.others}


def stored_hidden(catalog: Catalog) -> set[int]:
    """The hidden copies as last computed by `refresh_hidden` (cheap: one table read)."""
    return {r[0] for r in catalog.read().execute("SELECT photo_id FROM duplicate_hidden")}


def refresh_hidden(catalog: Catalog) -> int:
    """Rewrite the set of photos search and albums hide when asked to show only keepers."""
    ids = hidden_ids(catalog)
    with catalog.write() as c:
        c.execute("DELETE FROM duplicate_hidden")
        c.executemany("INSERT INTO duplicate_hidden(photo_id) VALUES(?)", [(i,) for i in sorted(ids)])
    return len(ids)


def choose_keeper(catalog: Catalog, photo_id: int) -> None:
    """Make a photo the keeper of its groups (replacing an earlier choice among the same photos)."""
    conn = catalog.read()
    partners = [r[0] for r in conn.execute(
        "SELECT b FROM duplicate_pairs WHERE a=? UNION SELECT a FROM duplicate_pairs WHERE b=?",
        (photo_id, photo_id))]
    if not partners:
        raise NotFoundError(f"photo {photo_id} is in no duplicate group")
    group_ids = {photo_id}
    for g in groups(catalog):
        ids = {m.id for m in g.members}
        if photo_id in ids:
            group_ids |= ids
    with catalog.write() as c:
        c.executemany("DELETE FROM duplicate_keepers WHERE photo_id=?", [(i,) for i in group_ids])
        c.execute("INSERT INTO duplicate_keepers(photo_id) VALUES(?)", (photo_id,))
    refresh_hidden(catalog)
