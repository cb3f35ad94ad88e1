"""Crash safety: an indexing process killed with SIGKILL at any point leaves a sound catalog, and the
next run finishes the job with every photo embedded exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.corpus import make_image
from tests.fakes import FakeEmbedder

N_PHOTOS = 300
BATCH = 8

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


class SlowEmbedder(FakeEmbedder):
    """A fake model that takes a while per batch and says on stdout how many batches it has started."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.batches = 0

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        self.batches += 1
        print(f"batch {self.batches}", flush=True)
        time.sleep(self.delay)
        return super().embed_pixels(pixels)


# The driver runs in a child process: Library.index with the slow embedder. A slowed-down hash and
# small write batches stretch the scan so that it, too, can be killed half-way.
DRIVER = """
import json, sys, time
from pathlib import Path
from photoclip.ingest import scanner
from photoclip.store.catalog import Catalog
from photoclip.library import Library
from photoclip.store.settings import Settings
from tests.test_crash import BATCH, SlowEmbedder

library, folder, delay, hash_delay = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
real_hash = scanner.content_hash
hashed = 0
def slow_hash(path, size=None):
    global hashed
    time.sleep(hash_delay)
    hashed += 1
    if hashed % 20 == 0:
        print(f"hashed {hashed}", flush=True)
    return real_hash(path, size)
scanner.content_hash = slow_hash
scanner.WRITE_BATCH = 40
settings = Settings(auto_tag=False, batch_size=BATCH, decode_workers=2)
lib = Library(library, Catalog(library / "catalog.sqlite3"), engine_factory=lambda: SlowEmbedder(delay),
              settings=settings)
lib._after_index = lambda: None  # derived state (albums, vector index) is not what this test checks
lib.catalog.add_folder(folder)
run = lib.index()
print("done " + json.dumps({"added": run.scan.added, "embedded": run.embed.embedded}), flush=True)
"""


def start(library: Path, folder: Path, delay: float, hash_delay: float = 0.0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(library), str(folder), str(delay), str(hash_delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def kill_when(proc: subprocess.Popen[str], prefix: str, at_least: int) -> None:
    """SIGKILL the child once it prints ``prefix N`` with N >= at_least."""
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        word, _, number = line.strip().partition(" ")
        if word == prefix and int(number) >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return
        assert word != "done", "the run finished before it could be killed"
        assert time.monotonic() < deadline
    raise AssertionError(f"the child exited before '{prefix} {at_least}': {proc.stderr.read() if proc.stderr else ''}")


def check_sound(catalog_path: Path) -> tuple[int, int]:
    """Integrity, unique paths, no orphan vectors; returns (photos, vectors)."""
    conn = sqlite3.connect(catalog_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        dupes = conn.execute("SELECT path FROM photos GROUP BY path HAVING COUNT(*) > 1").fetchall()
        assert dupes == []
        orphans = conn.execute("SELECT COUNT(*) FROM embeddings e LEFT JOIN photos p ON p.id=e.photo_id "
                               "WHERE p.id IS NULL").fetchone()[0]
        assert orphans == 0
        # A vector is only ever stored together with its photo's state: both or neither.
        unsynced = conn.execute("SELECT COUNT(*) FROM photos p WHERE (p.state='ok') != EXISTS "
                                "(SELECT 1 FROM embeddings e WHERE e.photo_id=p.id)").fetchone()[0]
        assert unsynced == 0
        photos = conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        vectors = conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return photos, vectors
    finally:
        conn.close()


@pytest.mark.slow
def test_killed_runs_leave_a_sound_catalog_and_a_rerun_finishes(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for i in range(N_PHOTOS):
        sub = folder / f"set{i % 6}"
        sub.mkdir(parents=True, exist_ok=True)
        make_image(sub / f"p{i:03}.jpg", "jpeg", (12, 12), ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256))
    library = tmp_path / "library"
    catalog = library / "catalog.sqlite3"

    # 1. Killed during the scan, after some batches of new photos were written.
    proc = start(library, folder, delay=0.1, hash_delay=0.008)
    kill_when(proc, "hashed", 100)
    photos, vectors = check_sound(catalog)
    assert photos < N_PHOTOS and vectors == 0

    # 2-4. Killed while embedding, after a few batches and then after many more.
    history = []
    for batches in (2, 6, 12):
        proc = start(library, folder, delay=0.1)
        kill_when(proc, "batch", batches)
        photos, vectors = check_sound(catalog)
        assert photos == N_PHOTOS
        history.append(vectors)
    assert history == sorted(history) and history[-1] < N_PHOTOS

    # 5. A full run finishes the job and redoes nothing that was already stored.
    proc = start(library, folder, delay=0.0)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1].removeprefix("done "))
    photos, vectors = check_sound(catalog)
    assert photos == vectors == N_PHOTOS
    assert result["added"] == 0
    assert result["embedded"] == N_PHOTOS - history[-1]
    conn = sqlite3.connect(catalog)
    try:
        assert conn.execute("SELECT COUNT(*) FROM photos WHERE state='ok'").fetchone()[0] == N_PHOTOS
        assert conn.execute("SELECT COUNT(DISTINCT photo_id) FROM embeddings").fetchone()[0] == N_PHOTOS
    finally:
        conn.close()
