"""One search box over meaning and words: CLIP ranks and keyword ranks fused, each hit saying why it matched.

A plain query runs twice: through CLIP (the semantic searcher) and through the keyword index (its words,
stop words and words found on most of the library left out). Each photo's score joins the two kinds of
evidence, and that score is what orders the results (the number shown is the number that sorts)::

    score(photo) = 1 - (1 - meaning) * (1 - WORD_SCORE * coverage ** 2)

``meaning`` is the calibrated CLIP score (``photoclip.search.calibration``), ``coverage`` the share of
the query's informative words the photo has (a word that only starts a longer one counts half;
squared, so half the words earn a quarter); words no photo has ("red", "beach") are left to meaning
and do not count, nor do words on a quarter or more of a library. So a photo showing every
informative word of the query scores at least ``WORD_SCORE``, one with both the words and the looks
scores above either alone, and a query none of whose words occur anywhere scores exactly as CLIP
alone does. ``why`` says what contributed ("file: red_circle", "meaning: 0.81").

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from photoclip.errors import QueryError
from photoclip.search import dates
from photoclip.search.filters import Condition, Filters, where_clause
from photoclip.search.keywords import KeywordHit, KeywordIndex, Match, Term, plain_terms, words
from photoclip.search.query import looks_like_image, parse_query
from photoclip.search.searcher import Searcher, SearchHit, SearchResult
from photoclip.store.catalog import Catalog

SEMANTIC_DEPTH = 200  # photos scored by meaning: at least this many, or 4 x the results asked for
KEYWORD_DEPTH = 1000
FIELDS = {"place": "place", "text": "text", "file": "file"}
TEXT_ONLY_SCORE = 1.0  # the score of a hit found by its words alone: every such hit has them all
WORD_SCORE = 0.5  # the score a photo's words alone earn when it has every informative query word (coverage squared)

_FIELD_TERM = re.compile(r'(?:(?<=\s)|^)([+-]\s*)?(place|text|file):(?:"([^"]*)"|(\S+))', re.IGNORECASE)
_QUOTED = re.compile(r'(?:(?<=\s)|^)([+-]\s*)?"([^"]*)"')


@dataclass(frozen=True)
class HybridHit(SearchHit):
    """A search hit with the reasons it matched: ``why`` lines such as "text: INVOICE 2024",
    "place: Porto" or "meaning: 0.81", and the query ``words`` it matched (to highlight)."""

    why: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    meaning: float | None = None  # the calibrated CLIP score alone, when meaning was scored
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


@dataclass(frozen=True)
class _Ask:
    """What one search asks beyond its words, handed down its calls (never kept on the shared searcher, which
    the app's search workers use at once): example photos and the query language."""

    like: tuple[int, ...] = ()
    unlike: tuple[int, ...] = ()
    language: str | None = None


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
                 semantic_depth: int = SEMANTIC_DEPTH) -> None:
        self.catalog = catalog
        self.searcher = searcher
        self.keywords = keywords if keywords is not None else KeywordIndex(catalog)
        self.semantic_depth = semantic_depth

    def similar(self, target: int | str, **kwargs: object) -> SearchResult:
        if self.searcher is None:
            raise QueryError("similar photos need a CLIP model; none is installed")
        return self.searcher.similar(target, **kwargs)  # type: ignore[arg-type]

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50, min_score: float | None = None,
               show_all: bool = False, place: str | None = None, like: Sequence[int] = (),
               unlike: Sequence[int] = (), language: str | None = None) -> SearchResult:
        """Ranked photos for ``query``; ``place`` narrows to photos taken there (as ``place:"..."`` would);
        ``language`` is the query's language for models that take one."""
        start = time.perf_counter()
        if top < 1:
            raise QueryError("the number of results must be at least 1")
        query, span = dates.extract(query)
        if span is not None:
            filters = _within_span(filters, span)
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
        ask = _Ask(tuple(like), tuple(unlike), language)
        if parsed.semantic is None or self.searcher is None:
            hits = self._words_only(parsed, within, banned, top)
            result = SearchResult(hits, 0, (time.perf_counter() - start) * 1000.0)
        elif parsed.required:
            hits = self._within_required(parsed, within, banned, top, min_score, ask)
            result = SearchResult(hits, 0, (time.perf_counter() - start) * 1000.0)
        else:
            result = self._fused(parsed, filters, within, banned, top, min_score, show_all, start, ask)
        result.dates = span
        return result

    # -- the three kinds of query ------------------------------------------------------------

    def _words_only(self, parsed: HybridQuery, within: Condition | None, banned: set[int],
                    top: int) -> list[SearchHit]:
        terms = list(parsed.words)
        if not parsed.required:
            terms = self.keywords.informative(terms) or terms
        found = self.keywords.search(terms, parsed.required, limit=KEYWORD_DEPTH, within=within, exclude=banned)
        candidates = [_Candidate(h.id, keyword=h, matches=list(h.matches)) for h in found[:top]]
        for c in candidates:
            c.cosine, c.fused = 0.0, TEXT_ONLY_SCORE
        return self._hits(candidates)

    def _within_required(self, parsed: HybridQuery, within: Condition | None, banned: set[int],
                         top: int, min_score: float | None, ask: _Ask) -> list[SearchHit]:
        """Photos that have the required words, ordered by meaning and by how well they match the words."""
        assert self.searcher is not None and parsed.semantic is not None
        both = self.keywords.search(parsed.words, parsed.required, limit=KEYWORD_DEPTH, within=within,
                                    exclude=banned) if parsed.words else []
        only = self.keywords.search((), parsed.required, limit=KEYWORD_DEPTH, within=within, exclude=banned)
        seen = {h.id for h in both}
        found = both + [KeywordHit(h.id, len(both) + h.rank, h.relevance, h.matches) for h in only if h.id not in seen]
        if not found:
            return []
        wanted = {t.words for t in parsed.words}
        candidates = {h.id: _Candidate(h.id, keyword=h, matches=list(h.matches),
                                       coverage=_coverage(h.matches, wanted) if wanted else 0.0) for h in found}
        self._semantic_for(parsed.semantic, candidates, ask)
        ranked = self._rank(candidates.values())
        return self._hits([c for c in ranked if min_score is None or c.fused >= min_score][:top])

    def _fused(self, parsed: HybridQuery, filters: Filters | None, within: Condition | None, banned: set[int],
               top: int, min_score: float | None, show_all: bool, start: float, ask: _Ask) -> SearchResult:
        assert self.searcher is not None and parsed.semantic is not None
        depth = max(self.semantic_depth, 4 * top)
        # ``depth`` is already a few times ``top``: the meaning pass scores that many, not a wider pool again.
        semantic = self.searcher.search(parsed.semantic, filters=filters, top=depth, show_all=True, like=ask.like,
                                        unlike=ask.unlike, rows=False,  # rows are read for the fused top only
                                        language=ask.language, pool=depth)
        candidates: dict[int, _Candidate] = {}
        for rank, hit in enumerate(semantic.hits, start=1):
            if hit.id not in banned:
                candidates[hit.id] = _Candidate(hit.id, rank, hit.cosine, hit.score, coverage=0.0)
        informative = self.keywords.informative(parsed.words)
        if informative:
            wanted = {t.words for t in informative}
            for hit in self.keywords.search(informative, limit=KEYWORD_DEPTH, within=within, exclude=banned):
                c = candidates.setdefault(hit.id, _Candidate(hit.id, coverage=0.0))
                c.keyword, c.matches = hit, list(hit.matches)
                c.coverage = _coverage(hit.matches, wanted)
            missing = {i: c for i, c in candidates.items() if c.score is None}
            if missing:
                self._semantic_for(parsed.semantic, missing, ask)
        ranked = self._rank(candidates.values())[:top]
        threshold = self.searcher.threshold(min_score, show_all)
        shown = [c for c in ranked if threshold is None or c.fused >= threshold]
        result = SearchResult(self._hits(shown), len(ranked) - len(shown), (time.perf_counter() - start) * 1000.0)
        result.unknown = semantic.unknown
        return result

    # -- parts -------------------------------------------------------------------------------

    def _excluded(self, parsed: HybridQuery) -> set[int]:
        if not parsed.excluded:
            return set()
        return self.keywords.matching_ids(parsed.excluded)

    def _semantic_for(self, semantic: str, candidates: dict[int, _Candidate], ask: _Ask) -> None:
        """Cosines and calibrated scores for these photos, scored as the semantic search scores them."""
        assert self.searcher is not None
        ids = np.asarray(sorted(candidates), dtype=np.int64)
        cosines, scores = self.searcher.score_photos(semantic, ids, like=ask.like, unlike=ask.unlike,
                                                     language=ask.language)
        for pid, cosine, score in zip(ids.tolist(), cosines.tolist(), scores.tolist(), strict=True):
            c = candidates[int(pid)]
            c.cosine, c.score = float(cosine), float(score)

    def _rank(self, candidates: Iterable[_Candidate]) -> list[_Candidate]:
        """Best first by the joined score, which is also the score shown."""
        chosen = list(candidates)
        for c in chosen:
            words = WORD_SCORE * c.coverage ** 2 if c.keyword is not None else 0.0
            c.fused = 1.0 - (1.0 - (c.score or 0.0)) * (1.0 - words)
        # Equal scores (both saturated near 1, say): more of the query's words, then meaning, first.
        chosen.sort(key=lambda c: (-round(c.fused, 6), -(c.coverage if c.keyword else 0.0), -(c.score or 0.0), c.id))
        return chosen

    def _hits(self, chosen: list[_Candidate]) -> list[SearchHit]:
        photos = self.catalog.photos([c.id for c in chosen])
        hits: list[SearchHit] = []
        for c in chosen:
            photo = photos.get(c.id)
            if photo is None:
                continue
            why = [str(m) for m in c.matches]
            if c.score is not None:
                why.append(f"meaning: {c.score:.2f}")
            matched = tuple(dict.fromkeys(w for m in c.matches for t in m.terms for w in t.split()))
            hits.append(HybridHit(c.id, photo.path, float(c.fused), float(c.cosine or 0.0), photo,
                                  why=tuple(why), words=matched, meaning=c.score, semantic_rank=c.semantic_rank,
                                  keyword_rank=c.keyword.rank if c.keyword else None))
        return hits


def _within_span(filters: Filters | None, span: dates.DateSpan) -> Filters:
    """The filters narrowed to a date span named in the query (the narrower bound wins)."""
    base = filters or Filters()
    after = max(span.after, base.after) if base.after else span.after
    before = min(span.before, base.before) if base.before else span.before
    return replace(base, after=after, before=before)
