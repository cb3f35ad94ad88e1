"""Turning raw CLIP cosines into a score a person can read.

Raw cosines are not comparable between queries: a text query's cosines to photos sit around
0.2-0.35 and an image query's around 0.5-0.9, and every query has its own offset. What does carry
meaning is how far a photo stands out from the rest of the library *for that query*. So each query
is calibrated against its own score distribution over a fixed random reference sample of the
library's vectors (up to ``SAMPLE_SIZE``):

    center = median(s)                     s = cosines of the query to the reference sample
    spread = max(1.4826 * MAD(s), SPREAD_FLOOR)
    z      = (cosine - center) / spread    robust z-score: a few matches do not inflate the spread
    score  = 1 / (1 + exp(-SLOPE * (z - Z_MID)))

With ``Z_MID = 3`` and ``SLOPE = 1.5``: z 1.5 -> 0.10, z 2 -> 0.18, z 3 -> 0.50, z 4 -> 0.82, z 5 -> 0.95.
A score of 0.5 or more means the photo stands clearly apart from the library for this query
("clearly related"); below ``HIDE_BELOW`` (0.1, z < ~1.5) it sits inside the bulk of the library
and is hidden by default as plainly unrelated. The floor keeps the spread above noise when the
reference vectors are nearly identical.

A library with fewer than ``MIN_RELIABLE`` vectors has no usable distribution: scores are still
computed (and ``min_score`` still applies) but nothing is hidden by default, so a tiny library always
shows its photos, best first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_SIZE = 2048
SPREAD_FLOOR = 0.01
Z_MID = 3.0
SLOPE = 1.5
HIDE_BELOW = 0.1
MIN_RELIABLE = 20


@dataclass(frozen=True)
class Calibration:
    """One query's reference distribution over the library."""

    center: float
    spread: float
    n: int

    @property
    def reliable(self) -> bool:
        return self.n >= MIN_RELIABLE

    def z(self, cosines: np.ndarray) -> np.ndarray:
        return (np.asarray(cosines, dtype=np.float64) - self.center) / self.spread

    def scores(self, cosines: np.ndarray) -> np.ndarray:
        z = np.clip(self.z(cosines), -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-SLOPE * (z - Z_MID)))


def calibrate(query: np.ndarray, reference: np.ndarray) -> Calibration:
    """The calibration of ``query`` against reference vectors (rows, L2-normalised)."""
    if reference.size == 0:
        return Calibration(0.0, 1.0, 0)
    sims = reference @ np.asarray(query, dtype=np.float32)
    center = float(np.median(sims))
    mad = float(np.median(np.abs(sims - center)))
    return Calibration(center, max(1.4826 * mad, SPREAD_FLOOR), len(sims))


def hide_threshold(calibration: Calibration, *, min_score: float | None, show_all: bool) -> float | None:
    """The score below which results are left out, or None to keep all of them."""
    if min_score is not None:
        return min_score
    if show_all or not calibration.reliable:
        return None
    return HIDE_BELOW
