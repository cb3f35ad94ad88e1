"""PhotoClip: search your own photo folders by meaning, offline."""

import os

# One BLAS thread unless the user asked otherwise, set before numpy loads. A query's products are one
# vector against a matrix, bound by memory, so a second thread gains little; on cores kept busy by
# ONNX Runtime, decoding or other programs, handing work to it cost queries tens of milliseconds.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
