"""Time what the indexer pays per photo to get a model-sized image.

Compares a full decode plus resize against the reduced decode of ``load_image(min_side=...)`` on
generated 12 MP JPEGs (noise-textured so they compress like real photos), and a HEIC full decode
against its embedded thumbnail. Run: ``python bench/bench_decode.py [--heic-size 4032x3024]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from photoclip.imaging import load_image, thumbnail  # noqa: E402
from tests.corpus import make_image  # noqa: E402


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm the page cache and the codecs
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs), min(runs)


def _full_decode_resize(path: Path, min_side: int) -> Image.Image:
    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = min_side / min(im.size)
        return im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BICUBIC)


def _report(label: str, median_ms: float, best_ms: float) -> None:
    print(f"  {label:<44} median {median_ms:7.1f} ms   best {best_ms:7.1f} ms")


def bench_jpeg(folder: Path, repeat: int, min_side: int) -> None:
    for size in ((4000, 3000), (6000, 4000)):
        path = make_image(folder / f"photo_{size[0]}x{size[1]}.jpg", "jpeg", size, (120, 140, 110),
                          noise=10, quality=92)
        mb = path.stat().st_size / 1e6
        print(f"JPEG {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.0f} MP), file {mb:.1f} MB")
        _report(f"full decode + resize to {min_side}", *_time(lambda p=path: _full_decode_resize(p, min_side), repeat))
        _report(f"load_image(min_side={min_side})", *_time(lambda p=path: load_image(p, min_side), repeat))
        _report("load_image() full", *_time(lambda p=path: load_image(p), max(1, repeat // 2)))
        _report("thumbnail(256)", *_time(lambda p=path: thumbnail(p, 256), repeat))
        out, _ = load_image(path, min_side)
        print(f"  reduced size returned: {out.size[0]}x{out.size[1]}")


def bench_heic(folder: Path, repeat: int, size: tuple[int, int], min_side: int) -> None:
    path = folder / "photo.heic"
    start = time.perf_counter()
    make_image(path, "heic", size, (120, 140, 110), noise=4, quality=80, heic_thumbnails=(320,))
    encode_s = time.perf_counter() - start
    print(f"HEIC {size[0]}x{size[1]}, file {path.stat().st_size / 1e6:.2f} MB, encoded in {encode_s:.1f} s,"
          " embedded thumbnail 320 px")
    _report("load_image() full decode", *_time(lambda: load_image(path), repeat))
    _report(f"load_image(min_side={min_side}) via thumbnail", *_time(lambda: load_image(path, min_side), repeat))
    out, _ = load_image(path, min_side)
    print(f"  reduced size returned: {out.size[0]}x{out.size[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-side", type=int, default=224)
    parser.add_argument("--heic-size", default="1024x768", help="12 MP (4032x3024) takes ~17 s to encode")
    args = parser.parse_args()
    heic_size = tuple(int(v) for v in args.heic_size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_jpeg(folder, args.repeat, args.min_side)
        bench_heic(folder, args.repeat, heic_size, args.min_side)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
