"""The FTS5 keyword index: what it holds, how it stays current, and how words are matched and explained."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from photoclip.enrich.ocr import OcrLine, OcrResult
from photoclip.enrich.places import Place
from photoclip.enrich.stage import store_ocr, store_places
from photoclip.organize import albums, tagging
from photoclip.search.keywords import KeywordIndex, Term, fold, plain_terms, words
from photoclip.store.catalog import Catalog, _split_sql
from photoclip.store.schema import MIGRATIONS
from tests.fakes import add_photo


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "catalog.db")
    yield cat
    cat.close()


@pytest.fixture
def root(tmp_path: Path, catalog: Catalog) -> tuple[int, Path]:
    folder = tmp_path / "Family Archive"
    folder.mkdir()
    return catalog.add_folder(folder).id, Path(catalog.folders()[0].path)


def put_text(catalog: Catalog, photo_id: int, *lines: str) -> None:
    box = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
    store_ocr(catalog, catalog.photo(photo_id), "test-engine",
              OcrResult(tuple(OcrLine(t, box, 0.9) for t in lines), False, 0.1))


def names(catalog: Catalog, hits: list) -> list[str]:
    return [catalog.photo(h.id).name for h in hits]


def find(catalog: Catalog, query: str) -> list[str]:
    index = KeywordIndex(catalog)
    index.refresh()
    return names(catalog, index.search(plain_terms(query)))


def test_words_are_folded_and_split_like_the_tokenizer() -> None:
    assert fold("Café ÉCOLE Straße") == "cafe ecole strasse"
    assert words("IMG_20240512-Porto.jpg") == ["img", "20240512", "porto", "jpg"]
    assert [t.words for t in plain_terms("a receipt from the Café in 2024")] == [("receipt",), ("cafe",), ("2024",)]


def test_ocr_text_place_and_file_names_are_searchable(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    a = add_photo(catalog, folder_id, base / "Trips" / "Porto 2019" / "IMG_0001.jpg")
    b = add_photo(catalog, folder_id, base / "receipts" / "scan.jpg")
    c = add_photo(catalog, folder_id, base / "Dunmore_invoice.png")
    put_text(catalog, b, "DUNMORE HARDWARE", "INVOICE 2024", "Total 41.50")
    store_places(catalog, [(catalog.photo(a), Place(41.15, -8.61, "Porto", "Porto", None, "Portugal", "PT"))])
    assert find(catalog, "hardware") == ["scan.jpg"]
    assert find(catalog, "portugal") == ["IMG_0001.jpg"]
    assert find(catalog, "trips") == ["IMG_0001.jpg"]  # a folder name
    assert set(find(catalog, "dunmore")) == {"scan.jpg", "Dunmore_invoice.png"}
    assert find(catalog, "41") == ["scan.jpg"]  # digits are words
    assert c  # the file name alone finds its photo
    assert set(find(catalog, "archive")) == {"IMG_0001.jpg", "scan.jpg", "Dunmore_invoice.png"}  # library folder


def test_prefixes_accents_and_exact_words_first(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    exact = add_photo(catalog, folder_id, base / "one.jpg")
    longer = add_photo(catalog, folder_id, base / "two.jpg")
    accented = add_photo(catalog, folder_id, base / "three.jpg")
    put_text(catalog, exact, "PORT AUTHORITY")
    put_text(catalog, longer, "PORTUGUESE BAKERY")
    put_text(catalog, accented, "Café Crème")
    assert find(catalog, "port") == ["one.jpg", "two.jpg"]  # the whole word outranks a longer one it starts
    assert find(catalog, "portug") == ["two.jpg"]
    assert find(catalog, "cafe creme") == ["three.jpg"]
    assert find(catalog, "CAFÉ") == ["three.jpg"]
    assert find(catalog, "po") == []  # two letters match whole words only


def test_more_matched_words_rank_higher_and_ties_share_a_rank(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    ids = [add_photo(catalog, folder_id, base / f"p{i}.jpg") for i in range(3)]
    put_text(catalog, ids[0], "lighthouse")
    put_text(catalog, ids[1], "lighthouse harbour")
    put_text(catalog, ids[2], "harbour")
    index = KeywordIndex(catalog)
    index.refresh()
    hits = index.search(plain_terms("lighthouse harbour"))
    assert names(catalog, hits)[0] == "p1.jpg"
    assert hits[0].rank == 1 and hits[1].rank == hits[2].rank == 2  # one word each, same length


def test_column_terms_and_phrases(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    place = add_photo(catalog, folder_id, base / "holiday.jpg")
    named = add_photo(catalog, folder_id, base / "porto_wine.jpg")
    sign = add_photo(catalog, folder_id, base / "sign.jpg")
    store_places(catalog, [(catalog.photo(place), Place(41.15, -8.61, "Porto", "Porto", None, "Portugal", "PT"))])
    put_text(catalog, sign, "2024 INVOICE", "invoice 2024 paid")
    put_text(catalog, named, "2024", "invoice")
    index = KeywordIndex(catalog)
    index.refresh()
    assert names(catalog, index.search(all_of=[Term(("porto",), "place")])) == ["holiday.jpg"]
    assert names(catalog, index.search(all_of=[Term(("porto",), "file")])) == ["porto_wine.jpg"]
    phrase = Term(("invoice", "2024"), "text", prefix=False)
    [hit] = index.search(all_of=[phrase])
    assert hit.id == sign and [str(m) for m in hit.matches] == ["text: invoice 2024 paid"]
    both = index.search([Term(("holiday",)), Term(("wine",))], [Term(("porto",), "place")])
    assert names(catalog, both) == ["holiday.jpg"]  # must match porto as a place, and one of the others


def test_matches_say_where_each_word_was_found(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    pid = add_photo(catalog, folder_id, base / "Porto 2019" / "beach.jpg")
    store_places(catalog, [(catalog.photo(pid), Place(41.15, -8.61, "Porto", "Porto", None, "Portugal", "PT"))])
    put_text(catalog, pid, "WELCOME", "Porto Marina")
    index = KeywordIndex(catalog)
    index.refresh()
    [hit] = index.search(plain_terms("porto"))
    assert {str(m) for m in hit.matches} == {"text: Porto Marina", "place: Porto", "folder: Porto 2019"}
    [hit] = index.search(plain_terms("beach"))
    assert [str(m) for m in hit.matches] == ["file: beach.jpg"]


def test_index_follows_renames_tags_albums_content_and_removal(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    pid = add_photo(catalog, folder_id, base / "old_name.jpg")
    add_photo(catalog, folder_id, base / "other.jpg")
    put_text(catalog, pid, "MARGARITA")
    assert find(catalog, "old") == ["old_name.jpg"]
    with catalog.write() as c:
        c.execute("UPDATE photos SET path=? WHERE id=?", (str(base / "fresh_name.jpg"), pid))
    assert find(catalog, "old") == [] and find(catalog, "fresh") == ["fresh_name.jpg"]

    tagging.add_tag(catalog, "zebra crossing")
    tagging.accept_tag(catalog, pid, "zebra crossing")
    assert find(catalog, "zebra") == ["fresh_name.jpg"]
    tagging.reject_tag(catalog, pid, "zebra crossing")
    assert find(catalog, "zebra") == []

    albums.create_album(catalog, "Summer Trip")
    albums.add_to_album(catalog, "Summer Trip", [pid])
    albums.pin(catalog, "Summer Trip", [pid])  # an upsert on a photo already queued for the index
    assert find(catalog, "summer") == ["fresh_name.jpg"]
    albums.rename_album(catalog, "Summer Trip", "Winter Trip")
    assert find(catalog, "summer") == [] and find(catalog, "winter") == ["fresh_name.jpg"]
    albums.remove_from_album(catalog, "Winter Trip", [pid])
    assert find(catalog, "winter") == []

    with catalog.write() as c:  # new content: the words read from the old content are gone
        c.execute("UPDATE photos SET content_hash='changed' WHERE id=?", (pid,))
    assert find(catalog, "margarita") == []
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (pid,))
    assert find(catalog, "fresh") == [] and KeywordIndex(catalog).document(pid) == {}


def test_words_on_most_photos_are_not_informative(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    for i in range(30):
        add_photo(catalog, folder_id, base / f"DCIM_{i:04d}{'_lighthouse' if i == 7 else ''}.jpg")
    index = KeywordIndex(catalog)
    index.refresh()
    kept = index.informative(plain_terms("dcim lighthouse"))
    assert [t.words for t in kept] == [("lighthouse",)]


def test_missing_photos_are_left_out(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    add_photo(catalog, folder_id, base / "gone_lighthouse.jpg", state="missing")
    add_photo(catalog, folder_id, base / "here_lighthouse.jpg")
    assert find(catalog, "lighthouse") == ["here_lighthouse.jpg"]


def test_query_syntax_in_words_cannot_break_the_search(catalog: Catalog, root: tuple[int, Path]) -> None:
    folder_id, base = root
    add_photo(catalog, folder_id, base / "NEAR.jpg")
    for query in ('"', "AND OR NOT", "near(", "*", "col:umn", "a-b"):
        find(catalog, query)  # no error from FTS5's own query language
    assert find(catalog, "NOT near") == ["NEAR.jpg"]


def test_upgrading_a_catalog_indexes_the_photos_it_already_has(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):  # a catalog written before words existed
        for statement in _split_sql(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version={number}")
    conn.execute("INSERT INTO folders(id, path, added_at) VALUES (1, ?, 0)", (str(tmp_path / "Trips"),))
    conn.execute("INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, state, added_at, updated_at) "
                 "VALUES (1, ?, 1, 1, 'h', 'ok', 0, 0)", (str(tmp_path / "Trips" / "lighthouse.jpg"),))
    conn.commit()
    conn.close()
    with Catalog(path) as catalog:
        assert find(catalog, "lighthouse") == ["lighthouse.jpg"]
        assert find(catalog, "trips") == ["lighthouse.jpg"]
