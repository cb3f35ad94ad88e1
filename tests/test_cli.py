"""The `photoclip` command run as a user runs it: a subprocess, a temporary library, awkward inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.corpus import GOOD_IN_BAD_CORPUS, make_bad_corpus, make_image


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "photoclip", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=60)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str], subprocess.CompletedProcess]:
    """A library indexed (without a model) over the bad-input corpus plus a few good photos."""
    base = tmp_path_factory.mktemp("cli")
    folder = base / "photos ü"
    expected = make_bad_corpus(folder)
    (folder / "good").mkdir()
    make_image(folder / "good" / "dated.jpg", "jpeg", (40, 30), (200, 100, 50), make="Nikon", model="Z6")
    make_image(folder / "good" / "flat.png", "png", (20, 20), (0, 0, 0))
    library = base / "library"
    result = run("--library", str(library), "index", str(folder),
                 env={"PHOTOCLIP_MODELS": str(base / "no-models")})
    files_expected = {n: w for n, w in expected.items() if not (folder / n).is_dir()}
    return library, folder, files_expected, result


def test_index_over_bad_inputs_exits_zero(indexed) -> None:  # type: ignore[no-untyped-def]
    _library, folder, expected, result = indexed
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "no CLIP model is installed" in result.stderr
    for name in expected:
        assert f"skipped: {folder / name}: " in result.stdout


@pytest.mark.slow  # several command runs
def test_status_lists_each_bad_file_with_its_reason(indexed) -> None:  # type: ignore[no-untyped-def]
    library, folder, expected, _ = indexed
    text = run("--library", str(library), "status")
    assert text.returncode == 0
    for name, word in expected.items():
        line = next(line for line in text.stdout.splitlines() if line.startswith(f"error: {folder / name}: "))
        assert word.lower() in line.lower()

    data = json.loads(run("--library", str(library), "status", "--json").stdout)
    reasons = {Path(e["path"]).name: e["reason"] for e in data["error_list"]}
    assert set(reasons) == set(expected)
    for name, word in expected.items():
        assert word.lower() in reasons[name].lower()
    good = {n for n in GOOD_IN_BAD_CORPUS if (folder / n).exists()} | {"dated.jpg", "flat.png"}
    assert data["errors"] == len(expected)
    assert data["ok"] >= len(good)
    assert data["photos"] == data["ok"] + data["errors"]
    assert data["library"] == str(library)
    assert [f["path"] for f in data["folders"]] == [str(folder)]


def test_info_on_a_good_file(indexed) -> None:  # type: ignore[no-untyped-def]
    library, folder, _, _ = indexed
    path = folder / "good" / "dated.jpg"
    result = run("--library", str(library), "info", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert (info["format"], info["width"], info["height"]) == ("jpeg", 40, 30)
    assert (info["camera_make"], info["camera_model"]) == ("Nikon", "Z6")
    assert info["error"] is None and info["state"] == "ok" and info["size"] == path.stat().st_size
    text = run("--library", str(library), "info", str(path))
    assert text.returncode == 0 and "Nikon Z6" in text.stdout


@pytest.mark.parametrize("name", ["notes.jpg", "empty.jpg", "garbage.png", "random.jpg", "bomb.png"])
def test_info_on_a_bad_file(indexed, name: str) -> None:  # type: ignore[no-untyped-def]
    library, folder, expected, _ = indexed
    result = run("--library", str(library), "info", str(folder / name))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and expected[name].lower() in error_lines[0].lower()


def test_info_on_a_truncated_file(indexed) -> None:  # type: ignore[no-untyped-def]
    library, folder, _, _ = indexed
    result = run("--library", str(library), "info", str(folder / "truncated.jpg"))
    assert result.returncode == 1 and "truncated" in result.stdout


@pytest.mark.slow  # several command runs
def test_errors_are_one_line_unless_debug(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jpg"
    line = one_line_error(run("--library", str(tmp_path / "lib"), "info", str(missing)))
    assert str(missing) in line
    line = one_line_error(run("--library", str(tmp_path / "lib"), "index", str(tmp_path / "no-such-folder")))
    assert "no-such-folder" in line and "not a folder" in line

    debug = run("--debug", "--library", str(tmp_path / "lib"), "info", str(missing))
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "NotFoundError" in debug.stderr


def test_foreign_catalog_is_a_one_line_error(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "catalog.sqlite3").write_text("this is not a database\n" * 100)
    line = one_line_error(run("--library", str(library), "status"))
    assert "catalog" in line


def test_version(tmp_path: Path) -> None:
    from photoclip import __version__

    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"photoclip {__version__}"


@pytest.mark.slow  # several command runs
def test_library_location_precedence(tmp_path: Path) -> None:
    flag, env_dir, data_home = tmp_path / "flag", tmp_path / "env", tmp_path / "xdg"
    env = {"PHOTOCLIP_LIBRARY": str(env_dir), "XDG_DATA_HOME": str(data_home)}

    def location(*args: str, env: dict[str, str]) -> str:
        result = run(*args, "status", "--json", env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["library"]

    assert location("--library", str(flag), env=env) == str(flag)
    assert location(env=env) == str(env_dir)
    no_env = {k: v for k, v in os.environ.items() if k != "PHOTOCLIP_LIBRARY"}
    no_env["XDG_DATA_HOME"] = str(data_home)
    full = {**no_env, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "photoclip", "status", "--json"], capture_output=True, text=True,
                            env=full, timeout=60)
    assert result.returncode == 0, result.stderr
    default = Path(json.loads(result.stdout)["library"])
    if sys.platform.startswith("linux"):
        assert default == data_home / "PhotoClip" / "library"
    assert (default / "catalog.sqlite3").is_file()
    assert (flag / "catalog.sqlite3").is_file() and (env_dir / "catalog.sqlite3").is_file()


@pytest.mark.slow  # several command runs
def test_index_no_embed_then_unchanged_rescan(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(3):
        make_image(folder / f"{i}.jpg", "jpeg", (16, 16), (i * 60, 0, 0))
    library = str(tmp_path / "lib")
    first = run("--library", library, "index", "--no-embed", "--json", str(folder))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == 3
    second = json.loads(run("--library", library, "index", "--no-embed", "--json").stdout)
    assert (second["added"], second["changed"], second["unchanged"]) == (0, 0, 3)
    listed = run("--library", library, "folders")
    assert listed.stdout.startswith(f"{folder}\t3 photos")
