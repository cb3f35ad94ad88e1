"""The scanner: what a rescan notices (new, changed, moved, gone, offline) and what it leaves alone."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from photoclip.ingest import path_changes, scanner
from photoclip.ingest.path_changes import scan_paths
from photoclip.ingest.scanner import DiskFile, plan_folder, scan, walk_folder
from photoclip.jobs import CancelToken
from photoclip.store.catalog import Catalog, Folder
from photoclip.store.pathtext import path_prefix_range
from tests.fakes import axis_vector


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as cat:
        yield cat


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    return root


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def states(catalog: Catalog) -> dict[str, str]:
    return {r[0]: r[1] for r in catalog.conn.execute("SELECT path, state FROM photos")}


def ids(catalog: Catalog) -> dict[str, int]:
    return {r[0]: r[1] for r in catalog.conn.execute("SELECT path, id FROM photos")}


def embed(catalog: Catalog, photo_id: int) -> None:
    """Mark a photo as embedded, as the pipeline would."""
    model_id = catalog.model_id("m", 8)
    digest = catalog.photo(photo_id).content_hash
    with catalog.write() as c:
        catalog.put_embeddings(c, model_id, [(photo_id, digest, axis_vector("red"))])
        c.execute("UPDATE photos SET state='ok' WHERE id=?", (photo_id,))


@pytest.fixture
def count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = scanner.content_hash

    def counting(path, size=None):  # type: ignore[no-untyped-def]
        calls.append(str(path))
        return real(path, size)

    monkeypatch.setattr(scanner, "content_hash", counting)
    return calls


def test_new_files_then_unchanged_rescan_hashes_nothing(catalog: Catalog, photos: Path,
                                                         count_hashes: list[str]) -> None:
    for i in range(12):
        write(photos / f"sub{i % 3}" / f"img{i}.jpg", f"photo {i}")
    write(photos / "notes.txt", "not a photo")
    catalog.add_folder(photos)
    report = scan(catalog)
    assert report.added == 12 and report.touched
    assert len(count_hashes) == 12
    assert set(states(catalog).values()) == {"pending"}

    count_hashes.clear()
    again = scan(catalog)
    assert count_hashes == []
    assert again.unchanged == 12 and not again.touched


def test_changed_file_is_rehashed_and_pending(catalog: Catalog, photos: Path, count_hashes: list[str]) -> None:
    a = write(photos / "a.jpg", "first")
    write(photos / "b.jpg", "other")
    catalog.add_folder(photos)
    scan(catalog)
    photo_id = ids(catalog)[str(a)]
    embed(catalog, photo_id)
    old_hash = catalog.photo(photo_id).content_hash

    write(a, "second version, longer")
    count_hashes.clear()
    report = scan(catalog)
    assert report.changed == 1 and report.unchanged == 1
    assert count_hashes == [str(a)]
    photo = catalog.photo(photo_id)
    assert photo.state == "pending" and photo.content_hash != old_hash
    assert photo.size == len("second version, longer")

    # Same size, new mtime: still noticed (size and mtime decide).
    write(a, "second version, LONGER")
    os.utime(a, ns=(time.time_ns(), photo.mtime_ns + 5_000_000_000))
    assert scan(catalog).changed == 1


def test_moved_and_renamed_photos_keep_id_tags_and_albums(catalog: Catalog, photos: Path) -> None:
    a = write(photos / "2023" / "a.jpg", "beach photo")
    b = write(photos / "b.jpg", "dog photo")
    catalog.add_folder(photos)
    scan(catalog)
    a_id, b_id = ids(catalog)[str(a)], ids(catalog)[str(b)]
    embed(catalog, a_id)
    now = time.time()
    with catalog.write() as c:
        c.execute("INSERT INTO tags(id, name, created_at) VALUES(1, 'beach', ?)", (now,))
        c.execute("INSERT INTO photo_tags VALUES(?, 1, 0.9, 'manual', 0, ?)", (a_id, now))
        c.execute("INSERT INTO albums(id, name, kind, created_at, updated_at) VALUES(1, 'trip', 'manual', ?, ?)",
                  (now, now))
        c.execute("INSERT INTO album_photos VALUES(1, ?, 'manual', NULL, ?)", (a_id, now))

    moved = photos / "2024" / "renamed a.jpg"
    moved.parent.mkdir()
    a.rename(moved)
    renamed = b.with_name("b2.jpg")
    b.rename(renamed)
    report = scan(catalog)
    assert (report.moved, report.added, report.missing) == (2, 0, 0)
    assert ids(catalog) == {str(moved): a_id, str(renamed): b_id}
    assert catalog.photo(a_id).state == "ok"  # its vector still matches: nothing to redo
    assert catalog.photo(b_id).state == "pending"
    assert catalog.conn.execute("SELECT photo_id FROM photo_tags").fetchall() == [(a_id,)]
    assert catalog.conn.execute("SELECT photo_id FROM album_photos").fetchall() == [(a_id,)]
    assert catalog.vector("m", a_id) is not None


def test_move_between_library_folders(catalog: Catalog, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    a = write(one / "a.jpg", "travelling photo")
    write(one / "stays.jpg", "keeps the folder from looking unmounted")
    two.mkdir()
    catalog.add_folder(one)
    f2 = catalog.add_folder(two)
    scan(catalog)
    a_id = ids(catalog)[str(a)]
    a.rename(two / "a.jpg")
    report = scan(catalog)
    assert report.moved == 1 and report.missing == 0
    assert catalog.photo(a_id).folder_id == f2.id and catalog.photo(a_id).path == str(two / "a.jpg")


def test_deleted_photo_becomes_missing_and_comes_back(catalog: Catalog, photos: Path) -> None:
    a = write(photos / "a.jpg", "here")
    write(photos / "b.jpg", "stays")
    catalog.add_folder(photos)
    scan(catalog)
    a_id = ids(catalog)[str(a)]
    embed(catalog, a_id)
    content = a.read_bytes()
    a.unlink()
    report = scan(catalog)
    assert report.missing == 1
    assert catalog.photo(a_id).state == "missing"
    assert a_id not in catalog.live_ids().tolist()
    assert scan(catalog).missing == 0  # already recorded, not counted again

    # The same file restored (a copy back from a backup, new mtime) re-links to the same id.
    write(photos / "restored.jpg", content)
    report = scan(catalog)
    assert report.moved == 1
    assert catalog.photo(a_id).path == str(photos / "restored.jpg")
    assert catalog.photo(a_id).state == "ok"


def test_vanished_folder_goes_offline_never_deleted(catalog: Catalog, tmp_path: Path, photos: Path) -> None:
    for i in range(3):
        write(photos / f"{i}.jpg", f"p{i}")
    folder = catalog.add_folder(photos)
    scan(catalog)
    first = ids(catalog)
    embed(catalog, first[str(photos / "0.jpg")])

    away = tmp_path / "unplugged"
    photos.rename(away)
    report = scan(catalog)
    assert report.offline_folders == [str(photos)] and report.missing == 0
    assert set(states(catalog).values()) == {"offline"}
    assert catalog.folder(folder.id).state == "offline"
    assert scan(catalog).offline_folders == []  # already offline: nothing new to report

    away.rename(photos)
    report = scan(catalog)
    assert report.online_folders == [str(photos)] and report.missing == 0 and report.added == 0
    assert ids(catalog) == first
    assert states(catalog)[str(photos / "0.jpg")] == "ok"
    assert states(catalog)[str(photos / "1.jpg")] == "pending"
    assert catalog.folder(folder.id).state == "ok"


def test_empty_mount_point_is_offline(catalog: Catalog, photos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write(photos / "a.jpg", "x")
    catalog.add_folder(photos)
    real = os.path.ismount
    monkeypatch.setattr(scanner.os.path, "ismount", lambda p: str(p) == str(photos) or real(p))
    scan(catalog)  # a drive is mounted on the folder
    monkeypatch.undo()
    a.unlink()  # the drive is unmounted: the mount point is still there, but empty
    report = scan(catalog)
    assert report.offline_folders == [str(photos)]
    assert set(states(catalog).values()) == {"offline"}


def test_a_folder_emptied_by_its_owner_is_not_offline_and_its_photos_keep_their_ids(
        catalog: Catalog, tmp_path: Path) -> None:
    """Every photo filed away from Inbox to Sorted while the app was closed: moves, not an unplugged drive."""
    inbox, sorted_ = tmp_path / "Inbox", tmp_path / "Sorted"
    x = write(inbox / "x.jpg", "the photo")
    sorted_.mkdir()
    catalog.add_folder(inbox)
    catalog.add_folder(sorted_)
    scan(catalog)
    old_id = ids(catalog)[str(x)]
    x.rename(sorted_ / "x.jpg")
    report = scan(catalog)
    assert report.offline_folders == [] and report.moved == 1 and report.added == 0
    assert ids(catalog)[str(sorted_ / "x.jpg")] == old_id
    assert {f.path: f.state for f in catalog.folders()}[str(inbox)] == "ok"


def test_an_unreadable_sub_folder_does_not_make_its_photos_missing(catalog: Catalog, photos: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write(photos / "trip" / "a.jpg", "a")
    write(photos / "trip" / "b.jpg", "b")
    write(photos / "top.jpg", "top")
    catalog.add_folder(photos)
    scan(catalog)
    real = os.scandir

    def flaky(path):  # type: ignore[no-untyped-def]
        if str(path).endswith("trip"):
            raise OSError(5, "Input/output error")  # a share's hiccup
        return real(path)
    monkeypatch.setattr(scanner.os, "scandir", flaky)
    report = scan(catalog)
    assert report.missing == 0 and any(s.path.endswith("trip") for s in report.skipped)
    assert set(states(catalog).values()) == {"pending"}
    monkeypatch.undo()
    (photos / "trip" / "b.jpg").unlink()
    assert scan(catalog).missing == 1  # readable again: a real deletion is still seen


def test_sub_folder_lookups_use_the_path_index(catalog: Catalog, photos: Path) -> None:
    """A removed sub-folder is looked up by a range on the path index, not by reading every photo."""
    write(photos / "trip" / "a.jpg", "a")
    write(photos / "trip-other" / "b.jpg", "b")
    write(photos / "trip0" / "c.jpg", "c")
    catalog.add_folder(photos)
    scan(catalog)
    lo, hi = path_prefix_range(str(photos / "trip"))
    plan = " ".join(str(r) for r in catalog.conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM photos WHERE (path=? OR (path >= ? AND path < ?))",
        (str(photos / "trip"), lo, hi)))
    assert "SCAN photos" not in plan
    under = path_changes._ids_under(catalog, str(photos / "trip"))
    assert sorted(under) == [ids(catalog)[str(photos / "trip" / "a.jpg")]]


def test_empty_new_folder_is_not_offline(catalog: Catalog, photos: Path) -> None:
    catalog.add_folder(photos)
    report = scan(catalog)
    assert report.offline_folders == [] and catalog.folders()[0].state == "ok"


def test_symlink_loop_hidden_dirs_and_odd_names(catalog: Catalog, photos: Path) -> None:
    names = ["café ünïcode.jpg", "emoji 📷.png", " leading space.jpg", "new\nline.jpg", "UPPER.JPEG"]
    for name in names:
        write(photos / "odd" / name, name)
    write(photos / ".hidden" / "secret.jpg", "hidden")
    write(photos / "@eaDir" / "thumb.jpg", "nas thumbnail")
    write(photos / "._resource.jpg", "mac resource fork")
    (photos / "odd" / "loop").symlink_to("..", target_is_directory=True)
    (photos / "self").symlink_to(".", target_is_directory=True)
    (photos / "dangling.jpg").symlink_to(photos / "nowhere.jpg")

    started = time.monotonic()
    walked = walk_folder(str(photos))
    assert time.monotonic() - started < 5
    assert sorted(Path(f.path).name for f in walked.files) == sorted(names)
    assert [Path(s.path).name for s in walked.skipped] == ["dangling.jpg"]

    catalog.add_folder(photos)
    report = scan(catalog)
    assert report.added == len(names)
    assert {Path(p).name for p in states(catalog)} == set(names)
    assert scan(catalog).unchanged == len(names)


def test_plan_folder_is_pure_planning() -> None:
    snapshot = {
        "/p/same.jpg": (1, 10, 100, "ok"),
        "/p/grown.jpg": (2, 10, 100, "ok"),
        "/p/touched.jpg": (3, 10, 100, "pending"),
        "/p/gone.jpg": (4, 10, 100, "ok"),
        "/p/was-missing.jpg": (5, 10, 100, "missing"),
        "/p/was-offline.jpg": (6, 10, 100, "offline"),
        "/p/still-missing.jpg": (7, 10, 100, "missing"),
        "/p/failed.jpg": (8, 10, 100, "error"),
    }
    disk = [
        DiskFile("/p/same.jpg", 10, 100),
        DiskFile("/p/grown.jpg", 11, 100),
        DiskFile("/p/touched.jpg", 10, 101),
        DiskFile("/p/was-missing.jpg", 10, 100),
        DiskFile("/p/was-offline.jpg", 10, 100),
        DiskFile("/p/failed.jpg", 10, 100),
        DiskFile("/p/new.jpg", 5, 1),
    ]
    plan = plan_folder(snapshot, disk)
    assert [f.path for f in plan.new] == ["/p/new.jpg"]
    assert sorted(pid for pid, _ in plan.changed) == [2, 3]
    assert sorted(pid for pid, _ in plan.revived) == [5, 6]
    assert plan.gone == [4]
    assert plan.unchanged == 2
    assert plan_folder(snapshot, []).gone == [1, 2, 3, 4, 6, 8]


def test_scan_paths_handles_watcher_events(catalog: Catalog, photos: Path, count_hashes: list[str]) -> None:
    a = write(photos / "a.jpg", "first")
    b = write(photos / "b.jpg", "second")
    catalog.add_folder(photos)
    scan(catalog)
    a_id = ids(catalog)[str(a)]

    c = write(photos / "sub" / "c.jpg", "third")
    write(a, "first, edited")
    b.unlink()
    outside = write(photos.parent / "elsewhere" / "x.jpg", "not in the library")
    count_hashes.clear()
    report = scan_paths(catalog, [str(a), str(b), str(c), str(outside)])
    assert (report.added, report.changed, report.missing) == (1, 1, 1)
    assert sorted(count_hashes) == sorted([str(a), str(c)])
    assert states(catalog) == {str(a): "pending", str(b): "missing", str(c): "pending"}
    assert ids(catalog)[str(a)] == a_id

    # A delete + create pair of events for the same content is a move, keeping the id.
    c_id = ids(catalog)[str(c)]
    c2 = photos / "c-renamed.jpg"
    c.rename(c2)
    report = scan_paths(catalog, [str(c), str(c2)])
    assert report.moved == 1 and ids(catalog)[str(c2)] == c_id

    # A removed sub-folder takes its photos with it.
    d = write(photos / "trip" / "d.jpg", "fourth")
    scan_paths(catalog, [str(photos / "trip")])
    assert states(catalog)[str(d)] == "pending"
    d.unlink()
    (photos / "trip").rmdir()
    assert scan_paths(catalog, [str(photos / "trip")]).missing == 1
    assert states(catalog)[str(d)] == "missing"


def test_move_path_keeps_ids(catalog: Catalog, photos: Path, tmp_path: Path) -> None:
    a = write(photos / "trip" / "a.jpg", "a")
    b = write(photos / "trip" / "b.jpg", "b")
    catalog.add_folder(photos)
    scan(catalog)
    before = ids(catalog)

    (photos / "trip").rename(photos / "holiday")
    assert path_changes.move_path(catalog, str(photos / "trip"), str(photos / "holiday")) == 2
    assert ids(catalog) == {str(photos / "holiday" / "a.jpg"): before[str(a)],
                            str(photos / "holiday" / "b.jpg"): before[str(b)]}

    single = photos / "holiday" / "a.jpg"
    single.rename(photos / "a-top.jpg")
    assert path_changes.move_path(catalog, str(single), str(photos / "a-top.jpg")) == 1
    assert catalog.photo(before[str(a)]).path == str(photos / "a-top.jpg")

    # Moved out of the library: the photo is missing, not deleted.
    outside = tmp_path / "outside.jpg"
    (photos / "a-top.jpg").rename(outside)
    assert path_changes.move_path(catalog, str(photos / "a-top.jpg"), str(outside)) == 0
    assert catalog.photo(before[str(a)]).state == "missing"


def test_two_photos_swapped_through_a_temporary_name_keep_their_ids(catalog: Catalog, photos: Path) -> None:
    """a -> a.tmp, b -> a, a.tmp -> b, as watch events: each photo keeps its id (and so its tags)."""
    a = write(photos / "a.jpg", "content of a")
    b = write(photos / "b.jpg", "content of b")
    catalog.add_folder(photos)
    scan(catalog)
    a_id, b_id = ids(catalog)[str(a)], ids(catalog)[str(b)]
    from photoclip.organize import tagging

    tagging.add_tag(catalog, "kept")
    tagging.accept_tag(catalog, a_id, "kept")
    tmp = photos / "a.jpg.tmp"
    a.rename(tmp)
    path_changes.move_path(catalog, str(a), str(tmp))  # not a photo name: nothing moves
    b.rename(a)
    path_changes.move_path(catalog, str(b), str(a))  # b's photo now at a; a's is displaced
    tmp.rename(b)
    path_changes.move_path(catalog, str(tmp), str(b))
    scan_paths(catalog, [str(a), str(b), str(tmp)])  # what the watcher checks after the moves
    assert ids(catalog)[str(a)] == b_id
    assert ids(catalog)[str(b)] == a_id
    assert [t.name for t in tagging.photo_tags(catalog, ids(catalog)[str(b)])] == ["kept"]
    assert states(catalog)[str(b)] in ("ok", "pending") and catalog.photo(a_id).content_hash == \
        scanner.content_hash(str(b), b.stat().st_size)


def test_scan_cancel_keeps_what_was_committed(catalog: Catalog, photos: Path) -> None:
    for i in range(5):
        write(photos / f"{i}.jpg", f"p{i}")
    catalog.add_folder(photos)
    token = CancelToken()
    token.cancel()
    report = scan(catalog, cancel=token)
    assert report.cancelled and report.added == 0
    assert catalog.counts()["photos"] == 0
    assert scan(catalog).added == 5


def test_unreadable_file_is_skipped_with_reason(catalog: Catalog, photos: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("permissions are not enforced for root")
    locked = write(photos / "locked.jpg", "secret")
    write(photos / "ok.jpg", "fine")
    locked.chmod(0)
    catalog.add_folder(photos)
    report = scan(catalog)
    assert report.added == 1
    assert [(Path(s.path).name, "denied" in s.reason.lower()) for s in report.skipped] == [("locked.jpg", True)]


def test_folders_argument_limits_the_scan(catalog: Catalog, tmp_path: Path) -> None:
    write(tmp_path / "one" / "a.jpg", "a")
    write(tmp_path / "two" / "b.jpg", "b")
    one = catalog.add_folder(tmp_path / "one")
    catalog.add_folder(tmp_path / "two")
    assert isinstance(one, Folder)
    assert scan(catalog, [one]).added == 1
    assert list(states(catalog)) == [str(tmp_path / "one" / "a.jpg")]


def test_identical_copies_are_checked_for_a_vanished_twin_once(catalog: Catalog, photos: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of 300 identical files (backups, blank frames) must not cost 300 x 300 stat calls."""
    for i in range(300):
        write(photos / f"copy{i:03d}.jpg", "the same bytes")
    catalog.add_folder(photos)
    scan(catalog)
    for i in range(300, 600):
        write(photos / "more" / f"copy{i:03d}.jpg", "the same bytes")
    looked: list[str] = []
    real = os.path.exists

    def counting(path):  # type: ignore[no-untyped-def]
        looked.append(str(path))
        return real(path)
    monkeypatch.setattr(scanner.os.path, "exists", counting)
    report = scan(catalog)
    assert report.added == 300 and report.moved == 0
    assert len(looked) <= 2 * 300  # one look at each earlier copy, not one per new file


def test_two_copies_moved_in_one_watch_batch_keep_their_ids(catalog: Catalog, photos: Path) -> None:
    """Their deletions not reported yet: each new path re-links to one of the vanished twins."""
    a = write(photos / "a.jpg", "twin content")
    b = write(photos / "b.jpg", "twin content")
    catalog.add_folder(photos)
    scan(catalog)
    before = {ids(catalog)[str(a)], ids(catalog)[str(b)]}
    a2, b2 = photos / "sub" / "a.jpg", photos / "sub" / "b.jpg"
    a2.parent.mkdir()
    a.rename(a2)
    b.rename(b2)
    report = scan_paths(catalog, [str(a2), str(b2)])
    assert report.moved == 2 and report.added == 0
    assert {ids(catalog)[str(a2)], ids(catalog)[str(b2)]} == before
