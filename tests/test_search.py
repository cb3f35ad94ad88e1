"""The searcher with hand-made vectors: order, query arithmetic, image terms, filters, relevance."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoclip.errors import NotFoundError, QueryError
from photoclip.index.vectorindex import HnswParams
from photoclip.search import Filters, Searcher
from photoclip.search.calibration import DEFAULT_MIN_SCORE
from photoclip.search.query import parse_query
from photoclip.store.catalog import Catalog
from tests.fakes import DIM, FakeEmbedder, add_photo, axis_vector, unit

SMALL = HnswParams(M=16, ef_construction=100, ef_text=64, ef_image=64, build_threads=1)


@pytest.fixture
def lib(tmp_path: Path):
    photos = tmp_path / "photos"
    (photos / "trips" / "2023").mkdir(parents=True)
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    folder = catalog.add_folder(photos)
    yield catalog, folder.id, Path(folder.path)
    catalog.close()


def background(catalog: Catalog, folder_id: int, root: Path, n: int = 40, seed: int = 0,
               fmt: str = "jpeg") -> list[int]:
    """Colour-only photos: unrelated to every concept word, with a little spread."""
    rng = np.random.default_rng(seed)
    ids = []
    for i in range(n):
        v = np.zeros(DIM, dtype=np.float32)
        v[:3] = rng.uniform(0.2, 1.0, 3)
        v[3:] = rng.uniform(0.0, 0.15, DIM - 3)
        ids.append(add_photo(catalog, folder_id, root / f"bg{i:03d}.jpg", v, fmt=fmt))
    return ids


def searcher(catalog: Catalog, tmp_path: Path, **kw) -> Searcher:
    opts = {"background": False}
    opts.update(kw)
    return Searcher(catalog, FakeEmbedder(), tmp_path / "lib", **opts)


def paths(result) -> list[str]:
    return [Path(h.path).name for h in result.hits]


def test_text_query_ranks_the_matching_photos_and_hides_the_unrelated(lib, tmp_path):
    catalog, fid, root = lib
    background(catalog, fid, root)
    add_photo(catalog, fid, root / "beach1.jpg", axis_vector("beach"))
    add_photo(catalog, fid, root / "beach2.jpg", axis_vector("beach") + 0.3 * axis_vector("red"))
    add_photo(catalog, fid, root / "beach3.jpg", axis_vector("beach") + 0.8 * axis_vector("green"))
    result = searcher(catalog, tmp_path).search("beach")
    assert paths(result) == ["beach1.jpg", "beach2.jpg", "beach3.jpg"]
    assert result.hidden == 40
    assert all(h.score >= 0.5 for h in result.hits)
    assert result.hits[0].cosine == pytest.approx(1.0, abs=1e-5)
    assert result.elapsed_ms > 0
    shown = searcher(catalog, tmp_path).search("beach", show_all=True)
    assert len(shown.hits) == 43 and shown.hidden == 0
    assert paths(shown)[:3] == paths(result)
    assert all(h.score < DEFAULT_MIN_SCORE for h in shown.hits[3:])
    scores = [h.score for h in shown.hits]
    assert scores == sorted(scores, reverse=True)


def test_query_arithmetic_weights_and_negative_terms(lib, tmp_path):
    catalog, fid, root = lib
    background(catalog, fid, root, n=25)
    add_photo(catalog, fid, root / "A.jpg", axis_vector("beach", "sunset"))
    add_photo(catalog, fid, root / "B.jpg", axis_vector("beach", "people"))
    add_photo(catalog, fid, root / "C.jpg", axis_vector("beach"))
    add_photo(catalog, fid, root / "D.jpg", axis_vector("sunset"))
    add_photo(catalog, fid, root / "E.jpg", axis_vector("people"))
    s = searcher(catalog, tmp_path)
    q = s.query_vector("2:beach + sunset - people")
    expected = unit(2 * axis_vector("beach") + axis_vector("sunset") - axis_vector("people"))
    assert np.allclose(q, expected, atol=1e-6)
    # Subtraction lowers, it does not empty: beach photos with people come after those without.
    result = s.search("beach - people", show_all=True)
    order = paths(result)
    assert set(order[:2]) == {"A.jpg", "C.jpg"} and order[2] == "B.jpg"
    scores = {Path(h.path).name: h.score for h in result.hits}
    assert scores["B.jpg"] < scores["C.jpg"] and scores["B.jpg"] >= DEFAULT_MIN_SCORE
    assert scores["E.jpg"] < DEFAULT_MIN_SCORE
    assert "B.jpg" in paths(s.search("beach - people"))
    assert paths(s.search("sunset - beach", top=1)) == ["D.jpg"]
    with pytest.raises(QueryError, match="cancel"):
        s.query_vector("snow - snow")


def test_image_terms_and_unreadable_images(lib, tmp_path):
    catalog, fid, root = lib
    background(catalog, fid, root, n=25)
    red_id = add_photo(catalog, fid, root / "red_snow.jpg", unit([1, 0, 0, 0, 0, 0, 1, 0.05]))
    add_photo(catalog, fid, root / "red.jpg", unit([1, 0, 0, 0, 0, 0, 0, 0.05]))
    add_photo(catalog, fid, root / "snow.jpg", axis_vector("snow"))
    probe = tmp_path / "probe red.png"
    Image.new("RGB", (24, 24), (255, 0, 0)).save(probe)
    s = searcher(catalog, tmp_path)
    assert paths(s.search(f'"{probe}"', top=1)) == ["red.jpg"]
    assert paths(s.search(f'"{probe}" + snow', top=1)) == ["red_snow.jpg"]
    assert paths(s.similar(probe, top=1)) == ["red.jpg"]
    similar = s.similar(red_id, top=3, show_all=True)
    assert red_id not in [h.id for h in similar.hits] and paths(similar)[0] == "red.jpg"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    with pytest.raises(QueryError, match="cannot read the image"):
        s.search(f"{bad} + snow")
    with pytest.raises(NotFoundError):
        s.similar(tmp_path / "nowhere.jpg")


def test_min_score_applies_to_the_calibrated_score(lib, tmp_path):
    catalog, fid, root = lib
    background(catalog, fid, root)
    for i, w in enumerate([1.0, 0.5, 0.25]):
        add_photo(catalog, fid, root / f"dog{i}.jpg", axis_vector("dog") + w * axis_vector("blue"))
    s = searcher(catalog, tmp_path)
    everything = s.search("dog", show_all=True)
    cut = (everything.hits[1].score + everything.hits[2].score) / 2
    strict = s.search("dog", min_score=cut)
    assert len(strict.hits) == 2 and all(h.score >= cut for h in strict.hits)
    assert strict.hidden == len(everything.hits) - 2
    with pytest.raises(QueryError):
        s.search("dog", min_score=7)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_library_still_answers_sensibly(lib, tmp_path, n):
    """A score belongs to the photo and the query: a tiny library hides unrelated photos too."""
    catalog, fid, root = lib
    vectors = [axis_vector("dog"), axis_vector("snow"), axis_vector("red")][:n]
    for i, v in enumerate(vectors):
        add_photo(catalog, fid, root / f"p{i}.jpg", v)
    result = searcher(catalog, tmp_path).search("dog")
    assert paths(result) == ["p0.jpg"] and result.hidden == n - 1
    every = searcher(catalog, tmp_path).search("dog", show_all=True)
    assert len(every.hits) == n and paths(every)[0] == "p0.jpg"
    assert all(np.isfinite(h.score) and 0.0 <= h.score <= 1.0 for h in every.hits)


def test_empty_library_returns_nothing(lib, tmp_path):
    catalog, _, _ = lib
    result = searcher(catalog, tmp_path).search("dog")
    assert result.hits == [] and result.hidden == 0


def test_only_live_photos_appear(lib, tmp_path):
    catalog, fid, root = lib
    background(catalog, fid, root, n=25)
    add_photo(catalog, fid, root / "gone.jpg", axis_vector("dog"), state="missing")
    add_photo(catalog, fid, root / "away.jpg", axis_vector("dog"), state="offline")
    add_photo(catalog, fid, root / "pending.jpg", axis_vector("dog") + 0.1 * axis_vector("red"), state="pending")
    add_photo(catalog, fid, root / "novector.jpg", None)
    s = searcher(catalog, tmp_path)
    assert paths(s.search("dog", show_all=True))[0] == "pending.jpg"
    names = paths(s.search("dog", show_all=True, top=100))
    assert "gone.jpg" not in names and "away.jpg" not in names and "novector.jpg" not in names
    names = paths(s.search("dog", filters=Filters(types=("jpeg",)), show_all=True, top=100))
    assert "gone.jpg" not in names and names[0] == "pending.jpg"


def tag(catalog: Catalog, name: str, photo_ids: list[int], *, rejected: bool = False) -> None:
    with catalog.write() as c:
        c.execute("INSERT OR IGNORE INTO tags(name, created_at) VALUES(?, ?)", (name, time.time()))
        tag_id = c.execute("SELECT id FROM tags WHERE name=?", (name,)).fetchone()[0]
        for pid in photo_ids:
            c.execute("INSERT INTO photo_tags(photo_id, tag_id, score, source, rejected, updated_at) "
                      "VALUES(?,?,?,?,?,?)", (pid, tag_id, 0.9, "auto", int(rejected), time.time()))


def album(catalog: Catalog, name: str, members: dict[int, str]) -> None:
    with catalog.write() as c:
        c.execute("INSERT INTO albums(name, kind, created_at, updated_at) VALUES(?, 'manual', 0, 0)", (name,))
        album_id = c.execute("SELECT id FROM albums WHERE name=?", (name,)).fetchone()[0]
        for pid, source in members.items():
            c.execute("INSERT INTO album_photos(album_id, photo_id, source, added_at) VALUES(?,?,?,0)",
                      (album_id, pid, source))


@pytest.fixture
def filtered(lib):
    """Eight dog photos that differ in folder, date, format, tags and albums; best match first."""
    catalog, fid, root = lib
    background(catalog, fid, root, n=30, fmt="webp")
    specs = [  # name, sub-folder, taken_at, format
        ("d0", "trips/2023", "2023-06-01T10:00:00", "jpeg"),
        ("d1", "trips", "2023-06-30T23:59:59", "png"),
        ("d2", "", "2023-07-01T00:00:00", "heic"),
        ("d3", "trips/2023", None, "jpeg"),
        ("d4", "", "2022-12-31T12:00:00", "jpeg"),
        ("d5", "trips", "2023-06-15T08:00:00", "png"),
        ("d6", "", "2024-01-01T00:00:00", "jpeg"),
        ("d7", "trips/2023", "2023-06-10T00:00:00", "heic"),
    ]
    ids = {}
    for rank, (name, sub, taken, fmt) in enumerate(specs):
        vec = axis_vector("dog") + 0.1 * (rank + 1) * axis_vector("green")
        ids[name] = add_photo(catalog, fid, root / sub / f"{name}.jpg", vec, taken_at=taken, fmt=fmt)
    tag(catalog, "pets", [ids[n] for n in ("d0", "d1", "d5", "d7")])
    tag(catalog, "summer", [ids[n] for n in ("d1", "d5", "d7")])
    tag(catalog, "summer", [ids["d0"]], rejected=True)
    album(catalog, "Best", {ids["d2"]: "manual", ids["d5"]: "rule", ids["d6"]: "excluded", ids["d7"]: "pinned"})
    return catalog, root, ids


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(folder="trips"), ["d0", "d1", "d3", "d5", "d7"]),
    (Filters(folder="trips/2023"), ["d0", "d3", "d7"]),
    (Filters(after=date(2023, 6, 10)), ["d1", "d2", "d5", "d6", "d7"]),
    (Filters(before=date(2023, 6, 30)), ["d0", "d1", "d4", "d5", "d7"]),
    (Filters(after=date(2023, 6, 1), before=date(2023, 6, 30)), ["d0", "d1", "d5", "d7"]),
    (Filters(tags=("pets",)), ["d0", "d1", "d5", "d7"]),
    (Filters(tags=("PETS", "summer")), ["d1", "d5", "d7"]),
    (Filters(types=("jpg",)), ["d0", "d3", "d4", "d6"]),
    (Filters(types=("png", "HEIC")), ["d1", "d2", "d5", "d7"]),
    (Filters(album="best"), ["d2", "d5", "d7"]),
    (Filters(folder="trips", tags=("pets",), types=("png",), after=date(2023, 6, 12)), ["d1", "d5"]),
])
@pytest.mark.parametrize("graph", [False, True])
def test_filters_each_and_combined(filtered, tmp_path, filters, expected, graph):
    catalog, root, _ = filtered
    if filters.folder:
        filters = Filters(**{**filters.__dict__, "folder": str(root / filters.folder)})
    opts = {"hnsw_threshold": 10, "subset_exact_limit": 2, "params": SMALL} if graph else {}
    s = searcher(catalog, tmp_path, **opts)
    result = s.search("dog", filters=filters, show_all=True)
    assert [Path(h.path).stem for h in result.hits] == expected
    assert s.index.stats().mode == ("hnsw" if graph else "exact")


def test_unknown_filter_names_are_errors(filtered, tmp_path):
    catalog, _, _ = filtered
    s = searcher(catalog, tmp_path)
    with pytest.raises(NotFoundError, match="tag"):
        s.search("dog", filters=Filters(tags=("nope",)))
    with pytest.raises(NotFoundError, match="album"):
        s.search("dog", filters=Filters(album="nope"))
    with pytest.raises(NotFoundError, match="library folder"):
        s.search("dog", filters=Filters(folder=str(tmp_path / "elsewhere")))


def test_filtered_approximate_search_returns_n_when_n_exist(lib, tmp_path):
    catalog, fid, root = lib
    rng = np.random.default_rng(3)
    png = []
    for i in range(300):
        v = rng.normal(size=DIM)
        fmt = "png" if i % 10 == 0 else "jpeg"
        pid = add_photo(catalog, fid, root / f"r{i:03d}.jpg", v, fmt=fmt)
        if fmt == "png":
            png.append(pid)
    s = searcher(catalog, tmp_path, hnsw_threshold=100, subset_exact_limit=5, params=SMALL)
    for query in ("dog", "snow + red", "beach - people"):
        result = s.search(query, filters=Filters(types=("png",)), top=25, show_all=True)
        assert len(result.hits) == 25 and {h.id for h in result.hits} <= set(png)
        everything = s.search(query, filters=Filters(types=("png",)), top=100, show_all=True)
        assert len(everything.hits) == 30
    assert s.index.stats().mode == "hnsw"


def test_new_and_removed_photos_show_up_at_once(lib, tmp_path):
    catalog, fid, root = lib
    background(catalog, fid, root, n=25)
    s = searcher(catalog, tmp_path)
    assert "snowman.jpg" not in paths(s.search("snow", show_all=True))
    pid = add_photo(catalog, fid, root / "snowman.jpg", axis_vector("snow"))
    assert paths(s.search("snow"))[0] == "snowman.jpg"
    with catalog.write() as c:
        c.execute("UPDATE photos SET state='missing' WHERE id=?", (pid,))
    assert "snowman.jpg" not in paths(s.search("snow", show_all=True))
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (pid,))
    s.search("snow")
    assert len(s.index) == 25


def test_browse_lists_live_photos_by_date_with_the_same_filters_as_search(tmp_path: Path) -> None:
    from photoclip.library import Library
    from tests.fakes import FakeEmbedder, add_photo

    photos = tmp_path / "photos"
    (photos / "trip").mkdir(parents=True)
    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "c.sqlite3"), engine_factory=FakeEmbedder)
    folder = lib.add_folder(photos)
    old = add_photo(lib.catalog, folder.id, photos / "old.jpg", None, taken_at="2020-05-01T10:00:00")
    new = add_photo(lib.catalog, folder.id, photos / "trip" / "new.png", None, taken_at="2024-07-01T10:00:00",
                    fmt="png")
    undated = add_photo(lib.catalog, folder.id, photos / "undated.jpg", None)
    add_photo(lib.catalog, folder.id, photos / "gone.jpg", None, state="missing", taken_at="2023-01-01T00:00:00")
    assert [i.id for i in lib.browse()] == [new, old, undated]
    assert [i.id for i in lib.browse(newest_first=False)] == [old, new, undated]
    assert [i.id for i in lib.browse(Filters(types=("png",)))] == [new]
    assert [i.id for i in lib.browse(Filters(folder=str(photos / "trip")))] == [new]
    assert [i.id for i in lib.browse(Filters(after=date(2021, 1, 1)))] == [new]
    lib.close()


def test_hidden_photos_are_listed_again_only_after_a_state_change(lib, tmp_path):
    """An unplugged drive can hold most of the library: its photos are not listed on every query,
    yet every way a photo enters or leaves a hidden state shows at the next search."""
    from photoclip.search.filters import dead_ids

    catalog, fid, root = lib
    live = background(catalog, fid, root, n=5)
    away = add_photo(catalog, fid, root / "away.jpg", axis_vector("dog"), state="offline")
    first = dead_ids(catalog)
    assert first.tolist() == [away] and not first.flags.writeable
    assert dead_ids(catalog) is first, "nothing changed: the same list, not a new query"
    with catalog.write() as c:  # a change that does not touch the hidden states keeps the list
        c.execute("UPDATE photos SET taken_at='2020-01-01' WHERE id=?", (live[0],))
        c.execute("UPDATE photos SET state='pending' WHERE id=?", (live[1],))
    assert dead_ids(catalog) is first
    s = searcher(catalog, tmp_path)
    assert "away.jpg" not in paths(s.search("dog", show_all=True, top=100))
    expected = [away]
    for state, pid in (("missing", live[2]), ("error", live[3]), ("offline", live[4])):
        with catalog.write() as c:
            c.execute("UPDATE photos SET state=? WHERE id=?", (state, pid))
        expected.append(pid)
        assert dead_ids(catalog).tolist() == sorted(expected)
    with catalog.write() as c:  # the drive comes back
        c.execute("UPDATE photos SET state='ok' WHERE id=?", (away,))
    assert away not in dead_ids(catalog).tolist()
    assert paths(s.search("dog", show_all=True, top=100))[0] == "away.jpg"
    born_hidden = add_photo(catalog, fid, root / "gone.jpg", axis_vector("dog"), state="missing")
    assert born_hidden in dead_ids(catalog).tolist()
    assert "gone.jpg" not in paths(s.search("dog", show_all=True, top=100))
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (born_hidden,))
    assert born_hidden not in dead_ids(catalog).tolist()


def test_a_broad_filter_ranks_first_and_checks_only_the_best_candidates(lib, tmp_path, monkeypatch):
    """A filter passing most photos (a big folder, a year) must not list them all on every query,
    and must give what ranking only the passing photos gives; a narrow one falls back to that."""
    from photoclip.search import filters as filters_module
    from photoclip.search import searcher as searcher_module

    catalog, fid, root = lib
    rng = np.random.default_rng(8)
    jpeg, png = [], []
    for i in range(600):
        fmt = "png" if i % 20 == 0 else "jpeg"
        pid = add_photo(catalog, fid, root / f"r{i:03d}.jpg", rng.normal(size=DIM), fmt=fmt)
        (png if fmt == "png" else jpeg).append(pid)
    with catalog.write() as c:  # a few broad-filter photos are offline: never shown
        c.executemany("UPDATE photos SET state='offline' WHERE id=?", [(p,) for p in jpeg[:40]])
    listed: list[Filters] = []
    real_allowed = filters_module.allowed_ids

    def counting_allowed(cat, f):  # type: ignore[no-untyped-def]
        listed.append(f)
        return real_allowed(cat, f)

    monkeypatch.setattr(searcher_module, "allowed_ids", counting_allowed)
    monkeypatch.setattr(searcher_module, "RERANK_MIN", 20)  # 4 x 20 candidates re-ordered by score
    s = searcher(catalog, tmp_path)  # exact: the answers must agree exactly
    broad = Filters(types=("jpeg",))
    for query in ("dog", "snow + red", "beach - people"):
        got = [h.id for h in s.search(query, filters=broad, top=20, show_all=True).hits]
        assert not listed, "a broad filter must not list every passing photo"
        allowed = np.setdiff1d(np.array(jpeg), np.array(jpeg[:40]))
        # the calibrated score re-orders the best 4 x 20 passing photos by cosine
        probe = s._parts(parse_query(query))[0].vector
        pool, _ = s.index.search(probe, searcher_module.RERANK_DEPTH * 20, allowed=allowed)
        cosines, scores = s.score_photos(query, pool)
        expected = pool[np.lexsort((pool, -cosines, -scores))][:20]
        assert got == expected.tolist()
    narrow = s.search("dog", filters=Filters(types=("png",)), top=20, show_all=True)
    assert listed == [Filters(types=("png",))], "a narrow filter ranks the passing photos only"
    assert len(narrow.hits) == 20 and {h.id for h in narrow.hits} <= set(png)
    everything = s.search("dog", filters=Filters(types=("png",)), top=100, show_all=True)
    assert len(everything.hits) == len(png)
