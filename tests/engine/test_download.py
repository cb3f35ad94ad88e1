"""Downloading bundles: fast offline failure, and resume/sha/atomic install against a local server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from photoclip.engine import ModelStore
from photoclip.engine.bundle import sha256_file
from photoclip.engine.download import download_model
from photoclip.errors import ModelError, NetworkError
from tests.engine.conftest import write_hf_bundle
from tests.engine.local_server import LocalServer

pytest.importorskip("onnxruntime")
REV = "0123456789abcdef0123456789abcdef01234567"
FILES = ["onnx/vision_model.onnx", "onnx/text_model.onnx", "tokenizer.json", "preprocessor_config.json", "config.json"]


class _Hub(LocalServer):
    """A tiny hub on 127.0.0.1 serving ``/<repo>/resolve/<rev>/<path>`` with HTTP Range support."""

    def __init__(self, root: Path, honour_range: bool = True) -> None:
        self.root = root
        self.honour_range = honour_range
        self.requests: list[tuple[str, str | None]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hub.requests.append((self.path, self.headers.get("Range")))
                parts = self.path.lstrip("/").split("/", 4)  # owner, repo, "resolve", rev, path
                target = hub.root / parts[4] if len(parts) == 5 else hub.root / "missing"
                if not target.is_file():
                    self.send_error(404)
                    return
                data = target.read_bytes()
                start = 0
                ranged = self.headers.get("Range")
                if ranged and hub.honour_range:
                    start = int(ranged.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler)


@pytest.fixture()
def hub_files(tmp_path: Path) -> Path:
    return write_hf_bundle(tmp_path / "served", dim=8, image_size=32)


@pytest.fixture()
def hub(hub_files: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Hub]:
    server = _Hub(hub_files)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield server
    server.close()


def _catalogue(tmp_path: Path, served: Path, wrong_sha: str | None = None) -> Path:
    files = {f: ("0" * 64 if f == wrong_sha else sha256_file(served / f)) for f in FILES}
    path = tmp_path / "known_models.json"
    path.write_text(
        json.dumps(
            {
                "default": "mini",
                "models": {"mini": {"repo": "test/mini-clip", "revision": REV, "variant": "fp32", "files": files}},
            }
        )
    )
    return path


def test_download_installs_atomically(tmp_path: Path, hub: _Hub, hub_files: Path) -> None:
    store = ModelStore(tmp_path / "models")
    seen = []
    info = download_model("mini", store, catalogue=_catalogue(tmp_path, hub_files), sink=seen.append)
    assert info.name == "mini" and store.active().name == "mini"
    assert sha256_file(info.path / "text.onnx") == sha256_file(hub_files / "onnx/text_model.onnx")
    assert sorted(p.name for p in store.root.iterdir()) == ["active.json", "mini"]  # staging cleaned up
    assert seen and seen[-1].done == sum((hub_files / f).stat().st_size for f in FILES)
    assert all(r[0].startswith(f"/test/mini-clip/resolve/{REV}/") for r in hub.requests)


def test_download_resumes_a_partial_file(tmp_path: Path, hub: _Hub, hub_files: Path) -> None:
    store = ModelStore(tmp_path / "models")
    full = (hub_files / "onnx/text_model.onnx").read_bytes()
    part = store.root / ".downloads" / "mini" / "onnx" / "text_model.onnx.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(full[: len(full) // 2])
    info = download_model("mini", store, catalogue=_catalogue(tmp_path, hub_files))
    ranges = dict(hub.requests)
    assert ranges[f"/test/mini-clip/resolve/{REV}/onnx/text_model.onnx"] == f"bytes={len(full) // 2}-"
    assert ranges[f"/test/mini-clip/resolve/{REV}/onnx/vision_model.onnx"] is None
    assert (info.path / "text.onnx").read_bytes() == full


def test_server_without_range_support_restarts_cleanly(tmp_path: Path, hub: _Hub, hub_files: Path) -> None:
    hub.honour_range = False
    store = ModelStore(tmp_path / "models")
    part = store.root / ".downloads" / "mini" / "tokenizer.json.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes from an older download")
    info = download_model("mini", store, catalogue=_catalogue(tmp_path, hub_files))
    assert sha256_file(info.path / "tokenizer.json") == sha256_file(hub_files / "tokenizer.json")


def test_sha_mismatch_deletes_the_file_and_installs_nothing(tmp_path: Path, hub: _Hub, hub_files: Path) -> None:
    store = ModelStore(tmp_path / "models")
    catalogue = _catalogue(tmp_path, hub_files, wrong_sha="tokenizer.json")
    with pytest.raises(ModelError, match="sha256 does not match"):
        download_model("mini", store, catalogue=catalogue)
    assert store.list() == []
    staging = store.root / ".downloads" / "mini"
    assert not (staging / "tokenizer.json").exists() and not (staging / "tokenizer.json.part").exists()


def test_unknown_model_name(tmp_path: Path, hub_files: Path) -> None:
    with pytest.raises(ModelError, match=r"Unknown model 'nope'\. Known models: mini"):
        download_model("nope", ModelStore(tmp_path / "models"), catalogue=_catalogue(tmp_path, hub_files))


def _assert_fast_offline_failure(tmp_path: Path, catalogue: Path | None = None) -> None:
    store = ModelStore(tmp_path / "models")
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        download_model("clip-vit-b32", store, catalogue=catalogue)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "\n" not in message and "photoclip models import DIR" in message
    assert not store.root.exists()  # nothing written, nothing to clean up


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_unresolvable_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://photoclip-hub.invalid")
    _assert_fast_offline_failure(tmp_path)


def test_offline_connection_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    _assert_fast_offline_failure(tmp_path)


def test_offline_for_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real hub address on a machine without internet (skipped where the hub is reachable)."""
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=3):
            pytest.skip("this machine is online")
    except OSError:
        pass
    _assert_fast_offline_failure(tmp_path)
