"""The facade that the GUI and the CLI both drive: one library folder, its catalog, model and index.

``Library`` is built from parts passed in (catalog, model store, an engine factory), so tests can
hand it a toy engine and a temporary folder; ``Library.open(dir)`` wires the real ones. It holds no
UI state and never prints: long operations take a progress sink and a cancel token. Its methods are
grouped by what they do: ``core`` (parts, events, models), ``ingesting`` (folders, index runs),
``reading`` (status, browsing, search) and ``organizing`` (a person's edits and their undo).
"""

from __future__ import annotations

from photoclip.library.core import SETTINGS_NAME, LibraryCore
from photoclip.library.ingesting import Ingesting
from photoclip.library.organizing import Organizing
from photoclip.library.reading import Reading
from photoclip.library.records import (
    BrowseColumns,
    BrowseItem,
    FileInfo,
    FolderInfo,
    IndexRun,
    LibraryEvent,
    Status,
)


class Library(Ingesting, Reading, Organizing):
    """One photo library: folders, catalog, vectors, tags and albums."""


__all__ = [
    "SETTINGS_NAME",
    "BrowseColumns",
    "BrowseItem",
    "FileInfo",
    "FolderInfo",
    "IndexRun",
    "Library",
    "LibraryCore",
    "LibraryEvent",
    "Status",
]
