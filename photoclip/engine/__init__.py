"""The CLIP engine: model bundles run by ONNX Runtime, and the store of installed models.

Importing this package needs neither torch nor onnxruntime; onnxruntime is imported when a model
is loaded, and torch only by the exporter.
"""

from photoclip.engine.bundle import BundleInfo, read_bundle
from photoclip.engine.engine import ClipEngine, RandomWeightsWarning
from photoclip.engine.protocol import Embedder
from photoclip.engine.runtime import available_devices
from photoclip.engine.store import ModelStore

__all__ = [
    "BundleInfo",
    "ClipEngine",
    "Embedder",
    "ModelStore",
    "RandomWeightsWarning",
    "available_devices",
    "read_bundle",
]
