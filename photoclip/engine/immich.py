"""Reading Immich's model folders (``immich-app/<model>`` on the Hugging Face hub).

Immich exports each open_clip model into ``visual/model.onnx`` (input ``image``, float32, one
embedding per image, already L2-normalised) and ``textual/model.onnx`` (input ``text``, int32 ids
padded to the context length), beside open_clip's own model config (``config.json``: ``embed_dim``,
``vision_cfg``, ``text_cfg``), ``visual/preprocess_cfg.json`` and the Hugging Face tokenizer files.
Two exporter generations exist: older ones used a dynamic batch and output names
``image_embedding``/``text_embedding``, newer ones batch 1 and ``embedding``; the engine reads
whichever the graph declares.

How text is handled follows the model config: CLIP-BPE models get CLIP's cleaning and start/end
tokens; SentencePiece models (SigLIP, SigLIP2, multilingual ones) keep the tokenizer file's own
special tokens, are padded to the full context with the tokenizer's pad token (their text tower has
no causal mask, so padding changes the result), and are canonicalised (lower case, no punctuation)
when ``text_cfg.tokenizer_kwargs.clean`` says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from photoclip.engine.bundle import (
    BundleInfo,
    _external_data,
    _read_json,
    _require,
    _triple,
    name_from_folder,
)
from photoclip.engine.preprocess import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from photoclip.engine.tokenizer import START_TOKENS
from photoclip.errors import ModelError

VISUAL = "visual/model.onnx"
TEXTUAL = "textual/model.onnx"
TOKENIZER = "textual/tokenizer.json"


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def pad_id(setting: Any, default: str, specials: dict[str, int], where: Path, tokenizer: Path) -> int:
    """The id of the pad token a tokenizer config names (``setting``, a text or ``{"content": ...}``), else
    of ``default``; a pad token the tokenizer does not have is an error, not a silent 0."""
    pad_token = _token_text(setting) or default
    if pad_token not in specials:
        raise ModelError(f"{where}: the pad token {pad_token!r} is not in {tokenizer.name}.")
    return specials[pad_token]


def _tokenizer_facts(path: Path) -> tuple[bool, dict[str, int]]:
    """(is a CLIP BPE tokenizer, vocabulary of special tokens) from a tokenizer.json."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read the tokenizer {path}: {exc}") from exc
    specials = {str(t.get("content")): int(t.get("id")) for t in data.get("added_tokens", []) if "id" in t}
    model = data.get("model") or {}
    vocab = model.get("vocab")
    if isinstance(vocab, dict):
        specials.update({k: int(v) for k, v in vocab.items() if k in START_TOKENS})
    elif isinstance(vocab, list):  # Unigram (SentencePiece): [[piece, score], ...]
        for i, entry in enumerate(vocab[:4096]):
            if isinstance(entry, list) and entry and isinstance(entry[0], str) and entry[0].startswith("<"):
                specials.setdefault(entry[0], i)
    is_clip = any(t in specials for t in START_TOKENS)
    return is_clip, specials


def _image_size(value: Any, where: Path) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, list) and len(value) == 2 and value[0] == value[1] and isinstance(value[0], int):
        return int(value[0])
    raise ModelError(f"{where}: image size {value!r} is not one square size.")


def read_immich(folder: Path, variant: str = "auto") -> BundleInfo:
    """Describe an Immich model folder, or raise ModelError saying what is missing or unsupported."""
    if variant not in ("auto", "fp32"):
        raise ModelError(f"The Immich model folder {folder} has fp32 ONNX files only (asked for {variant}).")
    config_path = folder / "config.json"
    config = _read_json(config_path)
    pre_path = folder / "visual" / "preprocess_cfg.json"
    pre = _read_json(pre_path)
    text_cfg = config.get("text_cfg") or {}
    vision_cfg = config.get("vision_cfg") or {}
    image_model = _require(folder, VISUAL)
    text_model = _require(folder, TEXTUAL)
    tokenizer = _require(folder, TOKENIZER)
    tok_cfg_path = folder / "textual" / "tokenizer_config.json"
    tok_cfg = _read_json(tok_cfg_path) if tok_cfg_path.is_file() else {}

    if "embed_dim" not in config:
        raise ModelError(f"{config_path} has no 'embed_dim': it is not an open_clip model config.")
    size = _image_size(pre.get("size", vision_cfg.get("image_size", 224)), pre_path)
    resize_mode = str(pre.get("resize_mode", "shortest"))
    if resize_mode not in ("shortest", "squash"):
        raise ModelError(f"{pre_path}: resize mode {resize_mode!r} is not supported (shortest or squash).")
    interpolation = str(pre.get("interpolation", "bicubic"))
    if interpolation not in ("bicubic", "bilinear"):
        raise ModelError(f"{pre_path}: interpolation {interpolation!r} is not supported (bicubic or bilinear).")

    is_clip, specials = _tokenizer_facts(tokenizer)
    context = int(text_cfg.get("context_length") or 77)  # Immich's exporter and loader default to 77 too
    clean = (text_cfg.get("tokenizer_kwargs") or {}).get("clean")
    if is_clip:
        kind, text_clean, pad, pad_all = "clip", "canonicalize" if clean == "canonicalize" else "clip", 0, False
    else:
        kind, pad, pad_all = "template", pad_id(tok_cfg.get("pad_token"), "<pad>", specials, tok_cfg_path,
                                                tokenizer), True
        text_clean = "canonicalize" if clean == "canonicalize" else "whitespace"
    tokenizer_name = str(text_cfg.get("hf_tokenizer_name") or "")
    nllb = "nllb" in tokenizer_name.lower() or folder.resolve().name.lower().startswith("nllb")

    files = {rel: "" for rel in (VISUAL, TEXTUAL, TOKENIZER)}
    extra = _external_data(image_model) + _external_data(text_model)
    files.update({str(p.relative_to(folder)): "" for p in extra})
    scale = config.get("logit_scale")
    bias = config.get("logit_bias", config.get("init_logit_bias"))
    return BundleInfo(
        name=name_from_folder(folder),
        path=folder,
        dim=int(config["embed_dim"]),
        image_size=size,
        resize_size=size,
        mean=_triple(pre.get("mean", OPENAI_CLIP_MEAN), "mean", pre_path),
        std=_triple(pre.get("std", OPENAI_CLIP_STD), "std", pre_path),
        context_length=context,
        image_model=image_model,
        text_model=text_model,
        tokenizer=tokenizer,
        source=f"Immich export ({folder.resolve().name})",
        random=bool(config.get("photoclip_random_weights", False)),  # set by PhotoClip's test replicas
        precision="fp32",
        layout="immich",
        files=files,
        extra_files=extra,
        tokenizer_kind=kind,
        text_clean=text_clean,
        pad_id=pad,
        pad_to_context=pad_all,
        language_prefix=nllb,
        resize_mode=resize_mode,
        interpolation=interpolation,
        logit_scale=float(scale) if isinstance(scale, (int, float)) else None,
        logit_bias=float(bias) if isinstance(bias, (int, float)) and "logit_scale" in config else None,
    )
