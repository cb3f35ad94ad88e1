"""The facade that the GUI and the CLI both drive: one library folder, its catalog, model and index.

``Library`` is built from parts passed in (catalog, model store, an engine factory), so tests can
hand it a toy engine and a temporary folder; ``Library.open(dir)`` wires the real ones. It holds no
UI state and never prints: long operations take a progress sink and a cancel token.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoclip import imaging
from photoclip.errors import DecodeError, NoModelError, NotFoundError, PhotoClipError
from photoclip.ingest.pipeline import Indexer, IndexReport, capture_row, redate_catalogued
from photoclip.ingest.scanner import ScanReport, content_hash, recorded_skipped, scan
from photoclip.jobs import CancelToken, ProgressSink, Skipped, null_sink
from photoclip.paths import CATALOG_NAME, models_dir, resolve_library_dir
from photoclip.store import catalog_health
from photoclip.store.catalog import Catalog, Folder, Photo
from photoclip.store.settings import Settings, load_settings, save_settings

if TYPE_CHECKING:
    from photoclip.engine import Embedder, ModelStore
    from photoclip.enrich.ocr import OcrLine
    from photoclip.enrich.places import Place
    from photoclip.enrich.stage import EnrichReport
    from photoclip.organize.albumexport import ExportReport
    from photoclip.organize.albums import Album, AlbumEntry, RefreshResult
    from photoclip.organize.duplicates import Group
    from photoclip.organize.history import AlbumSnapshot, MembersSnapshot, TagSnapshot
    from photoclip.organize.marks import Mark
    from photoclip.organize.tagging import PhotoTag, ReviewItem, TagInfo
    from photoclip.organize.trash import TrashOutcome
    from photoclip.search import Filters, Searcher, SearchResult
    from photoclip.search.hybrid import HybridSearcher

log = logging.getLogger(__name__)
SETTINGS_NAME = "settings.json"
# The absolute capture moment when known; rows dated before it was stored sort by their local time.
_TAKEN_ORDER = "COALESCE(p.taken_order, p.taken_at)"
TAG_CHUNK = 256
SEARCH_MODEL_RECHECK_S = 10.0  # how long a decision on which model answers searches holds


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
        return imaging.describe(self.taken_at, self.taken_offset, self.taken_at_source)


class Library:
    """One photo library: folders, catalog, vectors, tags and albums."""

    def __init__(self, directory: Path, catalog: Catalog, *, models: ModelStore | None = None,
                 engine_factory: Callable[[], Embedder] | None = None,
                 settings: Settings | None = None) -> None:
        self.directory = Path(directory)
        self.catalog = catalog
        self.models = models
        self._engine_factory = engine_factory
        self._engine: Embedder | None = None
        self._searcher: Searcher | None = None
        # After a switch of model, the previous one answers searches until the new one has caught up.
        self._previous_engine: Embedder | None = None
        self._search_choice: tuple[float, str | None] = (0.0, None)  # (when decided, previous model or None)
        self._lock = threading.RLock()
        self._index_lock = threading.Lock()  # one indexing run at a time (GUI button, watcher)
        self._enrich_lock = threading.Lock()  # one enrichment run; never held while indexing
        self._hybrid: HybridSearcher | None = None
        self._ocr: Any = None
        self._listeners: list[Callable[[LibraryEvent], None]] = []
        # False for a one-shot process (a CLI search): search exactly rather than start a graph build.
        self.build_graph = True
        self.settings = settings if settings is not None else load_settings(self.directory / SETTINGS_NAME)
        self.catalog_problems: list[str] | None = None  # from check_catalog: [] sound, None not checked

    @classmethod
    def open(cls, directory: str | os.PathLike[str] | None = None, *,
             models_folder: str | os.PathLike[str] | None = None) -> Library:
        """Wire the real parts: the catalog in ``directory`` and the user's installed models."""
        from photoclip.engine import ModelStore

        root = resolve_library_dir(directory)
        catalog = Catalog(root / CATALOG_NAME)
        store = ModelStore(Path(models_folder) if models_folder else models_dir())
        store.cleanup()  # an install killed midway left its temporary folder behind
        library = cls(root, catalog, models=store)
        library.check_catalog()
        return library

    def check_catalog(self, *, force: bool = False) -> list[str] | None:
        """Look for damaged pages (when cheap, or ``force``); a damaged catalog is reported, not trusted
        in silence. Returns the problems ([] if none, None if not checked)."""
        self.catalog_problems = self.catalog.quick_check(force=force)
        if self.catalog_problems:
            log.warning("%s", catalog_health.damage_message(self.catalog.path, self.catalog_problems))
        return self.catalog_problems

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None and hasattr(self._searcher, "close"):
                self._searcher.close()
            self._searcher = None
            self._engine = None
        self.catalog.close()

    # -- change notification -----------------------------------------------------------------

    def subscribe(self, listener: Callable[[LibraryEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every change (from any thread); returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def notify(self, kind: str, ids: tuple[int, ...] = ()) -> None:
        event = LibraryEvent(kind, ids)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not stop indexing
                log.exception("library listener failed")

    # -- settings ----------------------------------------------------------------------------

    def save_settings(self, settings: Settings | None = None) -> None:
        if settings is not None:
            old_device = (self.settings.device, self.settings.threads, self.settings.text_precision)
            self.settings = settings
            if (settings.device, settings.threads, settings.text_precision) != old_device:
                self.reload_engine()
        save_settings(self.directory / SETTINGS_NAME, self.settings)

    # -- the model ---------------------------------------------------------------------------

    @property
    def model_name(self) -> str | None:
        if self._engine is not None:
            return self._engine.model_name
        if self.models is not None:
            active = self.models.active()
            return active.name if active is not None else None
        return None

    @property
    def has_model(self) -> bool:
        return self._engine is not None or self._engine_factory is not None or bool(self.model_name)

    @property
    def engine(self) -> Embedder:
        """The active model, loaded on first use (NoModelError when none is installed)."""
        with self._lock:
            if self._engine is None:
                self._engine = self._load_engine()
            return self._engine

    def _load_engine(self) -> Embedder:
        if self._engine_factory is not None:
            return self._engine_factory()
        if self.models is None:
            raise NoModelError("no model store is configured")
        info = self.models.active()
        if info is None:
            raise NoModelError("no CLIP model is installed yet: run `photoclip models download` "
                               "or `photoclip models import DIR`")
        from photoclip.engine import ClipEngine

        self.models.verify(info)  # a model whose files changed since install is refused, not used silently
        return ClipEngine.load(info.path, device=self.settings.device, threads=self.settings.threads or None,
                               text_precision=self.settings.text_precision)

    def reload_engine(self) -> None:
        """Drop the loaded model so the next use loads the active one with current settings."""
        with self._lock:
            self._engine = self._previous_engine = None
            self._search_choice = (0.0, None)
            if self._searcher is not None and hasattr(self._searcher, "close"):
                self._searcher.close()
            self._searcher = None
        self.notify("model")

    def use_model(self, name: str) -> None:
        """Make ``name`` the active model. Photos are embedded with it by the next index run; until it
        has embedded as many photos as a model used before, that one keeps answering searches (see
        `search_model_name`), so the library never turns unsearchable or half-searchable in a switch."""
        if self.models is None:
            raise NoModelError("no model store is configured")
        self.models.set_active(name)
        self.reload_engine()

    def search_model_name(self) -> str | None:
        """The model that answers searches now: the active one, or, while it has embedded fewer of this
        library's photos than another installed model, that one (a switch of model in progress)."""
        previous = self._previous_model()
        return previous if previous is not None else self.model_name

    def _previous_model(self) -> str | None:
        """An installed model covering more photos than the active one, if any; decided at most every few
        seconds (and after each index run), as counting vectors costs more than a query."""
        if self.models is None or self._engine_factory is not None:
            return None
        decided, previous = self._search_choice
        if time.monotonic() - decided < SEARCH_MODEL_RECHECK_S:
            return previous
        previous = None
        active = self.model_name
        known = {r[0] for r in self.catalog.read().execute("SELECT name FROM models")}
        if active is not None and known - {active}:  # another model has vectors here: compare coverage
            counts = self.catalog.embedded_counts()
            installed = set(self.models.names())
            others = [(n, name) for name, n in counts.items() if name != active and name in installed]
            best = max(others, default=None)
            if best is not None and best[0] > counts.get(active, 0):
                previous = best[1]
        self._search_choice = (time.monotonic(), previous)
        return previous

    def _search_engine(self) -> Embedder:
        previous = self._previous_model()
        if previous is None or previous == self.model_name:
            self._previous_engine = None
            return self.engine
        if self._previous_engine is None or self._previous_engine.model_name != previous:
            from photoclip.engine import ClipEngine

            assert self.models is not None
            info = self.models.get(previous)
            self.models.verify(info)
            self._previous_engine = ClipEngine.load(info.path, device=self.settings.device,
                                                    threads=self.settings.threads or None,
                                                    text_precision=self.settings.text_precision)
        return self._previous_engine

    @property
    def searcher(self) -> Searcher:
        with self._lock:
            engine = self._search_engine()
            if self._searcher is not None and self._searcher.embedder.model_name != engine.model_name:
                self._searcher.close()
                self._searcher, self._hybrid = None, None
            if self._searcher is None:
                from photoclip.search import Searcher

                self._searcher = Searcher(self.catalog, engine, self.directory, build_graph=self.build_graph)
            self._searcher.min_score = self.settings.search_min_score
            return self._searcher

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- folders -----------------------------------------------------------------------------

    def add_folder(self, path: str | os.PathLike[str], *, polling: bool = False) -> Folder:
        p = Path(path).expanduser()
        if not p.is_dir():
            raise NotFoundError(f"{p} is not a folder")
        folder = self.catalog.add_folder(p, polling=polling)
        self.notify("folders")
        return folder

    def remove_folder(self, path: str | os.PathLike[str]) -> int:
        n = self.catalog.remove_folder(path)
        self.notify("folders")
        self.notify("photos")
        return n

    def set_folder_polling(self, path: str | os.PathLike[str], polling: bool) -> None:
        """Watch a folder by polling (network shares) or by native events."""
        self.catalog.set_folder_polling(self.catalog.folder_by_path(path).id, polling)
        self.notify("folders")

    def folders(self) -> list[FolderInfo]:
        counts = self.catalog.folder_counts()
        return [FolderInfo(f, counts.get(f.id, {})) for f in self.catalog.folders()]

    # -- scanning ----------------------------------------------------------------------------

    def scan(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> ScanReport:
        report = scan(self.catalog, progress=progress, cancel=cancel)
        if report.touched:
            self.notify("folders")
            self.notify("photos")
        return report

    def index(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None,
              rescan: bool = True, enrich: bool = True) -> IndexRun:
        """Bring the catalog up to date with the disk, then embed and tag whatever needs it.

        Runs are serialised: a second caller (the watcher while the user presses Index) waits, then
        finds only what is still left, so no photo is embedded twice.
        """
        with self._index_lock:
            run = self._index(progress=progress, cancel=cancel, rescan=rescan)
        # Outside the index lock: a photo the watcher finds meanwhile is embedded (searchable) at once,
        # and the running enrichment reaches it too (it pages by id).
        if enrich and not (cancel is not None and cancel.cancelled):
            run.enrich = self.enrich(progress=progress, cancel=cancel)
        return run

    def enrich(self, *, progress: ProgressSink = null_sink,
               cancel: CancelToken | None = None) -> EnrichReport | None:
        """Places from GPS, then words inside photos, for every readable photo that lacks them.

        Returns None without waiting when another enrichment is already running.
        """
        from photoclip.enrich import ocr, places
        from photoclip.enrich.stage import Enricher

        if not self._enrich_lock.acquire(blocking=False):
            return None
        try:
            geocoder = places.Geocoder() if self.settings.places and places.available() else None
            if self._ocr is None and self.settings.ocr and ocr.available():
                self._ocr = ocr.OcrEngine(threads=self.settings.ocr_threads)
            enricher = Enricher(self.catalog, ocr=self._ocr if self.settings.ocr else None, geocoder=geocoder,
                                after_batch=lambda ids: self.notify("photos", tuple(ids)),
                                clip_gate=self._ocr_clip_gate() if self._ocr is not None else None,
                                model_name=self.model_name)
            return enricher.run(progress=progress, cancel=cancel)
        finally:
            self._enrich_lock.release()

    def _ocr_clip_gate(self) -> Any:
        """The CLIP gate in front of the text detector, kept for the session so it learns across runs."""
        from photoclip.enrich.ocr_gate import ClipTextGate
        from photoclip.errors import PhotoClipError

        try:
            engine = self.engine
        except PhotoClipError:
            return None
        gate = getattr(self, "_clip_gate", None)
        if gate is None or gate[0] is not engine:
            try:
                gate = (engine, ClipTextGate.from_embedder(engine))
            except PhotoClipError as exc:
                log.warning("no CLIP gate in front of the text detector: %s", exc)
                return None
            self._clip_gate = gate
        return gate[1]

    def _index(self, *, progress: ProgressSink, cancel: CancelToken | None, rescan: bool) -> IndexRun:
        report = self.scan(progress=progress, cancel=cancel) if rescan else ScanReport()
        if cancel is not None and cancel.cancelled:
            return IndexRun(report, None, self.model_name)
        try:
            engine: Embedder | None = self.engine
        except NoModelError:
            engine = None  # still read every photo: metadata, dates and errors need no model
        run = IndexRun(report, None, engine.model_name if engine else None)
        untagged: list[int] = []
        found_copies = False

        def flush_tags() -> None:
            # Tagging in chunks keeps the cost of preparing the tag model off every small batch.
            if untagged:
                run.tagged += self._tag(untagged)
                self.notify("tags", tuple(untagged))
                untagged.clear()

        def after_batch(ids: list[int]) -> None:
            nonlocal found_copies
            self.notify("photos", tuple(ids))
            found_copies = bool(self._check_duplicates(ids, engine.model_name if engine else None)) or found_copies
            if engine is not None and self.settings.auto_tag:
                untagged.extend(ids)
                if len(untagged) >= TAG_CHUNK:
                    flush_tags()

        indexer = Indexer(self.catalog, engine, batch_size=self.settings.batch_size,
                          workers=self.settings.decode_workers or None, after_batch=after_batch)
        try:
            run.embed = indexer.run(progress=progress, cancel=cancel)
        finally:
            flush_tags()
        if not run.embed.cancelled:  # once, for photos catalogued before every date source was read
            redated = redate_catalogued(self.catalog, progress=progress, cancel=cancel)
            if redated:
                self.notify("photos", tuple(redated))
        if found_copies:
            self.refresh_duplicates()
        if run.embed.embedded:
            self._search_choice = (0.0, None)  # a newly active model may have caught up: decide again
        if engine is not None and (run.embed.embedded or report.touched):
            self.refresh_albums()
        return run

    def _tag(self, ids: list[int]) -> int:
        from photoclip.organize import tagging

        return tagging.tag_photos(self.catalog, self.engine, ids, top_k=self.settings.max_tags_per_photo)

    def refresh_albums(self, album_ids: list[int] | None = None) -> list[RefreshResult]:
        """Re-run smart albums' rules (after indexing, moves and deletions)."""
        from photoclip.organize import albums

        try:
            searcher: Searcher | None = self.searcher
        except NoModelError:
            searcher = None  # rules made only of tags and filters still run
        results = albums.refresh_albums(self.catalog, searcher, album_ids)
        if any(r.added or r.removed for r in results):
            self.notify("albums")
        return results

    # -- reading -----------------------------------------------------------------------------

    def status(self) -> Status:
        counts = self.catalog.counts()
        return Status(
            library=str(self.directory),
            photos=counts["photos"],
            ok=counts["ok"],
            pending=counts["pending"],
            errors=counts["error"],
            missing=counts["missing"],
            offline=counts["offline"],
            embedded=self.catalog.embedded_counts(),
            active_model=self.model_name,
            error_list=self.catalog.errors(),
            folders=self.folders(),
            uncatalogued=self.catalog.uncatalogued(),
            skipped=[(s.path, s.reason) for f in self.catalog.folders()
                     for s in recorded_skipped(self.catalog, f.id)],
            catalog_problems=self.catalog_problems,
            search_model=self.search_model_name(),
        )

    def photo(self, photo_id: int) -> Photo:
        return self.catalog.photo(photo_id)

    def file_info(self, path: str | os.PathLike[str]) -> FileInfo:
        """Read one file as the indexer would; a file that cannot be read gives an info with ``error``."""
        p = Path(path).expanduser()
        try:
            st = p.stat()
        except OSError as exc:
            raise NotFoundError(f"{p}: {exc.strerror or exc}") from exc
        if not p.is_file():
            raise NotFoundError(f"{p} is not a file")
        known = self.catalog.photo_by_path(str(p.resolve()))
        ids: dict[str, Any] = {"photo_id": None, "state": None, "tags": (), "companion": None}
        if known is not None:
            from photoclip.organize import tagging

            carried = tagging.photo_tags(self.catalog, known.id, include_rejected=False)
            ids = {"photo_id": known.id, "state": known.state, "tags": tuple(t.name for t in carried),
                   "companion": known.companion}
        try:
            digest = content_hash(p, st.st_size)
        except OSError as exc:
            return FileInfo(str(p), st.st_size, "", error=f"cannot read: {exc.strerror or exc}", **ids)
        try:
            # A full (reduced) decode, as the indexer does: a header can look fine on a truncated file.
            _, meta = imaging.load_image(p, min_side=224)
        except DecodeError as exc:
            return FileInfo(str(p), st.st_size, digest, error=str(exc), **ids)
        sidecar = imaging.read_sidecar(p, known.companion if known is not None else None)
        dates = capture_row(meta, st.st_mtime, sidecar)
        return FileInfo(str(p), st.st_size, digest, meta.format, meta.width, meta.height, dates["taken_at"],
                        dates["taken_at_source"], meta.camera_make, meta.camera_model, meta.gps, **ids,
                        taken_offset=dates["taken_offset"], rating=dates["rating"],
                        keywords=tuple(dict.fromkeys((*meta.keywords, *sidecar.keywords))))

    # -- search ------------------------------------------------------------------------------

    def browse(self, filters: Filters | None = None, *, newest_first: bool = True) -> list[BrowseItem]:
        """Every live photo passing the filters, by capture date (undated ones last); needs no model."""
        from photoclip.search.filters import Filters, where_clause

        if filters is not None and filters.album:  # an album shows only keepers when copies are hidden
            filters = self._shown(filters)
        where, params = where_clause(self.catalog, filters or Filters())
        order = "DESC" if newest_first else "ASC"
        rows = self.catalog.read().execute(
            f"SELECT p.id, p.path, p.content_hash, p.taken_at FROM photos p WHERE {where} "
            f"ORDER BY {_TAKEN_ORDER} IS NULL, {_TAKEN_ORDER} {order}, p.id {order}", params)
        return [BrowseItem(*r) for r in rows]

    @property
    def hybrid(self) -> HybridSearcher:
        """Meaning and words together; words alone while no model is installed."""
        from photoclip.search.hybrid import HybridSearcher

        with self._lock:
            try:
                searcher: Searcher | None = self.searcher
            except NoModelError:
                searcher = None
            if self._hybrid is None or self._hybrid.searcher is not searcher:
                self._hybrid = HybridSearcher(self.catalog, searcher)
            return self._hybrid

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50,
               min_score: float | None = None, show_all: bool = False, place: str | None = None,
               like: tuple[int, ...] = (), unlike: tuple[int, ...] = ()) -> SearchResult:
        """Photos ranked by meaning and by words (text inside photos, places, names) together; ``like``
        and ``unlike`` are example photos ("more like this", "not this")."""
        return self.hybrid.search(query, filters=self._shown(filters), top=top, min_score=min_score,
                                  show_all=show_all, place=place, like=like, unlike=unlike)

    def similar(self, target: int | str | os.PathLike[str], *, filters: Filters | None = None, top: int = 50,
                min_score: float | None = None, show_all: bool = False) -> SearchResult:
        return self.searcher.similar(target, filters=self._shown(filters), top=top, min_score=min_score,
                                     show_all=show_all)

    # -- tags --------------------------------------------------------------------------------

    def tags(self) -> list[TagInfo]:
        """Every tag; with a model installed, whether that model knows it (``available``)."""
        from photoclip.organize import tagging

        embedder = None
        if self.has_model:
            try:
                embedder = self.engine
            except PhotoClipError:
                embedder = None
        return tagging.list_tags(self.catalog, embedder)

    def tag_threshold_change(self, name: str, threshold: float | None) -> tuple[int, int]:
        """How many photos (added, removed) a new threshold for a tag would change, before applying it."""
        from photoclip.organize import tagging

        return tagging.threshold_change(self.catalog, self.engine, name, threshold)

    def photo_tags(self, photo_id: int, *, include_rejected: bool = True) -> list[PhotoTag]:
        from photoclip.organize import tagging

        return tagging.photo_tags(self.catalog, photo_id, include_rejected=include_rejected)

    def accept_tag(self, photo_id: int, name: str) -> None:
        from photoclip.organize import tagging

        tagging.accept_tag(self.catalog, photo_id, name)
        self.notify("tags", (photo_id,))

    def reject_tag(self, photo_id: int, name: str) -> None:
        from photoclip.organize import tagging

        tagging.reject_tag(self.catalog, photo_id, name)
        self.notify("tags", (photo_id,))

    def add_tag(self, name: str, prompts: list[str] | None = None, threshold: float | None = None) -> TagInfo:
        from photoclip.organize import tagging

        info = tagging.add_tag(self.catalog, name, prompts=prompts, threshold=threshold)
        self.notify("tags")
        return info

    def remove_tag(self, name: str) -> None:
        from photoclip.organize import tagging

        tagging.remove_tag(self.catalog, name)
        self.notify("tags")

    def set_tag_threshold(self, name: str, threshold: float | None) -> None:
        from photoclip.organize import tagging

        tagging.set_threshold(self.catalog, name, threshold)
        self.notify("tags")

    def set_tag_prompts(self, name: str, prompts: list[str]) -> None:
        from photoclip.organize import tagging

        tagging.set_prompts(self.catalog, name, prompts)
        self.notify("tags")

    def set_tag_enabled(self, name: str, enabled: bool) -> None:
        from photoclip.organize import tagging

        tagging.set_enabled(self.catalog, name, enabled)
        self.notify("tags")

    def review_queue(self, tag: str | None = None, limit: int = 50) -> list[ReviewItem]:
        from photoclip.organize import tagging

        return tagging.review_queue(self.catalog, tag, limit)

    def needs_retag(self) -> bool:
        from photoclip.organize import tagging

        return tagging.needs_retag(self.catalog, self.engine, top_k=self.settings.max_tags_per_photo)

    def retag(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> int:
        """Re-decide every photo's automatic tags from stored vectors (no re-embedding)."""
        from photoclip.organize import tagging

        n = tagging.retag_all(self.catalog, self.engine, progress=progress, cancel=cancel,
                              top_k=self.settings.max_tags_per_photo)
        self.notify("tags")
        self.refresh_albums()
        return n

    # -- albums ------------------------------------------------------------------------------

    def albums(self) -> list[Album]:
        from photoclip.organize import albums

        return albums.list_albums(self.catalog)

    def create_album(self, name: str, *, query: str | None = None, tags: tuple[str, ...] = (),
                     filters: Filters | None = None, threshold: float | None = None,
                     like: tuple[int, ...] = (), unlike: tuple[int, ...] = ()) -> Album:
        from photoclip.organize import albums

        searcher = self.searcher if query else None
        album = albums.create_album(self.catalog, name, query=query, tags=tags, filters=filters,
                                    threshold=threshold, searcher=searcher, like=like, unlike=unlike)
        self.notify("albums")
        return album

    def set_album_rule(self, name: str, *, query: str | None = None, tags: tuple[str, ...] = (),
                       filters: Filters | None = None, threshold: float | None = None) -> Album:
        """Replace a smart album's rule; rule members are recomputed, pins and exclusions stay."""
        from photoclip.organize import albums

        searcher = self.searcher if query else None
        album = albums.set_rule(self.catalog, name, query=query, tags=tags, filters=filters, threshold=threshold,
                                searcher=searcher)
        self.notify("albums")
        return album

    def album_rule_scores(self, query: str, filters: Filters | None = None, *, like: tuple[int, ...] = (),
                          unlike: tuple[int, ...] = ()) -> list[tuple[int, float]]:
        """Every photo's score for a would-be smart album's query, best first (for a live preview)."""
        from photoclip.organize import albums

        return albums.rule_scores(self.catalog, self.searcher, query, filters, like=like, unlike=unlike)

    def album_members(self, name: str) -> list[Photo]:
        from photoclip.organize import albums

        members = albums.album_members(self.catalog, name)
        hidden = self._hidden_copies()
        return [p for p in members if p.id not in hidden] if hidden else members

    def album_entries(self, name: str, *, include_excluded: bool = False) -> list[AlbumEntry]:
        from photoclip.organize import albums

        return albums.album_entries(self.catalog, name, include_excluded=include_excluded)

    def _album_change(self, action: str, name: str, photo_ids: list[int]) -> int:
        from photoclip.organize import albums

        n = getattr(albums, action)(self.catalog, name, photo_ids)
        self.notify("albums")
        return n

    def add_to_album(self, name: str, photo_ids: list[int]) -> int:
        return self._album_change("add_to_album", name, photo_ids)

    def remove_from_album(self, name: str, photo_ids: list[int]) -> int:
        return self._album_change("remove_from_album", name, photo_ids)

    def pin(self, name: str, photo_ids: list[int]) -> int:
        return self._album_change("pin", name, photo_ids)

    def exclude(self, name: str, photo_ids: list[int]) -> int:
        return self._album_change("exclude", name, photo_ids)

    def rename_album(self, name: str, new_name: str) -> None:
        from photoclip.organize import albums

        albums.rename_album(self.catalog, name, new_name)
        self.notify("albums")

    def delete_album(self, name: str) -> None:
        from photoclip.organize import albums

        albums.delete_album(self.catalog, name)
        self.notify("albums")

    def export_album(self, name: str, destination: str | os.PathLike[str], *, mode: str = "copy",
                     xmp: bool = False, subfolder: bool = True, progress: ProgressSink = null_sink,
                     cancel: CancelToken | None = None) -> ExportReport:
        """Copy or link an album's photos into a folder (originals are only read)."""
        from photoclip.organize import albumexport

        return albumexport.export_album(self.catalog, name, destination, mode=mode, xmp_sidecars=xmp,
                                        subfolder=subfolder, progress=progress, cancel=cancel)

    # -- trash -------------------------------------------------------------------------------

    def move_to_trash(self, photo_ids: list[int]) -> TrashOutcome:
        """Move the photos' files to the platform's trash (only ever after the user confirmed it).

        Returns a ``TrashOutcome``: the photos trashed (marked missing in the catalog, so their
        tags and albums come back with them) and the files that could not be trashed, with why.
        """
        from photoclip.organize import trash

        outcome = trash.trash_photos(self.catalog, list(photo_ids))
        if outcome.trashed:
            self.notify("photos", tuple(outcome.ids))
        return outcome

    def restore_from_trash(self, outcome: TrashOutcome) -> TrashOutcome:
        """Undo `move_to_trash`: put the files back where they were; returns what came back."""
        from photoclip.organize import trash

        back = trash.restore_photos(self.catalog, outcome)
        if back.trashed:
            self.notify("photos", tuple(back.ids))
        return back

    # -- duplicates --------------------------------------------------------------------------

    def _check_duplicates(self, ids: list[int], model_name: str | None) -> int:
        """Check photos just indexed against the library (index lookups); returns the pairs found."""
        from photoclip.organize import duplicates_find

        return len(duplicates_find.check_photos(self.catalog, ids, model_name))

    def refresh_duplicates(self) -> None:
        """Recompute which copies are hidden (after indexing, a trash or an undo) and tell the views."""
        from photoclip.organize import duplicates

        duplicates.refresh_hidden(self.catalog)
        self.notify("duplicates")

    def update_duplicates(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None,
                          full: bool = False) -> list[Skipped]:
        """Hash photos catalogued before hashes were kept, then check them (the whole library on the first
        run, or with ``full``). Returns the photos that could not be read, as skipped."""
        from photoclip.jobs import Cancelled
        from photoclip.organize import duplicates_find, duplicates_pass

        model = self.model_name or duplicates_find.stored_model(self.catalog)
        hashed, skipped = duplicates_find.hash_missing(self.catalog, progress=progress, cancel=cancel)
        if cancel is not None and cancel.cancelled:
            return skipped
        if full or self.catalog.get_meta("duplicates_pass") is None:
            try:
                duplicates_pass.full_pass(self.catalog, model, progress=progress, cancel=cancel)
            except Cancelled:
                return skipped
        elif hashed:
            duplicates_find.check_photos(self.catalog, hashed, model)
        self.refresh_duplicates()
        return skipped

    def duplicate_groups(self, kind: str | None = None, folder: str | os.PathLike[str] | None = None) -> list[Group]:
        """Groups of copies (identical, same picture) and of similar shots, each with a suggested keeper."""
        from photoclip.organize import duplicates

        return duplicates.groups(self.catalog, kind, str(folder) if folder is not None else None)

    def choose_keeper(self, photo_id: int) -> None:
        """Keep this photo rather than the suggested one in its group."""
        from photoclip.organize import duplicates

        duplicates.choose_keeper(self.catalog, photo_id)
        self.notify("duplicates")

    def _hidden_copies(self) -> set[int]:
        if not self.settings.hide_duplicates:
            return set()
        return {r[0] for r in self.catalog.read().execute("SELECT photo_id FROM duplicate_hidden")}

    def _shown(self, filters: Filters | None) -> Filters | None:
        """The filters with copies hidden when the setting asks for it."""
        if not self.settings.hide_duplicates:
            return filters
        from dataclasses import replace

        from photoclip.search.filters import Filters

        return replace(filters or Filters(), hide_duplicates=True)

    # -- what the views read ----------------------------------------------------------------------

    def photos(self, photo_ids: list[int]) -> dict[int, Photo]:
        """The catalog rows of these photos, by id (ids no longer catalogued are left out)."""
        return self.catalog.photos(photo_ids)

    def photo_words(self, photo_id: int) -> list[OcrLine]:
        """The lines of text read inside a photo, top to bottom, with their boxes."""
        from photoclip.enrich.stage import photo_lines

        return photo_lines(self.catalog, photo_id)

    def photo_place(self, photo_id: int) -> Place | None:
        from photoclip.enrich.stage import photo_place

        return photo_place(self.catalog, photo_id)

    def place_counts(self) -> list[tuple[str, str, int]]:
        """(country, city, photos) for every place found so far, for browsing by place."""
        from photoclip.enrich.stage import place_counts

        return place_counts(self.catalog)

    # -- snapshots for undo --------------------------------------------------------------------------

    def snapshot_album(self, name: str) -> AlbumSnapshot:
        """An album exactly as it is (rule and members), to put back with `restore_album`."""
        from photoclip.organize import history

        return history.album(self.catalog, name)

    def restore_album(self, snapshot: AlbumSnapshot, *, replace: bool = False) -> None:
        """Put an album back as snapshotted; with ``replace``, in place of what it has become."""
        from photoclip.organize import history

        if replace:
            with self.catalog.write() as c:
                c.execute("DELETE FROM albums WHERE id=?", (snapshot.album[0],))
        history.restore_album(self.catalog, snapshot)

    def snapshot_members(self, album: str, photo_ids: list[int]) -> MembersSnapshot:
        from photoclip.organize import history

        return history.members(self.catalog, album, photo_ids)

    def restore_members(self, snapshot: MembersSnapshot) -> MembersSnapshot:
        """Put album memberships back; returns what they were just before (for redo)."""
        from photoclip.organize import history

        return history.restore_members(self.catalog, snapshot)

    def snapshot_tag_rows(self, name: str, photo_ids: list[int]) -> TagSnapshot:
        from photoclip.organize import history

        return history.tag_rows(self.catalog, name, photo_ids)

    def restore_tag_rows(self, snapshot: TagSnapshot) -> TagSnapshot:
        """Put a tag's decisions on these photos back; returns what they were just before (for redo)."""
        from photoclip.organize import history

        return history.restore_tag_rows(self.catalog, snapshot)

    # -- favourites and ratings --------------------------------------------------------------

    def marks(self, photo_ids: list[int] | None = None) -> dict[int, Mark]:
        """Favourite and stars per photo: of these ids, or of every marked photo when None."""
        from photoclip.organize import marks

        return marks.all_marks(self.catalog) if photo_ids is None else marks.marks_of(self.catalog, photo_ids)

    def set_favourite(self, photo_ids: list[int], favourite: bool = True) -> dict[int, Mark]:
        """Mark or unmark as favourites; returns the marks before, for `restore_marks` (undo)."""
        from photoclip.organize import marks

        before = marks.set_favourite(self.catalog, photo_ids, favourite)
        self.notify("marks", tuple(before))
        return before

    def set_rating(self, photo_ids: list[int], rating: int) -> dict[int, Mark]:
        """Give 0-5 stars; returns the marks before, for `restore_marks` (undo)."""
        from photoclip.organize import marks

        before = marks.set_rating(self.catalog, photo_ids, rating)
        self.notify("marks", tuple(before))
        return before

    def restore_marks(self, before: dict[int, Mark]) -> dict[int, Mark]:
        """Put back marks returned by `set_favourite` / `set_rating`; returns the ones replaced (redo)."""
        from photoclip.organize import marks

        replaced = marks.set_marks(self.catalog, before)
        self.notify("marks", tuple(before))
        return replaced

    # -- smart album rules -------------------------------------------------------------------

    def album_rule_count(self, *, query: str | None = None, tags: tuple[str, ...] = (),
                         filters: Filters | None = None, threshold: float | None = None) -> int:
        """How many photos a smart album rule would hold now (for a live count while editing it)."""
        from photoclip.organize import albums

        rule = albums.Rule(" ".join(query.split()) if query else None, tuple(tags), albums._filters_dict(filters),
                           albums.DEFAULT_THRESHOLD if threshold is None else float(threshold))
        searcher = self.searcher if rule.query else None
        return len(albums._rule_members(self.catalog, searcher, rule, len(self.catalog.live_ids())))
