"""Changes at known paths, as the watcher reports them: a handful of files or folders brought up to date, and
renames and moves recorded as such (same photo ids, new paths), without walking whole folders."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from photoclip.imaging import raw_partner, shown_partner
from photoclip.ingest.scanner import (
    DISPLACED_SUFFIX,
    PATH,
    DiskFile,
    ScanReport,
    absorb_companions,
    apply_changed,
    apply_new_and_gone,
    is_photo_name,
    plan_folder,
    sql_paths,
    walk_folder,
)
from photoclip.jobs import ProgressSink, ProgressTracker, null_sink
from photoclip.store import pathtext
from photoclip.store.catalog import Catalog, Folder
from photoclip.store.pathtext import path_prefix_range


def scan_paths(catalog: Catalog, paths: Iterable[str], *, progress: ProgressSink = null_sink) -> ScanReport:
    """Bring a handful of known paths up to date (what a file watcher reports), without a full walk."""
    started = time.monotonic()
    report = ScanReport()
    by_folder: dict[int, tuple[Folder, list[DiskFile], list[str]]] = {}
    for raw in paths:
        path = str(raw)
        folder = catalog.folder_for_path(path)
        if folder is None:
            continue
        entry = by_folder.setdefault(folder.id, (folder, [], []))
        try:
            st = os.stat(path)
            if stat.S_ISREG(st.st_mode) and is_photo_name(os.path.basename(path)):
                if shown_partner(path) is None:  # a RAW beside its JPEG is that photo's companion
                    entry[1].append(DiskFile(path, st.st_size, st.st_mtime_ns, raw_partner(path)))
            elif stat.S_ISDIR(st.st_mode):
                walked = walk_folder(path)
                entry[1].extend(walked.files)
                report.skipped.extend(walked.skipped)
        except OSError:
            entry[2].append(path)  # gone: the file, or a whole sub-folder
    new_files: list[tuple[Folder, DiskFile]] = []
    gone_ids: list[int] = []
    for folder, files, vanished in by_folder.values():
        snapshot = {}
        for f in files:
            photo = catalog.photo_by_path(f.path)
            if photo is not None:
                snapshot[f.path] = (photo.id, photo.size, photo.mtime_ns, photo.state)
        plan = plan_folder(snapshot, files)
        pairs = [(f.companion, f.path) for f in files if f.companion]
        if pairs:
            with catalog.write() as c:
                absorbed = absorb_companions(c, pairs)
            plan.gone = [i for i in plan.gone if i not in absorbed]
        report.unchanged += plan.unchanged
        apply_changed(catalog, plan, report, None)
        new_files.extend((folder, f) for f in plan.new)
        for path in vanished:
            gone_ids.extend(_ids_under(catalog, path))
    tracker = ProgressTracker(progress, "scan")
    apply_new_and_gone(catalog, new_files, gone_ids, report, tracker, None)
    report.seconds = time.monotonic() - started
    return report


def _ids_under(catalog: Catalog, path: str) -> list[int]:
    """Live photo ids at ``path`` or below it (a removed sub-folder takes its photos with it)."""
    lo, hi = path_prefix_range(path)
    rows = catalog.conn.execute(
        f"SELECT id FROM photos WHERE (path={PATH} OR (path >= {PATH} AND path < {PATH})) AND state != 'missing'",
        sql_paths(path, lo, hi))
    return [r[0] for r in rows]


def move_path(catalog: Catalog, src: str, dest: str) -> int:
    """Record a rename or move reported by the watcher: same ids, new paths. Returns photos moved."""
    dest_folder = catalog.folder_for_path(dest)
    if dest_folder is None:
        ids = _ids_under(catalog, src)
        now = time.time()
        with catalog.write() as c:
            c.executemany("UPDATE photos SET state='missing', updated_at=? WHERE id=?", [(now, i) for i in ids])
        return 0
    src_prefix, src_end = path_prefix_range(src)
    dest_prefix = dest.rstrip("/\\") + os.sep
    rows = catalog.conn.execute(
        f"SELECT id, path FROM photos WHERE path={PATH} OR (path >= {PATH} AND path < {PATH})",
        sql_paths(src, src_prefix, src_end)).fetchall()
    now = time.time()
    updates = []
    for photo_id, old in rows:
        new = dest if old == src else dest_prefix + old[len(src_prefix):]
        if not is_photo_name(Path(new).name):
            continue
        try:
            mtime_ns = os.stat(new).st_mtime_ns
        except OSError:
            continue
        updates.append((dest_folder.id, pathtext.to_sql(new), mtime_ns, now, photo_id))
    with catalog.write() as c:
        for folder_id, new, mtime_ns, when, photo_id in updates:
            # Whatever sat at the destination before was replaced on disk. It is parked as missing, not
            # deleted: in a swap through a temporary name (a -> a.tmp, b -> a, a.tmp -> b) it reappears
            # under another name a moment later, and its content hash then brings back its tags.
            c.execute("UPDATE photos SET path=path || ? || id, state='missing', updated_at=? "
                      f"WHERE path={PATH} AND id != ?", (DISPLACED_SUFFIX, when, new, photo_id))
            c.execute(f"UPDATE photos SET folder_id=?, path={PATH}, mtime_ns=?, updated_at=?, "
                      "state=CASE WHEN state IN ('missing','offline') THEN 'pending' ELSE state END "
                      "WHERE id=?", (folder_id, new, mtime_ns, when, photo_id))
        # A RAW companion moved on its own (or with its folder): its JPEG keeps pointing at it.
        c.execute(f"UPDATE photos SET companion={PATH} WHERE companion={PATH}", sql_paths(dest, src))
        c.execute(f"UPDATE photos SET companion={PATH} || substr(companion, ?) "
                  f"WHERE companion >= {PATH} AND companion < {PATH}",
                  (pathtext.to_sql(dest_prefix), len(src_prefix) + 1, *sql_paths(src_prefix, src_end)))
    return len(updates)


__all__ = ["move_path", "scan_paths"]
