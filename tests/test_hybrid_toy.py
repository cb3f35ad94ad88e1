"""Hybrid search on the trained toy CLIP: a query none of whose words occur in the library ranks exactly
as CLIP alone does, and a word in a file name moves that photo up.

The photos are shapes drawn by the toy CLIP tests' renderer, named with neutral numbers so no query
word matches a name, except the one photo called "lighthouse.png".
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from photoclip.engine import ClipEngine
from photoclip.library import Library
from photoclip.store.catalog import Catalog
from photoclip.store.settings import Settings
from tests.engine.test_toy_clip import FIXTURE, draw

pytestmark = pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")

PAIRS = [("red", "circle"), ("green", "triangle"), ("blue", "square"), ("yellow", "star")]
PER_PAIR = 3
TOP = 6


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, int]]:
    """The library and the id of "lighthouse.png" (a green triangle)."""
    base = tmp_path_factory.mktemp("hybridtoy")
    pics = base / "pics"
    pics.mkdir()
    rng = random.Random(11)
    n = 0
    for colour, shape in PAIRS:
        for _ in range(PER_PAIR):
            draw(colour, shape, rng).save(pics / f"p{n:02d}.png")
            n += 1
    draw("green", "triangle", rng).save(pics / "lighthouse.png")
    engine = ClipEngine.load(FIXTURE, device="cpu", threads=1)
    lib = Library(base / "lib", Catalog(base / "lib" / "catalog.sqlite3"), engine_factory=lambda: engine,
                  settings=Settings(ocr=False, places=False, auto_tag=False))
    lib.add_folder(pics)
    lib.index()
    lighthouse = next(i.id for i in lib.browse() if i.path.endswith("lighthouse.png"))
    yield lib, lighthouse
    lib.close()


@pytest.mark.parametrize("query", ["a red circle", "a green triangle", "a blue square", "a yellow star"])
def test_query_without_word_matches_ranks_as_clip_alone(library: tuple[Library, int], query: str) -> None:
    lib, _ = library
    hybrid = lib.search(query, top=TOP)
    clip = lib.searcher.search(query, top=TOP)
    assert clip.hits, "the toy model found nothing at all"
    assert all(not h.words for h in hybrid.hits), "a query word matched something: the comparison is void"
    assert [h.id for h in hybrid.hits] == [h.id for h in clip.hits]


def test_file_name_word_moves_the_photo_up(library: tuple[Library, int]) -> None:
    lib, lighthouse = library
    query = "a red circle near the lighthouse"
    clip_ranking = [h.id for h in lib.searcher.search(query, top=100, show_all=True).hits]
    assert clip_ranking.index(lighthouse) >= 3, "CLIP alone already ranks it near the top: nothing to show"
    hybrid = lib.search(query, top=TOP)
    order = [h.id for h in hybrid.hits]
    assert lighthouse in order and order.index(lighthouse) < clip_ranking.index(lighthouse)
    named = hybrid.hits[order.index(lighthouse)]
    assert "lighthouse" in named.words and named.score >= 0.5 > (named.meaning or 0.0)
    # the photos that only look right keep CLIP's order around it, and the score shown is what orders
    others = [i for i in order if i != lighthouse]
    assert others == [i for i in clip_ranking if i != lighthouse][:len(others)]
    assert [h.score for h in hybrid.hits] == sorted((h.score for h in hybrid.hits), reverse=True)
