"""Decoding a huge image for the model or a thumbnail costs memory near its raw size, not many copies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.corpus import huge_rgba_png_bytes

SIDE = 8000  # 64 MP RGBA: 256 MB decoded, a few hundred KB on disk

PROBE = r"""
import json, resource, sys, time
from photoclip import imaging
path, kind = sys.argv[1], sys.argv[2]
imaging._files.register_plugins()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
rgb = imaging.load_image(path, min_side=224)[0] if kind == "model" else imaging.thumbnail(path, 256)
seconds = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
w, h = rgb.size
print(json.dumps({"grown": (peak - base) * 1024, "seconds": seconds, "size": [w, h],
                  "top": rgb.getpixel((w // 2, h // 4)), "bottom": rgb.getpixel((w // 2, 3 * h // 4))}))
"""


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    path.write_bytes(huge_rgba_png_bytes(SIDE, SIDE))
    return path


@pytest.mark.skipif(sys.platform != "linux", reason="peak RSS from getrusage in KiB")
@pytest.mark.parametrize("kind", ["model", "thumbnail"])
def test_a_huge_png_decodes_reduced_within_its_raw_size(huge_png: Path, kind: str) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, str(huge_png), kind], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    raw = SIDE * SIDE * 4
    # The decode itself needs the raw pixels once; converting and compositing must not add full-size copies.
    assert result["grown"] < 1.5 * raw, f"peak grew by {result['grown'] / 1e6:.0f} MB for {raw / 1e6:.0f} MB"
    assert max(result["size"]) <= (2 * 224 * 2 if kind == "model" else 256)
    assert tuple(result["top"]) == (255, 0, 0)  # opaque red stays red
    assert tuple(result["bottom"]) == (255, 255, 255)  # transparency is composited on white


def test_reducing_in_strips_equals_reducing_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    from PIL import Image

    from photoclip.imaging import _pixels

    rng = np.random.default_rng(3)
    im = Image.fromarray(rng.integers(0, 256, (203, 151, 4), dtype=np.uint8), "RGBA")
    monkeypatch.setattr(_pixels, "_STRIP_BYTES", 151 * 4 * 3 * 5)  # five output rows a strip
    strips = _pixels._reduce_in_strips(im, 3)
    assert strips.size == im.reduce(3).size
    assert np.array_equal(np.asarray(strips), np.asarray(im.reduce(3)))
