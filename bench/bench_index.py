"""Exact numpy search vs hnswlib on synthetic 512-d unit vectors: recall@10, latency, build time, memory.

Two data sets per size:
- ``uniform``: random unit vectors. Unrealistic, and the hardest case for a graph index: in 512
  dimensions every pair is nearly orthogonal, so "nearest" neighbours are barely nearer than the rest;
- ``clip``: CLIP-like. Images share a common direction (the "image cloud": random pairs have cosine
  ~0.4) and gather in clusters (same cluster ~0.7). Text queries sit off the cloud along a separate
  "modality gap" direction and lean towards one cluster, so their best cosines are ~0.3 like real
  text-to-image scores; image queries are fresh images from the same clusters.

    python bench/bench_index.py --sizes 10k,100k [--kinds clip,uniform] [--ef 64,128,256,512]

Recall@10 is measured against exact search on the same vectors. Latency is one query at a time on
one thread (how the app asks), p50/p95 over ``--queries`` queries. ``--keep-graph DIR`` saves each
graph and loads it on the next run, so sweeping other ef values at 1M does not rebuild for an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import hnswlib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoclip.index import hugepages

DIM = 512
K = 10


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * mult)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@dataclass
class ClipLike:
    """A generator of CLIP-like image and text vectors (see the module docstring)."""

    n: int
    dim: int = DIM
    seed: int = 0
    centers: np.ndarray = field(init=False)
    cloud: np.ndarray = field(init=False)
    gap: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.centers = _unit(rng.normal(size=(max(50, self.n // 200), self.dim)))
        basis = _unit(rng.normal(size=(2, self.dim)))
        self.cloud = basis[0]
        gap = basis[1] - (basis[1] @ self.cloud) * self.cloud
        self.gap = gap / np.linalg.norm(gap)

    def images(self, count: int, rng: np.random.Generator) -> np.ndarray:
        cluster = rng.integers(0, len(self.centers), count)
        noise = _unit(rng.normal(size=(count, self.dim)))
        spread = rng.uniform(0.5, 0.9, (count, 1)).astype(np.float32)
        return _unit(0.65 * self.cloud + 0.75 * self.centers[cluster] + spread * noise)

    def texts(self, count: int, rng: np.random.Generator) -> np.ndarray:
        cluster = rng.integers(0, len(self.centers), count)
        noise = _unit(rng.normal(size=(count, self.dim)))
        return _unit(0.9 * self.gap + 0.2 * self.cloud + 0.33 * self.centers[cluster] + 0.35 * noise)


def make_data(kind: str, n: int, queries: int, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed + 1)
    data = np.empty((n, DIM), dtype=np.float32)
    if kind == "uniform":
        for s in range(0, n, 100_000):
            data[s:s + 100_000] = _unit(rng.normal(size=(min(100_000, n - s), DIM)))
        return data, {"random": _unit(rng.normal(size=(queries, DIM)))}
    gen = ClipLike(n, seed=seed)
    for s in range(0, n, 100_000):
        data[s:s + 100_000] = gen.images(min(100_000, n - s), rng)
    return data, {"text": gen.texts(queries, rng), "image": gen.images(queries, rng)}


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exact_topk(data: np.ndarray, q: np.ndarray, k: int = K) -> np.ndarray:
    scores = data @ q
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, p))


def sweep_ef(index: hnswlib.Index, query_sets: dict, truth: dict, efs: list[int]) -> dict:
    """Recall@10 and one-query latency (p50/p95 ms) at each ef."""
    sweep: dict = {}
    for ef in efs:
        index.set_ef(ef)
        for name, qs in query_sets.items():
            times, hits = [], 0
            for q, exact in zip(qs, truth[name], strict=True):
                t = time.perf_counter()
                labels, _ = index.knn_query(q, k=K)
                times.append(time.perf_counter() - t)
                hits += len(set(labels[0].tolist()) & set(exact.tolist()))
            sweep.setdefault(name, []).append({"ef": ef, "recall": round(hits / (K * len(qs)), 4),
                                               "p50": round(pct(times, 50), 3),
                                               "p95": round(pct(times, 95), 3)})
    return sweep


def run(kind: str, n: int, args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    data, query_sets = make_data(kind, n, args.queries)
    out: dict = {"kind": kind, "n": n, "gen_s": round(time.perf_counter() - t0, 1)}
    truth, exact_ms = {}, {}
    for name, qs in query_sets.items():
        times, tops = [], []
        for q in qs:
            t = time.perf_counter()
            tops.append(exact_topk(data, q))
            times.append(time.perf_counter() - t)
        truth[name] = tops
        exact_ms[name] = {"p50": round(pct(times, 50), 3), "p95": round(pct(times, 95), 3)}
        best = np.array([float(data[t[0]] @ q) for t, q in zip(tops, qs, strict=True)])
        out.setdefault("best_cosine_mean", {})[name] = round(float(best.mean()), 3)
    out["exact_ms"] = exact_ms
    if n < args.min_hnsw:
        return out
    before = rss_mb()
    t = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=DIM)
    saved = Path(args.keep_graph) / f"{kind}-{n}-M{args.M}-efc{args.ef_construction}.hnsw" \
        if args.keep_graph else None
    if saved is not None and saved.exists():
        # A 1M build takes most of an hour on 2 cores; sweeping ef again should not.
        index.load_index(str(saved), max_elements=n)
        out["loaded_from"] = str(saved)
    else:
        index.init_index(max_elements=n, M=args.M, ef_construction=args.ef_construction)
        # hnswlib takes -1 literally in set_num_threads (one thread); ask for the cores by number.
        index.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
        for s in range(0, n, 50_000):
            index.add_items(data[s:s + 50_000], np.arange(s, min(s + 50_000, n)))
            if args.verbose:
                print(f"  {kind} {n}: built {min(s + 50_000, n)} after {time.perf_counter() - t:.0f} s",
                      file=sys.stderr, flush=True)
        out["build_s"] = round(time.perf_counter() - t, 1)
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            index.save_index(str(saved))
    out["index_mb"] = round(rss_mb() - before, 1)
    out["data_mb"] = round(data.nbytes / 2**20, 1)
    index.set_num_threads(1)
    out["hnsw"] = sweep_ef(index, query_sets, truth, args.ef)
    if args.huge_pages:
        # The same graph, in the same run, once the app's hugepages module moved it onto 2 MB pages.
        t = time.perf_counter()
        out["huge_pages_mb"] = round(hugepages.collapse_resident() / 2**20)
        out["huge_pages_s"] = round(time.perf_counter() - t, 2)
        out["hnsw_huge"] = sweep_ef(index, query_sets, truth, args.ef)
        out["hnsw_again"] = sweep_ef(index, query_sets, truth, args.ef)

    if args.large_k:
        # Where one exact matmul beats a graph walk that must keep ef >= k (an album ranking everything).
        qs = query_sets["text"][:20]
        t = time.perf_counter()
        for q in qs:
            exact_topk(data, q, max(args.large_k))
        large = {"exact_ms": round((time.perf_counter() - t) * 1000 / len(qs), 2)}
        for k in args.large_k:
            index.set_ef(max(k, 64))
            t = time.perf_counter()
            for q in qs:
                index.knn_query(q, k=k)
            large[f"graph_k{k}_ms"] = round((time.perf_counter() - t) * 1000 / len(qs), 2)
        out["large_k"] = large
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10k,100k", help="comma list, e.g. 10k,100k,1M")
    p.add_argument("--kinds", default="clip,uniform")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--M", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=400)
    p.add_argument("--ef", default="32,64,128,256,512", help="search ef values to sweep")
    p.add_argument("--threads", type=int, default=-1, help="build threads (-1: all cores)")
    p.add_argument("--min-hnsw", type=int, default=5_000, help="skip the graph below this size")
    p.add_argument("--json", metavar="FILE", help="also write the results here")
    p.add_argument("--keep-graph", metavar="DIR", help="save each built graph here and reuse it next time")
    p.add_argument("--large-k", default="", help="also time graph walks for these k (e.g. 1000,10000) vs exact")
    p.add_argument("--huge-pages", action="store_true",
                   help="sweep again after moving the graph onto 2 MB pages (Linux), in the same run")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    args.ef = [int(e) for e in args.ef.split(",")]
    args.large_k = [parse_size(k) for k in args.large_k.split(",") if k]
    results = []
    for size in args.sizes.split(","):
        for kind in args.kinds.split(","):
            res = run(kind, parse_size(size), args)
            results.append(res)
            print(json.dumps(res), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"params": {k: v for k, v in vars(args).items() if k != "json"}, "results": results},
                      fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
