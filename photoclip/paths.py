"""Where PhotoClip keeps its data: the library folder, its catalog, index, thumbnails and models.

The library location is ``--library DIR``, else ``PHOTOCLIP_LIBRARY``, else the platform's user
data dir. Models live in ``PHOTOCLIP_MODELS`` or a ``models`` folder of the user data dir, shared
by every library of the user.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "PhotoClip"
CATALOG_NAME = "catalog.sqlite3"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_library_dir() -> Path:
    env = os.environ.get("PHOTOCLIP_LIBRARY")
    return Path(env).expanduser() if env else user_data_dir() / "library"


def resolve_library_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    return Path(cli_value).expanduser() if cli_value else default_library_dir()


def models_dir() -> Path:
    env = os.environ.get("PHOTOCLIP_MODELS")
    return Path(env).expanduser() if env else user_data_dir() / "models"


def resources_dir() -> Path:
    """The folder of shipped data files: the checkout's (or frozen app's) ``resources/``, else the copy
    the wheel installs as ``photoclip/resources``."""
    here = Path(__file__).resolve().parent
    source = here.parent / "resources"
    if (source / "tags.json").is_file():
        return source
    return here / "resources"
