"""Benchmark a CLIP bundle on this machine: image throughput, query latency, thread spinning, FLOPs.

    python bench/bench_engine.py BUNDLE_DIR [--threads N] [--seconds S]

Image throughput is the model alone, from ready tensors (no decoding or preprocessing). Query
latency runs the text tower on 4 and 16 real tokens and on 16 tokens padded to 77, bypassing the
query cache. The image tower's FLOPs are counted from the ONNX graph (MatMul/Gemm/Conv MACs x 2)
and compared with the fp32 matrix-multiply rate numpy reaches on 2 threads.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # after the thread variables, which BLAS reads once at load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoclip.engine import ClipEngine, RandomWeightsWarning

VIT_B32_GFLOPS = 8.8  # the published "4.4 GFLOPs" of ViT-B/32 counts multiply-adds; 2 FLOPs each


def image_gflops(model_path: Path) -> float | None:
    """FLOPs of one image through the tower, counted from the graph's matrix products."""
    try:
        import onnx
        from onnx import shape_inference
    except ImportError:
        return None
    model = onnx.load(str(model_path), load_external_data=False)
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].dim_value = 1
    try:
        model = shape_inference.infer_shapes(model)
    except Exception:
        return None
    shapes: dict[str, list[int]] = {}
    for value in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        shapes[value.name] = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    macs = 0
    for node in model.graph.node:
        out = shapes.get(node.output[0])
        if not out:
            continue
        if node.op_type in ("MatMul", "MatMulInteger", "Gemm", "DynamicQuantizeMatMul"):
            a = shapes.get(node.input[0])
            if a:
                macs += int(np.prod(out)) * a[-1]
        elif node.op_type in ("Conv", "ConvInteger"):
            w = shapes.get(node.input[1])
            if w:
                macs += int(np.prod(out)) * int(np.prod(w[1:]))
    return 2 * macs / 1e9 if macs else None


def sgemm_gflops(n: int = 1024, seconds: float = 2.0) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    a @ b
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
    return 2 * n**3 * runs / (time.perf_counter() - start) / 1e9


def images_per_second(engine: ClipEngine, batch: int, seconds: float) -> float:
    size = engine.image_size
    pixels = np.random.default_rng(batch).standard_normal((batch, 3, size, size)).astype(np.float32)
    engine.embed_pixels(pixels)  # warm-up
    runs, start = 0, time.perf_counter()
    while runs < 2 or time.perf_counter() - start < seconds:
        engine.embed_pixels(pixels)
        runs += 1
    return batch * runs / (time.perf_counter() - start)


def query_ids(engine: ClipEngine, tokens: int, pad_to: int | None = None) -> np.ndarray:
    words = engine.tokenize(["word " * (tokens - 2)])
    assert words.shape[1] == tokens, words.shape
    if pad_to:
        words = np.pad(words, ((0, 0), (0, pad_to - tokens)))
    return words


def latency_ms(engine: ClipEngine, ids: np.ndarray, runs: int) -> tuple[float, float]:
    engine._run_text(ids)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        engine._run_text(ids)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default: physical cores)")
    parser.add_argument("--seconds", type=float, default=4.0, help="time per image measurement")
    parser.add_argument("--batches", default="1,4,8,16")
    parser.add_argument("--queries", type=int, default=40, help="runs per query latency measurement")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", RandomWeightsWarning)
    logging.getLogger("photoclip.engine").setLevel(logging.ERROR)  # the random-weights notice, once is enough

    gemm = sgemm_gflops()
    print(f"numpy fp32 matmul (2 threads): {gemm:.1f} GFLOP/s")
    flops = image_gflops(ClipEngine.load(args.bundle, device="cpu").info.image_model)
    counted = flops is not None
    flops = flops or VIT_B32_GFLOPS
    source = "counted from the graph" if counted else "published figure"
    print(f"image tower: {flops:.2f} GFLOP/image = {flops / 2:.2f} GMAC ({source})")

    for spinning in (False, True):
        engine = ClipEngine.load(args.bundle, device="cpu", threads=args.threads, spinning=spinning)
        label = "spinning on " if spinning else "spinning off"
        print(f"\n[{label}] {engine.info.name} ({engine.info.precision}), providers {engine.providers}")
        batches = [int(b) for b in args.batches.split(",")] if not spinning else [8]
        for batch in batches:
            rate = images_per_second(engine, batch, args.seconds)
            achieved = rate * flops
            print(
                f"  images batch {batch:>2}: {rate:6.1f} img/s  = {achieved:5.1f} GFLOP/s "
                f"({achieved / gemm:.0%} of numpy sgemm)"
            )
        for tokens, pad in ((4, None), (16, None), (16, 77)):
            p50, p95 = latency_ms(engine, query_ids(engine, tokens, pad), args.queries)
            shape = f"{tokens} tokens" + (f" padded to {pad}" if pad else "")
            print(f"  query {shape:>22}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
