"""Reading Hugging Face / transformers.js model folders (``Xenova/clip-*``, ``Xenova/siglip-*``).

transformers.js's conversion lays a model out as ``onnx/text_model.onnx`` and ``onnx/vision_model.onnx``
(each tower on its own, with ``_quantized``/``_uint8``/``_fp16`` variants beside them), often the
combined ``onnx/model.onnx`` too, and the files ``save_pretrained`` writes: ``config.json``,
``preprocessor_config.json``, ``tokenizer.json`` with ``tokenizer_config.json``.

CLIP towers output projected embeddings; SigLIP's (``SiglipTextModel``/``SiglipVisionModel``) output
``last_hidden_state`` and ``pooler_output``, the pooled vector being the embedding. SigLIP also
differs in its text and images: a SentencePiece tokenizer padded to the full 64 positions with its
pad token (the text tower has no mask, so padding counts), lower case without punctuation, and images
squashed to the model's size (``size`` gives height and width) without a crop. Its logit scale and
bias, the calibration of a cosine into a probability, are weights of the combined model only: when
that file is there they are read by running it once on two texts and one blank image.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from photoclip.engine.bundle import BundleInfo, _external_data, _read_json, _require, _triple, name_from_folder
from photoclip.engine.preprocess import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from photoclip.errors import ModelError

log = logging.getLogger(__name__)
TOKENIZER_FILE = "tokenizer.json"
# transformers.js file suffixes, in the order "auto" prefers them for CPU inference.
HF_VARIANTS = {"fp32": "", "int8": "_quantized", "uint8": "_uint8", "fp16": "_fp16"}
HF_AUTO_ORDER = ("fp32", "int8", "uint8", "fp16")
SIGLIP_TYPES = ("siglip",)  # SigLIP 2's variable-size ("naflex") vision input is another matter


def _size_from(value: Any, keys: tuple[str, ...]) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        for key in keys:
            if isinstance(value.get(key), int):
                return int(value[key])
    return None


def _pick_hf_tower(onnx_dir: Path, tower: str, variant: str) -> tuple[Path, str]:
    order = HF_AUTO_ORDER if variant == "auto" else (variant,)
    if variant != "auto" and variant not in HF_VARIANTS:
        raise ModelError(f"Unknown model variant '{variant}': choose one of auto, {', '.join(HF_VARIANTS)}.")
    for precision in order:
        path = onnx_dir / f"{tower}{HF_VARIANTS[precision]}.onnx"
        if path.is_file():
            return path, "int8" if precision == "uint8" else precision
    wanted = "any variant" if variant == "auto" else f"the {variant} variant"
    raise ModelError(f"The model folder {onnx_dir.parent} has no {tower} ONNX file ({wanted}) in onnx/.")


def _squashed(size: Any) -> bool:
    """``{"height": H, "width": W}`` without a shortest edge: the image is resized to exactly that."""
    return isinstance(size, dict) and "height" in size and "width" in size and "shortest_edge" not in size


def _siglip_text(folder: Path, tokenizer: Path) -> dict[str, Any]:
    from photoclip.engine.immich import _tokenizer_facts, pad_id

    _is_clip, specials = _tokenizer_facts(tokenizer)
    settings: dict[str, Any] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the second has the last word
        path = folder / name
        if path.is_file():
            settings.update({k: v for k, v in _read_json(path).items() if k == "pad_token"})
    # SiglipTokenizer pads with its end token
    return {"tokenizer_kind": "template", "text_clean": "canonicalize",
            "pad_id": pad_id(settings.get("pad_token"), "</s>", specials, folder, tokenizer), "pad_to_context": True}


def combined_calibration(model: Path, *, pad_id: int, context: int, image_size: int,
                         vocab_size: int) -> tuple[float, float] | None:
    """(logit scale, logit bias) of a combined SigLIP model: ``logits = scale * cosine + bias`` solved
    from two texts against one image. None when the file does not answer that way."""
    from photoclip.engine.runtime import import_onnxruntime

    try:
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in session.get_inputs()}
        wanted = ("logits_per_text", "text_embeds", "image_embeds")
        if not {"input_ids", "pixel_values"} <= set(inputs) or not set(wanted) <= {o.name for o in
                                                                                   session.get_outputs()}:
            return None
        ids = np.full((2, context), pad_id, dtype=np.int64)
        ids[1] = np.arange(context) % max(2, min(vocab_size, 1000))
        pixel_type = np.float16 if inputs["pixel_values"].type == "tensor(float16)" else np.float32
        feeds = {"input_ids": ids.astype(np.int32 if inputs["input_ids"].type == "tensor(int32)" else np.int64),
                 "pixel_values": np.zeros((1, 3, image_size, image_size), dtype=pixel_type)}
        feeds.update({name: np.ones_like(ids) for name in inputs if name == "attention_mask"})
        logits, texts, image = (np.asarray(a, dtype=np.float64) for a in session.run(list(wanted), feeds))
    except Exception as exc:  # a calibration is a bonus: the towers still work without it
        log.warning("cannot read the logit scale and bias from %s: %s", model, exc)
        return None
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    cosines = texts @ image[0]
    if abs(cosines[0] - cosines[1]) < 1e-4:
        return None
    scale = float((logits[0, 0] - logits[1, 0]) / (cosines[0] - cosines[1]))
    return scale, float(logits[0, 0] - scale * cosines[0])


def read_huggingface(folder: Path, variant: str) -> BundleInfo:
    """Describe a transformers.js-layout folder (CLIP or SigLIP), or raise ModelError."""
    onnx_dir = folder / "onnx"
    image_model, image_precision = _pick_hf_tower(onnx_dir, "vision_model", variant)
    text_model, text_precision = _pick_hf_tower(onnx_dir, "text_model", variant)
    tokenizer = _require(folder, TOKENIZER_FILE)
    pre_path = folder / "preprocessor_config.json"
    pre = _read_json(pre_path) if pre_path.is_file() else {}
    config = _read_json(folder / "config.json") if (folder / "config.json").is_file() else {}
    text_cfg = config.get("text_config") or config.get("text_config_dict") or {}
    vision_cfg = config.get("vision_config") or config.get("vision_config_dict") or {}
    siglip = config.get("model_type") in SIGLIP_TYPES

    crop = _size_from(pre.get("crop_size"), ("height", "shortest_edge"))
    resize = _size_from(pre.get("size"), ("shortest_edge", "height"))
    image_size = crop or resize or int(vision_cfg.get("image_size", 224))
    squash = _squashed(pre.get("size"))
    if squash and pre["size"]["height"] != pre["size"]["width"]:
        raise ModelError(f"{pre_path}: images of {pre['size']} are not square; PhotoClip needs one size.")
    if pre.get("do_center_crop") is False or (squash and crop is None):
        crop = None
    resize_size = resize or image_size
    if crop is None:
        image_size = resize_size
    resample = pre.get("resample", 3)
    if resample not in (3, "bicubic"):
        raise ModelError(f"{pre_path} asks for resampling mode {resample!r}; PhotoClip uses bicubic (3).")
    files = {str(p.relative_to(folder)): "" for p in (image_model, text_model, tokenizer)}
    extra = _external_data(image_model) + _external_data(text_model)
    files.update({str(p.relative_to(folder)): "" for p in extra})
    precisions = {image_precision, text_precision}
    context = int(text_cfg.get("max_position_embeddings", 77))
    handling: dict[str, Any] = {"resize_mode": "squash" if squash and crop is None else "shortest"}
    if siglip:
        handling.update(_siglip_text(folder, tokenizer))
        combined = next((onnx_dir / f"model{HF_VARIANTS[p]}.onnx" for p in HF_AUTO_ORDER
                         if (onnx_dir / f"model{HF_VARIANTS[p]}.onnx").is_file()), None)
        found = combined_calibration(combined, pad_id=handling["pad_id"], context=context, image_size=image_size,
                                     vocab_size=int(text_cfg.get("vocab_size", 1000))) if combined else None
        if found is not None:
            handling.update(logit_scale=found[0], logit_bias=found[1])
    dim = (config.get("projection_dim") or text_cfg.get("projection_dim") or text_cfg.get("projection_size")
           or (text_cfg.get("hidden_size") if siglip else None) or 512)
    return BundleInfo(
        name=name_from_folder(folder),
        path=folder,
        dim=int(dim),
        image_size=image_size,
        resize_size=resize_size,
        mean=_triple(pre.get("image_mean", OPENAI_CLIP_MEAN), "image_mean", pre_path),
        std=_triple(pre.get("image_std", OPENAI_CLIP_STD), "image_std", pre_path),
        context_length=context,
        image_model=image_model,
        text_model=text_model,
        tokenizer=tokenizer,
        source=str(config.get("_name_or_path") or folder.resolve().name),
        random=bool(config.get("photoclip_random_weights", False)),  # set by PhotoClip's test replicas
        precision=precisions.pop() if len(precisions) == 1 else "mixed",
        layout="huggingface",
        files=files,
        extra_files=extra,
        **handling,
    )

