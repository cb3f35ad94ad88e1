"""Moving photo files to the platform's trash, and back again.

This is the only change PhotoClip ever makes to a photo file, and only on an explicit, confirmed
user action. On Linux (and other freedesktop.org desktops) the Trash specification is followed
directly: the file goes to ``files/`` of the home trash (or the trash at the top of its own
volume), next to an ``info/*.trashinfo`` record, so the file manager can list and restore it and
so can undo here. Elsewhere the optional ``send2trash`` package does the move; those platforms do
not tell where the file went, so it cannot be brought back from here.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from photoclip.errors import PhotoClipError
from photoclip.jobs import Skipped

if TYPE_CHECKING:
    from photoclip.catalog import Catalog


class TrashError(PhotoClipError):
    """A file could not be moved to the trash or back; the file is left where it was."""


@dataclass(frozen=True)
class TrashedFile:
    """Where a file went. ``trashed`` and ``info`` are None when the platform does not say."""

    original: str
    trashed: str | None = None
    info: str | None = None

    @property
    def restorable(self) -> bool:
        return self.trashed is not None


@dataclass(frozen=True)
class TrashedPhoto:
    """A catalogued photo sent to the trash, with the state it had, so undo can put both back."""

    photo_id: int
    file: TrashedFile
    state: str


@dataclass
class TrashOutcome:
    """What `Library.move_to_trash` did: the photos trashed and the files it could not trash (and why)."""

    trashed: list[TrashedPhoto] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [t.photo_id for t in self.trashed]

    @property
    def restorable(self) -> bool:
        """Whether undo can bring every trashed file back (not on platforms that hide where it went)."""
        return all(t.file.restorable for t in self.trashed)


def freedesktop() -> bool:
    """Whether this platform keeps its trash the freedesktop.org way (Linux and the BSDs)."""
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly"))


def available() -> bool:
    """Whether files can be moved to a trash here at all."""
    if freedesktop():
        return True
    try:
        import send2trash  # noqa: F401
    except ImportError:
        return False
    return True


def move_to_trash(path: str | os.PathLike[str]) -> TrashedFile:
    """Move one file to the trash; raises `TrashError` and leaves the file alone if it cannot."""
    source = Path(os.path.abspath(path))
    if not source.is_file():
        raise TrashError(f"{source} is not there any more.")
    if freedesktop():
        return _freedesktop_trash(source)
    try:
        from send2trash import send2trash
    except ImportError:
        raise TrashError("Moving to the trash on this system needs the send2trash package "
                         "(pip install send2trash).") from None
    try:
        send2trash(str(source))
    except Exception as exc:  # send2trash raises OSError or its own TrashPermissionError
        raise TrashError(f"Could not move {source} to the trash: {exc}") from exc
    return TrashedFile(str(source))


def restore(item: TrashedFile) -> Path:
    """Put a trashed file back where it was; raises `TrashError` if it cannot (nothing is overwritten)."""
    if item.trashed is None:
        raise TrashError(f"{item.original} cannot be restored from here; use the system's trash.")
    trashed, original = Path(item.trashed), Path(item.original)
    if not trashed.exists():
        raise TrashError(f"{original.name} is no longer in the trash.")
    if original.exists():
        raise TrashError(f"{original} exists again; the trashed copy was left in the trash.")
    try:
        original.parent.mkdir(parents=True, exist_ok=True)
        os.rename(trashed, original)
    except OSError as exc:
        raise TrashError(f"Could not restore {original}: {exc}") from exc
    if item.info:
        Path(item.info).unlink(missing_ok=True)
    return original


# -- the freedesktop.org Trash specification ---------------------------------------------------


def home_trash() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "Trash"


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path.parent != path:
        path = path.parent
    return path


def _device(path: Path) -> int:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path.stat().st_dev


def _trash_for(source: Path) -> tuple[Path, Path | None]:
    """The trash folder for ``source`` and, for a volume's own trash, the volume's top directory."""
    home = home_trash()
    if _device(home) == source.stat().st_dev:
        return home, None
    top = _mount_point(source)
    uid = os.getuid()
    shared = top / ".Trash"
    try:
        info = os.lstat(shared)
        if stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX:
            candidate = shared / str(uid)
            candidate.mkdir(mode=0o700, exist_ok=True)
            return candidate, top
    except OSError:
        pass
    own = top / f".Trash-{uid}"
    try:
        own.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise TrashError(f"There is no trash on the drive of {source} that PhotoClip may use ({exc}).") from exc
    return own, top


def _freedesktop_trash(source: Path) -> TrashedFile:
    trash, top = _trash_for(source)
    files, infos = trash / "files", trash / "info"
    try:
        files.mkdir(parents=True, exist_ok=True, mode=0o700)
        infos.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise TrashError(f"Cannot use the trash at {trash}: {exc}") from exc
    recorded = os.path.relpath(source, top) if top is not None else str(source)
    body = (f"[Trash Info]\nPath={quote(recorded)}\n"
            f"DeletionDate={time.strftime('%Y-%m-%dT%H:%M:%S')}\n").encode()
    info, name = _reserve_name(infos, source.name, body)
    target = files / name
    try:
        os.rename(source, target)
    except OSError as exc:
        info.unlink(missing_ok=True)
        raise TrashError(f"Could not move {source} to the trash: {exc}") from exc
    return TrashedFile(str(source), str(target), str(info))


def _reserve_name(infos: Path, name: str, body: bytes) -> tuple[Path, str]:
    """Create ``info/<name>.trashinfo`` atomically, numbering the name until it is free (as the spec asks)."""
    stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    for n in range(1, 10_000):
        candidate = name if n == 1 else f"{stem}.{n}{dot}{ext}"
        info = infos / f"{candidate}.trashinfo"
        try:
            fd = os.open(info, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise TrashError(f"Cannot write to the trash at {infos.parent}: {exc}") from exc
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        return info, candidate
    raise TrashError(f"The trash already holds too many files called {name}.")


def original_path(info_file: str | os.PathLike[str]) -> str | None:
    """The original path a ``.trashinfo`` records (absolute or relative to its volume), decoded."""
    for line in Path(info_file).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Path="):
            return unquote(line[5:])
    return None


# -- the catalog follows ---------------------------------------------------------------------------


def trash_photos(catalog: Catalog, photo_ids: list[int]) -> TrashOutcome:
    """Trash the files of ``photo_ids``; each trashed photo is marked missing (kept, so undo keeps its tags)."""
    from photoclip.catalog import MISSING

    outcome = TrashOutcome()
    photos = catalog.photos(photo_ids)
    for pid in dict.fromkeys(photo_ids):
        photo = photos.get(pid)
        if photo is None:
            outcome.skipped.append(Skipped(f"photo {pid}", "it is not in the catalog"))
            continue
        try:
            moved = move_to_trash(photo.path)
        except TrashError as exc:
            outcome.skipped.append(Skipped(photo.path, str(exc)))
            continue
        with catalog.write() as c:
            c.execute("UPDATE photos SET state=?, updated_at=? WHERE id=?", (MISSING, time.time(), pid))
        outcome.trashed.append(TrashedPhoto(pid, moved, photo.state))
    return outcome


def restore_photos(catalog: Catalog, outcome: TrashOutcome) -> TrashOutcome:
    """Bring back what `trash_photos` trashed; returns what came back and what could not (and why)."""
    from photoclip.catalog import MISSING

    back = TrashOutcome()
    for item in outcome.trashed:
        try:
            restore(item.file)
        except TrashError as exc:
            back.skipped.append(Skipped(item.file.original, str(exc)))
            continue
        with catalog.write() as c:
            c.execute("UPDATE photos SET state=?, updated_at=? WHERE id=? AND path=? AND state=?",
                      (item.state, time.time(), item.photo_id, item.file.original, MISSING))
        back.trashed.append(item)
    return back
