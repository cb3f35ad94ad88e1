"""A tower's ONNX Runtime session opened on first use, so a command loads only the tower it needs.

A text search never runs the image tower (the bigger of the two); a search by an example image
opens it when it comes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazySession:
    """Stands in for an ``onnxruntime.InferenceSession`` and opens the real one on first use."""

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._opener = opener
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._opener()
            return self._session

    def __getattr__(self, name: str) -> Any:  # run, get_inputs, get_outputs, get_providers...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.session(), name)
