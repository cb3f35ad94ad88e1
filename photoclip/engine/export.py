"""Export a transformers CLIP checkpoint to a PhotoClip bundle (needs the ``export`` extra).

torch and transformers are imported here only, lazily: nothing at run time depends on them. Both
towers are exported with a dynamic batch axis (and a dynamic token axis for text, so a query runs
on its real tokens only), then checked against PyTorch before the bundle is written.

The text tower returns the projected embedding pooled at the end-of-text token the way transformers
pools it; it takes no attention mask, because CLIP's causal mask never lets the end token see the
padding after it.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from photoclip import paths
from photoclip.engine.bundle import (
    IMAGE_FILE,
    TEXT_FILE,
    TOKENIZER_FILE,
    BundleInfo,
    check_name,
    name_from_folder,
    read_bundle,
    sha256_file,
    write_manifest,
)
from photoclip.engine.preprocess import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from photoclip.engine.tokenizer import ClipTokenizer
from photoclip.errors import ModelError

OPSET = 17
FP32_PARITY = 0.9999  # minimum cosine between ONNX and PyTorch embeddings for an fp32 export
ARCHS = ("vit-b-32", "tiny")
_PARITY_TEXTS = (
    "a photo of a dog",
    "a red circle on a blue background",
    "two people walking on a beach at sunset, seen from far away",
    "x",
    "a very long caption " * 12,
)


@dataclass(frozen=True)
class ExportReport:
    """What an export produced and how closely ONNX matches PyTorch (minimum cosine per tower)."""

    info: BundleInfo
    image_cosine: float
    text_cosine: float
    seconds: float
    sizes: dict[str, int]

    def lines(self) -> list[str]:
        mb = {k: f"{v / 1e6:.1f} MB" for k, v in self.sizes.items()}
        return [
            f"exported {self.info.name} ({self.info.precision}) to {self.info.path} in {self.seconds:.0f} s",
            f"parity with PyTorch: image cosine >= {self.image_cosine:.6f}, text cosine >= {self.text_cosine:.6f}",
            "files: " + ", ".join(f"{k} {v}" for k, v in mb.items()),
        ]


def _import_torch() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ModelError(
            'Exporting needs PyTorch and transformers: pip install "photoclip[export]" '
            "(for a CPU-only torch: pip install torch --index-url https://download.pytorch.org/whl/cpu)."
        ) from exc
    return torch, transformers


def _towers(torch: Any, model: Any) -> tuple[Any, Any]:
    class ImageTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vision_model = model.vision_model
            self.visual_projection = model.visual_projection

        def forward(self, pixel_values: Any) -> Any:
            pooled = self.vision_model(pixel_values=pixel_values, return_dict=True).pooler_output
            return self.visual_projection(pooled)

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.text_model = model.text_model
            self.text_projection = model.text_projection

        def forward(self, input_ids: Any) -> Any:
            pooled = self.text_model(input_ids=input_ids, return_dict=True).pooler_output
            return self.text_projection(pooled)

    return ImageTower().eval(), TextTower().eval()


def _onnx_export(
    torch: Any, module: Any, example: Any, path: Path, input_name: str, output_name: str, dynamic: dict[int, str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings concern transformers' internals, checked by parity below
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes={input_name: dynamic, output_name: {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantization with per-tensor QInt8 weights, the fastest variant on AVX2 CPUs."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantizer logs advice about static quantization on the root logger
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QInt8,
            per_channel=False,
            op_types_to_quantize=["MatMul", "Gather"],
        )
    finally:
        logging.disable(previous)


def _to_fp16(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    onnx.save(model, str(dst))


def _cosines(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.min(np.sum(a * b, axis=1)))


def _run_onnx(model: Path, name: str, data: np.ndarray) -> np.ndarray:
    from photoclip.engine.runtime import import_onnxruntime

    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {name: data})[0], dtype=np.float32)


def _parity_inputs(tokenizer: ClipTokenizer, image_size: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    pixels = rng.standard_normal((3, 3, image_size, image_size)).astype(np.float32)
    unpadded = [tokenizer.encode([t]) for t in _PARITY_TEXTS]
    batch = tokenizer.encode(list(_PARITY_TEXTS), pad_to=tokenizer.context_length)
    return pixels, [*unpadded, batch]


def export_clip_model(
    model: Any,
    out: Path,
    *,
    name: str,
    tokenizer_path: Path,
    source: str,
    random: bool = False,
    image_mean: tuple[float, float, float] = OPENAI_CLIP_MEAN,
    image_std: tuple[float, float, float] = OPENAI_CLIP_STD,
    resize_size: int | None = None,
    int8: bool = False,
    fp16: bool = False,
    force: bool = False,
) -> ExportReport:
    """Export a loaded transformers ``CLIPModel`` to a bundle folder ``out`` (written atomically)."""
    torch, _ = _import_torch()
    if int8 and fp16:
        raise ModelError("Choose either --int8 (CPU) or --fp16 (GPU), not both.")
    out = Path(out)
    check_name(name)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ModelError(f"{out} already exists and is not empty; choose another --out or pass --force.")
    started = time.perf_counter()
    config = model.config
    image_size = int(config.vision_config.image_size)
    context = int(config.text_config.max_position_embeddings)
    tokenizer = ClipTokenizer(Path(tokenizer_path), context)
    vocab = int(config.text_config.vocab_size)
    if tokenizer.vocab_size > vocab:
        raise ModelError(
            f"The tokenizer has {tokenizer.vocab_size} tokens but the text tower only {vocab}: "
            "they do not belong together."
        )
    model = model.eval().float()
    image_tower, text_tower = _towers(torch, model)
    pixels, token_sets = _parity_inputs(tokenizer, image_size, seed=0)

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        with torch.no_grad():
            ref_image = image_tower(torch.from_numpy(pixels)).numpy()
            ref_texts = [text_tower(torch.from_numpy(ids)).numpy() for ids in token_sets]
            raw_image, raw_text = work / "image.fp32.onnx", work / "text.fp32.onnx"
            _onnx_export(
                torch,
                image_tower,
                torch.from_numpy(pixels[:2]),
                raw_image,
                "pixel_values",
                "image_embeds",
                {0: "batch"},
            )
            _onnx_export(
                torch,
                text_tower,
                torch.from_numpy(token_sets[-1][:2]),
                raw_text,
                "input_ids",
                "text_embeds",
                {0: "batch", 1: "tokens"},
            )
        bundle = work / "bundle"
        bundle.mkdir()
        if int8:
            _quantize_int8(raw_image, bundle / IMAGE_FILE)
            _quantize_int8(raw_text, bundle / TEXT_FILE)
        elif fp16:
            _to_fp16(raw_image, bundle / IMAGE_FILE)
            _to_fp16(raw_text, bundle / TEXT_FILE)
        else:
            shutil.move(raw_image, bundle / IMAGE_FILE)
            shutil.move(raw_text, bundle / TEXT_FILE)
        shutil.copyfile(tokenizer_path, bundle / TOKENIZER_FILE)

        image_cos = _cosines(_run_onnx(bundle / IMAGE_FILE, "pixel_values", pixels), ref_image)
        text_cos = min(
            _cosines(_run_onnx(bundle / TEXT_FILE, "input_ids", ids), ref)
            for ids, ref in zip(token_sets, ref_texts, strict=True)
        )
        precision = "int8" if int8 else "fp16" if fp16 else "fp32"
        if precision == "fp32" and min(image_cos, text_cos) < FP32_PARITY:
            raise ModelError(
                f"The ONNX export does not match PyTorch (cosine image {image_cos:.6f}, text {text_cos:.6f}, "
                f"need {FP32_PARITY}); the bundle was not written."
            )
        files = {f: sha256_file(bundle / f) for f in (IMAGE_FILE, TEXT_FILE, TOKENIZER_FILE)}
        info = BundleInfo(
            name=name,
            path=out,
            dim=int(config.projection_dim),
            image_size=image_size,
            resize_size=resize_size or image_size,
            mean=tuple(float(v) for v in image_mean),  # type: ignore[arg-type]
            std=tuple(float(v) for v in image_std),  # type: ignore[arg-type]
            context_length=context,
            image_model=out / IMAGE_FILE,
            text_model=out / TEXT_FILE,
            tokenizer=out / TOKENIZER_FILE,
            source=source,
            random=random,
            precision=precision,
            files=files,
        )
        write_manifest(bundle, info)
        if out.exists():
            shutil.rmtree(out)
        bundle.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sizes = {f: (out / f).stat().st_size for f in (IMAGE_FILE, TEXT_FILE)}
    return ExportReport(read_bundle(out), image_cos, text_cos, time.perf_counter() - started, sizes)


def _preprocessor_settings(folder: Path | None, image_size: int) -> tuple[Any, Any, int]:
    mean, std, resize = OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, image_size
    if folder is not None and (folder / "preprocessor_config.json").is_file():
        pre = json.loads((folder / "preprocessor_config.json").read_text(encoding="utf-8"))
        mean = tuple(pre.get("image_mean", mean))
        std = tuple(pre.get("image_std", std))
        size = pre.get("size")
        if isinstance(size, dict):
            size = size.get("shortest_edge", size.get("height"))
        resize = int(size) if isinstance(size, int) else image_size
    return mean, std, resize


def export_from_transformers(
    src: str | Path,
    out: Path,
    *,
    name: str | None = None,
    tokenizer: Path | None = None,
    int8: bool = False,
    fp16: bool = False,
    force: bool = False,
) -> ExportReport:
    """Export a local checkpoint folder or a Hugging Face model id (downloaded by transformers).

    The tokenizer is the checkpoint's ``tokenizer.json`` when it has one, else PhotoClip's CLIP
    tokenizer; ``tokenizer`` overrides both.
    """
    _, transformers = _import_torch()
    folder = Path(src) if Path(src).is_dir() else None
    try:
        model = transformers.CLIPModel.from_pretrained(str(src))
    except OSError as exc:
        raise ModelError(f"Cannot load a CLIP checkpoint from '{src}': {str(exc).splitlines()[0]}") from exc
    except (ValueError, TypeError) as exc:
        raise ModelError(f"'{src}' is not a CLIP checkpoint transformers can load: {exc}") from exc
    if tokenizer is None:
        local = folder / TOKENIZER_FILE if folder is not None else None
        tokenizer = local if local is not None and local.is_file() else paths.resources_dir() / "clip_tokenizer.json"
    mean, std, resize = _preprocessor_settings(folder, int(model.config.vision_config.image_size))
    default_name = name_from_folder(folder) if folder is not None else str(src).split("/")[-1]
    return export_clip_model(
        model,
        out,
        name=name or default_name,
        tokenizer_path=tokenizer,
        source=str(src),
        random=False,
        image_mean=mean,
        image_std=std,
        resize_size=resize,
        int8=int8,
        fp16=fp16,
        force=force,
    )


def random_config(arch: str) -> Any:
    """The transformers config for ``arch``: CLIPConfig defaults are exactly ViT-B/32."""
    _, transformers = _import_torch()
    if arch == "vit-b-32":
        return transformers.CLIPConfig()
    if arch == "tiny":  # a few MB, for fast tests of the whole pipeline
        return transformers.CLIPConfig(
            text_config={
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "max_position_embeddings": 77,
            },
            vision_config={
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "image_size": 64,
                "patch_size": 16,
            },
            projection_dim=32,
        )
    raise ModelError(f"Unknown architecture '{arch}': choose one of {', '.join(ARCHS)}.")


def export_random(
    arch: str,
    out: Path,
    *,
    seed: int = 0,
    name: str | None = None,
    int8: bool = False,
    fp16: bool = False,
    force: bool = False,
) -> ExportReport:
    """A bundle of the real architecture with random weights, offline: for tests and benchmarks only."""
    torch, transformers = _import_torch()
    config = random_config(arch)
    torch.manual_seed(seed)
    model = transformers.CLIPModel(config)
    suffix = "-int8" if int8 else "-fp16" if fp16 else ""
    return export_clip_model(
        model,
        out,
        name=name or f"random-{arch}{suffix}",
        tokenizer_path=paths.resources_dir() / "clip_tokenizer.json",
        source=f"random init ({arch}, seed {seed})",
        random=True,
        int8=int8,
        fp16=fp16,
        force=force,
    )
