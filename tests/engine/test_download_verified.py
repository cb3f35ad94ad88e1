"""Verified downloads against a local server that answers like the Hugging Face hub.

The hub lists each file of a commit at ``/api/models/<repo>/revision/<rev>?blobs=true`` (``lfs.sha256``
for large files, ``blobId``, git's id, for small ones); ``/<repo>/resolve/<rev>/<path>`` redirects
large files to a CDN with ``X-Linked-Etag`` (the sha256) and serves small ones with their blob id as
ETag; every answer names the commit in ``X-Repo-Commit``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from photoclip.engine import ModelStore
from photoclip.engine.bundle import sha256_file
from photoclip.engine.download import download_model, load_catalogue
from photoclip.errors import ModelError, NetworkError
from tests.engine.conftest import write_hf_bundle
from tests.engine.local_server import LocalServer

pytest.importorskip("onnxruntime")
COMMIT = "a" * 40
OTHER = "b" * 40
FILES = ["onnx/vision_model.onnx", "onnx/text_model.onnx", "tokenizer.json", "preprocessor_config.json", "config.json"]
LFS = {"onnx/vision_model.onnx", "onnx/text_model.onnx", "tokenizer.json"}


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubLike(LocalServer):
    def __init__(self, root: Path, files: list[str] | None = None, lfs: set[str] | None = None) -> None:
        self.root = root
        self.files = {f: (root / f).read_bytes() for f in (files or FILES)}
        self.lfs = LFS if lfs is None else lfs
        self.listed = dict(self.files)  # what the API's hashes describe (tests change the served bytes)
        self.cut_once: set[str] = set()  # files whose next transfer stops half way
        self.requests: list[tuple[str, str | None]] = []
        self.commit_header = COMMIT
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                hub.requests.append((self.path, self.headers.get("Range")))
                path = self.path.split("?")[0]
                if path.startswith("/api/models/"):
                    repo_rev = path.removeprefix("/api/models/")
                    repo, _, rev = repo_rev.partition("/revision/")
                    if rev not in (COMMIT, "main"):
                        self._send(404, b'{"error":"Revision Not Found"}', {})
                        return
                    siblings = []
                    for name, data in hub.listed.items():
                        entry = {"rfilename": name, "size": len(data), "blobId": _blob_id(data)}
                        if name in hub.lfs:
                            entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                            "pointerSize": 134}
                        siblings.append(entry)
                    self._send(200, json.dumps({"id": repo, "sha": COMMIT, "siblings": siblings}).encode(), {})
                    return
                if path.startswith("/cdn/"):
                    name = path.removeprefix("/cdn/")
                    self._serve(name)
                    return
                parts = path.lstrip("/").split("/", 4)
                if len(parts) != 5 or parts[2] != "resolve" or parts[4] not in hub.files:
                    self._send(404, b"", {})
                    return
                if parts[3] != COMMIT:
                    self._send(404, b"Revision Not Found", {})
                    return
                name = parts[4]
                common = {"X-Repo-Commit": hub.commit_header}
                if name in hub.lfs:
                    sha = hashlib.sha256(hub.listed[name]).hexdigest()
                    self._send(302, b"", {**common, "Location": f"/cdn/{name}", "X-Linked-Etag": f'"{sha}"',
                                          "X-Linked-Size": str(len(hub.listed[name]))})
                    return
                self._serve(name, {**common, "ETag": f'"{_blob_id(hub.listed[name])}"'})

            def _serve(self, name: str, headers: dict[str, str] | None = None) -> None:
                data = hub.files[name]
                start = 0
                ranged = self.headers.get("Range")
                code = 200
                extra = dict(headers or {})
                if ranged:
                    start = int(ranged.removeprefix("bytes=").split("-")[0])
                    code = 206
                    extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                body = data[start:]
                if name in hub.cut_once:
                    hub.cut_once.discard(name)
                    self.send_response(code)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(code, body, extra)

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler)


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubLike]:
    server = HubLike(write_hf_bundle(tmp_path / "served", dim=8, image_size=32))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield server
    server.close()


def _catalogue(tmp_path: Path, *, revision: str | None = COMMIT, shas: dict[str, str] | None = None) -> Path:
    files = {f: (shas or {}).get(f) for f in FILES}
    path = tmp_path / "known_models.json"
    path.write_text(json.dumps({"default": "mini", "models": {
        "mini": {"repo": "test/mini-clip", "revision": revision, "variant": "fp32", "files": files}}}))
    return path


def test_a_branch_name_is_refused_as_a_revision(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="a branch can change"):
        load_catalogue(_catalogue(tmp_path, revision="main"))


def test_download_uses_the_pinned_commit_and_the_hub_reported_hashes(tmp_path: Path, hub: HubLike) -> None:
    store = ModelStore(tmp_path / "models")
    info = download_model("mini", store, catalogue=_catalogue(tmp_path))
    assert sha256_file(info.path / "image.onnx") == hashlib.sha256(hub.files["onnx/vision_model.onnx"]).hexdigest()
    resolves = [p for p, _ in hub.requests if "/resolve/" in p]
    assert len(resolves) == len(FILES) and all(f"/resolve/{COMMIT}/" in p for p in resolves)
    assert any(p.startswith(f"/api/models/test/mini-clip/revision/{COMMIT}") for p, _ in hub.requests)
    assert COMMIT in info.source


@pytest.mark.parametrize("changed", ["onnx/text_model.onnx", "config.json"])
def test_a_file_that_differs_from_the_hub_listing_is_deleted_and_nothing_installed(
        tmp_path: Path, hub: HubLike, changed: str) -> None:
    """An LFS file is checked by sha256, a small one by its git blob id."""
    data = bytearray(hub.files[changed])
    data[len(data) // 2] ^= 0x20
    hub.files[changed] = bytes(data)  # served bytes no longer match what the API lists
    store = ModelStore(tmp_path / "models")
    kind = "sha256" if changed in LFS else "git blob id"
    with pytest.raises(ModelError, match=f"its {kind} does not match the one the hub gives"):
        download_model("mini", store, catalogue=_catalogue(tmp_path))
    assert store.list() == []
    staging = store.root / ".downloads" / "mini"
    assert not (staging / changed).exists() and not (staging / f"{changed}.part").exists()


def test_the_catalogue_sha_wins_and_a_linked_etag_that_disagrees_stops_before_downloading(
        tmp_path: Path, hub: HubLike) -> None:
    wrong = {"onnx/vision_model.onnx": "0" * 64}
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelError, match="not the expected"):
        download_model("mini", store, catalogue=_catalogue(tmp_path, shas=wrong))
    assert not any(p.startswith("/cdn/onnx/vision_model.onnx") for p, _ in hub.requests)
    assert store.list() == []


def test_an_answer_from_another_commit_is_refused(tmp_path: Path, hub: HubLike) -> None:
    hub.commit_header = OTHER
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelError, match="not the pinned"):
        download_model("mini", store, catalogue=_catalogue(tmp_path))
    assert store.list() == []


def test_a_cut_transfer_resumes_where_it_stopped(tmp_path: Path, hub: HubLike) -> None:
    hub.cut_once = {"onnx/text_model.onnx"}
    store = ModelStore(tmp_path / "models")
    catalogue = _catalogue(tmp_path)
    with pytest.raises(NetworkError, match="interrupted"):
        download_model("mini", store, catalogue=catalogue)
    assert store.list() == []
    full = hub.files["onnx/text_model.onnx"]
    part = store.root / ".downloads" / "mini" / "onnx" / "text_model.onnx.part"
    assert 0 < part.stat().st_size < len(full)
    cut_at = part.stat().st_size
    hub.requests.clear()
    info = download_model("mini", store, catalogue=catalogue)
    assert ("/cdn/onnx/text_model.onnx", f"bytes={cut_at}-") in hub.requests
    assert (info.path / "text.onnx").read_bytes() == full
    fetched_again = [p for p, _ in hub.requests if p.startswith("/cdn/onnx/vision_model")]
    assert fetched_again == []  # finished files are not fetched twice


def test_unpinned_entry_is_pinned_to_the_hubs_current_commit(tmp_path: Path, hub: HubLike) -> None:
    info = download_model("mini", ModelStore(tmp_path / "models"), catalogue=_catalogue(tmp_path, revision=None))
    assert all(f"/resolve/{COMMIT}/" in p for p, _ in hub.requests if "/resolve/" in p)
    assert COMMIT in info.source


def test_shipped_catalogue_loads_and_every_entry_has_its_facts() -> None:
    default, entries = load_catalogue()
    assert default in entries
    for entry in entries.values():
        assert entry.files and entry.licence and entry.languages and entry.label
