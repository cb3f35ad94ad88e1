"""Search: a query or an example image in, ranked and calibrated photos out.

The searcher is built from parts passed in (catalog, embedder, index folder), so tests hand it a
fake embedder and a temporary catalog. It keeps one VectorIndex per embedder model in step with
the catalog on every call, so photos indexed or removed meanwhile show up (or vanish) at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photoclip import imaging
from photoclip.catalog import Catalog, Photo
from photoclip.engine.protocol import Embedder
from photoclip.errors import DecodeError, NotFoundError, QueryError
from photoclip.search.filters import Filters, allowed_ids, dead_ids, passing
from photoclip.search.query import Query, parse_query
from photoclip.search.relevance import SAMPLE_SIZE, Calibration, calibrate, hide_threshold
from photoclip.vectorindex import DEFAULT_HNSW_THRESHOLD, DEFAULT_SUBSET_EXACT_LIMIT, HnswParams, VectorIndex

TEXT_CACHE_SIZE = 256
# A filtered search first ranks this many times the asked number, unfiltered (at least the minimum).
RANKED_FILTER_DEPTH = 4
RANKED_FILTER_MIN = 100


@dataclass(frozen=True)
class SearchHit:
    id: int
    path: str
    score: float  # calibrated, 0-1: 0.5 or more means clearly related
    cosine: float  # the raw similarity, for those who want it
    photo: Photo


@dataclass(frozen=True)
class RankedHit:
    """A ranked photo without its catalog row, for callers that only rank (hybrid fusion)."""

    id: int
    score: float
    cosine: float


@dataclass
class SearchResult:
    hits: list[SearchHit]
    hidden: int  # how many of the best `top` were left out as unrelated (or below min_score)
    elapsed_ms: float


class Searcher:
    """Text, image and combined queries over one library with one embedder."""

    def __init__(self, catalog: Catalog, embedder: Embedder, index_dir: str | os.PathLike[str], *,
                 hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
                 subset_exact_limit: int = DEFAULT_SUBSET_EXACT_LIMIT,
                 params: HnswParams | None = None, background: bool = True,
                 sample_size: int = SAMPLE_SIZE, build_graph: bool = True) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.index = VectorIndex(catalog, embedder.model_name, index_dir, hnsw_threshold=hnsw_threshold,
                                 subset_exact_limit=subset_exact_limit, params=params, background=background,
                                 build_graph=build_graph)
        self.sample_size = sample_size
        self._sample: np.ndarray | None = None
        self._sample_version = -1
        self._text_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        self.index.close()

    # -- query vectors ---------------------------------------------------------------------------

    def _text_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._cache_lock:  # the GUI may search from more than one worker thread
            return self._cached_text_vectors(texts)

    def _cached_text_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if missing:
            for text, vec in zip(missing, self.embedder.embed_texts(missing), strict=True):
                self._text_cache[text] = np.asarray(vec, dtype=np.float32)
        out = {}
        for t in texts:
            self._text_cache.move_to_end(t)
            out[t] = self._text_cache[t]
        while len(self._text_cache) > TEXT_CACHE_SIZE:
            self._text_cache.popitem(last=False)
        return out

    def _image_vector(self, path: Path) -> np.ndarray:
        try:
            image, _meta = imaging.load_image(path, min_side=self.embedder.image_size)
        except DecodeError as exc:
            raise QueryError(f"cannot read the image {path}: {exc}") from exc
        return np.asarray(self.embedder.embed_images([image])[0], dtype=np.float32)

    def _combine(self, query: Query) -> np.ndarray:
        texts = self._text_vectors([t.text for t in query.terms if t.text is not None])
        total = np.zeros(self.embedder.dim, dtype=np.float64)
        for term in query.terms:
            vec = texts[term.text] if term.text is not None else self._image_vector(term.image)  # type: ignore[arg-type]
            total += term.weight * vec
        norm = float(np.linalg.norm(total))
        if norm < 1e-6:
            raise QueryError(f"the terms of {query.raw!r} cancel each other out")
        return (total / norm).astype(np.float32)

    def query_vector(self, query: str) -> np.ndarray:
        """The unit vector a query string stands for (weighted sum of its terms, normalised)."""
        return self._combine(parse_query(query))

    # -- searching -------------------------------------------------------------------------------

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50,
               min_score: float | None = None, show_all: bool = False, rows: bool = True) -> SearchResult:
        """Ranked photos; with ``rows`` False the hits are RankedHit (no catalog rows are read)."""
        start = time.perf_counter()
        parsed = parse_query(query)
        vector = self._combine(parsed)
        kind = "image" if parsed.images_only else "text"
        return self._run(vector, kind, filters, top, min_score, show_all, (), start, rows)

    def similar(self, target: int | str | os.PathLike[str], *, filters: Filters | None = None, top: int = 50,
                min_score: float | None = None, show_all: bool = False) -> SearchResult:
        """Photos like a library photo (by id or path) or like any image file on disk."""
        start = time.perf_counter()
        vector, own_id = self._target_vector(target)
        skip = (own_id,) if own_id is not None else ()
        return self._run(vector, "image", filters, top, min_score, show_all, skip, start)

    def _target_vector(self, target: int | str | os.PathLike[str]) -> tuple[np.ndarray, int | None]:
        model = self.embedder.model_name
        if isinstance(target, (int, np.integer)):
            photo = self.catalog.photo(int(target))
            vector = self.catalog.vector(model, photo.id)
            if vector is None:
                raise NotFoundError(f"{photo.path} has not been indexed yet")
            return vector, photo.id
        path = Path(target).expanduser()
        known = self.catalog.photo_by_path(str(path.resolve())) if path.exists() else None
        if known is not None:
            stored = self.catalog.vector(model, known.id)
            if stored is not None:
                return stored, known.id
        if not path.is_file():
            raise NotFoundError(f"{path} is not an image file")
        return self._image_vector(path), known.id if known else None

    def _reference(self) -> np.ndarray:
        if self._sample is None or self._sample_version != self.index.version:
            self._sample = self.index.sample(self.sample_size)
            self._sample_version = self.index.version
        return self._sample

    def calibration(self, vector: np.ndarray) -> Calibration:
        """The query's reference distribution over the library (see relevance.py)."""
        self.index.sync()
        return calibrate(vector, self._reference())

    def _ranked_then_filtered(self, vector: np.ndarray, top: int, filters: Filters, excluded: np.ndarray,
                              kind: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The filtered top ``top`` from an unfiltered ranking several times deeper, or None when
        too few of those pass (a narrow filter: the caller lists the passing photos instead).

        A broad filter (a big folder, a year) passes hundreds of thousands of photos in a large library:
        listing them all cost 70 ms at 50% of 100k, and the filtered walk another 20. Checking only the
        best few hundred candidates against the filter in SQL costs about a millisecond.
        """
        depth = max(RANKED_FILTER_DEPTH * top, RANKED_FILTER_MIN)
        ids, cosines = self.index.search(vector, depth, excluded=excluded, kind=kind)
        keep = passing(self.catalog, filters, ids)
        if int(keep.sum()) < top and len(ids) == depth:
            return None  # the filter may pass more photos further down: rank the passing ones only
        return ids[keep][:top], cosines[keep][:top]

    def _run(self, vector: np.ndarray, kind: str, filters: Filters | None, top: int,
             min_score: float | None, show_all: bool, skip: tuple[int, ...], start: float,
             rows: bool = True) -> SearchResult:
        if top < 1:
            raise QueryError("the number of results must be at least 1")
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise QueryError(f"the minimum score must be between 0 and 1, not {min_score}")
        self.index.sync()
        skipped = np.asarray(skip, dtype=np.int64)
        dead = dead_ids(self.catalog)  # the same array while nothing changed: the index caches by it
        excluded = np.union1d(dead, skipped) if len(skipped) else dead
        if filters is not None and filters.active:
            found = self._ranked_then_filtered(vector, top, filters, excluded, kind)
            if found is None:
                allowed = allowed_ids(self.catalog, filters)  # live photos only
                found = self.index.search(vector, top, allowed=allowed, excluded=skipped, kind=kind)
            ids, cosines = found
        else:
            ids, cosines = self.index.search(vector, top, excluded=excluded, kind=kind)
        cal = calibrate(vector, self._reference())
        scores = cal.scores(cosines)
        threshold = hide_threshold(cal, min_score=min_score, show_all=show_all)
        keep = scores >= threshold if threshold is not None else np.ones(len(ids), dtype=bool)
        if not rows:
            ranked = [RankedHit(int(i), float(s), float(c)) for i, s, c in
                      zip(ids[keep].tolist(), scores[keep].tolist(), cosines[keep].tolist(), strict=True)]
            elapsed = (time.perf_counter() - start) * 1000.0
            return SearchResult(ranked, int((~keep).sum()), elapsed)  # type: ignore[arg-type]
        photos = self.catalog.photos(ids[keep].tolist())
        hits = [SearchHit(int(i), photos[int(i)].path, float(s), float(c), photos[int(i)])
                for i, s, c in zip(ids[keep], scores[keep], cosines[keep], strict=True) if int(i) in photos]
        return SearchResult(hits, int((~keep).sum()), (time.perf_counter() - start) * 1000.0)
