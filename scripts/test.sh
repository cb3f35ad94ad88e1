#!/usr/bin/env bash
# Install PhotoClip with its test extras (and the optional OCR and places extras, so their tests run)
# into the active Python environment, then run the whole suite: lint, the architecture contracts
# (no Qt in the core), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# torch is pinned to the CPU build first, so the export extra's range installs nothing larger.
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[cpu,test,export,ocr,places]"
# The reference CLIP tokenizer ships in open_clip_torch; its other dependencies are not needed.
python -m pip install -q --no-deps "open_clip_torch==3.3.0"
ruff check photoclip tests bench models
lint-imports
QT_QPA_PLATFORM=offscreen python -m pytest -q "$@"
