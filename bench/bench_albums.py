"""What keeping smart albums current costs: re-running text-query rules over a large library.

    python bench/bench_albums.py BUNDLE [--photos 100000] [--albums 5]

Fills a temporary catalog with ``--photos`` CLIP-like vectors (as bench_query.py does), builds the
HNSW graph, creates ``--albums`` smart albums from text queries, and times one full refresh of all
of them (what runs after each indexing run and watcher batch) two ways in the same run:

- ``graph``: ranking the library through the graph with ef >= k (how the index answered before it
  learned to scan exactly when k is a large share of the library);
- ``exact``: the index's choice now, one matmul over the matrix.

Both must give the same members; the bench checks that and prints the wall times.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_query import fill

from photoclip.engine import ClipEngine
from photoclip.index.vectorindex import EXACT_K_SHARE
from photoclip.organize import albums
from photoclip.search import Searcher
from photoclip.store.catalog import Catalog

QUERIES = ["dog on the beach", "birthday party", "snowy mountains", "my grandmother", "red car", "fireworks",
           "a bowl of ramen", "kids playing football"]


def refresh_all(catalog: Catalog, searcher: Searcher) -> tuple[float, dict[str, set[int]]]:
    t = time.perf_counter()
    results = albums.refresh_albums(catalog, searcher)
    seconds = time.perf_counter() - t
    assert all(r.error is None for r in results), results
    members = {a.name: {p.id for p in albums.album_members(catalog, a.name)} for a in albums.list_albums(catalog)}
    return seconds, members


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", type=Path)
    p.add_argument("--photos", type=int, default=100_000)
    p.add_argument("--albums", type=int, default=5)
    p.add_argument("--threshold", type=float, default=0.5)
    args = p.parse_args(argv)
    engine = ClipEngine.load(args.bundle, device="cpu", warn_random=False)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp) / "catalog.sqlite3")
        fill(catalog, engine.model_name, args.photos, engine.dim)
        searcher = Searcher(catalog, engine, tmp, background=False)
        t = time.perf_counter()
        searcher.index.sync()
        build_s = time.perf_counter() - t
        for query in QUERIES[: args.albums]:
            albums.create_album(catalog, query, query=query, threshold=args.threshold)
        refresh_all(catalog, searcher)  # warm: text vectors cached, sample drawn
        searcher.index.exact_k_share = 0
        graph_s, graph_members = refresh_all(catalog, searcher)
        searcher.index.exact_k_share = EXACT_K_SHARE
        exact_s, exact_members = refresh_all(catalog, searcher)
        same = graph_members == exact_members
        report = {"photos": args.photos, "albums": args.albums, "mode": searcher.index.stats().mode,
                  "graph_build_s": round(build_s, 1),
                  "members": {k: len(v) for k, v in exact_members.items()},
                  "refresh_all_s": {"graph": round(graph_s, 3), "exact": round(exact_s, 3)},
                  "speedup": round(graph_s / exact_s, 1), "same_members": same}
        searcher.close()
        catalog.close()
    print(json.dumps(report, indent=1))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
