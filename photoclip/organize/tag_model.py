"""The auto-tagging model of one embedder: each tag's prompt vector, its effective threshold (the user's, one
learnt from this library's decisions, or the default), whether the model knows its words, its rivals, and
the calibration shared with search; and the decision rule applied to photo vectors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photoclip.engine import prompt_cache
from photoclip.engine.protocol import Embedder
from photoclip.errors import QueryError
from photoclip.organize.vocabulary import TEMPLATE, Vocabulary, VocabularyError, ensure_vocabulary, load_vocabulary
from photoclip.search.calibration import Calibrator, constants_for, reference_prompts
from photoclip.store.catalog import Catalog, chunked, vector_to_blob

FINGERPRINT_KEY = "tags.applied."  # + model name: the vocabulary the stored auto tags were made with
LEARN_MIN, LEARN_MAX = 0.05, 0.99  # a threshold learnt from decisions stays inside these


@dataclass(frozen=True)
class TagModel:
    """Everything needed to decide tags on vectors: one row per tag, the rivals and the calibration."""

    tag_ids: np.ndarray  # (T,) int64
    matrix: np.ndarray  # (T, dim) normalised mean prompt vectors
    thresholds: np.ndarray  # (T,) effective thresholds
    learned: np.ndarray  # (T,) bool: the threshold was learnt from decisions
    available: np.ndarray  # (T,) bool: the model tells the tag from nonsense
    rival_of: np.ndarray  # (T,) int: rival group index, -1 for none
    calibrator: Calibrator
    top_k: int
    fingerprint: str


def text_vectors(catalog: Catalog, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of texts, embedded only when not yet cached for this model."""
    unique = list(dict.fromkeys(texts))
    model_id = catalog.model_id(embedder.model_name, embedder.dim)
    cached: dict[str, np.ndarray] = {}
    conn = catalog.read()
    for chunk in chunked(unique):
        marks = ",".join("?" * len(chunk))
        for text, blob in conn.execute(
                f"SELECT text, vector FROM text_vectors WHERE model_id=? AND text IN ({marks})",
                [model_id, *chunk]):
            vec = np.frombuffer(blob, dtype="<f4")
            if len(vec) == embedder.dim:
                cached[text] = vec
    missing = [t for t in unique if t not in cached]
    if missing:
        def embed(to_embed: list[str]) -> dict[str, np.ndarray]:
            try:
                vectors = np.asarray(embedder.embed_texts(to_embed), dtype=np.float32)
            except QueryError as exc:
                raise VocabularyError(f"a tag prompt cannot be embedded: {exc}") from exc
            return dict(zip(to_embed, vectors, strict=True))

        # another library on this computer may have embedded them with the same text tower
        got = prompt_cache.through_cache(embedder, missing, embed)
        with catalog.write() as c:
            c.executemany("INSERT OR REPLACE INTO text_vectors(model_id, text, vector) VALUES(?, ?, ?)",
                          [(model_id, t, vector_to_blob(got[t])) for t in missing])
        cached.update(got)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([cached[t] for t in texts]).astype(np.float32)


def _normalise(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-12)


def calibrator_for(catalog: Catalog, embedder: Embedder) -> Calibrator:
    """The search calibration of this model, its caption vectors cached in the catalog."""
    return Calibrator.build(lambda texts: text_vectors(catalog, embedder, texts), constants_for(embedder))


def build(catalog: Catalog, embedder: Embedder, vocab: Vocabulary | None = None,
               top_k: int | None = None, *, enabled_only: bool = True) -> TagModel:
    ensure_vocabulary(catalog)
    vocab = vocab or load_vocabulary()
    top_k = vocab.top_k if top_k is None else top_k
    where = "WHERE enabled=1 " if enabled_only else ""
    rows = catalog.read().execute(
        f"SELECT id, name, prompts, threshold FROM tags {where}ORDER BY id").fetchall()
    prompt_lists = [json.loads(r[2]) or [TEMPLATE.format(r[1])] for r in rows]
    flat = [p for prompts in prompt_lists for p in prompts]
    vectors = text_vectors(catalog, embedder, flat)
    matrix = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    at = 0
    for i, prompts in enumerate(prompt_lists):
        matrix[i] = _normalise(_normalise(vectors[at:at + len(prompts)]).mean(axis=0))
        at += len(prompts)
    calibrator = calibrator_for(catalog, embedder)
    available = calibrator.knows(matrix) if len(rows) else np.zeros(0, dtype=bool)
    tag_ids = np.array([r[0] for r in rows], dtype=np.int64)
    learnt = _learned_thresholds(catalog, embedder, calibrator, dict(zip(tag_ids.tolist(), matrix, strict=True)),
                                 vocab.default_threshold)
    thresholds = np.array([r[3] if r[3] is not None else learnt.get(r[0], vocab.default_threshold) for r in rows],
                          dtype=np.float32)
    learned = np.array([r[3] is None and r[0] in learnt for r in rows], dtype=bool)
    group_of = {name.casefold(): g for g, group in enumerate(vocab.rivals) for name in group}
    rival_of = np.array([group_of.get(r[1].casefold(), -1) for r in rows], dtype=np.int64)
    decided_by = [(r[1].casefold(), p, float(t), bool(a))
                  for r, p, t, a in zip(rows, prompt_lists, thresholds.tolist(), available.tolist(), strict=True)]
    c = calibrator.constants
    fingerprint = hashlib.sha256(json.dumps(
        [embedder.model_name, reference_prompts(), [c.offset, c.scale], top_k, decided_by,
         [list(g) for g in vocab.rivals]]).encode()).hexdigest()
    return TagModel(tag_ids, matrix, thresholds, learned, available, rival_of, calibrator, top_k, fingerprint)


def score_vectors(model: TagModel, vectors: np.ndarray) -> np.ndarray:
    """(N, T) calibrated confidences: each tag scored as a search for its text would score the photo."""
    if len(model.tag_ids) == 0:
        return np.zeros((len(vectors), 0), dtype=np.float32)
    return model.calibrator.score_texts(vectors, model.matrix).astype(np.float32)


def rival_winners(model: TagModel, vectors: np.ndarray) -> np.ndarray:
    """(N, T) True where no available rival of the tag comes closer to the photo."""
    wins = np.ones((len(vectors), len(model.tag_ids)), dtype=bool)
    grouped = model.rival_of >= 0
    if not grouped.any() or len(vectors) == 0:
        return wins
    cos = _normalise(np.asarray(vectors, dtype=np.float32)) @ model.matrix.T
    cos = np.where(model.available[None, :], cos, -np.inf)
    for g in np.unique(model.rival_of[grouped]):
        cols = np.flatnonzero(model.rival_of == g)
        best = cols[np.argmax(cos[:, cols], axis=1)]
        wins[:, cols] = cols[None, :] == best[:, None]
    return wins


def decide(model: TagModel, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, passing): the confidences and where a tag would be applied (before the per-photo limit)."""
    scores = score_vectors(model, vectors)
    passing = (scores >= model.thresholds[None, :]) & model.available[None, :] & rival_winners(model, vectors)
    return scores, passing



def learn_threshold(accepted: Sequence[float], rejected: Sequence[float], default: float) -> float:
    """The threshold that gets most of a person's decisions right: accepted confidences at or above
    it, rejected ones below; among equally good ones, the nearest to the default."""
    if not accepted and not rejected:
        return default
    points = sorted({default, LEARN_MIN, LEARN_MAX, *(a - 1e-6 for a in accepted),
                     *(min(LEARN_MAX, r + 1e-3) for r in rejected)})
    best, best_key = default, (len(accepted) + len(rejected) + 1, 1.0)
    for t in points:
        t = min(LEARN_MAX, max(LEARN_MIN, t))
        errors = sum(a < t for a in accepted) + sum(r >= t for r in rejected)
        key = (errors, abs(t - default))
        if key < best_key:
            best, best_key = t, key
    return float(best)


def _learned_thresholds(catalog: Catalog, embedder: Embedder, calibrator: Calibrator,
                        tag_vectors: dict[int, np.ndarray], default: float) -> dict[int, float]:
    """Per tag with decisions in this library: the threshold learnt from them (see learn_threshold)."""
    rows = catalog.read().execute(
        "SELECT pt.tag_id, pt.rejected, e.vector FROM photo_tags pt "
        "JOIN embeddings e ON e.photo_id=pt.photo_id JOIN models m ON m.id=e.model_id AND m.name=? "
        "WHERE pt.source='manual'", (embedder.model_name,)).fetchall()
    by_tag: dict[int, tuple[list[float], list[float]]] = {}
    for tag_id, rejected, blob in rows:
        if tag_id not in tag_vectors:
            continue
        vec = np.frombuffer(blob, dtype="<f4")
        if len(vec) != len(tag_vectors[tag_id]):
            continue
        score = float(calibrator.score_texts(vec[None, :], tag_vectors[tag_id][None, :])[0, 0])
        by_tag.setdefault(tag_id, ([], []))[1 if rejected else 0].append(score)
    return {t: learn_threshold(acc, rej, default) for t, (acc, rej) in by_tag.items()}


