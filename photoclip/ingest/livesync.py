"""Keeping the catalog current while the app runs: watch folders, apply changes, embed, notify.

``LiveSync(library)`` runs on a worker thread of its own, so ``start()`` and ``stop()`` never block
the GUI for long. On start it reconciles the catalog with the disk (whatever changed while the app
was closed), then applies the watcher's settled change batches: moves first (same ids, so tags and
albums follow), then new, changed and vanished paths, then folders going offline or coming back;
after each batch it embeds what is pending and tells the library's listeners which photos changed.
Changes that arrive while a batch is being embedded wait in the watcher; nothing is dropped. A
failure of one batch is logged and answered with a full rescan, never with a stopped watcher.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from photoclip.errors import CatalogError, NoModelError, NotFoundError, PhotoClipError
from photoclip.ingest.path_changes import move_path, scan_paths
from photoclip.ingest.scanner import (
    ScanReport,
    folder_is_reachable,
    is_photo_name,
    recorded_mount_point,
    scan,
)
from photoclip.ingest.watcher import (
    MAX_WAIT_SECONDS,
    POLLING_SECONDS,
    QUIET_SECONDS,
    ROOT_CHECK_SECONDS,
    STABLE_SECONDS,
    ChangeBatch,
    WatchedFolder,
    Watcher,
)
from photoclip.jobs import Cancelled, CancelToken
from photoclip.library import Library
from photoclip.store import pathtext
from photoclip.store.catalog import OFFLINE, Folder, chunked

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0  # pause after an unexpected failure before trying again


@dataclass
class SyncReport:
    """What one applied batch (or the start-up reconcile) changed, for a status line or a log."""

    added: int = 0
    changed: int = 0
    moved: int = 0
    missing: int = 0
    revived: int = 0
    offline: list[str] = field(default_factory=list)
    online: list[str] = field(default_factory=list)
    embedded: int = 0
    failed: int = 0
    events: int = 0
    ids: tuple[int, ...] = ()
    seconds: float = 0.0
    initial: bool = False  # the reconcile run at start-up
    embedding_skipped: bool = False  # no model installed: the catalog is current, vectors wait
    embed_error: str | None = None  # embedding failed as a whole (not one photo): retried next batch

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.moved or self.missing or self.revived or self.offline
                    or self.online or self.embedded or self.failed)

    def add_scan(self, report: ScanReport) -> None:
        self.added += report.added
        self.changed += report.changed
        self.moved += report.moved
        self.missing += report.missing
        self.revived += report.revived
        self.offline.extend(p for p in report.offline_folders if p not in self.offline)
        self.online.extend(p for p in report.online_folders if p not in self.online)


@dataclass
class SyncStats:
    """Running totals since start, for tests and a status bar."""

    batches: int = 0
    events: int = 0
    embedded: int = 0
    failures: int = 0


class LiveSync:
    """Watches every library folder and keeps the catalog, vectors and views current.

    ``on_report`` is called on the worker thread after each batch that changed something.
    Call ``stop()`` before closing the library.
    """

    def __init__(self, library: Library, *, embed: bool = True,
                 on_report: Callable[[SyncReport], None] | None = None,
                 quiet: float = QUIET_SECONDS, max_wait: float = MAX_WAIT_SECONDS, stable: float = STABLE_SECONDS,
                 root_check: float = ROOT_CHECK_SECONDS, polling_interval: float = POLLING_SECONDS,
                 detect_network: bool = True, watcher: Watcher | None = None) -> None:
        self.library = library
        self.catalog = library.catalog
        self.embed = embed
        self.on_report = on_report
        self.root_check = root_check
        self.stats = SyncStats()
        self.watcher = watcher or Watcher(
            quiet=quiet, max_wait=max_wait, stable=stable, root_check=root_check,
            polling_interval=polling_interval, detect_network=detect_network, is_reachable=self._reachable)
        self._cancel = CancelToken()  # the current worker's; each worker is handed its own
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()  # start() and stop() one at a time
        self._stopping: list[threading.Thread] = []  # stopped threads that had not ended when stop() returned
        self._ready = threading.Event()
        self._busy = threading.Event()
        self._resync = False
        self._folder_ids: dict[str, int] = {}
        self._no_model_logged = False
        self._enrich_lock = threading.Lock()  # guards the two fields below
        self._enricher: threading.Thread | None = None  # the thread serving enrich requests, if any
        self._enrich_wanted = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start watching in the background; a second call does nothing.

        Returns at once, unless an earlier ``stop()`` gave up waiting for its threads: those are given
        up to ``timeout`` seconds to end first, since two workers on one watcher would apply every
        change twice and the old one, ending, would stop the new one's watching.
        """
        with self._lifecycle:
            if self._thread is not None and self._thread.is_alive():
                return
            self._wait_for_stopped(timeout)
            cancel = CancelToken()
            self._cancel = cancel
            self._ready.clear()
            self._thread = threading.Thread(target=self._run, args=(cancel,), name="photoclip-livesync",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching; an embedding run in progress stops at its next batch boundary."""
        with self._lifecycle:
            self._cancel.cancel()
            self.watcher.stop()
            thread, self._thread = self._thread, None
            with self._enrich_lock:
                enricher, self._enricher = self._enricher, None
            # Remembered until they have ended, so a start() meanwhile waits for them.
            self._stopping = [t for t in (*self._stopping, thread, enricher) if t is not None and t.is_alive()]
        # Joined outside the lock: a worker that calls stop() itself (from ``on_report``) must not wait on us.
        deadline = time.monotonic() + timeout
        for t in (thread, enricher):
            if t is not None and t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            log.warning("the folder watcher did not stop within %.0f s", timeout)

    def _wait_for_stopped(self, timeout: float) -> None:
        """Wait for the threads of an earlier run to end; raises if one will not."""
        deadline = time.monotonic() + timeout
        for t in self._stopping:
            if t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))
        self._stopping = [t for t in self._stopping if t.is_alive()]
        if self._stopping:
            raise PhotoClipError("cannot watch the folders again yet: the previous watcher is still finishing "
                                 f"its work after {timeout:.0f} s; try again in a moment")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def ready(self) -> bool:
        """True once the start-up reconcile is done and live changes are being applied."""
        return self._ready.is_set()

    def idle(self) -> bool:
        """Nothing seen is still waiting: start-up done, no batch in progress or pending."""
        return self.ready and not self._busy.is_set() and self.watcher.pending == 0

    def wait_idle(self, timeout: float, settle: float = 0.0) -> bool:
        """Wait until ``idle`` (and has stayed so for ``settle`` seconds); False on timeout."""
        deadline = time.monotonic() + timeout
        idle_since: float | None = None
        while time.monotonic() < deadline:
            if self.idle():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= settle:
                    return True
            else:
                idle_since = None
            time.sleep(0.05)
        return False

    def __enter__(self) -> LiveSync:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the worker --------------------------------------------------------------------------

    def _run(self, cancel: CancelToken) -> None:
        """The worker; ``cancel`` is its own token, so a later start() never revives a stopped worker."""
        try:
            self._busy.set()
            self._refresh_folders(cancel)
            self.watcher.start()  # before the scan, so nothing changed during it is missed
            try:
                self._reconcile(cancel, initial=True)
            except Cancelled:
                raise
            except Exception:
                self.stats.failures += 1
                log.exception("the start-up rescan failed; watching for changes all the same")
            self._ready.set()
            self._busy.clear()
            last_folder_check = time.monotonic()
            while not cancel.cancelled:
                try:
                    batch = self.watcher.next_batch(timeout=0.25)
                    if cancel.cancelled:
                        break
                    self._busy.set()
                    if time.monotonic() - last_folder_check >= self.root_check:
                        last_folder_check = time.monotonic()
                        self._refresh_folders(cancel)
                    if self._resync:
                        self._resync = False
                        self._reconcile(cancel, initial=False)
                    if batch:
                        self._apply(batch, cancel)
                except Cancelled:
                    break
                except Exception:
                    self.stats.failures += 1
                    self._resync = True
                    log.exception("applying file changes failed; the folders will be rescanned")
                    cancel.wait(RETRY_SECONDS)
                finally:
                    self._busy.clear()
        except Cancelled:
            pass
        except Exception:
            log.exception("the folder watcher stopped after an unexpected error")
        finally:
            self.watcher.stop()
            self._busy.clear()

    def _reachable(self, path: str) -> bool:
        folder_id = self._folder_ids.get(path)
        had_photos = folder_id is not None and self.catalog.conn.execute(
            "SELECT EXISTS(SELECT 1 FROM photos WHERE folder_id=?)", (folder_id,)).fetchone()[0] == 1
        return folder_is_reachable(path, had_photos,
                                   recorded_mount_point(self.catalog, folder_id) if folder_id is not None else None)

    def _refresh_folders(self, cancel: CancelToken) -> None:
        """Follow folders added, removed or switched to polling since the last look."""
        folders = self.catalog.folders()
        self._folder_ids = {f.path: f.id for f in folders}
        specs = [WatchedFolder(f.path, f.polling) for f in folders]
        known = set(self.watcher.folders)
        self.watcher.set_folders(specs)
        new = [f for f in folders if WatchedFolder(f.path, f.polling) not in known]
        if new and self._ready.is_set():
            report = SyncReport()
            report.add_scan(scan(self.catalog, new, cancel=cancel))
            self._finish(report, cancel, started=time.monotonic(), folders_changed=True)

    def _reconcile(self, cancel: CancelToken, *, initial: bool) -> None:
        """A full rescan: at start-up, and after a batch could not be applied."""
        started = time.monotonic()
        report = SyncReport(initial=initial)
        report.add_scan(scan(self.catalog, cancel=cancel))
        self._finish(report, cancel, started, folders_changed=bool(report.offline or report.online),
                     always=initial)

    def _apply(self, batch: ChangeBatch, cancel: CancelToken) -> None:
        started = time.monotonic()
        report = SyncReport(events=batch.events)
        touched_paths: list[str] = []
        for src, dest in batch.moves:
            report.moved += move_path(self.catalog, src, dest)
            touched_paths.append(dest)
        if batch.paths:
            report.add_scan(scan_paths(self.catalog, batch.paths))
            touched_paths.extend(batch.paths)
        for path in batch.offline:
            folder_id = self._folder_ids.get(path)
            if folder_id is not None and self.catalog.set_folder_state(folder_id, OFFLINE):
                report.offline.append(path)
        online = [self._folder(path) for path in batch.online]
        online_folders = [f for f in online if f is not None]
        if online_folders:
            report.add_scan(scan(self.catalog, online_folders, cancel=cancel))
        report.ids = tuple(sorted(self._ids_at(touched_paths)))
        self.stats.batches += 1
        self.stats.events += batch.events
        self._finish(report, cancel, started, folders_changed=bool(batch.offline or online_folders))

    def _finish(self, report: SyncReport, cancel: CancelToken, started: float, *, folders_changed: bool,
                always: bool = False) -> None:
        """Embed what is pending, notify listeners, and hand the report on."""
        if report.touched or always:
            self._index(report, cancel)
        if folders_changed:
            self.library.notify("folders")
        if report.touched:
            self.library.notify("photos", report.ids)
        report.seconds = time.monotonic() - started
        if (report.touched or always) and self.on_report is not None:
            try:
                self.on_report(report)
            except Exception:
                log.exception("a change report listener failed")

    def _index(self, report: SyncReport, cancel: CancelToken) -> None:
        if not self.embed:
            return
        # Without a model the run still reads each new photo (dates, size, errors) but embeds nothing.
        cancel.raise_if_cancelled()
        try:
            # Words and places are read on a thread of their own: slow OCR must never delay the next
            # batch of changes (a deleted photo still leaves the results within seconds).
            run = self.library.index(rescan=False, cancel=cancel, enrich=False)
            self._enrich_soon(cancel)
        except NoModelError as exc:
            report.embedding_skipped = True
            if not self._no_model_logged:
                self._no_model_logged = True
                log.warning("new photos are catalogued but not embedded: %s", exc)
            return
        except (Cancelled, CatalogError):
            raise
        except Exception as exc:
            # The catalog is current either way; the photos stay pending and are retried next batch.
            report.embed_error = f"{type(exc).__name__}: {exc}"
            self.stats.failures += 1
            if self.stats.failures == 1:
                log.exception("embedding new photos failed")
            else:
                log.warning("embedding new photos failed: %s", report.embed_error)
            return
        if run.model is None:
            report.embedding_skipped = True
            if not self._no_model_logged:
                self._no_model_logged = True
                log.warning("new photos are catalogued but not embedded: no CLIP model is installed")
            return
        if run.embed is not None:
            report.embedded += run.embed.embedded
            report.failed += run.embed.failed
            self.stats.embedded += run.embed.embedded
            if run.embed.cancelled:
                raise Cancelled()

    def _enrich_soon(self, cancel: CancelToken) -> None:
        """Run the words-and-places stage in the background; one run at a time, again if asked meanwhile.

        The request and the enricher's decision to end are made under one lock, so a request never
        lands between an enricher's last look at it and its end (it would then be served by no one).
        """
        with self._enrich_lock:
            self._enrich_wanted = True
            if cancel.cancelled:
                return  # a stopping worker: its successor asks again after its start-up rescan
            if self._enricher is not None and self._enricher.is_alive():
                return  # it looks at the request before it ends
            self._enricher = threading.Thread(target=self._enrich_loop, args=(cancel,), name="photoclip-enrich",
                                              daemon=True)
            self._enricher.start()

    def _enrich_loop(self, cancel: CancelToken) -> None:
        while True:
            with self._enrich_lock:
                if not self._enrich_wanted or cancel.cancelled:
                    if self._enricher is threading.current_thread():
                        self._enricher = None  # from here on, a request starts a new enricher
                    return
                self._enrich_wanted = False
            try:
                self.library.enrich(cancel=cancel)
            except Exception:  # the watcher goes on; a request made meanwhile, or the next batch, retries
                log.exception("reading words and places failed")

    def _folder(self, path: str) -> Folder | None:
        folder_id = self._folder_ids.get(path)
        if folder_id is None:
            return None
        try:
            return self.catalog.folder(folder_id)
        except NotFoundError:
            return None

    def _ids_at(self, paths: Iterable[str]) -> set[int]:
        """Ids of photos at these paths, or below them for paths that were whole sub-folders."""
        wanted = list(dict.fromkeys(paths))
        ids: set[int] = set()
        found: set[str] = set()
        conn = self.catalog.conn
        for chunk in chunked(wanted):
            marks = ",".join([pathtext.PARAM] * len(chunk))
            for photo_id, path in conn.execute(f"SELECT id, path FROM photos WHERE path IN ({marks})",
                                               [pathtext.to_sql(p) for p in chunk]):
                ids.add(photo_id)
                found.add(path)
        for path in wanted:
            if path in found or is_photo_name(os.path.basename(path)):
                continue
            # A range on the indexed path column: everything that starts with "<path>/".
            prefix = path.rstrip("/\\") + "/"
            upper = prefix[:-1] + chr(ord("/") + 1)
            ids.update(r[0] for r in conn.execute(
                f"SELECT id FROM photos WHERE path >= {pathtext.PARAM} AND path < {pathtext.PARAM}",
                (pathtext.to_sql(prefix), pathtext.to_sql(upper))))
        return ids

__all__ = ["LiveSync", "SyncReport", "SyncStats"]
