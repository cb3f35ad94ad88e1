"""Back the vector index's big arrays with 2 MB pages on Linux, so a graph walk stops missing the TLB.

A graph query at a million photos jumps between gigabytes of vectors at random: with 4 KB pages nearly
every hop is a TLB miss (`bench/bench_index.py --huge-pages` measures the same graph before and after the
move, then again). Off unless asked for (``PHOTOCLIP_HUGE_PAGES=1``): the move reaches every big anonymous
mapping of the process, not only the index's. Linux gives huge pages to memory
that asks for them (transparent huge pages in "madvise" mode, the usual default); ``MADV_COLLAPSE``
(kernel 6.1+) moves memory already written onto them at once instead of over tens of minutes.

Best effort and Linux only: every failure leaves the memory as it was. Only memory already written
is collapsed, so memory reserved for growth is not made resident.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from collections.abc import Iterator

import numpy as np

log = logging.getLogger(__name__)

PAGE = 4096
HUGE_PAGE = 2 << 20
# Below this, the TLB covers enough of the memory for huge pages to make no difference worth a copy.
MIN_BYTES = 128 << 20
_MADV_HUGEPAGE = 14
_MADV_COLLAPSE = 25
THP_SETTING = "/sys/kernel/mm/transparent_hugepage/enabled"


def requested() -> bool:
    """Whether the user asked for huge pages (``PHOTOCLIP_HUGE_PAGES=1``)."""
    return os.environ.get("PHOTOCLIP_HUGE_PAGES", "").strip().lower() in {"1", "yes", "true", "on"}


def available() -> bool:
    """Whether this system hands out transparent huge pages to memory that asks for them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open(THP_SETTING, encoding="ascii") as fh:
            return "[never]" not in fh.read()
    except OSError:
        return False


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return libc


def anonymous_mappings(min_size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of this process's writable anonymous memory (the heap included) in stretches of
    at least ``min_size`` bytes. Neighbouring mappings are joined: asking for huge pages over part of
    one splits it, so one big block can span several."""
    try:
        with open("/proc/self/maps", encoding="ascii") as fh:
            lines = fh.readlines()
    except OSError:
        return
    run: list[int] | None = None
    for line in lines:
        fields = line.split()
        # A sixth field names a file, [stack] or [heap]; malloc serves big blocks from the heap too
        # when a library raised its mmap threshold.
        if "rw" not in fields[1] or (len(fields) != 5 and fields[5:] != ["[heap]"]):
            continue
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        if run is not None and run[1] == lo:
            run[1] = hi
            continue
        if run is not None and run[1] - run[0] >= min_size:
            yield run[0], run[1]
        run = [lo, hi]
    if run is not None and run[1] - run[0] >= min_size:
        yield run[0], run[1]


def collapse_resident(min_size: int = MIN_BYTES, refused: list[int] | None = None) -> int:
    """Move the written parts of every big anonymous mapping (the hnswlib graph, the vector matrix)
    onto huge pages; returns the bytes moved.

    The kernel merges neighbouring mappings, so the graph's block cannot be told apart by its size;
    instead every 2 MB stretch whose 4 KB pages are all resident is collapsed, and nothing that was
    only reserved (room for growth) is made resident. ``refused`` collects the errno of each stretch the
    kernel would not move (EAGAIN or ENOMEM when it has no free 2 MB pages at the moment).
    """
    if not available():
        return 0
    libc = _libc()
    if libc is None:
        return 0
    moved = 0
    per_huge = HUGE_PAGE // PAGE
    for lo, hi in anonymous_mappings(min_size):
        start, end = -(-lo // HUGE_PAGE) * HUGE_PAGE, hi // HUGE_PAGE * HUGE_PAGE
        if end <= start:
            continue
        pages = (ctypes.c_ubyte * ((end - start) // PAGE))()
        if libc.mincore(start, end - start, pages) != 0:
            continue
        full = (np.frombuffer(pages, dtype=np.uint8) & 1).reshape(-1, per_huge).all(axis=1)
        for first, last in _runs(full):
            run_start, run_len = start + first * HUGE_PAGE, (last - first) * HUGE_PAGE
            if libc.madvise(run_start, run_len, _MADV_HUGEPAGE) != 0:
                continue
            if libc.madvise(run_start, run_len, _MADV_COLLAPSE) != 0:
                # Kernels before 6.1 lack MADV_COLLAPSE (khugepaged still moves the memory, slowly),
                # and some mappings refuse it (locked, or another library asked for small pages).
                err = ctypes.get_errno()
                log.debug("MADV_COLLAPSE refused (errno %d)", err)
                if refused is not None:
                    refused.append(err)
                continue
            moved += run_len
    return moved


def _runs(flags: np.ndarray) -> Iterator[tuple[int, int]]:
    """[first, last) index ranges where ``flags`` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    yield from zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)


def in_background() -> threading.Thread:
    """Collapse on a thread of its own: moving 2 GB onto huge pages takes about 3 s."""
    def run() -> None:
        try:
            moved = collapse_resident()
            if moved:
                log.info("moved %d MB of index memory onto huge pages", moved >> 20)
        except Exception as exc:  # never worth failing a search for
            log.debug("huge pages not applied: %s", exc)

    thread = threading.Thread(target=run, name="photoclip-hugepages", daemon=True)
    thread.start()
    return thread
