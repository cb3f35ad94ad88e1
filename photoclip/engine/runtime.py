"""ONNX Runtime loading, execution-provider choice and session options.

onnxruntime is imported only when a model is loaded, so the rest of PhotoClip imports without it,
and a missing or doubly installed runtime is reported in words a user can act on.
"""

from __future__ import annotations

import importlib.metadata
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import platformdirs

from photoclip.errors import ModelError

# Best first. CPU always comes last as the fallback.
GPU_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
)
CPU_PROVIDER = "CPUExecutionProvider"
DEVICES = ("auto", "cpu", "gpu")
_RUNTIME_DISTRIBUTIONS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino")


def installed_runtimes() -> list[str]:
    """The onnxruntime distributions installed side by side (they share one module and clash)."""
    found = []
    for dist in _RUNTIME_DISTRIBUTIONS:
        try:
            importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        found.append(dist)
    return found


def conflict_message() -> str | None:
    runtimes = installed_runtimes()
    if len(runtimes) < 2:
        return None
    return (
        f"Several ONNX Runtime packages are installed together ({', '.join(runtimes)}); they overwrite "
        'each other\'s files. Uninstall all of them, then install only one: pip install "photoclip[cpu]" '
        'or "photoclip[gpu]".'
    )


TELEMETRY_SWITCH = "ORT_DISABLE_TELEMETRY"


def import_onnxruntime() -> ModuleType:
    """onnxruntime with its telemetry off (``photoclip/__init__`` sets the switch; this re-checks it)."""
    os.environ.setdefault(TELEMETRY_SWITCH, "1")
    try:
        import onnxruntime
    except ImportError as exc:
        hint = conflict_message() or (
            'ONNX Runtime is not installed: pip install "photoclip[cpu]" (or "photoclip[gpu]" for an NVIDIA GPU).'
        )
        raise ModelError(hint) from exc
    message = conflict_message()
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return onnxruntime


def physical_cores() -> int:
    """Physical cores (hyper-threads share execution units, so more intra-op threads only contend)."""
    logical = os.cpu_count() or 1
    try:
        cores = set()
        for cpu in Path("/sys/devices/system/cpu").glob("cpu[0-9]*"):
            siblings = cpu / "topology" / "thread_siblings_list"
            if siblings.is_file():
                cores.add(siblings.read_text().strip())
        if cores:
            return max(1, min(len(cores), logical))
    except OSError:
        pass
    return logical


def available_devices() -> dict[str, Any]:
    """What this machine can run models on, for the settings screen and ``models list``."""
    info: dict[str, Any] = {
        "runtime": None,
        "version": None,
        "providers": [],
        "gpu": False,
        "gpu_providers": [],
        "physical_cores": physical_cores(),
        "installed": installed_runtimes(),
        "problem": conflict_message(),
    }
    try:
        import onnxruntime
    except ImportError:
        info["problem"] = info["problem"] or 'ONNX Runtime is not installed: pip install "photoclip[cpu]".'
        return info
    providers = list(onnxruntime.get_available_providers())
    info.update(
        runtime="onnxruntime",
        version=onnxruntime.__version__,
        providers=providers,
        gpu_providers=[p for p in GPU_PROVIDERS if p in providers],
    )
    info["gpu"] = bool(info["gpu_providers"])
    return info


def choose_providers(device: str, available: list[str]) -> list[str]:
    """The provider list for a session: best GPU first under "auto", CPU only under "cpu"."""
    if device not in DEVICES:
        raise ModelError(f"Unknown device '{device}': choose auto, cpu or gpu.")
    if device == "cpu":
        return [CPU_PROVIDER]
    gpus = [p for p in GPU_PROVIDERS if p in available]
    if device == "gpu" and not gpus:
        raise ModelError(
            "No GPU execution provider is available (found: "
            f"{', '.join(available) or 'none'}). Install the GPU runtime with pip install "
            '"photoclip[gpu]" (NVIDIA, needs CUDA and cuDNN), or use device "cpu".'
        )
    return [*gpus, CPU_PROVIDER]


def session_options(ort: ModuleType, threads: int | None, spinning: bool) -> Any:
    """Session options: intra-op threads = physical cores, and no spinning by default.

    Spinning threads keep burning a core after each run; image decoding runs beside inference on
    the same cores, so idle waits must really sleep.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads and threads > 0 else physical_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    flag = "1" if spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", flag)
    options.add_session_config_entry("session.inter_op.allow_spinning", flag)
    options.log_severity_level = 3
    return options


def _with_options(providers: list[str]) -> list[Any]:
    """TensorRT builds an engine per model on first use (minutes): keep it on disk between runs."""
    out: list[Any] = []
    for name in providers:
        if name == "TensorrtExecutionProvider":
            cache = Path(platformdirs.user_cache_dir("PhotoClip", appauthor=False)) / "tensorrt"
            cache.mkdir(parents=True, exist_ok=True)
            out.append((name, {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache)}))
        else:
            out.append(name)
    return out


def open_session(ort: ModuleType, model: Path, providers: list[str], options: Any) -> Any:
    try:
        return ort.InferenceSession(str(model), sess_options=options, providers=_with_options(providers))
    except Exception as exc:
        raise ModelError(f"Cannot load {model.name} from {model.parent}: {str(exc).strip()[:300]}") from exc
