"""An int8 text tower made from a bundle's fp32 one, for CPUs where it answers queries faster.

Only the text tower is swapped: the photos' vectors stay those of the bundle's own image tower, so
nothing is re-indexed. Dynamic int8 quantization of CLIP's text tower keeps its vectors within a
cosine of about 0.999 of the fp32 ones (bench/bench_targets.py reports the parity and how often the
top results agree). The quantized file is made once per text tower (keyed by its checksum) in the
user cache folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

from photoclip.engine.bundle import BundleInfo, sha256_file
from photoclip.errors import ModelError

TEXT_PRECISIONS = ("fp32", "int8")


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("PhotoClip", appauthor=False)) / "text-int8"


def int8_text_tower(info: BundleInfo) -> Path:
    """The bundle's text tower quantized to int8 (the bundle's own when it already is int8)."""
    if info.precision == "int8":
        return info.text_model
    try:
        relative = info.text_model.relative_to(info.path).as_posix()
    except ValueError:
        relative = ""
    checksum = info.files.get(relative) or sha256_file(info.text_model)
    target = cache_dir() / f"{checksum[:32]}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        from photoclip.engine.export import _quantize_int8

        _quantize_int8(info.text_model, tmp)
        os.replace(tmp, target)
    except ImportError as exc:
        raise ModelError(f"an int8 text tower needs the onnx package: {exc}") from exc
    except Exception as exc:
        raise ModelError(f"the text tower of {info.name} cannot be quantized: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target
