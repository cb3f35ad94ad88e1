"""Test generators: random-weight replicas of published model folders, built by the same tooling.

An Immich folder (``immich-app/<model>``) is made by open_clip and Immich's exporter; here a small
open_clip CLIP with random weights goes through the same steps: ``encode_image``/``encode_text`` with
``normalize=True`` traced by torch's ONNX exporter, input names ``image``/``text``, text ids int32 at the
full context length, open_clip's model config as ``config.json`` and its preprocess config as
``visual/preprocess_cfg.json``. Two exporter generations are reproduced: "dynamic" (opset 17, dynamic
batch, outputs ``image_embedding``/``text_embedding``) and "fixed" (batch 1, outputs ``embedding``).

Needs torch and open_clip_torch (installed without its torchvision dependency: a stand-in module
is put in ``sys.modules`` when torchvision is missing, enough to build and export models).

Usage as a script (for a full-size replica): python -m tests.engine.replicas OUT [--arch ViT-B-32]
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import shutil
import sys
import types
import warnings
from pathlib import Path
from typing import Any

from photoclip import paths

TINY_NAME = "photoclip-tiny-openclip"
TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


class _StandInMeta(type):
    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return attr.lower()


class _StandIn(metaclass=_StandInMeta):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class _TorchvisionStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Any ``torchvision.*`` import gives a module whose every name is an inert class."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []

        def attr(name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            return type(name, (_StandIn,), {})

        module.__getattr__ = attr  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def import_open_clip() -> Any:
    """open_clip, with a torchvision stand-in when the real one is missing or broken."""
    if "open_clip" in sys.modules:
        return sys.modules["open_clip"]
    try:
        import torchvision  # noqa: F401
    except Exception:
        pass
    else:
        import open_clip

        return open_clip
    try:  # transformers notes once, on import, which optional packages exist: let it see no torchvision
        import transformers  # noqa: F401
    except ImportError:
        pass
    finder = _TorchvisionStandIn()
    _forget_torchvision()
    sys.meta_path.insert(0, finder)
    try:
        import open_clip
    finally:
        # Only open_clip keeps the stand-in: others (transformers) must go on seeing no torchvision.
        sys.meta_path.remove(finder)
        _forget_torchvision()
    return open_clip


def _forget_torchvision() -> None:
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def build_model(arch: str = TINY_NAME, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """A random-weight open_clip model and its model config (as open_clip's config files hold it)."""
    import torch

    open_clip = import_open_clip()
    if arch == TINY_NAME:
        from open_clip import factory

        factory._MODEL_CONFIGS[TINY_NAME] = json.loads(json.dumps(TINY_CONFIG))
    config = open_clip.get_model_config(arch)
    if config is None:
        raise ValueError(f"open_clip has no model {arch}")
    torch.manual_seed(seed)
    model = open_clip.create_model(arch, pretrained=None)
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    with torch.no_grad():  # open_clip initialises some projections to zero-ish scales; spread them out
        for param in model.parameters():
            if param.ndim >= 2:
                param.normal_(0.0, 0.05)
    return model, config


def _wrap(model: Any, which: str) -> Any:
    import torch

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: Any) -> Any:
            if which == "image":
                return self.model.encode_image(x, normalize=True)
            return self.model.encode_text(x, normalize=True)

    return Tower().eval()


def export_immich(model: Any, config: dict[str, Any], out: Path, *, generation: str = "fixed",
                  mark_random: bool = True) -> Path:
    """Write an Immich-layout folder for ``model`` the way Immich's exporter does."""
    import torch

    open_clip = import_open_clip()
    size = int(config["vision_cfg"]["image_size"])
    context = int(config["text_cfg"].get("context_length", 77))
    (out / "visual").mkdir(parents=True, exist_ok=True)
    (out / "textual").mkdir(parents=True, exist_ok=True)
    written = dict(config)
    if mark_random:
        written["photoclip_random_weights"] = True  # never let a replica pass for a real model
    (out / "config.json").write_text(json.dumps(written, indent=2))
    (out / "visual" / "preprocess_cfg.json").write_text(json.dumps(open_clip.get_model_preprocess_cfg(model)))
    dynamic = generation == "dynamic"
    torch.backends.mha.set_fastpath_enabled(False)  # as Immich's exporter: the fused kernel has no ONNX form
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _wrap(model, "image"), (torch.randn(1, 3, size, size),), str(out / "visual" / "model.onnx"),
            input_names=["image"], output_names=["image_embedding" if dynamic else "embedding"],
            opset_version=17, dynamic_axes={"image": {0: "batch_size"}} if dynamic else None, dynamo=False,
        )
        torch.onnx.export(
            _wrap(model, "text"), (torch.ones(1, context, dtype=torch.int32),), str(out / "textual" / "model.onnx"),
            input_names=["text"], output_names=["text_embedding" if dynamic else "embedding"],
            opset_version=17, dynamic_axes={"text": {0: "batch_size"}} if dynamic else None, dynamo=False,
        )
    write_clip_tokenizer_files(out / "textual", context)
    return out


def write_clip_tokenizer_files(folder: Path, context: int) -> None:
    """The CLIP tokenizer files as transformers' ``save_pretrained`` leaves them (for open_clip CLIP models)."""
    shutil.copyfile(paths.resources_dir() / "clip_tokenizer.json", folder / "tokenizer.json")
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
               "unk_token": "<|endoftext|>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        **special, "model_max_length": context, "tokenizer_class": "CLIPTokenizer", "do_lower_case": True}))


def reference_tokenize(texts: list[str], context: int) -> Any:
    """open_clip's own CLIP tokenizer (the reference for ids)."""
    open_clip = import_open_clip()
    return open_clip.tokenize(texts, context_length=context)


if __name__ == "__main__":  # pragma: no cover - a manual tool
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--arch", default="ViT-B-32")
    parser.add_argument("--generation", choices=["fixed", "dynamic"], default="fixed")
    args = parser.parse_args()
    built, cfg = build_model(args.arch)
    export_immich(built, cfg, args.out, generation=args.generation)
    print(f"wrote {args.out}")


SIGLIP_NAME = "photoclip-tiny-siglip"
SIGLIP_CONTEXT = 64


def sentencepiece_tokenizer(folder: Path, corpus: list[str], vocab_size: int = 1500) -> Path:
    """A T5-style SentencePiece (Unigram) tokenizer.json trained on ``corpus``, with the files
    ``save_pretrained`` writes beside it: ``</s>`` appended to every text, ``<pad>`` for padding."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>")
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    tok.save(str(folder / "tokenizer.json"))
    special = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        **special, "model_max_length": SIGLIP_CONTEXT, "tokenizer_class": "PreTrainedTokenizerFast"}))
    return folder / "tokenizer.json"


def build_siglip_like(tokenizer_dir: Path, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """A random-weight open_clip model with SigLIP's text and image handling: no causal mask, the last
    of 64 positions pooled (so padding counts), a SentencePiece tokenizer with canonical cleaning,
    mean/std 0.5 and squash resizing, and a logit bias."""
    import torch

    open_clip = import_open_clip()
    from open_clip import factory

    vocab = json.loads((tokenizer_dir / "tokenizer.json").read_text())["model"]["vocab"]
    config = {
        "embed_dim": 32,
        "init_logit_bias": -10,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
        "text_cfg": {"context_length": SIGLIP_CONTEXT, "vocab_size": len(vocab), "width": 64, "heads": 2,
                     "layers": 2, "no_causal_mask": True, "pool_type": "last", "proj_bias": True,
                     "hf_tokenizer_name": str(tokenizer_dir), "tokenizer_kwargs": {"clean": "canonicalize"}},
    }
    factory._MODEL_CONFIGS[SIGLIP_NAME] = json.loads(json.dumps(config))
    torch.manual_seed(seed)
    model = open_clip.create_model(SIGLIP_NAME, pretrained=None, force_preprocess_cfg={
        "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "interpolation": "bicubic", "resize_mode": "squash"})
    model.eval()
    spread_weights(model, logit_scale=4.7, logit_bias=-12.5)
    return model, config


def spread_weights(model: Any, *, logit_scale: float, logit_bias: float) -> None:
    """Random matrices spread enough that tiny random towers tell inputs apart, and a sigmoid head's
    constants set to known values (so a test can check they are read back)."""
    import torch

    with torch.no_grad():
        for param in model.parameters():
            param.requires_grad_(False)
            if param.ndim >= 2:
                param.normal_(0.0, 0.05)
        model.logit_scale.fill_(logit_scale)
        model.logit_bias.fill_(logit_bias)


def export_siglip_like(model: Any, config: dict[str, Any], tokenizer_dir: Path, out: Path) -> Path:
    """Immich's layout for the SigLIP-like model (fixed batch), with the trained scale and bias recorded."""
    export_immich(model, config, out, generation="fixed")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(tokenizer_dir / name, out / "textual" / name)
    written = json.loads((out / "config.json").read_text())
    written["text_cfg"]["hf_tokenizer_name"] = "local/sentencepiece-replica"
    written["logit_scale"] = float(model.logit_scale.exp())
    written["logit_bias"] = float(model.logit_bias)
    (out / "config.json").write_text(json.dumps(written, indent=2))
    return out


def reference_hf_tokenizer(tokenizer_dir: Path, context: int = SIGLIP_CONTEXT) -> Any:
    """open_clip's HFTokenizer on the local tokenizer folder (transformers' AutoTokenizer underneath)."""
    import_open_clip()
    from open_clip.tokenizer import HFTokenizer

    return HFTokenizer(str(tokenizer_dir), context_length=context, clean="canonicalize")
