"""Zero-shot auto-tagging, calibrated exactly as search is, judged against rival tags, never guessed.

Each tag's prompts are embedded once per model (cached in ``text_vectors``), averaged and normalised.
A tag's confidence on a photo is the search score of that text on that photo
(``photoclip.search.calibration``): its margin over the best neutral or nonsense caption on the same
photo, through the model's constants. So a tag at 0.9 and a search hit at 0.9 mean the same thing.

A tag is applied when all of these hold:

- the model knows its words: a tag whose prompt vector comes as close to made-up captions as those
  come to each other is *unavailable* for that model (``tags list`` says so) and never applied;
- its confidence reaches its threshold: the user's, else the one learnt from this library's accepted
  and rejected decisions, else the vocabulary's default;
- it beats its rivals: tags of the same rival group in ``tags.json`` ("dog", "wolf", "fox") compete,
  and only the one closest to the photo may be applied.

At most ``top_k`` auto tags per photo, best first. Manual decisions win: an accepted tag (source
``manual``) is kept, and a rejected one (``rejected=1``) stays in the table so auto-tagging never
applies it to that photo again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from photoclip.engine.protocol import Embedder
from photoclip.errors import NotFoundError
from photoclip.jobs import CancelToken, ProgressSink, ProgressTracker, null_sink
from photoclip.organize.tag_model import (
    TagModel,
    build,
    decide,
    rival_winners,
)
from photoclip.organize.vocabulary import (
    VocabularyError,
    clean_name,
    clean_prompts,
    ensure_vocabulary,
    load_vocabulary,
)
from photoclip.store.catalog import SQL_CHUNK, Catalog

FINGERPRINT_KEY = "tags.applied."  # + model name: the vocabulary the stored auto tags were made with
BATCH = SQL_CHUNK  # photos written per transaction, as many as one IN (...) list holds


@dataclass(frozen=True)
class TagInfo:
    name: str
    prompts: list[str]
    threshold: float  # effective threshold (the user's, else learnt from decisions, else the default)
    builtin: bool
    enabled: bool
    count: int  # live photos carrying the tag (auto or accepted, not rejected)
    custom_threshold: bool = False
    available: bool | None = None  # False: the active model cannot tell it from nonsense; None: no model
    learned: bool = False  # the threshold was learnt from this library's accepted and rejected tags


@dataclass(frozen=True)
class PhotoTag:
    name: str
    score: float | None  # the calibrated confidence (the search score of the tag's text on the photo)
    source: str  # "auto" or "manual"
    rejected: bool

    @property
    def origin(self) -> str:
        """How the tag got there: auto, accepted (an auto tag a person confirmed), added, or rejected."""
        if self.rejected:
            return "rejected"
        if self.source == "auto":
            return "auto"
        return "accepted" if self.score is not None else "added"


@dataclass(frozen=True)
class ReviewItem:
    photo_id: int
    path: str
    name: str
    score: float
    threshold: float


def _tag_row(conn: sqlite3.Connection, name: str) -> tuple[int, str, float | None, int, int]:
    row = conn.execute("SELECT id, name, threshold, builtin, enabled FROM tags WHERE name=?",
                       (clean_name(name),)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no tag named '{name}'")
    return row


def list_tags(catalog: Catalog, embedder: Embedder | None = None) -> list[TagInfo]:
    """Every tag; with an embedder, whether the model knows it and the thresholds learnt for it."""
    ensure_vocabulary(catalog)
    default = load_vocabulary().default_threshold
    counts = tag_counts(catalog)
    available: dict[int, bool] = {}
    learned: dict[int, float] = {}
    if embedder is not None:
        model = build(catalog, embedder, enabled_only=False)
        available = dict(zip(model.tag_ids.tolist(), model.available.tolist(), strict=True))
        learned = {int(t): float(v) for t, v, m in zip(model.tag_ids, model.thresholds, model.learned, strict=True)
                   if m}
    rows = catalog.read().execute(
        "SELECT id, name, prompts, threshold, builtin, enabled FROM tags ORDER BY name COLLATE NOCASE")
    out = []
    for tag_id, name, prompts, thr, builtin, enabled in rows:
        effective = thr if thr is not None else learned.get(tag_id, default)
        out.append(TagInfo(name, json.loads(prompts), effective, bool(builtin), bool(enabled), counts.get(name, 0),
                           thr is not None, available.get(tag_id) if embedder is not None else None,
                           thr is None and tag_id in learned))
    return out


def tag_counts(catalog: Catalog) -> dict[str, int]:
    """Live photos per tag (auto or accepted, not rejected); tags with none are left out."""
    rows = catalog.read().execute(
        "SELECT t.name, COUNT(*) FROM photo_tags pt JOIN tags t ON t.id=pt.tag_id "
        "JOIN photos p ON p.id=pt.photo_id AND p.state IN ('ok','pending') "
        "WHERE pt.rejected=0 GROUP BY t.id")
    return {name: n for name, n in rows}


def _check_threshold(threshold: float | None) -> float | None:
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise VocabularyError(f"a tag threshold is a score between 0 and 1, not {threshold}")
    return None if threshold is None else float(threshold)


def add_tag(catalog: Catalog, name: str, prompts: Sequence[str] | None = None,
            threshold: float | None = None) -> TagInfo:
    """Add a user tag; with no prompts it gets "a photo of NAME."."""
    ensure_vocabulary(catalog)
    clean = clean_name(name)
    prompt_list = clean_prompts(prompts, clean)
    thr = _check_threshold(threshold)
    with catalog.write() as c:
        if c.execute("SELECT 1 FROM tags WHERE name=?", (clean,)).fetchone():
            raise VocabularyError(f"a tag named '{clean}' already exists")
        c.execute("INSERT INTO tags(name, prompts, threshold, builtin, enabled, created_at) "
                  "VALUES(?, ?, ?, 0, 1, ?)", (clean, json.dumps(prompt_list), thr, time.time()))
    return _info(catalog, clean)


def _info(catalog: Catalog, name: str) -> TagInfo:
    wanted = clean_name(name).casefold()
    for info in list_tags(catalog):
        if info.name.casefold() == wanted:
            return info
    raise NotFoundError(f"there is no tag named '{name}'")


def remove_tag(catalog: Catalog, name: str) -> None:
    """Delete a tag and every decision about it (a removed built-in tag is not seeded again)."""
    ensure_vocabulary(catalog)
    with catalog.write() as c:
        tag_id = _tag_row(c, name)[0]
        c.execute("DELETE FROM tags WHERE id=?", (tag_id,))


def set_threshold(catalog: Catalog, name: str, threshold: float | None) -> None:
    """Set a tag's own threshold (None: back to the default); run ``retag_all`` to apply it."""
    ensure_vocabulary(catalog)
    thr = _check_threshold(threshold)
    with catalog.write() as c:
        c.execute("UPDATE tags SET threshold=? WHERE id=?", (thr, _tag_row(c, name)[0]))


def set_prompts(catalog: Catalog, name: str, prompts: Sequence[str]) -> None:
    """Replace a tag's prompt ensemble; run ``retag_all`` to apply it."""
    ensure_vocabulary(catalog)
    prompt_list = clean_prompts(prompts, name)
    with catalog.write() as c:
        c.execute("UPDATE tags SET prompts=? WHERE id=?", (json.dumps(prompt_list), _tag_row(c, name)[0]))


def set_enabled(catalog: Catalog, name: str, enabled: bool) -> None:
    """Disabling a tag drops its auto tags at once; manual decisions are kept."""
    ensure_vocabulary(catalog)
    with catalog.write() as c:
        tag_id = _tag_row(c, name)[0]
        c.execute("UPDATE tags SET enabled=? WHERE id=?", (int(enabled), tag_id))
        if not enabled:
            c.execute("DELETE FROM photo_tags WHERE tag_id=? AND source='auto' AND rejected=0", (tag_id,))


# -- manual decisions -------------------------------------------------------------------------


def tag_id_for_decision(conn: sqlite3.Connection, name: str) -> int:
    """A tag to record a manual decision on; an unknown name becomes a user tag."""
    clean = clean_name(name)
    row = conn.execute("SELECT id FROM tags WHERE name=?", (clean,)).fetchone()
    if row:
        return row[0]
    cur = conn.execute("INSERT INTO tags(name, prompts, threshold, builtin, enabled, created_at) "
                       "VALUES(?, ?, NULL, 0, 1, ?)", (clean, json.dumps(clean_prompts(None, clean)),
                                                     time.time()))
    assert cur.lastrowid is not None
    return cur.lastrowid


def _decide(catalog: Catalog, photo_id: int, name: str, rejected: bool) -> None:
    ensure_vocabulary(catalog)
    catalog.photo(photo_id)  # NotFoundError for an unknown photo
    with catalog.write() as c:
        tag_id = tag_id_for_decision(c, name)
        c.execute("INSERT INTO photo_tags(photo_id, tag_id, score, source, rejected, updated_at) "
                  "VALUES(?, ?, NULL, 'manual', ?, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET "
                  "source='manual', rejected=excluded.rejected, updated_at=excluded.updated_at",
                  (photo_id, tag_id, int(rejected), time.time()))


def accept_tag(catalog: Catalog, photo_id: int, name: str) -> None:
    """Confirm (or add) a tag on a photo; re-tagging never removes it."""
    _decide(catalog, photo_id, name, rejected=False)


def reject_tag(catalog: Catalog, photo_id: int, name: str) -> None:
    """Refuse a tag on a photo; auto-tagging never applies it to that photo again."""
    _decide(catalog, photo_id, name, rejected=True)


def forget_decision(catalog: Catalog, photo_id: int, name: str) -> None:
    """Drop a manual accept or reject, handing the pair back to auto-tagging."""
    with catalog.write() as c:
        tag_id = _tag_row(c, name)[0]
        c.execute("DELETE FROM photo_tags WHERE photo_id=? AND tag_id=? AND source='manual'",
                  (photo_id, tag_id))


def photo_tags(catalog: Catalog, photo_id: int, *, include_rejected: bool = True) -> list[PhotoTag]:
    """A photo's tags: manual ones first, then auto tags best first."""
    sql = ("SELECT t.name, pt.score, pt.source, pt.rejected FROM photo_tags pt JOIN tags t ON t.id=pt.tag_id "
           "WHERE pt.photo_id=?")
    if not include_rejected:
        sql += " AND pt.rejected=0"
    sql += " ORDER BY pt.source='auto', pt.rejected, pt.score DESC, t.name COLLATE NOCASE"
    return [PhotoTag(n, s, src, bool(r)) for n, s, src, r in catalog.read().execute(sql, (photo_id,))]


def review_queue(catalog: Catalog, tag: str | None = None, limit: int = 50) -> list[ReviewItem]:
    """Auto tags least sure first (lowest calibrated confidence), for a person to accept or reject."""
    ensure_vocabulary(catalog)
    default = load_vocabulary().default_threshold
    sql = ("SELECT pt.photo_id, p.path, t.name, pt.score, COALESCE(t.threshold, ?) AS thr "
           "FROM photo_tags pt JOIN tags t ON t.id=pt.tag_id "
           "JOIN photos p ON p.id=pt.photo_id AND p.state IN ('ok','pending') "
           "WHERE pt.source='auto' AND pt.rejected=0 AND pt.score IS NOT NULL")
    params: list[object] = [default]
    if tag is not None:
        sql += " AND t.id=?"
        params.append(_tag_row(catalog.read(), tag)[0])
    sql += " ORDER BY pt.score, pt.photo_id LIMIT ?"
    params.append(int(limit))
    return [ReviewItem(*row) for row in catalog.read().execute(sql, params)]


def _apply(conn: sqlite3.Connection, model: TagModel, ids: np.ndarray, vectors: np.ndarray) -> int:
    """Replace the auto tags of these photos inside the caller's transaction; returns tags written."""
    if len(ids) == 0:
        return 0
    id_list = [int(i) for i in ids]
    marks = ",".join("?" * len(id_list))
    # Manual rows (accepted or rejected) are never candidates: they keep the decision a person made.
    decided: set[tuple[int, int]] = set(conn.execute(
        f"SELECT photo_id, tag_id FROM photo_tags WHERE source='manual' AND photo_id IN ({marks})",
        id_list).fetchall())
    conn.execute(f"DELETE FROM photo_tags WHERE source='auto' AND rejected=0 AND photo_id IN ({marks})",
                 id_list)
    if len(model.tag_ids) == 0 or model.top_k <= 0:
        return 0
    scores, passing = decide(model, vectors)
    now = time.time()
    rows = []
    for row, photo_id in enumerate(id_list):
        cols = np.flatnonzero(passing[row])
        kept = 0
        for col in cols[np.argsort(-scores[row, cols], kind="stable")]:
            tag_id = int(model.tag_ids[col])
            if (photo_id, tag_id) in decided:
                continue
            rows.append((photo_id, tag_id, float(scores[row, col]), now))
            kept += 1
            if kept >= model.top_k:
                break
    conn.executemany("INSERT INTO photo_tags(photo_id, tag_id, score, source, rejected, updated_at) "
                     "VALUES(?, ?, ?, 'auto', 0, ?) ON CONFLICT(photo_id, tag_id) DO NOTHING", rows)
    return len(rows)


def threshold_change(catalog: Catalog, embedder: Embedder, name: str, threshold: float | None
                     ) -> tuple[int, int]:
    """How many photos a new threshold for a tag would (add, remove), before applying it.

    Counted over live photos with a vector, as a re-tagging would decide them (rivals, availability
    and manual decisions included; the per-photo limit is left aside)."""
    ensure_vocabulary(catalog)
    thr = _check_threshold(threshold)
    tag_id = _tag_row(catalog.read(), name)[0]
    model = build(catalog, embedder, enabled_only=False)
    col = int(np.flatnonzero(model.tag_ids == tag_id)[0])
    ids, vectors = catalog.vectors(embedder.model_name, live_only=True)
    if len(ids) == 0:
        return 0, 0
    scores, passing = decide(model, vectors)
    new_threshold = thr if thr is not None else load_vocabulary().default_threshold
    manual = {r[0] for r in catalog.read().execute(
        "SELECT photo_id FROM photo_tags WHERE tag_id=? AND source='manual'", (tag_id,))}
    free = np.array([int(i) not in manual for i in ids], dtype=bool)
    now = passing[:, col] & free
    after = (scores[:, col] >= new_threshold) & bool(model.available[col]) & \
        rival_winners(model, vectors)[:, col] & free
    return int((after & ~now).sum()), int((now & ~after).sum())


def tag_photos(catalog: Catalog, embedder: Embedder, photo_ids: Iterable[int], *,
               top_k: int | None = None, vectors: Mapping[int, np.ndarray] | None = None) -> int:
    """Auto-tag newly indexed photos; returns the number of tags applied.

    ``vectors`` are the ones the pipeline just stored, handed on so they need not be read back; the
    others come from the catalog. Photos with no vector for the embedder's model are left alone.
    """
    wanted = sorted({int(i) for i in photo_ids})
    if not wanted:
        return 0
    model = build(catalog, embedder, top_k=top_k)
    ids, matrix = _vectors_for(catalog, embedder.model_name, wanted, vectors or {})
    written = 0
    for start in range(0, len(ids), BATCH):
        with catalog.write() as c:
            written += _apply(c, model, ids[start:start + BATCH], matrix[start:start + BATCH])
    return written


def _vectors_for(catalog: Catalog, model_name: str, wanted: list[int],
                 given: Mapping[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of the wanted photos in id order: the given ones as they are, the rest from the catalog."""
    rest = [i for i in wanted if i not in given]
    ids, vectors = catalog.vectors_of(model_name, rest) if rest else (np.zeros(0, np.int64), None)
    if not given:
        return ids, vectors
    found = {int(i): v for i, v in zip(ids, vectors, strict=True)} if vectors is not None else {}
    found.update((i, np.asarray(given[i], dtype=np.float32)) for i in wanted if i in given)
    order = sorted(found)
    return np.asarray(order, dtype=np.int64), np.stack([found[i] for i in order])


def retag_all(catalog: Catalog, embedder: Embedder, *, progress: ProgressSink = null_sink,
              cancel: CancelToken | None = None, top_k: int | None = None) -> int:
    """Re-decide every live photo's auto tags from stored vectors (no image is read or embedded).

    Run after the vocabulary, prompts or thresholds change. Commits per batch: on cancel, the
    batches done are kept and ``needs_retag`` stays true.
    """
    model = build(catalog, embedder, top_k=top_k)
    with catalog.write() as c:
        c.execute("DELETE FROM photo_tags WHERE source='auto' AND rejected=0 AND tag_id IN "
                  "(SELECT id FROM tags WHERE enabled=0)")
    ids, vectors = catalog.vectors(embedder.model_name, live_only=True)
    tracker = ProgressTracker(progress, "tagging", total=len(ids))
    tracker.emit()
    written = 0
    for start in range(0, len(ids), BATCH):
        if cancel is not None:
            cancel.raise_if_cancelled()
        with catalog.write() as c:
            written += _apply(c, model, ids[start:start + BATCH], vectors[start:start + BATCH])
        tracker.advance(len(ids[start:start + BATCH]))
    tracker.emit()
    catalog.set_meta(FINGERPRINT_KEY + embedder.model_name, model.fingerprint)
    return written


def needs_retag(catalog: Catalog, embedder: Embedder, top_k: int | None = None) -> bool:
    """True when the vocabulary, prompts, thresholds or tags-per-photo limit changed since the last
    full re-tagging."""
    applied = catalog.get_meta(FINGERPRINT_KEY + embedder.model_name)
    return applied != build(catalog, embedder, top_k=top_k).fingerprint
