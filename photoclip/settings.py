"""Settings of one library, declared once with their types and defaults, kept as readable JSON.

The file sits in the library folder (``settings.json``) with a ``schema_version``; unknown keys are
kept aside rather than lost, and a broken file is backed up and replaced by defaults, never fatal.
UI state (window geometry, splitters) is not here: the GUI keeps that itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

SCHEMA_VERSION = 1
DEVICES = ("auto", "cpu", "gpu")


@dataclass
class Settings:
    device: str = "auto"  # auto / cpu / gpu: which ONNX Runtime providers to use
    threads: int = 0  # inference threads; 0 = one per physical core
    text_precision: str = "fp32"  # "int8": a quantized text tower, faster queries on many CPUs
    batch_size: int = 8
    decode_workers: int = 0  # 0 = chosen from the CPU count
    auto_tag: bool = True
    ocr: bool = True  # read words inside photos when the ocr extra is installed
    ocr_threads: int = 1  # one thread is fastest on two cores; OCR runs beside indexing
    places: bool = True  # place names from GPS when the places extra is installed
    max_tags_per_photo: int = 5
    tag_threshold: float | None = None  # None = each tag's own default
    thumbnail_cache_mb: int = 512
    default_top: int = 200
    show_all_results: bool = False  # False hides results that are plainly unrelated
    extra: dict = field(default_factory=dict)

    def validated(self) -> Settings:
        if self.device not in DEVICES:
            self.device = "auto"
        self.threads = max(0, int(self.threads))
        if self.text_precision not in ("fp32", "int8"):
            self.text_precision = "fp32"
        self.batch_size = min(64, max(1, int(self.batch_size)))
        self.decode_workers = max(0, int(self.decode_workers))
        self.max_tags_per_photo = min(50, max(1, int(self.max_tags_per_photo)))
        self.thumbnail_cache_mb = max(16, int(self.thumbnail_cache_mb))
        self.ocr_threads = min(16, max(1, int(self.ocr_threads)))
        self.default_top = min(100_000, max(1, int(self.default_top)))
        return self


def load_settings(path: Path) -> Settings:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError):
        _backup(path)
        return Settings()
    if not isinstance(data, dict):
        _backup(path)
        return Settings()
    known = {f.name for f in fields(Settings)} - {"extra"}
    values = {k: v for k, v in data.items() if k in known}
    extra = {k: v for k, v in data.items() if k not in known and k != "schema_version"}
    try:
        return Settings(**values, extra=extra).validated()
    except (TypeError, ValueError):
        _backup(path)
        return Settings()


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a settings file."""
    data = asdict(settings.validated())
    extra = data.pop("extra")
    payload = {"schema_version": SCHEMA_VERSION, **data, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _backup(path: Path) -> None:
    try:
        os.replace(path, path.with_suffix(".json.broken"))
    except OSError:
        pass
