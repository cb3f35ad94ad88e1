"""The indexing pipeline: each photo embedded once, bad files recorded, cancel and resume, no-model mode."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from photoclip.ingest import pipeline
from photoclip.ingest.pipeline import Indexer
from photoclip.ingest.scanner import content_hash, scan
from photoclip.jobs import CancelToken, Progress
from photoclip.store.catalog import Catalog
from tests.corpus import GOOD_IN_BAD_CORPUS, make_bad_corpus, make_image
from tests.fakes import FakeEmbedder

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog(tmp_path / "lib" / "catalog.sqlite3") as cat:
        yield cat


def make_photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_image(folder / f"img{i:03}.jpg", "jpeg", (24, 16), COLOURS[i % len(COLOURS)]) for i in range(n)]


def scanned(catalog: Catalog, folder: Path) -> None:
    catalog.add_folder(folder)
    scan(catalog)


def embedding_rows(catalog: Catalog) -> int:
    return catalog.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]


class SlowEmbedder(FakeEmbedder):
    """Takes a while per batch, so a run can be cancelled in the middle."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return super().embed_pixels(pixels)


class PickyEmbedder(FakeEmbedder):
    """Fails any batch that holds a mostly-blue image, as a model might on one odd input."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        self.batches += 1
        means = pixels.reshape(len(pixels), 3, -1).mean(axis=2)
        if np.any(means[:, 2] > 0.6):
            raise RuntimeError("unsupported input")
        return super().embed_pixels(pixels)


def test_every_photo_embedded_exactly_once(catalog: Catalog, tmp_path: Path) -> None:
    make_photos(tmp_path / "photos", 21)
    scanned(catalog, tmp_path / "photos")
    embedder = FakeEmbedder()
    stored: list[int] = []
    handed: dict[int, np.ndarray] = {}

    def after_batch(ids: list[int], vectors: dict[int, np.ndarray]) -> None:
        stored.extend(ids)
        handed.update(vectors)

    report = Indexer(catalog, embedder, batch_size=4, workers=2, after_batch=after_batch).run()
    assert (report.embedded, report.failed, report.vanished, report.cancelled) == (21, 0, 0, False)
    assert embedder.image_calls == 21
    assert embedding_rows(catalog) == 21
    assert sorted(stored) == sorted(catalog.live_ids().tolist())
    assert catalog.counts()["ok"] == 21
    # Each vector is the one of its own photo (red, green, blue, yellow in turn).
    for photo_id in catalog.live_ids().tolist():
        photo = catalog.photo(photo_id)
        i = int(Path(photo.path).stem[3:])
        vec = catalog.vector(embedder.model_name, photo_id)
        assert int(np.argmax(vec[:3])) == int(np.argmax(COLOURS[i % 4]))
        np.testing.assert_array_equal(handed[photo_id], vec)  # handed on as stored: nothing to read back
        assert (photo.width, photo.height, photo.format) == (24, 16, "jpeg")

    again = FakeEmbedder()
    assert Indexer(catalog, again).run().embedded == 0
    assert again.image_calls == 0


def test_bad_files_are_recorded_and_the_run_continues(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    expected = make_bad_corpus(folder)
    make_photos(folder / "good", 3)
    scanned(catalog, folder)
    report = Indexer(catalog, FakeEmbedder(), batch_size=4).run()

    reasons = {Path(path).name: reason for path, reason in catalog.errors()}
    files_expected = {name: word for name, word in expected.items() if not (folder / name).is_dir()}
    assert set(reasons) == set(files_expected)
    for name, word in files_expected.items():
        assert word.lower() in reasons[name].lower(), (name, reasons[name])
    assert {Path(s.path).name for s in report.skipped} == set(files_expected)
    assert report.failed == len(files_expected)

    ok_names = {Path(p.path).name for p in catalog.photos_with_state("ok")}
    good_written = {name for name in GOOD_IN_BAD_CORPUS if (folder / name).exists()}
    assert good_written | {"img000.jpg", "img001.jpg", "img002.jpg"} <= ok_names
    assert embedding_rows(catalog) == len(ok_names)
    # Failed photos are not retried until they change.
    assert Indexer(catalog, FakeEmbedder()).run().failed == 0


def test_file_changed_after_scan_gets_its_new_content(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    path = make_image(folder / "a.jpg", "jpeg", (24, 16), (220, 20, 20))
    make_image(folder / "b.jpg", "jpeg", (24, 16), (20, 220, 20))
    scanned(catalog, folder)
    photo = catalog.photo_by_path(str(path))
    assert photo is not None

    make_image(path, "jpeg", (40, 30), (20, 20, 220), noise=20)  # edited before the indexer got to it
    embedder = FakeEmbedder()
    Indexer(catalog, embedder).run()
    after = catalog.photo(photo.id)
    assert after.content_hash == content_hash(path) != photo.content_hash
    assert (after.size, after.width, after.height) == (path.stat().st_size, 40, 30)
    vec = catalog.vector(embedder.model_name, photo.id)
    assert int(np.argmax(vec[:3])) == 2  # blue: the new content, not the red one scanned
    stored_hash = catalog.conn.execute("SELECT content_hash FROM embeddings WHERE photo_id=?",
                                       (photo.id,)).fetchone()[0]
    assert stored_hash == after.content_hash
    # The next scan sees nothing new, and nothing needs embedding again.
    assert scan(catalog).changed == 0
    assert catalog.count_needing_work(embedder.model_name) == 0


def test_vanished_file_becomes_missing(catalog: Catalog, tmp_path: Path) -> None:
    paths = make_photos(tmp_path / "photos", 3)
    scanned(catalog, tmp_path / "photos")
    paths[1].unlink()
    report = Indexer(catalog, FakeEmbedder()).run()
    assert (report.embedded, report.vanished, report.failed) == (2, 1, 0)
    assert catalog.photo_by_path(str(paths[1])).state == "missing"


def test_file_deleted_while_being_read_becomes_missing(catalog: Catalog, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_photos(tmp_path / "photos", 2)
    scanned(catalog, tmp_path / "photos")
    real_load = pipeline.imaging.load_image

    def delete_then_load(path, min_side=None):  # type: ignore[no-untyped-def]
        if Path(path) == paths[0]:
            Path(path).unlink()
        return real_load(path, min_side)

    monkeypatch.setattr(pipeline.imaging, "load_image", delete_then_load)
    report = Indexer(catalog, FakeEmbedder()).run()
    assert (report.embedded, report.vanished, report.failed) == (1, 1, 0)
    assert catalog.photo_by_path(str(paths[0])).state == "missing"
    assert catalog.errors() == []


def test_cancel_stops_quickly_and_a_later_run_resumes(catalog: Catalog, tmp_path: Path) -> None:
    make_photos(tmp_path / "photos", 40)
    scanned(catalog, tmp_path / "photos")
    token = CancelToken()
    first = SlowEmbedder(0.15)
    cancelled_at: list[float] = []

    def cancel_after_the_first_batch(_ids: list[int], _vectors: dict) -> None:
        if not cancelled_at:
            cancelled_at.append(time.monotonic())
            token.cancel()

    report = Indexer(catalog, first, batch_size=4, workers=2,
                     after_batch=cancel_after_the_first_batch).run(cancel=token)
    stopped = time.monotonic()
    assert report.cancelled
    assert stopped - cancelled_at[0] < 1.0
    assert 0 < report.embedded < 40
    assert embedding_rows(catalog) == report.embedded == first.image_calls

    second = FakeEmbedder()
    rest = Indexer(catalog, second, batch_size=4).run()
    assert rest.embedded == 40 - report.embedded
    assert second.image_calls == 40 - report.embedded  # nothing finished before is redone
    assert embedding_rows(catalog) == 40


def test_embedder_failure_marks_only_the_offending_photo(catalog: Catalog, tmp_path: Path) -> None:
    paths = make_photos(tmp_path / "photos", 8)  # img002 and img006 are blue
    scanned(catalog, tmp_path / "photos")
    embedder = PickyEmbedder()
    report = Indexer(catalog, embedder, batch_size=4).run()
    assert report.embedded == 6 and report.failed == 2
    errors = dict(catalog.errors())
    assert set(errors) == {str(paths[2]), str(paths[6])}
    assert all(r.startswith("cannot embed: RuntimeError") and "unsupported input" in r for r in errors.values())
    assert embedding_rows(catalog) == 6


def test_no_model_reads_metadata_and_records_errors(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    dated = make_image(folder / "dated.jpg", "jpeg", (30, 20), (1, 2, 3),
                       exif_datetime=datetime(2021, 7, 4, 12, 30, 5), make="Canon", model="EOS R5")
    plain = make_image(folder / "plain.png", "png", (12, 10), (5, 5, 5))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    scanned(catalog, folder)
    report = Indexer(catalog, None).run()
    assert (report.embedded, report.failed) == (2, 1)
    assert embedding_rows(catalog) == 0
    d = catalog.photo_by_path(str(dated))
    assert (d.state, d.width, d.height, d.format) == ("ok", 30, 20, "jpeg")
    assert (d.taken_at, d.taken_at_source, d.camera_make, d.camera_model) == (
        "2021-07-04T12:30:05", "exif", "Canon", "EOS R5")
    p = catalog.photo_by_path(str(plain))
    assert p.taken_at_source == "file"
    assert p.taken_at == datetime.fromtimestamp(plain.stat().st_mtime).replace(microsecond=0).isoformat()
    assert [Path(path).name for path, _ in catalog.errors()] == ["broken.jpg"]
    # Once a model is there, the photos already read are embedded without a rescan.
    embedder = FakeEmbedder()
    assert Indexer(catalog, embedder).run().embedded == 2
    assert embedder.image_calls == 2


def test_progress_reports_done_and_total(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    make_photos(folder, 10)
    (folder / "bad.jpg").write_text("not a photo")
    scanned(catalog, folder)
    seen: list[Progress] = []
    Indexer(catalog, FakeEmbedder(), batch_size=3).run(progress=seen.append)
    assert seen[0].phase == "index" and seen[0].done == 0 and seen[0].total == 11
    assert all(p.total == 11 for p in seen)
    dones = [p.done for p in seen]
    assert dones == sorted(dones)
    assert seen[-1].done == 11 and seen[-1].skipped == 1
    assert any(p.last_skipped and p.last_skipped.path.endswith("bad.jpg") for p in seen)


class BrokenEmbedder(FakeEmbedder):
    """A model that cannot run at all (out of memory, a lost GPU): every call fails."""

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        raise RuntimeError("CUDA error: out of memory")


def test_a_model_that_cannot_run_stops_the_run_and_leaves_photos_pending(catalog: Catalog, tmp_path: Path) -> None:
    from photoclip.errors import ModelError

    make_photos(tmp_path / "p", 12)
    scanned(catalog, tmp_path / "p")
    with pytest.raises(ModelError, match="every photo of a batch"):
        Indexer(catalog, BrokenEmbedder(), batch_size=4).run()
    assert catalog.counts().get("error", 0) == 0
    # Once the model works again, nothing was lost.
    report = Indexer(catalog, FakeEmbedder(), batch_size=4).run()
    assert report.embedded == 12 and embedding_rows(catalog) == 12


def test_a_transient_read_error_is_retried_on_the_next_run(catalog: Catalog, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    paths = make_photos(tmp_path / "p", 4)
    scanned(catalog, tmp_path / "p")
    real = pipeline.imaging.load_image
    flaky = str(paths[1])

    def hiccup(path, *a, **kw):  # type: ignore[no-untyped-def]
        if str(path) == flaky:
            raise OSError(errno.EIO, "Input/output error")
        return real(path, *a, **kw)
    monkeypatch.setattr(pipeline.imaging, "load_image", hiccup)
    report = Indexer(catalog, FakeEmbedder()).run()
    assert report.embedded == 3 and report.failed == 0
    assert any(s.path == flaky and "retried" in s.reason for s in report.skipped)
    assert catalog.photo_by_path(flaky).state == "pending"
    monkeypatch.undo()
    assert Indexer(catalog, FakeEmbedder()).run().embedded == 1
    assert catalog.photo_by_path(flaky).state == "ok"


def test_a_photo_changed_by_the_watcher_mid_run_is_not_overwritten(catalog: Catalog, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoded, then marked missing (or removed) by live sync before the batch is stored."""
    paths = make_photos(tmp_path / "p", 6)
    scanned(catalog, tmp_path / "p")
    gone, removed = catalog.photo_by_path(str(paths[2])), catalog.photo_by_path(str(paths[4]))
    real = pipeline.decode_one

    def decode_then_change(photo, embedder):  # type: ignore[no-untyped-def]
        out = real(photo, embedder)
        with catalog.write() as c:
            if photo.id == gone.id:
                c.execute("UPDATE photos SET state='missing' WHERE id=?", (gone.id,))
            elif photo.id == removed.id:
                c.execute("DELETE FROM photos WHERE id=?", (removed.id,))
        return out
    monkeypatch.setattr(pipeline, "decode_one", decode_then_change)
    report = Indexer(catalog, FakeEmbedder(), workers=1).run()
    assert report.embedded == 4
    assert catalog.photo(gone.id).state == "missing"
    vectors = {r[0] for r in catalog.conn.execute("SELECT photo_id FROM embeddings")}
    assert gone.id not in vectors and removed.id not in vectors and len(vectors) == 4
