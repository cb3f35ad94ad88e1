"""The sidebar: library folders (counts, indexing and offline state), albums and tags.

Its data is gathered on a worker by `load_sidebar` (plain Python) and handed to the widget, which
only fills a tree. Choosing an entry narrows the grid: a folder or tag sets that filter, an album
shows its members. While a job runs, a line under "All photos" says what it is doing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem, QWidget

if TYPE_CHECKING:
    from photoclip.library import Library

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
VALUE_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass
class SidebarEntry:
    label: str
    value: str
    count: int
    detail: str = ""
    kind_note: str = ""


@dataclass
class SidebarData:
    folders: list[SidebarEntry] = field(default_factory=list)
    albums: list[SidebarEntry] = field(default_factory=list)
    tags: list[SidebarEntry] = field(default_factory=list)
    total: int = 0
    pending: int = 0
    model: str | None = None  # the active model's name, None when none is installed


def load_sidebar(library: Library) -> SidebarData:
    """Read folders, albums and tags (worker thread); a missing optional module just leaves a gap."""
    data = SidebarData(model=library.model_name)
    for info in library.folders():
        counts = info.counts
        live = counts.get("ok", 0) + counts.get("pending", 0)
        notes = []
        if info.folder.state == "offline":
            notes.append("offline")
        if counts.get("pending"):
            notes.append(f"{counts['pending']} to index")
        if counts.get("error"):
            notes.append(f"{counts['error']} unreadable")
        if info.folder.polling:
            notes.append("polling")
        name = info.folder.path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or info.folder.path
        data.folders.append(SidebarEntry(name, info.folder.path, live, ", ".join(notes)))
        data.total += live
        data.pending += counts.get("pending", 0)
    try:
        albums: list[Any] = library.albums()
    except ImportError:
        albums = []
    for album in albums:
        kind = str(getattr(album, "kind", "manual"))
        count = int(getattr(album, "count", 0) or 0)
        data.albums.append(SidebarEntry(album.name, album.name, count, kind_note=kind))
    try:
        tags: list[Any] = library.tags()
    except ImportError:
        tags = []
    for tag in sorted(tags, key=lambda t: (-int(getattr(t, "count", 0)), t.name.lower())):
        if getattr(tag, "enabled", True) and getattr(tag, "count", 0):
            data.tags.append(SidebarEntry(tag.name, tag.name, int(tag.count)))
    return data


class SidebarWidget(QTreeWidget):
    """Emits what the user picked: everything, a folder, an album or a tag."""

    allChosen = Signal()
    folderChosen = Signal(str)
    albumChosen = Signal(str)
    tagChosen = Signal(str)
    removeFolderRequested = Signal(str)
    deleteAlbumRequested = Signal(str)
    addFolderRequested = Signal()
    duplicatesChosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.setRootIsDecorated(False)
        self.setIndentation(12)
        self.setAccessibleName("Library")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemActivated.connect(self._chosen)
        self.itemClicked.connect(self._chosen)
        self.all_item = QTreeWidgetItem(self, ["All photos", ""])
        self.all_item.setData(0, KIND_ROLE, "all")
        self.all_item.setToolTip(0, "Every photo in your folders, newest first")
        self.duplicates_item = QTreeWidgetItem(self, ["Duplicates", ""])
        self.duplicates_item.setData(0, KIND_ROLE, "duplicates")
        self.duplicates_item.setToolTip(0, "Copies of one photo and similar shots, with the one to keep")
        self.activity_item = QTreeWidgetItem(self, ["", ""])
        self.activity_item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.activity_item.setHidden(True)
        font = self.activity_item.font(0)
        font.setItalic(True)
        self.activity_item.setFont(0, font)
        self.activity_item.setFont(1, font)
        self.folders_item = self._section("Folders")
        self.albums_item = self._section("Albums")
        self.tags_item = self._section("Tags")
        self.data = SidebarData()
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, self.header().ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, self.header().ResizeMode.ResizeToContents)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title, ""])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setExpanded(True)
        return item

    def set_data(self, data: SidebarData) -> None:
        self.data = data
        self.all_item.setText(1, f"{data.total:,}")
        self._fill(self.folders_item, "folder", data.folders, "Add a folder\u2026")
        self._fill(self.albums_item, "album", data.albums, "No albums yet")
        self._fill(self.tags_item, "tag", data.tags, "No tags yet")

    def _fill(self, section: QTreeWidgetItem, kind: str, entries: list[SidebarEntry], empty: str) -> None:
        selected = self.currentItem()
        keep = (selected.data(0, KIND_ROLE), selected.data(0, VALUE_ROLE)) if selected else None
        section.takeChildren()
        if not entries:
            hint = QTreeWidgetItem(section, [empty, ""])
            hint.setData(0, KIND_ROLE, "add-folder" if kind == "folder" else "")
            hint.setForeground(0, self.palette().placeholderText())
        for e in entries:
            label = e.label + (f"  ({e.detail})" if e.detail else "")
            if e.kind_note == "smart":
                label = f"{e.label}  (smart)"
            item = QTreeWidgetItem(section, [label, f"{e.count:,}"])
            item.setData(0, KIND_ROLE, kind)
            item.setData(0, VALUE_ROLE, e.value)
            item.setToolTip(0, e.value + (f"\n{e.detail}" if e.detail else "")
                            + ("\nsmart album: updates as photos are indexed" if e.kind_note == "smart" else ""))
            if keep == (kind, e.value):
                self.setCurrentItem(item)
        section.setExpanded(True)

    def set_activity(self, text: str | None, percent: int | None = None) -> None:
        """Show what a running job is doing (e.g. "Indexing 1,200 / 5,000"), or hide the line."""
        self.activity_item.setHidden(not text)
        self.activity_item.setText(0, f"\u21bb {text}" if text else "")
        self.activity_item.setText(1, f"{percent}%" if percent is not None else "")
        self.activity_item.setToolTip(0, text or "")
        self.activity_item.setForeground(0, self.palette().placeholderText())
        self.activity_item.setForeground(1, self.palette().placeholderText())

    def activity(self) -> str:
        return "" if self.activity_item.isHidden() else self.activity_item.text(0)

    def select_all(self) -> None:
        self.setCurrentItem(self.all_item)

    def show_filters(self, album: str | None, tags: tuple[str, ...], folder: str | None) -> None:
        """Highlight the entry that matches what the grid is narrowed by (All photos when nothing)."""
        wanted = ("album", album) if album else ("tag", tags[0]) if len(tags) == 1 else \
            ("folder", folder) if folder else None
        if wanted is None:
            if not tags:
                self.setCurrentItem(self.all_item)
            return
        item = self.find_entry(*wanted)
        if item is not None:
            self.setCurrentItem(item)

    def find_entry(self, kind: str, value: str) -> QTreeWidgetItem | None:
        for section in (self.folders_item, self.albums_item, self.tags_item):
            for i in range(section.childCount()):
                child = section.child(i)
                if child.data(0, KIND_ROLE) == kind and child.data(0, VALUE_ROLE) == value:
                    return child
        return None

    def _chosen(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        kind = item.data(0, KIND_ROLE)
        value = item.data(0, VALUE_ROLE)
        if kind == "all":
            self.allChosen.emit()
        elif kind == "folder":
            self.folderChosen.emit(value)
        elif kind == "album":
            self.albumChosen.emit(value)
        elif kind == "tag":
            self.tagChosen.emit(value)
        elif kind == "add-folder":
            self.addFolderRequested.emit()
        elif kind == "duplicates":
            self.duplicatesChosen.emit()

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        kind, value = item.data(0, KIND_ROLE), item.data(0, VALUE_ROLE)
        menu = QMenu(self)
        if kind == "folder":
            menu.addAction("Remove from library", lambda: self.removeFolderRequested.emit(value))
        elif kind == "album":
            menu.addAction("Delete album", lambda: self.deleteAlbumRequested.emit(value))
        if item is self.folders_item or kind in ("folder", "add-folder"):
            menu.addAction("Add folder\u2026", self.addFolderRequested.emit)
        if not menu.isEmpty():
            menu.exec(self.viewport().mapToGlobal(pos))
