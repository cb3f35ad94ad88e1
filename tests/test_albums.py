"""Manual and smart albums: rule membership following index, move and delete; pins and exclusions."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from photoclip.errors import NotFoundError
from photoclip.organize import albums, tagging
from photoclip.search.filters import Filters, allowed_ids
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder, add_photo, axis_vector, unit


class CosineSearcher:
    """A stand-in for Searcher: score = cosine, honouring filters and min_score."""

    def __init__(self, catalog: Catalog, embedder: FakeEmbedder) -> None:
        self.catalog, self.embedder, self.calls = catalog, embedder, 0

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50,
               min_score: float | None = None, show_all: bool = False) -> SimpleNamespace:
        self.calls += 1
        q = self.embedder.embed_texts([query])[0]
        ids, matrix = self.catalog.vectors(self.embedder.model_name, live_only=True)
        keep = allowed_ids(self.catalog, filters) if filters is not None else ids
        photos = self.catalog.photos(ids.tolist())
        hits = [SimpleNamespace(id=int(i), score=float(v @ q), path=photos[int(i)].path)
                for i, v in zip(ids, matrix, strict=True) if i in keep]
        hits = [h for h in sorted(hits, key=lambda h: -h.score) if min_score is None or h.score >= min_score]
        return SimpleNamespace(hits=hits[:top], hidden=0)


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    yield cat
    cat.close()


@pytest.fixture()
def folder(catalog: Catalog, tmp_path: Path) -> tuple[int, Path]:
    photos = tmp_path / "photos"
    photos.mkdir()
    return catalog.add_folder(photos).id, photos.resolve()


@pytest.fixture()
def searcher(catalog: Catalog) -> CosineSearcher:
    return CosineSearcher(catalog, FakeEmbedder())


def member_paths(catalog: Catalog, name: str) -> list[str]:
    return [Path(p.path).name for p in albums.album_members(catalog, name)]


def test_manual_album_add_remove_rename_delete(catalog: Catalog, folder: tuple[int, Path]) -> None:
    fid, root = folder
    a = add_photo(catalog, fid, root / "a.jpg", axis_vector("red"))
    b = add_photo(catalog, fid, root / "b.jpg", axis_vector("blue"))
    album = albums.create_album(catalog, "  Holiday   2024 ")
    assert (album.name, album.kind, album.rule, album.count) == ("Holiday 2024", "manual", None, 0)
    assert albums.add_to_album(catalog, "holiday 2024", [a, b]) == 2
    assert sorted(member_paths(catalog, "Holiday 2024")) == ["a.jpg", "b.jpg"]
    albums.remove_from_album(catalog, "Holiday 2024", a)
    assert member_paths(catalog, "Holiday 2024") == ["b.jpg"]
    with pytest.raises(albums.AlbumError):
        albums.create_album(catalog, "HOLIDAY 2024")
    with pytest.raises(NotFoundError):
        albums.add_to_album(catalog, "Holiday 2024", [9999])
    albums.create_album(catalog, "Other")
    with pytest.raises(albums.AlbumError):
        albums.rename_album(catalog, "Holiday 2024", "other")
    assert albums.rename_album(catalog, "Holiday 2024", "Summer").count == 1
    albums.delete_album(catalog, "Summer")
    assert [x.name for x in albums.list_albums(catalog)] == ["Other"]
    assert catalog.photo(b).path.endswith("b.jpg")  # the photo itself is untouched
    with pytest.raises(NotFoundError):
        albums.album_members(catalog, "Summer")


def test_smart_album_follows_index_move_and_delete(catalog: Catalog, folder: tuple[int, Path],
                                                  searcher: CosineSearcher) -> None:
    fid, root = folder
    beach = add_photo(catalog, fid, root / "beach.jpg", unit([0, 0, 0.3, 1, 0, 0, 0, 0]))
    add_photo(catalog, fid, root / "snow.jpg", axis_vector("snow"))
    album = albums.create_album(catalog, "Beaches", query="beach", threshold=0.6, searcher=searcher)
    assert album.kind == "smart" and album.rule is not None and album.rule.query == "beach"
    assert member_paths(catalog, "Beaches") == ["beach.jpg"]

    # Indexed: a new matching photo joins at the next refresh.
    add_photo(catalog, fid, root / "beach2.jpg", axis_vector("beach"))
    result = albums.refresh_albums(catalog, searcher)
    assert [(r.album, r.added, r.removed) for r in result] == [("Beaches", 1, 0)]
    assert member_paths(catalog, "Beaches") == ["beach2.jpg", "beach.jpg"]  # best score first

    # Moved: same photo id, new path.
    with catalog.write() as c:
        c.execute("UPDATE photos SET path=? WHERE id=?", (str(root / "moved" / "beach.jpg"), beach))
    albums.refresh_albums(catalog, searcher)
    assert str(root / "moved" / "beach.jpg") in [p.path for p in albums.album_members(catalog, "Beaches")]

    # Missing (or on an unplugged drive): hidden at once by the state filter; its rule row stays, since
    # a photo the rule cannot see has not stopped matching, and it is back the moment the file is.
    with catalog.write() as c:
        c.execute("UPDATE photos SET state='missing' WHERE id=?", (beach,))
    assert member_paths(catalog, "Beaches") == ["beach2.jpg"]
    assert albums.refresh_albums(catalog, searcher)[0].removed == 0
    with catalog.write() as c:
        c.execute("UPDATE photos SET state='ok' WHERE id=?", (beach,))
    assert albums.refresh_albums(catalog, searcher)[0].added == 0
    assert sorted(member_paths(catalog, "Beaches")) == ["beach.jpg", "beach2.jpg"]

    # Deleted: the cascade removes the membership row.
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (beach,))
    assert member_paths(catalog, "Beaches") == ["beach2.jpg"]
    assert catalog.read().execute("SELECT COUNT(*) FROM album_photos WHERE photo_id=?",
                                  (beach,)).fetchone()[0] == 0


def test_pin_and_exclude_outlive_the_rule(catalog: Catalog, folder: tuple[int, Path],
                                          searcher: CosineSearcher) -> None:
    fid, root = folder
    b1 = add_photo(catalog, fid, root / "b1.jpg", axis_vector("beach"))
    b2 = add_photo(catalog, fid, root / "b2.jpg", axis_vector("beach", "sunset"))
    dog = add_photo(catalog, fid, root / "dog.jpg", axis_vector("dog"))
    albums.create_album(catalog, "Beaches", query="beach", threshold=0.6, searcher=searcher)
    assert sorted(member_paths(catalog, "Beaches")) == ["b1.jpg", "b2.jpg"]
    albums.exclude(catalog, "Beaches", b2)
    albums.pin(catalog, "Beaches", dog)
    albums.refresh_albums(catalog, searcher)
    assert sorted(member_paths(catalog, "Beaches")) == ["b1.jpg", "dog.jpg"]
    entries = albums.album_entries(catalog, "Beaches", include_excluded=True)
    assert {Path(e.photo.path).name: e.source for e in entries} == {
        "b1.jpg": "rule", "dog.jpg": "pinned", "b2.jpg": "excluded"}
    # Removing from a smart album excludes, so the rule cannot bring it back either.
    albums.remove_from_album(catalog, "Beaches", b1)
    albums.refresh_albums(catalog, searcher)
    assert member_paths(catalog, "Beaches") == ["dog.jpg"]
    albums.reset_member(catalog, "Beaches", [b1, b2, dog])
    albums.refresh_albums(catalog, searcher)
    assert sorted(member_paths(catalog, "Beaches")) == ["b1.jpg", "b2.jpg"]
    assert albums.get_album(catalog, "Beaches").count == 2


def test_tag_rule_needs_no_model(catalog: Catalog, folder: tuple[int, Path]) -> None:
    fid, root = folder
    a = add_photo(catalog, fid, root / "a.jpg", axis_vector("dog"), taken_at="2023-05-01T10:00:00")
    b = add_photo(catalog, fid, root / "b.jpg", axis_vector("dog"), taken_at="2024-05-01T10:00:00")
    now = time.time()
    with catalog.write() as c:
        c.execute("INSERT INTO tags(name, prompts, created_at) VALUES('dog', '[]', ?)", (now,))
        c.executemany("INSERT INTO photo_tags(photo_id, tag_id, score, source, updated_at) "
                      "VALUES(?, 1, 0.9, 'auto', ?)", [(a, now), (b, now)])
    album = albums.create_album(catalog, "Dogs 2024", tags=["dog"], filters={"after": "2024-01-01"})
    assert album.rule is not None and album.rule.filters == {"after": "2024-01-01"}
    assert member_paths(catalog, "Dogs 2024") == ["b.jpg"]
    with catalog.write() as c:  # the user rejects the tag: the photo leaves the album at refresh
        c.execute("UPDATE photo_tags SET rejected=1, source='manual' WHERE photo_id=?", (b,))
    albums.refresh_albums(catalog, None)
    assert member_paths(catalog, "Dogs 2024") == []
    with pytest.raises(NotFoundError):
        albums.create_album(catalog, "Cats", tags=["cat"])
    with pytest.raises(albums.AlbumError):
        albums.create_album(catalog, "Bad", tags=["dog"], filters={"after": "not a date"})
    with pytest.raises(albums.AlbumError):
        albums.create_album(catalog, "Bad", query="dog", threshold=2.0)


def test_query_rule_without_a_model_reports_and_keeps_members(catalog: Catalog, folder: tuple[int, Path],
                                                              searcher: CosineSearcher) -> None:
    fid, root = folder
    add_photo(catalog, fid, root / "b.jpg", axis_vector("beach"))
    albums.create_album(catalog, "Beaches", query="beach", searcher=searcher)
    result = albums.refresh_albums(catalog, None)
    assert result[0].error is not None and "model" in result[0].error
    assert member_paths(catalog, "Beaches") == ["b.jpg"]
    assert albums.refresh_albums(catalog, searcher, album_ids=[]) == []


def test_smart_album_with_the_real_searcher(catalog: Catalog, folder: tuple[int, Path], tmp_path: Path) -> None:
    from photoclip.search import Searcher

    fid, root = folder
    rng = np.random.default_rng(0)
    for i in range(30):  # a spread of unrelated photos so the calibration has a background
        add_photo(catalog, fid, root / f"other{i}.jpg", unit(np.r_[rng.random(3), 0, 0, rng.random(3) * 0.3]))
    add_photo(catalog, fid, root / "beach.jpg", axis_vector("beach"))
    add_photo(catalog, fid, root / "beach2.jpg", unit([0.1, 0.1, 0.2, 1, 0, 0, 0, 0]))
    real = Searcher(catalog, FakeEmbedder(), tmp_path / "index", background=False)
    try:
        albums.create_album(catalog, "Beaches", query="beach", searcher=real)
        assert sorted(member_paths(catalog, "Beaches")) == ["beach.jpg", "beach2.jpg"]
        scores = [e.score for e in albums.album_entries(catalog, "Beaches")]
        assert all(s is not None and s >= albums.DEFAULT_THRESHOLD for s in scores)
    finally:
        real.close()


def test_a_refresh_that_changes_nothing_writes_nothing(catalog: Catalog, folder: tuple[int, Path]) -> None:
    """Each written member row marks its photo for keyword re-indexing: after every indexing run that
    would have rebuilt the words of every smart-album member."""
    folder_id, root = folder
    ids = [add_photo(catalog, folder_id, root / f"p{i}.jpg", axis_vector("red")) for i in range(50)]
    tagging.add_tag(catalog, "mine")
    for i in ids:
        tagging.accept_tag(catalog, i, "mine")
    albums.create_album(catalog, "Mine", tags=["mine"])
    with catalog.write() as c:
        c.execute("DELETE FROM keyword_dirty")
    assert albums.refresh_albums(catalog, None)[0].added == 0
    assert catalog.read().execute("SELECT COUNT(*) FROM keyword_dirty").fetchone()[0] == 0


def test_removing_a_huge_selection_stays_under_the_parameter_limit(catalog: Catalog, folder: tuple[int, Path]) -> None:
    folder_id, root = folder
    ids = [add_photo(catalog, folder_id, root / f"p{i}.jpg", axis_vector("red")) for i in range(2500)]
    albums.create_album(catalog, "Big")
    albums.add_to_album(catalog, "Big", ids)
    catalog.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    assert albums.remove_from_album(catalog, "Big", ids[:2000]) == 2000
    albums.reset_member(catalog, "Big", ids[2000:])
    assert albums.album_members(catalog, "Big") == []


def test_photos_not_yet_embedded_by_a_new_model_keep_their_membership(catalog: Catalog, folder: tuple[int, Path],
                                                                     searcher: CosineSearcher) -> None:
    """After a model switch the first batches re-embed a few photos; the album must not shrink to them."""
    fid, root = folder
    for i in range(4):
        add_photo(catalog, fid, root / f"beach{i}.jpg", axis_vector("beach"))
    albums.create_album(catalog, "Beaches", query="beach", threshold=0.6, searcher=searcher)
    assert len(member_paths(catalog, "Beaches")) == 4

    class NewModel(FakeEmbedder):
        model_name = "new-model"
    new = CosineSearcher(catalog, NewModel())
    first = catalog.photo_by_path(str(root / "beach0.jpg"))
    model_id = catalog.model_id("new-model", new.embedder.dim)
    with catalog.write() as c:  # only one photo re-embedded so far
        catalog.put_embeddings(c, model_id, [(first.id, first.content_hash, axis_vector("beach"))])
    assert albums.refresh_albums(catalog, new)[0].removed == 0
    assert len(member_paths(catalog, "Beaches")) == 4
