#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment, and use it as a newcomer would:
# `photoclip --version`, then index and search a generated folder with the committed toy model.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
python -m pip install -q build
python -m build --wheel --outdir "$work/dist" >/dev/null
wheel="$(ls "$work"/dist/photoclip-*.whl)"
# The wheel must carry the shipped data files.
python - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for needed in ("photoclip/resources/tags.json", "photoclip/resources/clip_tokenizer.json"):
    assert needed in names, f"{needed} missing from the wheel"
print(f"wheel ok: {len(names)} files")
PY
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel[cpu]"
cd "$work"  # away from the source tree, so only the installed package can be imported
"$work/venv/bin/photoclip" --version
"$work/venv/bin/python" - "$work/photos" <<'PY'
import sys
from pathlib import Path
from PIL import Image, ImageDraw
out = Path(sys.argv[1]); out.mkdir()
for colour in ("red", "green", "blue"):
    for i in range(3):
        im = Image.new("RGB", (160, 120), "white")
        d = ImageDraw.Draw(im)
        box = (50 + i * 5, 32, 106 + i * 5, 88)
        d.ellipse(box, fill=colour)
        im.save(out / f"{colour} circle {i}.jpg", quality=92)
PY
export PHOTOCLIP_LIBRARY="$work/library" PHOTOCLIP_MODELS="$work/models"
"$work/venv/bin/photoclip" models import "$root/tests/fixtures/toy-clip"
"$work/venv/bin/photoclip" index "$work/photos"
"$work/venv/bin/photoclip" search "a red circle" --top 3 --json > "$work/hits.json"
"$work/venv/bin/python" - "$work/hits.json" <<'PY'
import json, sys
hits = json.load(open(sys.argv[1]))
assert hits, "no results"
top = [h["path"].rsplit("/", 1)[-1] for h in hits[:3]]
assert all(name.startswith("red") for name in top), top
print("installed wheel indexes and searches:", top)
PY
