"""A library on a disk that is full: reading (search, status) still works, writing says why it cannot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.corpus import make_image
from tests.test_e2e_toy import FIXTURE


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system (tmpfs), where root may mount one; skipped elsewhere."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root on Linux")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(bytes(1 << 16))
                f.flush()
        except OSError:
            pass


def photoclip(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "photoclip", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


@pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")
def test_search_and_status_work_while_the_disk_is_full(small_disk: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, colour in enumerate([(220, 20, 20), (20, 200, 20), (20, 20, 220)]):
        make_image(photos / f"p{i}.jpg", "jpeg", (64, 48), colour)
    env = {**os.environ, "PHOTOCLIP_LIBRARY": str(small_disk / "lib"), "PHOTOCLIP_MODELS": str(tmp_path / "models"),
           "PYTHONPATH": str(ROOT)}
    assert photoclip(env, "models", "import", str(FIXTURE)).returncode == 0
    assert photoclip(env, "index", str(photos)).returncode == 0
    before = photoclip(env, "search", "red", "--json")
    assert before.returncode == 0, before.stderr
    fill(small_disk)

    found = photoclip(env, "search", "red", "--json")
    assert found.returncode == 0, found.stderr
    assert [h["path"] for h in json.loads(found.stdout)] == [h["path"] for h in json.loads(before.stdout)]
    status = photoclip(env, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["ok"] == 3

    make_image(photos / "new.jpg", "jpeg", (64, 48), (200, 200, 20))
    index = photoclip(env, "index")
    assert index.returncode == 1
    assert "disk" in index.stderr and "full" in index.stderr and "Traceback" not in index.stderr
    (small_disk / "filler").unlink()
    assert photoclip(env, "index").returncode == 0
    assert json.loads(photoclip(env, "status", "--json").stdout)["ok"] == 4
