"""The exact side of the index: every vector of one model in one float32 matrix, rows keyed by photo id."""

from __future__ import annotations

import numpy as np

from photoclip.index import vector_cache


class Matrix:
    """Rows of vectors keyed by photo id, grown by doubling; deleted rows are masked, not moved."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.data = np.zeros((0, dim), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.seqs = np.zeros(0, dtype=np.int64)
        self.valid = np.zeros(0, dtype=bool)
        self.n = 0
        self.row_of: dict[int, int] = {}
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_cache(cls, dim: int, cached: vector_cache.CachedVectors) -> Matrix:
        """A matrix over a mapped vector file: rows are read from the page cache, never decoded."""
        matrix = cls(dim)
        n = len(cached.ids)
        matrix.data, matrix.ids, matrix.seqs = cached.vectors, cached.ids, cached.seqs
        matrix.valid = np.ones(n, dtype=bool)
        matrix.n = n
        matrix.row_of = dict(zip(cached.ids.tolist(), range(n), strict=True))
        return matrix

    @property
    def count(self) -> int:
        return len(self.row_of)

    def upsert(self, ids: np.ndarray, seqs: np.ndarray, vectors: np.ndarray) -> None:
        new = [i for i, pid in enumerate(ids.tolist()) if pid not in self.row_of]
        need = self.n + len(new)
        if need > len(self.data):
            cap = max(need, 2 * len(self.data), 1024)
            for name in ("data", "ids", "seqs", "valid"):
                old = getattr(self, name)
                grown = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
                grown[: self.n] = old[: self.n]
                setattr(self, name, grown)
        for pid, seq, vec in zip(ids.tolist(), seqs.tolist(), vectors, strict=True):
            row = self.row_of.get(pid)
            if row is None:
                row = self.n
                self.n += 1
                self.row_of[pid] = row
                self.ids[row] = pid
            self.data[row] = vec
            self.seqs[row] = seq
            self.valid[row] = True
        self._sorted = None

    def delete(self, ids: np.ndarray) -> None:
        for pid in ids.tolist():
            row = self.row_of.pop(pid, None)
            if row is not None:
                self.valid[row] = False
        self._sorted = None

    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(self.valid[: self.n])

    def rows_for(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the given ids that are stored (unknown ids are dropped)."""
        if self._sorted is None:
            rows = self.live_rows()
            order = np.argsort(self.ids[rows], kind="stable")
            self._sorted = (self.ids[rows][order], rows[order])
        sorted_ids, sorted_rows = self._sorted
        if len(sorted_ids) == 0 or len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(sorted_ids, ids)
        pos = np.minimum(pos, len(sorted_ids) - 1)
        hit = sorted_ids[pos] == ids
        return sorted_rows[pos[hit]]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first."""
    if k <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.argsort(-scores[part], kind="stable")]


class Excluded:
    """Ids a query must skip, as the index holds them: rows for exact scans, sorted ids for dropping
    them from a graph walk's answer, and a by-id byte mask for a filtered walk (built when needed)."""

    def __init__(self, source: np.ndarray, rows: np.ndarray, ids: np.ndarray) -> None:
        self.source, self.rows, self.ids = source, rows, ids
        self._mask: bytes | None = None

    def contains(self, labels: np.ndarray) -> np.ndarray:
        if len(self.ids) == 0:
            return np.zeros(len(labels), dtype=bool)
        pos = np.minimum(np.searchsorted(self.ids, labels), len(self.ids) - 1)
        return self.ids[pos] == labels

    @property
    def mask(self) -> bytes:
        if self._mask is None:
            flags = np.zeros(int(self.ids.max()) + 1 if len(self.ids) else 0, dtype=np.uint8)
            flags[self.ids] = 1
            self._mask = flags.tobytes()  # indexing bytes is the cheapest test a Python callback can make
        return self._mask
