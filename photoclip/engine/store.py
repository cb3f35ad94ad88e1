"""The model store: installed bundles in the models folder, and which one is active.

Every install goes through a temporary folder inside the store that is validated and then renamed
into place, so an interrupted or failed install never leaves a half-copied model behind.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import tempfile
import time
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
from photoclip.engine.onnxcheck import check_onnx_file
from photoclip.engine.validate import validate_bundle
from photoclip.errors import ModelError, NoModelError

ACTIVE_FILE = "active.json"
VERIFIED_FILE = ".verified.json"  # in each bundle: the size and mtime each file had when its hash matched
_TEMP_PREFIX = ".install-"
MAX_TOKENIZER_BYTES = 64 << 20  # real tokenizer files are a few MB
DISK_MARGIN = 32 << 20  # left free after an install, for the manifest and the rest of the system
STALE_SECONDS = 24 * 3600  # where a process cannot be asked whether it lives: an install older is abandoned


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _abandoned(folder: Path) -> bool:
    """A temporary folder whose installing process has ended (its pid follows the prefix)."""
    parts = folder.name[len(_TEMP_PREFIX) :].split("-", 1)
    if parts[0].isdigit() and sys.platform != "win32":
        return not _pid_alive(int(parts[0]))
    try:
        return time.time() - folder.stat().st_mtime > STALE_SECONDS or not parts[0].isdigit()
    except OSError:
        return False


def _disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)


def _space_message(root: Path, needed: int, exc: OSError | None = None) -> str:
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        free = 0
    what = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return (
        f"Not enough free disk space to install the model{what}: it needs {needed / 2**20:.0f} MB and "
        f"{free / 2**20:.0f} MB are free on the drive of {root}. Free some space and try again; nothing "
        "was installed."
    )


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

    def _temp_dir(self, label: str) -> Path:
        """A private folder for one change, named with this process's id so a later start can tell
        a live install from one that was killed."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-{label}-", dir=self.root))

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
        needed = self.preflight(info)
        self.cleanup()
        try:
            temp = self._temp_dir(name)
            os.chmod(temp, _umask_mode(0o777))
        except OSError as exc:
            if _disk_full(exc):
                raise ModelError(_space_message(self.root, needed, exc)) from exc
            raise ModelError(f"Cannot write to the models folder {self.root}: {exc.strerror or exc}") from exc
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
            _write_stamps(temp, files)
            self._swap_in(temp, target)
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            if _disk_full(exc):
                raise ModelError(_space_message(self.root, needed, exc)) from exc
            where = exc.filename or self.root
            raise ModelError(f"Installing the model failed: {exc.strerror or exc} ({where}).") from exc
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        if self.active() is None:
            self.set_active(name)
        return self.get(name)

    def preflight(self, info: BundleInfo) -> int:
        """Check a bundle before a byte is copied: ONNX files look like ONNX, sizes are plausible and
        the drive has room. Returns the bytes the copy needs."""
        for model in (info.image_model, info.text_model):
            check_onnx_file(model)
        try:
            tokenizer_size = info.tokenizer.stat().st_size
            with open(info.tokenizer, "rb") as fh:
                first = fh.read(64).lstrip()
        except OSError as exc:
            raise ModelError(f"Cannot read {info.tokenizer}: {exc.strerror or exc}") from exc
        if tokenizer_size > MAX_TOKENIZER_BYTES or not first.startswith(b"{"):
            raise ModelError(f"{info.tokenizer} is not a tokenizer file (expected a JSON file of a few MB).")
        sources = (info.image_model, info.text_model, info.tokenizer, *info.extra_files)
        needed = sum(p.stat().st_size for p in sources) + DISK_MARGIN
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            free = shutil.disk_usage(self.root).free
        except OSError:
            return needed
        if free < needed:
            raise ModelError(_space_message(self.root, needed))
        return needed

    def verify(self, info: BundleInfo, *, full: bool = False) -> None:
        """Raise ModelError if an installed bundle's files no longer have the sha256 its manifest records.

        Files whose size and modification time are those recorded when they last matched are not
        read again (a load costs a few stat calls); ``full`` hashes everything regardless.
        """
        stamps = _read_stamps(info.path)
        fresh: dict[str, list[int | str]] = {}
        for relative, expected in sorted(info.files.items()):
            path = info.path / relative
            try:
                st = path.stat()
            except OSError as exc:
                raise ModelError(f"The model '{info.name}' is missing {relative}: {exc.strerror or exc}.") from exc
            stamp: list[int | str] = [st.st_size, st.st_mtime_ns, expected]
            if not full and stamps.get(relative) == stamp:
                fresh[relative] = stamp
                continue
            if expected and sha256_file(path) != expected:
                raise ModelError(
                    f"The model '{info.name}' is damaged: {relative} changed since it was installed (its "
                    f"sha256 no longer matches). Remove it and install it again: photoclip models remove "
                    f"{info.name}"
                )
            fresh[relative] = stamp
        if fresh != stamps:
            _store_stamps(info.path, fresh)

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
        old = self._temp_dir("old")
        os.rename(target, old / "bundle")
        os.rename(temp, target)
        shutil.rmtree(old, ignore_errors=True)

    def remove(self, name: str) -> None:
        info = self.get(name)
        was_active = (active := self.active()) is not None and active.name == info.name
        trash = self._temp_dir("remove")
        os.rename(info.path, trash / "bundle")
        shutil.rmtree(trash, ignore_errors=True)
        if was_active:
            (self.root / ACTIVE_FILE).unlink(missing_ok=True)

    def cleanup(self) -> list[Path]:
        """Delete temporary folders left by an install that was killed midway (not a running one's)."""
        removed: list[Path] = []
        try:
            entries = list(self.root.iterdir()) if self.root.is_dir() else []
        except OSError:
            return removed
        for p in entries:
            if p.is_dir() and p.name.startswith(_TEMP_PREFIX) and _abandoned(p):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        return removed


def _read_stamps(folder: Path) -> dict[str, list[int | str]]:
    try:
        data = json.loads((folder / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): list(v) for k, v in data.items() if isinstance(v, list)} if isinstance(data, dict) else {}


def _store_stamps(folder: Path, stamps: dict[str, list[int | str]]) -> None:
    """Best effort: a read-only models folder only means the next load hashes again."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".verified-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stamps, fh)
        os.replace(tmp, folder / VERIFIED_FILE)
    except OSError:
        pass


def _write_stamps(folder: Path, hashes: dict[str, str]) -> None:
    """Record the files just copied and hashed, so the first load need not read them again."""
    stamps: dict[str, list[int | str]] = {}
    for relative, digest in hashes.items():
        st = (folder / relative).stat()
        stamps[relative] = [st.st_size, st.st_mtime_ns, digest]
    _store_stamps(folder, stamps)
