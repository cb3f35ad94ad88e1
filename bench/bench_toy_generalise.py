"""How well a toy CLIP bundle recognises shapes drawn by a renderer it was never trained on.

Held-out renders: PIL drawing (not the training script's signed distances), any rotation, sizes from
small to large, shapes anywhere inside the centre crop, plain, two-tone, gradient, noisy or
checkered backgrounds, optional outline-only strokes of fill, Gaussian blur, sensor noise and a JPEG
round trip at random quality, then the app's own decode and preprocessing (``ClipEngine``). Prints
precision@8 of "a <colour> <shape>" over 8 images per colour-shape pair, shape-only precision@24 and
colour accuracy. Give several bundles to compare them in one run:

    python bench/bench_toy_generalise.py tests/fixtures/toy-clip /tmp/new-toy-clip
"""

from __future__ import annotations

import argparse
import io
import math
import random
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS = {
    "red": (214, 36, 40),
    "orange": (240, 128, 30),
    "yellow": (236, 206, 44),
    "green": (46, 156, 70),
    "blue": (40, 80, 206),
    "purple": (124, 56, 170),
}
SHAPES = ("circle", "square", "triangle", "star")
PER_PAIR = 8


def _background(w: int, h: int, rng: random.Random, avoid: str) -> Image.Image:
    kind = rng.choice(["plain", "plain", "gradient", "noise", "check", "colour"])
    if kind == "colour":
        other = rng.choice([c for c in COLOURS if c != avoid])
        base = tuple(int(v * rng.uniform(0.45, 0.75) + 255 * 0.25) for v in COLOURS[other])
        return Image.new("RGB", (w, h), base)
    grey = rng.choice([250, 235, 200, 150, 110, 60, 25])
    if kind == "plain":
        return Image.new("RGB", (w, h), (grey, grey, grey + rng.randint(-6, 6)))
    arr = np.full((h, w, 3), grey, dtype=np.float32)
    if kind == "gradient":
        ramp = np.linspace(-40, 40, w, dtype=np.float32)[None, :, None]
        arr = arr + (ramp if rng.random() < 0.5 else np.linspace(-40, 40, h, dtype=np.float32)[:, None, None])
    elif kind == "noise":
        arr = arr + np.random.default_rng(rng.randint(0, 2**31)).normal(0, 18, arr.shape)
    else:
        cell = rng.randint(8, 24)
        yy, xx = np.mgrid[0:h, 0:w]
        arr = arr + (((yy // cell + xx // cell) % 2) * 30 - 15)[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _points(shape: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    if shape == "square":
        n, radii, start = 4, [r * 1.1], rot + math.pi / 4
    elif shape == "triangle":
        n, radii, start = 3, [r * 1.2], rot - math.pi / 2
    else:
        n, radii, start = 5, [r * 1.2, r * rng_ratio(rot)], rot - math.pi / 2
    steps = n * len(radii)
    return [(cx + radii[k % len(radii)] * math.cos(start + 2 * math.pi * k / steps),
             cy + radii[k % len(radii)] * math.sin(start + 2 * math.pi * k / steps)) for k in range(steps)]


def rng_ratio(rot: float) -> float:
    """A star's inner radius ratio, varied but reproducible from its rotation."""
    return 0.42 + 0.12 * (math.sin(rot * 7.0) + 1) / 2


def render(colour: str, shape: str, rng: random.Random) -> bytes:
    w, h = rng.randint(80, 480), rng.randint(80, 480)
    side = min(w, h)
    img = _background(w, h, rng, colour)
    pen = ImageDraw.Draw(img)
    r = side * rng.uniform(0.12, 0.3)
    margin = r * 1.25
    left, top = (w - side) / 2, (h - side) / 2
    cx = left + rng.uniform(margin, side - margin) if side > 2 * margin else left + side / 2
    cy = top + rng.uniform(margin, side - margin) if side > 2 * margin else top + side / 2
    jitter = [max(0, min(255, v + rng.randint(-20, 20))) for v in COLOURS[colour]]
    fill = (jitter[0], jitter[1], jitter[2])
    if shape == "circle":
        stretch = rng.uniform(0.9, 1.1)
        pen.ellipse((cx - r * stretch, cy - r / stretch, cx + r * stretch, cy + r / stretch), fill=fill)
    else:
        pen.polygon(_points(shape, cx, cy, r, rng.uniform(0, 2 * math.pi)), fill=fill)
    if rng.random() < 0.4:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 2.0)))
    if rng.random() < 0.4:
        arr = np.asarray(img, dtype=np.float32)
        arr = arr + np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(3, 12), arr.shape)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(40, 95))
    return buf.getvalue()


def held_out_set(seed: int) -> tuple[list[bytes], list[str], list[str]]:
    rng = random.Random(seed)
    files, colours, shapes = [], [], []
    for c in COLOURS:
        for s in SHAPES:
            for _ in range(PER_PAIR):
                files.append(render(c, s, rng))
                colours.append(c)
                shapes.append(s)
    return files, colours, shapes


def measure(bundle: Path, files: list[bytes], colours: list[str], shapes: list[str]) -> dict[str, float]:
    from photoclip.engine import ClipEngine
    from photoclip.imaging import load_image

    engine = ClipEngine.load(bundle, device="cpu", threads=1)
    images = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(files):
            path = Path(tmp) / f"{i}.jpg"
            path.write_bytes(data)
            images.append(load_image(path, min_side=engine.image_size)[0])
    vectors = engine.embed_images(images)
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    texts = [f"{'an' if c[0] in 'aeiou' else 'a'} {c} {s}" for c, s in pairs]
    scores = vectors @ engine.embed_texts(texts).T
    prec = []
    for q, (c, s) in enumerate(pairs):
        top = np.argsort(-scores[:, q], kind="stable")[:PER_PAIR]
        prec.append(sum(colours[i] == c and shapes[i] == s for i in top) / PER_PAIR)
    shape_scores = vectors @ engine.embed_texts([f"a photo of a {s}" for s in SHAPES]).T
    n = len(COLOURS) * PER_PAIR
    shape_prec = []
    for q, s in enumerate(SHAPES):
        top = np.argsort(-shape_scores[:, q], kind="stable")[:n]
        shape_prec.append(sum(shapes[i] == s for i in top) / n)
    colour_pred = scores.reshape(len(files), len(COLOURS), len(SHAPES)).max(2).argmax(1)
    colour_acc = float(np.mean([list(COLOURS)[p] == c for p, c in zip(colour_pred, colours, strict=True)]))
    return {"precision_at_8": float(np.mean(prec)), "worst_pair": float(min(prec)),
            "shape_precision": float(np.mean(shape_prec)), "colour_accuracy": colour_acc}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=424242, help="the held-out set's seed")
    args = parser.parse_args(argv)
    files, colours, shapes = held_out_set(args.seed)
    print(f"held-out renders: {len(files)} ({PER_PAIR} per colour-shape pair), seed {args.seed}")
    for bundle in args.bundles:
        m = measure(bundle, files, colours, shapes)
        print(f"{bundle!s:40s} precision@8 {m['precision_at_8']:.3f}  worst pair {m['worst_pair']:.3f}  "
              f"shape precision {m['shape_precision']:.3f}  colour accuracy {m['colour_accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
