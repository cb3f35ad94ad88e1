"""RAW+JPEG pairs are one photo, and files the scan cannot catalogue are listed with the reason."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from photoclip.ingest.path_changes import move_path, scan_paths
from photoclip.ingest.pipeline import Indexer
from photoclip.ingest.scanner import scan
from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.test_capture_dates import exif_block, write_jpeg
from tests.test_raw import jpeg_bytes, raw_like


@pytest.fixture
def lib(tmp_path: Path):
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as catalog:
        yield Library(tmp_path / "lib", catalog)


def live_paths(catalog: Catalog) -> list[str]:
    return sorted(Path(p).name for (p,) in catalog.conn.execute("SELECT path FROM photos WHERE state != 'missing'"))


def test_raw_and_jpeg_of_one_shot_are_one_photo(tmp_path: Path, lib: Library) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_jpeg(folder / "IMG_0001.JPG", exif=exif_block(original="2022:06:01 12:00:00"))
    raw_like(folder / "IMG_0001.CR2", jpeg_bytes((400, 300), (200, 0, 0)))
    raw_like(folder / "IMG_0002.nef", jpeg_bytes((400, 300), (0, 200, 0)))  # a RAW alone is a photo
    lib.catalog.add_folder(folder)
    report = scan(lib.catalog)
    assert report.added == 2
    assert live_paths(lib.catalog) == ["IMG_0001.JPG", "IMG_0002.nef"]
    shown = lib.catalog.photo_by_path(str(folder / "IMG_0001.JPG"))
    assert shown is not None and shown.companion == str(folder / "IMG_0001.CR2")
    Indexer(lib.catalog, None).run()
    alone = lib.catalog.photo_by_path(str(folder / "IMG_0002.nef"))
    assert alone is not None and alone.state == "ok" and alone.format == "nef" and alone.taken_at_source == "exif"


def test_a_jpeg_arriving_later_takes_the_raw_as_its_companion(tmp_path: Path, lib: Library) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    raw = raw_like(folder / "DSC_7.arw", jpeg_bytes((400, 300), (0, 0, 200)))
    lib.catalog.add_folder(folder)
    scan(lib.catalog)
    assert live_paths(lib.catalog) == ["DSC_7.arw"]
    write_jpeg(folder / "DSC_7.jpg")
    scan(lib.catalog)
    assert live_paths(lib.catalog) == ["DSC_7.jpg"]
    assert lib.catalog.conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 1
    # The watcher reports the RAW on its own: it stays the JPEG's companion, and follows a rename.
    scan_paths(lib.catalog, [str(raw)])
    assert live_paths(lib.catalog) == ["DSC_7.jpg"]
    renamed_jpeg, renamed_raw = folder / "trip.jpg", folder / "trip.arw"
    (folder / "DSC_7.jpg").rename(renamed_jpeg)
    raw.rename(renamed_raw)
    move_path(lib.catalog, str(folder / "DSC_7.jpg"), str(renamed_jpeg))
    move_path(lib.catalog, str(raw), str(renamed_raw))
    photo = lib.catalog.photo_by_path(str(renamed_jpeg))
    assert photo is not None and photo.companion == str(renamed_raw)


def test_status_lists_what_could_not_be_catalogued(tmp_path: Path, lib: Library,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rawpy", None)  # the raw extra is not installed
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg_original").write_bytes(jpeg_bytes((20, 20), (9, 9, 9)))  # an image, odd name
    (folder / "notes.txt").write_text("not an image")
    (folder / "clip.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  ")
    raw_like(folder / "old.pef", None)  # no preview at all: needs LibRaw
    lib.catalog.add_folder(folder)
    scan(lib.catalog)
    Indexer(lib.catalog, None).run()
    status = lib.status()
    assert [Path(p).name for p, _ in status.uncatalogued] == ["holiday.jpg_original"]
    assert "JPEG" in status.uncatalogued[0][1]
    assert [(Path(p).name, "photoclip[raw]" in r) for p, r in status.error_list] == [("old.pef", True)]
    (folder / "holiday.jpg_original").unlink()
    scan(lib.catalog)
    assert lib.status().uncatalogued == []


def test_the_watcher_pairs_a_jpeg_with_a_raw_catalogued_before(tmp_path: Path, lib: Library) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    raw = raw_like(folder / "P1.rw2", jpeg_bytes((400, 300), (0, 0, 200)), magic=b"IIU\x00")
    lib.catalog.add_folder(folder)
    scan(lib.catalog)
    jpeg = write_jpeg(folder / "P1.JPG")
    scan_paths(lib.catalog, [str(jpeg)])
    assert live_paths(lib.catalog) == ["P1.JPG"]
    photo = lib.catalog.photo_by_path(str(jpeg))
    assert photo is not None and photo.companion == str(raw) and photo.state == "pending"


def test_a_pair_moved_to_another_folder_keeps_its_id_and_its_raw(tmp_path: Path, lib: Library) -> None:
    folder = tmp_path / "photos"
    (folder / "2022").mkdir(parents=True)
    jpeg = write_jpeg(folder / "IMG_9.jpg")
    raw = raw_like(folder / "IMG_9.dng", jpeg_bytes((400, 300), (0, 0, 200)))
    lib.catalog.add_folder(folder)
    scan(lib.catalog)
    before = lib.catalog.photo_by_path(str(jpeg))
    assert before is not None
    jpeg.rename(folder / "2022" / jpeg.name)
    raw.rename(folder / "2022" / raw.name)
    report = scan(lib.catalog)
    after = lib.catalog.photo_by_path(str(folder / "2022" / jpeg.name))
    assert report.moved == 1 and after is not None and after.id == before.id
    assert after.companion == str(folder / "2022" / raw.name)


def test_the_raw_s_own_sidecar_serves_the_pair(tmp_path: Path, lib: Library) -> None:
    from tests.test_capture_dates import xmp_packet

    folder = tmp_path / "photos"
    folder.mkdir()
    jpeg = write_jpeg(folder / "IMG_5.jpg")
    raw_like(folder / "IMG_5.NEF", jpeg_bytes((400, 300), (0, 0, 200)))
    (folder / "IMG_5.NEF.xmp").write_bytes(xmp_packet(xmp_Rating="4", dc_subject="Falcon"))  # darktable's name
    lib.catalog.add_folder(folder)
    lib.index(enrich=False)  # the facade records the keywords the pipeline reads as tags
    photo = lib.catalog.photo_by_path(str(jpeg))
    assert photo is not None and photo.rating == 4
    assert [t.name.casefold() for t in lib.photo_tags(photo.id)] == ["falcon"]
