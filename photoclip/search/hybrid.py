"""One search box over meaning and words: CLIP ranks and keyword ranks fused, each hit saying why it matched.

A plain query runs twice: through CLIP (the semantic searcher) and through the keyword index (its words,
stop words and words found on most of the library left out). The two rankings are fused by reciprocal
rank fusion (Cormack, Clarke and Büttcher, 2009), which needs no common scale between a cosine and a
bm25 score, only ranks::

    fused(photo) = 1 / (K + semantic rank) + coverage / (K + keyword rank)

``coverage`` is the share of the query's informative words the photo has (a word that only starts a
longer one counts half); words no photo has ("red", "beach") are left to meaning and do not count, nor
do words on a quarter or more of a library. So a photo showing the one informative word of a query
stands level with the best-looking photo, a photo with both the words and the looks comes first, and a
query none of whose words occur anywhere ranks exactly as CLIP alone does. ``K = 60`` is the value of
the original paper; the tests check that these orderings hold for K from 10 to 200.

Query syntax on top of the semantic one (``photoclip.search.query``):

- ``"quoted words"``: the photo must show these words, in this order (text inside photos only);
  ``-"words"`` leaves out photos that show them. A quoted image path stays an image term.
- ``place:porto``, ``text:invoice``, ``file:img_2041``: the photo must match the term in that field;
  ``place:"new york"`` for several words.
- whatever remains is the semantic query (and the plain words ranked by the keyword index). With
  nothing remaining the result is ranked by the words alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from photoclip.catalog import Catalog
from photoclip.errors import QueryError
from photoclip.keywords import KeywordHit, KeywordIndex, Match, Term, plain_terms, words
from photoclip.search.filters import Condition, Filters, dead_ids, where_clause
from photoclip.search.query import looks_like_image, parse_query
from photoclip.search.searcher import Searcher, SearchHit, SearchResult

RRF_K = 60
SEMANTIC_DEPTH = 200  # semantic ranks fused: at least this many, or 4 x the results asked for
KEYWORD_DEPTH = 1000
FIELDS = {"place": "place", "text": "text", "file": "file"}
TEXT_ONLY_SCORE = 1.0  # the score of a hit found by its words alone: every such hit has them all

_FIELD_TERM = re.compile(r'(?:(?<=\s)|^)([+-]\s*)?(place|text|file):(?:"([^"]*)"|(\S+))', re.IGNORECASE)
_QUOTED = re.compile(r'(?:(?<=\s)|^)([+-]\s*)?"([^"]*)"')


@dataclass(frozen=True)
class HybridHit(SearchHit):
    """A search hit with the reasons it matched: ``why`` lines such as "text: INVOICE 2024",
    "place: Porto" or "meaning: 0.81", and the query ``words`` it matched (to highlight)."""

    why: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    fused: float = 0.0
    semantic_rank: int | None = None
    keyword_rank: int | None = None


@dataclass(frozen=True)
class HybridQuery:
    raw: str
    semantic: str | None  # the query handed to CLIP, None when only words were given
    words: tuple[Term, ...] = ()  # plain words: rank photos, required of none
    required: tuple[Term, ...] = ()  # quoted and field terms: every hit matches all of them
    excluded: tuple[Term, ...] = ()  # -"words": no hit matches any of them


def _phrase(value: str, column: str | None, *, prefix: bool, where: str) -> Term:
    found = tuple(words(value))
    if not found:
        raise QueryError(f"{where} has no letters or digits to look for")
    return Term(found, column, prefix=prefix)


def parse_hybrid(text: str) -> HybridQuery:
    """Split a query into its semantic part and its word terms; raises QueryError."""
    if not text or not text.strip():
        raise QueryError("the query is empty")
    required: list[Term] = []
    excluded: list[Term] = []

    def take_field(m: re.Match[str]) -> str:
        sign, name, quoted, bare = m.groups()
        value = quoted if quoted is not None else bare
        term = _phrase(value, FIELDS[name.lower()], prefix=quoted is None, where=f"{name}:{value}")
        (excluded if sign and sign.strip() == "-" else required).append(term)
        return " "

    def take_quoted(m: re.Match[str]) -> str:
        sign, value = m.groups()
        if looks_like_image(value):
            return m.group(0)  # an image path in quotes: a semantic term
        term = _phrase(value, "text", prefix=False, where=f'"{value}"')
        (excluded if sign and sign.strip() == "-" else required).append(term)
        return " "

    rest = _QUOTED.sub(take_quoted, _FIELD_TERM.sub(take_field, text))
    rest = _drop_dangling_operators(rest)
    if not rest:
        return HybridQuery(text, None, (), tuple(required), tuple(excluded))
    parsed = parse_query(rest)
    plain: list[Term] = []
    for term in parsed.terms:
        if term.text is not None and term.weight > 0:
            plain.extend(plain_terms(term.text))
    unique = tuple({t.words: t for t in plain}.values())
    return HybridQuery(text, rest, unique, tuple(required), tuple(excluded))


def _drop_dangling_operators(text: str) -> str:
    """What is left once terms were taken out: '+' and '-' with no term after them go too."""
    ops = ("+", "-")
    kept: list[str] = []
    for token in text.split():
        if token in ops and kept and kept[-1] in ops:
            kept[-1] = token
            continue
        kept.append(token)
    while kept and kept[-1] in ops:
        kept.pop()
    while kept and kept[0] == "+":
        kept.pop(0)
    return " ".join(kept)


def _coverage(matches: tuple[Match, ...], wanted: set[tuple[str, ...]]) -> float:
    """The share of the query's informative words a photo has: a whole word counts 1, a word that only
    starts a longer one ("snow" in "Snowdonia") counts half."""
    whole = {tuple(t.split()) for m in matches for t in m.exact} & wanted
    started = ({tuple(t.split()) for m in matches for t in m.terms} & wanted) - whole
    return (len(whole) + 0.5 * len(started)) / len(wanted)


@dataclass
class _Candidate:
    id: int
    semantic_rank: int | None = None
    cosine: float | None = None
    score: float | None = None
    keyword: KeywordHit | None = None
    coverage: float = 1.0
    fused: float = 0.0
    matches: list[Match] = field(default_factory=list)


class HybridSearcher:
    """Meaning and words together. ``searcher`` may be None (no model yet): words alone then."""

    def __init__(self, catalog: Catalog, searcher: Searcher | None, keywords: KeywordIndex | None = None, *,
                 k: float = RRF_K, semantic_depth: int = SEMANTIC_DEPTH) -> None:
        self.catalog = catalog
        self.searcher = searcher
        self.keywords = keywords if keywords is not None else KeywordIndex(catalog)
        self.k = k
        self.semantic_depth = semantic_depth

    def similar(self, target: int | str, **kwargs: object) -> SearchResult:
        if self.searcher is None:
            raise QueryError("similar photos need a CLIP model; none is installed")
        return self.searcher.similar(target, **kwargs)  # type: ignore[arg-type]

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50, min_score: float | None = None,
               show_all: bool = False, place: str | None = None) -> SearchResult:
        """Ranked photos for ``query``; ``place`` narrows to photos taken there (as ``place:"..."`` would)."""
        start = time.perf_counter()
        if top < 1:
            raise QueryError("the number of results must be at least 1")
        parsed = parse_hybrid(query)
        if place is not None:
            parsed = HybridQuery(parsed.raw, parsed.semantic, parsed.words,
                                 (*parsed.required, _phrase(place, "place", prefix=False, where="the place")),
                                 parsed.excluded)
        self.keywords.refresh()
        # The filter goes into the keyword SQL as a condition: listing every photo it passes cost a
        # scan of the library per query.
        within = where_clause(self.catalog, filters) if filters is not None and filters.active else None
        banned = self._excluded(parsed)
        if parsed.semantic is None or self.searcher is None:
            hits = self._words_only(parsed, within, banned, top)
            return SearchResult(hits, 0, (time.perf_counter() - start) * 1000.0)
        if parsed.required:
            hits = self._within_required(parsed, within, banned, top, min_score)
            return SearchResult(hits, 0, (time.perf_counter() - start) * 1000.0)
        return self._fused(parsed, filters, within, banned, top, min_score, show_all, start)

    # -- the three kinds of query ------------------------------------------------------------

    def _words_only(self, parsed: HybridQuery, within: Condition | None, banned: set[int],
                    top: int) -> list[SearchHit]:
        terms = list(parsed.words)
        if not parsed.required:
            terms = self.keywords.informative(terms) or terms
        found = self.keywords.search(terms, parsed.required, limit=KEYWORD_DEPTH, within=within, exclude=banned)
        candidates = [_Candidate(h.id, keyword=h, matches=list(h.matches)) for h in found[:top]]
        for c in candidates:
            c.score, c.cosine = TEXT_ONLY_SCORE, 0.0
            c.fused = 1.0 / (self.k + c.keyword.rank)  # type: ignore[union-attr]
        return self._hits(candidates)

    def _within_required(self, parsed: HybridQuery, within: Condition | None, banned: set[int],
                         top: int, min_score: float | None = None) -> list[SearchHit]:
        """Photos that have the required words, ordered by meaning and by how well they match the words."""
        assert self.searcher is not None and parsed.semantic is not None
        both = self.keywords.search(parsed.words, parsed.required, limit=KEYWORD_DEPTH, within=within,
                                    exclude=banned) if parsed.words else []
        only = self.keywords.search((), parsed.required, limit=KEYWORD_DEPTH, within=within, exclude=banned)
        seen = {h.id for h in both}
        # photos that also have plain query words come first; the others follow in their own order
        found = both + [KeywordHit(h.id, len(both) + h.rank, h.relevance, h.matches) for h in only if h.id not in seen]
        if not found:
            return []
        candidates = {h.id: _Candidate(h.id, keyword=h, matches=list(h.matches)) for h in found}
        self._semantic_for(parsed.semantic, candidates, rank_all=True)
        return self._rank(_at_least(candidates.values(), min_score), top)

    def _fused(self, parsed: HybridQuery, filters: Filters | None, within: Condition | None, banned: set[int],
               top: int, min_score: float | None, show_all: bool, start: float) -> SearchResult:
        assert self.searcher is not None and parsed.semantic is not None
        depth = max(self.semantic_depth, 4 * top)
        semantic = self.searcher.search(parsed.semantic, filters=filters, top=depth, min_score=min_score,
                                        show_all=show_all, rows=False)  # rows are read for the fused top only
        candidates: dict[int, _Candidate] = {}
        for rank, hit in enumerate(semantic.hits, start=1):
            if hit.id not in banned:
                candidates[hit.id] = _Candidate(hit.id, rank, hit.cosine, hit.score)
        informative = self.keywords.informative(parsed.words)
        if informative:
            wanted = {t.words for t in informative}
            for hit in self.keywords.search(informative, limit=KEYWORD_DEPTH, within=within, exclude=banned):
                c = candidates.setdefault(hit.id, _Candidate(hit.id))
                c.keyword, c.matches = hit, list(hit.matches)
                c.coverage = _coverage(hit.matches, wanted)
            missing = {i: c for i, c in candidates.items() if c.score is None}
            if missing:
                self._semantic_for(parsed.semantic, missing, rank_all=False)
        hits = self._rank(_at_least(candidates.values(), min_score), top)
        # as the semantic searcher counts it: how many of the best `top` by meaning were left out,
        # less those that words brought back into the results
        shown_by_meaning = {h.id for h in semantic.hits}
        brought_back = sum(1 for h in hits if h.id not in shown_by_meaning)
        hidden = max(0, min(top, len(semantic.hits) + semantic.hidden) - len(semantic.hits) - brought_back)
        return SearchResult(hits, hidden, (time.perf_counter() - start) * 1000.0)

    # -- parts -------------------------------------------------------------------------------

    def _excluded(self, parsed: HybridQuery) -> set[int]:
        if not parsed.excluded:
            return set()
        return self.keywords.matching_ids(parsed.excluded)

    def _semantic_for(self, semantic: str, candidates: dict[int, _Candidate], *, rank_all: bool) -> None:
        """Cosines and calibrated scores for these photos; with ``rank_all``, their semantic ranks among
        themselves too (the required words already chose them)."""
        assert self.searcher is not None
        vector = self.searcher.query_vector(semantic)
        calibration = self.searcher.calibration(vector)  # also brings the vector index up to date
        ids = np.asarray(sorted(candidates), dtype=np.int64)
        found, cosines = self.searcher.index.search(vector, len(ids), allowed=ids,
                                                    excluded=dead_ids(self.catalog))
        scores = calibration.scores(cosines)
        for rank, (pid, cosine, score) in enumerate(zip(found.tolist(), cosines, scores, strict=True), start=1):
            c = candidates[int(pid)]
            c.cosine, c.score = float(cosine), float(score)
            if rank_all:
                c.semantic_rank = rank

    def _rank(self, candidates: Iterable[_Candidate], top: int) -> list[SearchHit]:
        chosen = list(candidates)
        for c in chosen:
            c.fused = (1.0 / (self.k + c.semantic_rank) if c.semantic_rank is not None else 0.0) + \
                      (c.coverage / (self.k + c.keyword.rank) if c.keyword is not None else 0.0)
        chosen.sort(key=lambda c: (-c.fused, -(c.score or 0.0), c.id))
        return self._hits(chosen[:top])

    def _hits(self, chosen: list[_Candidate]) -> list[SearchHit]:
        photos = self.catalog.photos([c.id for c in chosen])
        hits: list[SearchHit] = []
        for c in chosen:
            photo = photos.get(c.id)
            if photo is None:
                continue
            why = [str(m) for m in c.matches]
            if c.semantic_rank is not None and c.score is not None:
                why.append(f"meaning: {c.score:.2f}")
            matched = tuple(dict.fromkeys(w for m in c.matches for t in m.terms for w in t.split()))
            hits.append(HybridHit(c.id, photo.path, float(c.score or 0.0), float(c.cosine or 0.0), photo,
                                  why=tuple(why), words=matched, fused=c.fused, semantic_rank=c.semantic_rank,
                                  keyword_rank=c.keyword.rank if c.keyword else None))
        return hits


def _at_least(candidates: Iterable[_Candidate], min_score: float | None) -> list[_Candidate]:
    """An explicit minimum score holds for photos that words brought in too, not only for meaning."""
    if min_score is None:
        return list(candidates)
    return [c for c in candidates if c.score is not None and c.score >= min_score]
