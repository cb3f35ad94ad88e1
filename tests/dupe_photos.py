"""Real photos (scikit-image's samples) and the copies a library collects of them, written to disk.

Each original is saved as a JPEG with an EXIF capture date and camera, enlarged so it is the biggest
file of its group; its variants are the usual derived copies. Look-alikes are distinct photos that a
coarse comparison could confuse: two textures of one kind, two drawings of a red circle.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

ORIGINALS = ("astronaut", "coffee", "chelsea", "rocket")
VARIANTS = ("resized", "quality60", "png", "webp", "cropped", "brighter", "no_exif", "copy")


def sample(name: str) -> Image.Image:
    from skimage import data

    pixels = getattr(data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return Image.fromarray(np.ascontiguousarray(pixels[..., :3]).astype(np.uint8))


def exif_bytes(taken: str, make: str = "Canon", model: str = "EOS 5D") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken  # DateTimeOriginal
    return exif.tobytes()


@dataclass
class Set:
    originals: dict[str, Path] = field(default_factory=dict)
    variants: dict[str, dict[str, Path]] = field(default_factory=dict)  # original -> variant -> path
    lookalikes: list[Path] = field(default_factory=list)

    def all_paths(self) -> list[Path]:
        out = list(self.originals.values()) + self.lookalikes
        for group in self.variants.values():
            out.extend(group.values())
        return out


def write_variants(original: Image.Image, name: str, folder: Path, copies: Path, taken: str) -> tuple[Path, dict]:
    """The original (JPEG with EXIF) and its derived copies; returns (original path, variant -> path)."""
    big = original.resize((original.width * 2, original.height * 2), Image.Resampling.LANCZOS)
    orig = folder / f"{name}.jpg"
    big.save(orig, quality=95, exif=exif_bytes(taken))
    decoded = Image.open(orig).convert("RGB")
    out: dict[str, Path] = {}
    w, h = decoded.size
    out["resized"] = copies / f"{name}_small.jpg"
    decoded.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(out["resized"], quality=90)
    out["quality60"] = copies / f"{name}_q60.jpg"
    decoded.save(out["quality60"], quality=60)
    out["png"] = copies / f"{name}.png"
    decoded.save(out["png"])
    out["webp"] = copies / f"{name}.webp"
    decoded.save(out["webp"], quality=80)
    out["cropped"] = copies / f"{name}_crop.jpg"  # 5% trimmed: 2.5% off each side
    decoded.crop((round(w * 0.025), round(h * 0.025), round(w * 0.975), round(h * 0.975))).save(
        out["cropped"], quality=90)
    out["brighter"] = copies / f"{name}_bright.jpg"
    ImageEnhance.Brightness(decoded).enhance(1.1).save(out["brighter"], quality=90)
    out["no_exif"] = copies / f"{name}_noexif.jpg"
    decoded.save(out["no_exif"], quality=95)
    out["copy"] = copies / "again" / f"{name}.jpg"
    out["copy"].parent.mkdir(exist_ok=True)
    shutil.copyfile(orig, out["copy"])
    return orig, out


def write_set(base: Path) -> Set:
    """Originals in ``base/photos``, derived copies in ``base/copies``, look-alikes in ``base/other``."""
    from tests.engine.test_toy_clip import draw

    folders = [base / "photos", base / "copies", base / "other"]
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    result = Set()
    for i, name in enumerate(ORIGINALS):
        orig, variants = write_variants(sample(name), name, folders[0], folders[1], f"2021:05:0{i + 1} 10:00:00")
        result.originals[name] = orig
        result.variants[name] = variants
    # Distinct photos of one kind of scene: textures of stone and grass, and two drawings of a red circle.
    for name in ("grass", "gravel", "brick"):
        path = folders[2] / f"{name}.jpg"
        sample(name).save(path, quality=90)
        result.lookalikes.append(path)
    rng = random.Random(3)
    for k in range(2):
        path = folders[2] / f"circle{k}.png"
        draw("red", "circle", rng).save(path)
        result.lookalikes.append(path)
    return result
