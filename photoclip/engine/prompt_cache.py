"""Text vectors shared by every library on this computer, so the tag prompts are embedded once per model.

A new library would otherwise run the text tower over the whole tag vocabulary (over a thousand prompts)
before its first tags appear. The cache is a small SQLite file in the user cache folder, keyed by the
checksum of the text tower file that made each vector and by the exact text, so a changed, re-exported
or quantized tower never reuses another's vectors. Each catalog still keeps its own copy
(``text_vectors``), so a library moved to another computer needs no cache. Losing this file costs only
the time to embed the prompts again; every failure to read or write it is logged and ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

log = logging.getLogger(__name__)

FILE_NAME = "text-vectors.sqlite3"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS text_vectors (model_key TEXT NOT NULL, text TEXT NOT NULL, "
           "vector BLOB NOT NULL, PRIMARY KEY (model_key, text)) WITHOUT ROWID")
_lock = threading.Lock()
_keys: dict[tuple[str, int, int], str] = {}


def cache_path() -> Path:
    return Path(platformdirs.user_cache_dir("PhotoClip", appauthor=False)) / FILE_NAME


def model_key(embedder: Any) -> str | None:
    """The checksum of the embedder's text tower (from its manifest, else computed once per file
    version), or None for an embedder that is not a model bundle (test fakes)."""
    info = getattr(embedder, "info", None)
    path = getattr(info, "text_model", None)
    override = getattr(embedder, "text_model_path", None)  # a text tower swapped in (int8)
    if override is not None:
        path = override
    if info is None or path is None:
        return None
    path = Path(path)
    try:
        relative = path.resolve().relative_to(Path(info.path).resolve()).as_posix()
    except (ValueError, OSError):
        relative = None
    recorded = (getattr(info, "files", None) or {}).get(relative) if relative else None
    if recorded:
        return f"sha256:{recorded}:{embedder.dim}"
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _lock:
        if stamp not in _keys:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            _keys[stamp] = f"sha256:{digest.hexdigest()}:{embedder.dim}"
        return _keys[stamp]


def _connect(create: bool) -> sqlite3.Connection | None:
    path = cache_path()
    if not create and not path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(_SCHEMA)
    return conn


def lookup(key: str, texts: Sequence[str], dim: int) -> dict[str, np.ndarray]:
    """The cached vectors among ``texts`` (those of the wrong size are ignored)."""
    found: dict[str, np.ndarray] = {}
    try:
        conn = _connect(create=False)
        if conn is None:
            return found
        with conn:
            for start in range(0, len(texts), 900):
                chunk = list(texts[start:start + 900])
                marks = ",".join("?" * len(chunk))
                for text, blob in conn.execute(
                        f"SELECT text, vector FROM text_vectors WHERE model_key=? AND text IN ({marks})",
                        [key, *chunk]):
                    vec = np.frombuffer(blob, dtype="<f4")
                    if len(vec) == dim:
                        found[text] = vec.astype(np.float32)
        conn.close()
    except (sqlite3.Error, OSError) as exc:
        log.warning("the shared text vector cache cannot be read (%s); embedding the texts", exc)
    return found


def through_cache(embedder: Any, texts: Sequence[str],
                  embed: Callable[[list[str]], Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Vectors of ``texts`` from this computer's cache for the embedder's text tower; the others made by
    ``embed`` and kept for next time. An embedder that is not a model bundle (a test fake) has no cache."""
    key = model_key(embedder)
    found = lookup(key, texts, embedder.dim) if key else {}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        fresh = dict(embed(missing))
        if key:
            store(key, fresh)
        found.update(fresh)
    return found


def store(key: str, vectors: dict[str, np.ndarray]) -> None:
    if not vectors:
        return
    try:
        conn = _connect(create=True)
        assert conn is not None
        with conn:
            conn.executemany("INSERT OR REPLACE INTO text_vectors(model_key, text, vector) VALUES(?, ?, ?)",
                             [(key, t, np.asarray(v, dtype="<f4").tobytes()) for t, v in vectors.items()])
        conn.close()
        os.chmod(cache_path(), 0o600)
    except (sqlite3.Error, OSError) as exc:
        log.warning("the shared text vector cache cannot be written (%s)", exc)
