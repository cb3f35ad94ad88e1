"""The keyword index: SQLite FTS5 over the words a photo can be found by besides its looks.

One row per photo (rowid = photo id) with five columns: ``text`` (lines read inside the photo),
``place`` (city, county, region, country), ``file`` (file name, then the folder names down from the
library folder), ``tags`` and ``albums``; values inside a column are separated by new lines so a match
can be explained by the one value it came from. The tokenizer is ``unicode61 remove_diacritics 2``
(letters and digits are words; "Café" is found by "cafe"), with prefix indexes for 2 and 3 characters.

Triggers in the schema queue a photo in ``keyword_dirty`` whenever anything it is indexed by changes
(added, renamed, new content, OCR or place stored, tagged, added to an album, a tag or album renamed);
``refresh()`` rebuilds those rows, so writers elsewhere never need to know this index exists.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from photoclip.store.catalog import LIVE_STATES, Catalog
from photoclip.store.pathtext import display

COLUMNS = ("text", "place", "file", "tags", "albums")
COLUMN_LABELS = {"text": "text", "place": "place", "file": "file", "tags": "tag", "albums": "album"}
# bm25 weight per column, in COLUMNS order: names in files are the noisiest evidence.
WEIGHTS = (1.0, 1.0, 0.7, 1.0, 1.0)
PREFIX_MIN = 3  # a word this long or longer also matches longer words it starts ("invo" -> "invoice")
REFRESH_BATCH = 500
# A plain word found in more than this share of a library tells nothing about the query ("img").
COMMON_SHARE = 0.25
COMMON_MIN_DOCS = 20
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "de", "del", "der", "des", "di", "die", "du", "en",
    "et", "for", "from", "in", "into", "is", "it", "la", "le", "les", "of", "on", "or", "the", "to", "with",
    "photo", "photos", "picture", "pictures", "image", "images", "img", "pic", "dsc", "jpg", "jpeg", "png",
    "heic",
})

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case without accents, as the tokenizer compares words."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, split where the FTS5 tokenizer splits."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Term:
    """Words to look for: a phrase (consecutive words) in one column or in any (``column`` None)."""

    words: tuple[str, ...]
    column: str | None = None
    prefix: bool = True  # the last word may be the start of a longer one

    def fts(self) -> str:
        phrase = '"' + " ".join(self.words) + '"'
        if self.prefix and len(self.words[-1]) >= PREFIX_MIN:
            phrase = f"({phrase} OR {phrase}*)"  # an exact match scores twice, so it ranks above a prefix
        return f"{self.column} : {phrase}" if self.column else phrase

    def matches(self, tokens: Sequence[str], *, exact: bool = False) -> bool:
        """Whether the words occur in ``tokens`` (the last one as a prefix too, unless ``exact``)."""
        n = len(self.words)
        for start in range(len(tokens) - n + 1):
            window = tokens[start:start + n]
            if all(a == b for a, b in zip(window[:-1], self.words[:-1], strict=True)):
                last, want = window[-1], self.words[-1]
                if last == want or (not exact and self.prefix and len(want) >= PREFIX_MIN
                                    and last.startswith(want)):
                    return True
        return False


@dataclass(frozen=True)
class Match:
    """Where a term was found: the column, the one value (line, place, file or folder name) holding it."""

    column: str
    label: str  # what to call the value: text, place, file, folder, tag, album
    value: str
    terms: tuple[str, ...]
    exact: tuple[str, ...] = ()  # the terms found as whole words, not only as the start of a longer one

    def __str__(self) -> str:
        return f"{self.label}: {_shorten(self.value)}"


@dataclass(frozen=True)
class KeywordHit:
    id: int
    rank: int  # 1 = best; photos with equal relevance share a rank
    relevance: float  # -bm25: higher is better
    matches: tuple[Match, ...]


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def plain_terms(text: str) -> list[Term]:
    """Terms for the words of a plain query: stop words dropped, each word on its own, any column."""
    return [Term((w,)) for w in dict.fromkeys(words(text)) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


class KeywordIndex:
    """Keeps the FTS5 table in step with the catalog and answers word queries from it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- keeping it current ------------------------------------------------------------------

    def pending(self) -> int:
        return self.catalog.read().execute("SELECT COUNT(*) FROM keyword_dirty").fetchone()[0]

    def refresh(self) -> int:
        """Rebuild the rows of every queued photo; returns how many were rebuilt."""
        done = 0
        if self.catalog.read().execute("SELECT 1 FROM keyword_dirty LIMIT 1").fetchone() is None:
            return done  # the usual case at search time: no write transaction at all
        while True:
            with self.catalog.write() as c:
                ids = [r[0] for r in c.execute("SELECT photo_id FROM keyword_dirty ORDER BY photo_id LIMIT ?",
                                               (REFRESH_BATCH,))]
                if not ids:
                    return done
                docs = _documents(c, ids)
                marks = ",".join("?" * len(ids))
                c.execute(f"DELETE FROM keywords WHERE rowid IN ({marks})", ids)
                c.executemany("INSERT INTO keywords(rowid, text, place, file, tags, albums) VALUES(?,?,?,?,?,?)",
                              [(pid, *doc) for pid, doc in docs.items()])
                c.execute(f"DELETE FROM keyword_dirty WHERE photo_id IN ({marks})", ids)
            done += len(ids)

    def rebuild(self) -> int:
        """Queue every photo and rebuild the whole index (after a repair or a tokenizer change)."""
        with self.catalog.write() as c:
            c.execute("DELETE FROM keywords")
            c.execute("INSERT OR IGNORE INTO keyword_dirty(photo_id) SELECT id FROM photos")
        return self.refresh()

    def document(self, photo_id: int) -> dict[str, str]:
        row = self.catalog.read().execute(
            "SELECT text, place, file, tags, albums FROM keywords WHERE rowid=?", (photo_id,)).fetchone()
        return dict(zip(COLUMNS, row, strict=True)) if row else {}

    # -- searching ---------------------------------------------------------------------------

    def count(self, term: Term) -> int:
        """How many photos a term matches."""
        return self.catalog.read().execute(
            "SELECT COUNT(*) FROM keywords WHERE keywords MATCH ?", (term.fts(),)).fetchone()[0]

    def informative(self, terms: Iterable[Term]) -> list[Term]:
        """The terms that single photos out. A word no photo has says nothing about words (it is left to
        meaning); in a library of some size, a word on a quarter or more of its photos (a camera's file
        prefix, the library folder's name) only adds noise to a ranking."""
        conn = self.catalog.read()
        try:  # one row per photo, like the index: counted from its b-tree, not by reading every document
            total = conn.execute("SELECT COUNT(*) FROM keywords_docsize").fetchone()[0]
        except sqlite3.OperationalError:
            total = conn.execute("SELECT COUNT(*) FROM keywords").fetchone()[0]
        cap = COMMON_SHARE * total if total >= COMMON_MIN_DOCS else total
        # counting stops one past the cap: a common word's matches need not all be read
        limit = math.floor(cap) + 1
        return [t for t in terms if 0 < conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM keywords WHERE keywords MATCH ? LIMIT ?)",
            (t.fts(), limit)).fetchone()[0] <= cap]

    def search(self, any_of: Sequence[Term] = (), all_of: Sequence[Term] = (), *, limit: int = 500,
               live_only: bool = True, within: tuple[str, Sequence[object]] | None = None,
               exclude: Iterable[int] = ()) -> list[KeywordHit]:
        """Photos matching every ``all_of`` term and, when given, at least one ``any_of`` term, best first.

        Relevance is FTS5's bm25 (more matched words, rarer words and shorter values rank higher).
        ``within`` (a search filter as an SQL condition on ``photos p`` with its parameters) and
        ``exclude`` (photos with excluded words) apply before ``limit``, so a filter never hides
        matches that rank below the library-wide top ``limit``.
        """
        if not any_of and not all_of:
            return []
        sql, params = self._match_sql("rowid, -bm25(keywords, " + ", ".join(str(w) for w in WEIGHTS)
                                      + ") AS relevance, text, place, file, tags, albums",
                                      any_of, all_of, live_only, within, exclude)
        sql += " ORDER BY relevance DESC, rowid LIMIT ?"
        params.append(int(limit))
        try:
            rows = self.catalog.read().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # a term the tokenizer reduced to nothing
            if "fts5" in str(exc) or "syntax" in str(exc):
                return []
            raise
        hits: list[KeywordHit] = []
        terms = [*all_of, *any_of]
        previous, rank = None, 0
        for position, (photo_id, relevance, *columns) in enumerate(rows, start=1):
            if previous is None or abs(relevance - previous) > 1e-9 * max(1.0, abs(relevance)):
                rank = position
            previous = relevance
            hits.append(KeywordHit(int(photo_id), rank, float(relevance), _explain(terms, columns)))
        return hits

    def matching_ids(self, any_of: Sequence[Term]) -> set[int]:
        """Every photo matching at least one term, without ranking or explanations (for exclusions)."""
        if not any_of:
            return set()
        sql, params = self._match_sql("rowid", any_of, (), False, None, ())
        try:
            return {r[0] for r in self.catalog.read().execute(sql, params)}
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc) or "syntax" in str(exc):
                return set()
            raise

    @staticmethod
    def _match_sql(columns: str, any_of: Sequence[Term], all_of: Sequence[Term], live_only: bool,
                   within: tuple[str, Sequence[object]] | None,
                   exclude: Iterable[int]) -> tuple[str, list[object]]:
        parts = [t.fts() for t in all_of]
        if any_of:
            parts.append("(" + " OR ".join(t.fts() for t in any_of) + ")")
        sql = f"SELECT {columns} FROM keywords WHERE keywords MATCH ?"
        params: list[object] = [" AND ".join(parts)]
        if live_only:
            sql += f" AND rowid IN (SELECT id FROM photos WHERE state IN ({','.join('?' * len(LIVE_STATES))}))"
            params += list(LIVE_STATES)
        if within is not None:
            condition, values = within
            sql += f" AND rowid IN (SELECT p.id FROM photos p WHERE {condition})"
            params += list(values)
        excluded = _id_list(exclude)
        if excluded != "[]":
            sql += " AND rowid NOT IN (SELECT value FROM json_each(?))"
            params.append(excluded)
        return sql, params


def _id_list(ids: Iterable[int]) -> str:
    return json.dumps([int(i) for i in ids])


def _explain(terms: Sequence[Term], columns: Sequence[str]) -> tuple[Match, ...]:
    """Which value of which column each term was found in (its first such value per column)."""
    found: dict[tuple[str, str, str], dict[str, bool]] = {}
    for name, content in zip(COLUMNS, columns, strict=True):
        values = (content or "").split("\n")
        for term in terms:
            if term.column not in (None, name):
                continue
            key, tokens = None, None
            for index, value in enumerate(values):
                tokens = words(value)
                if term.matches(tokens):
                    label = "folder" if name == "file" and index > 0 else COLUMN_LABELS[name]
                    key = (name, label, value)
                    break
            if key is None and len(term.words) > 1 and term.matches(words(content or "")):
                # a phrase may run from one line of text to the next
                tokens = words(content or "")
                key = (name, COLUMN_LABELS[name], " ".join(v for v in values if set(words(v)) & set(term.words)))
            if key is not None and tokens is not None:
                found.setdefault(key, {})[" ".join(term.words)] = term.matches(tokens, exact=True)
    return tuple(Match(column, label, value, tuple(ts), tuple(t for t, whole in ts.items() if whole))
                 for (column, label, value), ts in found.items())


def _documents(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[str, str, str, str, str]]:
    """The five column values of each photo that still exists."""
    marks = ",".join("?" * len(ids))
    photos = conn.execute(f"SELECT p.id, p.path, f.path FROM photos p LEFT JOIN folders f ON f.id = p.folder_id "
                          f"WHERE p.id IN ({marks})", ids).fetchall()
    text: dict[int, list[str]] = {}
    for pid, line in conn.execute(f"SELECT photo_id, text FROM ocr_lines WHERE photo_id IN ({marks}) "
                                  "ORDER BY photo_id, line_no", ids):
        text.setdefault(pid, []).append(line)
    place: dict[int, list[str]] = {}
    for pid, *names in conn.execute(f"SELECT photo_id, city, county, region, country, country_code FROM places "
                                    f"WHERE photo_id IN ({marks}) AND lat IS NOT NULL", ids):
        seen: list[str] = []
        for name in names:
            if name and all(fold(name) != fold(s) for s in seen):
                seen.append(name)
        place[pid] = seen
    tags: dict[int, list[str]] = {}
    for pid, name in conn.execute(f"SELECT pt.photo_id, t.name FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id "
                                  f"WHERE pt.photo_id IN ({marks}) AND pt.rejected = 0 ORDER BY t.name", ids):
        tags.setdefault(pid, []).append(name)
    albums: dict[int, list[str]] = {}
    for pid, name in conn.execute(f"SELECT ap.photo_id, a.name FROM album_photos ap JOIN albums a ON "
                                  f"a.id = ap.album_id WHERE ap.photo_id IN ({marks}) AND ap.source != 'excluded' "
                                  "ORDER BY a.name", ids):
        albums.setdefault(pid, []).append(name)
    out = {}
    for pid, path, folder in photos:
        out[pid] = ("\n".join(text.get(pid, ())), "\n".join(place.get(pid, ())), "\n".join(_file_values(path, folder)),
                    "\n".join(tags.get(pid, ())), "\n".join(albums.get(pid, ())))
    return out


def _file_values(path: str, folder: str | None) -> list[str]:
    """The file name, then each folder from the photo's own up to (and including) the library folder."""
    p = PurePath(display(path))  # a name that is not UTF-8 is indexed as it is shown
    values = [p.name]
    stop = PurePath(display(folder)).parent if folder else None
    for parent in p.parents:
        if (stop is not None and parent == stop) or not parent.name:
            break
        values.append(parent.name)
    return values
