"""Moving photos to the trash (freedesktop.org layout) and back, with the catalog following both ways."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photoclip.catalog import Catalog
from photoclip.library import Library
from photoclip.organize import trash
from tests.fakes import add_photo


@pytest.fixture()
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"))
    yield lib
    lib.close()


def _photo_file(folder: Path, name: str, data: bytes = b"pixels") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_move_to_trash_writes_file_and_trashinfo_and_restore_brings_it_back(tmp_path: Path) -> None:
    photo = _photo_file(tmp_path, "beach 100%.jpg", b"the original bytes")
    item = trash.move_to_trash(photo)
    assert not photo.exists()
    home = Path(os.environ["XDG_DATA_HOME"]) / "Trash"
    assert Path(item.trashed) == home / "files" / "beach 100%.jpg"
    assert Path(item.trashed).read_bytes() == b"the original bytes"
    info = Path(item.info)
    assert info == home / "info" / "beach 100%.jpg.trashinfo"
    text = info.read_text()
    assert text.startswith("[Trash Info]\n") and "DeletionDate=" in text
    assert trash.original_path(info) == str(photo)  # percent-encoded in the file, decoded back
    assert "%25" in text and "%20" in text

    assert trash.restore(item) == photo
    assert photo.read_bytes() == b"the original bytes"
    assert not info.exists() and not Path(item.trashed).exists()


def test_same_name_twice_gets_a_numbered_trash_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = trash.move_to_trash(_photo_file(tmp_path / "a", "IMG_1.jpg", b"a"))
    second = trash.move_to_trash(_photo_file(tmp_path / "b", "IMG_1.jpg", b"b"))
    assert first.trashed != second.trashed
    assert Path(second.trashed).name == "IMG_1.2.jpg"
    assert trash.restore(second) == tmp_path / "b" / "IMG_1.jpg"
    assert (tmp_path / "b" / "IMG_1.jpg").read_bytes() == b"b"


def test_restore_never_overwrites_a_file_that_came_back(tmp_path: Path) -> None:
    photo = _photo_file(tmp_path, "x.jpg", b"old")
    item = trash.move_to_trash(photo)
    photo.write_bytes(b"new")
    with pytest.raises(trash.TrashError, match="exists again"):
        trash.restore(item)
    assert photo.read_bytes() == b"new" and Path(item.trashed).read_bytes() == b"old"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(trash.TrashError, match="not there"):
        trash.move_to_trash(tmp_path / "gone.jpg")


def test_library_trash_marks_photos_missing_and_undo_restores_them(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    folder = library.catalog.add_folder(photos)
    keep = add_photo(library.catalog, folder.id, _photo_file(photos, "keep.jpg"))
    a = add_photo(library.catalog, folder.id, _photo_file(photos, "a.jpg"))
    gone = add_photo(library.catalog, folder.id, photos / "already-gone.jpg")
    events = []
    library.subscribe(events.append)

    outcome = library.move_to_trash([a, gone])
    assert outcome.ids == [a]
    assert [s.path for s in outcome.skipped] == [str(photos / "already-gone.jpg")]
    assert "not there" in outcome.skipped[0].reason
    assert outcome.restorable
    assert not (photos / "a.jpg").exists()
    assert library.photo(a).state == "missing" and library.photo(keep).state == "ok"
    assert events[-1].kind == "photos" and events[-1].ids == (a,)

    back = library.restore_from_trash(outcome)
    assert back.ids == [a] and not back.skipped
    assert (photos / "a.jpg").read_bytes() == b"pixels"
    assert library.photo(a).state == "ok"
    assert events[-1].ids == (a,)


def test_library_restore_reports_a_file_emptied_from_the_trash(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    folder = library.catalog.add_folder(photos)
    a = add_photo(library.catalog, folder.id, _photo_file(photos, "a.jpg"))
    outcome = library.move_to_trash([a])
    Path(outcome.trashed[0].file.trashed).unlink()  # the user emptied the trash meanwhile
    back = library.restore_from_trash(outcome)
    assert back.ids == [] and "no longer in the trash" in back.skipped[0].reason
    assert library.photo(a).state == "missing"
