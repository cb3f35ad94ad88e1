"""Settings of one library, declared once with their types, defaults and ranges, kept as readable JSON.

The file sits in the library folder (``settings.json``) with a ``schema_version`` that loading reads:
older files are migrated step by step. Each value is checked on its own: one of the wrong type goes
back to its default and one out of its range is clamped, each with a warning, and the rest of the
file is kept. Unknown keys are kept aside rather than lost; a file that is not JSON at all is backed
up and replaced by defaults, never fatal. UI state (window geometry, splitters) is not here: the GUI
keeps that itself.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
DEVICES = ("auto", "cpu", "gpu")
_CPUS = os.cpu_count() or 1
# More threads than this only queue for the same cores (and a huge number starves the machine).
MAX_THREADS = max(4, min(64, 4 * _CPUS))


@dataclass
class Settings:
    device: str = "auto"  # auto / cpu / gpu: which ONNX Runtime providers to use
    threads: int = 0  # inference threads; 0 = one per physical core
    batch_size: int = 8
    decode_workers: int = 0  # 0 = chosen from the CPU count
    auto_tag: bool = True
    ocr: bool = True  # read words inside photos when the ocr extra is installed
    ocr_threads: int = 1  # one thread is fastest on two cores; OCR runs beside indexing
    places: bool = True  # place names from GPS when the places extra is installed
    max_tags_per_photo: int = 5
    thumbnail_cache_mb: int = 512
    default_top: int = 200
    search_min_score: float = 0.3  # strictness: results scoring below this are hidden (0.5: clearly related)
    text_precision: str = "fp32"  # "int8": a quantized text tower, faster queries on many CPUs
    hide_duplicates: bool = False  # search and albums show only the keeper of each group of copies
    # The language of search queries for models that take one (NLLB: a FLORES-200 code such as
    # "deu_Latn"); "auto": from the query's script, else English. Other models ignore it.
    query_language: str = "auto"
    extra: dict = field(default_factory=dict)
    # What loading or validating had to correct, for the user to see; never saved.
    warnings: list[str] = field(default_factory=list, init=False, compare=False, repr=False)

    def validated(self) -> Settings:
        """Put every value back in its type and range, recording a warning for each one changed."""
        defaults = Settings()
        for name, check in _CHECKS.items():
            value = getattr(self, name)
            fixed, problem = check(value, getattr(defaults, name))
            if problem:
                self.warnings.append(f"setting {name}: {problem}")
                log.warning("setting %s: %s", name, problem)
                setattr(self, name, fixed)
        return self


def _number(lo: float, hi: float, *, whole: bool = False) -> Callable[[object, object], tuple[object, str | None]]:
    def check(value: object, default: object) -> tuple[object, str | None]:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return default, f"{value!r} is not a number; using the default {default}"
        if whole and isinstance(value, float) and not value.is_integer():
            return default, f"{value!r} is not a whole number; using the default {default}"
        number = int(value) if whole else float(value)
        if number < lo or number > hi:
            clamped = min(hi, max(lo, number))
            return clamped, f"{number} is outside {lo}..{hi}; using {clamped}"
        return number, None
    return check


def _integer(lo: int, hi: int) -> Callable[[object, object], tuple[object, str | None]]:
    return _number(lo, hi, whole=True)


def _flag(value: object, default: object) -> tuple[object, str | None]:
    if isinstance(value, bool):
        return value, None
    return default, f"{value!r} is not true or false; using the default {default}"


def _choice(options: tuple[str, ...]) -> Callable[[object, object], tuple[object, str | None]]:
    def check(value: object, default: object) -> tuple[object, str | None]:
        if value in options:
            return value, None
        return default, f"{value!r} is not one of {', '.join(options)}; using the default {default}"
    return check


_FLORES = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


def _language(value: object, default: object) -> tuple[object, str | None]:
    if value == "auto" or (isinstance(value, str) and _FLORES.match(value)):
        return value, None
    return default, (f"{value!r} is not 'auto' or a FLORES-200 language code such as deu_Latn; "
                     f"using the default {default}")


_CHECKS: dict[str, Callable[[object, object], tuple[object, str | None]]] = {
    "device": _choice(DEVICES),
    "threads": _integer(0, MAX_THREADS),
    "batch_size": _integer(1, 64),
    "decode_workers": _integer(0, MAX_THREADS),
    "auto_tag": _flag,
    "ocr": _flag,
    "ocr_threads": _integer(1, 16),
    "places": _flag,
    "max_tags_per_photo": _integer(1, 50),
    "thumbnail_cache_mb": _integer(16, 1 << 20),
    "default_top": _integer(1, 100_000),
    "hide_duplicates": _flag,
    "text_precision": _choice(("fp32", "int8")),
    "search_min_score": _number(0.0, 1.0),
    "query_language": _language,
}


def _to_2(data: dict) -> dict:
    """Version 2 dropped two settings nothing read: a global tag threshold and "show all results"."""
    for name in ("tag_threshold", "show_all_results"):
        data.pop(name, None)
    return data


# MIGRATIONS[n] turns a file of version n into version n + 1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _to_2}


def _migrate(data: dict, warnings: list[str]) -> dict:
    version = data.pop("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        warnings.append(f"settings schema_version {version!r} is not a version; read as version 1")
        version = 1
    if version > SCHEMA_VERSION:
        warnings.append(f"settings were written by a newer PhotoClip (version {version}); "
                        "settings it does not know are kept as they are")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data


def load_settings(path: Path) -> Settings:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        return _replaced(path, f"settings file {path} is unreadable ({exc}); using defaults")
    if not isinstance(data, dict):
        return _replaced(path, f"settings file {path} does not hold settings; using defaults")
    warnings: list[str] = []
    data = _migrate(data, warnings)
    for message in warnings:
        log.warning("%s", message)
    known = {f.name for f in fields(Settings)} - {"extra", "warnings"}
    values = {k: v for k, v in data.items() if k in known}
    extra = {k: v for k, v in data.items() if k not in known}
    settings = Settings(**values, extra=extra)
    settings.warnings.extend(warnings)
    return settings.validated()


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a settings file."""
    data = asdict(settings.validated())
    extra = data.pop("extra")
    data.pop("warnings")
    payload = {**extra, "schema_version": SCHEMA_VERSION, **data}
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


def _replaced(path: Path, message: str) -> Settings:
    log.warning("%s", message)
    try:
        os.replace(path, path.with_suffix(".json.broken"))
        message += f" (the old file is kept as {path.with_suffix('.json.broken').name})"
    except OSError:
        pass
    settings = Settings()
    settings.warnings.append(message)
    return settings
