"""Train the tiny CLIP behind the test fixture ``tests/fixtures/toy-clip/``.

Random weights cannot tell a red circle from a green triangle, so they cannot catch a swapped
channel order, a wrong normalisation, a rotated image or a text tower pooled at the wrong token.
This script trains a very small CLIP, on CPU and in minutes, on coloured shapes drawn on the fly,
with captions such as "a red circle on a blue background" or "a green star on the left". It then
evaluates it on images drawn by a different code path (PIL, JPEG round trip, varied sizes) and saves
a transformers checkpoint that the project's exporter turns into an ONNX bundle:

    python models/toy/train_toy_clip.py --minutes 30 --seed 0 --out models/toy/checkpoint
    python -m photoclip models export --from-transformers models/toy/checkpoint \\
        --out tests/fixtures/toy-clip --name toy-clip --force

Only the rows of the 49,408-token embedding table that the captions use are ever non-zero, so the
exported text tower compresses to a small file in git.
Needs the export extra (torch, transformers) plus ``open_clip_torch`` installed with ``--no-deps``,
``ftfy`` and ``regex``, for the reference CLIP tokenizer and its BPE vocabulary.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import io
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

# Geometry of the toy model: 64 px images cut in 16 px patches, a 16-token text context.
IMAGE_SIZE = 64
PATCH_SIZE = 16
CONTEXT_LENGTH = 16
HIDDEN = 128
VISION_LAYERS = 4
TEXT_LAYERS = 3
PROJECTION = 128
VOCAB_SIZE = 49408
BOS_ID = 49406
EOS_ID = 49407
POSITION_INIT_STD = 0.2
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# Named colours as HSV ranges: (hue centre in degrees, hue jitter, saturation range, value range).
COLOURS: dict[str, tuple[float, float, tuple[float, float], tuple[float, float]]] = {
    "red": (0.0, 8.0, (0.70, 1.0), (0.60, 1.0)),
    "orange": (28.0, 6.0, (0.75, 1.0), (0.85, 1.0)),
    "yellow": (55.0, 6.0, (0.70, 1.0), (0.85, 1.0)),
    "green": (125.0, 22.0, (0.55, 1.0), (0.45, 1.0)),
    "blue": (225.0, 15.0, (0.60, 1.0), (0.55, 1.0)),
    "purple": (283.0, 15.0, (0.50, 1.0), (0.45, 1.0)),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ["circle", "square", "triangle", "star"]
NEUTRALS = ["white", "black", "grey"]
# Background attribute values: the neutrals, then the named colours.
BACKGROUNDS = NEUTRALS + COLOUR_NAMES
POSITIONS = ["left", "right", "top", "bottom"]
POSITION_PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom"}

# Canonical colours of the evaluation renderer (inside the training ranges, but never jittered the same way).
EVAL_RGB = {
    "red": (220, 30, 35),
    "orange": (245, 135, 25),
    "yellow": (245, 215, 35),
    "green": (40, 170, 60),
    "blue": (35, 70, 215),
    "purple": (135, 50, 185),
}
EVAL_BACKGROUNDS = [(255, 255, 255), (245, 245, 240), (20, 20, 20), (128, 128, 128), (200, 200, 205)]

FULL_TEMPLATES = [
    "a {c} {s}",
    "{c} {s}",
    "a photo of a {c} {s}",
    "a picture of a {c} {s}",
    "an image of a {c} {s}",
    "the {c} {s}",
    "a {c} {s} shape",
]
SHAPE_TEMPLATES = ["a {s}", "{s}", "a photo of a {s}", "a picture of a {s}", "a {s} shape"]
BACKGROUND_TEMPLATES = ["a {c} {s} on a {b} background", "a photo of a {c} {s} on a {b} background"]
POSITION_TEMPLATES = ["a {c} {s} {p}", "a photo of a {c} {s} {p}"]


def fix_articles(text: str) -> str:
    """English articles: "a orange" reads "an orange"."""
    words = text.split()
    for i, word in enumerate(words[:-1]):
        if word == "a" and words[i + 1][0] in "aeiou":
            words[i] = "an"
    return " ".join(words)


# ---------------------------------------------------------------------------------------------------------
# Tokenizer: the reference CLIP BPE, loaded by file path because importing open_clip needs torchvision.


def load_reference_tokenizer() -> ModuleType:
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("open_clip_torch is needed: pip install --no-deps open_clip_torch ftfy regex")
    folder = Path(next(iter(spec.submodule_search_locations)))
    module_spec = importlib.util.spec_from_file_location("_clip_reference_tokenizer", folder / "tokenizer.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def encode_captions(tokenizer: object, texts: list[str]) -> torch.Tensor:
    """Start token, BPE ids, end token, padded with the end token to the 16-token context."""
    rows = []
    for text in texts:
        ids = [BOS_ID, *tokenizer.encode(text), EOS_ID]  # type: ignore[attr-defined]
        if len(ids) > CONTEXT_LENGTH:
            raise ValueError(f"caption too long for the {CONTEXT_LENGTH}-token context: {text!r}")
        rows.append(ids + [EOS_ID] * (CONTEXT_LENGTH - len(ids)))
    return torch.tensor(rows, dtype=torch.long)


def save_hf_tokenizer(reference: ModuleType, out: Path) -> None:
    """Save a transformers CLIPTokenizer with the real vocabulary, checked against the reference."""
    from transformers import CLIPTokenizer

    bpe_path = Path(reference.default_bpe())
    with gzip.open(bpe_path) as f:
        lines = f.read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    merges = [tuple(line.split()) for line in lines]
    units = list(reference.bytes_to_unicode().values())
    vocab_list = units + [u + "</w>" for u in units] + ["".join(m) for m in merges]
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(vocab_list)}
    tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=CONTEXT_LENGTH)
    if len(tok) != VOCAB_SIZE:
        raise RuntimeError(f"tokenizer came up with {len(tok)} tokens instead of {VOCAB_SIZE}")
    ref = reference.SimpleTokenizer()
    for text in ["a photo of a purple triangle on a grey background", "An Orange STAR at the top", "cats & dogs"]:
        ours = tok(text)["input_ids"]
        theirs = [BOS_ID, *ref.encode(text), EOS_ID]
        if ours != theirs:
            raise RuntimeError(f"tokenizer disagrees with the reference on {text!r}: {ours} vs {theirs}")
    tok.save_pretrained(out)


# ---------------------------------------------------------------------------------------------------------
# Captions: every caption the training can draw, with the attributes it states (-1: not stated).


@dataclass
class CaptionTable:
    texts: list[str]
    colour: torch.Tensor
    shape: torch.Tensor
    background: torch.Tensor
    position: torch.Tensor
    ids: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    # Index lists by kind, keyed by the attributes the sampler knows.
    full: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    shape_only: dict[int, list[int]] = field(default_factory=dict)
    with_background: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)
    with_position: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)


def build_captions(tokenizer: object) -> CaptionTable:
    texts: list[str] = []
    attrs: list[tuple[int, int, int, int]] = []
    table = CaptionTable([], torch.empty(0), torch.empty(0), torch.empty(0), torch.empty(0))

    def add(text: str, c: int, s: int, b: int, p: int) -> int:
        texts.append(fix_articles(text))
        attrs.append((c, s, b, p))
        return len(texts) - 1

    for si, s in enumerate(SHAPES):
        table.shape_only[si] = [add(t.format(s=s), -1, si, -1, -1) for t in SHAPE_TEMPLATES]
        for ci, c in enumerate(COLOUR_NAMES):
            table.full[(ci, si)] = [add(t.format(c=c, s=s), ci, si, -1, -1) for t in FULL_TEMPLATES]
            for bi, b in enumerate(BACKGROUNDS):
                names = ["grey", "gray"] if b == "grey" else [b]
                table.with_background[(ci, si, bi)] = [
                    add(t.format(c=c, s=s, b=name), ci, si, bi, -1) for t in BACKGROUND_TEMPLATES for name in names
                ]
            for pi, p in enumerate(POSITIONS):
                table.with_position[(ci, si, pi)] = [
                    add(t.format(c=c, s=s, p=POSITION_PHRASES[p]), ci, si, -1, pi) for t in POSITION_TEMPLATES
                ]
    a = torch.tensor(attrs, dtype=torch.long)
    table.texts = texts
    table.colour, table.shape, table.background, table.position = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    table.ids = encode_captions(tokenizer, texts)
    return table


# ---------------------------------------------------------------------------------------------------------
# Training renderer: signed distances on a pixel grid, a whole batch at once.


def _regular_vertices(n: int, radius_ratio: float | None = None) -> torch.Tensor:
    """Unit polygon vertices, first vertex pointing up (image rows grow downwards); a star alternates
    outer and inner radii."""
    if radius_ratio is None:
        angles = [-math.pi / 2 + 2 * math.pi * k / n for k in range(n)]
        return torch.tensor([[math.cos(a), math.sin(a)] for a in angles])
    pts = []
    for k in range(2 * n):
        a = -math.pi / 2 + math.pi * k / n
        r = 1.0 if k % 2 == 0 else radius_ratio
        pts.append([r * math.cos(a), r * math.sin(a)])
    return torch.tensor(pts)


def _polygon_sdf(u: torch.Tensor, v: torch.Tensor, verts: torch.Tensor) -> torch.Tensor:
    """Signed distance (negative inside) from points (u, v) [N,H,W] to polygons verts [N,K,2]."""
    k = verts.shape[1]
    dist = torch.full_like(u, float("inf"))
    inside = torch.zeros_like(u, dtype=torch.bool)
    for i in range(k):
        ax, ay = verts[:, i, 0, None, None], verts[:, i, 1, None, None]
        bx, by = verts[:, (i + 1) % k, 0, None, None], verts[:, (i + 1) % k, 1, None, None]
        pax, pay = u - ax, v - ay
        bax, bay = bx - ax, by - ay
        h = ((pax * bax + pay * bay) / (bax * bax + bay * bay)).clamp(0, 1)
        dist = torch.minimum(dist, torch.hypot(pax - bax * h, pay - bay * h))
        crosses = (ay > v) != (by > v)
        x_at = (bx - ax) * (v - ay) / (by - ay + 1e-9) + ax
        inside ^= crosses & (u < x_at)
    return torch.where(inside, -dist, dist)


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Vectorised HSV (hue in degrees) to RGB in [0, 1], shape [N, 3]."""
    h = (h % 360.0) / 60.0
    c = v * s
    x = c * (1 - ((h % 2) - 1).abs())
    zero = torch.zeros_like(h)
    sector = h.floor().long() % 6
    table = torch.stack(
        [
            torch.stack([c, x, zero], 1),
            torch.stack([x, c, zero], 1),
            torch.stack([zero, c, x], 1),
            torch.stack([zero, x, c], 1),
            torch.stack([x, zero, c], 1),
            torch.stack([c, zero, x], 1),
        ],
        0,
    )
    rgb = table[sector, torch.arange(len(h))]
    return rgb + (v - c)[:, None]


def sample_named_colours(idx: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = len(idx)
    spec = [COLOURS[COLOUR_NAMES[i]] for i in idx.tolist()]
    centre = torch.tensor([s[0] for s in spec])
    jitter = torch.tensor([s[1] for s in spec])
    s_lo, s_hi = torch.tensor([s[2][0] for s in spec]), torch.tensor([s[2][1] for s in spec])
    v_lo, v_hi = torch.tensor([s[3][0] for s in spec]), torch.tensor([s[3][1] for s in spec])
    h = centre + (torch.rand(n, generator=g) * 2 - 1) * jitter
    s = s_lo + torch.rand(n, generator=g) * (s_hi - s_lo)
    v = v_lo + torch.rand(n, generator=g) * (v_hi - v_lo)
    return _hsv_to_rgb(h, s, v)


def sample_backgrounds(idx: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = len(idx)
    rgb = torch.zeros(n, 3)
    grey_tint = (torch.rand(n, 3, generator=g) - 0.5) * 0.06
    level = torch.rand(n, generator=g)
    white = idx == 0
    black = idx == 1
    grey = idx == 2
    rgb[white] = (0.88 + 0.12 * level[white])[:, None] + grey_tint[white]
    rgb[black] = (0.15 * level[black])[:, None] + grey_tint[black].abs()
    rgb[grey] = (0.35 + 0.30 * level[grey])[:, None] + grey_tint[grey]
    coloured = idx >= len(NEUTRALS)
    if coloured.any():
        rgb[coloured] = sample_named_colours(idx[coloured] - len(NEUTRALS), g)
    return rgb.clamp(0, 1)


@dataclass
class Batch:
    pixels: torch.Tensor  # [B, 3, H, W], normalised
    colour: torch.Tensor
    shape: torch.Tensor
    background: torch.Tensor
    position: torch.Tensor  # -1 when the shape sits near the centre


def sample_layout(n: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Centre, radius and position label; about half the shapes sit clearly in one half of the image."""
    off_centre = torch.rand(n, generator=g) < 0.5
    position = torch.where(off_centre, torch.randint(0, 4, (n,), generator=g), torch.full((n,), -1))
    cx = (torch.rand(n, generator=g) * 2 - 1) * 0.1
    cy = (torch.rand(n, generator=g) * 2 - 1) * 0.1
    offset = 0.42 + torch.rand(n, generator=g) * 0.16
    cx = torch.where(position == 0, -offset, torch.where(position == 1, offset, cx))
    # Image rows grow downwards: "top" is negative y.
    cy = torch.where(position == 2, -offset, torch.where(position == 3, offset, cy))
    radius = torch.where(
        off_centre,
        0.24 + torch.rand(n, generator=g) * 0.21,
        0.22 + torch.rand(n, generator=g) * 0.42,
    )
    # Small centred shapes may sit anywhere in the middle, as long as no half clearly holds them.
    slack = ((0.62 - radius).clamp(min=0) * 0.45).clamp(max=0.2)
    cx = torch.where(position == -1, (torch.rand(n, generator=g) * 2 - 1) * slack, cx)
    cy = torch.where(position == -1, (torch.rand(n, generator=g) * 2 - 1) * slack, cy)
    return cx, cy, radius, position


def render_batch(n: int, g: torch.Generator, size: int = IMAGE_SIZE) -> Batch:
    colour = torch.randint(0, len(COLOUR_NAMES), (n,), generator=g)
    shape = torch.randint(0, len(SHAPES), (n,), generator=g)
    # 60% neutral backgrounds, 40% another named colour.
    neutral = torch.rand(n, generator=g) < 0.6
    other = (colour + torch.randint(1, len(COLOUR_NAMES), (n,), generator=g)) % len(COLOUR_NAMES)
    background = torch.where(neutral, torch.randint(0, len(NEUTRALS), (n,), generator=g), other + len(NEUTRALS))
    cx, cy, radius, position = sample_layout(n, g)
    # Mostly upright, as photographed shapes and the test images are; some at any angle.
    upright = torch.rand(n, generator=g) < 0.6
    theta = torch.where(
        upright, (torch.rand(n, generator=g) * 2 - 1) * 0.45, torch.rand(n, generator=g) * 2 * math.pi
    )
    stretch = 1 + (torch.rand(n, generator=g) * 2 - 1) * 0.12

    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    px = xs[None] - cx[:, None, None]
    py = ys[None] - cy[:, None, None]
    cos, sin = theta.cos()[:, None, None], theta.sin()[:, None, None]
    u = (cos * px + sin * py) / radius[:, None, None]
    v = (-sin * px + cos * py) / radius[:, None, None] * stretch[:, None, None]
    sdf = torch.empty(n, size, size)
    for si, name in enumerate(SHAPES):
        sel = shape == si
        if not sel.any():
            continue
        m = int(sel.sum())
        if name == "circle":
            sdf[sel] = torch.hypot(u[sel], v[sel]) - 1
            continue
        if name == "square":
            # Squares over a wide range of sizes (corners up to 1.3 times a circle's radius), so that
            # size never tells a square from a circle.
            verts = _regular_vertices(4).mul(0.85)
            verts = verts @ torch.tensor([[math.cos(math.pi / 4), -math.sin(math.pi / 4)],
                                          [math.sin(math.pi / 4), math.cos(math.pi / 4)]])
            verts = verts.expand(m, -1, -1) * (1 + torch.rand(m, 1, 1, generator=g) * 0.53)
        elif name == "triangle":
            verts = _regular_vertices(3).mul(1.1).expand(m, -1, -1)
        else:
            ratios = 0.38 + torch.rand(m, generator=g) * 0.14
            verts = torch.stack([_regular_vertices(5, float(r)) for r in ratios]).mul(1.1)
        sdf[sel] = _polygon_sdf(u[sel], v[sel], verts)
    # Distance in pixels; a random edge softness stands in for resampling blur.
    softness = 0.6 + torch.rand(n, generator=g) * 1.4
    alpha = (0.5 - sdf * radius[:, None, None] * size / 2 / softness[:, None, None]).clamp(0, 1)[:, None]

    fg = sample_named_colours(colour, g)[:, :, None, None]
    bg = sample_backgrounds(background, g)[:, :, None, None]
    # Gentle linear gradients across the background and the shape, in a random direction.
    angle = torch.rand(n, generator=g) * 2 * math.pi
    ramp = (angle.cos()[:, None, None] * xs + angle.sin()[:, None, None] * ys)[:, None] / 2
    bg_img = bg * (1 + ramp * (torch.rand(n, 1, 1, 1, generator=g) * 0.8))
    bg_img = bg_img + background_texture(n, size, g)
    fg_img = fg * (1 + ramp * (torch.rand(n, 1, 1, 1, generator=g) * 0.3))
    img = alpha * fg_img + (1 - alpha) * bg_img
    blur = torch.rand(n, generator=g) < 0.3
    if blur.any():
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        k = (k[:, None] * k[None]) / 256
        kernel = k.expand(3, 1, 5, 5)
        img[blur] = F.conv2d(F.pad(img[blur], (2, 2, 2, 2), mode="replicate"), kernel, groups=3)
    img = img + torch.randn(img.shape, generator=g) * (torch.rand(n, 1, 1, 1, generator=g) * 0.06)
    img = degrade(img.clamp(0, 1), g)
    return Batch(normalise(img), colour, shape, background, position)


def background_texture(n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """Faint textures behind the shape: blotchy low-frequency noise or a checkerboard (a third each)."""
    kind = torch.randint(0, 3, (n,), generator=g)
    out = torch.zeros(n, 1, size, size)
    blotchy = kind == 1
    if blotchy.any():
        coarse = torch.randn(int(blotchy.sum()), 1, 6, 6, generator=g)
        out[blotchy] = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False) * 0.06
    checked = kind == 2
    if checked.any():
        cells = torch.randint(3, 9, (int(checked.sum()),), generator=g)
        idx = torch.arange(size)
        rows = []
        for c in cells.tolist():
            board = ((idx[:, None] // c + idx[None, :] // c) % 2).float() - 0.5
            rows.append(board)
        out[checked] = torch.stack(rows)[:, None] * (torch.rand(len(rows), 1, 1, 1, generator=g) * 0.12)
    return out


def degrade(img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """What photos of shapes go through: brightness and contrast, lost resolution, JPEG artefacts.

    A quarter of the images lose resolution (down to between a half and a quarter, back up
    bilinearly); a quarter go through a real JPEG round trip at a low to middling quality.
    """
    n, _, size, _ = img.shape
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.15
    shift = (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.06
    img = ((img - 0.5) * gain + 0.5 + shift).clamp(0, 1)
    small = torch.rand(n, generator=g) < 0.25
    for i in small.nonzero().flatten().tolist():
        side = int(size * (0.25 + 0.25 * float(torch.rand(1, generator=g))))
        low = F.interpolate(img[i:i + 1], size=(side, side), mode="area")
        img[i:i + 1] = F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    jpeg = torch.rand(n, generator=g) < 0.25
    for i in jpeg.nonzero().flatten().tolist():
        arr = (img[i].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=int(20 + 70 * float(torch.rand(1, generator=g))))
        buf.seek(0)
        back = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255.0
        img[i] = torch.from_numpy(back).permute(2, 0, 1)
    return img


def normalise(img: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CLIP_MEAN)[None, :, None, None]
    std = torch.tensor(CLIP_STD)[None, :, None, None]
    return (img - mean) / std


def sample_captions(batch: Batch, table: CaptionTable, rng: random.Random) -> list[int]:
    """One caption per image, true of it: mostly colour and shape, sometimes shape only, background or place."""
    chosen = []
    for c, s, b, p in zip(
        batch.colour.tolist(), batch.shape.tolist(), batch.background.tolist(), batch.position.tolist(), strict=True
    ):
        roll = rng.random()
        if roll < 0.15:
            chosen.append(rng.choice(table.shape_only[s]))
        elif roll < 0.25:
            chosen.append(rng.choice(table.with_background[(c, s, b)]))
        elif roll < 0.50 and p >= 0:
            chosen.append(rng.choice(table.with_position[(c, s, p)]))
        else:
            chosen.append(rng.choice(table.full[(c, s)]))
    return chosen


def match_matrix(batch: Batch, table: CaptionTable, caps: torch.Tensor) -> torch.Tensor:
    """[images, captions]: True where the caption is true of the image (many captions fit many images)."""

    def agrees(stated: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        return (stated[None, :] == -1) | (stated[None, :] == actual[:, None])

    return (
        agrees(table.colour[caps], batch.colour)
        & (table.shape[caps][None, :] == batch.shape[:, None])
        & agrees(table.background[caps], batch.background)
        & agrees(table.position[caps], batch.position)
    )


def class_losses(
    model: torch.nn.Module, batch: Batch, img: torch.Tensor, table: CaptionTable, ids: torch.Tensor,
    rng: random.Random,
) -> torch.Tensor:
    """Each image against every colour-shape caption, every shape caption and its four places.

    A batch of 128 holds only a few images of each pair, so contrast alone learns shape slowly;
    scoring every image against all 24 pair captions (a wording drawn afresh each step) puts the
    same colour in another shape beside every image as a hard negative, and a separate shape-only
    term weights shape up.
    """
    scale = model.logit_scale.exp().clamp(max=100)
    n_c, n_s = len(COLOUR_NAMES), len(SHAPES)
    pair_caps = [rng.choice(table.full[(c, s)]) for c in range(n_c) for s in range(n_s)]
    shape_caps = [rng.choice(table.shape_only[s]) for s in range(n_s)]
    placed = (batch.position >= 0).nonzero().flatten()
    place_caps = [
        rng.choice(table.with_position[(int(batch.colour[i]), int(batch.shape[i]), p)])
        for i in placed.tolist() for p in range(len(POSITIONS))
    ]
    txt = text_features(model, ids[torch.tensor(pair_caps + shape_caps + place_caps)])
    pair_txt, shape_txt, place_txt = txt[: n_c * n_s], txt[n_c * n_s : n_c * n_s + n_s], txt[n_c * n_s + n_s :]
    loss = F.cross_entropy(scale * img @ pair_txt.T, batch.colour * n_s + batch.shape)
    loss = loss + 1.5 * F.cross_entropy(scale * img @ shape_txt.T, batch.shape)
    if len(placed):
        place_logits = scale * torch.einsum("nd,npd->np", img[placed], place_txt.view(len(placed), len(POSITIONS), -1))
        loss = loss + F.cross_entropy(place_logits, batch.position[placed])
    return loss


# ---------------------------------------------------------------------------------------------------------
# Evaluation renderer: PIL drawing, varied sizes and aspect ratios, a JPEG round trip, the app's preprocessing.


def pil_shape_points(shape: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    if shape == "square":
        # Corner at r: the training squares are a little smaller than circles of the same radius.
        n, radii = 4, [r]
        start = rot + math.pi / 4
    elif shape == "triangle":
        n, radii, start = 3, [r * 1.15], rot - math.pi / 2
    else:
        n, radii, start = 5, [r * 1.15, r * 0.5], rot - math.pi / 2
    pts = []
    steps = n * len(radii)
    for k in range(steps):
        a = start + 2 * math.pi * k / steps
        rad = radii[k % len(radii)]
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    return pts


def draw_eval_image(colour: str, shape: str, rng: random.Random, position: str | None = None) -> Image.Image:
    w, h = rng.randint(90, 320), rng.randint(90, 320)
    side = min(w, h)
    bg = rng.choice(EVAL_BACKGROUNDS)
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    # Keep the shape inside the central square the app's centre crop keeps.
    left, top = (w - side) / 2, (h - side) / 2
    if position is None:
        r = side * rng.uniform(0.18, 0.28)
        cx = left + side / 2 + rng.uniform(-0.06, 0.06) * side
        cy = top + side / 2 + rng.uniform(-0.06, 0.06) * side
    else:
        r = side * rng.uniform(0.14, 0.19)
        dx = {"left": -0.27, "right": 0.27}.get(position, rng.uniform(-0.04, 0.04))
        dy = {"top": -0.27, "bottom": 0.27}.get(position, rng.uniform(-0.04, 0.04))
        cx, cy = left + side * (0.5 + dx), top + side * (0.5 + dy)
    fill = tuple(min(255, max(0, v + rng.randint(-12, 12))) for v in EVAL_RGB[colour])
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    else:
        draw.polygon(pil_shape_points(shape, cx, cy, r, rng.uniform(-0.3, 0.3)), fill=fill)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(75, 95))
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def preprocess(img: Image.Image) -> torch.Tensor:
    """CLIP's preprocessing at 64 px: bicubic resize of the short side, centre crop, normalisation."""
    w, h = img.size
    scale = IMAGE_SIZE / min(w, h)
    img = img.resize((max(IMAGE_SIZE, round(w * scale)), max(IMAGE_SIZE, round(h * scale))), Image.BICUBIC)
    w, h = img.size
    left, top = (w - IMAGE_SIZE) // 2, (h - IMAGE_SIZE) // 2
    img = img.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    return normalise(arr)[0]


@dataclass
class EvalSet:
    pixels: torch.Tensor
    colour: list[str]
    shape: list[str]
    position: list[str | None]


def build_eval_set(seed: int, per_class: int = 8) -> tuple[EvalSet, EvalSet]:
    rng = random.Random(seed + 1_000_003)
    imgs, cols, shps = [], [], []
    for c in COLOUR_NAMES:
        for s in SHAPES:
            for _ in range(per_class):
                imgs.append(preprocess(draw_eval_image(c, s, rng)))
                cols.append(c)
                shps.append(s)
    main = EvalSet(torch.stack(imgs), cols, shps, [None] * len(cols))
    imgs, cols, shps, poss = [], [], [], []
    for _ in range(96):
        c, s, p = rng.choice(COLOUR_NAMES), rng.choice(SHAPES), rng.choice(POSITIONS)
        imgs.append(preprocess(draw_eval_image(c, s, rng, position=p)))
        cols.append(c)
        shps.append(s)
        poss.append(p)
    return main, EvalSet(torch.stack(imgs), cols, shps, poss)


def _features(out: object) -> torch.Tensor:
    """transformers returns a tensor or a model output depending on the version."""
    return out if isinstance(out, torch.Tensor) else out.pooler_output  # type: ignore[attr-defined]


def text_features(model: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """Normalised text embeddings of unique captions; the context is cut after the longest end token.

    The causal mask never lets the end token see what follows it, so cutting the padding and
    embedding each distinct caption once changes nothing but the cost.
    """
    unique, inverse = ids.unique(dim=0, return_inverse=True)
    eos = model.config.text_config.eos_token_id
    length = int((unique == eos).int().argmax(1).max()) + 1
    feats = F.normalize(_features(model.get_text_features(input_ids=unique[:, :length])), dim=-1)
    return feats[inverse]


def image_features(model: torch.nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    return F.normalize(_features(model.get_image_features(pixel_values=pixels)), dim=-1)


Encoder = Callable[[list[str]], torch.Tensor]


@torch.no_grad()
def evaluate(model: torch.nn.Module, encode: Encoder, main: EvalSet, placed: EvalSet) -> dict[str, float]:
    """Precision@8 of "a <colour> <shape>" over the gallery, and zero-shot accuracies per attribute."""
    was_training = model.training
    model.eval()
    img = image_features(model, main.pixels)
    queries = [(c, s) for c in COLOUR_NAMES for s in SHAPES]
    txt = text_features(model, encode([fix_articles(f"a {c} {s}") for c, s in queries]))
    top = (txt @ img.T).topk(8, dim=1).indices
    per_query = []
    for qi, (c, s) in enumerate(queries):
        hits = sum(main.colour[j] == c and main.shape[j] == s for j in top[qi].tolist())
        per_query.append(hits / 8)
    shape_txt = text_features(model, encode([f"a photo of a {s}" for s in SHAPES]))
    shape_pred = (img @ shape_txt.T).argmax(1).tolist()
    shape_acc = float(np.mean([SHAPES[p] == s for p, s in zip(shape_pred, main.shape, strict=True)]))
    colour_txt = text_features(model, encode([fix_articles(f"a {c} {s}") for c in COLOUR_NAMES for s in SHAPES]))
    # A colour's score is its best caption over the shapes.
    colour_scores = (img @ colour_txt.T).view(len(img), len(COLOUR_NAMES), len(SHAPES)).amax(2)
    colour_pred = colour_scores.argmax(1).tolist()
    colour_acc = float(np.mean([COLOUR_NAMES[p] == c for p, c in zip(colour_pred, main.colour, strict=True)]))
    pimg = image_features(model, placed.pixels)
    texts = [
        fix_articles(f"a {c} {s} {POSITION_PHRASES[p]}")
        for c, s in zip(placed.colour, placed.shape, strict=True)
        for p in POSITIONS
    ]
    ptxt = text_features(model, encode(texts)).view(len(pimg), len(POSITIONS), -1)
    ppred = torch.einsum("nd,npd->np", pimg, ptxt).argmax(1).tolist()
    pos_acc = float(np.mean([POSITIONS[p] == t for p, t in zip(ppred, placed.position, strict=True)]))
    model.train(was_training)
    return {
        "precision_at_8": float(np.mean(per_query)),
        "worst_query_precision_at_8": float(min(per_query)),
        "shape_accuracy": shape_acc,
        "colour_accuracy": colour_acc,
        "position_accuracy": pos_acc,
    }


# ---------------------------------------------------------------------------------------------------------
# Model and training loop.


def build_model(vocab_size: int, bos_id: int, eos_id: int) -> torch.nn.Module:
    from transformers import CLIPConfig, CLIPModel, CLIPTextConfig, CLIPVisionConfig

    text = CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=HIDDEN,
        intermediate_size=HIDDEN * 4,
        num_hidden_layers=TEXT_LAYERS,
        num_attention_heads=4,
        max_position_embeddings=CONTEXT_LENGTH,
        projection_dim=PROJECTION,
        # The real end token: the text tower pools at its first occurrence.
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=eos_id,
    )
    vision = CLIPVisionConfig(
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        hidden_size=HIDDEN,
        intermediate_size=HIDDEN * 4,
        num_hidden_layers=VISION_LAYERS,
        num_attention_heads=4,
        projection_dim=PROJECTION,
    )
    config = CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=PROJECTION)
    return CLIPModel(config)


def expand_vocabulary(compact: torch.nn.Module, used_ids: torch.Tensor) -> torch.nn.Module:
    """The full-vocabulary model: the trained rows in place, every other token row exactly zero.

    Training keeps only the rows of tokens the captions use (a few dozen of 49,408): the same model,
    far cheaper to optimise, and the zero rows make the exported file compress well.
    """
    full = build_model(VOCAB_SIZE, BOS_ID, EOS_ID)
    state = compact.state_dict()
    key = "text_model.embeddings.token_embedding.weight"
    table = torch.zeros(VOCAB_SIZE, HIDDEN)
    table[used_ids] = state[key]
    state[key] = table
    full.load_state_dict(state)
    return full


def weights_from_bundle(bundle: Path) -> dict[str, torch.Tensor]:
    """A transformers state dict read back from an exported bundle's two ONNX files.

    The exporter keeps parameter names for biases, norms and embeddings; weight matrices become
    anonymous MatMul inputs, transposed. Each is named after the bias its product is added to, and
    the one MatMul per tower with no bias after it is that tower's projection.
    """
    import onnx
    from onnx import numpy_helper

    state: dict[str, torch.Tensor] = {}
    for file, projection in (("image.onnx", "visual_projection.weight"), ("text.onnx", "text_projection.weight")):
        graph = onnx.load(str(bundle / file)).graph
        inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        for name, value in inits.items():
            if not name.startswith("onnx::"):
                state[name] = torch.from_numpy(value.copy())
        for node in graph.node:
            if node.op_type != "MatMul":
                continue
            weight = next((i for i in node.input if i in inits and i.startswith("onnx::")), None)
            if weight is None:
                continue
            adds = [c for c in consumers.get(node.output[0], []) if c.op_type == "Add"]
            bias = next((i for c in adds for i in c.input if i.endswith(".bias") and i in inits), None)
            target = bias[: -len(".bias")] + ".weight" if bias else projection
            state[target] = torch.from_numpy(inits[weight].T.copy())
    return state


def load_into_compact(model: torch.nn.Module, bundle: Path, used_ids: torch.Tensor) -> None:
    """Start a compact-vocabulary model from an exported bundle's weights (fine-tuning)."""
    state = weights_from_bundle(bundle)
    key = "text_model.embeddings.token_embedding.weight"
    state[key] = state[key][used_ids]
    own = model.state_dict()
    missing = [k for k in own if k not in state and "position_ids" not in k and k != "logit_scale"]
    if missing:
        raise SystemExit(f"{bundle} lacks weights for {missing[:5]}")
    state = {k: v for k, v in state.items() if k in own}
    model.load_state_dict(state, strict=False)


def save_checkpoint(model: torch.nn.Module, reference: ModuleType, out: Path) -> None:
    from transformers import CLIPImageProcessor

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    save_hf_tokenizer(reference, out)
    CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_mean=list(CLIP_MEAN),
        image_std=list(CLIP_STD),
    ).save_pretrained(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training wall-clock budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "checkpoint")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; on a busy machine more threads spin and run far slower")
    parser.add_argument("--eval-every", type=float, default=90.0, help="seconds between evaluations")
    parser.add_argument("--min-minutes", type=float, default=8.0, help="never stop early before this")
    parser.add_argument("--target", type=float, default=0.98,
                        help="stop early once precision@8 and every accuracy reach this twice in a row")
    parser.add_argument("--steps", type=int, default=None,
                        help="train this many steps (the schedule follows steps, not the clock)")
    parser.add_argument("--eval-only", action="store_true", help="evaluate the checkpoint in --out and exit")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from an exported bundle's weights (e.g. tests/fixtures/toy-clip) and fine-tune")
    parser.add_argument("--init-logit-scale", type=float, default=16.55,
                        help="the temperature the --init bundle was trained to (not kept in its ONNX files)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    reference = load_reference_tokenizer()
    tokenizer = reference.SimpleTokenizer()
    table = build_captions(tokenizer)
    used_ids = table.ids.unique()
    to_compact = torch.full((VOCAB_SIZE,), -1, dtype=torch.long)
    to_compact[used_ids] = torch.arange(len(used_ids))
    compact_ids = to_compact[table.ids]
    print(f"{len(table.texts)} captions, {len(used_ids)} distinct tokens", flush=True)

    if args.eval_only:
        from transformers import CLIPModel

        checkpoint = CLIPModel.from_pretrained(args.out).eval()
        scores = evaluate(checkpoint, lambda texts: encode_captions(tokenizer, texts), *build_eval_set(args.seed))
        print(json.dumps(scores), flush=True)
        return 0

    def encode_compact(texts: list[str]) -> torch.Tensor:
        ids = to_compact[encode_captions(tokenizer, texts)]
        if (ids < 0).any():
            raise ValueError(f"a word outside the training captions in {texts}")
        return ids

    model = build_model(len(used_ids), int(to_compact[BOS_ID]), int(to_compact[EOS_ID]))
    # transformers starts the patch positions at std 0.02, some 30 times weaker than a flat patch's
    # content: Adam then needs thousands of steps before the image tower can tell left from right.
    with torch.no_grad():
        model.vision_model.embeddings.position_embedding.weight.normal_(std=POSITION_INIT_STD)
    if args.init is not None:
        load_into_compact(model, args.init, used_ids)
        with torch.no_grad():
            model.logit_scale.fill_(math.log(args.init_logit_scale))
        print(f"fine-tuning from {args.init}", flush=True)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "embedding" in name or "logit_scale" in name else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.98), eps=1e-6,
    )
    main_eval, placed_eval = build_eval_set(args.seed)
    print(f"trained parameters: {sum(p.numel() for p in model.parameters()):,}", flush=True)

    budget = args.minutes * 60
    warmup = 30
    start = time.monotonic()
    # Fine-tuning: evaluate after the first step, to see where the loaded weights start from.
    last_eval = start - args.eval_every if args.init is not None else start
    step = 0
    good_in_a_row = 0
    history: list[dict[str, float]] = []
    model.train()
    while True:
        elapsed = time.monotonic() - start
        if (args.steps is None and elapsed >= budget) or (args.steps is not None and step >= args.steps):
            break
        frac = elapsed / budget if args.steps is None else step / args.steps
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for group in opt.param_groups:
            group["lr"] = lr
        batch = render_batch(args.batch, g)
        caps = torch.tensor(sample_captions(batch, table, rng))
        targets = match_matrix(batch, table, caps).float()
        img = image_features(model, batch.pixels)
        txt = text_features(model, compact_ids[caps])
        logits = model.logit_scale.exp().clamp(max=100) * img @ txt.T
        loss_i = -(targets / targets.sum(1, keepdim=True) * logits.log_softmax(1)).sum(1).mean()
        loss_t = -(targets.T / targets.T.sum(1, keepdim=True) * logits.T.log_softmax(1)).sum(1).mean()
        loss = (loss_i + loss_t) / 2 + class_losses(model, batch, img, table, compact_ids, rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.monotonic()
        if now - last_eval >= args.eval_every:
            last_eval = now
            metrics: dict[str, float] = evaluate(model, encode_compact, main_eval, placed_eval)
            metrics.update(step=step, minutes=round((now - start) / 60, 2), loss=round(loss.item(), 4),
                           lr=round(lr, 7), logit_scale=round(model.logit_scale.exp().item(), 2))
            history.append(metrics)
            print(json.dumps(metrics), flush=True)
            scores = [metrics[k] for k in ("precision_at_8", "shape_accuracy", "colour_accuracy",
                                           "position_accuracy")]
            good_in_a_row = good_in_a_row + 1 if min(scores) >= args.target else 0
            if good_in_a_row >= 2 and (now - start) / 60 >= args.min_minutes:
                print("target reached twice in a row: stopping early", flush=True)
                break

    train_minutes = (time.monotonic() - start) / 60
    full = expand_vocabulary(model, used_ids).eval()

    def encode_full(texts: list[str]) -> torch.Tensor:
        return encode_captions(tokenizer, texts)

    # Evaluated through the full vocabulary and the real token ids: what the exporter will see.
    final: dict[str, float] = evaluate(full, encode_full, main_eval, placed_eval)
    final.update(step=step, minutes=round(train_minutes, 2))
    print("final " + json.dumps(final), flush=True)
    save_checkpoint(full, reference, args.out)
    report = {
        "seed": args.seed,
        "batch": args.batch,
        "lr": args.lr,
        "threads": args.threads,
        "steps": step,
        "train_minutes": round(train_minutes, 2),
        "non_zero_token_rows": len(used_ids),
        "final": final,
        "history": history,
    }
    (args.out / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
