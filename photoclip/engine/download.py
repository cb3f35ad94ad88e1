"""Downloading known model bundles from a Hugging Face style hub, with urllib only.

The host is checked once (DNS, then TCP connect, through the configured proxy if any) before any
file is created, so an offline machine fails in seconds with one line saying how to import a model
instead. Every catalogue entry pins a commit, never a branch. Files are fetched into ``.part``
files that resume with HTTP Range and are checked before use: against the catalogue's sha256, else
the one the hub lists for the file (``lfs.sha256`` from its API, also sent as ``X-Linked-Etag``), else
the git blob id it lists for small files. A file that fails is deleted and nothing is installed.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from photoclip import __version__
from photoclip.engine.bundle import BundleInfo, check_name
from photoclip.engine.store import ModelStore
from photoclip.errors import ModelError, NetworkError
from photoclip.jobs import CancelToken, ProgressSink, ProgressTracker, null_sink
from photoclip.paths import resources_dir

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT = 4.0  # seconds, for the DNS lookup and for the TCP connect
READ_TIMEOUT = 30.0
CHUNK = 1 << 20
DOWNLOADS_DIR = ".downloads"
IMPORT_HINT = "download the model folder on another computer and install it with: photoclip models import DIR"


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Expected:
    """What a downloaded file must hash to: its sha256, or else its git blob id (sha1 of a header + content)."""

    sha256: str | None = None
    git_sha1: str | None = None
    size: int | None = None
    source: str = "catalogue"

    def __bool__(self) -> bool:
        return bool(self.sha256 or self.git_sha1)


@dataclass(frozen=True)
class CatalogueEntry:
    """One downloadable model: which hub repository files make up its bundle."""

    name: str
    repo: str
    revision: str | None = None  # a commit id; None: not yet pinned, resolved to the hub's current commit
    variant: str = "auto"
    description: str = ""
    files: dict[str, str | None] = field(default_factory=dict)  # repo path -> sha256 (None: ask the hub)
    label: str = ""  # "fast", "best quality", "many languages"...
    size_mb: int | None = None
    speed: str = ""
    licence: str = ""
    languages: str = ""
    recall: str = ""


def default_catalogue_path() -> Path:
    return resources_dir() / "known_models.json"


def load_catalogue(path: Path | None = None) -> tuple[str, dict[str, CatalogueEntry]]:
    """(default model name, entries by name) from ``known_models.json``."""
    path = path or default_catalogue_path()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = {
            name: CatalogueEntry(
                name=name,
                repo=str(spec["repo"]),
                revision=str(spec["revision"]).lower() if spec.get("revision") else None,
                variant=str(spec.get("variant", "auto")),
                description=str(spec.get("description", "")),
                files={str(k): (str(v).lower() if v else None) for k, v in dict(spec["files"]).items()},
                label=str(spec.get("label", "")),
                size_mb=int(spec["size_mb"]) if spec.get("size_mb") is not None else None,
                speed=str(spec.get("speed", "")),
                licence=str(spec.get("licence", "")),
                languages=str(spec.get("languages", "")),
                recall=str(spec.get("recall", "")),
            )
            for name, spec in dict(data["models"]).items()
        }
        for entry in entries.values():
            if entry.revision is not None and not _COMMIT_RE.match(entry.revision):
                raise ValueError(
                    f"'{entry.name}' names revision {entry.revision!r}: a branch can change under a download; "
                    "give a 40-digit commit id (or null to use the hub's current commit, verified)"
                )
            bad = [p for p, sha in entry.files.items() if sha is not None and not _SHA256_RE.match(sha)]
            if bad:
                raise ValueError(f"'{entry.name}' has a malformed sha256 for {bad[0]}")
        return str(data.get("default") or next(iter(entries))), entries
    except FileNotFoundError:
        raise ModelError(f"The list of known models is missing ({path}).") from None
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise ModelError(f"The list of known models ({path}) is unreadable: {exc}") from exc


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def file_url(entry: CatalogueEntry, repo_path: str) -> str:
    quoted = urllib.parse.quote(repo_path)
    revision = urllib.parse.quote(entry.revision or "main", safe="")
    return f"{hub_endpoint()}/{entry.repo}/resolve/{revision}/{quoted}"


def api_url(entry: CatalogueEntry) -> str:
    revision = urllib.parse.quote(entry.revision or "main", safe="")
    return f"{hub_endpoint()}/api/models/{entry.repo}/revision/{revision}?blobs=true"


def _unquote_etag(value: str | None) -> str:
    return (value or "").strip().removeprefix("W/").strip('"').lower()


def hub_listing(entry: CatalogueEntry, timeout: float = READ_TIMEOUT) -> tuple[str, dict[str, Expected]]:
    """(commit, hashes) the hub lists for ``entry`` at its pinned commit (or its current one when unpinned)."""
    request = urllib.request.Request(api_url(entry), headers={"User-Agent": f"photoclip/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read(16 << 20))
    except urllib.error.HTTPError as exc:
        raise NetworkError(
            f"The hub does not list {entry.repo} at revision {(entry.revision or 'main')[:12]} (HTTP {exc.code}); "
            "the checksums of its files cannot be checked, so nothing was downloaded."
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise NetworkError(f"Asking the hub for the checksums of {entry.repo} failed: {exc}.") from exc
    commit = str(data.get("sha") or "").lower()
    if not _COMMIT_RE.match(commit) or (entry.revision and commit != entry.revision):
        raise ModelError(
            f"The hub answered for {entry.repo} with commit {commit[:12] or 'none'}, not the one asked for."
        )
    out: dict[str, Expected] = {}
    for sibling in data.get("siblings") or []:
        if not isinstance(sibling, dict) or "rfilename" not in sibling:
            continue
        lfs = sibling.get("lfs") or {}
        sha = str(lfs.get("sha256") or "").lower()
        blob = str(sibling.get("blobId") or "").lower()
        size = lfs.get("size", sibling.get("size"))
        out[str(sibling["rfilename"])] = Expected(
            sha256=sha if _SHA256_RE.match(sha) else None,
            git_sha1=None if sha else (blob if re.match(r"^[0-9a-f]{40}$", blob) else None),
            size=int(size) if isinstance(size, int) else None,
            source="hub",
        )
    return commit, out


def expected_hashes(entry: CatalogueEntry) -> tuple[CatalogueEntry, dict[str, Expected]]:
    """The entry pinned to a commit, and the catalogue's sha256 for each file, completed from the hub's
    listing where it has none."""
    expected = {path: Expected(sha256=sha) for path, sha in entry.files.items() if sha}
    missing = [path for path in entry.files if path not in expected]
    if missing or entry.revision is None:
        commit, listed = hub_listing(entry)
        entry = replace(entry, revision=commit)
        for path in missing:
            found = listed.get(path)
            if not found:
                raise ModelError(
                    f"The hub lists no checksum for {path} of {entry.repo} at {entry.revision[:12]}; "
                    "PhotoClip downloads only files it can verify."
                )
            expected[path] = found
    return entry, expected


def git_blob_sha1(path: Path) -> str:
    """Git's id of a file's content: sha1 of ``blob <size>\\0`` followed by the bytes."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """getaddrinfo with a deadline (it has none of its own and can hang on a broken resolver)."""
    result: list[tuple] = []
    error: list[BaseException] = []

    def lookup() -> None:
        try:
            result.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise NetworkError(
            f"Cannot reach {host}: the DNS lookup timed out; this computer seems offline. "
            f"To install a model offline, {IMPORT_HINT}"
        )
    if error:
        raise NetworkError(
            f"Cannot reach {host} (DNS lookup failed: {error[0]}); this computer seems offline. "
            f"To install a model offline, {IMPORT_HINT}"
        )
    return result


def check_reachable(url: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Fail fast, before creating any file, when the hub (or the proxy in front of it) is unreachable."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    via = ""
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = proxy_parts.hostname or "", proxy_parts.port or 8080
        via = " (the proxy)"
    for family, socktype, proto, _, address in _resolve(host, port, timeout):
        try:
            with socket.socket(family, socktype, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
                return
        except OSError as exc:
            last = exc
    raise NetworkError(
        f"Cannot connect to {host}:{port}{via} ({last}); this computer seems offline. "
        f"To install a model offline, {IMPORT_HINT}"
    )


def fetch(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    tracker: ProgressTracker | None = None,
    cancel: CancelToken | None = None,
    timeout: float = READ_TIMEOUT,
    expected: Expected | None = None,
    revision: str | None = None,
) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming a previous partial download.

    The file is checked against ``expected`` (or ``sha256``) before it takes its final name; a
    response for another commit than ``revision``, or whose ETag names other content, is refused.
    """
    expected = expected or Expected(sha256=sha256.lower() if sha256 else None)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": f"photoclip/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        recorder = _RedirectRecorder(lambda seen: _check_headers(seen, dest, expected, revision, part))
        response = urllib.request.build_opener(recorder).open(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the part file already holds the whole file
            response = None
        else:
            raise NetworkError(f"Downloading {url} failed: HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise NetworkError(f"Downloading {url} failed: {getattr(exc, 'reason', exc)}.") from exc
    if response is not None:
        with response:
            _check_headers({**recorder.seen, **dict(response.headers.items())}, dest, expected, revision, part)
            resumed = offset > 0 and response.status == 206
            if not resumed:
                offset = 0
            length = response.headers.get("Content-Length")
            if tracker is not None and length is not None:
                tracker.total = (tracker.total or 0) + offset + int(length)
                tracker.advance(offset)
            received = 0
            try:
                with open(part, "ab" if resumed else "wb") as fh:
                    while block := response.read(CHUNK):
                        fh.write(block)
                        received += len(block)
                        if tracker is not None:
                            tracker.advance(len(block), current=dest.name)
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                if length is not None and received < int(length):
                    # http.client ends a body cut short without an error: count the bytes.
                    raise ConnectionError(f"the connection closed after {received} of {int(length)} bytes")
            except (ConnectionError, TimeoutError, http.client.HTTPException, urllib.error.URLError) as exc:
                raise NetworkError(
                    f"The download of {dest.name} was interrupted ({exc}); run the same command again to resume."
                ) from exc
    if expected.sha256:
        from photoclip.engine.bundle import sha256_file

        matches = sha256_file(part) == expected.sha256
    elif expected.git_sha1:
        matches = git_blob_sha1(part) == expected.git_sha1
    else:
        matches = True
    if not matches:
        part.unlink(missing_ok=True)
        kind = "sha256" if expected.sha256 else "git blob id"
        raise ModelError(
            f"{dest.name} was downloaded but its {kind} does not match the one the {expected.source} gives; "
            "the damaged file was deleted. Try again; if it keeps failing the server's copy has changed."
        )
    os.replace(part, dest)
    return dest


class _RedirectRecorder(urllib.request.HTTPRedirectHandler):
    """Keeps the headers of redirects: the hub sends a large file's sha256 and commit on its redirect to
    the CDN, not on the CDN's answer."""

    def __init__(self, check: Any) -> None:
        self.seen: dict[str, str] = {}
        self.check = check

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        for key in ("X-Repo-Commit", "X-Linked-Etag", "X-Linked-Size"):
            if headers.get(key):
                self.seen[key] = headers[key]
        self.check(self.seen)  # refuse before following the redirect to the content
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _check_headers(headers: dict[str, str], dest: Path, expected: Expected, revision: str | None, part: Path) -> None:
    """Refuse before reading a byte when the hub says this is another commit or other content."""
    headers = {k.lower(): v for k, v in headers.items()}
    commit = (headers.get("x-repo-commit") or "").strip().lower()
    if revision and commit and commit != revision:
        raise ModelError(
            f"The hub answered {dest.name} from commit {commit[:12]}, not the pinned {revision[:12]}; nothing "
            "was installed."
        )
    linked = _unquote_etag(headers.get("x-linked-etag"))
    if expected.sha256 and _SHA256_RE.match(linked) and linked != expected.sha256:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"The hub's {dest.name} has sha256 {linked[:12]}…, not the expected {expected.sha256[:12]}…; it was "
            "not downloaded and nothing was installed."
        )


def download_model(
    name: str,
    store: ModelStore,
    *,
    catalogue: Path | None = None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    replace_existing: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> BundleInfo:
    """Download the catalogue model ``name`` and install it in ``store``."""
    default, entries = load_catalogue(catalogue)
    name = name or default
    if name not in entries:
        raise ModelError(f"Unknown model '{name}'. Known models: {', '.join(sorted(entries))}.")
    check_name(name)
    entry = entries[name]
    if (store.root / name).exists() and not replace_existing:
        raise ModelError(f"The model '{name}' is already installed; remove it first to download it again.")
    check_reachable(file_url(entry, next(iter(entry.files))), timeout=connect_timeout)
    entry, expected = expected_hashes(entry)

    staging = store.root / DOWNLOADS_DIR / name
    tracker = ProgressTracker(sink, phase=f"downloading {name}", total=None)
    for repo_path in entry.files:
        dest = staging / repo_path
        if dest.is_file():
            continue  # finished and verified in an earlier, interrupted run
        fetch(file_url(entry, repo_path), dest, expected=expected[repo_path], tracker=tracker, cancel=cancel,
              revision=entry.revision)
    tracker.emit()
    source = f"{hub_endpoint()}/{entry.repo} ({entry.revision})"
    info = store.install_from_dir(
        staging, name, variant=entry.variant, replace_existing=replace_existing, source=source
    )
    shutil.rmtree(staging, ignore_errors=True)
    downloads = store.root / DOWNLOADS_DIR
    if downloads.is_dir() and not any(downloads.iterdir()):
        downloads.rmdir()
    return info
