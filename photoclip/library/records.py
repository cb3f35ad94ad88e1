"""What the library facade hands out: plain records the GUI and the CLI read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from photoclip.store.catalog import Folder

if TYPE_CHECKING:  # the ingest and imaging packages load when used: a CLI search needs neither
    from photoclip.enrich.stage import EnrichReport
    from photoclip.ingest.pipeline import IndexReport
    from photoclip.ingest.scanner import ScanReport


@dataclass(frozen=True)
class LibraryEvent:
    """What changed, so each view redraws only what it must. ``ids`` are photo ids when known."""

    kind: str  # "photos", "folders", "tags", "albums", "model", "duplicates"
    ids: tuple[int, ...] = ()


@dataclass
class IndexRun:
    """The result of `index`: the scan, then the embedding of whatever needed it."""

    scan: ScanReport
    embed: IndexReport | None
    model: str | None
    tagged: int = 0
    enrich: EnrichReport | None = None  # places and words, added after embedding


@dataclass(frozen=True, slots=True)
class BrowseItem:
    """One photo of the browsing view: small on purpose, a library may hold 100,000 of them."""

    id: int
    path: str
    content_hash: str
    taken_at: str | None


@dataclass
class BrowseColumns:
    """The browsing view's photos as parallel columns: a handful of lists for the garbage collector to look
    at, where 100,000 row objects made on every refresh kept it busy (and the window waiting) while
    indexing."""

    ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    taken: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class FolderInfo:
    folder: Folder
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Status:
    library: str
    photos: int
    ok: int
    pending: int
    errors: int
    missing: int
    offline: int
    embedded: dict[str, int]
    active_model: str | None
    error_list: list[tuple[str, str]] = field(default_factory=list)
    folders: list[FolderInfo] = field(default_factory=list)
    uncatalogued: list[tuple[str, str]] = field(default_factory=list)  # files seen but not catalogued, why
    # What the last scan could not read: unreadable files and folders, dangling symlinks, link loops.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    catalog_problems: list[str] | None = None  # damage quick_check found ([] none, None not checked)
    search_model: str | None = None  # the model answering searches: the previous one during a switch


@dataclass(frozen=True)
class FileInfo:
    """What the app reads from one file, for `photoclip info` and the preview pane."""

    path: str
    size: int
    content_hash: str
    format: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None
    taken_at_source: str | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    gps: tuple[float, float] | None = None
    error: str | None = None
    photo_id: int | None = None
    state: str | None = None
    tags: tuple[str, ...] = ()  # tags the photo carries in the catalog (auto and accepted)
    taken_offset: int | None = None  # minutes east of UTC, when the photo states it
    rating: int | None = None  # XMP rating (embedded or sidecar)
    keywords: tuple[str, ...] = ()  # XMP keywords (embedded and sidecar)
    companion: str | None = None  # the RAW file kept with this photo (a RAW+JPEG pair)

    @property
    def taken_text(self) -> str:
        """The capture date with its offset and where it came from, as shown to a person."""
        from photoclip import imaging

        return imaging.describe(self.taken_at, self.taken_offset, self.taken_at_source)

