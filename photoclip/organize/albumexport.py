"""Export an album to a folder as copies, hard links or symbolic links, with optional XMP sidecars.

Names come from photos and albums, which the user (or a camera, or a downloaded file) chose, so
every file name is rebuilt to be safe on any common filesystem: no separators or ``..`` to climb
out of the destination, no Windows reserved device names, no trailing dots or spaces, no control
characters, bounded length, and unique without regard to case. Nothing is ever overwritten: each
file is created exclusively, and a name already taken gets a `` (2)`` suffix. Originals are only
ever read.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from photoclip.errors import PhotoClipError
from photoclip.jobs import CancelToken, ProgressSink, ProgressTracker, Skipped, null_sink
from photoclip.organize import albums, tagging, xmp
from photoclip.store import pathtext
from photoclip.store.catalog import Catalog, Photo

MODES = ("copy", "hardlink", "symlink")
MAX_NAME_BYTES = 200  # below the usual 255-byte limit, leaving room for " (123)" and ".xmp"
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
             *(f"{dev}{n}" for dev in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"])}
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
# Invisible characters that can disguise a name (bidirectional overrides and marks).
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class ExportError(PhotoClipError):
    """The export cannot start (bad mode, destination not a folder or not writable)."""


@dataclass(frozen=True)
class ExportedFile:
    photo_id: int
    source: str
    target: str
    mode: str  # what was actually made: copy, hardlink or symlink
    sidecar: str | None = None


@dataclass
class ExportReport:
    album: str
    destination: str
    mode: str
    exported: list[ExportedFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things a person should know (fallbacks)


def safe_filename(name: str, *, fallback: str = "untitled", max_bytes: int = MAX_NAME_BYTES) -> str:
    """One path component that is valid and harmless on Linux, macOS and Windows."""
    text = unicodedata.normalize("NFC", str(name))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
    text = _BIDI.sub("", text)
    text = _FORBIDDEN.sub("_", text)
    text = " ".join(text.split())
    text = text.strip(" .")
    if not text:
        text = fallback
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 16 or " " in ext:
        stem, ext = text, ""
    else:
        ext = "." + ext
    base = stem.split(".")[0].rstrip(" ")
    if base.upper() in _RESERVED:
        stem = "_" + stem
    while len((stem + ext).encode("utf-8")) > max_bytes and len(stem) > 1:
        stem = stem[:-1]
    stem = stem.rstrip(" .\u200d")  # also no half emoji sequence left dangling
    return (stem or fallback) + ext


def numbered_name(stem: str, n: int, ext: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """``stem (n)ext`` within ``max_bytes``, from the parts of a safe name: the stem is shortened, never
    the number, so each n gives another name (trimming the whole name cut the number off a long name,
    and the same taken name came back forever)."""
    suffix = f" ({n}){ext}"
    room = max_bytes - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > room and len(stem) > 1:
        stem = stem[:-1]
    return (stem.rstrip(" .\u200d") or "untitled") + suffix


class _Namer:
    """Hands out names unique in one folder, comparing case-insensitively (as Windows and macOS do)."""

    def __init__(self, folder: Path, with_sidecar: bool) -> None:
        self.used = {p.name.casefold() for p in folder.iterdir()} if folder.is_dir() else set()
        self.with_sidecar = with_sidecar

    def next(self, wanted: str) -> str:
        stem, ext = os.path.splitext(wanted)
        n = 1
        while True:
            name = wanted if n == 1 else numbered_name(stem, n, ext)
            keys = {name.casefold(), f"{name}.xmp".casefold()} if self.with_sidecar else {name.casefold()}
            if not keys & self.used:
                self.used |= keys
                return name
            n += 1


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "xb") as dst:
        try:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        except BaseException:
            dst.close()
            target.unlink(missing_ok=True)
            raise
    try:
        shutil.copystat(source, target)
    except OSError:
        pass  # times and mode are a courtesy


def _place(source: Path, target: Path, mode: str, fallback_copy: bool) -> str:
    """Create ``target`` from ``source``; returns the mode actually used. FileExistsError if taken."""
    if mode == "copy":
        _copy(source, target)
        return "copy"
    if mode == "symlink":
        os.symlink(source, target)
        return "symlink"
    try:
        os.link(source, target)
        return "hardlink"
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP) and fallback_copy:
            _copy(source, target)
            return "copy"
        raise


def _link_reason(exc: OSError) -> str:
    if exc.errno == errno.EXDEV:
        return "a hard link cannot cross devices (the destination is on another disk); use --mode copy"
    return f"cannot create the file: {exc.strerror or exc}"


def _keywords(catalog: Catalog, photo: Photo, album: str, auto_tags: bool) -> list[str]:
    tags = tagging.photo_tags(catalog, photo.id, include_rejected=False)
    return [*(t.name for t in tags if auto_tags or t.source == "manual"), album]


def _rating(catalog: Catalog, photo_id: int) -> int | None:
    """The photo's stars for ``xmp:Rating``; None when it has none (the sidecar then carries no rating)."""
    try:
        row = catalog.read().execute("SELECT rating FROM photo_marks WHERE photo_id=?", (photo_id,)).fetchone()
    except sqlite3.Error:  # a catalog from before ratings
        return None
    return int(row[0]) if row and row[0] else None


def export_album(catalog: Catalog, name: str, destination: str | os.PathLike[str], *, mode: str = "copy",
                 xmp_sidecars: bool = False, subfolder: bool = True, fallback_copy: bool = True,
                 auto_tags: bool = True, progress: ProgressSink = null_sink,
                 cancel: CancelToken | None = None) -> ExportReport:
    """Export an album's photos into ``destination`` (in a folder named after the album by default).

    A hard link that cannot be made (another device) becomes a copy when ``fallback_copy``, with a
    note in the report; otherwise that photo is skipped with the reason.
    """
    if mode not in MODES:
        raise ExportError(f"unknown export mode '{mode}'; choose one of {', '.join(MODES)}")
    album = albums.get_album(catalog, name)
    members = albums.album_members(catalog, album.name)
    root = Path(destination).expanduser().absolute()
    folder = root / safe_filename(album.name, fallback="album") if subfolder else root
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {folder}: {exc.strerror or exc}") from exc
    report = ExportReport(album.name, str(folder), mode)
    namer = _Namer(folder, xmp_sidecars)
    tracker = ProgressTracker(progress, "exporting", total=len(members))
    fell_back = 0
    for photo in members:
        if cancel is not None:
            cancel.raise_if_cancelled()
        source = Path(photo.path)
        if not source.is_file():
            report.skipped.append(Skipped(photo.path, "the original file is missing"))
            tracker.advance(skipped=report.skipped[-1])
            continue
        while True:
            target = folder / namer.next(safe_filename(pathtext.display(source.name)))
            if target.parent != folder:  # cannot happen with safe names; never write elsewhere
                raise ExportError(f"refusing to write outside {folder}")
            try:
                made = _place(source.absolute(), target, mode, fallback_copy)
                break
            except FileExistsError:
                continue  # created meanwhile by someone else: take the next name
            except OSError as exc:
                made = ""
                report.skipped.append(Skipped(photo.path, _link_reason(exc) if mode == "hardlink"
                                              else f"cannot create the file: {exc.strerror or exc}"))
                break
        if not made:
            tracker.advance(skipped=report.skipped[-1])
            continue
        fell_back += made != mode
        sidecar = None
        if xmp_sidecars:
            sidecar_path = target.with_name(target.name + ".xmp")
            try:
                with open(sidecar_path, "xb") as fh:
                    fh.write(xmp.sidecar_xml(_keywords(catalog, photo, album.name, auto_tags),
                                             _rating(catalog, photo.id)))
                sidecar = str(sidecar_path)
            except OSError as exc:
                report.notes.append(f"no sidecar for {target.name}: {exc.strerror or exc}")
        report.exported.append(ExportedFile(photo.id, photo.path, str(target), made, sidecar))
        tracker.advance(current=target.name)
    if fell_back:
        report.notes.append(f"{fell_back} photo(s) were copied because hard links cannot cross devices "
                            f"or are not supported by the destination")
    tracker.emit()
    return report
