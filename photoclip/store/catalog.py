"""The photo catalog: one SQLite file in WAL mode, the source of truth for folders, photos and vectors.

Reads go through each thread's own connection and writes through the process's one writer
(``store.connections``). Domain modules (tagging, albums) keep their own SQL and use ``read()`` /
``write()`` from here.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np

from photoclip.errors import CatalogError, DiskFullError, NotFoundError
from photoclip.store import catalog_health, pathtext
from photoclip.store.connections import Connections
from photoclip.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

# States a photo can be in. "pending" means found on disk but not yet read and embedded.
_T = TypeVar("_T")

OK, PENDING, ERROR, MISSING, OFFLINE = "ok", "pending", "error", "missing", "offline"
LIVE_STATES = (OK, PENDING)
SQL_CHUNK = 900  # ids per IN (...) list: under SQLite's historical limit of 999 bound parameters


def chunked(items: Sequence[_T], size: int = SQL_CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in slices of at most ``size``: one statement each where ids go into ``IN (...)``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class Folder:
    id: int
    path: str
    polling: bool
    state: str
    added_at: float


@dataclass(frozen=True)
class Photo:
    id: int
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    width: int | None
    height: int | None
    format: str | None
    taken_at: str | None
    taken_at_source: str | None
    camera_make: str | None
    camera_model: str | None
    state: str
    error: str | None
    taken_offset: int | None = None  # minutes east of UTC, when the photo states it
    rating: int | None = None  # from XMP (embedded or sidecar)
    companion: str | None = None  # the RAW file of a RAW+JPEG pair (this photo being the JPEG)

    @property
    def taken_key(self) -> str:
        """Sortable capture moment: the UTC instant when the photo states its offset (photos from several
        time zones then interleave correctly), else the local time; "" when undated."""
        if not self.taken_at or self.taken_offset is None:
            return self.taken_at or ""
        try:
            moment = datetime.fromisoformat(self.taken_at) - timedelta(minutes=self.taken_offset)
        except ValueError:
            return self.taken_at
        return moment.isoformat(timespec="seconds")

    @property
    def name(self) -> str:
        return Path(self.path).name


PHOTO_COLUMNS = (
    "id, folder_id, path, size, mtime_ns, content_hash, width, height, format, taken_at, "
    "taken_at_source, camera_make, camera_model, state, error, taken_offset, rating, companion"
)


def _photo(row: Sequence) -> Photo:
    return Photo(*row)


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


class Catalog(Connections):
    """Opens (creating and migrating as needed) the catalog file of one library."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(Path(path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"cannot create the library folder {self.path.parent}: {exc.strerror}") from exc
        emptied = catalog_health.empty_catalog_problem(self.path)
        if emptied:
            raise CatalogError(emptied)
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------

    def _migrate(self) -> None:
        conn = self.conn
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"{self.path} is not a PhotoClip catalog or is damaged: {exc}") from exc
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"the catalog {self.path} was written by a newer PhotoClip (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade PhotoClip"
            )
        if self.read_only and version < SCHEMA_VERSION:
            raise DiskFullError(self._disk_full_message())
        for number in range(version, SCHEMA_VERSION):
            with self.write() as c:
                for statement in _split_sql(MIGRATIONS[number]):
                    c.execute(statement)
                c.execute(f"PRAGMA user_version={number + 1}")

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def quick_check(self, *, force: bool = False) -> list[str] | None:
        """Damage SQLite finds on a quick pass over every page ([] if none); None if too big to check now."""
        return catalog_health.quick_check(self.conn, self.path, force=force)

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- meta --------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as c:
            c.execute("INSERT INTO meta(key, value) VALUES(?, ?) "
                      "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    # -- folders -----------------------------------------------------------------------------

    def add_folder(self, path: str | Path, *, polling: bool = False) -> Folder:
        """Add a folder; a parent of existing folders absorbs them, a child of one is refused."""
        folder_path = str(Path(path).expanduser().resolve())
        for existing in self.folders():
            if folder_path == existing.path:
                if existing.polling != polling:
                    with self.write() as c:
                        c.execute("UPDATE folders SET polling=? WHERE id=?", (int(polling), existing.id))
                    return self.folder(existing.id)
                return existing
            if _is_inside(folder_path, existing.path):
                raise CatalogError(f"{folder_path} is already in the library, inside {existing.path}")
        with self.write() as c:
            cur = c.execute(f"INSERT INTO folders(path, added_at, polling) VALUES({pathtext.PARAM}, ?, ?)",
                            (pathtext.to_sql(folder_path), time.time(), int(polling)))
            new_id = cur.lastrowid
            for existing in self.folders():
                if existing.id != new_id and _is_inside(existing.path, folder_path):
                    c.execute("UPDATE photos SET folder_id=? WHERE folder_id=?", (new_id, existing.id))
                    c.execute("DELETE FROM folders WHERE id=?", (existing.id,))
        assert new_id is not None
        return self.folder(new_id)

    def remove_folder(self, path: str | Path) -> int:
        """Forget a folder and its photos (the files themselves are never touched). Returns photo count."""
        folder = self.folder_by_path(path)
        with self.write() as c:
            n = c.execute("SELECT COUNT(*) FROM photos WHERE folder_id=?", (folder.id,)).fetchone()[0]
            c.execute("DELETE FROM folders WHERE id=?", (folder.id,))
        return n

    def folders(self) -> list[Folder]:
        rows = self.conn.execute("SELECT id, path, polling, state, added_at FROM folders ORDER BY path")
        return [Folder(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    def folder(self, folder_id: int) -> Folder:
        r = self.conn.execute("SELECT id, path, polling, state, added_at FROM folders WHERE id=?",
                              (folder_id,)).fetchone()
        if r is None:
            raise NotFoundError(f"no folder with id {folder_id}")
        return Folder(r[0], r[1], bool(r[2]), r[3], r[4])

    def folder_by_path(self, path: str | Path) -> Folder:
        wanted = str(Path(path).expanduser().resolve())
        for folder in self.folders():
            if folder.path in (wanted, str(path)):
                return folder
        raise NotFoundError(f"{path} is not a library folder")

    def folder_for_path(self, path: str | Path) -> Folder | None:
        """The library folder that contains ``path``, if any."""
        p = str(path)
        best = None
        for folder in self.folders():
            if _is_inside(p, folder.path) and (best is None or len(folder.path) > len(best.path)):
                best = folder
        return best

    def set_folder_state(self, folder_id: int, state: str) -> bool:
        """Mark a folder online/offline; its photos follow. Returns True if anything changed."""
        with self.write() as c:
            old = c.execute("SELECT state FROM folders WHERE id=?", (folder_id,)).fetchone()
            if old is None or old[0] == state:
                return False
            c.execute("UPDATE folders SET state=? WHERE id=?", (state, folder_id))
            now = time.time()
            if state == OFFLINE:
                c.execute("UPDATE photos SET state='offline', updated_at=? WHERE folder_id=? "
                          "AND state != 'offline'", (now, folder_id))
            else:
                # Back online: the scan that follows decides ok / missing / changed per file.
                # A photo that failed before keeps its reason: it is retried only when the file changes.
                c.execute("UPDATE photos SET state=CASE WHEN error IS NOT NULL THEN 'error' "
                          "WHEN EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id=photos.id "
                          "AND e.content_hash=photos.content_hash) THEN 'ok' ELSE 'pending' END, updated_at=? "
                          "WHERE folder_id=? AND state='offline'", (now, folder_id))
        return True

    def set_folder_polling(self, folder_id: int, polling: bool) -> None:
        with self.write() as c:
            c.execute("UPDATE folders SET polling=? WHERE id=?", (int(polling), folder_id))

    # -- photos ------------------------------------------------------------------------------

    def photo(self, photo_id: int) -> Photo:
        r = self.conn.execute(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE id=?", (photo_id,)).fetchone()
        if r is None:
            raise NotFoundError(f"no photo with id {photo_id}")
        return _photo(r)

    def photo_by_path(self, path: str | Path) -> Photo | None:
        r = self.conn.execute(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE path={pathtext.PARAM}",
                              (pathtext.to_sql(str(path)),)).fetchone()
        return _photo(r) if r else None

    def photos(self, ids: Iterable[int]) -> dict[int, Photo]:
        """Photos by id, fetched in chunks (SQLite caps the number of bound parameters)."""
        out: dict[int, Photo] = {}
        id_list = list(ids)
        for chunk in chunked(id_list):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE id IN ({marks})", chunk):
                out[r[0]] = _photo(r)
        return out

    def photos_with_state(self, *states: str, folder_id: int | None = None) -> list[Photo]:
        marks = ",".join("?" * len(states))
        sql = f"SELECT {PHOTO_COLUMNS} FROM photos WHERE state IN ({marks})"
        params: list = list(states)
        if folder_id is not None:
            sql += " AND folder_id=?"
            params.append(folder_id)
        return [_photo(r) for r in self.conn.execute(sql + " ORDER BY path", params)]

    def folder_snapshot(self, folder_id: int) -> dict[str, tuple[int, int, int, str]]:
        """path -> (id, size, mtime_ns, state) for every photo of a folder: what a rescan compares."""
        rows = self.conn.execute("SELECT path, id, size, mtime_ns, state FROM photos WHERE folder_id=?",
                                 (folder_id,))
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def photos_needing_work(self, model_name: str | None, limit: int | None = None,
                            after_id: int = 0) -> list[Photo]:
        """Photos to read and embed: pending ones, and ok ones with no current vector for the model."""
        params: list = [after_id]
        if model_name is None:
            sql = f"SELECT {PHOTO_COLUMNS} FROM photos p WHERE p.id>? AND p.state='pending'"
        else:
            sql = (f"SELECT {PHOTO_COLUMNS} FROM photos p WHERE p.id>? AND (p.state='pending' OR "
                   "(p.state='ok' AND NOT EXISTS (SELECT 1 FROM embeddings e JOIN models m ON m.id=e.model_id "
                   "WHERE e.photo_id=p.id AND m.name=? AND e.content_hash=p.content_hash)))")
            params.append(model_name)
        sql += " ORDER BY p.id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_photo(r) for r in self.conn.execute(sql, params)]

    def count_needing_work(self, model_name: str | None) -> int:
        if model_name is None:
            return self.conn.execute("SELECT COUNT(*) FROM photos WHERE state='pending'").fetchone()[0]
        return self.conn.execute(
            "SELECT COUNT(*) FROM photos p WHERE p.state='pending' OR (p.state='ok' AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e JOIN models m ON m.id=e.model_id WHERE e.photo_id=p.id "
            "AND m.name=? AND e.content_hash=p.content_hash))", (model_name,)).fetchone()[0]

    # -- models and vectors ------------------------------------------------------------------

    def model_id(self, name: str, dim: int | None = None) -> int:
        """The id of a model's row, created on first use (``dim`` required then)."""
        row = self.conn.execute("SELECT id, dim FROM models WHERE name=?", (name,)).fetchone()
        if row is not None:
            if dim is not None and row[1] != dim:
                raise CatalogError(f"model {name} was recorded with {row[1]} dimensions, not {dim}")
            return row[0]
        if dim is None:
            raise NotFoundError(f"no vectors for model {name} yet")
        with self.write() as c:
            c.execute("INSERT OR IGNORE INTO models(name, dim) VALUES(?, ?)", (name, dim))
            return c.execute("SELECT id FROM models WHERE name=?", (name,)).fetchone()[0]

    def model_seq(self, model_name: str) -> int:
        row = self.conn.execute("SELECT seq FROM models WHERE name=?", (model_name,)).fetchone()
        return row[0] if row else 0

    def put_embeddings(self, conn: sqlite3.Connection, model_id: int,
                       items: Sequence[tuple[int, str, np.ndarray]]) -> None:
        """Store vectors inside the caller's write transaction; each gets the next sequence number."""
        if not items:
            return
        seq = conn.execute("SELECT seq FROM models WHERE id=?", (model_id,)).fetchone()[0]
        rows = []
        for photo_id, content_hash, vector in items:
            seq += 1
            rows.append((photo_id, model_id, content_hash, seq, vector_to_blob(vector)))
        conn.executemany(
            "INSERT INTO embeddings(photo_id, model_id, content_hash, seq, vector) VALUES(?,?,?,?,?) "
            "ON CONFLICT(photo_id, model_id) DO UPDATE SET content_hash=excluded.content_hash, "
            "seq=excluded.seq, vector=excluded.vector", rows)
        conn.execute("UPDATE models SET seq=? WHERE id=?", (seq, model_id))

    def vectors(self, model_name: str, *, since_seq: int = 0,
                live_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64, matrix float32 N x dim) of a model's stored vectors, optionally only newer ones."""
        row = self.conn.execute("SELECT id, dim FROM models WHERE name=?", (model_name,)).fetchone()
        if row is None:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        model_id, dim = row
        sql = "SELECT e.photo_id, e.vector FROM embeddings e"
        if live_only:
            sql += " JOIN photos p ON p.id=e.photo_id AND p.state IN ('ok','pending')"
        sql += " WHERE e.model_id=? AND e.seq>? ORDER BY e.photo_id"
        rows = self.conn.execute(sql, (model_id, since_seq)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), dim)
        return ids, matrix.astype(np.float32, copy=False)

    def vectors_of(self, model_name: str, photo_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64, matrix float32) of these photos' stored vectors for the model; photos without
        one are left out."""
        ids: list[int] = []
        blobs: list[bytes] = []
        for chunk in chunked([int(i) for i in photo_ids]):
            marks = ",".join("?" * len(chunk))
            for photo_id, blob in self.conn.execute(
                    "SELECT e.photo_id, e.vector FROM embeddings e JOIN models m ON m.id=e.model_id "
                    f"WHERE m.name=? AND e.photo_id IN ({marks}) ORDER BY e.photo_id", [model_name, *chunk]):
                ids.append(photo_id)
                blobs.append(blob)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), -1)
        return np.array(ids, dtype=np.int64), matrix.astype(np.float32)

    def vector(self, model_name: str, photo_id: int) -> np.ndarray | None:
        row = self.conn.execute(
            "SELECT e.vector FROM embeddings e JOIN models m ON m.id=e.model_id "
            "WHERE m.name=? AND e.photo_id=?", (model_name, photo_id)).fetchone()
        return blob_to_vector(row[0]).copy() if row else None

    def embedded_ids(self, model_name: str) -> np.ndarray:
        rows = self.conn.execute(
            "SELECT e.photo_id FROM embeddings e JOIN models m ON m.id=e.model_id WHERE m.name=? "
            "ORDER BY e.photo_id", (model_name,)).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def live_ids(self) -> np.ndarray:
        """Ids of photos that may appear in results (present on disk, not failed)."""
        rows = self.conn.execute("SELECT id FROM photos WHERE state IN ('ok','pending') ORDER BY id")
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    # -- status ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in (OK, PENDING, ERROR, MISSING, OFFLINE)}
        for state, n in self.conn.execute("SELECT state, COUNT(*) FROM photos GROUP BY state"):
            out[state] = n
        out["photos"] = sum(out.values())
        return out

    def model_names(self) -> set[str]:
        """Every model that has stored vectors here (or had: a model's row outlives its vectors)."""
        return {r[0] for r in self.conn.execute("SELECT name FROM models")}

    def embedded_counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT m.name, COUNT(e.photo_id) FROM models m LEFT JOIN embeddings e ON e.model_id=m.id "
            "GROUP BY m.id ORDER BY m.name")
        return {name: n for name, n in rows}

    def uncatalogued(self) -> list[tuple[str, str]]:
        """Files the last scan saw but could not catalogue, with the reason (see scanner)."""
        return [(p, r) for p, r in self.conn.execute("SELECT path, reason FROM uncatalogued ORDER BY path")]

    def errors(self) -> list[tuple[str, str]]:
        return [(r[0], r[1] or "unknown error") for r in
                self.conn.execute("SELECT path, error FROM photos WHERE state='error' ORDER BY path")]

    def folder_counts(self) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {}
        for folder_id, state, n in self.conn.execute(
                "SELECT folder_id, state, COUNT(*) FROM photos GROUP BY folder_id, state"):
            out.setdefault(folder_id, {})[state] = n
        return out


def _is_inside(path: str, folder: str) -> bool:
    if path == folder:
        return True
    prefix = folder if folder.endswith(("/", "\\")) else folder + "/"
    return path.startswith(prefix) or path.startswith(folder.rstrip("\\") + "\\")


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (which contain ';') whole."""
    statements: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
