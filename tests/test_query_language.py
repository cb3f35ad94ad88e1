"""The query language for multilingual models: a library setting, checked like every other, that
searches use unless one search names its own (`photoclip search --language`); automatic leaves it to
the model (the query's script, else English); reference captions are never given it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photoclip.library import Library
from photoclip.store.catalog import Catalog
from photoclip.store.settings import Settings, load_settings, save_settings
from tests.fakes import FakeEmbedder, add_photo, axis_vector


class MultilingualFake(FakeEmbedder):
    takes_language = True


@pytest.mark.parametrize(("value", "kept"), [("auto", True), ("deu_Latn", True), ("zho_Hant", True),
                                             ("German", False), ("deu_latn", False), (7, False), ("", False)])
def test_the_setting_is_checked_like_the_others(tmp_path: Path, value: object, kept: bool) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 2, "query_language": value, "threads": 2}))
    s = load_settings(path)
    assert s.threads == 2
    if kept:
        assert s.query_language == value and not s.warnings
    else:
        assert s.query_language == "auto" and any("query_language" in w for w in s.warnings)


def test_the_setting_is_saved_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    assert Settings().query_language == "auto"
    save_settings(path, Settings(query_language="jpn_Jpan"))
    assert json.loads(path.read_text())["query_language"] == "jpn_Jpan"
    assert load_settings(path).query_language == "jpn_Jpan"


@pytest.fixture
def library(tmp_path: Path):  # type: ignore[no-untyped-def]
    lib_dir = tmp_path / "lib"
    catalog = Catalog(lib_dir / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "pics")
    add_photo(catalog, folder.id, tmp_path / "pics" / "dog.jpg", axis_vector("dog"))
    add_photo(catalog, folder.id, tmp_path / "pics" / "beach.jpg", axis_vector("beach"))
    lib = Library(lib_dir, catalog, engine_factory=MultilingualFake,
                  settings=Settings(auto_tag=False, ocr=False, places=False))
    yield lib
    lib.close()


def _language_of(library: Library, text: str) -> str | None:
    seen = [lang for t, lang in library.engine.languages if t == text]  # type: ignore[attr-defined]
    assert seen, f"{text!r} was never embedded"
    return seen[-1]


def test_explicit_beats_the_setting_which_beats_automatic(library: Library) -> None:
    assert library.model_takes_language() is True
    library.search("dog")
    assert _language_of(library, "dog") is None  # automatic: the model takes it from the script
    library.save_settings(Settings(auto_tag=False, ocr=False, places=False, query_language="fra_Latn"))
    library.search("chien")
    assert _language_of(library, "chien") == "fra_Latn"
    library.search("Hund", language="deu_Latn")
    assert _language_of(library, "Hund") == "deu_Latn"
    assert library.query_language() == "fra_Latn" and library.query_language("ita_Latn") == "ita_Latn"
    # The reference captions the scores are calibrated against are English, whatever the setting.
    assert {lang for t, lang in library.engine.languages if t.startswith("a photo")} == {None}  # type: ignore[attr-defined]


def test_a_changed_setting_applies_to_the_next_search_of_the_same_words(library: Library) -> None:
    library.search("dog")
    library.save_settings(Settings(auto_tag=False, ocr=False, places=False, query_language="deu_Latn"))
    library.search("dog")  # not answered from the vector cached for the automatic language
    assert _language_of(library, "dog") == "deu_Latn"


def test_languages_to_choose_from_have_names(library: Library) -> None:
    languages = dict(library.query_languages())
    assert languages["deu_Latn"] == "German" and languages["jpn_Jpan"] == "Japanese" and len(languages) >= 20


def test_smart_albums_read_their_query_in_the_chosen_language(library: Library) -> None:
    """An album rule is a saved search: refreshed later, its words are read in the language searches use."""
    library.save_settings(Settings(auto_tag=False, ocr=False, places=False, query_language="deu_Latn"))
    library.create_album("Strand", query="der Strand")
    assert _language_of(library, "der Strand") == "deu_Latn"
    library.save_settings(Settings(auto_tag=False, ocr=False, places=False, query_language="fra_Latn"))
    library.refresh_albums()
    assert _language_of(library, "der Strand") == "fra_Latn"
