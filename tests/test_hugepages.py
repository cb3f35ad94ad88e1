"""Big index memory moves onto 2 MB pages on Linux, without changing a byte of it."""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Iterator

import hnswlib
import numpy as np
import pytest

from photoclip import hugepages


def _kernel_collapses() -> bool:
    try:
        major, minor = (int(x) for x in platform.release().split(".")[:2])
    except ValueError:
        return False
    return hugepages.available() and (major, minor) >= (6, 1)


pytestmark = pytest.mark.skipif(not _kernel_collapses(),
                                reason="needs Linux 6.1+ with transparent huge pages not set to never")


@pytest.fixture
def malloc() -> Iterator:
    """Memory from C malloc, as hnswlib gets it (numpy asks for huge pages for its own arrays)."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks: list[int] = []

    def allocate(n: int) -> np.ndarray:
        address = libc.malloc(n * 8)
        assert address
        blocks.append(address)
        return np.ctypeslib.as_array((ctypes.c_double * n).from_address(address))

    yield allocate
    for address in blocks:
        libc.free(address)


def smaps_kb(address: int, field: str) -> int:
    """One field (AnonHugePages, Rss...) of the mapping holding ``address``, from /proc/self/smaps."""
    inside = False
    with open("/proc/self/smaps", encoding="ascii") as fh:
        for line in fh:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == f"{field}:":
                return int(line.split()[1])
    return 0


def test_written_memory_is_collapsed_with_its_contents_intact_and_reserved_memory_is_not_touched(malloc) -> None:
    data = malloc(hugepages.MIN_BYTES // 8 + 300_000)  # ~130 MB, all written
    data[:] = np.random.default_rng(0).random(len(data))
    reserved = malloc(hugepages.MIN_BYTES // 8 + 300_000)  # never written
    before = data[::4096].copy()
    assert smaps_kb(data.ctypes.data + data.nbytes // 2, "AnonHugePages") < data.nbytes // 2048
    moved = hugepages.collapse_resident()
    assert moved >= data.nbytes * 0.9
    assert smaps_kb(data.ctypes.data + data.nbytes // 2, "AnonHugePages") * 1024 >= data.nbytes * 0.9
    assert np.array_equal(data[::4096], before)
    assert smaps_kb(reserved.ctypes.data + reserved.nbytes // 2, "Rss") < 8 * 1024, "reserved memory stays unbacked"


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
    assert hugepages.collapse_resident() >= n * dim * 4 * 0.9
    labels_after, dists_after = graph.knn_query(queries, k=5)
    assert np.array_equal(labels_before, labels_after) and np.array_equal(dists_before, dists_after)


def test_nothing_is_done_where_huge_pages_are_off(monkeypatch, malloc) -> None:
    monkeypatch.setattr(hugepages, "available", lambda: False)
    data = malloc(hugepages.MIN_BYTES // 8 + 300_000)
    data[:] = 1.0
    assert hugepages.collapse_resident() == 0
    assert smaps_kb(data.ctypes.data + data.nbytes // 2, "AnonHugePages") < data.nbytes // 2048
