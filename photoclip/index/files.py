"""The index's files beside the catalog: written atomically (temporary file, fsync, rename), checked by CRC-32,
and their metadata checked before it is trusted (it is a cache anyone, or a bad disk, may have edited)."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path


def is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def meta_fault(meta: dict) -> str | None:
    """What is wrong with the numbers of an index metadata file, if anything: the file is a cache that
    anyone (or a bad disk) may have edited, and a wrong count must mean a rebuild, not a failed search."""
    for key in ("seq", "count", "deleted", "max_elements", "size", "crc32"):
        if not is_count(meta.get(key)):
            return f"{key} is {meta.get(key)!r}, not a count"
    if meta["max_elements"] < meta["count"] + meta["deleted"] or meta["max_elements"] < 1:
        return f"max_elements {meta['max_elements']} is below the {meta['count'] + meta['deleted']} vectors it holds"
    return None


def safe_name(model_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_name) or "model"


def file_crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; on success fsync it and rename it over ``final``."""
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        fsync_dir(final.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
