"""The model store: installed bundles in the models folder, and which one is active.

Every install goes through a temporary folder inside the store that is validated and then renamed
into place, so an interrupted or failed install never leaves a half-copied model behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from photoclip import paths
from photoclip.engine.bundle import (
    IMAGE_FILE,
    MANIFEST_NAME,
    TEXT_FILE,
    TOKENIZER_FILE,
    BundleInfo,
    check_name,
    read_bundle,
    sha256_file,
    write_manifest,
)
from photoclip.engine.validate import validate_bundle
from photoclip.errors import ModelError, NoModelError

ACTIVE_FILE = "active.json"
_TEMP_PREFIX = ".install-"


def _umask_mode(mode: int) -> int:
    """``mode`` as the process umask would make it (mkdtemp and mkstemp create private files)."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def _copy_hashing(src: Path, dst: Path) -> str:
    shutil.copyfile(src, dst)
    return sha256_file(dst)


class ModelStore:
    """Installed model bundles under one folder (``photoclip.paths.models_dir()`` by default)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else paths.models_dir()

    # Reading ------------------------------------------------------------------------------------

    def _bundle_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(
            p
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_NAME).is_file()
        )

    def list(self) -> list[BundleInfo]:
        """Installed bundles by name; a damaged one is left out rather than breaking the listing."""
        found = []
        for folder in self._bundle_dirs():
            try:
                found.append(read_bundle(folder))
            except ModelError:
                continue
        return found

    def names(self) -> list[str]:
        return [info.name for info in self.list()]

    def get(self, name: str) -> BundleInfo:
        folder = self.root / check_name(name)
        if not (folder / MANIFEST_NAME).is_file():
            installed = ", ".join(self.names()) or "none"
            raise NoModelError(f"No model named '{name}' is installed (installed: {installed}).")
        return read_bundle(folder)

    def path(self, name: str) -> Path:
        return self.get(name).path

    # Active model -------------------------------------------------------------------------------

    def active(self) -> BundleInfo | None:
        """The model chosen with ``set_active``, or None when none is chosen or it was removed."""
        try:
            data = json.loads((self.root / ACTIVE_FILE).read_text(encoding="utf-8"))
            name = str(data["name"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            return self.get(name)
        except ModelError:
            return None

    def require_active(self) -> BundleInfo:
        info = self.active()
        if info is None:
            raise NoModelError(
                "No model is active. Download one with 'photoclip models download', or import a folder "
                "with 'photoclip models import DIR', then choose it with 'photoclip models use NAME'."
            )
        return info

    def set_active(self, name: str) -> BundleInfo:
        info = self.get(name)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".active-", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"name": info.name}, fh)
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, self.root / ACTIVE_FILE)
        return info

    # Changing -----------------------------------------------------------------------------------

    def install_from_dir(
        self,
        src: Path,
        name: str | None = None,
        *,
        variant: str = "auto",
        replace_existing: bool = False,
        source: str | None = None,
    ) -> BundleInfo:
        """Validate the bundle in ``src`` (either layout) and install a copy in PhotoClip's layout.

        The first model installed becomes the active one.
        """
        info = read_bundle(Path(src), variant=variant)
        name = check_name(name or info.name)
        target = self.root / name
        if target.exists() and not replace_existing:
            raise ModelError(f"A model named '{name}' is already installed; remove it first or pick another name.")
        self.root.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{name}-", dir=self.root))
        os.chmod(temp, _umask_mode(0o777))
        try:
            files = {
                IMAGE_FILE: _copy_hashing(info.image_model, temp / IMAGE_FILE),
                TEXT_FILE: _copy_hashing(info.text_model, temp / TEXT_FILE),
                TOKENIZER_FILE: _copy_hashing(info.tokenizer, temp / TOKENIZER_FILE),
            }
            for extra in info.extra_files:
                if (temp / extra.name).exists():
                    raise ModelError(f"The bundle {src} has two files named {extra.name}.")
                files[extra.name] = _copy_hashing(extra, temp / extra.name)
            self._check_recorded_hashes(info, files)
            staged = replace(
                info,
                name=name,
                path=temp,
                source=source or info.source,
                files=files,
                layout="photoclip",
            )
            write_manifest(temp, staged)
            validate_bundle(read_bundle(temp))
            self._swap_in(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        if self.active() is None:
            self.set_active(name)
        return self.get(name)

    @staticmethod
    def _check_recorded_hashes(info: BundleInfo, copied: dict[str, str]) -> None:
        """A manifest's recorded sha256 must match what was copied (catches damaged bundles)."""
        by_source = {
            info.image_model: copied[IMAGE_FILE],
            info.text_model: copied[TEXT_FILE],
            info.tokenizer: copied[TOKENIZER_FILE],
        }
        by_source.update({extra: copied[extra.name] for extra in info.extra_files})
        for source_path, actual in by_source.items():
            expected = info.files.get(str(source_path.relative_to(info.path)), "")
            if expected and expected != actual:
                raise ModelError(
                    f"{source_path} does not match the sha256 in its manifest: the bundle is damaged or "
                    "was changed after export."
                )

    def _swap_in(self, temp: Path, target: Path) -> None:
        if not target.exists():
            os.rename(temp, target)
            return
        old = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}old-", dir=self.root))
        os.rename(target, old / "bundle")
        os.rename(temp, target)
        shutil.rmtree(old, ignore_errors=True)

    def remove(self, name: str) -> None:
        info = self.get(name)
        was_active = (active := self.active()) is not None and active.name == info.name
        trash = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}remove-", dir=self.root))
        os.rename(info.path, trash / "bundle")
        shutil.rmtree(trash, ignore_errors=True)
        if was_active:
            (self.root / ACTIVE_FILE).unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Delete temporary folders left by an install that was killed midway."""
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.is_dir() and p.name.startswith(_TEMP_PREFIX):
                    shutil.rmtree(p, ignore_errors=True)
