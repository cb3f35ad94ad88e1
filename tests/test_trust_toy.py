"""Search and auto-tags with the trained toy CLIP: what it does not know it never claims.

Shapes drawn by the toy tests' renderer and scikit-image's sample photos (an astronaut, a cat, a cup of
coffee...), indexed through the library with auto-tagging on and the shipped 445-tag vocabulary.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from photoclip.engine import ClipEngine
from photoclip.library import Library
from photoclip.organize import tagging
from photoclip.store.catalog import Catalog
from photoclip.store.settings import Settings
from tests.engine.test_toy_clip import COLOURS, FIXTURE, SHAPES, draw

pytestmark = pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")
TRAINED_WORDS = {*COLOURS, *SHAPES, "white", "black", "grey", "gray"}
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "cat", "immunohistochemistry")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, dict[int, tuple[str, str]], set[int]]]:
    data = pytest.importorskip("skimage.data")
    base = tmp_path_factory.mktemp("trusttoy")
    shapes, others = base / "shapes", base / "samples"
    shapes.mkdir()
    others.mkdir()
    rng = random.Random(23)
    for colour in COLOURS:
        for shape in SHAPES:
            for i in range(2):
                draw(colour, shape, rng).save(shapes / f"{colour}_{shape}_{i}.png")
    for name in SAMPLES:
        Image.fromarray(getattr(data, name)()).convert("RGB").save(others / f"{name}.jpg")
    engine = ClipEngine.load(FIXTURE, device="cpu", threads=1)
    lib = Library(base / "lib", Catalog(base / "lib" / "catalog.sqlite3"), engine_factory=lambda: engine,
                  settings=Settings(ocr=False, places=False, auto_tag=True))
    lib.add_folder(shapes)
    lib.add_folder(others)
    lib.index()
    truth, samples = {}, set()
    for photo in lib.browse():
        stem = Path(photo.path).stem
        if Path(photo.path).parent == others:
            samples.add(photo.id)
        else:
            colour, shape, _ = stem.split("_")
            truth[photo.id] = (colour, shape)
    assert len(truth) == 48 and len(samples) == len(SAMPLES)
    yield lib, truth, samples
    lib.close()


def test_every_applied_tag_names_something_the_toy_was_taught(library) -> None:
    lib, truth, samples = library
    applied = {pid: [f"{t.name} {t.score:.2f}" for t in lib.photo_tags(pid, include_rejected=False)]
               for pid in [*truth, *samples]}
    for pid in truth:
        for name in applied[pid]:
            assert set(name.rsplit(" ", 1)[0].replace("-", " ").split()) & TRAINED_WORDS, (truth[pid], name)
    photos = lib.catalog.photos(list(samples))
    assert all(applied[pid] == [] for pid in samples), {photos[pid].path: applied[pid] for pid in samples}


def test_tags_the_toy_never_saw_are_unavailable(library) -> None:
    lib, _, _ = library
    infos = {t.name: t for t in lib.tags()}
    for name in ("christmas", "fireworks", "halloween", "fog", "boarding pass", "business card", "dog"):
        assert infos[name].available is False, name
    assert sum(t.available is False for t in infos.values()) > 0.9 * len(infos)
    user = tagging.add_tag(lib.catalog, "red circle", prompts=["a red circle"])
    assert {t.name: t for t in lib.tags()}[user.name].available is True


def test_subtraction_keeps_circles_and_puts_the_blue_ones_last(library) -> None:
    lib, truth, _ = library
    hits = lib.search("circle - blue", top=12).hits
    kinds = [truth.get(h.id) for h in hits]
    assert all(k is not None and k[1] == "circle" for k in kinds[:3]), kinds
    assert all(k[0] != "blue" for k in kinds[:3]), kinds
    assert len({k[0] for k in kinds if k and k[1] == "circle"}) >= 3


def test_gibberish_finds_nothing_meaningful(library) -> None:
    lib, _, _ = library
    result = lib.search("qwxzv")
    assert result.hits == [] and result.unknown == ("qwxzv",)
    assert lib.search("a red circle").hits, "a query the toy knows still finds its photos"
