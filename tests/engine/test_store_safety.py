"""`models import` on hostile folders, interrupted installs, a full disk, and models whose bytes changed.

Each case here went wrong before: a 20 GB fake .onnx was copied in full before any check, an
interrupted install left its temporary folder for good, a full disk gave "unexpected OSError", and a
model whose files had changed since install was used without a word.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from photoclip.engine import ModelStore
from photoclip.engine import store as store_module
from photoclip.engine.onnxcheck import check_onnx_file
from photoclip.errors import ModelError
from photoclip.library import Library
from tests.engine.conftest import write_bundle

pytest.importorskip("onnxruntime")
ROOT = Path(__file__).resolve().parents[2]


def _copies(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    copied: list[Path] = []
    real = shutil.copyfile

    def spy(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        copied.append(Path(src))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", spy)
    return copied


@pytest.mark.parametrize(
    "content",
    [
        b"\x00" * 4096,  # zeros
        b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8,  # another format renamed
        b"not a model at all\n" * 100,
    ],
)
def test_fake_onnx_is_refused_before_anything_is_copied(tmp_path: Path, monkeypatch, content: bytes) -> None:
    src = write_bundle(tmp_path / "src")
    (src / "image.onnx").write_bytes(content)
    copied = _copies(monkeypatch)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelError, match="not an ONNX model"):
        store.install_from_dir(src)
    assert copied == []
    assert not store.root.exists() or not any(p.name.startswith(".install-") for p in store.root.iterdir())


def test_huge_sparse_onnx_is_refused_after_reading_a_few_bytes(tmp_path: Path, monkeypatch) -> None:
    src = write_bundle(tmp_path / "src")
    with open(src / "text.onnx", "r+b") as fh:  # a sparse 20 GB file: costs no disk
        fh.truncate(20 << 30)
    copied = _copies(monkeypatch)
    with pytest.raises(ModelError, match="cannot exceed 2 GiB"):
        ModelStore(tmp_path / "models").install_from_dir(src)
    assert copied == []


def test_truncated_onnx_is_refused_before_copying(tmp_path: Path, monkeypatch) -> None:
    src = write_bundle(tmp_path / "src")
    data = (src / "image.onnx").read_bytes()
    (src / "image.onnx").write_bytes(data[: len(data) // 2])
    copied = _copies(monkeypatch)
    with pytest.raises(ModelError, match=r"truncated|not an ONNX model"):
        ModelStore(tmp_path / "models").install_from_dir(src)
    assert copied == []


def test_real_onnx_files_pass_the_header_check(tmp_path: Path) -> None:
    src = write_bundle(tmp_path / "src")
    for name in ("image.onnx", "text.onnx"):
        check_onnx_file(src / name)
    fixture = ROOT / "tests" / "fixtures" / "toy-clip"
    if (fixture / "image.onnx").is_file():
        check_onnx_file(fixture / "image.onnx")
        check_onnx_file(fixture / "text.onnx")


def test_manifest_naming_files_outside_the_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    src = write_bundle(tmp_path / "src")
    outside = tmp_path / "secret.onnx"
    shutil.copyfile(src / "image.onnx", outside)
    manifest = json.loads((src / "photoclip.json").read_text())
    manifest["image_model"] = "../secret.onnx"
    (src / "photoclip.json").write_text(json.dumps(manifest))
    copied = _copies(monkeypatch)
    with pytest.raises(ModelError, match="outside its folder"):
        ModelStore(tmp_path / "models").install_from_dir(src)
    assert copied == []


def test_not_enough_space_is_said_before_copying(tmp_path: Path, monkeypatch) -> None:
    src = write_bundle(tmp_path / "src")
    copied = _copies(monkeypatch)
    monkeypatch.setattr(store_module.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10 << 30, 10 << 30, 1000))
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelError, match="Not enough free disk space"):
        store.install_from_dir(src)
    assert copied == [] and store.names() == []


def test_disk_filling_during_the_copy_is_a_clear_error_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    src = write_bundle(tmp_path / "src")
    real = shutil.copyfile
    calls = []

    def fill(source, dest, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(source)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(dest))
        return real(source, dest, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", fill)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelError, match=r"Not enough free disk space.*No space left"):
        store.install_from_dir(src)
    assert sorted(p.name for p in store.root.iterdir()) == []


def _unshare_works() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs Linux user and mount namespaces")
def test_models_import_onto_a_really_full_disk(tmp_path: Path) -> None:
    """The CLI on a 1 MB tmpfs (in a private mount namespace): one error line, exit 1, nothing left."""
    src = write_bundle(tmp_path / "src")
    models = tmp_path / "models"
    models.mkdir()
    script = (
        f"mount -t tmpfs -o size=1m none {models} && "
        f"PHOTOCLIP_MODELS={models} {sys.executable} -m photoclip models import {src}; "
        f"echo rc=$?; ls -A {models}"
    )
    out = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert "rc=1" in out.stdout, out.stdout + out.stderr
    assert "unexpected" not in out.stderr
    assert "Not enough free disk space" in out.stderr
    assert out.stdout.strip().endswith("rc=1")  # the folder listing after it is empty


def test_interrupt_during_install_removes_the_temporary_folder(tmp_path: Path, monkeypatch) -> None:
    src = write_bundle(tmp_path / "src")
    real = shutil.copyfile

    def interrupt(source, dest, *args, **kwargs):  # type: ignore[no-untyped-def]
        real(source, dest, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "copyfile", interrupt)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(KeyboardInterrupt):
        store.install_from_dir(src)
    assert list(store.root.iterdir()) == []


def test_a_killed_install_is_cleaned_at_next_start_but_a_running_one_is_not(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = root / f".install-{dead.pid}-alpha-x1y2"
    (killed / "sub").mkdir(parents=True)
    (killed / "image.onnx").write_bytes(b"half")
    legacy = root / ".install-alpha-k3j4"  # named by an older PhotoClip, without a process id
    legacy.mkdir()
    running = root / f".install-{os.getpid()}-beta-q9"
    running.mkdir()
    library = Library.open(tmp_path / "library", models_folder=root)
    library.close()
    assert sorted(p.name for p in root.iterdir()) == [running.name]


def test_cli_start_cleans_a_killed_install(tmp_path: Path) -> None:
    root = tmp_path / "models"
    leftover = root / ".install-alpha-k3j4"
    leftover.mkdir(parents=True)
    env = {**os.environ, "PHOTOCLIP_MODELS": str(root)}
    out = subprocess.run([sys.executable, "-m", "photoclip", "models", "list"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not leftover.exists()


def _flip_a_byte(path: Path, *, keep_mtime: bool) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_model_whose_bytes_changed_is_refused_at_load(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.install_from_dir(write_bundle(tmp_path / "src", name="alpha"))
    library = Library.open(tmp_path / "library", models_folder=store.root)
    try:
        assert library.engine.dim == 8  # loads while intact
        library.reload_engine()
        _flip_a_byte(store.root / "alpha" / "text.onnx", keep_mtime=False)
        with pytest.raises(ModelError, match=r"damaged.*text.onnx"):
            library.engine  # noqa: B018
    finally:
        library.close()


def test_models_list_verify_finds_a_change_that_kept_size_and_time(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.install_from_dir(write_bundle(tmp_path / "src", name="alpha"))
    store.install_from_dir(write_bundle(tmp_path / "src2", name="beta"))
    _flip_a_byte(store.root / "beta" / "image.onnx", keep_mtime=True)
    store.verify(store.get("beta"))  # the cheap load-time check trusts an unchanged size and time
    env = {**os.environ, "PHOTOCLIP_MODELS": str(store.root)}
    out = subprocess.run([sys.executable, "-m", "photoclip", "models", "list", "--verify"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=60)
    assert out.returncode == 1
    lines = {line.lstrip("* ").split()[0]: line for line in out.stdout.splitlines() if line[:2] in ("* ", "  ")}
    assert "verified" in lines["alpha"] and "DAMAGED" in lines["beta"]
    assert "beta" in out.stderr and "image.onnx" in out.stderr
