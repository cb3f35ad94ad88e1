"""The viewer's acceptance run on a real X server: the app as a person starts it, driven by keys.

A library whose newest photo is a large solid-coloured image; the app is started as ``photoclip``
would be; then Ctrl+F, Down (selects the first photo of the grid) and Enter must fill most of the
window with that colour, and Esc must bring the grid back. Screenshots of each step are written to
``--out`` to be looked at. Run it under Xvfb (needs xdotool and ImageMagick's ``import``):

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/acceptance_xvfb.py --out /tmp/accept
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

COLOUR = (230, 120, 20)


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def window_id(timeout: float = 60.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "PhotoClip"], capture_output=True,
                               text=True)
        ids = found.stdout.split()
        if ids:
            return ids[-1]
        time.sleep(0.3)
    raise SystemExit("the PhotoClip window did not appear")


def shot(win: str, path: Path) -> Image.Image:
    """The window's pixels (taken from the root window: there is no window manager to ask)."""
    geometry = dict(line.split("=") for line in run("xdotool", "getwindowgeometry", "--shell", win).split())
    x, y, w, h = (int(geometry[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    run("import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", str(path))
    return Image.open(path).convert("RGB")


def share_of(image: Image.Image, colour: tuple[int, int, int]) -> float:
    small = image.resize((image.width // 4, image.height // 4))
    pixels = list(small.getdata())
    near = sum(1 for p in pixels if all(abs(a - b) < 24 for a, b in zip(p, colour, strict=True)))
    return near / len(pixels)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("acceptance"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="photoclip-accept-"))
    photos = base / "photos"
    photos.mkdir()
    for i, rgb in enumerate([(40, 90, 210), (50, 160, 70), (130, 60, 170)]):
        p = photos / f"older-{i}.jpg"
        Image.new("RGB", (900, 600), rgb).save(p, quality=90)
        os.utime(p, (1_500_000_000 + i, 1_500_000_000 + i))
    newest = photos / "newest.jpg"
    Image.new("RGB", (4000, 3000), COLOUR).save(newest, quality=92)  # 12 MP
    os.utime(newest, (1_700_000_000, 1_700_000_000))
    env = dict(os.environ, PHOTOCLIP_LIBRARY=str(base / "library"), PHOTOCLIP_MODELS=str(base / "models"),
               PHOTOCLIP_CONFIG=str(base / "config"), XDG_CONFIG_HOME=str(base / "config"),
               XDG_DATA_HOME=str(base / "data"), XDG_CACHE_HOME=str(base / "cache"))
    env.pop("QT_QPA_PLATFORM", None)
    subprocess.run([sys.executable, "-m", "photoclip", "index", str(photos)], env=env, check=True,
                   capture_output=True)
    app = subprocess.Popen([sys.executable, "-m", "photoclip"], env=env)
    try:
        win = window_id()
        subprocess.run(["xdotool", "windowsize", win, "1400", "900"], check=False)
        subprocess.run(["xdotool", "windowfocus", "--sync", win], check=False)  # no window manager: focus it
        time.sleep(3.0)  # the grid fills from a worker
        grid = shot(win, args.out / "1-grid.png")
        run("xdotool", "key", "ctrl+f")
        time.sleep(0.3)
        run("xdotool", "key", "Down")
        time.sleep(0.5)
        selected = shot(win, args.out / "2-selected.png")
        run("xdotool", "key", "Return")
        time.sleep(3.0)  # the 12 MP decode runs on a worker
        viewer = shot(win, args.out / "3-viewer.png")
        run("xdotool", "key", "Escape")
        time.sleep(1.0)
        back = shot(win, args.out / "4-back.png")
        share = share_of(viewer, COLOUR)
        print(f"colour share: grid {share_of(grid, COLOUR):.2f}, selected {share_of(selected, COLOUR):.2f}, "
              f"viewer {share:.2f}, back {share_of(back, COLOUR):.2f}")
        ok = share > 0.6 and share_of(back, COLOUR) < 0.3
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        app.terminate()
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()


if __name__ == "__main__":
    raise SystemExit(main())
