"""Meaning and words in one search: parsing, reciprocal rank fusion, explanations and word-only queries.

Vectors are hand-made (tests.fakes), OCR lines and places are stored directly: these tests are about how
ranks are fused, so they run in milliseconds; test_ocr.py and test_places.py cover reading them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from photoclip.enrich.ocr import OcrLine, OcrResult
from photoclip.enrich.places import Place
from photoclip.enrich.stage import store_ocr, store_places
from photoclip.errors import QueryError
from photoclip.search import Filters, Searcher
from photoclip.search import hybrid as hybrid_module
from photoclip.search.hybrid import HybridHit, HybridSearcher, parse_hybrid
from photoclip.search.keywords import KeywordIndex
from photoclip.store.catalog import Catalog
from tests.fakes import DIM, FakeEmbedder, add_photo, axis_vector

LISBON = Place(38.72, -9.14, "Intendente", "Lisbon", None, "Portugal", "PT")
TOKYO = Place(35.68, 139.65, "Eifuku", "Tokyo", "Suginami-ku", "Japan", "JP")


@pytest.fixture
def lib(tmp_path: Path):
    photos = tmp_path / "photos"
    photos.mkdir()
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    folder = catalog.add_folder(photos)
    yield catalog, folder.id, Path(folder.path)
    catalog.close()


def put_text(catalog: Catalog, photo_id: int, *lines: str) -> None:
    box = ((1.0, 2.0), (30.0, 2.0), (30.0, 9.0), (1.0, 9.0))
    store_ocr(catalog, catalog.photo(photo_id), "test-engine",
              OcrResult(tuple(OcrLine(t, box, 0.95) for t in lines), False, 0.2))


def put_place(catalog: Catalog, photo_id: int, place: Place) -> None:
    store_places(catalog, [(catalog.photo(photo_id), place)])


def colour_library(catalog: Catalog, folder_id: int, root: Path, n: int = 40, seed: int = 0) -> list[int]:
    """Photos that differ only in colour, with neutral file names."""
    rng = np.random.default_rng(seed)
    ids = []
    for i in range(n):
        v = np.zeros(DIM, dtype=np.float32)
        v[:3] = rng.uniform(0.05, 1.0, 3)
        v[3:] = rng.uniform(0.0, 0.1, DIM - 3)
        ids.append(add_photo(catalog, folder_id, root / f"DSC{i:05d}.jpg", v))
    return ids


def hybrid(catalog: Catalog, tmp_path: Path, **kw) -> HybridSearcher:
    return HybridSearcher(catalog, Searcher(catalog, FakeEmbedder(), tmp_path / "lib", background=False), **kw)


def names(result) -> list[str]:
    return [Path(h.path).name for h in result.hits]


# -- parsing ---------------------------------------------------------------------------------------


def test_plain_query_goes_to_meaning_and_to_words() -> None:
    q = parse_hybrid("receipt from Dunmore Hardware")
    assert q.semantic == "receipt from Dunmore Hardware" and not q.required
    assert [t.words for t in q.words] == [("receipt",), ("dunmore",), ("hardware",)]


def test_quoted_words_and_field_prefixes_become_required_terms() -> None:
    q = parse_hybrid('beach place:"new york" "Invoice 2024" file:IMG_20 -"draft copy"')
    assert q.semantic == "beach"
    assert [(t.words, t.column, t.prefix) for t in q.required] == [
        (("new", "york"), "place", False), (("img", "20"), "file", True), (("invoice", "2024"), "text", False)]
    assert [(t.words, t.column) for t in q.excluded] == [(("draft", "copy"), "text")]
    assert parse_hybrid('"INVOICE"').semantic is None
    assert parse_hybrid('receipt + "dunmore"').semantic == "receipt"



def test_a_quoted_image_path_stays_an_image_term(tmp_path: Path) -> None:
    image = tmp_path / "holiday pics" / "cat.png"
    image.parent.mkdir()
    image.write_bytes(b"")
    q = parse_hybrid(f'"{image}" - indoors')
    assert q.semantic == f'"{image}" - indoors' and not q.required


@pytest.mark.parametrize("query", ['text:"  "', 'place:"!!"', '"..."', "   "])
def test_terms_without_words_are_refused(query: str) -> None:
    with pytest.raises(QueryError):
        parse_hybrid(query)


# -- fusion ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [12, 40])  # below and above the size at which unrelated photos are hidden
def test_a_word_in_one_photo_ranks_it_first_when_meaning_is_flat(lib, tmp_path: Path, n: int) -> None:
    catalog, fid, root = lib
    flat = np.ones(DIM, dtype=np.float32)
    ids = [add_photo(catalog, fid, root / f"DSC{i:05d}.jpg", flat) for i in range(n)]
    put_text(catalog, ids[n // 2], "LIGHTHOUSE TOURS", "open daily")
    put_text(catalog, ids[1], "harbour cafe")
    result = hybrid(catalog, tmp_path).search("lighthouse")
    first = result.hits[0]
    assert first.id == ids[n // 2]
    assert isinstance(first, HybridHit) and first.why[0] == "text: LIGHTHOUSE TOURS" and first.words == ("lighthouse",)


def test_a_query_with_no_word_matches_ranks_as_meaning_alone(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    ids = colour_library(catalog, fid, root)
    put_text(catalog, ids[3], "EXIT")
    put_place(catalog, ids[5], LISBON)
    h = hybrid(catalog, tmp_path)
    for query in ("red", "green + blue", "2:blue - red"):
        for filters in (None, Filters(types=("jpg",))):
            plain = h.searcher.search(query, filters=filters, top=10)  # type: ignore[union-attr]
            mixed = h.search(query, filters=filters, top=10)
            assert [x.id for x in mixed.hits] == [x.id for x in plain.hits]
            assert [x.score for x in mixed.hits] == pytest.approx([x.score for x in plain.hits])
            assert mixed.hidden == plain.hidden
            assert all(x.why == (f"meaning: {x.score:.2f}",) for x in mixed.hits)  # type: ignore[attr-defined]


def test_meaning_and_words_together(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    ids = colour_library(catalog, fid, root)
    red_sign = add_photo(catalog, fid, root / "DSC90001.jpg", axis_vector("red"))
    blue_sign = add_photo(catalog, fid, root / "DSC90002.jpg", axis_vector("blue"))
    red_plain = add_photo(catalog, fid, root / "DSC90003.jpg", axis_vector("red"))
    put_text(catalog, red_sign, "LIGHTHOUSE")
    put_text(catalog, blue_sign, "Lighthouse museum")
    hits = hybrid(catalog, tmp_path).search("red lighthouse", top=40).hits
    # the words and the looks first; the looks alone and the word alone follow; the score shown orders them
    assert hits[0].id == red_sign and red_plain in {h.id for h in hits[1:3]}
    assert hits[0].why[0] == "text: LIGHTHOUSE" and hits[0].why[-1].startswith("meaning: ")  # type: ignore[attr-defined]
    word_alone = next(h for h in hits if h.id == blue_sign)
    assert word_alone.score >= hybrid_module.WORD_SCORE and word_alone.why[0] == "text: Lighthouse museum"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.id in ids or h.id in (red_sign, blue_sign, red_plain) for h in hits)


def test_a_place_and_a_look_together(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    colour_library(catalog, fid, root)
    beach_far = add_photo(catalog, fid, root / "DSC80001.jpg", axis_vector("beach"))
    beach_lisbon = add_photo(catalog, fid, root / "DSC80002.jpg", axis_vector("beach") + 0.4 * axis_vector("snow"))
    city_lisbon = [add_photo(catalog, fid, root / f"DSC8100{i}.jpg", axis_vector("green")) for i in range(5)]
    for pid in (beach_lisbon, *city_lisbon):
        put_place(catalog, pid, LISBON)
    hits = hybrid(catalog, tmp_path).search("beach portugal", top=10).hits
    order = [h.id for h in hits]
    assert order[0] == beach_lisbon  # the beach in Portugal
    assert set(order[1:7]) == {beach_far, *city_lisbon}  # then the best looks and the place, before the rest
    assert "place: Portugal" in hits[0].why  # type: ignore[attr-defined]


def test_photos_are_found_by_city_and_country_and_others_unaffected(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    ids = colour_library(catalog, fid, root, n=10)
    put_place(catalog, ids[2], LISBON)
    put_place(catalog, ids[7], TOKYO)
    h = hybrid(catalog, tmp_path)
    for query, expected in (("Lisbon", ids[2]), ("portugal", ids[2]), ("tokyo", ids[7]), ("Japan", ids[7])):
        assert h.search(query).hits[0].id == expected
    assert [x.id for x in h.search("place:japan").hits] == [ids[7]]
    assert [x.id for x in h.search("green", place="Lisbon").hits] == [ids[2]]
    assert h.search("blue", top=5).hits == h.search("blue", top=5).hits  # stable
    assert [x.id for x in h.search("blue", top=5).hits] == [x.id for x in h.searcher.search("blue", top=5).hits]


# -- words only, and the word-term syntax ----------------------------------------------------------


def test_quoted_words_search_the_text_inside_photos_only(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    colour_library(catalog, fid, root, n=8)
    sign = add_photo(catalog, fid, root / "DSC70001.jpg", axis_vector("blue"))
    named = add_photo(catalog, fid, root / "lighthouse_keeper.jpg", axis_vector("blue"))
    reversed_words = add_photo(catalog, fid, root / "DSC70003.jpg", axis_vector("red"))
    put_text(catalog, sign, "Lighthouse Keeper", "since 1901")
    put_text(catalog, reversed_words, "keeper of the lighthouse")
    h = hybrid(catalog, tmp_path)
    result = h.search('"lighthouse keeper"')
    assert [x.id for x in result.hits] == [sign]
    assert result.hits[0].why == ("text: Lighthouse Keeper",)  # type: ignore[attr-defined]
    assert {x.id for x in h.search("lighthouse").hits[:3]} == {sign, named, reversed_words}
    assert [x.id for x in h.search("file:lighthouse").hits] == [named]
    assert [x.id for x in h.search('text:lighthouse -"since 1901"').hits] == [reversed_words]


def test_required_words_with_meaning_rank_those_photos_by_meaning(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    colour_library(catalog, fid, root, n=20)
    red = add_photo(catalog, fid, root / "DSC60001.jpg", axis_vector("red"))
    blue = add_photo(catalog, fid, root / "DSC60002.jpg", axis_vector("blue"))
    green = add_photo(catalog, fid, root / "DSC60003.jpg", axis_vector("green"))
    for pid in (red, blue, green):
        put_text(catalog, pid, "TICKET")
    h = hybrid(catalog, tmp_path)
    for query, best in (('blue "ticket"', blue), ('red "ticket"', red), ('green "ticket"', green)):
        found = [x.id for x in h.search(query).hits]
        assert found[0] == best and sorted(found) == sorted((red, blue, green))  # only photos showing the word


def test_filters_apply_to_word_matches(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    jpeg = add_photo(catalog, fid, root / "a.jpg", axis_vector("red"))
    png = add_photo(catalog, fid, root / "b.png", axis_vector("red"), fmt="png")
    put_text(catalog, jpeg, "BAKERY")
    put_text(catalog, png, "BAKERY")
    h = hybrid(catalog, tmp_path)
    assert {x.id for x in h.search('"bakery"').hits} == {jpeg, png}
    assert [x.id for x in h.search('"bakery"', filters=Filters(types=("png",))).hits] == [png]
    assert [x.id for x in h.search("red bakery", filters=Filters(types=("png",))).hits] == [png]


def test_without_a_model_words_still_find_photos(lib) -> None:
    catalog, fid, root = lib
    pid = add_photo(catalog, fid, root / "scan.jpg")
    add_photo(catalog, fid, root / "other.jpg")
    put_text(catalog, pid, "Dunmore Hardware", "INVOICE 2024")
    h = HybridSearcher(catalog, None, KeywordIndex(catalog))
    [hit] = h.search("dunmore invoice").hits
    assert hit.id == pid and set(hit.why) == {"text: Dunmore Hardware", "text: INVOICE 2024"}  # type: ignore[attr-defined]
    with pytest.raises(QueryError, match="model"):
        h.similar(pid)


def test_results_and_hidden_never_count_a_photo_twice(lib, tmp_path: Path) -> None:
    """A photo hidden by meaning but brought back by its words is a result, not also 'hidden'."""
    catalog, fid, root = lib
    ids = colour_library(catalog, fid, root, n=40)
    for i in ids[:6]:
        put_text(catalog, i, "HARBOUR FESTIVAL")
    result = hybrid(catalog, tmp_path).search("red festival", top=50)
    assert len(result.hits) + result.hidden <= len(ids)
    assert {h.id for h in result.hits} >= set(ids[:6])


def test_filters_apply_before_the_word_match_depth(lib, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More photos have the word than the keyword depth: an album's own matches must still be found."""
    from photoclip.organize import albums
    from photoclip.search import hybrid as hybrid_module

    catalog, fid, root = lib
    ids = [add_photo(catalog, fid, root / f"p{i}.jpg", axis_vector("red")) for i in range(10)]
    for i in ids:
        put_text(catalog, i, "invoice")
    albums.create_album(catalog, "Taxes")
    albums.add_to_album(catalog, "Taxes", ids[6:])
    monkeypatch.setattr(hybrid_module, "KEYWORD_DEPTH", 5)  # stands in for 1,000 with more matches than that
    h = hybrid(catalog, tmp_path)
    for query in ('"invoice"', 'red "invoice"', "invoice"):
        assert {x.id for x in h.search(query, filters=Filters(album="Taxes")).hits} == set(ids[6:]), query
    # Excluding a word every photo has leaves nothing, however deep the matches go.
    assert h.search('red -"invoice"').hits == []


def test_an_explicit_minimum_score_holds_for_word_matches(lib, tmp_path: Path) -> None:
    catalog, fid, root = lib
    ids = colour_library(catalog, fid, root, n=40)
    put_text(catalog, ids[0], "invoice")
    h = hybrid(catalog, tmp_path)
    for query in ('dog "invoice"', "dog invoice"):
        assert all(x.score >= 0.9 for x in h.search(query, min_score=0.9).hits), query
    assert any(x.id == ids[0] for x in h.search("dog invoice").hits)  # without the minimum it is found
