"""Model bundles: one folder per model with both towers, the tokenizer and a manifest.

Three layouts are read:

* PhotoClip's own: ``photoclip.json`` (the manifest), ``image.onnx``, ``text.onnx``,
  ``tokenizer.json``. Written by the exporter and by every install.
* The Hugging Face / transformers.js layout as downloaded: ``onnx/vision_model*.onnx``,
  ``onnx/text_model*.onnx``, ``tokenizer.json``, ``preprocessor_config.json``, ``config.json``
  (CLIP and SigLIP; read in ``huggingface.py``).
* Immich's (``immich-app/<model>`` on the hub, made by open_clip and Immich's exporter):
  ``config.json``, ``visual/model.onnx``, ``visual/preprocess_cfg.json``, ``textual/model.onnx``,
  ``textual/tokenizer.json`` and ``textual/tokenizer_config.json`` (read in ``immich.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from photoclip.engine.preprocess import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from photoclip.errors import ModelError

MANIFEST_NAME = "photoclip.json"
MANIFEST_FORMAT = 2  # 2 added the text and image handling fields below (SigLIP, multilingual models)
TOKENIZER_KINDS = ("clip", "template")  # CLIP BPE with start/end added here, or the file's own post-processor
TEXT_CLEANING = ("clip", "canonicalize", "whitespace")
RESIZE_MODES = ("shortest", "squash")
INTERPOLATIONS = ("bicubic", "bilinear")
IMAGE_FILE = "image.onnx"
TEXT_FILE = "text.onnx"
TOKENIZER_FILE = "tokenizer.json"
PRECISIONS = ("fp32", "fp16", "int8")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_name(name: str) -> str:
    """Model names become folder names: keep them short and portable."""
    if not _NAME_RE.match(name) or name in (".", ".."):
        raise ModelError(f"'{name}' is not a valid model name: use letters, digits, '.', '_' or '-' (at most 64).")
    return name


def name_from_folder(folder: Path) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")
    return cleaned[:64] or "model"


@dataclass(frozen=True)
class BundleInfo:
    """What the engine needs to know about a bundle, whatever its layout on disk."""

    name: str
    path: Path
    dim: int
    image_size: int  # the crop fed to the image tower
    resize_size: int  # shortest side before the centre crop
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    context_length: int
    image_model: Path
    text_model: Path
    tokenizer: Path
    source: str = ""
    random: bool = False
    precision: str = "fp32"
    layout: str = "photoclip"  # or "huggingface"
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 ("" if unknown)
    extra_files: tuple[Path, ...] = ()  # external weight files next to the towers
    # Text handling. CLIP's causal mask makes padding irrelevant; SigLIP's text tower sees every position,
    # so it must get exactly the padding it was trained with.
    tokenizer_kind: str = "clip"
    text_clean: str = "clip"
    pad_id: int = 0
    pad_to_context: bool = False
    language_prefix: bool = False  # NLLB: the query starts with a language token (e.g. "eng_Latn")
    # Image handling.
    resize_mode: str = "shortest"
    interpolation: str = "bicubic"
    # The model's own calibration of similarity into a probability (SigLIP's sigmoid scale and bias).
    logit_scale: float | None = None
    logit_bias: float | None = None

    def handling(self) -> dict[str, Any]:
        """The text and image handling fields, as the manifest stores them."""
        return {name: getattr(self, name) for name in HANDLING_FIELDS}

    def manifest(self) -> dict[str, Any]:
        """The ``photoclip.json`` content describing this bundle in PhotoClip's layout."""
        default_handling = self.handling() == default_handling_fields()
        return {
            "format": 1 if default_handling else MANIFEST_FORMAT,
            "name": self.name,
            "dim": self.dim,
            "image_size": self.image_size,
            "resize_size": self.resize_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "context_length": self.context_length,
            "source": self.source,
            "random": self.random,
            "precision": self.precision,
            "image_model": IMAGE_FILE,
            "text_model": TEXT_FILE,
            "tokenizer": TOKENIZER_FILE,
            "files": dict(sorted(self.files.items())),
            **({} if default_handling else self.handling()),
        }

    def with_name(self, name: str) -> BundleInfo:
        return replace(self, name=check_name(name))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("path", "image_model", "text_model", "tokenizer"):
            data[key] = str(data[key])
        data["extra_files"] = [str(p) for p in self.extra_files]
        return data


HANDLING_FIELDS = ("tokenizer_kind", "text_clean", "pad_id", "pad_to_context", "language_prefix", "resize_mode",
                   "interpolation", "logit_scale", "logit_bias")


def default_handling_fields() -> dict[str, Any]:
    """CLIP's handling: a bundle with these needs nothing a format-1 reader does not know."""
    return {name: BundleInfo.__dataclass_fields__[name].default for name in HANDLING_FIELDS}


def handling_from(data: dict[str, Any], where: Path) -> dict[str, Any]:
    """Validated handling fields from a manifest (absent ones keep CLIP's defaults)."""
    out: dict[str, Any] = {}
    choices = {"tokenizer_kind": TOKENIZER_KINDS, "text_clean": TEXT_CLEANING, "resize_mode": RESIZE_MODES,
               "interpolation": INTERPOLATIONS}
    for key, allowed in choices.items():
        if key in data:
            if data[key] not in allowed:
                raise ModelError(f"{where}: '{key}' is {data[key]!r}; this PhotoClip knows {', '.join(allowed)}.")
            out[key] = str(data[key])
    if "pad_id" in data:
        out["pad_id"] = int(data["pad_id"])
    for key in ("pad_to_context", "language_prefix"):
        if key in data:
            out[key] = bool(data[key])
    for key in ("logit_scale", "logit_bias"):
        if data.get(key) is not None:
            out[key] = float(data[key])
    return out


def write_manifest(folder: Path, info: BundleInfo) -> Path:
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(info.manifest(), indent=2) + "\n", encoding="utf-8")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"The model bundle is missing {path.name} ({path}).") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object.")
    return data


def _triple(value: Any, what: str, path: Path) -> tuple[float, float, float]:
    try:
        items = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        items = ()
    if len(items) != 3:
        raise ModelError(f"{path}: '{what}' must be three numbers, found {value!r}.")
    return items  # type: ignore[return-value]


def _require(folder: Path, relative: str) -> Path:
    path = folder / relative
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise ModelError(f"The model bundle {folder} names a file outside its folder ({relative}).")
    if not path.is_file():
        raise ModelError(f"The model bundle {folder} is missing {relative}.")
    return path


def _read_photoclip(folder: Path) -> BundleInfo:
    manifest_path = folder / MANIFEST_NAME
    data = _read_json(manifest_path)
    try:
        fmt = int(data.get("format", 1))
        if fmt > MANIFEST_FORMAT:
            raise ModelError(
                f"{manifest_path} uses manifest format {fmt}; this PhotoClip reads up to "
                f"{MANIFEST_FORMAT}. Update PhotoClip."
            )
        image_size = int(data["image_size"])
        info = BundleInfo(
            name=str(data.get("name") or name_from_folder(folder)),
            path=folder,
            dim=int(data["dim"]),
            image_size=image_size,
            resize_size=int(data.get("resize_size", image_size)),
            mean=_triple(data.get("mean", OPENAI_CLIP_MEAN), "mean", manifest_path),
            std=_triple(data.get("std", OPENAI_CLIP_STD), "std", manifest_path),
            context_length=int(data["context_length"]),
            image_model=_require(folder, str(data.get("image_model", IMAGE_FILE))),
            text_model=_require(folder, str(data.get("text_model", TEXT_FILE))),
            tokenizer=_require(folder, str(data.get("tokenizer", TOKENIZER_FILE))),
            source=str(data.get("source", "")),
            random=bool(data.get("random", False)),
            precision=str(data.get("precision", "fp32")),
            layout="photoclip",
            files={str(k): str(v) for k, v in dict(data.get("files", {})).items()},
            **handling_from(data, manifest_path),
        )
    except KeyError as exc:
        raise ModelError(f"{manifest_path} lacks the field {exc.args[0]!r}.") from None
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{manifest_path} has an invalid value: {exc}") from exc
    for relative in info.files:
        _require(folder, relative)
    extra = tuple(folder / rel for rel in info.files if rel.endswith(("_data", ".data")))
    return _checked(replace(info, extra_files=extra))


def _external_data(model: Path) -> tuple[Path, ...]:
    return tuple(p for p in (Path(f"{model}_data"), Path(f"{model}.data")) if p.is_file())


def _checked(info: BundleInfo) -> BundleInfo:
    if info.dim <= 0 or info.image_size <= 0 or info.context_length < 3:
        raise ModelError(f"The model bundle {info.path} declares impossible sizes.")
    if info.resize_size < info.image_size:
        raise ModelError(
            f"The model bundle {info.path} resizes to {info.resize_size} px but crops {info.image_size} px."
        )
    if any(s <= 0 for s in info.std):
        raise ModelError(f"The model bundle {info.path} has a non-positive std.")
    return info


def read_bundle(folder: Path, *, variant: str = "auto") -> BundleInfo:
    """Describe the bundle in ``folder`` (either layout) or raise ModelError saying what is wrong.

    ``variant`` only matters for the Hugging Face layout, which ships several precisions side by
    side: "auto" prefers fp32, then the quantized files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder} is not a folder holding a model bundle.")
    if (folder / MANIFEST_NAME).is_file():
        return _read_photoclip(folder)
    if (folder / "onnx").is_dir():
        from photoclip.engine.huggingface import read_huggingface

        return _checked(read_huggingface(folder, variant))
    if (folder / "visual").is_dir() and (folder / "textual").is_dir():
        from photoclip.engine.immich import read_immich

        return _checked(read_immich(folder, variant))
    raise ModelError(
        f"{folder} is not a model bundle: expected {MANIFEST_NAME} with image.onnx and text.onnx, a "
        "Hugging Face ONNX export (onnx/vision_model.onnx, onnx/text_model.onnx, tokenizer.json), or an "
        "Immich model folder (config.json, visual/model.onnx, textual/model.onnx)."
    )


def verify_checksums(info: BundleInfo) -> None:
    """Compare every file with the sha256 its manifest records; a mismatch means a damaged bundle."""
    for relative, expected in info.files.items():
        if not expected:
            continue
        actual = sha256_file(info.path / relative)
        if actual != expected:
            raise ModelError(
                f"{info.path / relative} is damaged (sha256 {actual[:12]}…, expected {expected[:12]}…). "
                "Remove the model and install it again."
            )
