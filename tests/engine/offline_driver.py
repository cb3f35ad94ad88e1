"""Runs the app's everyday work (index, search, watch, the desktop window) with no network wanted.

Started by tests/engine/test_privacy.py in a child process, usually under ``strace``. Python-level
socket use is caught here by an audit hook; native lookups (ONNX Runtime's) only by the tracer. The
process lives long enough for a background thread that phones home after a delay to do so.

Usage: python -m tests.engine.offline_driver WORKDIR LINGER_SECONDS
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from pathlib import Path

NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                  "socket.sendto", "socket.sendmsg")
attempts: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event in NETWORK_EVENTS:
        target = args[1] if event == "socket.connect" and len(args) > 1 else args
        if event == "socket.connect" and isinstance(target, (str, bytes)):
            return  # a Unix socket (the Qt platform, a session bus): not the network
        attempts.append(f"{event} {target!r}")


def main(workdir: Path, linger: float) -> int:
    sys.addaudithook(_audit)
    started = time.monotonic()
    os.environ["PHOTOCLIP_MODELS"] = str(workdir / "models")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["XDG_CONFIG_HOME"] = str(workdir / "config")
    from photoclip.cli import main as cli
    from photoclip.engine import ModelStore
    from tests.engine.test_toy_clip import FIXTURE, draw

    ModelStore().install_from_dir(FIXTURE)
    photos = workdir / "photos"
    photos.mkdir()
    rng = random.Random(1)
    for i, (colour, shape) in enumerate([("red", "circle"), ("blue", "square"), ("green", "triangle")]):
        draw(colour, shape, rng).save(photos / f"p{i}.jpg")
    library = str(workdir / "library")
    assert cli(["--library", library, "index", str(photos)]) == 0, "index failed"
    assert cli(["--library", library, "search", "a red circle"]) == 0, "search failed"

    from photoclip.library import Library

    try:  # the module's home after the move of core modules into packages
        from photoclip.ingest.livesync import LiveSync
    except ImportError:
        from photoclip.livesync import LiveSync

    lib = Library.open(library)
    added = threading.Event()
    sync = LiveSync(lib, embed=True, quiet=0.2, on_report=lambda r: r.embedded and added.set())
    sync.start()
    time.sleep(1.0)
    draw("yellow", "star", rng).save(photos / "new.jpg")
    if not added.wait(30):
        print("watch: the new photo was never embedded", file=sys.stderr)
        return 3
    sync.stop()
    lib.close()

    from PySide6.QtCore import QSettings, QTimer

    from photoclip.gui.app import make_application
    from photoclip.gui.main_window import MainWindow

    app = make_application()
    lib = Library.open(library)
    window = MainWindow(lib, ui_settings=QSettings(str(workdir / "ui.ini"), QSettings.Format.IniFormat))
    window.show()
    window.start_live_sync()
    QTimer.singleShot(int(max(1.0, linger - (time.monotonic() - started)) * 1000), app.quit)
    app.exec()
    window.shutdown()
    lib.close()
    for line in attempts:
        print(f"NETWORK {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), float(sys.argv[2])))
