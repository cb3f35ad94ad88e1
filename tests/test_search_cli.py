"""`photoclip search` / `similar` output and options, driven against a stand-in for Library.

The real Library gains search()/similar() when the engine is wired in; until then a small stand-in
with the same two methods delegates to a Searcher over a fake embedder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photoclip.cli import main, search_cmds
from photoclip.search import Searcher
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder, add_photo, axis_vector


class StandInLibrary:
    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.calls: list[tuple] = []

    def __enter__(self) -> StandInLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def search(self, query, **kw):
        self.calls.append(("search", query, kw))
        return self.searcher.search(query, **kw)

    def similar(self, target, **kw):
        self.calls.append(("similar", target, kw))
        return self.searcher.similar(target, **kw)


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandInLibrary:
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "my photos")
    root = Path(folder.path)
    for i in range(25):
        add_photo(catalog, folder.id, root / f"colour {i}.jpg", axis_vector("red", "green") if i % 2 else
                  axis_vector("blue", "green"))
    add_photo(catalog, folder.id, root / "dog one.jpg", axis_vector("dog"), taken_at="2023-05-01T10:00:00")
    add_photo(catalog, folder.id, root / "dog two.png", axis_vector("dog", "snow"), fmt="png")
    lib = StandInLibrary(Searcher(catalog, FakeEmbedder(), tmp_path / "lib", background=False))
    monkeypatch.setattr(search_cmds, "open_library", lambda args: lib)
    yield lib
    catalog.close()


def test_plain_output_is_score_then_path_best_first(library, capsys):
    assert main(["search", "dog"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split("  ", 1)[1].rsplit("/", 1)[1] for line in lines] == ["dog one.jpg", "dog two.png"]
    assert float(lines[0].split()[0]) >= float(lines[1].split()[0])
    assert "25 more result(s) hidden" in err


def test_json_output_and_filters_reach_the_searcher(library, capsys):
    assert main(["search", "dog", "--json", "--type", "jpg", "--top", "5", "--after", "2023-01-01"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in rows] == ["dog one.jpg"]
    assert set(rows[0]) >= {"id", "path", "score", "cosine", "taken_at"}
    _, query, kw = library.calls[-1]
    assert query == "dog" and kw["top"] == 5 and kw["filters"].types == ("jpeg",)


def test_all_shows_hidden_results_and_similar_takes_an_id(library, capsys):
    assert main(["search", "dog", "--all", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 27
    assert main(["similar", "26", "--json", "--min-score", "0.05"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in rows] == ["dog two.png"]
    assert library.calls[-1][1] == 26


def test_bad_query_is_one_line_error(library, capsys):
    assert main(["search", "beach +"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "needs a term" in err


def test_language_reaches_the_search_and_a_bad_code_is_refused(library, capsys):
    assert main(["search", "Hund", "--language", "deu_Latn", "--json"]) == 0
    capsys.readouterr()
    assert library.calls[-1][2]["language"] == "deu_Latn"
    assert main(["search", "dog", "--json"]) == 0
    capsys.readouterr()
    assert "language" not in library.calls[-1][2]  # the library's setting decides
    with pytest.raises(SystemExit):
        main(["search", "dog", "--language", "German"])
    assert "FLORES-200" in capsys.readouterr().err
