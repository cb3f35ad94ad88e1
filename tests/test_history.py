"""Row snapshots that make a person's edits undoable exactly (album membership, tag rows, albums)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoclip.organize import albums, history, tagging
from photoclip.store.catalog import Catalog
from tests.fakes import add_photo


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    yield cat
    cat.close()


@pytest.fixture()
def ids(catalog: Catalog, tmp_path: Path) -> list[int]:
    fid = catalog.add_folder(tmp_path).id
    return [add_photo(catalog, fid, tmp_path / f"{n}.jpg") for n in "abc"]


def test_members_snapshot_restores_sources_exactly(catalog: Catalog, ids: list[int]) -> None:
    a, b, c = ids
    albums.create_album(catalog, "Trip")
    albums.add_to_album(catalog, "Trip", [a])
    snap = history.members(catalog, "Trip", [a, b])
    albums.add_to_album(catalog, "Trip", [b, c])
    albums.remove_from_album(catalog, "Trip", [a])
    replaced = history.restore_members(catalog, snap)
    assert sorted(p.id for p in albums.album_members(catalog, "Trip")) == [a, c], "c was not in the snapshot"
    history.restore_members(catalog, replaced)
    assert sorted(p.id for p in albums.album_members(catalog, "Trip")) == [b, c]


def test_tag_snapshot_brings_back_an_auto_tag_and_drops_a_tag_it_created(catalog: Catalog, ids: list[int]) -> None:
    a, b, _c = ids
    before = history.tag_rows(catalog, "holiday", [a, b])
    assert not before.tag_existed
    tagging.accept_tag(catalog, a, "holiday")
    tagging.reject_tag(catalog, b, "holiday")
    after = history.restore_tag_rows(catalog, before)
    assert [t.name for t in tagging.photo_tags(catalog, a)] == []
    assert "holiday" not in [t.name for t in tagging.list_tags(catalog)]
    history.restore_tag_rows(catalog, after)  # redo brings the tag back, with both decisions
    assert [(t.name, t.rejected) for t in tagging.photo_tags(catalog, b)] == [("holiday", True)]


def test_album_snapshot_restores_a_deleted_album_with_its_rule_and_members(catalog: Catalog, ids: list[int]) -> None:
    albums.create_album(catalog, "Mixed")
    albums.add_to_album(catalog, "Mixed", ids[:2])
    albums.exclude(catalog, "Mixed", [ids[2]])
    snap = history.album(catalog, "Mixed")
    albums.delete_album(catalog, "Mixed")
    history.restore_album(catalog, snap)
    entries = albums.album_entries(catalog, "Mixed", include_excluded=True)
    assert sorted((e.photo.id, e.source) for e in entries) == sorted(
        [(ids[0], "manual"), (ids[1], "manual"), (ids[2], "excluded")])
