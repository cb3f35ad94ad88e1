"""The CLIP gate in front of the text detector: once it has learnt from the detector what text scores look
like in this library, photos that look nothing like text skip the OCR stage, text photos still go
through, and a text photo it would have missed lowers its threshold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from photoclip.enrich.ocr import OcrLine, OcrResult
from photoclip.enrich.ocr_gate import ClipTextGate
from photoclip.enrich.stage import Enricher
from photoclip.store.catalog import Catalog
from tests.fakes import add_photo, unit

DIM = 8
TEXT_AXIS, PLAIN_AXIS = 0, 1


def _gate(**kw: object) -> ClipTextGate:
    text = np.stack([unit(np.eye(DIM)[TEXT_AXIS] + 0.1 * np.eye(DIM)[k]) for k in (2, 3)])
    plain = np.stack([unit(np.eye(DIM)[PLAIN_AXIS] + 0.1 * np.eye(DIM)[k]) for k in (4, 5)])
    return ClipTextGate(text, plain, **kw)  # type: ignore[arg-type]


def _photo(rng: np.random.Generator, text: bool) -> np.ndarray:
    base = np.eye(DIM)[TEXT_AXIS if text else PLAIN_AXIS]
    return unit(base + 0.3 * rng.normal(size=DIM))


class TextOcr:
    """The detector's verdict from the file name: "t..." photos have text."""

    version = "text-ocr 1"

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def read_file(self, path: str, size: tuple[int, int] | None = None, *, gate: bool = True) -> OcrResult:
        name = Path(path).name
        self.calls[name] += 1
        if name.startswith("t"):
            return OcrResult((OcrLine("INVOICE", ((0, 0), (9, 0), (9, 9), (0, 9)), 0.9),), False, 0.5)
        return OcrResult((), True, 0.1)


def test_text_scores_apart_for_a_model_that_knows_text() -> None:
    gate = _gate()
    rng = np.random.default_rng(0)
    texts = [gate.score(_photo(rng, True)) for _ in range(50)]
    plains = [gate.score(_photo(rng, False)) for _ in range(50)]
    assert min(texts) > max(plains)


def test_the_gate_reads_everything_until_it_has_learnt() -> None:
    gate = _gate(min_text=3, min_plain=5)
    rng = np.random.default_rng(1)
    for _ in range(4):
        assert gate.check(gate.score(_photo(rng, False))) == "read"
        gate.learn(gate.score(_photo(rng, False)), False)
    assert gate.threshold() is None


def test_a_missed_text_photo_lowers_the_threshold() -> None:
    gate = _gate(min_text=2, min_plain=2, explore_every=1)
    gate.learn(10.0, True)
    gate.learn(12.0, True)
    gate.learn(-5.0, False)
    gate.learn(-6.0, False)
    before = gate.threshold()
    assert before is not None and gate.check(2.0) == "explore"
    gate.learn(2.0, True, explored=True)
    assert gate.missed == 1
    after = gate.threshold()
    assert after is not None and after < 2.0 < before


def test_enrichment_skips_plain_photos_and_keeps_every_text_photo(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "pics")
    (tmp_path / "pics").mkdir()
    rng = np.random.default_rng(2)
    truth = {}
    for i in range(200):
        text = i % 10 == 0
        name = f"{'t' if text else 'p'}{i:03d}.png"
        Image.new("RGB", (8, 8)).save(tmp_path / "pics" / name)
        truth[name] = text
        add_photo(catalog, folder.id, tmp_path / "pics" / name, _photo(rng, text))
    ocr = TextOcr()
    gate = _gate(min_text=5, min_plain=20, explore_every=10)
    report = Enricher(catalog, ocr=ocr, geocoder=None, clip_gate=gate, model_name="fake-model").run()  # type: ignore[arg-type]
    texts = [n for n, t in truth.items() if t]
    assert all(ocr.calls[n] == 1 for n in texts)  # recall kept: every text photo was read
    assert report.ocr_text == len(texts)
    plain_read = sum(1 for n, t in truth.items() if not t and ocr.calls[n])
    assert report.clip_gated > 100 and plain_read < 70  # most plain photos never reached the detector
    assert report.clip_gated + plain_read == sum(1 for t in truth.values() if not t)
    assert report.ocr_no_text == sum(1 for t in truth.values() if not t)
    catalog.close()
