"""One running PhotoClip per library answers the command line: the app or `photoclip watch` listens on a
local socket, and `photoclip search` asks it instead of loading the model and the vectors again.

The socket lives in a folder only the user can enter (``$XDG_RUNTIME_DIR/photoclip``, else
``<temp>/photoclip-<uid>``, created with mode 0700 and refused when someone else owns it or may
enter it); the socket itself is made user-only too, and the server checks each peer's user id where
the platform tells it (Linux). Where there are no Unix sockets, nothing listens and every command
works on its own, as it does when no instance runs.

The protocol is one JSON line each way: ``{"op": "search", ...}`` in, ``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}`` out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import stat
import struct
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoclip.errors import PhotoClipError

if TYPE_CHECKING:
    from photoclip.library import Library
    from photoclip.search import SearchResult

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 0.5
ANSWER_TIMEOUT = 60.0  # the first search of an instance may load the model
MAX_REQUEST = 1 << 20


def available() -> bool:
    return hasattr(socket, "AF_UNIX") and hasattr(os, "getuid")


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base) / "photoclip"
    return Path(tempfile.gettempdir()) / f"photoclip-{os.getuid()}"


def _private_dir(create: bool) -> Path | None:
    """The socket folder, only when it belongs to this user and no one else may enter it."""
    folder = runtime_dir()
    if create:
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=True)
    try:
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        log.warning("not using %s for the single-instance socket: it is not a private folder", folder)
        return None
    return folder


def socket_path(library_dir: str | os.PathLike[str], *, create: bool = False) -> Path | None:
    """Where the instance serving this library listens (one socket per library folder)."""
    if not available():
        return None
    folder = _private_dir(create)
    if folder is None:
        return None
    key = hashlib.sha256(str(Path(library_dir).expanduser().resolve()).encode()).hexdigest()[:20]
    return folder / f"{key}.sock"


def _send(conn: socket.socket, data: dict[str, Any]) -> None:
    conn.sendall(json.dumps(data, ensure_ascii=False, default=str).encode() + b"\n")


def _receive(conn: socket.socket) -> dict[str, Any]:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\n") or size > MAX_REQUEST * 64:
            break
    data = json.loads(b"".join(chunks).decode())
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def ask(library_dir: str | os.PathLike[str], request: dict[str, Any], *,
        timeout: float = ANSWER_TIMEOUT) -> dict[str, Any] | None:
    """The running instance's answer, or None when none runs (or it does not answer)."""
    path = socket_path(library_dir)
    if path is None or not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CONNECT_TIMEOUT)
            conn.connect(str(path))
            conn.settimeout(timeout)
            _send(conn, request)
            conn.shutdown(socket.SHUT_WR)
            return _receive(conn)
    except (OSError, ValueError) as exc:
        log.debug("no running instance answered at %s: %s", path, exc)
        return None


def _peer_uid(conn: socket.socket) -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def result_rows(result: SearchResult) -> list[dict[str, Any]]:
    """A search result as the CLI prints it (and as JSON carries it)."""
    return [{"id": h.id, "path": h.path, "score": round(h.score, 4), "cosine": round(h.cosine, 4),
             "taken_at": h.photo.taken_at, "why": list(getattr(h, "why", ()))} for h in result.hits]


def result_view(result: SearchResult) -> dict[str, Any]:
    """Everything the CLI prints of a result: its rows, what was hidden, and why nothing matched."""
    dates = getattr(result, "dates", None)
    return {"rows": result_rows(result), "hidden": result.hidden,
            "unknown": list(getattr(result, "unknown", ()) or ()),
            "dates": dates.describe() if dates is not None else None}


def _filters_from_json(data: dict[str, Any]) -> Any:
    from photoclip.search import Filters

    return Filters(folder=data.get("folder"), after=date.fromisoformat(data["after"]) if data.get("after") else None,
                   before=date.fromisoformat(data["before"]) if data.get("before") else None,
                   tags=tuple(data.get("tags") or ()), types=tuple(data.get("types") or ()),
                   album=data.get("album"), favourite=bool(data.get("favourite")),
                   min_rating=int(data.get("min_rating") or 0))


class InstanceServer:
    """Answers `photoclip search` and `photoclip similar` for a library this process has open."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.path: Path | None = None
        self.served = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen; False when another live instance already serves this library or sockets are unavailable."""
        path = socket_path(self.library.directory, create=True)
        if path is None:
            return False
        if path.exists():
            if ask(self.library.directory, {"op": "ping"}, timeout=CONNECT_TIMEOUT) is not None:
                return False  # the first instance keeps answering
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # left by a process that died
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(path))
            os.chmod(path, 0o600)
            sock.listen(8)
        except OSError as exc:
            sock.close()
            log.warning("the single-instance socket %s cannot be opened: %s", path, exc)
            return False
        self._sock, self.path = sock, path
        self._thread = threading.Thread(target=self._serve, name="photoclip-instance", daemon=True)
        self._thread.start()
        return True

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        if self._thread is not None:
            self._thread.join(2.0)

    def __enter__(self) -> InstanceServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while (sock := self._sock) is not None:
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._handle, args=(conn,), name="photoclip-instance-request",
                             daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                uid = _peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    return  # not this user: say nothing
                conn.settimeout(10.0)
                request = _receive(conn)
                answer = self.answer(request)
            except (OSError, ValueError) as exc:
                answer = {"ok": False, "error": f"bad request: {exc}"}
            with contextlib.suppress(OSError):
                _send(conn, answer)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        try:
            if op == "ping":
                return {"ok": True, "pid": os.getpid()}
            options = {"filters": _filters_from_json(request.get("filters") or {}), "top": int(request.get("top", 50)),
                       "min_score": request.get("min_score"), "show_all": bool(request.get("show_all"))}
            if op == "search":
                place = {"place": request["place"]} if request.get("place") else {}
                examples = {"like": tuple(int(i) for i in request.get("like") or ()),
                            "unlike": tuple(int(i) for i in request.get("unlike") or ())}
                language = {"language": str(request["language"])} if request.get("language") else {}
                result = self.library.search(str(request["query"]), **place, **examples, **language, **options)
            elif op == "similar":
                target = request["target"]
                result = self.library.similar(int(target) if str(target).isdigit() else str(target), **options)
            else:
                return {"ok": False, "error": f"unknown request {op!r}"}
        except PhotoClipError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # the instance keeps running; the command reports it
            log.exception("a request from the command line failed")
            return {"ok": False, "error": f"unexpected {type(exc).__name__}: {exc}"}
        if request.get("sort") in ("newest", "oldest"):
            result.sort_by_date(newest=request["sort"] == "newest")
        self.served += 1
        return {"ok": True, **result_view(result)}
