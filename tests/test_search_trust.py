"""Scores that can be trusted, with hand-made vectors: they belong to the photo and the query, the
score shown is the score that orders, the cut-off never hides a better match than one shown, and a
query of unknown words says there is no meaningful match."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from photoclip.cli import main, search_cmds
from photoclip.organize import albums
from photoclip.search import Searcher, dates
from photoclip.search.calibration import DEFAULT_MIN_SCORE, Calibrator, Constants, combine_scores
from photoclip.search.hybrid import HybridSearcher
from photoclip.store.catalog import Catalog
from tests.fakes import DIM, FakeEmbedder, add_photo, axis_vector, unit


@pytest.fixture
def lib(tmp_path: Path):
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "photos")
    yield catalog, folder.id, Path(folder.path)
    catalog.close()


def searcher(catalog: Catalog, tmp_path: Path) -> Searcher:
    return Searcher(catalog, FakeEmbedder(), tmp_path / "lib", background=False)


def people_and_dogs(catalog: Catalog, fid: int, root: Path) -> dict[str, int]:
    rng = np.random.default_rng(1)
    ids = {}
    for i in range(8):
        ids[f"dog{i}"] = add_photo(catalog, fid, root / f"dog{i}.jpg",
                                   unit(axis_vector("dog") + rng.uniform(0.0, 0.6) * axis_vector("snow")))
    for i in range(4):
        ids[f"beach{i}"] = add_photo(catalog, fid, root / f"beach{i}.jpg",
                                     unit(axis_vector("beach") + rng.uniform(0.2, 0.9) * axis_vector("dog")))
    return ids


def unrelated(catalog: Catalog, fid: int, root: Path, n: int, seed: int) -> None:
    """Photos of colours only: unrelated to every concept word."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        v = np.zeros(DIM, dtype=np.float32)
        v[:3] = rng.uniform(0.0, 1.0, 3)
        v[3:] = rng.uniform(0.0, 0.1, DIM - 3)
        add_photo(catalog, fid, root / f"u{seed}_{i:04d}.jpg", v)


def test_adding_a_thousand_unrelated_photos_moves_no_score_and_no_album_member(lib, tmp_path):
    catalog, fid, root = lib
    ids = people_and_dogs(catalog, fid, root)
    unrelated(catalog, fid, root, 40, seed=1)
    s = searcher(catalog, tmp_path)
    queries = ["dog", "snow", "beach + dog", "dog - snow"]
    before = {q: {h.id: h.score for h in s.search(q, top=2000, show_all=True).hits} for q in queries}
    albums.create_album(catalog, "dogs", query="dog", threshold=0.5, searcher=s)
    albums.create_album(catalog, "snowy dogs", query="dog + snow", threshold=0.9, searcher=s)
    members = {name: {p.id for p in albums.album_members(catalog, name)} for name in ("dogs", "snowy dogs")}
    assert members["dogs"] and members["snowy dogs"] and members["snowy dogs"] != members["dogs"]

    unrelated(catalog, fid, root, 1000, seed=2)
    s.close()
    s = searcher(catalog, tmp_path)
    for q in queries:
        after = {h.id: h.score for h in s.search(q, top=2000, show_all=True).hits}
        moved = max(abs(after[i] - score) for i, score in before[q].items())
        assert moved <= 0.02, (q, moved)
    albums.refresh_albums(catalog, s)
    for name, old in members.items():
        assert {p.id for p in albums.album_members(catalog, name)} == old
    assert set(ids.values()) >= members["dogs"]


def test_scores_are_sorted_and_no_hidden_photo_beats_a_shown_one(lib, tmp_path):
    catalog, fid, root = lib
    people_and_dogs(catalog, fid, root)
    unrelated(catalog, fid, root, 60, seed=3)
    s = searcher(catalog, tmp_path)
    hybrid = HybridSearcher(catalog, s)
    for query in ("dog", "beach", "dog - snow", "beach + snow", "dog3"):
        for engine in (s, hybrid):
            if engine is s and query == "dog3":
                continue
            shown = engine.search(query, top=30)
            every = engine.search(query, top=30, show_all=True)
            scores = [h.score for h in every.hits]
            assert scores == sorted(scores, reverse=True), query
            assert shown.hidden == len(every.hits) - len(shown.hits)
            hidden = [h.score for h in every.hits if h.id not in {x.id for x in shown.hits}]
            if shown.hits and hidden:
                assert max(hidden) <= min(h.score for h in shown.hits), query
            assert all(h.score >= DEFAULT_MIN_SCORE for h in shown.hits)


def test_subtraction_lowers_but_never_hides_every_match(lib, tmp_path):
    catalog, fid, root = lib
    plain = [add_photo(catalog, fid, root / f"dog{i}.jpg", axis_vector("dog")) for i in range(2)]
    snowy = [add_photo(catalog, fid, root / f"snowdog{i}.jpg", axis_vector("dog", "snow")) for i in range(3)]
    unrelated(catalog, fid, root, 30, seed=4)
    s = searcher(catalog, tmp_path)
    result = s.search("dog - snow")
    order = [h.id for h in result.hits]
    assert set(order[:2]) == set(plain)
    assert set(snowy) <= set(order), "photos that are dogs and snow come lower, not out"
    only_snowy = searcher(catalog, tmp_path)
    for pid in plain:
        with catalog.write() as c:
            c.execute("UPDATE photos SET state='missing' WHERE id=?", (pid,))
    assert {h.id for h in only_snowy.search("dog - snow").hits} == set(snowy)


def test_combine_scores_lowers_by_the_subtracted_match():
    positive = np.array([0.9, 0.9, 0.1])
    negative = np.array([0.0, 1.0, 1.0])
    out = combine_scores(positive, [(-1.0, negative)])
    assert out[0] == pytest.approx(0.9) and 0.0 < out[1] < out[0] and out[2] < out[1]


def test_a_query_of_unknown_words_is_no_meaningful_match(lib, tmp_path, monkeypatch, capsys):
    catalog, fid, root = lib
    people_and_dogs(catalog, fid, root)
    unrelated(catalog, fid, root, 20, seed=5)
    # The fake model embeds every word it does not know, made-up ones included, as the same vector.
    s = searcher(catalog, tmp_path)
    result = s.search("qwxzv")
    assert result.hits == [] and result.unknown == ("qwxzv",) and result.hidden > 0
    assert s.search("dog").unknown == ()

    class Stand:
        has_model = True

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            pass

        def search(self, query, **kw):  # type: ignore[no-untyped-def]
            return s.search(query, **kw)

    monkeypatch.setattr(search_cmds, "open_library", lambda args: Stand())
    assert main(["search", "qwxzv"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no meaningful match" in err and "'qwxzv'" in err
    # options after the query, and a query that starts with '-'
    assert main(["search", "--", "-snow", "--top", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) <= 3
    assert main(["search", "dog", "--all", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 32  # every ranked photo, not 50 at most
    with pytest.raises(SystemExit):
        main(["search", "dog", "--type", "docx"])
    assert "not a photo format" in capsys.readouterr().err


def test_calibration_constants_and_unknown_words():
    reference = np.stack([unit(np.ones(DIM))])
    nonsense = np.stack([unit(np.ones(DIM)), unit(np.ones(DIM) + 0.01 * axis_vector("dog"))])
    cal = Calibrator(reference, nonsense, Constants(offset=0.1, scale=0.05))
    photo = axis_vector("dog")
    scores = cal.score_texts(photo[None, :], np.stack([axis_vector("dog"), unit(np.ones(DIM))]))
    assert scores[0, 0] > 0.99 and scores[0, 1] == 0.0  # the second text is noise to the model
    assert list(cal.knows(np.stack([axis_vector("snow"), unit(np.ones(DIM))]))) == [True, False]


def test_date_words_become_filters():
    today = date(2026, 3, 10)
    rest, span = dates.extract("beach 2023", today)
    assert rest == "beach" and (span.after, span.before) == (date(2023, 1, 1), date(2023, 12, 31))
    rest, span = dates.extract("snow last winter", today)
    assert rest == "snow" and (span.after, span.before) == (date(2024, 12, 1), date(2025, 2, 28))
    rest, span = dates.extract("party june 2024", today)
    assert rest == "party" and (span.after, span.before) == (date(2024, 6, 1), date(2024, 6, 30))
    assert dates.extract("beach 2023 2024", today) == ("beach 2023 2024", None)  # ambiguous
    assert dates.extract("2023", today) == ("2023", None)  # nothing else to search for
    assert dates.extract("img_2023 beach", today) == ("img_2023 beach", None)


def test_sorting_by_date_keeps_the_cut_off(lib, tmp_path):
    catalog, fid, root = lib
    old = add_photo(catalog, fid, root / "old.jpg", axis_vector("dog"), taken_at="2001-01-01T00:00:00")
    new = add_photo(catalog, fid, root / "new.jpg", unit(axis_vector("dog") + 0.3 * axis_vector("snow")),
                    taken_at="2024-01-01T00:00:00")
    unrelated(catalog, fid, root, 20, seed=6)
    result = searcher(catalog, tmp_path).search("dog")
    assert [h.id for h in result.hits] == [old, new]
    search_cmds.sort_hits(result, "newest")
    assert [h.id for h in result.hits] == [new, old] and result.hidden == 20


def test_examples_more_like_this_and_not_this_reorder_at_once(lib, tmp_path):
    catalog, fid, root = lib
    snowy = [add_photo(catalog, fid, root / f"snowdog{i}.jpg", unit(axis_vector("dog") + 0.5 * axis_vector("snow")))
             for i in range(3)]
    sandy = [add_photo(catalog, fid, root / f"beachdog{i}.jpg", unit(axis_vector("dog") + 0.5 * axis_vector("beach")))
             for i in range(3)]
    unrelated(catalog, fid, root, 20, seed=7)
    s = searcher(catalog, tmp_path)
    plain = s.search("dog", top=6)
    assert {h.id for h in plain.hits} == set(snowy + sandy)
    liked = s.search("dog", top=6, like=[sandy[0]], unlike=[snowy[0]])
    order = [h.id for h in liked.hits]
    assert set(order[:3]) == set(sandy) and set(order[3:]) == set(snowy)
    scores = [h.score for h in liked.hits]
    assert scores == sorted(scores, reverse=True)
    hybrid = HybridSearcher(catalog, s)
    assert [h.id for h in hybrid.search("dog", top=6, like=[sandy[0]], unlike=[snowy[0]]).hits][:3] == order[:3]


def test_search_without_a_model_says_it_matches_words_only(lib, tmp_path, monkeypatch, capsys):
    catalog, fid, root = lib
    add_photo(catalog, fid, root / "dog on the beach.jpg", axis_vector("dog"))
    words = HybridSearcher(catalog, None)

    class NoModel:
        has_model = False

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            pass

        def search(self, query, **kw):  # type: ignore[no-untyped-def]
            return words.search(query, **kw)

    monkeypatch.setattr(search_cmds, "open_library", lambda args: NoModel())
    assert main(["search", "beach"]) == 0
    out, err = capsys.readouterr()
    assert "dog on the beach.jpg" in out and "words only" in err
    assert main(["search", "zebra"]) == 1
    assert "words only" in capsys.readouterr().err


def test_albums_edit_and_tags_preview_from_the_command_line(tmp_path, monkeypatch, capsys):
    from photoclip.cli import albums_cmds, tags_cmds
    from photoclip.library import Library
    from photoclip.store.settings import Settings

    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"), engine_factory=FakeEmbedder,
                  settings=Settings(ocr=False, places=False, auto_tag=False))
    folder = lib.catalog.add_folder(tmp_path / "photos")
    root = Path(folder.path)
    for i in range(3):
        add_photo(lib.catalog, folder.id, root / f"dog{i}.jpg", axis_vector("dog"))
        add_photo(lib.catalog, folder.id, root / f"snow{i}.jpg", axis_vector("snow"))

    class Opened:
        def __enter__(self):  # type: ignore[no-untyped-def]
            return lib

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            pass

    monkeypatch.setattr(albums_cmds, "open_library", lambda args: Opened())
    monkeypatch.setattr(tags_cmds, "open_library", lambda args: Opened())
    assert main(["albums", "list"]) == 0
    assert "no albums yet" in capsys.readouterr().out
    assert main(["albums", "create", "pets", "--query", "dog"]) == 0
    assert "with 3 photos" in capsys.readouterr().out
    assert main(["albums", "edit", "pets", "--query", "snow", "--preview"]) == 0
    assert "would hold 3 photos" in capsys.readouterr().out
    assert {p.path for p in lib.album_members("pets")} == {str(root / f"dog{i}.jpg") for i in range(3)}
    assert main(["albums", "edit", "pets", "--query", "snow"]) == 0
    assert {p.path for p in lib.album_members("pets")} == {str(root / f"snow{i}.jpg") for i in range(3)}
    capsys.readouterr()
    assert main(["tags", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:2] == ["photos", "thresh"]
    lib.close()


def test_a_smart_album_keeps_the_examples_it_was_taught_with(lib, tmp_path):
    catalog, fid, root = lib
    snowy = [add_photo(catalog, fid, root / f"snowdog{i}.jpg", unit(axis_vector("dog") + 0.5 * axis_vector("snow")))
             for i in range(3)]
    sandy = [add_photo(catalog, fid, root / f"beachdog{i}.jpg", unit(axis_vector("dog") + 0.5 * axis_vector("beach")))
             for i in range(3)]
    s = searcher(catalog, tmp_path)
    album = albums.create_album(catalog, "beach dogs", query="dog", threshold=0.6, searcher=s,
                                like=[sandy[0]], unlike=[snowy[0]])
    assert album.rule is not None and album.rule.like == (sandy[0],) and album.rule.unlike == (snowy[0],)
    assert {p.id for p in albums.album_members(catalog, "beach dogs")} == set(sandy)
    albums.refresh_albums(catalog, s)
    assert {p.id for p in albums.album_members(catalog, "beach dogs")} == set(sandy)


def test_an_unknown_option_shows_the_commands_usage(capsys):
    with pytest.raises(SystemExit):
        main(["search", "dog", "--bogus"])
    err = capsys.readouterr().err
    assert "usage: photoclip search" in err and "--bogus" in err


def test_folders_count_photos_on_disk_and_deleted_ones_apart(lib, monkeypatch, capsys):
    from photoclip.cli import library_cmds

    catalog, fid, root = lib
    ids = [add_photo(catalog, fid, root / f"p{i}.jpg", axis_vector("dog")) for i in range(3)]
    with catalog.write() as c:
        c.execute("UPDATE photos SET state='missing' WHERE id=?", (ids[0],))

    class Opened:
        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            pass

        def folders(self):  # type: ignore[no-untyped-def]
            from photoclip.library import FolderInfo

            counts = catalog.folder_counts()
            return [FolderInfo(f, counts.get(f.id, {})) for f in catalog.folders()]

    monkeypatch.setattr(library_cmds, "open_library", lambda args: Opened())
    assert main(["folders"]) == 0
    assert capsys.readouterr().out.strip() == f"{root}\t2 photos (1 missing)"
