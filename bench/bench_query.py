"""End-to-end text-query latency: tokenizer + text tower + vector search + calibration + photo rows.

    python bench/bench_query.py BUNDLE [--photos 20000] [--queries 60] [--threads 2] [--hidden 0.8]
                                       [--filtered 0.5]

Fills a temporary catalog with ``--photos`` CLIP-like vectors of the bundle's size (the same generator
as bench_index.py), then times distinct queries (no cache hits) through ``Searcher.search``, and the
text tower alone, reporting p50/p95 in milliseconds. ``--hidden SHARE`` marks that share of the
photos offline first, at random, as an unplugged drive holding part of the library would.
``--filtered SHARE`` makes that share of the photos JPEGs (the rest PNGs) and searches with a JPEG
type filter, the shape of a folder or date filter passing that share.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import ClipLike

from photoclip.engine import ClipEngine
from photoclip.search import Filters, Searcher
from photoclip.search.filters import dead_ids
from photoclip.store.catalog import Catalog

SUBJECTS = ["a dog", "two cats", "a red car", "my grandmother", "a birthday cake", "the beach", "a mountain lake",
            "kids playing", "a bicycle", "fireworks", "a snowy street", "a bowl of ramen"]
SETTINGS = ["at sunset", "in the rain", "at night", "in winter", "indoors", "from above", "close up"]


def fill(catalog: Catalog, model: str, n: int, dim: int) -> None:
    gen = ClipLike(n, dim=dim)
    rng = np.random.default_rng(1)
    folder = catalog.add_folder(Path(tempfile.gettempdir()) / "bench-photos")
    model_id = catalog.model_id(model, dim)
    now = time.time()
    for start in range(0, n, 5_000):
        vectors = gen.images(min(5_000, n - start), rng)
        with catalog.write() as c:
            ids = []
            for i in range(len(vectors)):
                cur = c.execute(
                    "INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, format, state, added_at, "
                    "updated_at) VALUES(?,?,?,?,?,?,?,?,?)",
                    (folder.id, f"{folder.path}/img{start + i:07d}.jpg", 1, 1, f"h{start + i}", "jpeg", "ok",
                     now, now))
                ids.append(cur.lastrowid)
            catalog.put_embeddings(c, model_id, [(pid, f"h{pid}", v) for pid, v in zip(ids, vectors, strict=True)])


def ms(values: list[float], p: float) -> float:
    return round(float(np.percentile(np.asarray(values) * 1000.0, p)), 2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", type=Path)
    p.add_argument("--photos", type=int, default=20_000)
    p.add_argument("--queries", type=int, default=60)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--hidden", type=float, default=0.0, help="share of photos marked offline")
    p.add_argument("--filtered", type=float, default=0.0, help="search with a filter passing this share")
    args = p.parse_args(argv)
    engine = ClipEngine.load(args.bundle, device="cpu", threads=args.threads, warn_random=False)
    phrases = [f"{s} {t}" for s, t in itertools.product(SUBJECTS, SETTINGS)]
    phrases = phrases[: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp) / "catalog.sqlite3")
        t = time.perf_counter()
        fill(catalog, engine.model_name, args.photos, engine.dim)
        fill_s = time.perf_counter() - t
        if args.hidden > 0:
            hidden = np.random.default_rng(2).choice(np.arange(1, args.photos + 1), int(args.photos * args.hidden),
                                                     replace=False)
            with catalog.write() as c:
                c.executemany("UPDATE photos SET state='offline' WHERE id=?", [(int(i),) for i in hidden])
        filters = None
        if args.filtered > 0:
            others = np.random.default_rng(3).choice(np.arange(1, args.photos + 1),
                                                     int(args.photos * (1 - args.filtered)), replace=False)
            with catalog.write() as c:
                c.executemany("UPDATE photos SET format='png' WHERE id=?", [(int(i),) for i in others])
            filters = Filters(types=("jpeg",))
        searcher = Searcher(catalog, engine, tmp, background=False)
        t = time.perf_counter()
        searcher.search("warm up")
        first_s = time.perf_counter() - t
        tower, total, vector_part = [], [], []
        for i, phrase in enumerate(phrases):
            t = time.perf_counter()
            engine.embed_texts([f"{phrase} #{i}"])
            tower.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = searcher.search(phrase, top=50, show_all=True, filters=filters)
            total.append(time.perf_counter() - t)
            q = searcher.query_vector(phrase)  # cached now: only parsing and the sum remain
            t = time.perf_counter()
            searcher.index.search(q, 50, excluded=dead_ids(catalog))  # as the searcher asks
            vector_part.append(time.perf_counter() - t)
            assert len(result.hits) == 50
        report = {
            "bundle": str(args.bundle), "model": engine.model_name, "dim": engine.dim, "photos": args.photos,
            "hidden_share": args.hidden, "filter_share": args.filtered,
            "mode": searcher.index.stats().mode, "fill_s": round(fill_s, 1), "first_query_s": round(first_s, 2),
            "text_tower_ms": {"p50": ms(tower, 50), "p95": ms(tower, 95)},
            "vector_search_ms": {"p50": ms(vector_part, 50), "p95": ms(vector_part, 95)},
            "search_total_ms": {"p50": ms(total, 50), "p95": ms(total, 95)},
        }
        searcher.close()
        catalog.close()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
