"""Scores that belong to the photo and the query: the calibration search and auto-tags share.

A raw CLIP cosine means nothing by itself (a text query's cosines sit around 0.2-0.35 for CLIP, the
toy model's anywhere in -0.5..0.9), and a score made relative to the rest of the library moves when
unrelated photos come and go. So a text query is judged against *reference prompts on the same
photo*: neutral captions ("a photo.", "a picture of something.") and nonsense ones ("a photo of a
blorf."), which tell how close any caption at all comes to this photo::

    baseline(v) = max_r  v . r                       # the best a caption that says nothing scores
    margin(v,q) = v . q - weight * baseline(v)       # what the query's words add on this photo
    score       = 1 / (1 + exp(-(margin - offset) / scale))

``offset``, ``scale`` and ``weight`` (``baseline_weight``) are per-model constants
(``resources/calibration.json``, or a calibration the engine provides, see :func:`constants_for`).
A model whose cosines already sit on one level for every photo (the toy model: its raw cosine
separates a match from a near miss better than any baseline) has weight 0. A query the model cannot
tell from made-up captions (:meth:`Calibrator.knows`) scores 0 on every photo.

The score depends only on the photo's vector, the query's vector and the model: adding or removing
other photos never moves it, and a smart album's membership depends on its rule and the photo alone.
A photo of a dog with the query "a dog" scores near 1; the same query on a photo the words say
nothing about scores near 0; a query the model does not understand (gibberish, a word it never
learnt) comes no closer than the nonsense captions, so the search says there is no meaningful match.

An image query (``similar``, or a query made only of image files) has no caption to compare with:
its cosine goes through the model's image constants (``image_offset``, ``image_scale``) instead.

The same score is a tag's confidence (``photoclip.organize.tagging``): a tag at 0.9 and a search hit at 0.9
mean the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from photoclip.paths import resources_dir

CALIBRATION_FILE = "calibration.json"
# Shown by default from this score; 0.5 means "as likely a match as not".
DEFAULT_MIN_SCORE = 0.3
CLEARLY_RELATED = 0.5
# How much a matching subtracted term lowers a score: ``score * (1 - SUBTRACT * weight * p(B))``.
SUBTRACT = 0.5

NEUTRAL_PROMPTS = (
    "a photo.", "an image.", "a picture of something.", "a photo of something.", "a picture.",
    "a snapshot.", "a photo of an object.", "a photo of a thing.", "an ordinary photo.", "a random photo.",
)
# Made-up words: no model has learnt them, so whatever they score is what an unknown word scores.
NONSENSE_WORDS = ("blorf", "quindle", "zarvex", "plimtok", "snerb", "vuxom", "drazzle", "frimble",
                  "glonk", "wextrap", "trombish", "kelvash")
NONSENSE_TEMPLATES = ("a photo of a {}.", "{}", "a picture of a {}.", "a {}")


@dataclass(frozen=True)
class Constants:
    """A model's calibration: text margins and image cosines to probabilities."""

    offset: float = 0.03
    scale: float = 0.012
    image_offset: float = 0.8
    image_scale: float = 0.05
    baseline_weight: float = 1.0
    source: str = "default"

    def text_scores(self, margins: np.ndarray) -> np.ndarray:
        return _sigmoid((np.asarray(margins, dtype=np.float64) - self.offset) / self.scale)

    def image_scores(self, cosines: np.ndarray) -> np.ndarray:
        return _sigmoid((np.asarray(cosines, dtype=np.float64) - self.image_offset) / self.image_scale)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


@lru_cache(maxsize=4)
def _shipped(path: str) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in (data.get("models") or {}).items() if isinstance(v, dict)}


def constants_for(embedder: object) -> Constants:
    """The model's constants: what the engine provides (``embedder.calibration``, e.g. a SigLIP
    logit scale and bias turned into constants by the engine), else the shipped table by model name,
    else CLIP-like defaults."""
    provided = getattr(embedder, "calibration", None)
    if isinstance(provided, Constants):
        return provided
    if isinstance(provided, dict):
        return _from_dict(provided, "model")
    name = str(getattr(embedder, "model_name", ""))
    table = _shipped(str(resources_dir() / CALIBRATION_FILE))
    if name in table:
        return _from_dict(table[name], CALIBRATION_FILE)
    return Constants()


def _from_dict(data: dict, source: str) -> Constants:
    base = Constants()
    return Constants(float(data.get("offset", base.offset)), float(data.get("scale", base.scale)),
                     float(data.get("image_offset", base.image_offset)),
                     float(data.get("image_scale", base.image_scale)),
                     float(data.get("baseline_weight", base.baseline_weight)), source)


def reference_prompts() -> list[str]:
    """The captions every photo's baseline is taken over: neutral ones and a few made-up ones."""
    return [*NEUTRAL_PROMPTS, *(t.format(w) for w in NONSENSE_WORDS[:6] for t in NONSENSE_TEMPLATES)]


def nonsense_prompts() -> list[str]:
    """Made-up captions of one to three made-up words in the usual templates."""
    w = NONSENSE_WORDS
    phrases = [*w, *(f"{w[i]} {w[i + 6]}" for i in range(6)), *(f"{w[i]} {w[i + 4]} {w[i + 8]}" for i in range(4))]
    return [t.format(p) for p in phrases for t in NONSENSE_TEMPLATES]


def calibration_texts() -> list[str]:
    """Every text a calibrator embeds, once each."""
    return list(dict.fromkeys([*reference_prompts(), *nonsense_prompts()]))


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-12)


class Calibrator:
    """One model's reference prompts and constants; cheap to keep, built once per embedder."""

    def __init__(self, reference: np.ndarray, nonsense: np.ndarray, constants: Constants) -> None:
        self.reference = _unit(reference)  # (R, dim)
        self.nonsense = _unit(nonsense)  # (K, dim): made-up captions
        self.constants = constants
        self._centroid = _unit(self.nonsense.mean(axis=0))
        # How close one made-up caption comes to the others' centroid: a text as close is noise too.
        loo = [float(self.nonsense[k] @ _unit(np.delete(self.nonsense, k, axis=0).mean(axis=0)))
               for k in range(len(self.nonsense))] if len(self.nonsense) > 1 else [1.0]
        self.nonsense_floor = float(np.percentile(loo, 10))

    @classmethod
    def build(cls, embed_texts: Callable[[list[str]], np.ndarray], constants: Constants) -> Calibrator:
        texts = calibration_texts()
        vectors = dict(zip(texts, np.asarray(embed_texts(texts), dtype=np.float32), strict=True))
        return cls(np.stack([vectors[t] for t in reference_prompts()]),
                   np.stack([vectors[t] for t in nonsense_prompts()]), constants)

    # -- photos ------------------------------------------------------------------------------

    def baselines(self, vectors: np.ndarray) -> np.ndarray:
        """(N,) the best cosine any reference caption reaches on each photo."""
        v = _unit(np.atleast_2d(vectors))
        if len(v) == 0:
            return np.zeros(0, dtype=np.float64)
        return (v @ self.reference.T).max(axis=1).astype(np.float64)

    def text_scores(self, cosines: np.ndarray, baselines: np.ndarray) -> np.ndarray:
        weight = self.constants.baseline_weight
        return self.constants.text_scores(np.asarray(cosines, dtype=np.float64) - weight * baselines)

    def score_texts(self, vectors: np.ndarray, queries: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
        """(N, Q) calibrated scores of photo vectors against text query vectors; 0 for a text the
        model does not know (``known`` False)."""
        v = _unit(np.atleast_2d(vectors))
        q = _unit(np.atleast_2d(queries))
        known = self.knows(q) if known is None else np.asarray(known, dtype=bool)
        return self.text_scores(v @ q.T, self.baselines(v)[:, None]) * known[None, :]

    def image_scores(self, cosines: np.ndarray) -> np.ndarray:
        return self.constants.image_scores(cosines)

    # -- texts -------------------------------------------------------------------------------

    def nonsense_likeness(self, text_vectors: np.ndarray) -> np.ndarray:
        """(T,) cosine of each text to the centroid of the made-up captions."""
        return (_unit(np.atleast_2d(text_vectors)) @ self._centroid).astype(np.float64)

    def knows(self, text_vectors: np.ndarray) -> np.ndarray:
        """(T,) False for texts the model cannot tell from nonsense: they come as close to the made-up
        captions as those come to one another."""
        return self.nonsense_likeness(text_vectors) < self.nonsense_floor - 1e-4


def combine_scores(positive: np.ndarray, negatives: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """``A - B``: A's score, lowered by up to ``SUBTRACT`` times B's weight where the photo matches B.

    A photo that is A and not B keeps its score; one that is A and B drops below it but stays (so a
    subtraction never empties the results of every A); one that is not A stays low.
    """
    out = np.asarray(positive, dtype=np.float64).copy()
    for weight, p in negatives:
        out *= 1.0 - np.clip(SUBTRACT * abs(weight), 0.0, 1.0) * np.asarray(p, dtype=np.float64)
    return out
