"""`photoclip models ...` through its own sub-parser (the same one the photoclip command registers)."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import pytest

from photoclip.cli import models as models_cli
from photoclip.engine import ModelStore
from photoclip.errors import ModelError, NoModelError
from tests.engine.conftest import write_bundle

pytest.importorskip("onnxruntime")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="photoclip")
    models_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["models", *argv])
    return args.handler(args)


def test_import_list_use_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_bundle(tmp_path / "a", name="alpha")
    write_bundle(tmp_path / "b", name="beta", random=True)
    assert run("import", str(tmp_path / "a")) == 0
    assert "installed alpha (8-d, 32 px, fp32)" in capsys.readouterr().out
    assert run("import", str(tmp_path / "b"), "--use") == 0
    assert "RANDOM weights" in capsys.readouterr().out
    assert ModelStore().active().name == "beta"  # PHOTOCLIP_MODELS points at a temp folder in tests
    run("list")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  alpha") and lines[1].startswith("* beta") and "RANDOM" in lines[1]
    run("list", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["active"] == "beta" and [m["name"] for m in data["models"]] == ["alpha", "beta"]
    assert run("use", "alpha") == 0 and ModelStore().active().name == "alpha"
    assert run("remove", "alpha") == 0
    assert ModelStore().names() == ["beta"] and ModelStore().active() is None


def test_user_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(NoModelError):
        run("use", "ghost")
    with pytest.raises(ModelError, match="not a folder"):
        run("import", str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="--random-init"):
        run("export", "--arch", "tiny", "--out", str(tmp_path / "x"))
    with pytest.raises(SystemExit):
        run("export", "--arch", "tiny", "--from-transformers", "x", "--out", str(tmp_path / "x"))


def test_download_lists_known_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("download", "--known") == 0
    out = capsys.readouterr().out
    assert "clip-vit-b32 " in out and "(default)" in out and "clip-vit-b32-int8" in out


@pytest.mark.torch
@pytest.mark.slow
def test_export_random_and_install(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run("export", "--arch", "tiny", "--random-init", "--out", str(tmp_path / "t"), "--install") == 0
    out = capsys.readouterr().out
    assert "parity with PyTorch: image cosine >= 1.0000" in out or "image cosine >= 0.9999" in out
    assert "RANDOM" in out and ModelStore().active().name == "random-tiny"
