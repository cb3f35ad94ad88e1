"""The enrichment stage: places from GPS, then words inside photos, run after embedding.

It runs after the indexer, on photos already readable (state ``ok``), so a new library is searchable by
meaning first and gains places and words as this stage gets through it. Places are cheap (a header read
and a batched lookup); OCR costs about a second per photo that has text, and a fraction of that per
photo without (see ``photoclip.enrich.ocr``). Each photo's result is committed on its own, with the content
hash it was read from, so a cancelled or killed run resumes where it stopped, a changed file is read
again, and a photo that fails is recorded with its reason and not retried until it changes (or the OCR
engine does). A file that cannot be read at all (a drive or share unreachable for a moment) is a
different case: nothing is stored for it, so the next run reads it again rather than remembering a
photo without place or words for good.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from photoclip import imaging
from photoclip.enrich.ocr import OcrEngine, OcrLine, OcrResult
from photoclip.enrich.ocr_gate import ClipTextGate, stored_vectors
from photoclip.enrich.places import Geocoder, Place
from photoclip.errors import DecodeError
from photoclip.jobs import Cancelled, CancelToken, ProgressSink, ProgressTracker, Skipped, null_sink
from photoclip.search.keywords import KeywordIndex
from photoclip.store.catalog import Catalog, Photo

log = logging.getLogger(__name__)

PLACES_BATCH = 256
OCR_BATCH = 8  # photos between keyword refreshes and change notifications
DONE, FAILED, NO_TEXT = "done", "failed", "no-text"
_COLUMNS = "p.id, p.folder_id, p.path, p.size, p.mtime_ns, p.content_hash, p.width, p.height, p.format, " \
           "p.taken_at, p.taken_at_source, p.camera_make, p.camera_model, p.state, p.error"


@dataclass
class EnrichReport:
    places: int = 0  # photos given a place
    no_gps: int = 0  # photos looked at that carry no usable GPS position
    ocr_text: int = 0  # photos with at least one line of text
    ocr_no_text: int = 0
    ocr_failed: int = 0
    gated: int = 0  # of the ocr_no_text photos, those the cheap detector pass ruled out
    clip_gated: int = 0  # of those, photos whose CLIP vector ruled them out before the detector
    unreadable: int = 0  # files that could not be read this time: nothing stored, read again next run
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    ocr_seconds: float = 0.0
    cancelled: bool = False


# -- reading what is stored ------------------------------------------------------------------------


def photo_lines(catalog: Catalog, photo_id: int) -> list[OcrLine]:
    """The lines read inside a photo, top to bottom, with boxes in upright photo pixels."""
    rows = catalog.read().execute("SELECT text, box, confidence FROM ocr_lines WHERE photo_id=? ORDER BY line_no",
                                  (photo_id,))
    return [OcrLine(text, tuple((float(x), float(y)) for x, y in json.loads(box)), confidence)
            for text, box, confidence in rows]


def place_counts(catalog: Catalog) -> list[tuple[str, str, int]]:
    """(country, city, live photos) for every place found so far; "" where the country or city is unknown."""
    rows = catalog.read().execute(
        "SELECT COALESCE(pl.country, ''), COALESCE(pl.city, ''), COUNT(*) FROM places pl "
        "JOIN photos p ON p.id = pl.photo_id WHERE p.state IN ('ok', 'pending') AND pl.lat IS NOT NULL "
        "GROUP BY 1, 2").fetchall()
    return [(country, city, int(n)) for country, city, n in rows]


def photo_place(catalog: Catalog, photo_id: int) -> Place | None:
    row = catalog.read().execute("SELECT lat, lon, city, region, county, country, country_code FROM places "
                                 "WHERE photo_id=? AND lat IS NOT NULL", (photo_id,)).fetchone()
    return Place(*row) if row else None


def ocr_counts(catalog: Catalog, engine: str | None = None) -> dict[str, int]:
    """Photos per OCR state, plus ``pending``: readable photos not read (by this engine) yet."""
    conn = catalog.read()
    out = {DONE: 0, NO_TEXT: 0, FAILED: 0}
    for state, n in conn.execute("SELECT o.state, COUNT(*) FROM ocr_state o JOIN photos p ON p.id=o.photo_id "
                                 "AND p.content_hash=o.content_hash GROUP BY o.state"):
        out[state] = n
    out["pending"] = conn.execute(f"SELECT COUNT(*) FROM photos p WHERE {_needs_ocr_sql(engine)}",
                                  () if engine is None else (engine,)).fetchone()[0]
    return out


def _needs_ocr_sql(engine: str | None) -> str:
    same_engine = "" if engine is None else " AND o.engine=?"
    return ("p.state='ok' AND NOT EXISTS (SELECT 1 FROM ocr_state o WHERE o.photo_id=p.id "
            f"AND o.content_hash=p.content_hash{same_engine})")


def photos_needing_ocr(catalog: Catalog, engine: str, *, limit: int = 64, after_id: int = 0) -> list[Photo]:
    rows = catalog.read().execute(f"SELECT {_COLUMNS} FROM photos p WHERE p.id>? AND {_needs_ocr_sql(engine)} "
                                  "ORDER BY p.id LIMIT ?", (after_id, engine, limit))
    return [Photo(*r) for r in rows]


def photos_needing_places(catalog: Catalog, *, limit: int = PLACES_BATCH, after_id: int = 0) -> list[Photo]:
    rows = catalog.read().execute(
        f"SELECT {_COLUMNS} FROM photos p WHERE p.id>? AND p.state='ok' AND NOT EXISTS (SELECT 1 FROM places "
        "g WHERE g.photo_id=p.id AND g.content_hash=p.content_hash) ORDER BY p.id LIMIT ?", (after_id, limit))
    return [Photo(*r) for r in rows]


def stored_positions(catalog: Catalog, photos: Sequence[Photo]) -> dict[int, tuple[float, float] | None]:
    """The GPS positions the pipeline read while decoding these photos' current content (None: it has none);
    photos missing here were catalogued before positions were kept, and their file is read once more."""
    if not photos:
        return {}
    rows = catalog.read().execute(
        "SELECT id, gps_lat, gps_lon FROM photos WHERE id BETWEEN ? AND ? AND gps_hash = content_hash",
        (photos[0].id, photos[-1].id))
    wanted = {p.id for p in photos}
    return {i: (lat, lon) if lat is not None and lon is not None else None
            for i, lat, lon in rows if i in wanted}


def _count(catalog: Catalog, sql: str, params: Sequence[object]) -> int:
    return catalog.read().execute(f"SELECT COUNT(*) FROM photos p WHERE {sql}", params).fetchone()[0]


# -- writing ---------------------------------------------------------------------------------------


def store_ocr(catalog: Catalog, photo: Photo, engine: str, result: OcrResult | None, error: str | None = None) -> None:
    """Record one photo's lines (replacing earlier ones) and its OCR state, in one transaction."""
    state = FAILED if error is not None else (DONE if result and result.lines else NO_TEXT)
    seconds = result.seconds if result else None
    with catalog.write() as c:
        c.execute("DELETE FROM ocr_lines WHERE photo_id=?", (photo.id,))
        if result is not None:
            c.executemany("INSERT INTO ocr_lines(photo_id, line_no, text, box, confidence) VALUES(?,?,?,?,?)",
                          [(photo.id, n, line.text, json.dumps([list(p) for p in line.box]), line.confidence)
                           for n, line in enumerate(result.lines)])
        c.execute("INSERT INTO ocr_state(photo_id, content_hash, state, error, engine, seconds, updated_at) "
                  "VALUES(?,?,?,?,?,?,?) ON CONFLICT(photo_id) DO UPDATE SET content_hash=excluded.content_hash, "
                  "state=excluded.state, error=excluded.error, engine=excluded.engine, seconds=excluded.seconds, "
                  "updated_at=excluded.updated_at",
                  (photo.id, photo.content_hash, state, error, engine, seconds, time.time()))


def store_places(catalog: Catalog, items: Sequence[tuple[Photo, Place | None]]) -> None:
    """Record places (or that a photo has none, so it is not looked at again until it changes)."""
    now = time.time()
    rows = []
    for photo, place in items:
        if place is None:
            rows.append((photo.id, photo.content_hash, None, None, None, None, None, None, None, now))
        else:
            rows.append((photo.id, photo.content_hash, place.lat, place.lon, place.city, place.region, place.county,
                         place.country, place.country_code, now))
    with catalog.write() as c:
        c.executemany(
            "INSERT INTO places(photo_id, content_hash, lat, lon, city, region, county, country, country_code, "
            "updated_at) VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(photo_id) DO UPDATE SET "
            "content_hash=excluded.content_hash, lat=excluded.lat, lon=excluded.lon, city=excluded.city, "
            "region=excluded.region, county=excluded.county, country=excluded.country, "
            "country_code=excluded.country_code, updated_at=excluded.updated_at", rows)


# -- the stage -------------------------------------------------------------------------------------


class Enricher:
    """Adds places and words to every readable photo that lacks them; one instance per run.

    Either part may be None (the OCR extra or the place data not installed): that part is skipped and
    its photos stay pending for a later run that has it.
    """

    def __init__(self, catalog: Catalog, *, ocr: OcrEngine | None, geocoder: Geocoder | None,
                 keywords: KeywordIndex | None = None, gate: bool = True,
                 after_batch: Callable[[list[int]], None] | None = None,
                 clip_gate: ClipTextGate | None = None, model_name: str | None = None) -> None:
        self.catalog = catalog
        self.ocr = ocr
        self.geocoder = geocoder
        self.keywords = keywords if keywords is not None else KeywordIndex(catalog)
        self.gate = gate
        self.after_batch = after_batch
        # the CLIP gate (photoclip.enrich.ocr_gate) scores the vectors stored for ``model_name``
        self.clip_gate = clip_gate if gate and model_name else None
        self.model_name = model_name
        self._vectors: dict[int, np.ndarray] = {}

    def run(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> EnrichReport:
        cancel = cancel or CancelToken()
        report = EnrichReport()
        started = time.monotonic()
        try:
            if self.geocoder is not None:
                self._places(report, progress, cancel)
            if self.ocr is not None:
                self._ocr(self.ocr, report, progress, cancel)
        except Cancelled:
            report.cancelled = True
        finally:
            self.keywords.refresh()
            report.seconds = time.monotonic() - started
        return report

    def _places(self, report: EnrichReport, progress: ProgressSink, cancel: CancelToken) -> None:
        assert self.geocoder is not None
        total = _count(self.catalog, "p.state='ok' AND NOT EXISTS (SELECT 1 FROM places g WHERE g.photo_id=p.id "
                                     "AND g.content_hash=p.content_hash)", ())
        tracker = ProgressTracker(progress, "places", total=total)
        tracker.emit()
        last_id = 0  # each pass moves past every photo once, so an unreadable one cannot hold it up
        while batch := photos_needing_places(self.catalog, after_id=last_id):
            last_id = batch[-1].id
            read: list[Photo] = []
            positions: list[tuple[float, float] | None] = []
            known = stored_positions(self.catalog, batch)  # batches are in id order
            for photo in batch:
                if photo.id in known:
                    positions.append(known[photo.id])
                    read.append(photo)
                    continue
                try:
                    positions.append(_gps(photo))
                except _Unreadable as exc:
                    self._unreadable(photo, str(exc), report)
                    continue
                read.append(photo)
            found = self.geocoder.lookup([pos or (0.0, 0.0) for pos in positions]) if read else []
            items = [(photo, place if pos else None) for photo, pos, place in zip(read, positions, found, strict=True)]
            store_places(self.catalog, items)
            named = [photo.id for photo, place in items if place is not None]
            report.places += len(named)
            report.no_gps += len(items) - len(named)
            self.keywords.refresh()
            tracker.advance(len(batch), current=batch[-1].path)
            if named and self.after_batch is not None:
                self.after_batch(named)
            cancel.raise_if_cancelled()
        tracker.emit()

    def _ocr(self, engine: OcrEngine, report: EnrichReport, progress: ProgressSink, cancel: CancelToken) -> None:
        version = engine.version
        total = _count(self.catalog, _needs_ocr_sql(version), (version,))
        tracker = ProgressTracker(progress, "ocr", total=total)
        tracker.emit()
        last_id = 0
        changed: list[int] = []
        while page := photos_needing_ocr(self.catalog, version, after_id=last_id):
            if self.clip_gate is not None and self.model_name:
                self._vectors = stored_vectors(self.catalog, self.model_name, [p.id for p in page])
            for photo in page:
                last_id = photo.id  # past an unreadable photo too: it waits for the next run, not this one
                stored, skipped = self._read_one(engine, version, photo, report)
                if stored:
                    changed.append(photo.id)
                tracker.advance(current=photo.path, skipped=skipped)
                if len(changed) >= OCR_BATCH or cancel.cancelled:
                    self._flush(changed)
                    changed = []
                cancel.raise_if_cancelled()
        self._flush(changed)
        tracker.emit()

    def _read_one(self, engine: OcrEngine, version: str, photo: Photo,
                  report: EnrichReport) -> tuple[bool, Skipped | None]:
        """Read one photo's words; whether anything was stored, and what to show as skipped."""
        size = (photo.width, photo.height) if photo.width and photo.height else None
        vector = self._vectors.get(photo.id) if self.clip_gate is not None else None
        score, decision = None, "read"
        if vector is not None and self.clip_gate is not None:
            score = self.clip_gate.score(vector)
            decision = self.clip_gate.check(score)
            if decision == "skip":  # looks like no text at all: not even the detector looks
                store_ocr(self.catalog, photo, version, OcrResult((), True, 0.0))
                report.gated += 1
                report.clip_gated += 1
                report.ocr_no_text += 1
                return True, None
        try:
            result = engine.read_file(photo.path, size, gate=self.gate)
        except (DecodeError, OSError) as exc:
            if isinstance(exc, OSError) or exc.unreadable:
                return False, self._unreadable(photo, _read_reason(exc), report)
            return True, self._failed(version, photo, str(exc), report)
        except Exception as exc:  # an engine failure on one photo must cost that photo, not the run
            log.exception("text recognition failed on %s", photo.path)
            return True, self._failed(version, photo, f"text recognition failed: {type(exc).__name__}: {exc}",
                                      report)
        if score is not None and self.clip_gate is not None:
            self.clip_gate.learn(score, bool(result.lines), explored=decision == "explore")
        store_ocr(self.catalog, photo, version, result)
        report.ocr_seconds += result.seconds
        report.gated += int(result.gated)
        if result.lines:
            report.ocr_text += 1
        else:
            report.ocr_no_text += 1
        return True, None

    @staticmethod
    def _unreadable(photo: Photo, reason: str, report: EnrichReport) -> Skipped:
        """Count a file that could not be read, storing nothing so the next run tries it again."""
        log.debug("cannot read %s now (%s); it is read again on the next run", photo.path, reason)
        report.unreadable += 1
        skipped = Skipped(photo.path, reason)
        report.skipped.append(skipped)
        return skipped

    def _failed(self, version: str, photo: Photo, reason: str, report: EnrichReport) -> Skipped:
        store_ocr(self.catalog, photo, version, None, reason)
        report.ocr_failed += 1
        skipped = Skipped(photo.path, reason)
        report.skipped.append(skipped)
        return skipped

    def _flush(self, ids: list[int]) -> None:
        if not ids:
            return
        self.keywords.refresh()
        if self.after_batch is not None:
            self.after_batch(list(ids))


class _Unreadable(Exception):
    """The file could not be read just now; the message is the reason."""


def _read_reason(exc: DecodeError | OSError) -> str:
    if isinstance(exc, OSError):
        return f"cannot read the file ({exc.strerror or exc})"
    return str(exc)


def _gps(photo: Photo) -> tuple[float, float] | None:
    """The photo's position, or None when it has none; raises ``_Unreadable`` when the file cannot be read.

    A damaged header counts as "no position" (the same bytes give the same answer next time); a read
    failure does not, since the file may be fine once its drive answers again.
    """
    try:
        return imaging.read_meta(photo.path).gps
    except OSError as exc:
        raise _Unreadable(_read_reason(exc)) from exc
    except DecodeError as exc:
        if exc.unreadable:
            raise _Unreadable(str(exc)) from exc
        return None
