"""Test generator: a SigLIP model in the transformers.js layout (``Xenova/siglip-*``), random weights.

A tiny transformers ``SiglipModel`` is saved and exported the way transformers.js's conversion does
with ``--split_modalities``: ``SiglipTextModel`` and ``SiglipVisionModel`` are loaded from the saved
model and each exported on its own (``input_ids`` -> ``last_hidden_state``, ``pooler_output``;
``pixel_values`` -> the same two), plus the combined model (``input_ids``, ``pixel_values`` ->
``logits_per_image``, ``logits_per_text``, ``text_embeds``, ``image_embeds``), all in ``onnx/`` with
dynamic batch and sequence axes, beside ``config.json``, ``preprocessor_config.json`` (SigLIP's image
processor: resize to height x width, rescale, normalise with 0.5) and the tokenizer files (a T5-style
SentencePiece tokenizer trained here, padded with its end token as SiglipTokenizer pads).

The conversion also runs onnxslim over the graphs, which changes neither inputs nor outputs; it is
left out here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from tests.engine.replicas import SIGLIP_CONTEXT, sentencepiece_tokenizer, spread_weights

IMAGE_SIZE = 64


def siglip_tokenizer(folder: Path, corpus: list[str]) -> Path:
    """A SentencePiece tokenizer with SiglipTokenizer's settings: ``</s>`` ends and pads every text."""
    path = sentencepiece_tokenizer(folder, corpus)
    special = {"eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        **special, "model_max_length": SIGLIP_CONTEXT, "do_lower_case": True, "tokenizer_class": "SiglipTokenizer"},
        indent=2))
    return path


def build_siglip(tokenizer_dir: Path, seed: int = 0) -> Any:
    """A tiny random-weight transformers SiglipModel with a trained-looking logit scale and bias."""
    import torch
    from transformers import SiglipConfig, SiglipModel

    vocab = json.loads((tokenizer_dir / "tokenizer.json").read_text())["model"]["vocab"]
    common = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = SiglipConfig(
        text_config={**common, "vocab_size": len(vocab), "max_position_embeddings": SIGLIP_CONTEXT},
        vision_config={**common, "image_size": IMAGE_SIZE, "patch_size": 16})
    torch.manual_seed(seed)
    model = SiglipModel(config).eval()
    spread_weights(model, logit_scale=2.3, logit_bias=-7.5)
    return model


def _export(module: Any, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            axes: dict[str, dict[int, str]]) -> None:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=14, dynamo=False)


def export_transformers_js(model: Any, tokenizer_dir: Path, out: Path, *, combined: bool = True) -> Path:
    """Write ``out`` in the transformers.js layout (see the module's docstring)."""
    import torch
    from transformers import SiglipImageProcessor, SiglipTextModel, SiglipVisionModel

    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    ids = torch.ones(2, SIGLIP_CONTEXT, dtype=torch.int64)
    pixels = torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE)
    with tempfile.TemporaryDirectory() as saved:
        model.save_pretrained(saved)
        text = SiglipTextModel.from_pretrained(saved, attn_implementation="eager").eval()
        vision = SiglipVisionModel.from_pretrained(saved, attn_implementation="eager").eval()
        whole = type(model).from_pretrained(saved, attn_implementation="eager").eval()
        config = json.loads((Path(saved) / "config.json").read_text())
    text.config.return_dict, vision.config.return_dict = False, False
    _export(text, (ids,), onnx_dir / "text_model.onnx", ["input_ids"], ["last_hidden_state", "pooler_output"],
            {"input_ids": {0: "batch_size", 1: "sequence_length"},
             "last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"}})
    _export(vision, (pixels,), onnx_dir / "vision_model.onnx", ["pixel_values"], ["last_hidden_state", "pooler_output"],
            {"pixel_values": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"},
             "last_hidden_state": {0: "batch_size"}, "pooler_output": {0: "batch_size"}})
    if combined:
        whole.config.return_dict = False
        _export(whole, (ids, pixels), onnx_dir / "model.onnx", ["input_ids", "pixel_values"],
                ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
                {"input_ids": {0: "text_batch_size", 1: "sequence_length"},
                 "pixel_values": {0: "image_batch_size", 1: "num_channels", 2: "height", 3: "width"},
                 "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
                 "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"},
                 "text_embeds": {0: "text_batch_size"}, "image_embeds": {0: "image_batch_size"}})
    config["photoclip_random_weights"] = True  # never let a replica pass for a real model
    config["_name_or_path"] = "local/siglip-replica"
    (out / "config.json").write_text(json.dumps(config, indent=2))
    SiglipImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}).save_pretrained(str(out))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(tokenizer_dir / name, out / name)
    return out
