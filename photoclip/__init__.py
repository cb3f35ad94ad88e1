"""PhotoClip: search your own photo folders by meaning, offline."""

import os as _os

__version__ = "0.1.0"

# ONNX Runtime's native library sends usage telemetry (DNS lookups of a Microsoft host from a thread of
# its own) unless this is set before the library is first imported; only the environment variable works,
# not its later Python switch. Set it here, before anything (the engine, OCR) can import onnxruntime.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
