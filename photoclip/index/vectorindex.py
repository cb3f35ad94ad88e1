"""The vector index of one model: an exact float32 matrix always, plus an HNSW graph for big libraries.

SQLite is the source of truth. Every vector written gets the model's next sequence number and every
vector deleted bumps it, so the index remembers the sequence it reflects and catches up by reading
only rows with a higher one (and dropping ids no longer stored).

Why two structures: one numpy matmul over a cached matrix is exact and, for small libraries, about as
fast as a graph query while costing no build time and no second copy of the vectors; past
``DEFAULT_HNSW_THRESHOLD`` photos the graph answers (bench/bench_index.py measures where the two
meet and which ``ef`` keeps recall at 1). The matrix also serves filtered queries whose passing
subset is small (a graph filtered down to a few percent has to wander far), the relevance sample,
and every query while a graph is being built in a background thread.

The graph is persisted next to the catalog as ``index-<model>.hnsw`` with ``index-<model>.json``
(sequence, count, parameters, CRC-32 of the graph file). Saves are atomic (temp file, fsync, rename).
A missing, stale, truncated or corrupt file is caught up or rebuilt from the stored vectors.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import hnswlib
import numpy as np

from photoclip.errors import CatalogError
from photoclip.index import hugepages, nearest, vector_cache
from photoclip.index.files import atomic_path, file_crc32, meta_fault, safe_name
from photoclip.index.matrix import Excluded, Matrix
from photoclip.store.catalog import Catalog

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Below this many vectors an exact scan beats the graph (see bench/bench_index.py).
DEFAULT_HNSW_THRESHOLD = 20_000
# A filtered query whose passing subset is this small is scanned exactly.
DEFAULT_SUBSET_EXACT_LIMIT = 20_000
# A graph walk needs ef >= k: asking for more than 1/EXACT_K_SHARE of the library (an album's rule
# ranks everything) costs more than one exact matmul over it.
EXACT_K_SHARE = 64
# A search adds at most this many changes to the graph itself; a larger backlog (another process
# indexed a batch of photos) is added on a background thread while searches are answered exactly.
GRAPH_CATCH_UP_INLINE = 2_000
# The catalog's own random id, written into each saved graph's metadata.
CATALOG_ID_KEY = "catalog_id"
# Rebuild the graph when this fraction of its slots hold deleted vectors.
REBUILD_DELETED_FRACTION = 0.25
# Save a caught-up graph again when at least this many rows changed since the saved copy.
SAVE_AFTER_CHANGES = 2_000
# Keep a memory-mappable copy of the vectors (index/vector_cache.py) from this many on.
DEFAULT_VECTOR_CACHE_MIN = 2_000


@dataclass(frozen=True)
class HnswParams:
    """Graph parameters. M=32 needs 2-3x less ef than M=16 at 1M vectors; ef_construction 400 builds
    about 1.9x slower than 200 (72 min for 1M on 2 cores, in the background) and lets text queries
    use ef 256 there where 200 needed 448."""

    M: int = 32  # the name every HNSW paper and library uses
    ef_construction: int = 400
    # Text queries sit far from the image cloud and need a wider search than image queries. With
    # ef_construction 400, ef 256 finds 99.4% of the exact top 10 at 1M (bench_index); ef_text_1m
    # lets a library tune ef to grow with log(count) past 100k when its graphs need it.
    ef_text: int = 256
    ef_text_1m: int = 256
    ef_image: int = 80
    build_threads: int = -1

    def text_ef(self, count: int) -> int:
        """ef for a text query over ``count`` vectors: ``ef_text`` up to 100k, growing with log(count)
        to ``ef_text_1m`` at a million (recall falls as the graph grows; search cost grows with ef)."""
        if count <= 100_000 or self.ef_text_1m <= self.ef_text:
            return self.ef_text
        growth = math.log10(count / 100_000)  # 0 at 100k, 1 at 1M
        return round(self.ef_text * (self.ef_text_1m / self.ef_text) ** growth)


@dataclass(frozen=True)
class IndexStats:
    mode: str  # "exact", "hnsw" or "building" (answering exactly while the graph is built)
    count: int
    seq: int
    graph_deleted: int
    build_error: str | None = None  # why the last background build failed, if it did


class VectorIndex:
    """Nearest-neighbour search over one model's stored vectors, kept in step with the catalog."""

    def __init__(self, catalog: Catalog, model_name: str, directory: str | os.PathLike[str], *,
                 hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
                 subset_exact_limit: int = DEFAULT_SUBSET_EXACT_LIMIT, exact_k_share: int = EXACT_K_SHARE,
                 params: HnswParams | None = None, background: bool = True, huge_pages: bool | None = None,
                 build_graph: bool = True, vector_cache_min: int = DEFAULT_VECTOR_CACHE_MIN) -> None:
        self.catalog = catalog
        self.model_name = model_name
        self.directory = Path(directory)
        self.hnsw_threshold = hnsw_threshold
        self.subset_exact_limit = subset_exact_limit
        self.exact_k_share = exact_k_share  # 0: never answer exactly because k is large
        self.params = params or HnswParams()
        self.background = background
        # Moving memory onto 2 MB pages collapses every big anonymous mapping of the process (Qt's and ONNX
        # Runtime's too), so it is opt-in: PHOTOCLIP_HUGE_PAGES=1, for very large libraries on Linux.
        self.huge_pages = hugepages.requested() if huge_pages is None else huge_pages
        # False in a one-shot process (a CLI search): it answers exactly from the mapped vectors, as
        # that costs less than checking and loading a saved graph, and never starts a build it would
        # not live to use.
        self.build_graph = build_graph
        self.vector_cache_min = vector_cache_min
        base = f"index-{safe_name(model_name)}"
        self.graph_path = self.directory / f"{base}.hnsw"
        self.meta_path = self.directory / f"{base}.json"
        self.vectors_path = self.directory / f"{base}.vectors"
        self._vectors_seq = -1  # the sequence the vector file reflects (-1: none usable)
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._matrix: Matrix | None = None
        self._seq = -1
        self._graph: hnswlib.Index | None = None
        self._graph_seq = -1  # the sequence the graph reflects
        self._graph_deleted = 0
        self._changes_since_save = 0
        self._builder: threading.Thread | None = None
        self._build_error: BaseException | None = None
        self._closed = False
        # What search() derived from the last read-only ``excluded`` array (see _excluded).
        self._excluded_key: tuple[np.ndarray, int] | None = None
        self._excluded_view: Excluded | None = None
        self.version = 0  # bumped on every change, so callers can refresh derived caches

    # -- keeping in step with the catalog -----------------------------------------------------

    def _model_row(self) -> tuple[int, int, int] | None:
        row = self.catalog.read().execute("SELECT id, dim, seq FROM models WHERE name=?",
                                          (self.model_name,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def _rows_since(self, model_id: int, dim: int, since: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.catalog.read().execute(
            "SELECT photo_id, seq, vector FROM embeddings WHERE model_id=? AND seq>? ORDER BY seq",
            (model_id, since)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        seqs = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), dim)
        return ids, seqs, vectors.astype(np.float32, copy=False)

    def sync(self) -> None:
        """Bring the index up to the catalog: cheap (one small query) when nothing changed."""
        with self._lock:
            if self._closed:
                raise CatalogError("the vector index is closed")
            model = self._model_row()
            if model is None:
                if self._matrix is None:
                    self._matrix = Matrix(0)
                return
            model_id, dim, seq = model
            if self._matrix is None or self._matrix.dim != dim:
                self._matrix = Matrix(dim)
                self._seq = -1
                self._load_vectors(model_id, dim, seq)
                if self.build_graph:
                    self._load_graph(dim)
            if seq != self._seq:
                self._catch_up(model_id, dim, seq)
            self._maybe_build()

    def _catch_up(self, model_id: int, dim: int, seq: int) -> None:
        ids, vectors, gone = self._catch_up_matrix(model_id, dim, seq)
        if self._graph is not None:
            if self.background and len(ids) + len(gone) > GRAPH_CATCH_UP_INLINE:
                self._resume_in_background(self._graph, self._graph_seq)
                return
            self._graph_apply(self._graph, ids, vectors, gone)
            self._graph_seq = self._seq

    def _catch_up_matrix(self, model_id: int, dim: int, seq: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read the rows newer than the matrix and drop the ids no longer stored; returns (ids, vectors, gone)."""
        matrix = self._matrix
        assert matrix is not None
        ids, seqs, vectors = self._rows_since(model_id, dim, max(self._seq, 0))
        if len(ids):
            matrix.upsert(ids, seqs, vectors)
        stored = self.catalog.read().execute("SELECT COUNT(*) FROM embeddings WHERE model_id=?",
                                             (model_id,)).fetchone()[0]
        gone = np.zeros(0, dtype=np.int64)
        if stored != matrix.count:
            present = self.catalog.read().execute(
                "SELECT photo_id FROM embeddings WHERE model_id=?", (model_id,)).fetchall()
            keep = np.fromiter((r[0] for r in present), dtype=np.int64, count=len(present))
            known = np.fromiter(matrix.row_of.keys(), dtype=np.int64, count=matrix.count)
            gone = np.setdiff1d(known, keep)
            matrix.delete(gone)
        self._seq = seq  # rows newer than this are read again next time; upserts are idempotent
        self.version += 1
        return ids, vectors, gone

    def _graph_apply(self, graph: hnswlib.Index, ids: np.ndarray, vectors: np.ndarray,
                     gone: np.ndarray) -> None:
        if len(ids):
            need = graph.element_count + len(ids)
            if need > graph.max_elements:
                graph.resize_index(max(need, int(graph.max_elements * 1.5)))
            graph.add_items(vectors, ids.astype(np.uint64), num_threads=self.params.build_threads)
        for pid in gone.tolist():
            try:
                graph.mark_deleted(pid)
                self._graph_deleted += 1
            except RuntimeError:
                pass  # never in the graph, or already deleted
        self._changes_since_save += len(ids) + len(gone)

    # -- the vector file: a mapped copy of the stored vectors -----------------------------------

    def _load_vectors(self, model_id: int, dim: int, seq: int) -> None:
        """Start the matrix from the vector file when it is usable; the catch-up reads only what is newer."""
        if not self.vectors_path.exists():
            return
        cached = vector_cache.read(self.vectors_path, catalog_id=self._catalog_identity(), model=self.model_name,
                                   dim=dim, max_seq=seq)
        if cached is None:
            return
        if not vector_cache.agrees(self.catalog.read(), model_id, cached):
            log.warning("the vector cache %s disagrees with the catalog; rebuilding it", self.vectors_path)
            return
        self._matrix = Matrix.from_cache(dim, cached)
        self._seq = self._vectors_seq = cached.seq
        self.version += 1

    def _save_vectors(self) -> None:
        """Rewrite the vector file when the matrix moved well past it (or it is missing). A cache: a
        failure is logged, never raised."""
        matrix = self._matrix
        if matrix is None or matrix.count < max(1, self.vector_cache_min) or self._seq < 0:
            return
        if self._vectors_seq >= 0 and self.vectors_path.exists():
            # rows the catch-up reads from SQLite at each start, and rows it drops
            changed = int(np.count_nonzero(matrix.seqs[matrix.live_rows()] > self._vectors_seq))
            if changed + (matrix.n - matrix.count) < SAVE_AFTER_CHANGES:
                return
        rows = matrix.live_rows()
        try:
            vector_cache.write(self.vectors_path, catalog_id=self._catalog_identity(), model=self.model_name,
                               dim=matrix.dim, seq=self._seq, ids=matrix.ids[rows], seqs=matrix.seqs[rows],
                               vectors=matrix.data[rows])
            self._vectors_seq = self._seq
        except (OSError, ValueError) as exc:
            log.warning("the vector cache could not be saved (%s); vectors are read from the catalog", exc)

    # -- the graph: loading, building, saving -------------------------------------------------

    def _load_graph(self, dim: int) -> None:
        """Load a saved graph if it is intact; its sequence tells _catch_up what it misses."""
        self._graph, self._graph_seq, self._graph_deleted = None, -1, 0
        meta = self._read_meta(dim)
        if meta is None:
            return
        graph = hnswlib.Index(space="ip", dim=dim)
        try:
            graph.load_index(str(self.graph_path), max_elements=meta["max_elements"])
        except (RuntimeError, MemoryError, ValueError) as exc:
            log.warning("the saved index %s cannot be loaded (%s); rebuilding it", self.graph_path, exc)
            return
        graph.set_num_threads(1)
        # The graph replays everything newer than its own sequence, then drops ids that left.
        self._graph, self._graph_seq = graph, meta["seq"]
        self._graph_deleted = meta["deleted"]
        model = self._model_row()
        matrix = self._matrix
        assert model is not None and matrix is not None
        self._catch_up_matrix(model[0], dim, int(model[2]))  # from the vector file when it was usable
        live = matrix.live_rows()
        labels = np.asarray(graph.get_ids_list(), dtype=np.int64)
        gone = np.setdiff1d(labels, matrix.ids[live])
        newer = live[matrix.seqs[live] > self._graph_seq]
        if self.background and len(newer) + len(gone) > GRAPH_CATCH_UP_INLINE:
            # Photos indexed by another process since the graph was saved: answer exactly meanwhile.
            self._resume_in_background(graph, self._graph_seq)
            return
        self._graph_apply(graph, matrix.ids[newer], matrix.data[newer], gone)
        self._graph_seq = self._seq
        self._on_huge_pages(graph)
        if self._changes_since_save >= SAVE_AFTER_CHANGES:
            self._try_save(graph, self._graph_seq, self._graph_deleted)

    def _read_meta(self, dim: int) -> dict | None:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("index metadata %s is unreadable (%s); rebuilding", self.meta_path, exc)
            return None
        expected = {"format": FORMAT_VERSION, "model": self.model_name, "dim": dim,
                    "M": self.params.M, "ef_construction": self.params.ef_construction,
                    "catalog": self._catalog_identity()}
        if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expected.items()):
            log.info("index %s was made with other settings; rebuilding", self.graph_path)
            return None
        fault = meta_fault(meta)
        if fault:
            log.warning("index metadata %s is damaged (%s); rebuilding", self.meta_path, fault)
            return None
        model = self._model_row()
        if model is None or meta["seq"] > int(model[2]):
            # Saved from a later state than this catalog has ever reached: a catalog restored from a
            # backup. Its vectors may sit under ids that now mean other photos.
            log.info("index %s is ahead of the catalog; rebuilding", self.graph_path)
            return None
        try:
            size = self.graph_path.stat().st_size
            if size != meta["size"] or file_crc32(self.graph_path) != meta["crc32"]:
                log.warning("index %s is truncated or corrupt; rebuilding", self.graph_path)
                return None
        except OSError:
            return None
        return meta

    def _save_graph(self, graph: hnswlib.Index, seq: int, deleted: int) -> None:
        """Write graph then metadata atomically; a crash between the two leaves a CRC mismatch."""
        with self._save_lock:  # a background build and close() may save at once: never mix their files
            self._write_graph(graph, seq, deleted)

    def _write_graph(self, graph: hnswlib.Index, seq: int, deleted: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.graph_path) as tmp:
            graph.save_index(str(tmp))
            size, crc = tmp.stat().st_size, file_crc32(tmp)
        meta = {"format": FORMAT_VERSION, "model": self.model_name, "catalog": self._catalog_identity(),
                "dim": graph.dim, "seq": seq,
                "count": graph.element_count - deleted, "deleted": deleted,
                "max_elements": graph.max_elements, "size": size, "crc32": crc,
                **{k: v for k, v in asdict(self.params).items() if k in ("M", "ef_construction")}}
        with atomic_path(self.meta_path) as tmp:
            tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")

    def _catalog_identity(self) -> str:
        """A random id kept in the catalog, so a graph saved for another (or a recreated) catalog is
        never trusted: ids restart at 1 there and would point at other photos."""
        identity = self.catalog.get_meta(CATALOG_ID_KEY)
        if identity is None:
            identity = uuid.uuid4().hex
            with self.catalog.write() as c:
                c.execute("INSERT OR IGNORE INTO meta(key, value) VALUES(?, ?)", (CATALOG_ID_KEY, identity))
            identity = self.catalog.get_meta(CATALOG_ID_KEY) or identity
        return identity

    def save(self) -> None:
        """Persist the graph if it has changes the saved copy lacks, and the vector file if it lags."""
        with self._lock:
            self._save_vectors()
            if self._graph is not None and (self._changes_since_save or not self.meta_path.exists()):
                self._try_save(self._graph, self._graph_seq, self._graph_deleted)

    def _try_save(self, graph: hnswlib.Index, seq: int, deleted: int) -> None:
        """The graph is a cache: failing to save it is logged and tried again later, never raised."""
        try:
            self._save_graph(graph, seq, deleted)
            self._changes_since_save = 0
        except OSError as exc:
            log.warning("the vector index could not be saved (%s); it will be rebuilt if still unsaved "
                        "at the next start", exc)

    def _maybe_build(self) -> None:
        matrix = self._matrix
        assert matrix is not None
        if (not self.build_graph or matrix.count < self.hnsw_threshold or self._builder is not None
                or self._build_error is not None):
            return  # after a failed build, stay exact rather than retry on every query
        graph = self._graph
        if graph is not None and self._graph_deleted <= REBUILD_DELETED_FRACTION * graph.element_count:
            return
        if self.background:
            self._builder = threading.Thread(target=self._build, name="photoclip-index-build", daemon=True)
            self._builder.start()
        else:
            self._build()

    def _build(self) -> None:
        self._in_background(self._build_graph, "building the vector index")

    def _in_background(self, work: Callable[[], None], what: str) -> None:
        """Run a graph build or catch-up; a failure is reported through stats() and exact search goes on."""
        try:
            work()
        except BaseException as exc:
            log.error("%s failed: %s", what, exc)
            self._build_error = exc
        finally:
            self._builder = None

    def _build_graph(self) -> None:
        """Build a fresh graph from a snapshot of the matrix, save it, then catch it up and swap it in."""
        with self._lock:
            matrix = self._matrix
            assert matrix is not None
            rows = matrix.live_rows()
            snap_ids = matrix.ids[rows].copy()
            snap_seq = self._seq
            dim = matrix.dim
        graph = hnswlib.Index(space="ip", dim=dim)
        graph.init_index(max_elements=max(int(len(rows) * 1.25), 1024), M=self.params.M,
                         ef_construction=self.params.ef_construction)
        for start in range(0, len(rows), 20_000):
            with self._lock:
                if self._closed:
                    return
                chunk = matrix.data[rows[start:start + 20_000]].copy()
            graph.add_items(chunk, snap_ids[start:start + 20_000].astype(np.uint64),
                            num_threads=self.params.build_threads)
        graph.set_num_threads(1)
        if self._closed:
            return
        # Saved before the swap, outside the lock, so queries keep flowing while it is written. A
        # failed save (disk full, read-only folder) costs the next start a rebuild, not this session
        # its graph: it is swapped in anyway and saving is tried again later.
        try:
            self._save_graph(graph, snap_seq, 0)
            unsaved = 0
        except OSError as exc:
            log.warning("the vector index could not be saved (%s); it is used anyway", exc)
            unsaved = SAVE_AFTER_CHANGES
        with self._lock:
            if self._closed or self._matrix is not matrix:
                return
            self._graph_deleted = 0
            self._changes_since_save = unsaved
            self._swap_in(graph, matrix, snap_ids, snap_seq)

    def _swap_in(self, graph: hnswlib.Index, matrix: Matrix, known_ids: np.ndarray, snap_seq: int) -> None:
        """With the lock held: add what changed since the snapshot the graph was made from, drop the
        ids that left since, and put the graph in service."""
        live = matrix.live_rows()
        newer = live[matrix.seqs[live] > snap_seq]
        gone = np.setdiff1d(known_ids, matrix.ids[live])
        self._graph_apply(graph, matrix.ids[newer], matrix.data[newer], gone)
        self._graph, self._graph_seq = graph, self._seq
        self.version += 1
        self._on_huge_pages(graph)

    def _on_huge_pages(self, graph: hnswlib.Index) -> None:
        """When a big graph goes into service, move it and the matrix onto huge pages in the background."""
        if self.huge_pages and graph.element_count * graph.dim * 4 >= hugepages.MIN_BYTES:
            hugepages.in_background()

    def _resume_in_background(self, graph: hnswlib.Index, graph_seq: int) -> None:
        """Take the graph out of service and bring it up to date on a thread of its own.

        Adding 100,000 vectors to a 1M graph takes minutes: a search must not wait for that when one
        exact scan answers in a fraction of a second. Called with the lock held.
        """
        self._graph = None
        if self._builder is not None:  # a full build is running; it catches up by itself
            return
        self._builder = threading.Thread(
            target=self._in_background, args=(lambda: self._resume(graph, graph_seq),
                                              "bringing the vector index up to date"),
            name="photoclip-index-catch-up", daemon=True)
        self._builder.start()

    def _resume(self, graph: hnswlib.Index, graph_seq: int) -> None:
        with self._lock:
            matrix = self._matrix
            assert matrix is not None
            live = matrix.live_rows()
            rows = live[matrix.seqs[live] > graph_seq]
            ids, vectors = matrix.ids[rows].copy(), matrix.data[rows].copy()
            live_ids = matrix.ids[live].copy()
            snap_seq = self._seq
        gone = np.setdiff1d(np.asarray(graph.get_ids_list(), dtype=np.int64), live_ids)
        # hnswlib reads -1 as one thread; the cores are asked for by number.
        graph.set_num_threads(self.params.build_threads if self.params.build_threads > 0 else os.cpu_count() or 1)
        self._graph_apply(graph, ids, vectors, gone)  # outside the lock: queries go on, exactly
        graph.set_num_threads(1)
        with self._lock:
            if self._closed or self._matrix is not matrix:
                return
            self._swap_in(graph, matrix, live_ids, snap_seq)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for a background build; True when no build is running any more."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return self._builder is None

    def stats(self) -> IndexStats:
        with self._lock:
            count = self._matrix.count if self._matrix else 0
            if self._graph is not None:
                mode = "hnsw"
            elif self._builder is not None:
                mode = "building"
            else:
                mode = "exact"
            error = str(self._build_error) if self._build_error is not None else None
            return IndexStats(mode, count, self._seq, self._graph_deleted, error)

    def close(self, *, wait: bool = False) -> None:
        """Stop using the index, saving the graph first if it changed since its last save.

        A running background build is not waited for unless ``wait``: it stops at its next chunk and
        a later start builds again, while a command that only searched exits at once.
        """
        with self._lock:
            if self._closed:
                return
            self.save()
            self._closed = True
        builder = self._builder
        if builder is not None and wait:
            builder.join()

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._matrix.count if self._matrix else 0

    @property
    def dim(self) -> int:
        return self._matrix.dim if self._matrix else 0

    def sample(self, n: int, *, seed: int = 0) -> np.ndarray:
        """Up to ``n`` stored vectors chosen at random (fixed seed): the relevance reference set."""
        with self._lock:
            matrix = self._matrix
            if matrix is None:
                return np.zeros((0, 0), dtype=np.float32)
            rows = matrix.live_rows()
            if len(rows) > n:
                rows = np.sort(np.random.default_rng(seed).choice(rows, n, replace=False))
            return matrix.data[rows].copy()

    def vectors_for(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of these photo ids, in their order, and a mask of the ids found."""
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            matrix = self._matrix
            if matrix is None or len(ids) == 0:
                return np.zeros((0, self.dim), dtype=np.float32), np.zeros(len(ids), dtype=bool)
            rows = [matrix.row_of.get(int(i)) for i in ids.tolist()]
            known = np.array([r is not None for r in rows], dtype=bool)
            found = np.array([r for r in rows if r is not None], dtype=np.int64)
            return matrix.data[found].copy(), known

    def search(self, query: np.ndarray, k: int, *, allowed: np.ndarray | None = None,
               excluded: np.ndarray | None = None, kind: str = "text") -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` stored vectors nearest to ``query`` (ids, cosines), best first.

        ``allowed`` restricts to those ids, ``excluded`` removes ids; fewer than ``k`` come back only
        when fewer than ``k`` ids pass.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        with self._lock:
            matrix = self._matrix
            if matrix is None or matrix.count == 0 or k <= 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if len(q) != matrix.dim:
                raise ValueError(f"query has {len(q)} dimensions, the index {matrix.dim}")
            excluded = excluded if excluded is not None and len(excluded) else None
            if allowed is not None:
                if excluded is not None:
                    allowed = np.setdiff1d(allowed, excluded)
                rows = matrix.rows_for(np.unique(allowed))
                if self._graph is None or len(rows) <= self.subset_exact_limit or k * self.exact_k_share >= len(rows):
                    return nearest.exact(matrix, q, k, rows=rows)
                return nearest.graph(self._graph, matrix, q, k, self._ef(kind, matrix), rows=rows)
            held = self._excluded(matrix, excluded) if excluded is not None else None
            if self._graph is None or k * self.exact_k_share >= matrix.count:
                return nearest.exact(matrix, q, k, held=held)
            return nearest.graph(self._graph, matrix, q, k, self._ef(kind, matrix), held=held)

    def _ef(self, kind: str, matrix: Matrix) -> int:
        return self.params.ef_image if kind == "image" else self.params.text_ef(matrix.count)

    def _excluded(self, matrix: Matrix, excluded: np.ndarray) -> Excluded:
        """The excluded ids this index holds, their rows and a by-id mask; kept while the same
        read-only array comes back and the index did not change (the library's hidden photos)."""
        key = self._excluded_key
        # A new matrix always comes with a new version (sync catches it up from nothing).
        if key is not None and key[0] is excluded and key[1] == self.version and self._excluded_view is not None:
            return self._excluded_view
        rows = matrix.rows_for(excluded)
        view = Excluded(excluded, rows, np.sort(matrix.ids[rows]))
        if not excluded.flags.writeable:  # a writable array could change under the same identity
            self._excluded_key, self._excluded_view = (excluded, self.version), view
        return view
