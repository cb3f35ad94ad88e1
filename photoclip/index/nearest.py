"""Finding the nearest vectors: exactly over the matrix, or by walking the HNSW graph, with a filter of the ids
that may be returned (``rows``) or of the ids that may not (``held``: photos on an unplugged drive, hidden
copies). A graph that finds fewer than asked hands over to the exact scan, so a query never comes up short."""

from __future__ import annotations

import math

import hnswlib
import numpy as np

from photoclip.index.matrix import Excluded, Matrix, top_k

_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def exact(matrix: Matrix, q: np.ndarray, k: int, *, rows: np.ndarray | None = None,
          held: Excluded | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best (ids, cosines) among ``rows``, or among every live row but the ``held`` ones."""
    if rows is not None:
        scores = matrix.data[rows] @ q
        best = top_k(scores, k)
        return matrix.ids[rows[best]].copy(), scores[best]
    scores = matrix.data[: matrix.n] @ q
    drop = ~matrix.valid[: matrix.n]
    if held is not None:
        drop = drop.copy()
        drop[held.rows] = True
    scores[drop] = -np.inf
    best = top_k(scores, min(k, matrix.count))
    best = best[np.isfinite(scores[best])]
    return matrix.ids[best].copy(), scores[best]


def graph(index: hnswlib.Index, matrix: Matrix, q: np.ndarray, k: int, ef: int, *,
          rows: np.ndarray | None = None, held: Excluded | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best by a graph walk; ``rows`` restricts it (a filtered walk), ``held`` excludes ids."""
    if rows is not None:
        wanted = min(k, len(rows))
        passing = matrix.ids[rows]
        flags = np.zeros(int(passing.max()) + 1, dtype=np.uint8)
        flags[passing] = 1
        mask = flags.tobytes()  # indexing bytes is the cheapest test a Python callback can make
        size = len(mask)

        def passes(label: int) -> bool:
            return label < size and mask[label] == 1
    else:
        n_held = 0 if held is None else len(held.ids)
        wanted = min(k, matrix.count - n_held)
        if wanted > 0 and held is not None and n_held:
            return _excluding(index, matrix, q, k, wanted, held, ef)
        passes = None
    if wanted <= 0:
        return _NONE
    index.set_ef(max(ef, wanted))
    try:
        labels, dists = index.knn_query(q, k=wanted, num_threads=1, filter=passes)
        ids, cos = labels[0].astype(np.int64), 1.0 - dists[0]
    except RuntimeError:  # the graph found fewer than asked: answer exactly instead
        ids, cos = _NONE
    if len(ids) < wanted:
        return exact(matrix, q, k, rows=rows, held=held)
    return ids[:k], cos[:k].astype(np.float32)


def _excluding(index: hnswlib.Index, matrix: Matrix, q: np.ndarray, k: int, wanted: int, held: Excluded,
               ef: int) -> tuple[np.ndarray, np.ndarray]:
    """A graph query that must skip ``held`` ids.

    First one walk asking for enough extra results to cover the excluded share, the excluded then dropped:
    no per-candidate Python callback, which is slow when most of the library is excluded. When the excluded
    photos crowd the top (the query matches what is on the unplugged drive), a filtered walk follows, and an
    exact scan if even that comes up short.
    """
    n_held = len(held.ids)
    live_share = (matrix.count - n_held) / matrix.count
    # Enough that the live ones among them fall short of ``wanted`` in well under 1% of random
    # exclusions (three binomial standard deviations).
    ask = min(wanted + n_held, index.element_count, math.ceil((wanted + 3 * math.sqrt(wanted) + 2) / live_share))
    try:
        index.set_ef(max(ef, ask))
        labels, dists = index.knn_query(q, k=ask, num_threads=1)
        ids, cos = labels[0].astype(np.int64), 1.0 - dists[0]
        keep = ~held.contains(ids)
        if int(keep.sum()) >= wanted:
            return ids[keep][:k], cos[keep][:k].astype(np.float32)
        mask, size = held.mask, len(held.mask)

        def passes(label: int) -> bool:
            return label >= size or mask[label] == 0

        index.set_ef(max(ef, wanted))
        labels, dists = index.knn_query(q, k=wanted, num_threads=1, filter=passes)
        ids, cos = labels[0].astype(np.int64), 1.0 - dists[0]
    except RuntimeError:  # the graph found fewer than asked
        ids, cos = _NONE
    if len(ids) < wanted:
        return exact(matrix, q, k, held=held)
    return ids[:k], cos[:k].astype(np.float32)
