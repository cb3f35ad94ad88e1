"""What the first full duplicates pass costs on a large library, and what one new photo's check costs.

    python bench/bench_duplicates.py [--sizes 10000 100000] [--dim 512]

Fills a temporary catalog per size with synthetic photos: random perceptual hashes and unit vectors,
camera dates spread over ten years, and planted copies (2% of photos get a copy with up to 10 hash
bits flipped and a nearby vector; 1% share their catalog hash with a byte copy; 2% are frames of
bursts a second apart). Prints the time of ``full_pass`` (identical, same picture, similar shots,
confirmed by vectors and recorded) and of checking 100 new photos one batch at a time, and checks
that every planted copy was found.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoclip.imaging import phash as ph
from photoclip.organize import duplicates_find, duplicates_pass
from photoclip.store.catalog import Catalog, vector_to_blob

MODEL = "synthetic"


def nudge(v: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A vector near ``v``: noise of ``amount`` times its length."""
    noise = rng.standard_normal(len(v)).astype(np.float32)
    return v + amount * noise * np.linalg.norm(v) / np.linalg.norm(noise)


def fill(catalog: Catalog, folder: Path, n: int, dim: int, rng: np.random.Generator) -> dict[str, set]:
    """Insert ``n`` photos; returns the planted pairs by kind, as (a, b) id tuples."""
    hashes = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=n, dtype=np.int64)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    digests = [f"h{i}" for i in range(n)]
    start = datetime(2015, 1, 1)
    times = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 10 * 365 * 86400, size=n)]
    planted: dict[str, set] = {"identical": set(), "same": set(), "similar": set()}
    ids = np.arange(1, n + 1)
    picks = rng.permutation(n)
    n_same, n_ident, n_burst = n // 50, n // 100, n // 50
    changed = n_same + n_ident + n_burst
    sources = picks[changed:]  # copies are made of photos left as they are, so no planted pair is undone
    for k in picks[:n_same]:
        src = int(rng.choice(sources))
        flips = rng.choice(64, size=int(rng.integers(0, 11)), replace=False)
        mask = sum(1 << int(b) for b in flips)
        hashes[k] = ph.to_signed((int(hashes[src]) & ((1 << 64) - 1)) ^ mask)
        vectors[k] = nudge(vectors[src], 0.1, rng)
        planted["same"].add((min(ids[k], ids[src]), max(ids[k], ids[src])))
    for k in picks[n_same:n_same + n_ident]:
        src = int(rng.choice(sources))
        digests[k] = digests[src]
        planted["identical"].add((min(ids[k], ids[src]), max(ids[k], ids[src])))
    for k in picks[n_same + n_ident:n_same + n_ident + n_burst]:
        src = int(rng.choice(sources))
        times[k] = times[src] + timedelta(seconds=1)
        vectors[k] = nudge(vectors[src], 0.2, rng)
        planted["similar"].add((min(ids[k], ids[src]), max(ids[k], ids[src])))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Byte copies are real files (the full-file hash is read); the other photos need no file.
    files: set[int] = set()
    for a, b in planted["identical"]:
        files.update((a, b))
    folder_row = catalog.add_folder(folder)
    model_id = catalog.model_id(MODEL, dim)
    now = time.time()
    with catalog.write() as c:
        c.executemany(
            "INSERT INTO photos(id, folder_id, path, size, mtime_ns, content_hash, width, height, format, taken_at, "
            "taken_at_source, state, added_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(int(ids[k]), folder_row.id, str(folder / f"p{k:07d}.jpg"), 1000, 1, digests[k], 4000, 3000, "jpeg",
              times[k].isoformat(), "exif", "ok", now, now) for k in range(n)])
        duplicates_find.store_hashes(c, [(int(ids[k]), digests[k], int(hashes[k])) for k in range(n)])
        c.executemany("INSERT INTO embeddings(photo_id, model_id, content_hash, seq, vector) VALUES(?,?,?,?,?)",
                      [(int(ids[k]), model_id, digests[k], k + 1, vector_to_blob(vectors[k])) for k in range(n)])
    for pid in files:
        (folder / f"p{pid - 1:07d}.jpg").write_bytes(digests[pid - 1].encode())
    return planted


def run(size: int, dim: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp) / "catalog.sqlite3")
        photos = Path(tmp) / "photos"
        photos.mkdir()
        t = time.perf_counter()
        planted = fill(catalog, photos, size, dim, rng)
        filled = time.perf_counter() - t
        t = time.perf_counter()
        pairs = duplicates_pass.full_pass(catalog, MODEL)
        full = time.perf_counter() - t
        found = {(p.a, p.b): p.kind for p in pairs}
        missed = {k: sum(1 for pair in v if found.get(pair) != k) for k, v in planted.items()}
        # New photos, each checked as the indexer would: index lookups, never the whole library.
        new_ids = list(range(size - 99, size + 1))
        t = time.perf_counter()
        for start in range(0, len(new_ids), 8):
            duplicates_find.check_photos(catalog, new_ids[start:start + 8], MODEL)
        incremental = time.perf_counter() - t
        catalog.close()
    print(f"{size:>7} photos  fill {filled:6.1f} s  full pass {full:6.2f} s  pairs {len(pairs):>6}  "
          f"check 100 new {incremental * 1000:7.1f} ms  missed planted {missed}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} cores")
    for size in args.sizes:
        run(size, args.dim, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
