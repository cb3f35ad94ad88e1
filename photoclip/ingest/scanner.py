"""Bringing the catalog in line with the disk: new, changed, moved, missing and offline photos.

The scan compares each folder's files (path, size, mtime) with the catalog's snapshot, hashes only
files that are new or changed, and matches new files against vanished ones by content hash so that
a moved or renamed photo keeps its id, vectors, tags and albums. Planning (what changed) is a pure
function of the two listings; applying the plan writes the catalog in batches. Files are only read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from photoclip.imaging import (
    SUPPORTED_EXTENSIONS,
    raw_companions,
    uncatalogued_reason,
)
from photoclip.jobs import Cancelled, CancelToken, ProgressSink, ProgressTracker, Skipped, null_sink
from photoclip.store import pathtext
from photoclip.store.catalog import MISSING, OFFLINE, OK, PENDING, Catalog, Folder, chunked

HASH_BLOCK = 64 * 1024
PATH = pathtext.PARAM  # every path bound in SQL goes through pathtext.to_sql
WRITE_BATCH = 500
DISPLACED_SUFFIX = "#replaced-"  # path of a photo whose file another was moved onto, until it is found again
# Folders that hold caches or trash of other tools, never photos of the user's own.
SKIP_DIR_NAMES = frozenset({"@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "__pycache__"})


def content_hash(path: str | os.PathLike[str], size: int | None = None) -> str:
    """A fast identity for a file's content: its size plus hashes of its first and last 64 KiB.

    Reading two blocks instead of the whole file keeps a rescan of a big library cheap, and it is
    enough to recognise the same photo after a move or rename.
    """
    with open(path, "rb") as f:
        if size is None:
            size = os.fstat(f.fileno()).st_size
        h = hashlib.blake2b(digest_size=16)
        h.update(size.to_bytes(8, "little"))
        h.update(f.read(HASH_BLOCK))
        if size > HASH_BLOCK:
            f.seek(max(HASH_BLOCK, size - HASH_BLOCK))
            h.update(f.read(HASH_BLOCK))
    return h.hexdigest()


def is_photo_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED_EXTENSIONS


@dataclass(frozen=True)
class DiskFile:
    path: str
    size: int
    mtime_ns: int
    companion: str | None = None  # the RAW file of a RAW+JPEG pair, this being the JPEG


@dataclass
class WalkResult:
    files: list[DiskFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    uncatalogued: list[Skipped] = field(default_factory=list)  # images under names the catalog does not read


def walk_folder(root: str, cancel: CancelToken | None = None) -> WalkResult:
    """Every supported photo below ``root``, following symlinks but never the same directory twice."""
    result = WalkResult()
    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        if cancel is not None:
            cancel.raise_if_cancelled()
        directory = stack.pop()
        try:
            st = os.stat(directory)
        except OSError as exc:
            result.skipped.append(Skipped(directory, f"folder unreadable: {exc.strerror or exc}"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue  # a symlink loop or a second link to a folder already walked
        seen_dirs.add(key)
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            result.skipped.append(Skipped(directory, f"folder unreadable: {exc.strerror or exc}"))
            continue
        listed = len(result.files)
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=True):
                    if not entry.name.startswith(".") and entry.name not in SKIP_DIR_NAMES:
                        stack.append(entry.path)
                    continue
                if not is_photo_name(entry.name):
                    _note_uncatalogued(entry, result)
                    continue
                est = entry.stat(follow_symlinks=True)
                if not stat.S_ISREG(est.st_mode):
                    continue
                result.files.append(DiskFile(entry.path, est.st_size, est.st_mtime_ns))
            except OSError as exc:
                # A dangling symlink or a file that vanished between listing and stat.
                result.skipped.append(Skipped(entry.path, f"cannot read file information: {exc.strerror or exc}"))
        result.files[listed:] = _fold_raw_pairs(result.files[listed:])
    return result


def _fold_raw_pairs(files: list[DiskFile]) -> list[DiskFile]:
    """One folder's files with each RAW+JPEG pair made one photo: the JPEG, carrying its RAW along."""
    pairs = raw_companions([f.path for f in files])
    if not pairs:
        return files
    raws = set(pairs.values())
    return [dataclasses.replace(f, companion=pairs.get(f.path)) for f in files if f.path not in raws]


def _note_uncatalogued(entry: os.DirEntry[str], result: WalkResult) -> None:
    if entry.name.startswith(".") or not entry.is_file(follow_symlinks=True):
        return
    reason = uncatalogued_reason(entry.path)
    if reason is not None:
        result.uncatalogued.append(Skipped(entry.path, reason))


@dataclass
class FolderPlan:
    """What one folder's rescan must do, decided before anything is hashed or written."""

    new: list[DiskFile] = field(default_factory=list)
    changed: list[tuple[int, DiskFile]] = field(default_factory=list)
    revived: list[tuple[int, DiskFile]] = field(default_factory=list)  # back from missing/offline, same file
    gone: list[int] = field(default_factory=list)
    unchanged: int = 0


def plan_folder(snapshot: dict[str, tuple[int, int, int, str]], files: Iterable[DiskFile],
                unreadable: Iterable[str] = ()) -> FolderPlan:
    """Compare the catalog's listing of a folder with the disk's (size + mtime decide 'changed').

    Paths in ``unreadable`` (folders that could not be listed, files that could not be stat'ed) are
    unknown, not gone: a share's hiccup must not turn the photos below it into missing ones.
    """
    unknown = set(unreadable)
    unknown_dirs = tuple(p.rstrip("/\\") + os.sep for p in unknown)
    plan = FolderPlan()
    seen: set[str] = set()
    for f in files:
        seen.add(f.path)
        known = snapshot.get(f.path)
        if known is None:
            plan.new.append(f)
            continue
        photo_id, size, mtime_ns, state = known
        if size != f.size or mtime_ns != f.mtime_ns:
            plan.changed.append((photo_id, f))
        elif state in (MISSING, OFFLINE):
            plan.revived.append((photo_id, f))
        else:
            plan.unchanged += 1
    for path, (photo_id, _size, _mtime, state) in snapshot.items():
        if path not in seen and state != MISSING and path not in unknown and not path.startswith(unknown_dirs):
            plan.gone.append(photo_id)
    return plan


@dataclass
class ScanReport:
    added: int = 0
    changed: int = 0
    moved: int = 0
    missing: int = 0
    revived: int = 0
    unchanged: int = 0
    offline_folders: list[str] = field(default_factory=list)
    online_folders: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    uncatalogued: list[Skipped] = field(default_factory=list)  # images under names the catalog does not read
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.moved or self.missing or self.revived
                    or self.offline_folders or self.online_folders)


def folder_is_reachable(path: str, had_photos: bool, was_mount_point: bool | None = None) -> bool:
    """False for a vanished folder, and for an empty mount point that used to hold photos.

    An empty folder that was never seen as a mount point was emptied by its owner: it is reachable,
    so its photos go missing and the content hash can follow them to where they were moved.
    ``None`` (not known yet) errs on the side of offline, which loses nothing.
    """
    try:
        if not os.path.isdir(path):
            return False
        if had_photos and was_mount_point is not False:
            with os.scandir(path) as it:
                return any(True for _ in it)
        return True
    except OSError:
        return False


def _mount_key(folder_id: int) -> str:
    return f"mount_point:{folder_id}"


def _skipped_key(folder_id: int) -> str:
    return f"scan_skipped:{folder_id}"


def _remember_skipped(catalog: Catalog, folder: Folder, skipped: list[Skipped]) -> None:
    """Keep what the last walk of a folder could not read (unreadable folders and files, dangling
    symlinks, links that loop) so that ``status`` lists it too, not only the ``index`` that saw it."""
    # ASCII JSON: a name that is not UTF-8 survives as its surrogate escape.
    value = json.dumps([[s.path, s.reason] for s in skipped])
    if catalog.get_meta(_skipped_key(folder.id), "[]") != value:
        catalog.set_meta(_skipped_key(folder.id), value)


def recorded_skipped(catalog: Catalog, folder_id: int) -> list[Skipped]:
    """What the last scan of a folder could not read."""
    try:
        rows = json.loads(catalog.get_meta(_skipped_key(folder_id), "[]") or "[]")
        return [Skipped(str(path), str(reason)) for path, reason in rows]
    except (ValueError, TypeError):
        return []


def recorded_mount_point(catalog: Catalog, folder_id: int) -> bool | None:
    """Whether the folder's root was a mount point when it last held photos (None: never seen)."""
    value = catalog.get_meta(_mount_key(folder_id))
    return None if value is None else value == "1"


def _remember_mount_point(catalog: Catalog, folder: Folder) -> None:
    value = "1" if os.path.ismount(folder.path) else "0"
    if catalog.get_meta(_mount_key(folder.id)) != value:
        catalog.set_meta(_mount_key(folder.id), value)


def scan(catalog: Catalog, folders: Iterable[Folder] | None = None, *,
         progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> ScanReport:
    """Rescan library folders and record what changed; files are hashed only when new or changed."""
    started = time.monotonic()
    report = ScanReport()
    folder_list = list(folders) if folders is not None else catalog.folders()
    tracker = ProgressTracker(progress, "scan", total=None)
    try:
        _scan_folders(catalog, folder_list, report, tracker, cancel)
    except Cancelled:
        report.cancelled = True  # every batch written so far is kept; the next scan carries on
    report.seconds = time.monotonic() - started
    tracker.emit()
    return report


def _scan_folders(catalog: Catalog, folder_list: list[Folder], report: ScanReport, tracker: ProgressTracker,
                  cancel: CancelToken | None) -> None:
    new_files: list[tuple[Folder, DiskFile]] = []
    gone_ids: list[int] = []
    for folder in folder_list:
        snapshot = catalog.folder_snapshot(folder.id)
        had_photos = any(state != OFFLINE for *_, state in snapshot.values()) or bool(snapshot)
        if not folder_is_reachable(folder.path, had_photos, recorded_mount_point(catalog, folder.id)):
            if catalog.set_folder_state(folder.id, OFFLINE):
                report.offline_folders.append(folder.path)
            continue
        if folder.state == OFFLINE and catalog.set_folder_state(folder.id, OK):
            report.online_folders.append(folder.path)
            snapshot = catalog.folder_snapshot(folder.id)
        walked = walk_folder(folder.path, cancel)
        report.skipped.extend(walked.skipped)
        _remember_skipped(catalog, folder, walked.skipped)
        if walked.files:
            _remember_mount_point(catalog, folder)
        plan = plan_folder(snapshot, walked.files, (s.path for s in walked.skipped))
        absorbed = _record_walk_extras(catalog, folder, walked, report)
        plan.gone = [i for i in plan.gone if i not in absorbed]
        report.unchanged += plan.unchanged
        tracker.advance(len(walked.files), current=folder.path)
        apply_changed(catalog, plan, report, cancel)
        new_files.extend((folder, f) for f in plan.new)
        gone_ids.extend(plan.gone)
    apply_new_and_gone(catalog, new_files, gone_ids, report, tracker, cancel)


def _record_walk_extras(catalog: Catalog, folder: Folder, walked: WalkResult, report: ScanReport) -> set[int]:
    """Keep the folder's list of uncatalogued files current, and each JPEG's RAW companion: a RAW that
    was catalogued alone before its JPEG arrived is now part of that photo, not a photo of its own.
    Returns the ids of such RAW photos, now removed."""
    report.uncatalogued.extend(walked.uncatalogued)
    now = time.time()
    pairs = [(f.companion, f.path) for f in walked.files if f.companion]
    listed = catalog.conn.execute("SELECT 1 FROM uncatalogued WHERE folder_id=? LIMIT 1", (folder.id,)).fetchone()
    if not (pairs or walked.uncatalogued or listed):
        return set()
    with catalog.write() as c:
        c.execute("DELETE FROM uncatalogued WHERE folder_id=?", (folder.id,))
        c.executemany(f"INSERT OR REPLACE INTO uncatalogued(path, folder_id, reason, seen_at) VALUES({PATH},?,?,?)",
                      [(pathtext.to_sql(s.path), folder.id, s.reason, now) for s in walked.uncatalogued])
        return absorb_companions(c, pairs)


def absorb_companions(c: sqlite3.Connection, pairs: list[tuple[str, str]]) -> set[int]:
    """Record (raw, shown) pairs on the shown photo; a RAW catalogued alone before is removed (its
    id returned): it is now part of that photo."""
    absorbed: set[int] = set()
    c.executemany(f"UPDATE photos SET companion={PATH} WHERE path={PATH} AND companion IS NOT {PATH}",
                  [sql_paths(raw, path, raw) for raw, path in pairs])
    for raw, _ in pairs:
        absorbed.update(r[0] for r in c.execute(f"DELETE FROM photos WHERE path={PATH} RETURNING id",
                                                sql_paths(raw)))
    return absorbed


def _hash_or_skip(f: DiskFile, report: ScanReport) -> str | None:
    try:
        return content_hash(f.path, f.size)
    except OSError as exc:
        report.skipped.append(Skipped(f.path, f"cannot read: {exc.strerror or exc}"))
        return None


def _batches(items: list, size: int = WRITE_BATCH) -> Iterator[list]:
    return chunked(items, size)  # type: ignore[return-value]


def apply_changed(catalog: Catalog, plan: FolderPlan, report: ScanReport, cancel: CancelToken | None) -> None:
    now = time.time()
    for batch in _batches(plan.changed):
        if cancel is not None:
            cancel.raise_if_cancelled()
        rows = []
        for photo_id, f in batch:
            digest = _hash_or_skip(f, report)
            if digest is not None:
                rows.append((f.size, f.mtime_ns, digest, now, photo_id))
        with catalog.write() as c:
            c.executemany("UPDATE photos SET size=?, mtime_ns=?, content_hash=?, state='pending', error=NULL, "
                          "updated_at=? WHERE id=?", rows)
        report.changed += len(rows)
    for batch in _batches(plan.revived):
        with catalog.write() as c:
            c.executemany(
                "UPDATE photos SET state=CASE WHEN EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id=photos.id "
                "AND e.content_hash=photos.content_hash) AND error IS NULL THEN 'ok' ELSE 'pending' END, "
                "updated_at=? WHERE id=?", [(now, photo_id) for photo_id, _ in batch])
        report.revived += len(batch)


def apply_new_and_gone(catalog: Catalog, new_files: list[tuple[Folder, DiskFile]], gone_ids: list[int],
                        report: ScanReport, tracker: ProgressTracker, cancel: CancelToken | None) -> None:
    """Insert new files, re-linking each to a vanished photo with the same content (a move)."""
    gone = set(gone_ids)
    # Candidates for a move: photos that just vanished plus those already recorded as missing.
    candidates: dict[tuple[str, int], list[int]] = {}
    if new_files:
        rows = catalog.conn.execute("SELECT id, content_hash, size, state FROM photos WHERE state='missing'")
        for photo_id, digest, size, _state in rows:
            candidates.setdefault((digest, size), []).append(photo_id)
        for photo in catalog.photos(gone).values():
            candidates.setdefault((photo.content_hash, photo.size), []).append(photo.id)
    looked_up: set[tuple[str, int]] = set()  # contents already checked for a vanished twin
    hashing = ProgressTracker(tracker.sink, "hash", total=len(new_files))
    for batch in _batches(new_files):
        if cancel is not None:
            cancel.raise_if_cancelled()
        now = time.time()
        inserts, moves = [], []
        for folder, f in batch:
            digest = _hash_or_skip(f, report)
            hashing.advance(current=f.path)
            if digest is None:
                continue
            key = (digest, f.size)
            match = candidates.get(key)
            if not match and key not in looked_up:
                # Once per content: a folder of 1,000 identical files must not stat 1,000 x 1,000 paths.
                looked_up.add(key)
                match = candidates[key] = _vanished_twins(catalog, digest, f.size, f.path)
            if match:
                photo_id = match.pop(0)
                gone.discard(photo_id)
                moves.append((folder.id, pathtext.to_sql(f.path), f.mtime_ns,
                              None if f.companion is None else pathtext.to_sql(f.companion), now, photo_id))
            else:
                inserts.append((folder.id, pathtext.to_sql(f.path), f.size, f.mtime_ns, digest, PENDING, now, now,
                                None if f.companion is None else pathtext.to_sql(f.companion)))
        with catalog.write() as c:
            # A moved photo keeps its id; its state returns to ok when its vector is still current.
            c.executemany(
                f"UPDATE photos SET folder_id=?, path={PATH}, mtime_ns=?, companion={PATH}, updated_at=?, "
                "state=CASE WHEN state='error' THEN 'error' WHEN EXISTS (SELECT 1 FROM embeddings e "
                "WHERE e.photo_id=photos.id AND e.content_hash=photos.content_hash) THEN 'ok' "
                "ELSE 'pending' END WHERE id=?", moves)
            c.executemany(
                "INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, state, added_at, updated_at, "
                f"companion) VALUES(?,{PATH},?,?,?,?,?,?,{PATH}) ON CONFLICT(path) DO NOTHING", inserts)
        report.moved += len(moves)
        report.added += len(inserts)
    now = time.time()
    for batch in _batches(sorted(gone)):
        with catalog.write() as c:
            c.executemany("UPDATE photos SET state='missing', updated_at=? WHERE id=?",
                          [(now, photo_id) for photo_id in batch])
        report.missing += len(batch)


def _vanished_twins(catalog: Catalog, digest: str, size: int, new_path: str) -> list[int]:
    """Catalogued photos with this content whose files are gone: other halves of moves whose
    deletions have not been reported yet (watch events for one rename can arrive in two batches)."""
    rows = catalog.conn.execute(
        f"SELECT id, path FROM photos WHERE content_hash=? AND size=? AND path != {PATH} "
        "AND state IN ('ok','pending')", (digest, size, pathtext.to_sql(new_path))).fetchall()
    return [photo_id for photo_id, path in rows if not os.path.exists(path)]


def sql_paths(*paths: str) -> tuple[str | bytes, ...]:
    return tuple(pathtext.to_sql(p) for p in paths)


__all__ = [
    "OK",
    "DiskFile",
    "FolderPlan",
    "ScanReport",
    "content_hash",
    "plan_folder",
    "scan",
    "walk_folder",
]
