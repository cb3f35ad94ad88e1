"""The architecture is checked by machine: Qt only in photoclip.gui, the core free of gui and cli."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "photoclip"
FRONT_ENDS = {"gui", "cli", "__main__", "__init__"}


def core_modules() -> set[str]:
    """Every module of the core, packages included, at any depth."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in FRONT_ENDS:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(("photoclip", *parts)))
    return names


def contracts() -> dict[str, set[str]]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["name"]: set(c["source_modules"]) for c in config["tool"]["importlinter"]["contracts"]}


def covered(module: str, sources: set[str]) -> bool:
    return any(module == s or module.startswith(s + ".") for s in sources)


def test_every_core_module_is_under_both_import_contracts() -> None:
    core = core_modules()
    assert "photoclip.store.catalog" in core and not any(m.startswith("photoclip.gui") for m in core)
    for name in ("Qt lives only in photoclip.gui", "The core imports neither the GUI nor the CLI"):
        missing = {m for m in core if not covered(m, contracts()[name])}
        assert not missing, f"contract '{name}' does not cover {sorted(missing)}: add them in pyproject.toml"


def test_the_tree_shows_the_architecture() -> None:
    """A newcomer finds each layer by folder name; only the facade and shared basics stay at the top."""
    for layer in ("store", "ingest", "index", "search", "organize", "enrich", "engine", "imaging", "library"):
        assert (PACKAGE / layer / "__init__.py").is_file(), f"photoclip/{layer}/ is missing"
    flat = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    # The single running instance that answers the CLI, and the basics all layers share.
    allowed = {"instance", "errors", "jobs", "paths"}
    assert flat <= allowed, f"modules lying flat in photoclip/: {sorted(flat - allowed)}"


def test_core_imports_and_indexes_without_qt(tmp_path: Path) -> None:
    """Run the core with PySide6 made unimportable: catalog, scan and index must not need Qt."""
    photos = tmp_path / "photos"
    photos.mkdir()
    code = f"""
import sys
sys.modules['PySide6'] = None
sys.modules['shiboken6'] = None
sys.path.insert(0, {str(ROOT)!r})
from PIL import Image
Image.new('RGB', (32, 24), 'red').save({str(photos / 'a.jpg')!r})
import importlib
for name in {sorted(core_modules())!r}:
    importlib.import_module(name)
from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder
lib = Library({str(tmp_path / 'lib')!r}, Catalog({str(tmp_path / 'lib' / 'c.sqlite3')!r}),
              engine_factory=FakeEmbedder)
lib.settings.auto_tag = False
lib.add_folder({str(photos)!r})
run = lib.index()
assert run.embed.embedded == 1, run
assert not any(m.startswith('PySide6') and sys.modules[m] is not None for m in sys.modules)
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_every_package_ships_in_the_wheel() -> None:
    """setuptools lists packages by hand here: a new folder missing from the list would be left out of the wheel."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(("photoclip", *p.parent.relative_to(PACKAGE).parts)).rstrip(".")
             for p in PACKAGE.rglob("__init__.py")}
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages in pyproject.toml"


def test_the_front_ends_reach_the_catalog_only_through_the_facade() -> None:
    """The GUI and the CLI use `Library`: reaching into `library.catalog` would skip its events and checks."""
    import re

    pattern = re.compile(r"\b(lib|library|self\.library|self\.w\.library)\.catalog\b")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for front in ("gui", "cli")
                 for path in sorted((PACKAGE / front).rglob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if pattern.search(line)]
    assert not offenders, f"use a Library method instead of library.catalog at {offenders}"
