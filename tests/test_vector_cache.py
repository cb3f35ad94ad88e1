"""The memory-mapped vector file: a process starts from it, and a stale, truncated, damaged or foreign
file is caught up or rebuilt from SQLite, which stays the source of truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from photoclip.index.vectorindex import VectorIndex
from photoclip.store.catalog import Catalog
from tests.fakes import add_photo, unit

DIM = 16


def _library(tmp_path: Path, n: int = 60) -> tuple[Catalog, int, dict[int, np.ndarray]]:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "pics")
    rng = np.random.default_rng(3)
    vectors = {}
    for i in range(n):
        v = unit(rng.normal(size=DIM))
        vectors[add_photo(catalog, folder.id, tmp_path / "pics" / f"p{i}.jpg", v)] = v
    return catalog, folder.id, vectors


def _index(catalog: Catalog, tmp_path: Path, reads: list[int] | None = None) -> VectorIndex:
    index = VectorIndex(catalog, "fake-model", tmp_path, background=False, vector_cache_min=1)
    if reads is not None:
        original = index._rows_since

        def counting(model_id: int, dim: int, since: int):  # type: ignore[no-untyped-def]
            out = original(model_id, dim, since)
            reads.append(len(out[0]))
            return out

        index._rows_since = counting  # type: ignore[method-assign]
    return index


def _exact(vectors: dict[int, np.ndarray], q: np.ndarray, k: int) -> list[int]:
    ids = sorted(vectors)
    scores = np.array([vectors[i] @ q for i in ids])
    return [ids[j] for j in np.argsort(-scores, kind="stable")[:k]]


def test_a_new_process_maps_the_file_instead_of_reading_every_row(tmp_path: Path) -> None:
    catalog, _, vectors = _library(tmp_path)
    first = _index(catalog, tmp_path)
    first.sync()
    first.close()
    assert first.vectors_path.is_file()
    reads: list[int] = []
    second = _index(catalog, tmp_path, reads)
    second.sync()
    q = unit(np.random.default_rng(9).normal(size=DIM))
    ids, _ = second.search(q, 5)
    assert ids.tolist() == _exact(vectors, q, 5)
    assert isinstance(second._matrix.data, np.memmap)  # type: ignore[union-attr]
    assert sum(reads) == 0  # nothing newer than the file was read from SQLite
    second.close()
    catalog.close()


def test_a_stale_file_is_caught_up_from_sqlite(tmp_path: Path) -> None:
    catalog, folder_id, vectors = _library(tmp_path)
    first = _index(catalog, tmp_path)
    first.sync()
    first.close()
    gone = sorted(vectors)[0]
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id=?", (gone,))
    del vectors[gone]
    q = unit(np.random.default_rng(5).normal(size=DIM))
    vectors[add_photo(catalog, folder_id, tmp_path / "pics" / "new.jpg", q)] = q
    reads: list[int] = []
    second = _index(catalog, tmp_path, reads)
    second.sync()
    ids, _ = second.search(q, len(vectors) + 5)
    assert ids[0] == max(vectors)  # the photo added after the file was written
    assert gone not in ids.tolist()  # the photo deleted since is gone
    assert sorted(ids.tolist()) == sorted(vectors)
    assert sum(reads) == 1  # only the new row was read
    second.close()
    catalog.close()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "vector bytes", "other catalog"])
def test_a_broken_or_foreign_file_is_rebuilt_from_sqlite(tmp_path: Path, damage: str) -> None:
    catalog, _, vectors = _library(tmp_path)
    first = _index(catalog, tmp_path)
    first.sync()
    first.close()
    path = first.vectors_path
    whole = path.stat().st_size
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "garbage":
        data[:32] = b"x" * 32
    elif damage == "vector bytes":
        header = 4096 + 16 * len(vectors)
        data[header:header + 8] = np.array([0.5, -0.5], dtype="<f4").tobytes()  # the first row's start
    else:  # a catalog recreated in the same folder: ids may now mean other photos
        with catalog.write() as c:
            c.execute("UPDATE meta SET value='someone-else' WHERE key='catalog_id'")
    path.write_bytes(bytes(data))
    reads: list[int] = []
    second = _index(catalog, tmp_path, reads)
    second.sync()
    q = unit(np.random.default_rng(9).normal(size=DIM))
    ids, cos = second.search(q, 5)
    assert ids.tolist() == _exact(vectors, q, 5)
    assert np.allclose(cos, [vectors[i] @ q for i in ids.tolist()], atol=1e-5)
    assert sum(reads) == len(vectors)  # everything came from SQLite
    second.close()
    assert path.stat().st_size == whole  # rewritten whole at the save
    catalog.close()


def test_closing_does_not_wait_for_a_background_build(tmp_path: Path) -> None:
    import threading

    catalog, _, _ = _library(tmp_path, 30)
    index = VectorIndex(catalog, "fake-model", tmp_path, background=True, hnsw_threshold=10)
    started, release = threading.Event(), threading.Event()

    def slow_build() -> None:
        started.set()
        release.wait(30)

    index._build_graph = slow_build  # type: ignore[method-assign]
    index.sync()
    assert started.wait(10)
    closed = threading.Event()
    threading.Thread(target=lambda: (index.close(), closed.set()), daemon=True).start()
    assert closed.wait(5)  # with the build still running
    release.set()
    catalog.close()


def test_a_one_shot_index_never_starts_a_graph_build(tmp_path: Path) -> None:
    catalog, _, _ = _library(tmp_path, 30)
    index = VectorIndex(catalog, "fake-model", tmp_path, background=True, hnsw_threshold=10, build_graph=False)
    index.sync()
    assert index.stats().mode == "exact" and index._builder is None
    index.close()
    catalog.close()


def test_a_one_shot_index_answers_exactly_without_loading_the_saved_graph(tmp_path: Path) -> None:
    catalog, _, vectors = _library(tmp_path, 40)
    full = VectorIndex(catalog, "fake-model", tmp_path, background=False, hnsw_threshold=10, vector_cache_min=1)
    full.sync()
    assert full.stats().mode == "hnsw"
    full.close()
    assert full.graph_path.is_file()
    one_shot = VectorIndex(catalog, "fake-model", tmp_path, background=False, hnsw_threshold=10,
                           build_graph=False, vector_cache_min=1)
    one_shot.sync()
    q = unit(np.random.default_rng(4).normal(size=DIM))
    ids, _ = one_shot.search(q, 5)
    assert one_shot.stats().mode == "exact" and ids.tolist() == _exact(vectors, q, 5)
    one_shot.close()
    catalog.close()
