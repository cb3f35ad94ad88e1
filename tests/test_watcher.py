"""The watcher on its own: coalescing, the stability check, file system types, and real observers."""

from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

import pytest
from PIL import Image
from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)
from watchdog.observers import Observer
from watchdog.observers.inotify import InotifyWatchGroup
from watchdog.observers.inotify_c import InotifyFD

from photoclip.ingest import watcher as watcher_module
from photoclip.ingest.watcher import (
    NATIVE,
    POLLING,
    ChangeBatch,
    ChangeCollector,
    StabilityGate,
    WatchedFolder,
    Watcher,
    _EventHandler,
    is_network_fs,
    mount_type,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_png(path: Path, color: tuple[int, int, int] = (200, 10, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), color).save(path)
    return path


def collect(w: Watcher, until, timeout: float = 5.0) -> list[ChangeBatch]:
    """Pull batches until ``until(batches)`` holds; fails the test after ``timeout`` seconds."""
    batches: list[ChangeBatch] = []
    deadline = time.monotonic() + timeout
    while not until(batches):
        assert time.monotonic() < deadline, f"timed out; got {batches}"
        batch = w.next_batch(timeout=0.2)
        if batch:
            batches.append(batch)
    return batches


def all_paths(batches: list[ChangeBatch]) -> set[str]:
    return {p for b in batches for p in b.paths}


# -- collector and gate ----------------------------------------------------------------------------

def test_collector_waits_for_quiet_but_flushes_a_continuous_burst() -> None:
    clock = Clock()
    c = ChangeCollector(quiet=0.5, max_wait=2.0, clock=clock)
    assert not c.due()
    c.created("/p/a.jpg", is_dir=False)
    clock.now += 0.4
    c.changed("/p/a.jpg")
    clock.now += 0.4
    assert not c.due()  # the last event was only 0.4 s ago
    clock.now += 0.2
    assert c.due()
    got = c.take()
    assert got.paths == {"/p/a.jpg"} and got.events == 2
    assert not c.due() and len(c) == 0
    # An endless burst: an event every 0.3 s never leaves 0.5 s of quiet, but 2 s caps the wait.
    for _ in range(6):
        c.created(f"/p/{clock.now}.jpg", is_dir=False)
        assert not c.due()
        clock.now += 0.3
    c.created("/p/last.jpg", is_dir=False)
    clock.now += 0.3
    assert c.due()
    assert len(c.take().paths) == 7


def test_gate_holds_a_file_until_its_size_and_mtime_stop_moving(tmp_path: Path) -> None:
    clock = Clock()
    gate = StabilityGate(interval=0.5, clock=clock)
    f = tmp_path / "a.jpg"
    f.write_bytes(b"x" * 10)
    assert gate.offer([str(f)]) == []
    assert gate.ready() == ([], [])  # not yet checked twice
    clock.now += 0.5
    with open(f, "ab") as out:
        out.write(b"y" * 10)  # still being written at the second look
    assert gate.ready() == ([], [])
    assert len(gate) == 1
    clock.now += 0.5
    assert gate.ready() == ([str(f)], [])
    assert len(gate) == 0


def test_gate_reports_vanished_files_and_expands_created_folders(tmp_path: Path) -> None:
    clock = Clock()
    gate = StabilityGate(interval=0.5, clock=clock)
    card = tmp_path / "card"
    make_png(card / "one.png")
    make_png(card / "sub" / "two.png")
    (card / "notes.txt").write_text("not a photo")
    doomed = make_png(tmp_path / "doomed.png")
    assert gate.offer([str(doomed), str(tmp_path / "never.png")], [str(card)]) == [str(tmp_path / "never.png")]
    doomed.unlink()
    clock.now += 0.5
    done, gone = gate.ready()
    assert sorted(done) == [str(card / "one.png"), str(card / "sub" / "two.png")]
    assert gone == [str(doomed)]


def test_gate_waits_longer_for_an_empty_file(tmp_path: Path) -> None:
    clock = Clock()
    gate = StabilityGate(interval=0.5, empty_grace=3.0, clock=clock)
    f = tmp_path / "empty.jpg"
    f.write_bytes(b"")
    gate.offer([str(f)])
    clock.now += 1.0
    assert gate.ready() == ([], [])
    clock.now += 2.5
    assert gate.ready() == ([str(f)], [])


# -- file system types -------------------------------------------------------------------------------

MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
server:/export /mnt/nas nfs4 rw 0 0
//box/share /mnt/nas/smb cifs rw 0 0
user@host:/pics /home/me/My\\040Pictures fuse.sshfs rw 0 0
/dev/sdb1 /media/usb fuseblk rw 0 0
"""


def test_mount_type_finds_the_innermost_mount() -> None:
    assert mount_type("/home/me/photos", MOUNTS) == "ext4"
    assert mount_type("/mnt/nas/2024", MOUNTS) == "nfs4"
    assert mount_type("/mnt/nas/smb/x", MOUNTS) == "cifs"
    assert mount_type("/mnt/nasty", MOUNTS) == "ext4"  # a name prefix is not a parent folder
    assert mount_type("/home/me/My Pictures/2020", MOUNTS) == "fuse.sshfs"
    assert mount_type("/media/usb", MOUNTS) == "fuseblk"


@pytest.mark.parametrize(("fstype", "network"), [
    ("nfs4", True), ("cifs", True), ("smb3", True), ("fuse.sshfs", True), ("fuse.rclone", True),
    ("ext4", False), ("btrfs", False), ("fuseblk", False), ("tmpfs", False), (None, False),
])
def test_network_file_systems_are_recognised(fstype: str | None, network: bool) -> None:
    assert is_network_fs(fstype) is network


# -- event filtering ----------------------------------------------------------------------------------

def test_handler_keeps_photo_events_and_maps_renames(tmp_path: Path) -> None:
    root = str(tmp_path)
    c = ChangeCollector(quiet=0.0, max_wait=0.0)
    h = _EventHandler(root, c)
    h.dispatch(FileCreatedEvent(f"{root}/a.jpg"))
    h.dispatch(FileModifiedEvent(f"{root}/notes.txt"))  # not a photo
    h.dispatch(FileCreatedEvent(f"{root}/.hidden/b.jpg"))  # inside a hidden folder
    h.dispatch(FileCreatedEvent(f"{root}/@eaDir/c.jpg"))  # another tool's cache
    h.dispatch(FileOpenedEvent(f"{root}/a.jpg"))
    h.dispatch(DirModifiedEvent(f"{root}/sub"))  # a folder's mtime: noise
    h.dispatch(DirCreatedEvent(f"{root}/card"))
    h.dispatch(FileClosedEvent(f"{root}/d.png"))
    h.dispatch(FileDeletedEvent(f"{root}/e.jpg"))
    h.dispatch(FileMovedEvent(f"{root}/f.jpg", f"{root}/g.jpg"))
    h.dispatch(FileMovedEvent(f"{root}/h.jpg.part", f"{root}/h.jpg"))  # a download finishing
    h.dispatch(FileMovedEvent(f"{root}/i.jpg", f"{root}/i.jpg.bak"))  # no longer a photo
    h.dispatch(FileMovedEvent(f"{root}/j.jpg", f"{root}/.trash/j.jpg"))  # hidden away
    got = c.take()
    assert got.paths == {f"{root}/{n}" for n in ("a.jpg", "d.png", "e.jpg", "h.jpg", "i.jpg", "j.jpg")}
    assert got.dirs == {f"{root}/card"}
    assert got.moves == [(f"{root}/f.jpg", f"{root}/g.jpg")]


# -- real observers -----------------------------------------------------------------------------------

def fast_watcher(*folders: WatchedFolder, **kw) -> Watcher:
    options = {"quiet": 0.3, "max_wait": 1.0, "stable": 0.2, "root_check": 0.3, "polling_interval": 0.3}
    options.update(kw)
    return Watcher(folders, **options)


def test_a_burst_of_files_arrives_in_few_batches(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    with fast_watcher(WatchedFolder(str(root))) as w:
        assert w.modes() == {str(root): NATIVE}
        expected = {str(make_png(root / "burst" / f"{i:03}.png")) for i in range(60)}
        batches = collect(w, lambda bs: expected <= all_paths(bs))
    assert len(batches) <= 3
    assert sum(b.events for b in batches) >= 60


def test_a_renamed_file_is_reported_as_a_move(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    src = make_png(root / "a.png")
    with fast_watcher(WatchedFolder(str(root))) as w:
        src.rename(root / "b.png")
        batches = collect(w, lambda bs: any(b.moves for b in bs))
    assert batches[-1].moves == [(str(src), str(root / "b.png"))]


def test_watch_limit_at_start_falls_back_to_polling(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class ExhaustedObserver(Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    root = tmp_path / "photos"
    root.mkdir()
    caplog.set_level(logging.WARNING, logger="photoclip.ingest.watcher")
    with fast_watcher(WatchedFolder(str(root)), native_observer=ExhaustedObserver) as w:
        assert w.modes() == {str(root): POLLING}
        assert "polling" in caplog.text and "limit" in caplog.text
        photo = make_png(root / "late.png")
        collect(w, lambda bs: str(photo) in all_paths(bs))


def test_watch_limit_on_sub_folders_falls_back_to_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """The limit is reached on a sub-folder while the tree is first registered: the whole folder is polled."""
    real_add = InotifyFD.add_callback

    def add_callback(self, path: bytes, *args, **kwargs):
        if os.path.basename(path) == b"deep":
            raise OSError(errno.ENOSPC, "inotify watch limit reached")
        return real_add(self, path, *args, **kwargs)

    monkeypatch.setattr(InotifyFD, "add_callback", add_callback)
    root = tmp_path / "photos"
    (root / "a" / "deep").mkdir(parents=True)
    (root / "b").mkdir()
    caplog.set_level(logging.WARNING, logger="photoclip.ingest.watcher")
    with fast_watcher(WatchedFolder(str(root))) as w:
        assert w.modes() == {str(root): POLLING}
        assert "limit on watched folders" in caplog.text and "polling" in caplog.text
        photo = make_png(root / "a" / "deep" / "x.png")
        collect(w, lambda bs: str(photo) in all_paths(bs))


def test_sub_folders_skipped_silently_are_noticed_and_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """Some watchdog releases skip a sub-folder they cannot watch without an error; the watcher counts the
    watches it got against the folders on disk and polls when some are missing."""
    real_add = InotifyWatchGroup._add_callback

    def add_callback(self, path: bytes) -> None:
        if os.path.basename(path) != b"deep":
            real_add(self, path)

    monkeypatch.setattr(InotifyWatchGroup, "_add_callback", add_callback)
    root = tmp_path / "photos"
    (root / "a" / "deep").mkdir(parents=True)
    (root / "b").mkdir()
    caplog.set_level(logging.WARNING, logger="photoclip.ingest.watcher")
    with fast_watcher(WatchedFolder(str(root))) as w:
        assert w.modes() == {str(root): POLLING}
        assert "only part of" in caplog.text
        photo = make_png(root / "a" / "deep" / "x.png")
        collect(w, lambda bs: str(photo) in all_paths(bs))


def test_polling_folders_and_network_mounts_are_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local, share = tmp_path / "local", tmp_path / "share"
    local.mkdir()
    share.mkdir()
    polled = tmp_path / "polled"
    polled.mkdir()
    monkeypatch.setattr(watcher_module, "mount_type", lambda p: "cifs" if p.startswith(str(share)) else "ext4")
    folders = [WatchedFolder(str(local)), WatchedFolder(str(share)), WatchedFolder(str(polled), polling=True)]
    with fast_watcher(*folders) as w:
        assert w.modes() == {str(local): NATIVE, str(share): POLLING, str(polled): POLLING}
        photo = make_png(share / "x.png")
        collect(w, lambda bs: str(photo) in all_paths(bs))
    with fast_watcher(*folders, detect_network=False) as w:
        assert w.modes()[str(share)] == NATIVE


def test_a_vanished_root_goes_offline_and_is_watched_again_when_it_returns(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    make_png(root / "a.png")
    with fast_watcher(WatchedFolder(str(root))) as w:
        root.rename(tmp_path / "elsewhere")
        batches = collect(w, lambda bs: any(b.offline for b in bs))
        assert batches[-1].offline == [str(root)]
        assert w.modes() == {str(root): "offline"}
        (tmp_path / "elsewhere").rename(root)
        batches = collect(w, lambda bs: any(b.online for b in bs))
        assert batches[-1].online == [str(root)]
        assert w.modes() == {str(root): NATIVE}
        # ...and its new observer reports changes again.
        photo = make_png(root / "b.png")
        collect(w, lambda bs: str(photo) in all_paths(bs))


def test_set_folders_starts_and_stops_observers(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    with fast_watcher(WatchedFolder(str(a))) as w:
        w.set_folders([WatchedFolder(str(b), polling=True)])
        assert w.modes() == {str(b): POLLING}
        make_png(a / "ignored.png")
        photo = make_png(b / "seen.png")
        batches = collect(w, lambda bs: str(photo) in all_paths(bs))
        assert str(a / "ignored.png") not in all_paths(batches)


def test_an_overflow_while_an_observer_restarts_does_not_deadlock(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The inotify reader thread reports the overflow while the watcher, holding its lock, joins it."""
    import threading

    from watchdog.observers import inotify_c

    real = inotify_c.InotifyFD.handle_event

    def slow(self, event):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return real(self, event)

    # Every event the reader sees is an overflow, and watchdog is slow to handle it.
    monkeypatch.setattr(inotify_c.InotifyFD, "handle_event", slow)
    monkeypatch.setattr(inotify_c.InotifyEvent, "is_queue_overflow", property(lambda self: True))
    root = tmp_path / "photos"
    root.mkdir()
    w = Watcher([WatchedFolder(str(root))], detect_network=False)
    w.start()
    make_png(root / "a.png")
    time.sleep(0.1)
    w._watches[str(root)].identity = (0, 0)  # as if another folder now sat at the path: restart its observer
    restart = threading.Thread(target=w._check_roots, daemon=True)
    restart.start()
    restart.join(5)
    assert not restart.is_alive(), "the watcher deadlocked with watchdog's reader thread"
    monkeypatch.undo()
    batches = collect(w, lambda bs: any(b.online for b in bs))
    assert str(root) in batches[-1].online
    assert w.overflows >= 1
    w.stop()
