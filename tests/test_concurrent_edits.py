"""Everything at once on one library: indexing, a watcher seeing churn, a person's edits, and a second
process running the CLI. Nothing may surface "database is locked", no edit may be lost, and the catalog
must end up matching the disk exactly."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from photoclip.ingest.livesync import LiveSync
from photoclip.library import Library

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "toy-clip"
FAST = {"quiet": 0.3, "max_wait": 1.0, "stable": 0.3, "root_check": 0.3, "polling_interval": 0.3}
PHOTOS = 500

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing"),
]


def jpeg(path: Path, rng: random.Random) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), tuple(rng.randrange(256) for _ in range(3))).save(path, quality=80)
    return path


def wait_for(condition: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def on_disk(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*.jpg")}


def live_in_catalog(library: Library) -> set[str]:
    rows = library.catalog.read().execute("SELECT path FROM photos WHERE state IN ('ok', 'pending')")
    return {r[0] for r in rows}


def test_indexing_churn_edits_and_a_second_process_leave_every_edit_and_a_true_catalog(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    folder = tmp_path / "photos"
    for i in range(PHOTOS):
        jpeg(folder / f"p{i:03d}.jpg", rng)
    lib_dir, models = tmp_path / "lib", tmp_path / "models"
    env = {**os.environ, "PHOTOCLIP_LIBRARY": str(lib_dir), "PHOTOCLIP_MODELS": str(models), "PYTHONPATH": str(ROOT)}
    monkeypatch.setenv("PHOTOCLIP_MODELS", str(models))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "photoclip", *args], env=env, capture_output=True, text=True,
                              timeout=240)

    assert cli("models", "import", str(FIXTURE)).returncode == 0
    library = Library.open(lib_dir)
    library.settings.ocr = library.settings.places = False
    library.add_folder(folder)
    errors: list[str] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except Exception as exc:  # every failure is reported, the locked ones most of all
                errors.append(f"{type(exc).__name__}: {exc}")
        return run

    # Photos the churn never touches carry the person's edits, so each edit can be checked afterwards.
    edited = [folder / f"p{i:03d}.jpg" for i in range(400, 420)]
    decisions: dict[str, str] = {}
    albums_kept: set[str] = set()

    def index() -> None:
        library.index()

    def churn() -> None:
        for i in range(60):
            jpeg(folder / "new" / f"n{i:02d}.jpg", rng)
        for i in range(0, 30):
            (folder / f"p{i:03d}.jpg").rename(folder / f"renamed{i:03d}.jpg")
        (folder / "moved").mkdir()
        for i in range(30, 50):
            shutil.move(folder / f"p{i:03d}.jpg", folder / "moved" / f"p{i:03d}.jpg")
        for i in range(50, 70):
            jpeg(folder / f"p{i:03d}.jpg", rng)  # new content under the same name
        for i in range(70, 100):
            (folder / f"p{i:03d}.jpg").unlink()
        (folder / "new").rename(folder / "arrived")

    def edits() -> None:
        wait_for(lambda: all(library.catalog.photo_by_path(str(p)) for p in edited), timeout=60)
        for k in range(5):
            library.add_tag(f"stress{k}", prompts=[f"a photo number {k}"], threshold=0.9)
        for n, path in enumerate(edited):
            photo_id = library.catalog.photo_by_path(str(path)).id
            tag = f"stress{n % 5}"
            if n % 2:
                library.reject_tag(photo_id, tag)
                decisions[str(path)] = "rejected"
            else:
                library.accept_tag(photo_id, tag)
                decisions[str(path)] = "accepted"
        for k in range(6):
            library.create_album(f"album{k}")
            library.add_to_album(f"album{k}", [library.catalog.photo_by_path(str(edited[k])).id])
            if k % 2:
                library.delete_album(f"album{k}")
            else:
                albums_kept.add(f"album{k}")
        for threshold in (0.5, 0.6, 0.7):
            library.set_tag_threshold("stress0", threshold)

    def second_process() -> None:
        for args in (("index", str(folder)), ("tags", "add", "from-cli", "--prompt", "a photo from the cli")):
            done = cli(*args)
            if done.returncode != 0 or "locked" in done.stderr:
                errors.append(f"photoclip {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")

    sync = LiveSync(library, **FAST)
    sync.start()
    try:
        wait_for(lambda: sync.ready, timeout=30)
        threads = [threading.Thread(target=guarded(work)) for work in (index, churn, edits, second_process)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        assert not any(t.is_alive() for t in threads), "a worker did not finish"
        print(f"all workers done in {time.monotonic() - started:.1f} s")
        assert not errors, errors
        # The watcher converges on the disk: every file catalogued, nothing gone still listed.
        wait_for(lambda: live_in_catalog(library) == on_disk(folder), timeout=60)
    finally:
        sync.stop()

    for path, decision in decisions.items():
        photo_id = library.catalog.photo_by_path(path).id
        tags = {t.name: t for t in library.photo_tags(photo_id)}
        n = edited.index(Path(path))
        assert tags[f"stress{n % 5}"].rejected == (decision == "rejected"), (path, decision)
    assert {a.name for a in library.albums() if a.name.startswith("album")} == albums_kept
    by_name = {t.name: t for t in library.tags()}
    assert by_name["stress0"].threshold == pytest.approx(0.7)
    assert "from-cli" in by_name
    library.close()
    with sqlite3.connect(lib_dir / "catalog.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
