"""PhotoClip: search your own photo folders by meaning, offline."""

import os

__version__ = "0.1.0"

# ONNX Runtime's native library sends usage telemetry (DNS lookups of a Microsoft host from a thread of
# its own) unless this is set before the library is first imported; only the environment variable works,
# not its later Python switch. Set it here, before anything (the engine, OCR) can import onnxruntime.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

# One BLAS thread unless the user asked otherwise, set before numpy loads. A query's products are one
# vector against a matrix, bound by memory, so a second thread gains little; on cores kept busy by
# ONNX Runtime, decoding or other programs, handing work to it cost queries tens of milliseconds.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
