"""Bringing the catalog up to date: folders, scanning, embedding, tagging in chunks, duplicates, enrichment."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from photoclip.errors import NoModelError, NotFoundError, PhotoClipError
from photoclip.jobs import CancelToken, ProgressSink, Skipped, null_sink
from photoclip.library.core import LibraryCore
from photoclip.library.records import IndexRun
from photoclip.store.catalog import Folder

if TYPE_CHECKING:
    import numpy as np

    from photoclip.engine import Embedder
    from photoclip.enrich.ocr_gate import ClipTextGate
    from photoclip.enrich.stage import EnrichReport
    from photoclip.ingest.scanner import ScanReport


log = logging.getLogger(__name__)
TAG_CHUNK = 256


class Ingesting(LibraryCore):
    """Folders and the index run: the disk into the catalog, photos into vectors, tags and places."""

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

    # -- scanning ----------------------------------------------------------------------------

    def scan(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> ScanReport:
        from photoclip.ingest.scanner import scan

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

    def _ocr_clip_gate(self) -> ClipTextGate | None:
        """The CLIP gate in front of the text detector, kept for the session so it learns across runs."""
        from photoclip.enrich.ocr_gate import ClipTextGate

        try:
            engine = self.engine
        except PhotoClipError:
            return None
        gate = self._clip_gate
        if gate is None or gate[0] is not engine:
            try:
                gate = (engine, ClipTextGate.from_embedder(engine))
            except PhotoClipError as exc:
                log.warning("no CLIP gate in front of the text detector: %s", exc)
                return None
            self._clip_gate = gate
        return gate[1]

    def _index(self, *, progress: ProgressSink, cancel: CancelToken | None, rescan: bool) -> IndexRun:
        from photoclip.ingest.pipeline import Indexer, redate_catalogued
        from photoclip.ingest.scanner import ScanReport

        report = self.scan(progress=progress, cancel=cancel) if rescan else ScanReport()
        if cancel is not None and cancel.cancelled:
            return IndexRun(report, None, self.model_name)
        try:
            engine: Embedder | None = self.engine
        except NoModelError:
            engine = None  # still read every photo: metadata, dates and errors need no model
        run = IndexRun(report, None, engine.model_name if engine else None)
        untagged: dict[int, np.ndarray] = {}  # photos stored since the last tagging, with their new vectors
        found_copies = False

        def flush_tags() -> None:
            # Tagging in chunks keeps the cost of preparing the tag model off every small batch.
            if untagged:
                run.tagged += self._tag(untagged)
                self.notify("tags", tuple(untagged))
                untagged.clear()

        def after_batch(ids: list[int], vectors: dict[int, np.ndarray]) -> None:
            nonlocal found_copies
            self.notify("photos", tuple(ids))
            found_copies = bool(self._check_duplicates(ids, engine.model_name if engine else None)) or found_copies
            if engine is not None and self.settings.auto_tag:
                untagged.update(vectors)  # the vectors just stored, so tagging need not read them back
                if len(untagged) >= TAG_CHUNK:
                    flush_tags()

        indexer = Indexer(self.catalog, engine, batch_size=self.settings.batch_size,
                          workers=self.settings.decode_workers or None, after_batch=after_batch,
                          keywords=self._accept_keywords)
        try:
            run.embed = indexer.run(progress=progress, cancel=cancel)
        finally:
            flush_tags()
        if not run.embed.cancelled:  # once, for photos catalogued before every date source was read
            redated = redate_catalogued(self.catalog, progress=progress, cancel=cancel,
                                        keywords=self._accept_keywords)
            if redated:
                self.notify("photos", tuple(redated))
        if found_copies:
            self.refresh_duplicates()
        if run.embed.embedded:
            self._search_choice = (0.0, None)  # a newly active model may have caught up: decide again
            self._catch_up_index()
        if engine is not None and (run.embed.embedded or report.touched):
            self.refresh_albums()
        return run

    def _accept_keywords(self, pairs: list[tuple[int, str]]) -> None:
        """XMP keywords the pipeline read become accepted tags."""
        from photoclip.organize import xmp_keywords

        xmp_keywords.accept(self.catalog, pairs)

    def _tag(self, vectors: dict[int, np.ndarray]) -> int:
        """Auto-tag the photos just stored, from their vectors (by photo id)."""
        from photoclip.organize import tagging

        return tagging.tag_photos(self.catalog, self.engine, vectors, top_k=self.settings.max_tags_per_photo,
                                  vectors=vectors)


    def _check_duplicates(self, ids: list[int], model_name: str | None) -> int:
        """Check photos just indexed against the library (index lookups); returns the pairs found."""
        from photoclip.organize import duplicates_find

        return len(duplicates_find.check_photos(self.catalog, ids, model_name))


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
