"""Longest GUI-thread stall while indexing and while scrolling a 10,000-photo library.

A 5 ms QTimer records the gaps between its ticks on the GUI thread; the longest gap is the worst
freeze a user would feel. The library is generated fast (tiny JPEGs, one colour each) and indexed
with the test suite's FakeEmbedder, so the indexing load is real decoding, hashing and catalog
writes, but not CLIP inference (which runs on the same worker thread and would not touch the GUI
thread either). Run: python bench/bench_gui_stall.py [--photos N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from photoclip.catalog import Catalog  # noqa: E402
from photoclip.gui.main_window import MainWindow  # noqa: E402
from photoclip.library import Library  # noqa: E402
from photoclip.settings import Settings  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402


class StallMeter:
    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.worst = 0.0
        self.gaps: list[float] = []

    def start(self) -> None:
        self.worst, self.gaps = 0.0, []
        self.clock.start()
        self.timer.start()

    def _tick(self) -> None:
        gap = self.clock.restart()
        self.gaps.append(gap)
        self.worst = max(self.worst, gap)

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        return self.worst, gaps[int(len(gaps) * 0.99) - 1 if len(gaps) > 1 else 0]


def make_library(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        Image.new("RGB", (96, 64), ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256)).save(
            sub / f"p{i:06d}.jpg", "JPEG", quality=80)


def wait(app: QApplication, condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--switch-ms", type=float, default=None,
                        help="Python thread switch interval to try (default: the interpreter's 5 ms)")
    args = parser.parse_args()
    if args.switch_ms:
        sys.setswitchinterval(args.switch_ms / 1000)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.monotonic()
        make_library(tmp / "photos", args.photos)
        print(f"generated {args.photos:,} photos in {time.monotonic() - t0:.1f} s")
        lib = Library(tmp / "lib", Catalog(tmp / "lib" / "catalog.sqlite3"), engine_factory=FakeEmbedder,
                      settings=Settings(auto_tag=False, batch_size=32))
        lib.add_folder(tmp / "photos")
        window = MainWindow(lib, ui_settings=QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat),
                            live_sync=False)
        window.resize(1280, 800)
        window.show()
        meter = StallMeter()

        meter.start()
        t0 = time.monotonic()
        window.start_indexing()
        wait(app, lambda: not window.jobs.busy, 900)
        worst, p99 = meter.stop()
        print(f"indexing {args.photos:,} photos took {time.monotonic() - t0:.1f} s; "
              f"longest GUI stall {worst:.0f} ms, 99th percentile tick gap {p99:.0f} ms")

        wait(app, lambda: window.model.rowCount() == args.photos, 30)
        bar = window.grid.verticalScrollBar()
        meter.start()
        t0 = time.monotonic()
        steps = 300
        for k in range(steps):
            bar.setValue(int(bar.maximum() * k / steps))
            end = time.monotonic() + 0.02
            while time.monotonic() < end:
                app.processEvents()
        wait(app, lambda: False, 1.0)
        worst, p99 = meter.stop()
        print(f"scrolling through {window.model.rowCount():,} photos ({steps} jumps in "
              f"{time.monotonic() - t0:.1f} s): longest GUI stall {worst:.0f} ms, 99th percentile {p99:.0f} ms")

        meter.start()
        window.search_bar.set_text("red")
        wait(app, lambda: window.answer is not None and window.answer.searched, 30)
        worst, _ = meter.stop()
        print(f"a search over {args.photos:,} photos: longest GUI stall {worst:.0f} ms")
        window.close()
        lib.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
