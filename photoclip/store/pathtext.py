"""File paths in the catalog and on screen, including names that are not valid UTF-8.

Linux allows any bytes but ``/`` and NUL in a file name, and old disks and network shares hold names
in Latin-1 and other encodings. Python hands such a name over as ``str`` with each undecodable byte
as a lone surrogate (``surrogateescape``), which SQLite's UTF-8 text cannot take. The catalog stores
the path's exact bytes as TEXT instead: an SQL parameter is the ``str`` itself when it is valid
UTF-8 and its bytes otherwise, bound as ``CAST(? AS TEXT)``, and each catalog connection reads text
back with ``surrogateescape``. Byte order is what SQLite compares, so path ranges (everything below
a folder) hold for such names too. For people, ``display`` shows each undecodable byte as U+FFFD.
"""

from __future__ import annotations

import codecs
import os
import sqlite3
import sys

# SQL for one path parameter: a no-op for a str, the stored text for a name's raw bytes.
PARAM = "CAST(? AS TEXT)"
DISPLAY_ERRORS = "photoclip-display"


def to_sql(path: str) -> str | bytes:
    """``path`` as an SQL parameter for ``PARAM``: itself, or its bytes when it is not valid UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return _raw(path)
    return path


def _raw(path: str) -> bytes:
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone UTF-16 surrogate from a Windows name: keep it as is
        return path.encode("utf-8", "surrogatepass")


def from_sql(data: bytes) -> str:
    """The catalog connections' text factory: valid UTF-8 as usual, any other byte as a surrogate escape."""
    return str(data, "utf-8", "surrogateescape")


def use_for(conn: sqlite3.Connection) -> None:
    conn.text_factory = from_sql


def is_readable(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def display(path: str) -> str:
    """A path a person can read and any terminal, JSON or Qt can show: undecodable bytes become U+FFFD."""
    if is_readable(path):
        return path
    return _raw(path).decode("utf-8", "replace")


def _replace_surrogates(exc: UnicodeError) -> tuple[bytes, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    try:  # bytes: an encoder takes only ASCII text back from an error handler
        mark = "\ufffd".encode(exc.encoding)
    except (UnicodeError, LookupError):
        mark = b"?"  # a console that cannot show U+FFFD either
    return mark * (exc.end - exc.start), exc.end


def show_on_console() -> None:
    """Let stdout and stderr print any path: an undecodable byte comes out as U+FFFD instead of an error.

    Called by the command line at start (not at import): the error handler is process-wide.
    """
    try:
        codecs.lookup_error(DISPLAY_ERRORS)
    except LookupError:
        codecs.register_error(DISPLAY_ERRORS, _replace_surrogates)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        # Also instead of "surrogateescape" (a C locale): raw bytes would make --json output invalid.
        if reconfigure is not None and getattr(stream, "errors", "strict") in ("strict", "surrogateescape"):
            try:
                reconfigure(errors=DISPLAY_ERRORS)
            except (ValueError, OSError):
                pass


def path_prefix_range(path: str) -> tuple[str, str]:
    """The one folder-range helper: bounds such that ``lo <= p < hi`` holds exactly for paths below
    ``path`` (given with either separator): a range the path index answers, where
    ``substr(path, ...) = prefix`` would read the whole table."""
    prefix = path.rstrip("/\\") + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)
