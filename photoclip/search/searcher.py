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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photoclip.engine import prompt_cache
from photoclip.engine.protocol import Embedder
from photoclip.errors import DecodeError, NotFoundError, QueryError
from photoclip.index.vectorindex import DEFAULT_HNSW_THRESHOLD, DEFAULT_SUBSET_EXACT_LIMIT, HnswParams, VectorIndex
from photoclip.search.calibration import DEFAULT_MIN_SCORE, Calibrator, combine_scores, constants_for
from photoclip.search.dates import DateSpan
from photoclip.search.filters import Filters, allowed_ids, dead_ids, passing
from photoclip.search.query import Query, Term, parse_query
from photoclip.store.catalog import Catalog, Photo

TEXT_CACHE_SIZE = 256
# A filtered search first ranks this many times the asked number, unfiltered (at least the minimum).
RANKED_FILTER_DEPTH = 4
RANKED_FILTER_MIN = 100
# Candidates by cosine that the calibrated score re-orders: the score also weighs what the photo's
# reference captions reach, so the best few by score come from a deeper list by cosine.
RERANK_DEPTH = 4
RERANK_MIN = 200
# Examples ("more like this", "not this"): Rocchio's weights move the candidates' probe towards the liked
# photos and away from the others; a liked look raises a score by up to LIKE times its image score.
ROCCHIO = (1.0, 0.75, 0.25)
LIKE = 0.5


@dataclass(frozen=True)
class SearchHit:
    id: int
    path: str
    score: float  # calibrated, 0-1, what orders the results: 0.5 or more means clearly related
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
    hidden: int  # how many of the best `top` were left out as unrelated (below the minimum score)
    elapsed_ms: float
    unknown: tuple[str, ...] = ()  # query terms the model cannot tell from made-up words
    dates: DateSpan | None = None  # a date phrase of the query taken as a filter

    def sort_by_date(self, newest: bool) -> None:
        """The hits by capture moment (the absolute one where a photo states its time zone), undated
        last; which photos are shown stays as the cut-off chose them."""
        dated = [h for h in self.hits if h.photo.taken_at]
        dated.sort(key=lambda h: h.photo.taken_key, reverse=newest)
        self.hits = dated + [h for h in self.hits if not h.photo.taken_at]


@dataclass(frozen=True)
class _Part:
    """One side of a query: the positive terms' summed vector, or one subtracted term."""

    vector: np.ndarray
    image: bool
    weight: float = 1.0


class Searcher:
    """Text, image and combined queries over one library with one embedder."""

    def __init__(self, catalog: Catalog, embedder: Embedder, index_dir: str | os.PathLike[str], *,
                 hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
                 subset_exact_limit: int = DEFAULT_SUBSET_EXACT_LIMIT,
                 params: HnswParams | None = None, background: bool = True,
                 build_graph: bool = True) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.index = VectorIndex(catalog, embedder.model_name, index_dir, hnsw_threshold=hnsw_threshold,
                                 subset_exact_limit=subset_exact_limit, params=params, background=background,
                                 build_graph=build_graph)
        self.min_score = DEFAULT_MIN_SCORE  # the default strictness (the library sets it from Settings)
        # The query language when a caller gives none (smart album rules): the library sets it from Settings.
        self.language: str | None = None
        self._calibrator: Calibrator | None = None
        self._text_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()  # (language, text)
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        self.index.close()

    # -- query vectors ---------------------------------------------------------------------------

    def _language(self, language: str | None) -> str | None:
        """A query's language: the caller's, else the searcher's default (the library's setting)."""
        return language if language is not None else self.language

    def _text_vectors(self, texts: list[str], language: str | None = None) -> dict[str, np.ndarray]:
        """Vectors of query texts; ``language`` is the user's query language (None: the model decides).
        The calibration's reference captions are always embedded with None: they are English."""
        with self._cache_lock:  # the GUI may search from more than one worker thread
            return self._cached_text_vectors(texts, language)

    def _cached_text_vectors(self, texts: list[str], language: str | None) -> dict[str, np.ndarray]:
        lang = language or ""
        missing = [t for t in dict.fromkeys(texts) if (lang, t) not in self._text_cache]
        if missing:
            for text, vec in zip(missing, self.embedder.embed_texts(missing, language=language), strict=True):
                self._text_cache[(lang, text)] = np.asarray(vec, dtype=np.float32)
        out = {}
        for t in texts:
            self._text_cache.move_to_end((lang, t))
            out[t] = self._text_cache[(lang, t)]
        while len(self._text_cache) > TEXT_CACHE_SIZE:
            self._text_cache.popitem(last=False)
        return out

    def _shared_text_vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Vectors of fixed texts (the calibration captions) from the cache every library on this computer
        shares, so a new process (a CLI search) does not run the text tower over them again."""
        return prompt_cache.through_cache(self.embedder, texts, self._text_vectors)

    def _image_vector(self, path: Path) -> np.ndarray:
        try:
            from photoclip import imaging  # only an image term needs the decoders

            image, _meta = imaging.load_image(path, min_side=self.embedder.image_size)
        except DecodeError as exc:
            raise QueryError(f"cannot read the image {path}: {exc}") from exc
        return np.asarray(self.embedder.embed_images([image])[0], dtype=np.float32)

    def _term_vector(self, term: Term, texts: dict[str, np.ndarray]) -> np.ndarray:
        return texts[term.text] if term.text is not None else self._image_vector(term.image)  # type: ignore[arg-type]

    def _combine(self, query: Query, language: str | None = None) -> np.ndarray:
        texts = self._text_vectors([t.text for t in query.terms if t.text is not None], language)
        total = np.zeros(self.embedder.dim, dtype=np.float64)
        for term in query.terms:
            total += term.weight * self._term_vector(term, texts)
        norm = float(np.linalg.norm(total))
        if norm < 1e-6:
            raise QueryError(f"the terms of {query.raw!r} cancel each other out")
        return (total / norm).astype(np.float32)

    def query_vector(self, query: str, language: str | None = None) -> np.ndarray:
        """The unit vector a query string stands for (weighted sum of its terms, normalised)."""
        return self._combine(parse_query(query), self._language(language))

    def _parts(self, query: Query, language: str | None = None) -> tuple[_Part | None, list[_Part]]:
        """The positive terms summed into one vector, and each subtracted term on its own."""
        texts = self._text_vectors([t.text for t in query.terms if t.text is not None], language)
        positives = [t for t in query.terms if t.weight > 0]
        positive = None
        if positives:
            total = np.zeros(self.embedder.dim, dtype=np.float64)
            for term in positives:
                total += term.weight * self._term_vector(term, texts)
            norm = float(np.linalg.norm(total))
            if norm < 1e-6:
                raise QueryError(f"the terms of {query.raw!r} cancel each other out")
            positive = _Part((total / norm).astype(np.float32), any(t.image is not None for t in positives))
        negatives = [_Part(np.asarray(self._term_vector(t, texts), dtype=np.float32), t.image is not None, t.weight)
                     for t in query.terms if t.weight < 0]
        return positive, negatives

    # -- calibration -----------------------------------------------------------------------------

    @property
    def calibrator(self) -> Calibrator:
        """The model's reference captions and constants (built once; see calibration.py)."""
        if self._calibrator is None:
            def embed(texts: list[str]) -> np.ndarray:
                vectors = self._shared_text_vectors(texts)
                return np.stack([vectors[t] for t in texts])

            built = Calibrator.build(embed, constants_for(self.embedder))
            self._calibrator = built
        return self._calibrator

    def part_scores(self, part: _Part, ids: np.ndarray, cosines: np.ndarray | None = None) -> np.ndarray:
        """Calibrated scores of photos (by id) for one query part; photos without a vector score 0."""
        vectors, known = self.index.vectors_for(ids)
        cos = vectors @ part.vector if len(vectors) else np.zeros(0, dtype=np.float32)
        if part.image:
            found = self.calibrator.image_scores(cos)
        elif not self.calibrator.knows(part.vector)[0]:
            found = np.zeros(len(cos))  # noise to the model: no photo matches it
        else:
            found = self.calibrator.text_scores(cos, self.calibrator.baselines(vectors))
        out = np.zeros(len(ids), dtype=np.float64)
        out[known] = found
        return out

    def unknown_terms(self, query: Query, language: str | None = None) -> tuple[str, ...]:
        """Text terms the model cannot tell from made-up words."""
        texts = [t.text for t in query.terms if t.text is not None and t.weight > 0]
        if not texts:
            return ()
        vectors = self._text_vectors(texts, language)
        knows = self.calibrator.knows(np.stack([vectors[t] for t in texts]))
        return tuple(t for t, k in zip(texts, knows.tolist(), strict=True) if not k)

    def _examples(self, like: Sequence[int], unlike: Sequence[int]) -> tuple[list[_Part], list[_Part]]:
        """Liked photos as one positive image part, disliked ones as one subtracted part."""
        out: list[list[_Part]] = []
        for ids, weight in ((like, 1.0), (unlike, -1.0)):
            if not ids:
                out.append([])
                continue
            self.index.sync()
            vectors, known = self.index.vectors_for(np.asarray(sorted(set(ids)), dtype=np.int64))
            if not known.all():
                raise NotFoundError("an example photo has no vector for the active model yet")
            mean = vectors.mean(axis=0)
            out.append([_Part((mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32), True, weight)])
        return out[0], out[1]

    def score_photos(self, query: str, ids: np.ndarray, *, like: Sequence[int] = (),
                     unlike: Sequence[int] = (), language: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(cosines, scores) of these photos for a query, scored exactly as search scores them."""
        language = self._language(language)
        positive, negatives = self._parts(parse_query(query), language)
        likes, unlikes = self._examples(like, unlike)
        negatives = negatives + unlikes
        self.index.sync()
        ids = np.asarray(ids, dtype=np.int64)
        vectors, known = self.index.vectors_for(ids)
        cosines = np.zeros(len(ids), dtype=np.float64)
        if positive is not None and len(vectors):
            cosines[known] = vectors @ positive.vector
        return cosines, self._scores(positive, negatives, ids, likes)

    def _scores(self, positive: _Part | None, negatives: list[_Part], ids: np.ndarray,
                likes: Sequence[_Part] = ()) -> np.ndarray:
        base = self.part_scores(positive, ids) if positive is not None else np.ones(len(ids))
        for part in likes:
            base = 1.0 - (1.0 - base) * (1.0 - LIKE * self.part_scores(part, ids))
        return combine_scores(base, [(n.weight, self.part_scores(n, ids)) for n in negatives])

    # -- searching -------------------------------------------------------------------------------

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50,
               min_score: float | None = None, show_all: bool = False, like: Sequence[int] = (),
               unlike: Sequence[int] = (), rows: bool = True, language: str | None = None,
               pool: int | None = None) -> SearchResult:
        """Ranked photos; ``like`` and ``unlike`` are example photo ids ("more like this", "not this").
        With ``rows`` False the hits are RankedHit: no catalog rows are read. ``language``: the query's
        language for models that take one (None: the searcher's ``language``, else from its script, else
        English). ``pool``: how many of the nearest photos are scored to choose the ``top`` (by default a
        few times ``top``: the calibrated score reorders them); a caller that already asks for a pool
        (the hybrid search's meaning pass) gives it, so it is not widened twice."""
        start = time.perf_counter()
        parsed = parse_query(query)
        language = self._language(language)
        positive, negatives = self._parts(parsed, language)
        likes, unlikes = self._examples(like, unlike)
        result = self._run(positive, negatives + unlikes, filters, top, min_score, show_all, (), start, likes,
                           rows, pool)
        result.unknown = self.unknown_terms(parsed, language)
        return result

    def similar(self, target: int | str | os.PathLike[str], *, filters: Filters | None = None, top: int = 50,
                min_score: float | None = None, show_all: bool = False) -> SearchResult:
        """Photos like a library photo (by id or path) or like any image file on disk."""
        start = time.perf_counter()
        vector, own_id = self._target_vector(target)
        skip = (own_id,) if own_id is not None else ()
        return self._run(_Part(vector, True), [], filters, top, min_score, show_all, skip, start)

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
        if not path.exists():
            raise NotFoundError(f"{path} does not exist")
        if not path.is_file():
            raise NotFoundError(f"{path} is not an image file")
        return self._image_vector(path), known.id if known else None

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

    def _candidates(self, vector: np.ndarray, kind: str, filters: Filters | None, depth: int,
                    excluded: np.ndarray, skipped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if filters is not None and filters.active:
            found = self._ranked_then_filtered(vector, depth, filters, excluded, kind)
            if found is None:
                allowed = allowed_ids(self.catalog, filters)  # live photos only
                found = self.index.search(vector, depth, allowed=allowed, excluded=skipped, kind=kind)
            return found
        return self.index.search(vector, depth, excluded=excluded, kind=kind)

    def threshold(self, min_score: float | None, show_all: bool) -> float | None:
        """The score below which results are hidden: an explicit minimum, else none with ``show_all``,
        else the default strictness."""
        if min_score is not None:
            return min_score
        return None if show_all else self.min_score

    def _run(self, positive: _Part | None, negatives: list[_Part], filters: Filters | None, top: int,
             min_score: float | None, show_all: bool, skip: tuple[int, ...], start: float,
             likes: Sequence[_Part] = (), rows: bool = True, pool: int | None = None) -> SearchResult:
        if top < 1:
            raise QueryError("the number of results must be at least 1")
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise QueryError(f"the minimum score must be between 0 and 1, not {min_score}")
        self.index.sync()
        skipped = np.asarray(skip, dtype=np.int64)
        dead = dead_ids(self.catalog)  # the same array while nothing changed: the index caches by it
        excluded = np.union1d(dead, skipped) if len(skipped) else dead
        depth = max(RERANK_DEPTH * top, RERANK_MIN) if pool is None else max(pool, top)
        if positive is not None:
            probe, kind = positive.vector, "image" if positive.image else "text"
        else:  # only subtracted terms: start from the photos furthest from them
            probe = -np.mean([n.vector for n in negatives], axis=0).astype(np.float32)
            kind = "text"
        if likes or any(n.image and n.weight < 0 for n in negatives):
            alpha, beta, gamma = ROCCHIO
            moved = alpha * probe + beta * sum((p.vector for p in likes), np.zeros_like(probe))
            moved -= gamma * sum((n.vector for n in negatives if n.image), np.zeros_like(probe))
            probe = (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)
        ids, _ = self._candidates(probe, kind, filters, depth, excluded, skipped)
        vectors, _known = self.index.vectors_for(ids)
        cosines = vectors @ positive.vector if positive is not None and len(vectors) else np.zeros(len(ids))
        scores = self._scores(positive, negatives, ids, likes)
        order = np.lexsort((ids, -cosines, -scores))[:top]  # equal scores (saturated): closer first
        ids, scores, cosines = ids[order], scores[order], cosines[order]
        threshold = self.threshold(min_score, show_all)
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
