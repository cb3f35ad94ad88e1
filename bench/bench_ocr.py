"""Time the OCR stage: photos/s on 12 MP photos with and without text, and whether OCR delays search.

1. Generated 12 MP JPEGs (4000 x 3000, photo-like backgrounds; half carry a few lines of text) are read
   by ``OcrEngine.read_file`` (decode included), with the cheap detector gate and, for the text-free
   ones, once more without it, to show what the gate saves.
2. A small library is indexed (scan, decode, embed) and then enriched, once with OCR and once without:
   the time until it is searchable by meaning is the time until indexing ends, which OCR (a stage that
   starts afterwards) must not change.

Run: ``python bench/bench_ocr.py [--photos 200] [--big 3] [--threads 1] [--model BUNDLE_DIR]``. Without
``--model`` the library is embedded by a stand-in (mean colour), so the indexing time is mostly decoding;
with a CLIP bundle it is real. The default library is 200 photos of 1024 x 768, not 1,000 of 12 MP:
the question is whether OCR moves the moment search works, not the indexing speed itself.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from photoclip.enrich import ocr  # noqa: E402
from photoclip.enrich.ocr_gate import ClipTextGate  # noqa: E402
from photoclip.enrich.stage import Enricher  # noqa: E402
from photoclip.ingest.pipeline import Indexer  # noqa: E402
from photoclip.ingest.scanner import scan  # noqa: E402
from photoclip.search import Searcher  # noqa: E402
from photoclip.store.catalog import Catalog  # noqa: E402
from tests.test_ocr import WORDS, background, save, text_photo  # noqa: E402

BIG = (4000, 3000)


class MeanColourEmbedder:
    """A stand-in CLIP: colour statistics for images, hashed vectors for texts (no model files needed)."""

    model_name = "bench-mean-colour"
    dim = 16
    image_size = 224

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.float32).transpose(2, 0, 1) / 255.0

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        flat = pixels.reshape(len(pixels), 3, -1)
        out = np.concatenate([flat.mean(axis=2), flat.std(axis=2), np.full((len(pixels), self.dim - 6), 0.05)], 1)
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_pixels(np.stack([self.preprocess(i) for i in images]))

    def embed_texts(self, texts: Sequence[str], *, language: str | None = None) -> np.ndarray:
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha1(t.encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).normal(size=self.dim)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32)


def make_big_photos(folder: Path, n: int) -> tuple[list[Path], list[Path]]:
    texts, plain = [], []
    for i in range(n):
        words = " ".join(w.upper() for w in WORDS[i * 3:i * 3 + 3])
        im = text_photo(words, size=BIG, font_size=110, seed=i)
        texts.append(save(im, folder / f"text_{i}.jpg"))
        plain.append(save(background(BIG, i % 2 == 0, seed=100 + i), folder / f"plain_{i}.jpg"))
    return texts, plain


def time_reads(engine: ocr.OcrEngine, paths: list[Path], gate: bool) -> tuple[float, list[float]]:
    runs = []
    for path in paths:
        start = time.perf_counter()
        engine.read_file(path, BIG, gate=gate)
        runs.append(time.perf_counter() - start)
    return len(paths) / sum(runs), runs


def make_library_photos(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if i % 5 == 0:
            im = text_photo(WORDS[i % len(WORDS)].upper(), size=(1024, 768), font_size=48, seed=i)
        else:
            im = background((1024, 768), i % 2 == 0, seed=i)
        save(im, folder / f"IMG_{i:05d}.jpg")


def library_run(base: Path, photos: Path, with_ocr: bool, embedder_factory, engine: ocr.OcrEngine | None,
                clip_gate: bool = False, stats: dict | None = None) -> tuple[float, float]:
    """Seconds until searchable by meaning, and until enrichment ends: the stages in the order the
    library runs them (scan, read and embed, then enrich). ``stats`` receives the OCR stage's seconds
    per photo and recall, for photos with text and without."""
    catalog = Catalog(base / "catalog.db")
    catalog.add_folder(photos)
    start = time.perf_counter()
    embedder = embedder_factory()
    scan(catalog)
    Indexer(catalog, embedder).run()
    searcher = Searcher(catalog, embedder, base, background=False)
    assert searcher.search("a photo", top=5, show_all=True).hits  # searchable now
    searchable = time.perf_counter() - start
    if with_ocr:
        gate = ClipTextGate.from_embedder(embedder) if clip_gate else None
        report = Enricher(catalog, ocr=engine, geocoder=None, clip_gate=gate, model_name=embedder.model_name).run()
        if stats is not None:
            stats.update(_ocr_stats(catalog), clip_gated=report.clip_gated)
    done = time.perf_counter() - start
    searcher.close()
    catalog.close()
    return searchable, done


def _ocr_stats(catalog: Catalog) -> dict:
    """OCR stage seconds per photo and recall, for the photos drawn with text and those without."""
    rows = catalog.read().execute(
        "SELECT p.path, o.seconds, (SELECT COUNT(*) FROM ocr_lines l WHERE l.photo_id=p.id) FROM photos p "
        "JOIN ocr_state o ON o.photo_id=p.id").fetchall()
    out = {}
    for kind, has_text in (("text", True), ("plain", False)):
        chosen = [(sec or 0.0, lines) for path, sec, lines in rows
                  if (int(Path(path).stem.split("_")[1]) % 5 == 0) == has_text]
        out[kind] = {"photos": len(chosen), "s_per_photo": round(sum(c[0] for c in chosen) / max(1, len(chosen)), 3),
                     "found_text": sum(1 for c in chosen if c[1])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200, help="photos in the library run (default 200)")
    parser.add_argument("--big", type=int, default=3, help="12 MP photos of each kind (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="OCR threads (default 1, as the stage runs)")
    parser.add_argument("--model", type=Path, help="a CLIP bundle folder to embed with instead of the stand-in")
    args = parser.parse_args()
    if not ocr.available():
        sys.exit(ocr.unavailable_reason())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{ocr.engine_version()}, {args.threads} thread(s), {os.cpu_count()} cores, load average {load:.1f}")
    engine = ocr.OcrEngine(threads=args.threads)
    if args.model:
        from photoclip.engine import ClipEngine

        clip = ClipEngine.load(args.model)

        def factory():
            return clip
    else:
        def factory():
            return MeanColourEmbedder()

    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = Path(tmp)
        texts, plain = make_big_photos(folder, args.big)
        engine.read_file(texts[0], BIG)  # warm up the sessions
        rate_text, runs_text = time_reads(engine, texts, gate=True)
        rate_plain, runs_plain = time_reads(engine, plain, gate=True)
        rate_nogate, _ = time_reads(engine, plain[:1], gate=False)
        print(f"12 MP with text:        {rate_text:5.2f} photos/s  (median {statistics.median(runs_text):.2f} s)")
        print(f"12 MP without text:     {rate_plain:5.2f} photos/s  (median {statistics.median(runs_plain):.2f} s,"
              f" gate on)")
        print(f"12 MP without text:     {rate_nogate:5.2f} photos/s  (gate off: full detection)")

        photos = folder / "library"
        make_library_photos(photos, args.photos)
        off_search, _ = library_run(folder / "lib-off", photos, False, factory, None)
        on_search, on_done = library_run(folder / "lib-on", photos, True, factory, engine)
        embedder = "the CLIP bundle" if args.model else "a stand-in embedder"
        print(f"library of {args.photos} photos (1024 x 768, 1 in 5 with text), embedded by {embedder}:")
        print(f"  searchable by meaning after {off_search:6.1f} s with OCR off")
        print(f"  searchable by meaning after {on_search:6.1f} s with OCR on; OCR done after {on_done:6.1f} s "
              f"({args.photos / max(on_done - on_search, 1e-9):.2f} photos/s)")
        # The CLIP gate in front of the detector (target: <= 0.1 s a photo without text, recall kept).
        for gated in (False, True):
            stats: dict = {}
            library_run(folder / f"lib-gate-{gated}", photos, True, factory, engine, clip_gate=gated, stats=stats)
            text, plain_ = stats["text"], stats["plain"]
            print(f"  CLIP gate {'on ' if gated else 'off'}: OCR stage {plain_['s_per_photo']:.3f} s/photo without "
                  f"text (target <= 0.1), {text['s_per_photo']:.3f} s/photo with text; text found on "
                  f"{text['found_text']}/{text['photos']} text photos (recall), {plain_['found_text']} plain "
                  f"photos; {stats['clip_gated']} skipped by the CLIP gate")


if __name__ == "__main__":
    main()
