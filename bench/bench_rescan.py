"""Rescan cost of an unchanged library: 10,000 small photo files in nested folders.

A rescan must only list and stat: it compares size and mtime with the catalog and hashes nothing.
Usage: python bench/bench_rescan.py [--files N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from photoclip.ingest import scanner
from photoclip.store.catalog import Catalog


def tiny_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 80, 40)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def make_tree(root: Path, n: int) -> None:
    """n copies of a tiny JPEG, 100 per folder, two levels deep; each copy differs by a trailing byte."""
    data = tiny_jpeg()
    for i in range(n):
        folder = root / f"year{i // 2000}" / f"event{i // 100:03}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"IMG_{i:05}.jpg").write_bytes(data + i.to_bytes(4, "little"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="photoclip-rescan-"))
    photos = work / "photos"
    hashes = 0
    real_hash = scanner.content_hash

    def counting_hash(path, size=None):  # type: ignore[no-untyped-def]
        nonlocal hashes
        hashes += 1
        return real_hash(path, size)

    scanner.content_hash = counting_hash
    try:
        if not photos.exists():
            t = time.monotonic()
            make_tree(photos, args.files)
            print(f"created {args.files} files in {time.monotonic() - t:.1f} s")
        catalog_path = work / "catalog.sqlite3"
        for leftover in work.glob("catalog.sqlite3*"):
            leftover.unlink()
        with Catalog(catalog_path) as catalog:
            catalog.add_folder(photos)
            t = time.monotonic()
            first = scanner.scan(catalog)
            first_s = time.monotonic() - t
            print(f"first scan: {first.added} added, {hashes} hashed in {first_s:.2f} s")

            hashes = 0
            t0, c0 = time.monotonic(), time.process_time()
            again = scanner.scan(catalog)
            wall, cpu = time.monotonic() - t0, time.process_time() - c0
            print(f"rescan of the unchanged library: {again.unchanged} unchanged, {hashes} hashed, "
                  f"{wall:.3f} s wall, {cpu:.3f} s CPU ({again.unchanged / wall:,.0f} files/s)")
            ok = hashes == 0 and again.unchanged == args.files and not again.touched
            print("PASS: nothing rehashed" if ok else "FAIL: an unchanged rescan did work it should not")
            return 0 if ok else 1
    finally:
        scanner.content_hash = real_hash
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
