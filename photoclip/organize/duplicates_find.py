"""Finding duplicate pairs: identical files, the same picture in other files, and similar shots.

A pair is recorded in ``duplicate_pairs`` with its kind:

- *identical*: equal catalog hashes (size, first and last 64 KiB), confirmed by hashing both files whole;
- *same*: perceptual hashes close and CLIP vectors agreeing: within ``SURE_BITS`` the vectors must be fairly
  alike (``VETO_COSINE``: different things on one plain backdrop hash alike), up to ``SAME_BITS`` they must be
  at least ``SAME_COSINE`` alike; without
  vectors, the hashes must be within ``STRICT_BITS``;
- *similar*: both dated by their camera within ``SIMILAR_SECONDS`` and CLIP vectors at least
  ``SIMILAR_COSINE`` alike.

A new photo is checked as it is indexed with index lookups (equal catalog hash, perceptual-hash bands
two bits from its own, capture times in a window), never against every photo; ``duplicates_pass`` does
the same lookups for a whole library at once, for a library catalogued before hashes existed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from photoclip import imaging
from photoclip.errors import DecodeError
from photoclip.imaging import phash as ph
from photoclip.jobs import CancelToken, ProgressSink, ProgressTracker, Skipped, null_sink
from photoclip.store import hashes
from photoclip.store.catalog import Catalog, chunked

log = logging.getLogger(__name__)

SAME_BITS = 16  # a 5% crop moves up to ~14 bits; distinct photos sit over 20 apart
SURE_BITS = 10  # resizes, re-encodes and exposure edits stay far below this
STRICT_BITS = 6  # with no vector to confirm, only near-equal hashes count as the same picture
SAME_COSINE = 0.85
VETO_COSINE = 0.75  # a crop or an exposure edit stays far above; unrelated pictures fall below
SIMILAR_COSINE = 0.92
SIMILAR_SECONDS = 60
MAX_WINDOW = 50  # partners per photo in the time window: one dated import of thousands is not a burst
MAX_SAME = 50  # nearest hash partners per photo: a cluster of look-alike hashes must not cost n² checks
ASPECT_TOLERANCE = 0.12  # |log(aspect ratio)| apart: a small crop keeps the shape, a portrait is not a landscape
HASH_SIDE = 128  # backfill decodes only this much: the hash looks at 32x32 pixels

# Probes at most two bits from a 16-bit band: two hashes within 11 bits (SURE_BITS and more) always meet in
# one of the four bands, and most up to SAME_BITS do.
PROBES = np.array(sorted({(1 << i) | (1 << j) for i in range(ph.BAND_BITS) for j in range(ph.BAND_BITS)} | {0}),
                  dtype=np.int64)


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    kind: str
    bits: int | None = None
    similarity: float | None = None


# -- hashes -------------------------------------------------------------------------------------


def store_hashes(conn: sqlite3.Connection, rows: Sequence[tuple[int, str, int | None]]) -> None:
    """Record (photo id, content hash, perceptual hash) inside the caller's transaction."""
    hashes.store_hashes(conn, [ph.stored_row(*r) for r in rows])


def unhashed_ids(catalog: Catalog) -> list[int]:
    """Readable photos with no perceptual hash of their current content."""
    rows = catalog.read().execute(
        "SELECT p.id FROM photos p WHERE p.state='ok' AND NOT EXISTS (SELECT 1 FROM photo_hashes h "
        "WHERE h.photo_id=p.id AND h.content_hash=p.content_hash) ORDER BY p.id")
    return [r[0] for r in rows]


def hash_missing(catalog: Catalog, *, progress: ProgressSink = null_sink,
                 cancel: CancelToken | None = None) -> tuple[list[int], list[Skipped]]:
    """Hash photos catalogued before hashes were kept; returns (hashed ids, files that could not be read)."""
    cancel = cancel or CancelToken()
    todo = unhashed_ids(catalog)
    tracker = ProgressTracker(progress, "hash", total=len(todo))
    tracker.emit()
    done: list[int] = []
    skipped: list[Skipped] = []
    for start in range(0, len(todo), 64):
        if cancel.cancelled:
            break
        photos = catalog.photos(todo[start:start + 64])
        rows = []
        for photo in photos.values():
            try:
                image, _ = imaging.load_image(photo.path, min_side=HASH_SIDE)
            except (DecodeError, OSError) as exc:
                skip = Skipped(photo.path, f"no perceptual hash: {exc}")
                skipped.append(skip)
                tracker.advance(current=photo.path, skipped=skip)
                continue
            rows.append((photo.id, photo.content_hash, ph.phash(image)))
            tracker.advance(current=photo.path)
        with catalog.write() as c:
            # Only for content still current: a file that changed meanwhile is hashed by its re-index.
            current = {r[0] for r in rows if c.execute("SELECT 1 FROM photos WHERE id=? AND content_hash=?",
                                                       (r[0], r[1])).fetchone()}
            store_hashes(c, [r for r in rows if r[0] in current])
        done.extend(sorted(current))
    tracker.emit()
    return done, skipped


def full_file_hash(path: str | os.PathLike[str]) -> str | None:
    """BLAKE2 of the whole file, or None when it cannot be read."""
    digest = hashlib.blake2b(digest_size=32)
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


# -- reading what the checks need --------------------------------------------------------------


@dataclass
class Facts:
    """What the pair checks read per photo."""

    path: str
    content_hash: str
    aspect: float | None
    taken: float | None  # seconds, only for a camera's own date
    phash: int | None


def _facts(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Facts]:
    out: dict[int, Facts] = {}
    id_list = list(ids)
    for chunk in chunked(id_list):
        marks = ",".join("?" * len(chunk))
        for pid, path, digest, w, h, taken, source, value in conn.execute(
                "SELECT p.id, p.path, p.content_hash, p.width, p.height, p.taken_at, p.taken_at_source, h.phash "
                "FROM photos p LEFT JOIN photo_hashes h ON h.photo_id=p.id AND h.content_hash=p.content_hash "
                f"WHERE p.id IN ({marks}) AND +p.state='ok'", chunk):
            aspect = float(np.log(w / h)) if w and h else None
            out[pid] = Facts(path, digest, aspect, seconds_of(taken) if source == "exif" else None, value)
    return out


def seconds_of(taken: str | None) -> float | None:
    if not taken:
        return None
    try:
        return datetime.fromisoformat(taken).timestamp()
    except ValueError:
        return None


def stored_model(catalog: Catalog) -> str | None:
    """The model with the most stored vectors: what confirms pairs while no model is loaded (the CLI
    without one installed still reads the vectors an earlier model left)."""
    row = catalog.read().execute(
        "SELECT m.name FROM models m JOIN embeddings e ON e.model_id=m.id GROUP BY m.id "
        "ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
    return row[0] if row else None


def load_vectors(conn: sqlite3.Connection, model_name: str | None, ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Unit vectors of the given photos for one model (those of their current content only)."""
    if model_name is None:
        return {}
    row = conn.execute("SELECT id FROM models WHERE name=?", (model_name,)).fetchone()
    if row is None:
        return {}
    out: dict[int, np.ndarray] = {}
    id_list = list(ids)
    for chunk in chunked(id_list):
        marks = ",".join("?" * len(chunk))
        for pid, blob in conn.execute(
                "SELECT e.photo_id, e.vector FROM embeddings e JOIN photos p ON p.id=e.photo_id "
                f"WHERE e.model_id=? AND e.content_hash=p.content_hash AND e.photo_id IN ({marks})",
                [row[0], *chunk]):
            v = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            n = float(np.linalg.norm(v))
            out[pid] = v / n if n else v
    return out


# -- deciding one pair -------------------------------------------------------------------------


class Judge:
    """Decides candidate pairs, reading facts and vectors once per photo and whole files only on need."""

    def __init__(self, conn: sqlite3.Connection, model_name: str | None) -> None:
        self.conn = conn
        self.model_name = model_name
        self.facts: dict[int, Facts] = {}
        self.vectors: dict[int, np.ndarray] = {}
        self._full: dict[int, str | None] = {}

    def load(self, ids: Iterable[int]) -> None:
        new = [i for i in set(ids) if i not in self.facts]
        self.facts.update(_facts(self.conn, new))
        self.vectors.update(load_vectors(self.conn, self.model_name, new))

    def cosine(self, a: int, b: int) -> float | None:
        va, vb = self.vectors.get(a), self.vectors.get(b)
        if va is None or vb is None or va.shape != vb.shape:
            return None
        return float(va @ vb)

    def full_hash(self, photo_id: int) -> str | None:
        if photo_id not in self._full:
            self._full[photo_id] = full_file_hash(self.facts[photo_id].path)
        return self._full[photo_id]

    def identical(self, a: int, b: int) -> Pair | None:
        fa, fb = self.facts.get(a), self.facts.get(b)
        if fa is None or fb is None or fa.content_hash != fb.content_hash:
            return None
        ha = self.full_hash(a)
        if ha is None or ha != self.full_hash(b):
            return None
        return Pair(min(a, b), max(a, b), "identical", 0, 1.0)

    def same(self, a: int, b: int) -> Pair | None:
        fa, fb = self.facts.get(a), self.facts.get(b)
        if fa is None or fb is None or fa.phash is None or fb.phash is None:
            return None
        if fa.aspect is not None and fb.aspect is not None and abs(fa.aspect - fb.aspect) > ASPECT_TOLERANCE:
            return None
        bits = ph.distance(fa.phash, fb.phash)
        if bits > SAME_BITS:
            return None
        cos = self.cosine(a, b)
        if cos is None:
            if bits > STRICT_BITS:
                return None
        elif cos < (VETO_COSINE if bits <= SURE_BITS else SAME_COSINE):
            return None
        return Pair(min(a, b), max(a, b), "same", bits, cos)

    def similar(self, a: int, b: int) -> Pair | None:
        fa, fb = self.facts.get(a), self.facts.get(b)
        if fa is None or fb is None or fa.taken is None or fb.taken is None:
            return None
        if abs(fa.taken - fb.taken) > SIMILAR_SECONDS:
            return None
        cos = self.cosine(a, b)
        if cos is None or cos < SIMILAR_COSINE:
            return None
        bits = ph.distance(fa.phash, fb.phash) if fa.phash is not None and fb.phash is not None else None
        return Pair(min(a, b), max(a, b), "similar", bits, cos)

    def decide(self, a: int, b: int, kinds: Sequence[str]) -> Pair | None:
        """The strongest kind that holds for the pair, among the kinds it is a candidate for."""
        for kind in ("identical", "same", "similar"):
            if kind in kinds:
                pair = getattr(self, kind)(a, b)
                if pair is not None:
                    return pair
        return None


def store_pairs(conn: sqlite3.Connection, pairs: Iterable[Pair]) -> int:
    """Record pairs inside the caller's transaction; a stronger kind replaces a weaker one."""
    now = time.time()
    rows = [(p.a, p.b, p.kind, p.bits, p.similarity, now) for p in pairs]
    conn.executemany(
        "INSERT INTO duplicate_pairs(a, b, kind, bits, similarity, found_at) VALUES(?,?,?,?,?,?) "
        "ON CONFLICT(a, b) DO UPDATE SET kind=excluded.kind, bits=excluded.bits, "
        "similarity=excluded.similarity, found_at=excluded.found_at", rows)
    return len(rows)


# -- a new photo against the library (index lookups) --------------------------------------------


def _candidates(conn: sqlite3.Connection, photo_id: int, facts: Facts) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for (other,) in conn.execute("SELECT id FROM photos WHERE content_hash=? AND id!=? AND +state='ok'",
                                 (facts.content_hash, photo_id)):
        found.setdefault(other, set()).add("identical")
    if facts.phash is not None:
        rows: list[tuple[int, int]] = []
        for i, band in enumerate(ph.bands(facts.phash)):
            probes = (PROBES ^ band).tolist()
            rows += conn.execute(f"SELECT photo_id, phash FROM photo_hashes WHERE b{i} IN "
                                 f"({','.join('?' * len(probes))})", probes).fetchall()
        if rows:
            near = np.unique(np.array(rows, dtype=np.int64), axis=0)
            near = near[near[:, 0] != photo_id]
            bits = ph.distances(facts.phash, near[:, 1])
            closest = np.argsort(bits, kind="stable")[:MAX_SAME]
            for other in near[closest[bits[closest] <= SAME_BITS], 0].tolist():
                found.setdefault(other, set()).add("same")
    if facts.taken is not None:
        lo = datetime.fromtimestamp(facts.taken - SIMILAR_SECONDS).isoformat()
        hi = datetime.fromtimestamp(facts.taken + SIMILAR_SECONDS).isoformat()
        for (other,) in conn.execute(
                "SELECT id FROM photos WHERE taken_at BETWEEN ? AND ? AND taken_at_source='exif' "
                f"AND +state='ok' AND id!=? LIMIT {MAX_WINDOW}", (lo, hi, photo_id)):
            found.setdefault(other, set()).add("similar")
    return found


def check_photos(catalog: Catalog, ids: Sequence[int], model_name: str | None) -> list[Pair]:
    """Check newly indexed photos against the library and record the pairs they form."""
    conn = catalog.read()
    judge = Judge(conn, model_name)
    judge.load(ids)
    pairs: dict[tuple[int, int], Pair] = {}
    for pid in ids:
        facts = judge.facts.get(pid)
        if facts is None:
            continue
        candidates = _candidates(conn, pid, facts)
        judge.load(candidates)
        for other, kinds in candidates.items():
            pair = judge.decide(pid, other, sorted(kinds))
            if pair is not None:
                pairs[(pair.a, pair.b)] = pair
    if pairs:
        with catalog.write() as c:
            store_pairs(c, pairs.values())
    return list(pairs.values())
