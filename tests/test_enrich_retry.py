"""Enrichment and files that cannot be read for a moment: nothing is stored for them, the next run reads them.

A drive or share that does not answer for a moment is not the same as a photo without a position or
without text: recording "no GPS" or "failed" against the photo's content hash would keep it that way for
good. These tests make reads fail the way the file system does (EIO, ESTALE) through the real imaging
code, so they also check that its wording of read failures is the one the enrichment stage recognises.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from photoclip import imaging
from photoclip.enrich.ocr import OcrLine, OcrResult
from photoclip.enrich.places import Place
from photoclip.enrich.stage import Enricher, ocr_counts, photo_lines, photo_place, photos_needing_places
from photoclip.imaging import _files
from photoclip.ingest.pipeline import Indexer
from photoclip.ingest.scanner import scan
from photoclip.store.catalog import Catalog
from tests.corpus import make_image

GPS = {"lisbon.jpg": (38.7223, -9.1393), "tokyo.jpg": (35.6762, 139.6503)}


class FakeGeocoder:
    """Names every position after its latitude, so a test can tell which photo got which place."""

    def __init__(self) -> None:
        self.looked_up: list[tuple[float, float]] = []

    def lookup(self, coordinates: Sequence[tuple[float, float]]) -> list[Place | None]:
        self.looked_up.extend(coordinates)
        return [None if (lat, lon) == (0.0, 0.0) else Place(lat, lon, f"City{round(lat)}", None, None, "Land", "LD")
                for lat, lon in coordinates]


class FakeOcr:
    """Decodes each photo with the real imaging code, then "reads" its file name as its one line of text."""

    version = "fake-ocr 1"

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.raise_for: dict[str, OSError] = {}  # name -> an error the engine itself meets

    def read_file(self, path: str, size: tuple[int, int] | None = None, *, gate: bool = True) -> OcrResult:
        name = Path(path).name
        self.calls[name] += 1
        if name in self.raise_for:
            raise self.raise_for[name]
        imaging.load_image(path)
        return OcrResult((OcrLine(Path(path).stem, ((0, 0), (9, 0), (9, 9), (0, 9)), 0.9),), False, 0.001)


class FlakyDrive:
    """Makes opening chosen files fail with an OS error, as an unreachable drive or share does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.failing: dict[str, int] = {}  # name -> errno
        real_open = open

        def fake_open(path: str, *args: object, **kwargs: object) -> object:
            code = self.failing.get(Path(path).name)
            if code is not None:
                raise OSError(code, os.strerror(code), path)
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(_files, "open", fake_open, raising=False)


def indexed(tmp_path: Path, *, positions_kept: bool = True) -> tuple[Catalog, Path]:
    """A library read once by the indexer; without ``positions_kept``, as catalogued before the indexer kept
    GPS positions (finding places then reads each file once more)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, pos in GPS.items():
        make_image(folder / name, "jpeg", (64, 48), (120, 130, 140), gps=pos)
    make_image(folder / "plain.jpg", "jpeg", (64, 48), (10, 130, 140))
    catalog = Catalog(tmp_path / "lib" / "catalog.db")
    catalog.add_folder(folder)
    scan(catalog)
    Indexer(catalog, None).run()  # every photo read once and "ok"
    if not positions_kept:
        with catalog.write() as c:
            c.execute("UPDATE photos SET gps_lat=NULL, gps_lon=NULL, gps_hash=NULL")
    return catalog, folder


def photo_id(catalog: Catalog, folder: Path, name: str) -> int:
    photo = catalog.photo_by_path(str((folder / name).resolve()))
    assert photo is not None and photo.state == "ok"
    return photo.id


def test_a_photo_whose_drive_does_not_answer_gets_its_place_on_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, folder = indexed(tmp_path, positions_kept=False)
    drive = FlakyDrive(monkeypatch)
    drive.failing["tokyo.jpg"] = errno.EIO
    geocoder = FakeGeocoder()
    first = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    tokyo = photo_id(catalog, folder, "tokyo.jpg")
    assert photo_place(catalog, tokyo) is None
    assert [p.id for p in photos_needing_places(catalog)] == [tokyo]  # nothing stored: still to do
    assert len(geocoder.looked_up) == 2  # each readable photo looked up once, the unreadable one not at all
    assert (first.places, first.no_gps, first.unreadable) == (1, 1, 1)
    assert [s.reason for s in first.skipped] == ["cannot read the file (Input/output error)"]

    drive.failing.clear()  # the drive is back
    second = Enricher(catalog, ocr=None, geocoder=geocoder).run()
    assert (second.places, second.no_gps, second.unreadable) == (1, 0, 0)  # only tokyo was read again
    place = photo_place(catalog, tokyo)
    assert place is not None and abs(place.lat - GPS["tokyo.jpg"][0]) < 1e-3
    assert photos_needing_places(catalog) == []
    catalog.close()


def test_a_file_that_stays_unreadable_is_tried_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unmounted drive: the file is gone (not a transient errno), yet its content is unknown, not empty."""
    catalog, _folder = indexed(tmp_path, positions_kept=False)  # so finding places reads the files
    drive = FlakyDrive(monkeypatch)
    drive.failing["lisbon.jpg"] = errno.ENOENT
    reads: Counter[str] = Counter()
    real_read_meta = imaging.read_meta

    def counting_read_meta(path: str) -> imaging.PhotoMeta:
        reads[Path(path).name] += 1
        return real_read_meta(path)

    monkeypatch.setattr(imaging, "read_meta", counting_read_meta)
    reports = []
    for _run in range(2):
        reports.append(Enricher(catalog, ocr=None, geocoder=FakeGeocoder()).run())
    assert reads["lisbon.jpg"] == 2  # once per run: no loop within a run, a retry on the next
    assert reads["tokyo.jpg"] == reads["plain.jpg"] == 1  # read and recorded, not looked at again
    for report in reports:
        assert report.unreadable == 1 and not report.cancelled
        assert [s.reason for s in report.skipped] == ["file vanished"]
    catalog.close()


def test_only_a_photo_actually_read_is_recorded_without_text_or_as_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, folder = indexed(tmp_path)
    broken = folder / "plain.jpg"  # damaged after indexing, same size and time: still "ok" in the catalog
    stat = broken.stat()
    data = broken.read_bytes()
    broken.write_bytes(data[:200] + bytes(len(data) - 200))
    os.utime(broken, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    drive = FlakyDrive(monkeypatch)
    drive.failing["lisbon.jpg"] = errno.EIO  # read failure inside the imaging code (a DecodeError)
    engine = FakeOcr()
    engine.raise_for["tokyo.jpg"] = OSError(errno.ESTALE, os.strerror(errno.ESTALE))  # raw OS error

    first = Enricher(catalog, ocr=engine, geocoder=None).run()
    counts = ocr_counts(catalog, engine.version)
    assert (counts["failed"], counts["pending"]) == (1, 2)  # the damaged file is final; the other two wait
    assert engine.calls == Counter({"lisbon.jpg": 1, "tokyo.jpg": 1, "plain.jpg": 1})
    assert (first.ocr_text, first.ocr_failed, first.unreadable) == (0, 1, 2)

    drive.failing.clear()
    engine.raise_for.clear()
    second = Enricher(catalog, ocr=engine, geocoder=None).run()
    assert (second.ocr_text, second.ocr_failed, second.unreadable) == (2, 0, 0)
    assert engine.calls["plain.jpg"] == 1  # a real decode failure is not retried
    assert [line.text for line in photo_lines(catalog, photo_id(catalog, folder, "tokyo.jpg"))] == ["tokyo"]
    assert ocr_counts(catalog, engine.version)["pending"] == 0
    catalog.close()
