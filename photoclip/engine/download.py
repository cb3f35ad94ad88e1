"""Downloading known model bundles from a Hugging Face style hub, with urllib only.

The host is checked once (DNS, then TCP connect, through the configured proxy if any) before any
file is created, so an offline machine fails in seconds with one line saying how to import a model
instead. Files are fetched into ``.part`` files that resume with HTTP Range, checked against their
sha256 when the catalogue knows it, and installed through the store's atomic install.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class CatalogueEntry:
    """One downloadable model: which hub repository files make up its bundle."""

    name: str
    repo: str
    revision: str = "main"
    variant: str = "auto"
    description: str = ""
    files: dict[str, str | None] = field(default_factory=dict)  # repo path -> sha256 (None if unknown)


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
                revision=str(spec.get("revision", "main")),
                variant=str(spec.get("variant", "auto")),
                description=str(spec.get("description", "")),
                files={str(k): (str(v) if v else None) for k, v in dict(spec["files"]).items()},
            )
            for name, spec in dict(data["models"]).items()
        }
        return str(data.get("default") or next(iter(entries))), entries
    except FileNotFoundError:
        raise ModelError(f"The list of known models is missing ({path}).") from None
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise ModelError(f"The list of known models ({path}) is unreadable: {exc}") from exc


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def file_url(entry: CatalogueEntry, repo_path: str) -> str:
    quoted = urllib.parse.quote(repo_path)
    return f"{hub_endpoint()}/{entry.repo}/resolve/{urllib.parse.quote(entry.revision, safe='')}/{quoted}"


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
) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming a previous partial download."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": f"photoclip/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the part file already holds the whole file
            response = None
        else:
            raise NetworkError(f"Downloading {url} failed: HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise NetworkError(f"Downloading {url} failed: {getattr(exc, 'reason', exc)}.") from exc
    if response is not None:
        with response:
            resumed = offset > 0 and response.status == 206
            if not resumed:
                offset = 0
            length = response.headers.get("Content-Length")
            if tracker is not None and length is not None:
                tracker.total = (tracker.total or 0) + offset + int(length)
                tracker.advance(offset)
            try:
                with open(part, "ab" if resumed else "wb") as fh:
                    while block := response.read(CHUNK):
                        fh.write(block)
                        if tracker is not None:
                            tracker.advance(len(block), current=dest.name)
                        if cancel is not None:
                            cancel.raise_if_cancelled()
            except (ConnectionError, TimeoutError, http.client.HTTPException, urllib.error.URLError) as exc:
                raise NetworkError(
                    f"The download of {dest.name} was interrupted ({exc}); run the same command again to resume."
                ) from exc
    if sha256:
        digest = hashlib.sha256()
        with open(part, "rb") as fh:
            while block := fh.read(CHUNK):
                digest.update(block)
        if digest.hexdigest() != sha256.lower():
            part.unlink(missing_ok=True)
            raise ModelError(
                f"{dest.name} was downloaded but its sha256 does not match the expected one; the damaged file "
                "was deleted. Try again; if it keeps failing the server's copy has changed."
            )
    os.replace(part, dest)
    return dest


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

    staging = store.root / DOWNLOADS_DIR / name
    tracker = ProgressTracker(sink, phase=f"downloading {name}", total=None)
    for repo_path, sha in entry.files.items():
        dest = staging / repo_path
        if dest.is_file():
            continue  # finished in an earlier, interrupted run
        fetch(file_url(entry, repo_path), dest, sha256=sha, tracker=tracker, cancel=cancel)
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
