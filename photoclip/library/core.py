"""The library's core: its parts (catalog, settings, model store), change events, the model that embeds and
the one that answers searches, and the derived state every change keeps current (smart albums, hidden copies)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Self

from photoclip.errors import NoModelError, PhotoClipError
from photoclip.library.records import LibraryEvent
from photoclip.paths import CATALOG_NAME, models_dir, resolve_library_dir
from photoclip.store import catalog_health
from photoclip.store.catalog import Catalog
from photoclip.store.settings import Settings, load_settings, save_settings

if TYPE_CHECKING:
    from photoclip.engine import Embedder, ModelStore
    from photoclip.enrich.ocr import OcrEngine
    from photoclip.enrich.ocr_gate import ClipTextGate
    from photoclip.organize.albums import RefreshResult
    from photoclip.search import Filters, Searcher
    from photoclip.search.hybrid import HybridSearcher


log = logging.getLogger(__name__)
SETTINGS_NAME = "settings.json"
SEARCH_MODEL_RECHECK_S = 10.0  # how long a decision on which model answers searches holds


class LibraryCore:
    """One library folder: its catalog, settings and models; the facets below build on it."""

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
        self._ocr: OcrEngine | None = None
        self._clip_gate: tuple[Embedder, ClipTextGate] | None = None  # (the engine it was made from, gate)
        self._listeners: list[Callable[[LibraryEvent], None]] = []
        # False for a one-shot process (a CLI search): search exactly rather than start a graph build.
        self.build_graph = True
        self.settings = settings if settings is not None else load_settings(self.directory / SETTINGS_NAME)
        self.catalog_problems: list[str] | None = None  # from check_catalog: [] sound, None not checked

    @classmethod
    def open(cls, directory: str | os.PathLike[str] | None = None, *,
             models_folder: str | os.PathLike[str] | None = None) -> Self:
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
        known = self.catalog.model_names()
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
            self._searcher.language = self.query_language()  # for searches that give none (album rules too)
            return self._searcher

    def query_language(self, explicit: str | None = None) -> str | None:
        """The query language a search uses: ``explicit``, else the setting; None when it is
        "automatic" (the model then takes it from the query's script, else English)."""
        from photoclip.engine.language import chosen_language

        return chosen_language(explicit, self.settings.query_language)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _catch_up_index(self) -> None:
        """Bring a loaded vector index up to the photos just embedded, on the indexing thread, so the next
        search (typed in the app meanwhile) does not pay for it. A process that has not searched yet has
        no index loaded and loads it current when it first searches."""
        with self._lock:
            searcher = self._searcher
        if searcher is not None:
            try:
                searcher.index.sync()
            except PhotoClipError as exc:  # closed meanwhile: the next search reports anything lasting
                log.debug("the vector index was not brought up to date: %s", exc)

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

    def refresh_duplicates(self) -> None:
        """Recompute which copies are hidden (after indexing, a trash or an undo) and tell the views."""
        from photoclip.organize import duplicates

        duplicates.refresh_hidden(self.catalog)
        self.notify("duplicates")

    def _hidden_copies(self) -> set[int]:
        if not self.settings.hide_duplicates:
            return set()
        from photoclip.organize import duplicates

        return duplicates.stored_hidden(self.catalog)

    def _shown(self, filters: Filters | None) -> Filters | None:
        """The filters with copies hidden when the setting asks for it."""
        if not self.settings.hide_duplicates:
            return filters
        from dataclasses import replace

        from photoclip.search.filters import Filters

        return replace(filters or Filters(), hide_duplicates=True)
