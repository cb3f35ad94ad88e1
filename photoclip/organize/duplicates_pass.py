"""The first duplicates pass over a whole library, in numpy: the same lookups a new photo gets, for all.

For a library catalogued before hashes were kept (or after ``--full``): perceptual-hash bands probed
for every photo at once through a counting table, capture times compared along a sorted list, equal
catalog hashes grouped by SQL; each candidate pair is then decided exactly as a new photo's would be
(see ``duplicates_find``), so both ways find the same groups.
"""

from __future__ import annotations

import time

import numpy as np

from photoclip.imaging import phash as ph
from photoclip.jobs import CancelToken, ProgressSink, ProgressTracker, null_sink
from photoclip.organize.duplicates_find import (
    MAX_SAME,
    MAX_WINDOW,
    PROBES,
    SAME_BITS,
    SIMILAR_SECONDS,
    Judge,
    Pair,
    seconds_of,
    store_pairs,
)
from photoclip.store.catalog import Catalog


def hash_candidates(ids: np.ndarray, hashes: np.ndarray, *, block: int = 20000) -> np.ndarray:
    """(k, 2) pairs of ids (a < b) whose hashes meet in a band within one bit, distance <= SAME_BITS."""
    unsigned = hashes.astype(np.int64).view(np.uint64)
    n = len(hashes)
    out: list[np.ndarray] = []
    mask = np.uint64((1 << ph.BAND_BITS) - 1)
    for band in range(ph.BANDS):
        values = ((unsigned >> np.uint64(band * ph.BAND_BITS)) & mask).astype(np.int64)
        order = np.argsort(values, kind="stable")
        # Where each band value's run starts in ``order``: a bucket is two table reads, not a search.
        starts = np.zeros((1 << ph.BAND_BITS) + 1, dtype=np.int64)
        np.cumsum(np.bincount(values, minlength=1 << ph.BAND_BITS), out=starts[1:])
        for start in range(0, len(values), block):
            rows = np.arange(start, min(start + block, len(values)))
            for probe in PROBES:
                query = values[rows] ^ probe
                lo = starts[query]
                counts = starts[query + 1] - lo
                if not counts.any():
                    continue
                left = np.repeat(rows, counts)
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                right = order[np.repeat(lo, counts) + offsets]
                keep = left < right
                left, right = left[keep], right[keep]
                close = ph.popcount64(hashes[left] ^ hashes[right]) <= SAME_BITS
                out.append(left[close] * n + right[close])  # one int64 key per pair: a fast unique
        out = [_distinct(np.concatenate(out))] if out else []
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    keys = _distinct(np.concatenate(out))
    both = nearest(np.stack([keys // n, keys % n], axis=1), hashes)
    return np.stack([ids[both[:, 0]], ids[both[:, 1]]], axis=1)


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sorting: numpy's hash-based unique is far slower on many repeats)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def nearest(pairs: np.ndarray, hashes: np.ndarray, limit: int = MAX_SAME) -> np.ndarray:
    """The pairs that are among the ``limit`` nearest partners of either of their photos."""
    if not len(pairs):
        return pairs
    bits = ph.popcount64(hashes[pairs[:, 0]] ^ hashes[pairs[:, 1]])
    owner = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dist = np.concatenate([bits, bits])
    order = np.lexsort((dist, owner))
    sorted_owner = owner[order]
    first = np.searchsorted(sorted_owner, sorted_owner, "left")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - first
    keep = (rank[:len(pairs)] < limit) | (rank[len(pairs):] < limit)
    return pairs[keep]


def time_candidates(ids: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """(k, 2) pairs of ids (a < b) taken within SIMILAR_SECONDS of each other (at most MAX_WINDOW apart)."""
    order = np.argsort(seconds, kind="stable")
    t = seconds[order]
    sid = ids[order]
    span = int(ids.max()) + 1 if len(ids) else 1
    out: list[np.ndarray] = []
    for step in range(1, MAX_WINDOW + 1):
        if step >= len(t):
            break
        close = (t[step:] - t[:-step]) <= SIMILAR_SECONDS
        if not close.any():
            break
        a, b = sid[:-step][close], sid[step:][close]
        out.append(np.minimum(a, b) * span + np.maximum(a, b))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    keys = _distinct(np.concatenate(out))
    return np.stack([keys // span, keys % span], axis=1)


def full_pass(catalog: Catalog, model_name: str | None, *, progress: ProgressSink = null_sink,
              cancel: CancelToken | None = None) -> list[Pair]:
    """Find every pair in the library afresh and replace the recorded ones."""
    cancel = cancel or CancelToken()
    started = time.time()
    conn = catalog.read()
    tracker = ProgressTracker(progress, "duplicates", total=4)
    tracker.emit()
    candidates: dict[tuple[int, int], set[str]] = {}
    groups = conn.execute("SELECT group_concat(id) FROM photos WHERE state='ok' GROUP BY content_hash "
                          "HAVING COUNT(*) > 1").fetchall()
    for (joined,) in groups:
        members = sorted(int(x) for x in joined.split(","))
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                candidates.setdefault((a, b), set()).add("identical")
    tracker.advance(current="identical files")
    rows = conn.execute("SELECT h.photo_id, h.phash FROM photo_hashes h JOIN photos p ON p.id=h.photo_id "
                        "AND p.content_hash=h.content_hash WHERE p.state='ok' AND h.phash IS NOT NULL "
                        "ORDER BY h.photo_id").fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    hashes = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    for a, b in hash_candidates(ids, hashes).tolist():
        candidates.setdefault((a, b), set()).add("same")
    cancel.raise_if_cancelled()
    tracker.advance(current="same pictures")
    dated = [(pid, s) for pid, taken in conn.execute(
        "SELECT id, taken_at FROM photos WHERE state='ok' AND taken_at_source='exif'")
        if (s := seconds_of(taken)) is not None]
    if dated:
        t_ids = np.fromiter((d[0] for d in dated), dtype=np.int64, count=len(dated))
        t_sec = np.fromiter((d[1] for d in dated), dtype=np.float64, count=len(dated))
        for a, b in time_candidates(t_ids, t_sec).tolist():
            candidates.setdefault((a, b), set()).add("similar")
    cancel.raise_if_cancelled()
    tracker.advance(current="similar shots")
    judge = Judge(conn, model_name)
    judge.load({i for pair in candidates for i in pair})
    pairs = [p for (a, b), kinds in candidates.items() if (p := judge.decide(a, b, sorted(kinds))) is not None]
    cancel.raise_if_cancelled()
    with catalog.write() as c:
        # Pairs a photo indexed meanwhile found are newer than what this pass read: they stay.
        c.execute("DELETE FROM duplicate_pairs WHERE found_at < ?", (started,))
        store_pairs(c, pairs)
        c.execute("INSERT INTO meta(key, value) VALUES('duplicates_pass', ?) "
                  "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(time.time()),))
    tracker.advance(current="recorded")
    return pairs
