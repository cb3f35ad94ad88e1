"""The vector index: exact and HNSW search, filters, persistence, catching up and rebuilding."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import hnswlib
import numpy as np
import pytest

from photoclip.index.vectorindex import HnswParams, VectorIndex
from photoclip.store.catalog import Catalog

MODEL = "bench-model"
DIM = 16
SMALL = HnswParams(M=16, ef_construction=100, ef_text=64, ef_image=64, build_threads=1)


def unit_rows(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def fill(catalog: Catalog, folder_id: int, vectors: np.ndarray, start: int = 0) -> list[int]:
    """Insert photos with these vectors in one transaction, as the indexer would."""
    now = time.time()
    ids = []
    model_id = catalog.model_id(MODEL, vectors.shape[1])
    with catalog.write() as c:
        for i, _ in enumerate(vectors):
            cur = c.execute(
                "INSERT INTO photos(folder_id, path, size, mtime_ns, content_hash, format, state, added_at, "
                "updated_at) VALUES(?,?,?,?,?,?,?,?,?)",
                (folder_id, f"/photos/p{start + i:05d}.jpg", 1, 1, f"h{start + i}", "jpeg", "ok", now, now))
            ids.append(cur.lastrowid)
        catalog.put_embeddings(c, model_id, [(pid, f"h{pid}", v) for pid, v in zip(ids, vectors, strict=True)])
    return ids


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    cat.add_folder(tmp_path / "photos")
    yield cat
    cat.close()


def brute(ids: list[int], vectors: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(vectors @ q), kind="stable")[:k]
    return [ids[i] for i in order]


def make_index(catalog: Catalog, tmp_path: Path, **kw) -> VectorIndex:
    opts = {"hnsw_threshold": 100, "subset_exact_limit": 10, "exact_k_share": 0, "params": SMALL,
            "background": False}
    opts.update(kw)
    return VectorIndex(catalog, MODEL, tmp_path / "lib", **opts)


def test_exact_search_matches_brute_force_and_honours_excluded(catalog, tmp_path):
    vecs = unit_rows(50, 1)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path, hnsw_threshold=1000)
    index.sync()
    assert index.stats().mode == "exact"
    q = unit_rows(1, 2)[0]
    got, cos = index.search(q, 5)
    assert got.tolist() == brute(ids, vecs, q, 5)
    assert np.all(np.diff(cos) <= 1e-6)
    best = got[0]
    got2, _ = index.search(q, 5, excluded=np.array([best]))
    assert best not in got2 and len(got2) == 5
    assert not index.graph_path.exists()  # exact mode keeps nothing on disk


def test_graph_search_has_high_recall_and_is_saved(catalog, tmp_path):
    vecs = unit_rows(400, 3)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path)
    index.sync()
    assert index.stats().mode == "hnsw"
    queries = unit_rows(30, 4)
    found = sum(len(set(index.search(q, 10)[0].tolist()) & set(brute(ids, vecs, q, 10))) for q in queries)
    assert found / (30 * 10) >= 0.95
    meta = json.loads(index.meta_path.read_text())
    assert meta["count"] == 400 and meta["seq"] == catalog.model_seq(MODEL)
    assert meta["size"] == index.graph_path.stat().st_size


@pytest.mark.parametrize("n_allowed", [3, 8, 30, 250])
def test_filtered_graph_search_never_returns_fewer_than_exist(catalog, tmp_path, n_allowed):
    vecs = unit_rows(400, 5)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path)
    index.sync()
    rng = np.random.default_rng(n_allowed)
    allowed = np.sort(rng.choice(np.array(ids), n_allowed, replace=False))
    pos = {pid: i for i, pid in enumerate(ids)}
    sub = vecs[[pos[a] for a in allowed]]
    for q in unit_rows(5, 6):
        got, _ = index.search(q, 20, allowed=allowed)
        assert len(got) == min(20, n_allowed)
        assert set(got.tolist()) <= set(allowed.tolist())
        expected = brute(allowed.tolist(), sub, q, 20)
        assert len(set(got.tolist()) & set(expected)) >= 0.9 * len(expected)


def test_graph_search_skips_excluded_ids_and_still_fills_k(catalog, tmp_path):
    vecs = unit_rows(300, 7)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path)
    index.sync()
    q = vecs[0]
    excluded = np.array(brute(ids, vecs, q, 15))  # the 15 nearest are all excluded
    got, _ = index.search(q, 10, excluded=excluded)
    assert len(got) == 10 and not set(got.tolist()) & set(excluded.tolist())
    many = np.array(ids[:200])
    got, _ = index.search(q, 10, excluded=many)
    assert len(got) == 10 and not set(got.tolist()) & set(many.tolist())


def test_asking_for_a_large_share_of_the_library_scans_exactly(catalog, tmp_path, monkeypatch):
    """An album rule ranks every photo: a graph walk with ef >= k would cost more and could miss some."""
    vecs = unit_rows(400, 11)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path, exact_k_share=64)
    index.sync()
    assert index.stats().mode == "hnsw"
    walks: list[int] = []
    real = hnswlib.Index.knn_query

    def counting(self, *a, **kw):  # type: ignore[no-untyped-def]
        walks.append(kw.get("k", 1))
        return real(self, *a, **kw)
    monkeypatch.setattr(hnswlib.Index, "knn_query", counting)
    q = unit_rows(1, 12)[0]
    got, _ = index.search(q, 5)  # 5 * 64 < 400: the graph answers
    assert walks == [5]
    got, _ = index.search(q, 400)
    assert walks == [5] and got.tolist() == brute(ids, vecs, q, 400)
    allowed = np.array(ids[:300])
    got, _ = index.search(q, 100, allowed=allowed)
    assert walks == [5] and got.tolist() == brute(ids[:300], vecs[:300], q, 100)


def test_saved_graph_is_reused_without_rebuilding(catalog, tmp_path, monkeypatch):
    fill(catalog, 1, unit_rows(200, 8))
    make_index(catalog, tmp_path).sync()
    stamp = index_files_mtime(tmp_path)

    def no_build(self):
        raise AssertionError("the saved graph should have been loaded")

    monkeypatch.setattr(VectorIndex, "_build", no_build)
    again = make_index(catalog, tmp_path)
    again.sync()
    assert again.stats().mode == "hnsw"
    assert index_files_mtime(tmp_path) == stamp


def index_files_mtime(tmp_path: Path) -> list[int]:
    return [p.stat().st_mtime_ns for p in sorted((tmp_path / "lib").glob("index-*"))]


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip", "meta"])
def test_missing_or_damaged_graph_is_rebuilt(catalog, tmp_path, damage):
    vecs = unit_rows(200, 9)
    ids = fill(catalog, 1, vecs)
    first = make_index(catalog, tmp_path)
    first.sync()
    path = first.graph_path
    if damage == "delete":
        path.unlink()
    elif damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif damage == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        first.meta_path.write_text("{not json")
    index = make_index(catalog, tmp_path)
    index.sync()
    assert index.stats().mode == "hnsw"
    q = vecs[17]
    assert index.search(q, 1)[0].tolist() == [ids[17]]
    assert json.loads(index.meta_path.read_text())["size"] == path.stat().st_size


def test_changes_behind_the_saved_graph_are_caught_up(catalog, tmp_path):
    vecs = unit_rows(200, 10)
    ids = fill(catalog, 1, vecs)
    make_index(catalog, tmp_path).sync()
    # Behind the index's back: 150 new photos (past max_elements) and two removed photos.
    new_vecs = unit_rows(150, 11)
    new_ids = fill(catalog, 1, new_vecs, start=1000)
    with catalog.write() as c:
        c.execute("DELETE FROM photos WHERE id IN (?, ?)", (ids[0], ids[1]))
    index = make_index(catalog, tmp_path)
    index.sync()
    assert index.stats().mode == "hnsw" and len(index) == 348
    assert index.search(new_vecs[42], 1)[0].tolist() == [new_ids[42]]
    got = index.search(vecs[0], 10)[0].tolist()
    assert ids[0] not in got and ids[1] not in got


def test_live_index_follows_additions_replacements_and_removals(catalog, tmp_path):
    vecs = unit_rows(150, 12)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path)
    index.sync()
    target = unit_rows(1, 13)[0]
    model_id = catalog.model_id(MODEL)
    with catalog.write() as c:
        catalog.put_embeddings(c, model_id, [(ids[5], "changed", target)])
        c.execute("DELETE FROM photos WHERE id=?", (ids[6],))
    index.sync()
    assert index.search(target, 1)[0].tolist() == [ids[5]]
    assert ids[6] not in index.search(vecs[6], 5)[0].tolist()
    assert len(index) == 149


def test_save_is_atomic_when_the_rename_fails(catalog, tmp_path, monkeypatch):
    fill(catalog, 1, unit_rows(150, 14))
    index = make_index(catalog, tmp_path)
    index.sync()
    before = index.graph_path.read_bytes(), index.meta_path.read_bytes()
    fill(catalog, 1, unit_rows(10, 15), start=500)
    index.sync()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    index.save()  # the graph is a cache: a failed save is logged and tried again later
    monkeypatch.undo()
    assert (index.graph_path.read_bytes(), index.meta_path.read_bytes()) == before
    assert sorted(p.name for p in (tmp_path / "lib").glob("*index-*")) == [
        index.graph_path.name, index.meta_path.name]
    index.save()
    assert json.loads(index.meta_path.read_text())["count"] == 160


def test_background_build_answers_exactly_meanwhile(catalog, tmp_path):
    vecs = unit_rows(300, 16)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path, background=True)
    index.sync()
    q = vecs[3]
    assert index.search(q, 3)[0].tolist() == brute(ids, vecs, q, 3)
    assert index.wait_ready(30)
    index.sync()
    assert index.stats().mode == "hnsw"
    assert index.search(q, 1)[0].tolist() == [ids[3]]
    index.close()


def test_empty_or_unknown_model_gives_no_results(catalog, tmp_path):
    index = make_index(catalog, tmp_path)
    index.sync()
    ids, cos = index.search(unit_rows(1, 0)[0], 10)
    assert len(ids) == 0 and len(cos) == 0


def test_failed_build_keeps_answering_exactly(catalog, tmp_path, monkeypatch):
    vecs = unit_rows(150, 17)
    ids = fill(catalog, 1, vecs)

    def out_of_memory(self, *args, **kwargs):
        raise MemoryError("no room for the graph")

    monkeypatch.setattr(hnswlib.Index, "add_items", out_of_memory)
    index = make_index(catalog, tmp_path)
    index.sync()
    stats = index.stats()
    assert stats.mode == "exact" and "no room" in (stats.build_error or "")
    assert index.search(vecs[9], 2)[0].tolist() == brute(ids, vecs, vecs[9], 2)
    assert not index.graph_path.exists()


def test_text_queries_search_wider_as_the_library_grows() -> None:
    """Recall falls as a graph grows: ef for text queries can rise with log(count) to its 1M value."""
    assert HnswParams().text_ef(1_000_000) >= 256, "the default measured 0.994 recall@10 at 1M with ef 256"
    p = HnswParams(ef_text=128, ef_text_1m=256)
    sizes = [20_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000]
    efs = [p.text_ef(n) for n in sizes]
    assert efs[0] == efs[1] == p.ef_text and efs[4] == p.ef_text_1m
    assert efs == sorted(efs) and efs[2] < efs[3] < efs[4] < efs[5]


def test_a_graph_saved_for_another_catalog_is_not_trusted(tmp_path):
    """The library was reset (catalog deleted, index files left): ids restart and mean other photos."""
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    cat.add_folder(tmp_path / "photos")
    fill(cat, 1, unit_rows(600, 1))
    first = make_index(cat, tmp_path)
    first.sync()
    first.close()
    cat.close()
    for f in (tmp_path / "lib").glob("catalog.sqlite3*"):
        f.unlink()
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    cat.add_folder(tmp_path / "photos")
    vecs = unit_rows(500, 42)
    ids = fill(cat, 1, vecs)
    index = make_index(cat, tmp_path)
    index.sync()
    assert index.stats().mode == "hnsw"
    for j in (0, 7, 99):
        got, _ = index.search(vecs[j], 5)
        assert got[0] == ids[j]
        assert len(set(got.tolist()) & set(brute(ids, vecs, vecs[j], 5))) >= 4
    cat.close()


def test_a_graph_that_cannot_be_saved_is_still_used(catalog, tmp_path, monkeypatch):
    import errno

    fill(catalog, 1, unit_rows(300, 1))

    def disk_full(self, *a):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(VectorIndex, "_save_graph", disk_full)
    index = make_index(catalog, tmp_path, background=True)
    index.sync()
    index.wait_ready()
    assert index.stats().mode == "hnsw" and index.stats().build_error is None
    index.close()  # the last save fails too: logged, not raised
    monkeypatch.undo()
    index = make_index(catalog, tmp_path)
    index.sync()
    assert index.stats().mode == "hnsw"


def test_a_large_backlog_is_added_to_the_graph_in_the_background(catalog, tmp_path, monkeypatch):
    """Another process indexed many photos since the graph was saved: searches answer exactly at once."""
    from photoclip.index import vectorindex

    monkeypatch.setattr(vectorindex, "GRAPH_CATCH_UP_INLINE", 50)
    first = unit_rows(300, 21)
    ids = fill(catalog, 1, first)
    saved = make_index(catalog, tmp_path)
    saved.sync()  # built and saved
    saved.close()
    more = unit_rows(200, 22)
    ids += fill(catalog, 1, more, start=300)
    vecs = np.vstack([first, more])

    index = make_index(catalog, tmp_path, background=True)
    added = []
    real_apply = VectorIndex._graph_apply

    def slow_apply(self, graph, new_ids, vectors, gone):  # type: ignore[no-untyped-def]
        if len(new_ids) > 50:
            added.append(len(new_ids))
            time.sleep(0.5)  # long enough to search meanwhile
        return real_apply(self, graph, new_ids, vectors, gone)
    monkeypatch.setattr(VectorIndex, "_graph_apply", slow_apply)
    q = more[0]
    started = time.monotonic()
    index.sync()  # what every search through the Searcher does first
    got, _ = index.search(q, 5)
    assert time.monotonic() - started < 0.4  # did not wait for the graph
    assert got.tolist() == brute(ids, vecs, q, 5)  # exact meanwhile, new photos included
    assert index.stats().mode == "building"
    assert index.wait_ready(10)
    assert added == [200] and index.stats().mode == "hnsw"
    found = sum(len(set(index.search(v, 10)[0].tolist()) & set(brute(ids, vecs, v, 10))) for v in more[:20])
    assert found / 200 >= 0.95
    index.close()


def test_two_saves_at_once_never_interleave_their_files(catalog, tmp_path, monkeypatch):
    """A background build saving its graph while close() saves the old one: one after the other."""
    import threading

    fill(catalog, 1, unit_rows(150, 31))
    index = make_index(catalog, tmp_path)
    index.sync()
    active, overlaps = [0], [0]
    real = VectorIndex._write_graph

    def slow_write(self, graph, seq, deleted):  # type: ignore[no-untyped-def]
        active[0] += 1
        overlaps[0] = max(overlaps[0], active[0])
        time.sleep(0.1)
        real(self, graph, seq, deleted)
        active[0] -= 1
    monkeypatch.setattr(VectorIndex, "_write_graph", slow_write)
    graph = index._graph
    savers = [threading.Thread(target=index._save_graph, args=(graph, index._seq, 0)) for _ in range(3)]
    for t in savers:
        t.start()
    for t in savers:
        t.join()
    assert overlaps[0] == 1
    monkeypatch.undo()
    assert make_index(catalog, tmp_path)._read_meta(DIM) is not None  # the files on disk agree


class _Spy:
    """Stands in for the hnswlib graph and records whether a query went through a Python filter."""

    def __init__(self, graph: hnswlib.Index) -> None:
        self._graph, self.filtered = graph, 0

    def knn_query(self, *args, **kw):  # type: ignore[no-untyped-def]
        if kw.get("filter") is not None:
            self.filtered += 1
        return self._graph.knn_query(*args, **kw)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._graph, name)


def read_only(ids) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.sort(np.asarray(ids, dtype=np.int64))
    out.flags.writeable = False
    return out


def synced_graph(catalog: Catalog, tmp_path: Path, n: int, seed: int) -> tuple[np.ndarray, list[int], VectorIndex]:
    vecs = unit_rows(n, seed)
    ids = fill(catalog, 1, vecs)
    index = make_index(catalog, tmp_path)
    index.sync()
    assert index.stats().mode == "hnsw"
    return vecs, ids, index


def best_of_the_rest(ids: list[int], vecs: np.ndarray, excluded: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    pos = {pid: i for i, pid in enumerate(ids)}
    live = sorted(set(ids) - set(excluded.tolist()))
    return brute(live, vecs[[pos[p] for p in live]], q, k)


def test_most_of_the_library_excluded_is_answered_without_a_filter_callback(catalog, tmp_path):
    """An unplugged drive holding 80% of the photos: one plain walk, the excluded dropped after."""
    vecs, ids, index = synced_graph(catalog, tmp_path, 2000, 11)
    spy = _Spy(index._graph)
    index._graph = spy
    rng = np.random.default_rng(12)
    excluded = read_only(rng.choice(np.array(ids), 1600, replace=False))
    found = 0
    for q in unit_rows(20, 13):
        got, cos = index.search(q, 10, excluded=excluded)
        assert len(got) == 10 and not set(got.tolist()) & set(excluded.tolist())
        assert np.all(np.diff(cos) <= 1e-6)
        found += len(set(got.tolist()) & set(best_of_the_rest(ids, vecs, excluded, q, 10)))
    assert found / 200 >= 0.9
    assert spy.filtered <= 1, "a random 80% exclusion must not go through the per-candidate callback"


def test_excluded_photos_crowding_the_top_still_give_the_exact_best_of_the_rest(catalog, tmp_path):
    """The query matches what is on the unplugged drive: its 300 best are all excluded."""
    vecs, ids, index = synced_graph(catalog, tmp_path, 2000, 14)
    q = vecs[0]
    excluded = read_only(brute(ids, vecs, q, 300))
    got, _ = index.search(q, 10, excluded=excluded)
    assert len(got) == 10 and not set(got.tolist()) & set(excluded.tolist())
    expected = best_of_the_rest(ids, vecs, excluded, q, 10)
    assert len(set(got.tolist()) & set(expected)) >= 9


def test_an_exclusion_list_reused_across_changes_still_excludes_new_vectors(catalog, tmp_path):
    """The index keeps what it derived from a read-only exclusion list, but not across changes:
    a photo excluded before its vector arrived must stay out once it has one."""
    _, _, index = synced_graph(catalog, tmp_path, 400, 15)
    newcomer_vec = unit_rows(1, 16)
    next_id = catalog.read().execute("SELECT MAX(id) FROM photos").fetchone()[0] + 1
    excluded = read_only([1, 2, 3, next_id])
    for exact in (False, True):
        index.exact_k_share = 10_000 if exact else 0  # the exact scan and the graph walk alike
        got, _ = index.search(newcomer_vec[0], 5, excluded=excluded)
        assert not set(got.tolist()) & {1, 2, 3}
    [newcomer] = fill(catalog, 1, newcomer_vec, start=400)
    assert newcomer == next_id
    index.sync()
    for exact in (False, True):
        index.exact_k_share = 10_000 if exact else 0
        got, _ = index.search(newcomer_vec[0], 5, excluded=excluded)
        assert newcomer not in got.tolist() and len(got) == 5


def test_huge_pages_are_opt_in(tmp_path, monkeypatch) -> None:
    """Collapsing memory reaches the whole process (Qt, ONNX Runtime), so only an explicit request turns it on."""
    from photoclip.index.vectorindex import VectorIndex
    from photoclip.store.catalog import Catalog

    catalog = Catalog(tmp_path / "c.sqlite3")
    monkeypatch.delenv("PHOTOCLIP_HUGE_PAGES", raising=False)
    assert VectorIndex(catalog, "m", tmp_path).huge_pages is False
    monkeypatch.setenv("PHOTOCLIP_HUGE_PAGES", "1")
    assert VectorIndex(catalog, "m", tmp_path).huge_pages is True
    assert VectorIndex(catalog, "m", tmp_path, huge_pages=False).huge_pages is False
    catalog.close()


@pytest.mark.parametrize("damage", [{"seq": "abc"}, {"seq": None}, {"max_elements": None},
                                    {"max_elements": -5}, {"max_elements": 3}, {"deleted": "x"},
                                    {"deleted": -1}, {"seq": 1.5}, {"size": "big"}, {"crc32": []},
                                    {"seq": True}])
def test_a_malformed_metadata_field_means_rebuild(catalog, tmp_path, damage):
    """Each field of the metadata file is checked: any damage makes the cache rebuild, never fail a search."""
    vecs = unit_rows(200, 21)
    ids = fill(catalog, 1, vecs)
    first = make_index(catalog, tmp_path)
    first.sync()
    first.close()
    meta = json.loads(first.meta_path.read_text())
    for key, value in damage.items():
        if value is None:
            del meta[key]
        else:
            meta[key] = value
    first.meta_path.write_text(json.dumps(meta))
    index = make_index(catalog, tmp_path)
    index.sync()
    assert index.search(vecs[5], 1)[0].tolist() == [ids[5]]
    assert index.stats().mode == "hnsw"
    repaired = json.loads(index.meta_path.read_text())
    assert isinstance(repaired["seq"], int) and repaired["max_elements"] >= 200
