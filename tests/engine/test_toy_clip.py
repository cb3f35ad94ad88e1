"""Semantic tests of the trained toy CLIP fixture, through the app's own path.

Photos are drawn here with PIL (a different drawing code path from the one the model was trained
on), written to disk as JPEG and PNG files of varied sizes and aspect ratios, decoded with
``photoclip.imaging.load_image`` and embedded with ``ClipEngine``. A model with random weights
passes none of these; a wrong channel order, normalisation, orientation, text pooling or
tokenizer in the app makes them fail. ``models/toy/README.md`` says how the fixture is rebuilt.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from photoclip.engine import ClipEngine
from photoclip.engine.tokenizer import ClipTokenizer
from photoclip.imaging import load_image
from photoclip.paths import resources_dir

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "toy-clip"
COLOURS = {
    "red": (228, 28, 30),
    "orange": (248, 140, 28),
    "yellow": (242, 212, 40),
    "green": (34, 162, 58),
    "blue": (30, 66, 212),
    "purple": (128, 48, 178),
}
SHAPES = ("circle", "square", "triangle", "star")
BACKGROUNDS = ((255, 255, 255), (236, 236, 230), (28, 28, 30), (120, 120, 124))
PER_CLASS = 4
POSITION_PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom"}
# EXIF orientation -> the PIL transpose that turns the displayed picture into the stored pixels.
STORED_FROM_DISPLAYED = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
# Where a shape shown at a place sits in the stored pixels, for each orientation.
STORED_PLACE = {
    3: {"left": "right", "right": "left", "top": "bottom", "bottom": "top"},
    6: {"left": "bottom", "right": "top", "top": "left", "bottom": "right"},
    8: {"left": "top", "right": "bottom", "top": "right", "bottom": "left"},
}


def query(colour: str, shape: str, place: str | None = None) -> str:
    article = "an" if colour[0] in "aeiou" else "a"
    text = f"{article} {colour} {shape}"
    return f"{text} {POSITION_PHRASES[place]}" if place else text


def draw(colour: str, shape: str, rng: random.Random, place: str | None = None) -> Image.Image:
    """One shape on a plain background, drawn 3x larger then reduced (smooth edges)."""
    width, height = rng.randint(110, 420), rng.randint(110, 420)
    scale = 3
    side = min(width, height) * scale
    img = Image.new("RGB", (width * scale, height * scale), rng.choice(BACKGROUNDS))
    pen = ImageDraw.Draw(img)
    # The centre crop the model sees is the central square: keep the shape inside it.
    x0, y0 = (width * scale - side) / 2, (height * scale - side) / 2
    if place is None:
        radius = side * rng.uniform(0.2, 0.27)
        cx, cy = x0 + side * rng.uniform(0.45, 0.55), y0 + side * rng.uniform(0.45, 0.55)
    else:
        radius = side * rng.uniform(0.15, 0.18)
        dx = {"left": -0.28, "right": 0.28}.get(place, 0.0)
        dy = {"top": -0.28, "bottom": 0.28}.get(place, 0.0)
        cx, cy = x0 + side * (0.5 + dx), y0 + side * (0.5 + dy)
    fill = COLOURS[colour]
    turn = rng.uniform(-20, 20)
    if shape == "circle":
        pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
    elif shape == "square":
        pen.regular_polygon((cx, cy, radius), 4, rotation=45 + turn, fill=fill)
    elif shape == "triangle":
        pen.regular_polygon((cx, cy, radius * 1.2), 3, rotation=turn, fill=fill)
    else:
        points = []
        for k in range(10):
            angle = math.radians(turn - 90 + 36 * k)
            r = radius * (1.2 if k % 2 == 0 else 0.52)
            points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
        pen.polygon(points, fill=fill)
    return img.resize((width, height), Image.Resampling.LANCZOS)


@dataclass
class Gallery:
    vectors: np.ndarray
    colours: list[str]
    shapes: list[str]
    paths: list[Path]

    def top(self, engine: ClipEngine, text: str, k: int) -> list[int]:
        scores = self.vectors @ engine.embed_texts([text])[0]
        return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.fixture(scope="module")
def engine() -> ClipEngine:
    assert (FIXTURE / "photoclip.json").is_file(), f"the toy CLIP fixture is missing from {FIXTURE}"
    loaded = ClipEngine.load(FIXTURE, device="cpu", threads=1)
    assert not loaded.is_random
    return loaded


def decode(path: Path, engine: ClipEngine) -> Image.Image:
    image, _ = load_image(path, min_side=engine.image_size)
    return image


@pytest.fixture(scope="module")
def gallery(engine: ClipEngine, tmp_path_factory: pytest.TempPathFactory) -> Gallery:
    """Every colour-shape pair PER_CLASS times, alternately JPEG and PNG, decoded the app's way."""
    folder = tmp_path_factory.mktemp("shapes")
    rng = random.Random(20261123)
    colours, shapes, paths = [], [], []
    for colour in COLOURS:
        for shape in SHAPES:
            for i in range(PER_CLASS):
                path = folder / f"{colour}-{shape}-{i}.{'jpg' if i % 2 == 0 else 'png'}"
                image = draw(colour, shape, rng)
                if path.suffix == ".jpg":
                    image.save(path, quality=rng.randint(80, 95))
                else:
                    image.save(path)
                colours.append(colour)
                shapes.append(shape)
                paths.append(path)
    vectors = engine.embed_images([decode(p, engine) for p in paths])
    return Gallery(vectors, colours, shapes, paths)


def test_fixture_speaks_the_projects_clip_tokenizer(engine: ClipEngine) -> None:
    """The fixture's vocabulary is the real CLIP one, with the 16-token context it was trained with."""
    project = ClipTokenizer(resources_dir() / "clip_tokenizer.json", engine.info.context_length)
    assert engine.info.context_length == 16
    texts = [query(c, s, p) for c in COLOURS for s in SHAPES for p in (None, *POSITION_PHRASES)]
    assert [engine.tokenizer.ids(t) for t in texts] == [project.ids(t) for t in texts]
    long = engine.tokenizer.ids("a photo of a purple triangle " * 4)
    assert len(long) == 16 and long[-1] == project.end_id


@pytest.mark.parametrize(("colour", "shape"), [("red", "circle"), ("green", "triangle"), ("blue", "square"),
                                               ("yellow", "star")])
def test_query_ranks_its_own_photos_first(engine: ClipEngine, gallery: Gallery, colour: str, shape: str) -> None:
    scores = gallery.vectors @ engine.embed_texts([query(colour, shape)])[0]
    own = np.array([c == colour and s == shape for c, s in zip(gallery.colours, gallery.shapes, strict=True)])
    other_colour = np.array([c != colour for c in gallery.colours])
    ranks = np.argsort(np.argsort(-scores, kind="stable"), kind="stable")
    assert (ranks[own] < PER_CLASS).sum() >= PER_CLASS - 1, sorted(ranks[own])
    assert ranks[own].max() < 2 * PER_CLASS, sorted(ranks[own])
    # Colour is never in doubt: every matching photo beats every photo of another colour outright.
    assert scores[own].min() > scores[other_colour].max() + 0.02


def test_every_colour_and_shape_query_finds_its_photos(engine: ClipEngine, gallery: Gallery) -> None:
    """All 24 queries in one batch with a longer text, so that the short ones run padded."""
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    texts = [query(c, s) for c, s in pairs]
    batch = [*texts, "a photo of a purple triangle on a black background"]
    assert engine.tokenize(batch).shape[1] > len(engine.tokenizer.ids(texts[0]))
    scores = gallery.vectors @ engine.embed_texts(batch)[: len(texts)].T
    precisions, worst = {}, {}
    for q, text in enumerate(texts):
        colour, shape = pairs[q]
        order = list(np.argsort(-scores[:, q], kind="stable"))
        own = [i for i in order if gallery.colours[i] == colour and gallery.shapes[i] == shape]
        precisions[text] = sum(order.index(i) < PER_CLASS for i in own) / PER_CLASS
        worst[text] = max(order.index(i) for i in own) + 1
    assert np.mean(list(precisions.values())) >= 0.9, precisions
    assert min(precisions.values()) >= 0.5, precisions
    assert max(worst.values()) <= 2 * PER_CLASS, worst


def test_shape_words_alone_find_the_shape_in_any_colour(engine: ClipEngine, gallery: Gallery) -> None:
    n = len(COLOURS) * PER_CLASS
    for shape in SHAPES:
        top = gallery.top(engine, f"a photo of a {shape}", n)
        hits = sum(gallery.shapes[i] == shape for i in top)
        assert hits >= n - 4, f"'a photo of a {shape}': {hits} of the top {n} are {shape}s"


def test_swapped_colour_channels_change_the_answer(engine: ClipEngine, gallery: Gallery) -> None:
    """The fixture sees colour: the same photos with red and blue swapped answer the opposite query."""
    swapped = engine.embed_images(
        [Image.fromarray(np.asarray(decode(p, engine))[:, :, ::-1].copy()) for p in gallery.paths]
    )
    scores = swapped @ engine.embed_texts([query("red", "circle")])[0]
    top = np.argsort(-scores, kind="stable")[:PER_CLASS]
    blue_circles = sum(gallery.colours[i] == "blue" and gallery.shapes[i] == "circle" for i in top)
    assert blue_circles >= PER_CLASS - 1


def test_exif_orientation_is_applied_before_embedding(engine: ClipEngine, tmp_path: Path) -> None:
    """Photos stored sideways with an EXIF orientation: the model must see them upright."""
    rng = random.Random(7)
    upright_right, stored_right, total = 0, 0, 0
    for orientation in (6, 8, 3):
        for place in POSITION_PHRASES:
            colour, shape = rng.choice(list(COLOURS)), rng.choice(SHAPES)
            shown = draw(colour, shape, rng, place=place)
            exif = Image.Exif()
            exif[0x0112] = orientation
            path = tmp_path / f"{orientation}-{place}.jpg"
            shown.transpose(STORED_FROM_DISPLAYED[orientation]).save(path, quality=92, exif=exif.tobytes())
            vector = engine.embed_images([decode(path, engine)])[0]
            places = list(POSITION_PHRASES)
            guess = places[int(np.argmax(engine.embed_texts([query(colour, shape, p) for p in places]) @ vector))]
            upright_right += guess == place
            stored_right += guess == STORED_PLACE[orientation][place]
            total += 1
    assert upright_right >= total - 2, f"{upright_right} of {total} photos placed right once upright"
    assert stored_right <= 2
