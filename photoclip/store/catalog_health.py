"""Is the catalog file sound? An emptied file, damaged pages, and a rebuild from the photos.

SQLite notices most damage only when a query reaches the bad page, so a damaged catalog looked
healthy to ``status`` and ``search``. ``quick_check`` reads every page once when a library opens, if the
catalog is small enough for that to take a moment; a larger one is checked on request.
A rebuild keeps the damaged file beside the new one and carries over the list of folders when it
can still be read; everything else is read again from the photos.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from photoclip.errors import CatalogError

log = logging.getLogger(__name__)

QUICK_CHECK_MAX_BYTES = 128 * 1024 * 1024  # about 0.2 s; larger catalogs: `status --check`
MAX_PROBLEMS = 20
# Files a library writes once it has been used: their presence beside an empty catalog means the
# catalog lost its contents, not that its creation was interrupted.
_TRACES = ("index-*.json", "index-*.hnsw", "settings.json", "thumbs")


def empty_catalog_problem(path: Path) -> str | None:
    """Why a zero-byte catalog file must not be opened as a new, empty library (None if it may).

    A catalog whose creation was interrupted is empty too; that one is simply created again. An empty
    catalog in a library that was used before lost its folders, tags and albums, and opening it would
    silently show an empty library.
    """
    try:
        if not path.is_file() or path.stat().st_size != 0:
            return None
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size:
            return None  # everything is still in the write-ahead log; SQLite recovers it
        used = any(next(path.parent.glob(pattern), None) is not None for pattern in _TRACES)
    except OSError:
        return None
    if not used:
        return None
    return (f"the catalog {path} is empty (0 bytes): the folders, tags and albums it held are lost. "
            "Run `photoclip index --rebuild FOLDER...` to keep the empty file aside and read the "
            "library again from your photos")


def quick_check(conn: sqlite3.Connection, path: Path, *, max_bytes: int = QUICK_CHECK_MAX_BYTES,
                force: bool = False) -> list[str] | None:
    """Problems SQLite's quick_check finds (empty: sound), or None when the file is too big to check now."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size > max_bytes and not force:
        return None
    try:
        rows = [r[0] for r in conn.execute(f"PRAGMA quick_check({MAX_PROBLEMS})")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def damage_message(path: Path, problems: list[str]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (f"the catalog {path} is damaged: {problems[0]}{more}. Your photos are untouched; run "
            "`photoclip index --rebuild` to keep the damaged file aside and read the library again from them")


@dataclass
class Rebuilt:
    kept_as: Path | None  # where the old catalog now is (None: there was none)
    folders: list[tuple[str, bool]] = field(default_factory=list)  # (path, polling) carried over


def rebuild(catalog_path: Path) -> Rebuilt:
    """Move the catalog (and its -wal/-shm) aside and recover its folder list for a new one.

    Tags, albums and words are not carried over from a damaged file: what cannot be trusted is read
    again from the photos. The old file stays, so nothing is lost that a specialist could still recover.
    """
    folders: list[tuple[str, bool]] = []
    if catalog_path.is_file() and catalog_path.stat().st_size:
        try:
            conn = sqlite3.connect(f"{catalog_path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                conn.text_factory = lambda b: str(b, "utf-8", "surrogateescape")
                folders = [(str(p), bool(polling)) for p, polling in conn.execute("SELECT path, polling FROM folders")]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            log.warning("the folder list of the damaged catalog cannot be read (%s)", exc)
    if not catalog_path.exists():
        return Rebuilt(None, folders)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = catalog_path.with_name(f"{catalog_path.name}.damaged-{stamp}")
    try:
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{catalog_path}{suffix}")
            if part.exists():
                part.replace(Path(f"{kept}{suffix}"))
    except OSError as exc:
        raise CatalogError(f"cannot move the catalog {catalog_path} aside: {exc.strerror or exc}") from exc
    return Rebuilt(kept, folders)
