"""Skipping the modules that need the export stack (torch, open_clip, and transformers or ONNX Runtime where
asked) when it is not installed, with one message saying which part is missing."""

from __future__ import annotations

import pytest


def require(*modules: str) -> None:
    """Skip the calling test module unless torch, open_clip and ``modules`` can be imported."""
    for name in ("torch", *modules):
        pytest.importorskip(name)
    try:
        from tests.engine.replicas import import_open_clip

        import_open_clip()
    except ImportError as exc:  # pragma: no cover - depends on the installation
        pytest.skip(f"open_clip is not usable: {exc}", allow_module_level=True)
