"""Icons for actions: the desktop's icon theme when it has the icon, else the bundled SVG."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from photoclip.paths import resources_dir

# Our name -> the freedesktop.org icon-naming name a desktop theme would have.
THEME_NAMES = {
    "view": "image-x-generic", "open": "document-open", "folder": "folder-open", "similar": "edit-find",
    "heart": "emblem-favorite", "star": "starred", "album": "folder-pictures", "tag": "tag",
    "copy": "edit-copy", "export": "document-export", "trash": "user-trash", "undo": "edit-undo",
    "redo": "edit-redo", "search": "system-search", "place": "mark-location", "photos": "view-grid",
    "add": "list-add", "settings": "preferences-system",
}


@cache
def icon(name: str) -> QIcon:
    bundled = resources_dir() / "icons" / f"action-{name}.svg"
    fallback = QIcon(str(bundled)) if bundled.exists() else QIcon()
    themed = THEME_NAMES.get(name)
    return QIcon.fromTheme(themed, fallback) if themed else fallback
