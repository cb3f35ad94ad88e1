"""Big index memory moves onto 2 MB pages on Linux, without changing a byte of it."""

from __future__ import annotations

import ctypes
import errno
import mmap
import platform
from collections.abc import Iterator
from pathlib import Path

import hnswlib
import numpy as np
import pytest

from photoclip.index import hugepages


def _kernel_collapses() -> bool:
    try:
        major, minor = (int(x) for x in platform.release().split(".")[:2])
    except ValueError:
        return False
    return hugepages.available() and (major, minor) >= (6, 1)


# With "always", the kernel hands out huge pages unasked: there is nothing to compare against.
ALWAYS = _kernel_collapses() and "[always]" in Path(hugepages.THP_SETTING).read_text(encoding="ascii")

pytestmark = pytest.mark.skipif(not _kernel_collapses(),
                                reason="needs Linux 6.1+ with transparent huge pages not set to never")


@pytest.fixture
def fresh() -> Iterator:
    """Private anonymous memory of its own, as a big malloc gets it (numpy asks for huge pages for
    its own arrays, so they would prove nothing)."""
    maps: list[mmap.mmap] = []

    def allocate(n: int) -> np.ndarray:
        maps.append(mmap.mmap(-1, n * 8, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))
        return np.frombuffer(maps[-1], dtype=np.float64)

    yield allocate
    # The arrays die with the test; the maps are closed by the garbage collector once they do.


def resident_share(array: np.ndarray) -> float:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    pages = (ctypes.c_ubyte * (array.nbytes // 4096))()
    assert libc.mincore(array.ctypes.data, array.nbytes // 4096 * 4096, pages) == 0
    return float((np.frombuffer(pages, dtype=np.uint8) & 1).mean())


def huge_kb_over(array: np.ndarray) -> int:
    """AnonHugePages of the mappings overlapping ``array``, from /proc/self/smaps."""
    lo_a, hi_a = array.ctypes.data, array.ctypes.data + array.nbytes
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="ascii") as fh:
        for line in fh:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo < hi_a and lo_a < hi
            elif inside and head == "AnonHugePages:":
                total += int(line.split()[1])
    return total


def collapse_or_skip(wanted: int) -> int:
    """Collapse, skipping the test when the kernel has no free 2 MB pages to give (a busy machine)."""
    refused: list[int] = []
    moved = hugepages.collapse_resident(refused=refused)
    if moved < wanted * 0.9 and refused and all(e in (errno.EAGAIN, errno.ENOMEM) for e in refused):
        pytest.skip(f"the kernel had no free huge pages ({len(refused)} stretches refused)")
    return moved


def test_written_memory_is_collapsed_with_its_contents_intact_and_reserved_memory_is_not_touched(fresh) -> None:
    reserved = fresh(hugepages.MIN_BYTES // 8 + 300_000)  # never written
    data = fresh(hugepages.MIN_BYTES // 8 + 300_000)  # ~130 MB, all written
    data[:] = np.random.default_rng(0).random(len(data))
    before = data[::4096].copy()
    if not ALWAYS:
        assert huge_kb_over(data) * 1024 < data.nbytes // 2
    moved = collapse_or_skip(data.nbytes)
    assert moved >= data.nbytes * 0.9
    assert huge_kb_over(data) * 1024 >= data.nbytes * 0.9
    assert np.array_equal(data[::4096], before)
    assert resident_share(reserved) < 0.01, "memory only reserved must stay unbacked"


def test_an_hnswlib_graph_keeps_answering_the_same_on_huge_pages() -> None:
    dim, n = 2048, 17_000
    graph = hnswlib.Index(space="ip", dim=dim)
    graph.init_index(max_elements=20_000, M=4, ef_construction=10)
    vectors = np.random.default_rng(1).standard_normal((n, dim)).astype(np.float32)
    graph.add_items(vectors, np.arange(n), num_threads=2)
    del vectors  # only the graph's own block is big now
    graph.set_ef(20)
    queries = np.random.default_rng(2).standard_normal((50, dim)).astype(np.float32)
    labels_before, dists_before = graph.knn_query(queries, k=5)
    assert collapse_or_skip(n * dim * 4) >= n * dim * 4 * 0.9
    labels_after, dists_after = graph.knn_query(queries, k=5)
    assert np.array_equal(labels_before, labels_after) and np.array_equal(dists_before, dists_after)


def test_nothing_is_done_where_huge_pages_are_off(monkeypatch, fresh) -> None:
    monkeypatch.setattr(hugepages, "available", lambda: False)
    data = fresh(hugepages.MIN_BYTES // 8 + 300_000)
    data[:] = 1.0
    assert hugepages.collapse_resident() == 0
    if not ALWAYS:
        assert huge_kb_over(data) * 1024 < data.nbytes // 2
