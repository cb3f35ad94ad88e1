"""The indexing pipeline: decode in worker threads, embed in batches, store each batch in one transaction.

Decoding (Pillow releases the GIL) runs ahead of inference in a small thread pool, so the model is
never starved; each batch's rows and vectors are committed together, so a killed process loses at
most the batch in flight and the next run resumes where this one stopped. A file that cannot be
read, decoded or embedded is recorded with its reason and skipped; it is retried when it changes.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from photoclip import imaging
from photoclip.errors import DecodeError, ModelError
from photoclip.imaging import CaptureDate, XmpFacts, best_date, file_date, is_transient
from photoclip.imaging.phash import phash
from photoclip.imaging.phash import stored_row as phash_row
from photoclip.ingest.scanner import content_hash
from photoclip.jobs import Cancelled, CancelToken, ProgressSink, ProgressTracker, Skipped, null_sink
from photoclip.store import pathtext
from photoclip.store.catalog import PHOTO_COLUMNS, Catalog, Photo
from photoclip.store.hashes import store_hashes

if TYPE_CHECKING:
    from photoclip.engine import Embedder

log = logging.getLogger(__name__)

BATCH_SIZE = 8
PAGE = 512


def capture_date(meta: imaging.PhotoMeta, mtime: float, sidecar: XmpFacts | None = None) -> CaptureDate:
    """The best date the photo (or its XMP sidecar) states, else the file's modification time."""
    dates = [*meta.dates, *(sidecar.dates if sidecar else ()), file_date(mtime)]
    found = best_date(dates)
    assert found is not None  # the file date is always there
    return found


def capture_row(meta: imaging.PhotoMeta, mtime: float, sidecar: XmpFacts) -> dict:
    """The date columns of a photo, with its rating (the sidecar's rating wins: it is the newer edit)."""
    taken = capture_date(meta, mtime, sidecar)
    return {"taken_at": taken.local_iso, "taken_at_source": taken.source, "taken_offset": taken.offset,
            "taken_order": taken.order_key,
            "rating": sidecar.rating if sidecar.rating is not None else meta.rating}


@dataclass
class Decoded:
    """One photo after the decode stage: pixels ready for the model, or the reason it failed."""

    photo: Photo
    pixels: np.ndarray | None = None
    row: dict | None = None
    error: str | None = None
    vanished: bool = False
    retry: str | None = None  # a read failure that may pass: left pending for the next run
    keywords: tuple[str, ...] = ()  # XMP keywords (embedded and sidecar), accepted as tags once stored
    phash: int | None = None  # perceptual hash of the decoded pixels (None: a plain image), for finding copies


@dataclass
class IndexReport:
    embedded: int = 0
    failed: int = 0
    vanished: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def rate(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def decode_one(photo: Photo, embedder: Embedder | None) -> Decoded:
    """Read, decode and preprocess one photo; never raises for a bad file.

    Without an embedder the photo is still fully decoded: that proves it readable and fills its
    metadata, so browsing by date works before any model is installed.
    """
    path = photo.path
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Decoded(photo, vanished=True)
    except OSError as exc:
        return _unreadable(photo, exc)
    try:
        digest = photo.content_hash
        if st.st_size != photo.size or st.st_mtime_ns != photo.mtime_ns:
            digest = content_hash(path, st.st_size)  # changed since the scan: vector must match content
        image, meta = imaging.load_image(path, min_side=embedder.image_size if embedder else 224)
        pixels = embedder.preprocess(image) if embedder else np.zeros(0, dtype=np.float32)
        hashed = phash(image)
    except FileNotFoundError:
        return Decoded(photo, vanished=True)
    except DecodeError as exc:
        if not os.path.lexists(path):  # deleted between the stat above and the read: gone, not broken
            return Decoded(photo, vanished=True)
        if exc.transient:
            return Decoded(photo, retry=str(exc))
        return Decoded(photo, error=str(exc))
    except OSError as exc:
        return _unreadable(photo, exc)
    except Exception as exc:  # a decoder bug must cost one photo, not the run
        log.exception("unexpected failure decoding %s", path)
        return Decoded(photo, error=f"cannot decode: {type(exc).__name__}: {exc}")
    sidecar = imaging.read_sidecar(path, photo.companion)
    row = {
        "size": st.st_size, "mtime_ns": st.st_mtime_ns, "content_hash": digest,
        "width": meta.width, "height": meta.height, "format": meta.format,
        **capture_row(meta, st.st_mtime, sidecar),
        "camera_make": meta.camera_make, "camera_model": meta.camera_model,
        "gps_lat": meta.gps[0] if meta.gps else None, "gps_lon": meta.gps[1] if meta.gps else None,
    }
    keywords = tuple(dict.fromkeys((*meta.keywords, *sidecar.keywords)))
    return Decoded(photo, pixels=pixels, row=row, keywords=keywords, phash=hashed)


def _unreadable(photo: Photo, exc: OSError) -> Decoded:
    reason = f"cannot read: {exc.strerror or exc}"
    return Decoded(photo, retry=reason) if is_transient(exc) else Decoded(photo, error=reason)


def iter_work(catalog: Catalog, model_name: str | None) -> Iterator[Photo]:
    """Photos needing work, paged by id so a million-photo backlog never sits in memory at once."""
    last_id = 0
    while True:
        page = catalog.photos_needing_work(model_name, limit=PAGE, after_id=last_id)
        if not page:
            return
        yield from page
        last_id = page[-1].id


# Where the keywords decoded from photos go: (photo id, keyword) pairs, recorded as tags by the caller.
KeywordSink = Callable[[list[tuple[int, str]]], None]


def _keyword_pairs(stored: list[Decoded]) -> list[tuple[int, str]]:
    return [(d.photo.id, word) for d in stored for word in d.keywords]


class Indexer:
    """Embeds every photo that needs it; one instance per run. With no embedder, only reads metadata.

    ``after_batch`` hears the ids of each stored batch with their new vectors (so tagging need not read back
    what was just written; empty without a model); ``keywords`` receives the XMP keywords read on the way
    (the facade records them as tags: the pipeline knows nothing of tags)."""

    def __init__(self, catalog: Catalog, embedder: Embedder | None, *, batch_size: int = BATCH_SIZE,
                 workers: int | None = None,
                 after_batch: Callable[[list[int], dict[int, np.ndarray]], None] | None = None,
                 keywords: KeywordSink | None = None) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.batch_size = batch_size
        self.workers = workers or max(1, min(4, os.cpu_count() or 2))
        self.after_batch = after_batch
        self.keywords = keywords
        self.model_name = embedder.model_name if embedder else None
        self.model_id = catalog.model_id(embedder.model_name, embedder.dim) if embedder else None

    def run(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> IndexReport:
        cancel = cancel or CancelToken()
        report = IndexReport()
        started = time.monotonic()
        total = self.catalog.count_needing_work(self.model_name)
        tracker = ProgressTracker(progress, "index", total=total)
        tracker.emit()
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="photoclip-decode") as pool:
                for batch in self._decoded_batches(pool, cancel):
                    self._store(batch, report, tracker)
                    cancel.raise_if_cancelled()
        except Cancelled:
            report.cancelled = True
        finally:
            report.seconds = time.monotonic() - started
            tracker.emit()
        return report

    def _decoded_batches(self, pool: ThreadPoolExecutor, cancel: CancelToken) -> Iterator[list[Decoded]]:
        """Keep a few batches of decodes in flight ahead of the model, in order."""
        ahead = self.batch_size * 3
        pending: deque[Future[Decoded]] = deque()
        work = iter_work(self.catalog, self.model_name)
        exhausted = False
        batch: list[Decoded] = []
        try:
            while True:
                while not exhausted and len(pending) < ahead and not cancel.cancelled:
                    photo = next(work, None)
                    if photo is None:
                        exhausted = True
                        break
                    pending.append(pool.submit(decode_one, photo, self.embedder))
                if not pending:
                    break
                batch.append(pending.popleft().result())
                if len(batch) >= self.batch_size or (not pending and (exhausted or cancel.cancelled)):
                    yield batch
                    batch = []
                if cancel.cancelled and not pending:
                    break
            if batch:
                yield batch
        finally:
            for fut in pending:
                fut.cancel()

    def _embed(self, items: Sequence[Decoded]) -> list[np.ndarray | str]:
        """Vectors for a batch; if the batch fails, each item alone, so one bad input costs itself."""
        if self.embedder is None:
            return [np.zeros(0, dtype=np.float32) for _ in items]
        pixels = np.stack([d.pixels for d in items])
        try:
            return list(self.embedder.embed_pixels(pixels))
        except Exception as exc:
            if len(items) == 1:
                return [f"cannot embed: {type(exc).__name__}: {exc}"]
            batch_error = exc
        results = [self._embed([d])[0] for d in items]
        if all(isinstance(r, str) for r in results):
            # Not one bad photo but a model that cannot run (out of memory, a lost GPU): stop with the
            # photos still pending, rather than marking the whole backlog as broken.
            raise ModelError(f"the model failed on every photo of a batch: {type(batch_error).__name__}: "
                             f"{batch_error}") from batch_error
        return results

    def _store(self, batch: list[Decoded], report: IndexReport, tracker: ProgressTracker) -> None:
        good = [d for d in batch if d.pixels is not None]
        results = self._embed(good) if good else []
        now = time.time()
        oks, vectors, errors, vanished = [], [], [], []
        for d, res in zip(good, results, strict=True):
            if isinstance(res, str):
                errors.append((d.photo, res))
            else:
                oks.append(d)
                if self.model_id is not None:
                    vectors.append((d.photo.id, d.row["content_hash"], res))
        errors.extend((d.photo, d.error) for d in batch if d.error is not None)
        vanished.extend(d.photo for d in batch if d.vanished)
        with self.catalog.write() as c:
            stored = set()
            for d in oks:
                # Only if the row is still what was decoded: the watcher may have marked it missing,
                # moved another file onto it or removed it since (its vector would then be stale).
                cur = c.execute(
                    "UPDATE photos SET size=:size, mtime_ns=:mtime_ns, content_hash=:content_hash, "
                    "width=:width, height=:height, format=:format, taken_at=:taken_at, "
                    "taken_at_source=:taken_at_source, taken_offset=:taken_offset, taken_order=:taken_order, "
                    "rating=:rating, camera_make=:camera_make, camera_model=:camera_model, gps_lat=:gps_lat, "
                    "gps_lon=:gps_lon, gps_hash=:content_hash, state='ok', "
                    "error=NULL, updated_at=:now WHERE id=:id AND path=CAST(:path AS TEXT) "
                    "AND content_hash=:scanned AND state IN ('pending', 'ok')",
                    {**d.row, "now": now, "id": d.photo.id, "path": pathtext.to_sql(d.photo.path),
                     "scanned": d.photo.content_hash})
                if cur.rowcount:
                    stored.add(d.photo.id)
            oks = [d for d in oks if d.photo.id in stored]
            store_hashes(c, [phash_row(d.photo.id, d.row["content_hash"], d.phash) for d in oks])
            if self.model_id is not None:
                self.catalog.put_embeddings(c, self.model_id, [v for v in vectors if v[0] in stored])
            c.executemany("UPDATE photos SET state='error', error=?, updated_at=? WHERE id=?",
                          [(pathtext.display(reason), now, p.id) for p, reason in errors])
            c.executemany("UPDATE photos SET state='missing', updated_at=? WHERE id=?",
                          [(now, p.id) for p in vanished])
        if self.keywords is not None and (pairs := _keyword_pairs(oks)):
            self.keywords(pairs)
        report.embedded += len(oks)
        report.failed += len(errors)
        report.vanished += len(vanished)
        for p, reason in errors:
            skipped = Skipped(p.path, reason)
            report.skipped.append(skipped)
            tracker.advance(current=p.path, skipped=skipped)
        for d in batch:
            if d.retry is not None:
                skipped = Skipped(d.photo.path, f"{d.retry} (will be retried)")
                report.skipped.append(skipped)
                tracker.advance(current=d.photo.path, skipped=skipped)
        tracker.advance(len(oks) + len(vanished), current=batch[-1].photo.path)
        if self.after_batch is not None and oks:
            stored_ids = {d.photo.id for d in oks}
            self.after_batch([d.photo.id for d in oks], {i: v for i, _h, v in vectors if i in stored_ids})


def redate_catalogued(catalog: Catalog, *, progress: ProgressSink = null_sink,
                      cancel: CancelToken | None = None, keywords: KeywordSink | None = None) -> list[int]:
    """Photos catalogued before dates were read from every source (their sort key is unset): their
    dates, rating and keywords read again from the header and sidecar, with no decode and no embedding.
    Returns the ids whose rows were updated; a file that cannot be read now keeps what it had."""
    where = "state='ok' AND taken_order IS NULL"
    total = catalog.conn.execute(f"SELECT COUNT(*) FROM photos WHERE {where}").fetchone()[0]
    if not total:
        return []
    tracker = ProgressTracker(progress, "dates", total=total)
    updated: list[int] = []
    try:
        _redate_pages(catalog, where, tracker, updated, cancel, keywords)
    except Cancelled:
        pass  # what was written stays; the rest is read on the next run
    tracker.emit()
    return updated


def _redate_pages(catalog: Catalog, where: str, tracker: ProgressTracker, updated: list[int],
                  cancel: CancelToken | None, keywords: KeywordSink | None) -> None:
    last_id = 0
    while True:
        rows = catalog.conn.execute(f"SELECT {PHOTO_COLUMNS} FROM photos WHERE {where} AND id>? ORDER BY id LIMIT ?",
                                    (last_id, PAGE)).fetchall()
        if not rows:
            break
        page = [Photo(*r) for r in rows]
        last_id = page[-1].id
        done: list[Decoded] = []
        for photo in page:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                meta = imaging.read_meta(photo.path)
                mtime = os.stat(photo.path).st_mtime
            except (DecodeError, OSError):
                continue
            sidecar = imaging.read_sidecar(photo.path, photo.companion)
            done.append(Decoded(photo, row=capture_row(meta, mtime, sidecar),
                                keywords=tuple(dict.fromkeys((*meta.keywords, *sidecar.keywords)))))
        fresh: set[int] = set()
        with catalog.write() as c:
            for d in done:
                assert d.row is not None
                cur = c.execute("UPDATE photos SET taken_at=:taken_at, taken_at_source=:taken_at_source, "
                                "taken_offset=:taken_offset, taken_order=:taken_order, rating=:rating "
                                "WHERE id=:id AND content_hash=:hash AND taken_order IS NULL",
                                {**d.row, "id": d.photo.id, "hash": d.photo.content_hash})
                if cur.rowcount:
                    fresh.add(d.photo.id)
        updated.extend(sorted(fresh))
        if keywords is not None and (pairs := _keyword_pairs([d for d in done if d.photo.id in fresh])):
            keywords(pairs)
        tracker.advance(len(page), current=page[-1].path)
