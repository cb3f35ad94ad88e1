"""A memory-mappable copy of one model's stored vectors, so a process starts without decoding them all
from SQLite.

SQLite stays the source of truth and this file is a cache, like the graph: it records the catalog's
identity, the model, the dimension and the model sequence it reflects. Rows stored after that sequence
are read from SQLite as before. A file made for another catalog, ahead of the catalog (a restored
backup), truncated, with a damaged header or id section, or whose sampled rows disagree with SQLite is
ignored (and rewritten at the next save).

Layout: a 4 KiB header (a magic line, then JSON, padded with spaces), the photo ids (int64), their
sequence numbers (int64), then the vectors (float32, row-major). The vectors are mapped copy-on-write,
so the page cache serves them to every process and nothing is decoded at start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"PHOTOCLIP-VECTORS 1\n"
HEADER_SIZE = 4096
VERIFY_SAMPLES = 8


@dataclass(frozen=True)
class CachedVectors:
    ids: np.ndarray  # (n,) int64
    seqs: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, dim) float32, memory-mapped copy-on-write
    seq: int  # the model sequence the file reflects


def write(path: Path, *, catalog_id: str, model: str, dim: int, seq: int, ids: np.ndarray, seqs: np.ndarray,
          vectors: np.ndarray) -> None:
    """Write the file atomically (temp file, fsync, rename): a reader sees the old file or the new one."""
    ids = np.ascontiguousarray(ids, dtype="<i8")
    seqs = np.ascontiguousarray(seqs, dtype="<i8")
    vectors = np.ascontiguousarray(vectors, dtype="<f4").reshape(len(ids), dim)
    head = {"catalog": catalog_id, "model": model, "dim": int(dim), "seq": int(seq), "count": len(ids),
            "ids_crc32": zlib.crc32(seqs.tobytes(), zlib.crc32(ids.tobytes()))}
    text = MAGIC + json.dumps(head).encode()
    if len(text) > HEADER_SIZE - 1:
        raise ValueError("the vector cache header does not fit")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(text.ljust(HEADER_SIZE, b" "))
            fh.write(ids.tobytes())
            fh.write(seqs.tobytes())
            fh.write(memoryview(vectors).cast("B"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def read(path: Path, *, catalog_id: str, model: str, dim: int, max_seq: int) -> CachedVectors | None:
    """The cached vectors if the file is whole and made for this catalog and model, else None."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(HEADER_SIZE)
            size = os.fstat(fh.fileno()).st_size
            if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
                log.info("the vector cache %s is not one; rebuilding it", path)
                return None
            head = json.loads(header[len(MAGIC):].decode().strip())
            n = int(head["count"])
            expected = {"catalog": catalog_id, "model": model, "dim": dim}
            if any(head.get(k) != v for k, v in expected.items()) or int(head["seq"]) > max_seq:
                log.info("the vector cache %s belongs to another catalog state; rebuilding it", path)
                return None
            if size != HEADER_SIZE + n * 16 + n * dim * 4:
                log.warning("the vector cache %s is truncated; rebuilding it", path)
                return None
            ids = np.frombuffer(fh.read(n * 8), dtype="<i8").astype(np.int64)
            seqs = np.frombuffer(fh.read(n * 8), dtype="<i8").astype(np.int64)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        log.warning("the vector cache %s is unreadable (%s); rebuilding it", path, exc)
        return None
    if zlib.crc32(seqs.astype("<i8").tobytes(), zlib.crc32(ids.astype("<i8").tobytes())) != head.get("ids_crc32"):
        log.warning("the vector cache %s is damaged; rebuilding it", path)
        return None
    if n == 0:
        vectors = np.zeros((0, dim), dtype=np.float32)
    else:
        try:
            vectors = np.memmap(path, dtype="<f4", mode="c", offset=HEADER_SIZE + n * 16, shape=(n, dim))
        except (OSError, ValueError) as exc:
            log.warning("the vector cache %s cannot be mapped (%s); rebuilding it", path, exc)
            return None
    return CachedVectors(ids, seqs, vectors, int(head["seq"]))


def agrees(conn: sqlite3.Connection, model_id: int, cached: CachedVectors, samples: int = VERIFY_SAMPLES) -> bool:
    """Whether sampled rows (first, last and some between) hold what SQLite holds for the same sequence.

    A row SQLite no longer has, or has under a newer sequence, is a later change the catch-up applies;
    the same sequence with other bytes means the file does not describe this catalog.
    """
    n = len(cached.ids)
    if n == 0:
        return True
    picks = sorted({0, n - 1, *np.random.default_rng(n).integers(0, n, max(0, samples - 2)).tolist()})
    for row in picks:
        found = conn.execute("SELECT seq, vector FROM embeddings WHERE model_id=? AND photo_id=?",
                             (model_id, int(cached.ids[row]))).fetchone()
        if found is None or int(found[0]) != int(cached.seqs[row]):
            continue
        stored = np.frombuffer(found[1], dtype="<f4")
        if stored.shape != cached.vectors[row].shape or not np.array_equal(stored, cached.vectors[row]):
            return False
    return True
