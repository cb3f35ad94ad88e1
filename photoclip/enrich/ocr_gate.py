"""A gate in front of the text detector, from the photo's CLIP vector: photos that look nothing like text
skip the OCR stage, so a library of ordinary photos spends almost nothing there.

The score of a photo is how much closer its vector is to "text / document / screenshot / sign" prompts
than to neutral ones (a softmax margin, as tags are decided). How high a score means text depends on
the model, so the gate learns its threshold from the library itself, from what the detector says:

- until it has seen ``min_text`` photos with text and ``min_plain`` without, every photo goes to the
  detector (the detector gate of ``photoclip.enrich.ocr`` still skips recognition on the plain ones);
- then a photo scoring below the threshold (the ``recall_quantile`` of the text photos' scores, less a
  margin) is skipped, except one in ``explore_every``, which still goes to the detector so a text photo
  the threshold would miss lowers it.

A model that cannot tell text from the rest (random weights, the toy test model) gives text and plain
photos the same scores: the threshold then sits at the bottom of the plain photos' scores, and almost
nothing is skipped. Recall is what the gate keeps; the saving is what a model that knows text buys.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from photoclip.store.catalog import Catalog

TEXT_PROMPTS = (
    "a photo of a document", "a scanned page of text", "a screenshot", "a photo of a sign with words",
    "a receipt", "a page of a book", "a poster with writing", "a whiteboard with handwriting",
    "a photo of a printed form", "a menu", "a label with text", "a slide of a presentation",
)
PLAIN_PROMPTS = (
    "a photo", "a picture of people", "a landscape", "a photo of an animal", "a photo of food",
    "a photo of a building", "a photo of a street", "a close-up photo of an object",
)
LOGIT_SCALE = 100.0


def text_score(vectors: np.ndarray, text: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """(N,) margin of the best text prompt over the soft average of the neutral ones, in logits."""
    v = np.asarray(vectors, dtype=np.float32)
    t = LOGIT_SCALE * (v @ text.T)
    p = LOGIT_SCALE * (v @ plain.T)
    peak = p.max(axis=1, keepdims=True)
    background = peak[:, 0] + np.log(np.exp(p - peak).mean(axis=1))
    return (t.max(axis=1) - background).astype(np.float32)


@dataclass
class ClipTextGate:
    """Decides, photo by photo, whether the detector needs to look; learns from what it reports."""

    text: np.ndarray  # (T, dim) prompt vectors
    plain: np.ndarray  # (P, dim)
    min_text: int = 8
    min_plain: int = 32
    recall_quantile: float = 0.02
    margin: float = 0.5  # logits below the quantile, for text photos not seen yet
    explore_every: int = 20
    text_scores: list[float] = field(default_factory=list)
    plain_scores: list[float] = field(default_factory=list)
    skipped: int = 0
    explored: int = 0
    missed: int = 0  # explored photos that had text after all
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_embedder(cls, embedder: object, **kwargs: object) -> ClipTextGate:
        embed = embedder.embed_texts  # type: ignore[attr-defined]
        return cls(np.asarray(embed(list(TEXT_PROMPTS)), dtype=np.float32),
                   np.asarray(embed(list(PLAIN_PROMPTS)), dtype=np.float32), **kwargs)  # type: ignore[arg-type]

    def score(self, vector: np.ndarray) -> float:
        return float(text_score(np.asarray(vector, dtype=np.float32)[None, :], self.text, self.plain)[0])

    def threshold(self) -> float | None:
        """The score below which photos are skipped, or None while still learning."""
        with self._lock:
            if len(self.text_scores) < self.min_text or len(self.plain_scores) < self.min_plain:
                return None
            return float(np.quantile(np.asarray(self.text_scores), self.recall_quantile)) - self.margin

    def check(self, score: float) -> str:
        """"skip" (no detector), "explore" (below the threshold, checked anyway) or "read"."""
        limit = self.threshold()
        if limit is None or score >= limit:
            return "read"
        with self._lock:
            self.skipped += 1
            if self.skipped % self.explore_every == 0:
                self.explored += 1
                return "explore"
        return "skip"

    def learn(self, score: float, has_text: bool, *, explored: bool = False) -> None:
        with self._lock:
            (self.text_scores if has_text else self.plain_scores).append(score)
            if explored and has_text:
                self.missed += 1


def stored_vectors(catalog: Catalog, model_name: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
    """The photos' stored vectors for this model (photos without one are left out)."""
    found, matrix = catalog.vectors_of(model_name, ids)
    return {int(pid): matrix[row] for row, pid in enumerate(found.tolist())}
