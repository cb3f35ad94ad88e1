"""ClipEngine: a CLIP bundle run by ONNX Runtime, embedding images and texts into one space."""

from __future__ import annotations

import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photoclip.engine.bundle import BundleInfo, read_bundle
from photoclip.engine.lazy import LazySession
from photoclip.engine.preprocess import preprocess_image
from photoclip.engine.runtime import choose_providers, import_onnxruntime, open_session, session_options
from photoclip.engine.tokenizer import ClipTokenizer, TemplateTokenizer, text_tokenizer
from photoclip.errors import ModelError, QueryError

log = logging.getLogger(__name__)
QUERY_CACHE_SIZE = 128
_IMAGE_FACTS = ("_pixel_name", "_pixel_type", "_image_batch", "_image_out")


class RandomWeightsWarning(UserWarning):
    """The loaded model has random weights: its embeddings mean nothing (tests and benchmarks only)."""


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


def _numpy_type(onnx_type: str) -> type[np.generic]:
    return {
        "tensor(float)": np.float32,
        "tensor(float16)": np.float16,
        "tensor(int64)": np.int64,
        "tensor(int32)": np.int32,
    }.get(onnx_type, np.float32)


def _output_name(session: Any, preferred: str, tower: str) -> str:
    outputs = session.get_outputs()
    for out in outputs:
        if out.name == preferred:
            return str(out.name)
    for out in outputs:
        if len(out.shape) == 2:
            return str(out.name)
    raise ModelError(f"The {tower} tower has no (batch, dim) output; outputs are {[o.name for o in outputs]}.")


def _static(dim: Any) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


class ClipEngine:
    """Runs both towers of one bundle; satisfies ``photoclip.engine.Embedder``."""

    def __init__(self, info: BundleInfo, sessions: tuple[Any, Any], providers: list[str]) -> None:
        self.info = info
        self.model_name = info.name
        self.dim = info.dim
        self.image_size = info.image_size
        self.providers = providers
        self.tokenizer: ClipTokenizer | TemplateTokenizer = text_tokenizer(info)
        # SigLIP's calibration: sigmoid(logit_scale * cosine + logit_bias) is a probability of a match.
        self.logit_scale = info.logit_scale
        self.logit_bias = info.logit_bias
        self._image, self._text = sessions
        self.text_model_path: Path = info.text_model  # the text tower file in use (keys cached prompts)
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()  # (language, text)
        self._lock = threading.Lock()
        self._inspect()

    @classmethod
    def load(
        cls,
        bundle_dir: Path,
        *,
        device: str = "auto",
        threads: int | None = None,
        spinning: bool = False,
        variant: str = "auto",
        warn_random: bool = True,
        text_precision: str = "fp32",
    ) -> ClipEngine:
        """Load a bundle folder (PhotoClip or Hugging Face layout) on the best available device.

        ``device`` is "auto" (best GPU provider, else CPU), "cpu", or "gpu" (an error without one).
        """
        info = read_bundle(Path(bundle_dir), variant=variant)
        ort = import_onnxruntime()
        providers = choose_providers(device, list(ort.get_available_providers()))
        options = session_options(ort, threads, spinning)
        # The image tower opens when an image is first embedded: a text search never needs it.
        image = LazySession(lambda: open_session(ort, info.image_model, providers, options))
        text_model = info.text_model
        if text_precision == "int8":  # see text_int8.py: only the text tower is swapped
            from photoclip.engine.text_int8 import int8_text_tower

            text_model = int8_text_tower(info)
        text = open_session(ort, text_model, providers, options)
        used = list(text.get_providers())
        engine = cls(info, (image, text), used)
        engine.text_model_path = text_model
        if info.random and warn_random:
            message = (
                f"Model '{info.name}' has RANDOM weights: it is for tests and benchmarks only, and its "
                "search results are meaningless. Install a real model with 'photoclip models download'."
            )
            log.warning(message)
            warnings.warn(message, RandomWeightsWarning, stacklevel=2)
        return engine

    @property
    def is_random(self) -> bool:
        return self.info.random

    def _inspect(self) -> None:
        """Find the towers' input and output names and any static sizes they impose."""
        self._image_ready = False
        if not (isinstance(self._image, LazySession) and not self._image.loaded):
            self._inspect_image()
        self._inspect_text()

    def _inspect_image(self) -> None:
        inputs = {i.name: i for i in self._image.get_inputs()}
        pixel = inputs.get("pixel_values") or next(iter(inputs.values()))
        if len(pixel.shape) != 4:
            raise ModelError(f"The image tower input '{pixel.name}' is not (batch, 3, height, width).")
        self._pixel_name = pixel.name
        self._pixel_type = _numpy_type(pixel.type)
        self._image_batch = _static(pixel.shape[0])
        self._image_out = _output_name(self._image, "image_embeds", "image")
        self._image_ready = True

    def _inspect_text(self) -> None:
        text_inputs = {i.name: i for i in self._text.get_inputs()}
        ids = text_inputs.get("input_ids") or next(iter(text_inputs.values()))
        if len(ids.shape) != 2 or ids.type not in ("tensor(int64)", "tensor(int32)"):
            raise ModelError(f"The text tower input '{ids.name}' is not (batch, tokens) integers.")
        self._ids_name = ids.name
        self._ids_type = _numpy_type(ids.type)
        self._fixed_length = _static(ids.shape[1])
        mask = text_inputs.get("attention_mask")
        self._mask_name = mask.name if mask is not None else None
        self._mask_type = _numpy_type(mask.type) if mask is not None else np.int64
        self._text_batch = _static(ids.shape[0])
        self._text_out = _output_name(self._text, "text_embeds", "text")

    # Images -------------------------------------------------------------------------------------

    def preprocess(self, image: Image.Image) -> np.ndarray:
        info = self.info
        return preprocess_image(image, resize=info.resize_size, crop=info.image_size, mean=info.mean, std=info.std,
                                mode=info.resize_mode, interpolation=info.interpolation)

    def _ensure_image(self) -> None:
        if not self._image_ready:
            with self._lock:
                if not self._image_ready:
                    self._inspect_image()

    def __getattr__(self, name: str) -> Any:
        # the image tower's names are known once it is opened (on first use)
        if name in _IMAGE_FACTS and not self.__dict__.get("_image_ready", True):
            self._ensure_image()
            return self.__dict__[name]
        raise AttributeError(name)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        self._ensure_image()
        pixels = np.asarray(pixels)
        if pixels.ndim != 4 or pixels.shape[1:] != (3, self.image_size, self.image_size):
            raise ModelError(
                f"Expected pixels of shape (N, 3, {self.image_size}, {self.image_size}), got {pixels.shape}."
            )
        if len(pixels) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        step = self._image_batch or len(pixels)
        parts = []
        for start in range(0, len(pixels), step):
            chunk = pixels[start : start + step].astype(self._pixel_type, copy=False)
            parts.append(self._image.run([self._image_out], {self._pixel_name: chunk})[0])
        return l2_normalise(np.concatenate(parts))

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.embed_pixels(np.stack([self.preprocess(im) for im in images]))

    # Texts --------------------------------------------------------------------------------------

    def _run_text(self, ids: np.ndarray) -> np.ndarray:
        feeds = {self._ids_name: ids.astype(self._ids_type, copy=False)}
        if self._mask_name:
            feeds[self._mask_name] = self._attention_mask(ids).astype(self._mask_type)
        step = self._text_batch or len(ids)
        parts = []
        for start in range(0, len(ids), step):
            chunk = {k: v[start : start + step] for k, v in feeds.items()}
            parts.append(self._text.run([self._text_out], chunk)[0])
        return l2_normalise(np.concatenate(parts))

    def _attention_mask(self, ids: np.ndarray) -> np.ndarray:
        """1 up to and including each row's end token, 0 on padding."""
        if isinstance(self.tokenizer, TemplateTokenizer):
            return self.tokenizer.mask(ids)
        mask = np.zeros(ids.shape, dtype=np.int64)
        for row, tokens in enumerate(ids):
            ends = np.flatnonzero(tokens == self.tokenizer.end_id)
            mask[row, : (ends[0] + 1 if len(ends) else ids.shape[1])] = 1
        return mask

    @property
    def takes_language(self) -> bool:
        """Whether the text tower takes a query language (NLLB-style towers: a FLORES-200 code token)."""
        return bool(getattr(self.tokenizer, "language_prefix", False))

    def tokenize(self, texts: Sequence[str], *, pad: bool = False, language: str | None = None) -> np.ndarray:
        """Token ids as the text tower gets them; ``pad`` pads to the full context like CLIP's training."""
        pad_to = self._fixed_length or (self.info.context_length if pad or self.info.pad_to_context else None)
        return self.tokenizer.encode(texts, pad_to=pad_to, language=language)

    def embed_texts(self, texts: Sequence[str], *, language: str | None = None) -> np.ndarray:
        """One query runs on its real tokens only (and is cached); a batch pads to its longest text.

        ``language`` is the user's choice of query language (a FLORES-200 code), for models that take
        one; None leaves it to the environment, the text's script, else English (see language.py).
        """
        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of texts, not one string")
        if not texts:
            raise QueryError("No search text was given.")
        language = language if self.takes_language else None
        if len(texts) == 1:
            return self._embed_query(texts[0], language)[None, :].copy()
        return self._run_text(self.tokenize(texts, language=language))

    def _embed_query(self, text: str, language: str | None = None) -> np.ndarray:
        key = (language or "", text)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        vector = self._run_text(self.tokenize([text], language=language))[0]
        vector.setflags(write=False)
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def __repr__(self) -> str:
        return f"ClipEngine({self.model_name!r}, dim={self.dim}, providers={self.providers})"
