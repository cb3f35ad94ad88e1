"""Words inside photos, read offline by RapidOCR (PP-OCRv4 detection, angle and recognition models on ONNX
Runtime), as the optional extra ``photoclip[ocr]``.

Most photos hold no text, so each one first goes through a cheap gate: the text detector alone, on a
copy whose long side is ``gate_side`` pixels. Only when it finds a text box is the photo read in full,
at a long side of ``max_side`` pixels: big enough for ordinary print in a 12 MP photo, and no bigger,
because detection time grows with the pixel count. Pixels come from ``imaging.load_image``, so EXIF
orientation is applied first; text turned by 90 degrees is straightened by RapidOCR's crop step and
upside-down text by its angle classifier.

The extra pulls ``opencv-python`` (whose Linux wheel carries Qt plugins of its own; PySide6 is checked to
start beside it by the tests) and ``onnxruntime`` by name, which must not share an environment with
``onnxruntime-gpu``: ``runtime_conflict()`` says when it does.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from photoclip import imaging
from photoclip.errors import ModelError

log = logging.getLogger(__name__)

PACKAGE = "rapidocr-onnxruntime"
INSTALL_HINT = "install the OCR extra to search words inside photos: pip install 'photoclip[ocr]'"
DEFAULT_MAX_SIDE = 1600
DEFAULT_GATE_SIDE = 640
DEFAULT_MIN_CONFIDENCE = 0.5
# Below this many pixels on the long side the gate would cost about as much as reading the photo.
_GATE_WORTH_IT = 1.25


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: its text, its corners (x, y) in upright photo pixels, and the recogniser's
    confidence (0-1)."""

    text: str
    box: tuple[tuple[float, float], ...]
    confidence: float


@dataclass(frozen=True)
class OcrResult:
    lines: tuple[OcrLine, ...]
    gated: bool  # True when the cheap detector pass found no text and recognition was skipped
    seconds: float

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@functools.cache
def _import_error() -> str | None:
    if sys.version_info >= (3, 13):
        return (f"the OCR engine ({PACKAGE}) has no build for Python "
                f"{sys.version_info.major}.{sys.version_info.minor}; words inside photos need Python 3.12 "
                "or older")
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError as exc:
        if getattr(exc, "name", None) in ("rapidocr_onnxruntime", None) and "rapidocr" in str(exc):
            return f"the OCR engine is not installed; {INSTALL_HINT}"
        return f"the OCR engine is installed but cannot load ({exc}); reinstall it: pip install 'photoclip[ocr]'"
    except Exception as exc:  # a broken native library (libGL, a mismatched onnxruntime) shows up here
        return f"the OCR engine cannot load ({type(exc).__name__}: {exc})"
    return None


def available() -> bool:
    """Whether words inside photos can be read here (imports the engine once, then remembers)."""
    return _import_error() is None


def unavailable_reason() -> str | None:
    """Why OCR cannot run, written for a person, with how to enable it; None when it can."""
    return _import_error()


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def runtime_conflict() -> str | None:
    """A warning when both ONNX Runtime packages are installed: they ship the same module and the one
    installed last silently replaces the other's files, breaking CLIP and OCR alike."""
    others = [d for d in ("onnxruntime-gpu", "onnxruntime-directml") if _installed(d)]
    if others and _installed("onnxruntime"):
        return (f"both onnxruntime and {others[0]} are installed; they overwrite each other. The OCR extra "
                f"requires onnxruntime by name: uninstall both, then install only {others[0]} and "
                f"{PACKAGE} with --no-deps")
    return None


def engine_version() -> str:
    """Names the engine, its version and the settings that change what it reads: a stored result made
    by another version is read again."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "missing"
    return f"{PACKAGE} {version}"


def _route_engine_logs() -> None:
    """RapidOCR gives its loggers handlers of their own that write to stderr; the core never prints, so
    its records go to the application's logging like everyone else's."""
    for name in ("RapidOCR", "OrtInferSession"):
        engine_log = logging.getLogger(name)
        for handler in list(engine_log.handlers):
            if isinstance(handler, logging.StreamHandler):
                engine_log.removeHandler(handler)
        engine_log.setLevel(logging.NOTSET)


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _fit(image: Image.Image, long_side: int) -> tuple[Image.Image, float]:
    """The image shrunk so its long side is at most ``long_side``, and the factor back to the original."""
    longest = max(image.size)
    if longest <= long_side:
        return image, 1.0
    scale = long_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0), longest / long_side


class OcrEngine:
    """Reads the text in photos; one instance holds the three ONNX sessions (about 16 MB of models).

    ``threads`` is 1 by default: OCR runs as a background stage beside decoding, CLIP and the GUI, and a
    single-threaded session never spins on the shared cores. Calls are serialised by a lock.
    """

    def __init__(self, *, max_side: int = DEFAULT_MAX_SIDE, gate_side: int = DEFAULT_GATE_SIDE,
                 threads: int = 1, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise ModelError(reason)
        conflict = runtime_conflict()
        if conflict:
            log.warning("%s", conflict)
        if max_side < 64 or gate_side < 64:
            raise ValueError("max_side and gate_side must be at least 64 pixels")
        from rapidocr_onnxruntime import RapidOCR

        self.max_side = max_side
        self.gate_side = gate_side
        self.min_confidence = min_confidence
        threads = max(1, min(int(threads), os.cpu_count() or 1))
        try:
            # Detection limited by the long side (not the default short side, which would enlarge a
            # small gate image to 736 px and a panorama to thousands of pixels).
            self._ocr: Any = RapidOCR(det_limit_type="max", det_limit_side_len=max_side, max_side_len=max_side,
                                      text_score=min_confidence, intra_op_num_threads=threads,
                                      inter_op_num_threads=1)
        except Exception as exc:
            raise ModelError(f"the OCR engine cannot start: {type(exc).__name__}: {exc}") from exc
        _route_engine_logs()
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return f"{engine_version()} side={self.max_side} gate={self.gate_side}"

    def has_text(self, image: Image.Image) -> bool:
        """The gate: does the detector alone see any text box on a small copy of ``image``?"""
        small, _ = _fit(image, self.gate_side)
        with self._lock:
            boxes, _elapsed = self._ocr(_bgr(small), use_det=True, use_cls=False, use_rec=False)
        return bool(boxes)

    def read(self, image: Image.Image, *, gate: bool = True) -> OcrResult:
        """Every line of text in an upright image, boxes in the image's own pixels."""
        start = time.perf_counter()
        if gate and max(image.size) > self.gate_side * _GATE_WORTH_IT and not self.has_text(image):
            return OcrResult((), True, time.perf_counter() - start)
        work, scale = _fit(image, self.max_side)
        with self._lock:
            found, _elapsed = self._ocr(_bgr(work), use_det=True, use_cls=True, use_rec=True)
        lines = []
        for box, text, confidence in found or ():
            text = " ".join(str(text).split())
            if not text or float(confidence) < self.min_confidence:
                continue
            corners = tuple((round(float(x) * scale, 1), round(float(y) * scale, 1)) for x, y in box)
            lines.append(OcrLine(text, corners, round(float(confidence), 4)))
        return OcrResult(tuple(lines), False, time.perf_counter() - start)

    def read_file(self, path: str | os.PathLike[str], size: tuple[int, int] | None = None, *,
                  gate: bool = True) -> OcrResult:
        """Decode (upright, reduced) and read one photo; raises DecodeError.

        ``size`` is the photo's upright (width, height) when known (the catalog has it). It lets the
        decoder shrink a big JPEG while decoding instead of after, and lets the gate run on a small decode
        (a quarter of the work of the full one on a 12 MP photo), so a photo without text is never
        decoded at the working resolution at all.
        """
        start = time.perf_counter()
        if not size or min(size) <= 0:
            image, _meta = imaging.load_image(path)
            return self.read(image, gate=gate)
        if gate and max(size) > self.gate_side * _GATE_WORTH_IT:
            small, _meta = imaging.load_image(path, min_side=self._min_side(self.gate_side, size))
            if not self.has_text(small):
                return OcrResult((), True, time.perf_counter() - start)
        image, _meta = imaging.load_image(path, min_side=self._min_side(self.max_side, size))
        result = self.read(image, gate=False)
        if max(image.size) != max(size):  # boxes in the photo's own pixels, whatever size was decoded
            factor = max(size) / max(image.size)
            lines = tuple(OcrLine(line.text, tuple((round(x * factor, 1), round(y * factor, 1))
                                                   for x, y in line.box), line.confidence)
                          for line in result.lines)
            result = OcrResult(lines, False, result.seconds)
        return OcrResult(result.lines, False, time.perf_counter() - start)

    @staticmethod
    def _min_side(long_side: int, size: tuple[int, int]) -> int:
        """The short side to ask the decoder for so the long side comes out at about ``long_side``."""
        return max(32, round(long_side * min(size) / max(size)))
