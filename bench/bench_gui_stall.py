"""Longest GUI-thread stalls of the real main window: idle, indexing, typing, scrolling 10,000 photos,
jumping with the timeline scrubber, and stepping through 12 MP photos in the viewer.

A 5 ms QTimer records the gaps between its ticks on the GUI thread; a gap is the worst freeze a
user would feel at that moment (it includes the 5 ms tick itself). Each phase prints the longest
gap, the 99th and 99.9th percentiles, and the machine's load average, because on a shared machine
the scheduler alone can hold a thread back: the idle phase shows that floor.

The library is generated fast (480x320 JPEGs, so thumbnails are full size) and indexed with a real
CLIP bundle run by ONNX Runtime on every core (``--model``, default ``$PHOTOCLIP_BENCH_MODEL``; a
random-weight int8 ViT-B/32 from ``photoclip models export --arch vit-b-32 --random-init --int8`` is
what the targets are stated for), so the GUI thread competes with inference for the cores as it does
for a user. ``--fake`` uses the test suite's FakeEmbedder instead (decoding, hashing, thumbnailing
and catalog writes only). Reading text in photos (OCR, after indexing) is left out unless ``--ocr``:
it would make the run last half an hour, and it is one more worker thread like the others. The
app's own interpreter tuning is applied (`tune_interpreter`, `freeze_startup_objects`);
``--switch-ms``, ``--no-freeze`` and ``--untuned`` change or drop it, to see what each is worth.

``--prefill`` measures a library of a size that would take hours to index here (100,000 photos):
the files are small (160x120) and catalogued by the real scanner, then marked embedded with fake
vectors straight in SQLite, so the phases are opening the window on the full library, typing,
and scrolling, with thumbnails made on demand as a person would meet them.

``--index-while N`` (with ``--prefill``) adds N photos the library has not read yet and starts indexing them
with the real engine just before the typing phase, without waiting: typing, scrolling, the scrubber and
the viewer are then measured over 100,000 photos while ONNX Runtime embeds on every core, as when a
person browses during an import. Each of those rows says whether indexing was still running at its end.

The viewer phase opens ``--viewer-photos`` 12 MP JPEGs (4000x3000, smooth gradients) in the viewer
and presses → every 150 ms, as someone holding the key would: each photo is decoded at full size
on the viewer's worker while the GUI thread draws the grid's thumbnail in its place.

Run: python bench/bench_gui_stall.py [--model BUNDLE | --fake] [--photos N] [--prefill [--index-while N]]
[--viewer-photos N]
[--json FILE] [--label NAME]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from photoclip.gui.main_window import MainWindow  # noqa: E402
from photoclip.library import Library  # noqa: E402
from photoclip.store.catalog import Catalog  # noqa: E402
from photoclip.store.settings import Settings  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402

QUERIES = ("red car on the beach", "blue sky", "green forest at dawn")


class StallMeter:
    """Gaps between 5 ms ticks on the GUI thread, plus the longest garbage collection pause."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.gc_worst = 0.0
        self._gc_start = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start:
            self.gc_worst = max(self.gc_worst, (time.perf_counter() - self._gc_start) * 1000)

    def start(self) -> None:
        self.gaps, self.gc_worst = [], 0.0
        self.clock.start()
        self.timer.start()

    def _tick(self) -> None:
        self.gaps.append(self.clock.nsecsElapsed() / 1e6)
        self.clock.restart()

    def stop(self, phase: str, seconds: float, note: str = "") -> dict:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]

        def pct(q: float) -> float:
            return gaps[min(len(gaps) - 1, int(len(gaps) * q))]

        load = os.getloadavg()[0]
        row = {"phase": phase, "seconds": round(seconds, 1), "ticks": len(self.gaps), "max_ms": round(gaps[-1]),
               "p99_ms": round(pct(0.99)), "p999_ms": round(pct(0.999)), "over_100ms": sum(g > 100 for g in gaps),
               "gc_worst_ms": round(self.gc_worst, 1), "load1": round(load, 2)}
        print(f"{phase:<10} {seconds:6.1f} s  max {row['max_ms']:4d} ms  p99 {row['p99_ms']:3d} ms  "
              f"p99.9 {row['p999_ms']:4d} ms  >100 ms: {row['over_100ms']:3d}  gc {row['gc_worst_ms']:5.1f} ms  "
              f"load {load:.2f}  {note}", flush=True)
        return row


def make_library(folder: Path, n: int, size: tuple[int, int] = (480, 320)) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        path = sub / f"IMG_{i:06d}.jpg"
        Image.new("RGB", size, ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256)).save(path, "JPEG", quality=80)
        t = 1_500_000_000 + i * 3600
        os.utime(path, (t, t))


def make_big_photos(folder: Path, n: int) -> list[Path]:
    """12 MP JPEGs with smooth gradients (what a camera's sky or wall compresses like)."""
    folder.mkdir(parents=True)
    base = Image.radial_gradient("L").resize((4000, 3000))
    ramp = Image.linear_gradient("L").resize((4000, 3000))
    paths = []
    for i in range(n):
        tint = Image.new("L", (4000, 3000), (i * 47) % 256)
        image = Image.merge("RGB", (base, ramp, tint) if i % 2 else (tint, base, ramp))
        path = folder / f"BIG_{i:03d}.jpg"
        image.save(path, "JPEG", quality=88)
        paths.append(path)
    return paths


def prefill(lib: Library) -> None:
    """Scan for real, then record every photo as decoded and embedded without decoding it."""
    from datetime import datetime

    import numpy as np

    from photoclip.ingest.scanner import scan

    scan(lib.catalog)
    embedder = lib.engine
    model_id = lib.catalog.model_id(embedder.model_name, embedder.dim)
    rng = np.random.default_rng(3)
    rows = lib.catalog.read().execute("SELECT id, content_hash, mtime_ns FROM photos WHERE state='pending'").fetchall()
    for start in range(0, len(rows), 10_000):
        chunk = rows[start:start + 10_000]
        vectors = rng.normal(size=(len(chunk), embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with lib.catalog.write() as c:
            c.executemany("UPDATE photos SET state='ok', width=160, height=120, format='jpeg', taken_at=?, "
                          "taken_at_source=? WHERE id=?",
                          [(datetime.fromtimestamp(mtime_ns / 1e9).isoformat(timespec="seconds"), "file", pid)
                           for pid, _h, mtime_ns in chunk])
            lib.catalog.put_embeddings(c, model_id, [(pid, h, v) for (pid, h, _m), v in zip(chunk, vectors,
                                                                                            strict=True)])


class FirstPaint(QObject):
    """The moment a widget is first painted: when a person first sees the grid."""

    def __init__(self, started: float) -> None:
        super().__init__()
        self.started = started
        self.seconds: float | None = None

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if self.seconds is None and event.type() == QEvent.Type.Paint:
            self.seconds = time.monotonic() - self.started
        return False


def rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def pump(app: QApplication, seconds: float, until: Callable[[], bool] | None = None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until is not None and until()):
        app.processEvents()
        time.sleep(0.002)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--prefill", action="store_true",
                        help="catalogue and mark embedded directly instead of indexing (for 100,000 photos)")
    parser.add_argument("--switch-ms", type=float, default=None,
                        help="Python thread switch interval to use instead of the app's setting")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave start-up objects to the garbage collector (the app freezes them)")
    parser.add_argument("--untuned", action="store_true",
                        help="run the interpreter as it comes: no switch interval or collector tuning, no freeze")
    parser.add_argument("--json", type=Path, default=None, help="append the phase rows to this JSON-lines file")
    parser.add_argument("--label", default="", help="a name for this run in the JSON rows")
    parser.add_argument("--viewer-photos", type=int, default=50, help="12 MP photos to step through (0: skip)")
    parser.add_argument("--ocr", action="store_true",
                        help="also read text in every photo after indexing (slow: about 0.1 s a photo)")
    parser.add_argument("--model", type=Path, default=os.environ.get("PHOTOCLIP_BENCH_MODEL"),
                        help="CLIP bundle to index with (default $PHOTOCLIP_BENCH_MODEL)")
    parser.add_argument("--fake", action="store_true", help="index with the FakeEmbedder instead of a model")
    parser.add_argument("--index-while", type=int, default=0, metavar="N",
                        help="with --prefill: index N new photos with the engine while the later phases run")
    args = parser.parse_args()
    if args.index_while and not args.prefill:
        parser.error("--index-while goes with --prefill (without it the indexing phase runs on its own)")
    if args.model is None and not args.fake:
        parser.error("give --model BUNDLE (e.g. a random int8 ViT-B/32 made by `photoclip models export "
                     "--arch vit-b-32 --random-init --int8`) or --fake")
    if args.fake:
        engine_factory: Callable[[], object] = FakeEmbedder
    else:
        from photoclip.engine import ClipEngine

        engine = ClipEngine.load(Path(args.model), device="cpu", warn_random=False)
        engine_factory = lambda: engine  # noqa: E731
        print(f"indexing with {engine.model_name} ({engine.info.precision}) on ONNX Runtime", flush=True)
    if not args.untuned:
        from photoclip.gui.app import tune_interpreter

        tune_interpreter()
    if args.switch_ms:
        sys.setswitchinterval(args.switch_ms / 1000)
    app = QApplication.instance() or QApplication([])
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.monotonic()
        make_library(tmp / "photos", args.photos, (160, 120) if args.prefill else (480, 320))
        print(f"generated {args.photos:,} photos in {time.monotonic() - t0:.1f} s; "
              f"switch interval {sys.getswitchinterval() * 1000:.1f} ms", flush=True)
        lib = Library(tmp / "lib", Catalog(tmp / "lib" / "catalog.sqlite3"), engine_factory=engine_factory,  # type: ignore[arg-type]
                      settings=Settings(auto_tag=False, batch_size=32, ocr=args.ocr, places=False))
        lib.add_folder(tmp / "photos")
        if args.prefill:
            t0 = time.monotonic()
            prefill(lib)
            print(f"catalogued and marked embedded in {time.monotonic() - t0:.1f} s", flush=True)
        if args.index_while:  # on disk, not yet in the catalog: the index run finds and embeds them
            make_library(tmp / "photos" / "new", args.index_while)
        big: list[Path] = []
        if args.viewer_photos:
            t0 = time.monotonic()
            big = make_big_photos(tmp / "big", args.viewer_photos)
            print(f"generated {len(big)} photos of 12 MP in {time.monotonic() - t0:.1f} s", flush=True)
        t0 = time.monotonic()
        window = MainWindow(lib, ui_settings=QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat),
                            live_sync=False)
        first_paint = FirstPaint(t0)
        window.grid.viewport().installEventFilter(first_paint)
        window.resize(1280, 800)
        window.show()
        if args.prefill:
            pump(app, 120, lambda: window.model.rowCount() == args.photos)
            opened = time.monotonic() - t0
            pump(app, 5, lambda: first_paint.seconds is not None)
            painted = first_paint.seconds if first_paint.seconds is not None else float("nan")
            rows.append({"phase": "open", "seconds": round(opened, 2), "first_paint": round(painted, 2),
                         "rows": window.model.rowCount()})
            print(f"open       {painted:6.2f} s  until the grid is first painted; {opened:.2f} s until all "
                  f"{window.model.rowCount():,} photos are in it", flush=True)
            pump(app, 3.0)
            gc.collect()
            rows.append({"phase": "memory", "rss_mb": round(rss_mb())})
            print(f"memory     {rss_mb():6.0f} MB resident, idle with the library open (before its first search "
                  "or index run)", flush=True)
        if not (args.no_freeze or args.untuned):
            from photoclip.gui.app import freeze_startup_objects

            freeze_startup_objects()
        meter = StallMeter()
        pump(app, 1.0)

        meter.start()
        pump(app, 5.0)
        rows.append(meter.stop("idle", 5.0, "(nothing running: the machine's floor)"))

        if not args.prefill:
            meter.start()
            t0 = time.monotonic()
            window.start_indexing()
            pump(app, 1800, lambda: not window.jobs.busy)
            rows.append(meter.stop("indexing", time.monotonic() - t0, f"({args.photos:,} photos, grid refreshing)"))

        pump(app, 30, lambda: window.model.rowCount() == args.photos)
        if args.index_while:
            window.start_indexing()
            pump(app, 30, lambda: window.jobs.busy)

        def while_note_now() -> str:
            if not args.index_while:
                return ""
            return "; indexing throughout" if window.jobs.busy else "; indexing had ended"
        meter.start()
        t0 = time.monotonic()
        for query in QUERIES:
            window.search_bar.focus_search()
            for ch in query:
                QTest.keyClick(window.search_bar.edit, ch)
                pump(app, 0.08)
            pump(app, 1.0, lambda q=query: window.answer is not None and window.answer.request.query == q)
            window.search_bar.edit.clear()  # back to browsing all photos: a 10,000-row reset
            pump(app, 1.5, lambda: window.answer is not None and not window.answer.searched)
        rows.append(meter.stop("typing", time.monotonic() - t0,
                               f"({len(QUERIES)} queries typed and cleared{while_note_now()})"))

        bar = window.grid.verticalScrollBar()
        meter.start()
        t0 = time.monotonic()
        steps = 300
        for k in range(steps):
            bar.setValue(int(bar.maximum() * k / steps))
            pump(app, 0.02)
        pump(app, 1.0)
        rows.append(meter.stop("scrolling", time.monotonic() - t0,
                               f"({steps} jumps through {bar.maximum():,} px{while_note_now()})"))

        scrubber = window.scrubber
        if scrubber.isVisible():
            meter.start()
            t0 = time.monotonic()
            jumps = 200
            for k in range(jumps):
                scrubber._jump(int(scrubber.height() * ((k * 37) % jumps) / jumps))
                pump(app, 0.02)
            pump(app, 1.0)
            rows.append(meter.stop("scrubber", time.monotonic() - t0,
                                   f"({jumps} jumps across {len(scrubber.sections)} months{while_note_now()})"))
        else:
            print("scrubber   not shown (the photos span one month)", flush=True)

        if big:
            from photoclip.gui.queries import GridItem, GridRows

            items = GridRows.of([GridItem(-(i + 1), str(p), f"big-{i}") for i, p in enumerate(big)])
            window.pages.setCurrentWidget(window.viewer)
            window.viewer.open(items, 0, window.model.thumb_side)
            window.viewer.setFocus()
            pump(app, 10, window.viewer.is_ready)
            meter.start()
            t0 = time.monotonic()
            ready = 0
            for _ in range(len(big) - 1):
                QTest.keyClick(window.viewer, Qt.Key.Key_Right)
                pump(app, 0.15)
                ready += window.viewer.is_ready()
            pump(app, 10, window.viewer.is_ready)
            rows.append(meter.stop("viewer", time.monotonic() - t0,
                                   f"({len(big) - 1} steps, 150 ms apart; {ready} found decoded at once"
                                   f"{while_note_now()})"))
        window.close()
        lib.close()
    if args.json:
        with args.json.open("a") as f:
            for row in rows:
                f.write(json.dumps({"label": args.label, "photos": args.photos, **row}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
