"""`photoclip status` lists what the last scan could not read, as `index` did when it met it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.corpus import IS_ROOT, make_image
from tests.test_cli import run


def test_status_lists_unreadable_folders_broken_links_and_loops(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    make_image(folder / "good.jpg", "jpeg", (32, 24), (10, 200, 10))
    (folder / "dangling.jpg").symlink_to(folder / "nowhere.jpg")
    (folder / "loop-a.jpg").symlink_to(folder / "loop-b.jpg")
    (folder / "loop-b.jpg").symlink_to(folder / "loop-a.jpg")
    expected = {"dangling.jpg", "loop-a.jpg", "loop-b.jpg"}
    locked = folder / "locked"
    locked.mkdir()
    make_image(locked / "inside.jpg", "jpeg", (32, 24), (10, 10, 200))
    locked.chmod(0)
    if not IS_ROOT:
        expected.add("locked")
    library = tmp_path / "lib"
    env = {"PHOTOCLIP_MODELS": str(tmp_path / "no-models")}
    try:
        index = run("--library", str(library), "index", "--no-embed", str(folder), env=env)
        assert index.returncode == 0, index.stderr
        for name in expected:
            assert f"skipped: {folder / name}: " in index.stdout

        status = run("--library", str(library), "status", env=env)
        assert status.returncode == 0, status.stderr
        listed = {line.split(": ", 2)[1] for line in status.stdout.splitlines() if line.startswith("not read: ")}
        assert {os.path.basename(p) for p in listed} == expected
        data = json.loads(run("--library", str(library), "status", "--json", env=env).stdout)
        assert {Path(e["path"]).name for e in data["not_read"]} == expected
        assert all(e["reason"] for e in data["not_read"])
    finally:
        locked.chmod(0o755)

    # Mended on disk: the next scan forgets them.
    for name in ("dangling.jpg", "loop-a.jpg", "loop-b.jpg"):
        (folder / name).unlink()
    assert run("--library", str(library), "index", "--no-embed", env=env).returncode == 0
    data = json.loads(run("--library", str(library), "status", "--json", env=env).stdout)
    assert data["not_read"] == []


