"""The sidebar: all photos, favourites, folders, albums, places (countries, then cities) and tags.

Its data is gathered on a worker by `load_sidebar` (plain Python) and handed to the widget, which
only fills a tree. Choosing an entry narrows the grid: a folder or tag sets that filter, an album
shows its members. While a job runs, a line under "All photos" says what it is doing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeWidget, QTreeWidgetItem, QWidget

from photoclip.gui.grid_model import photo_ids_from
from photoclip.gui.icons import icon

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
    places: list[tuple[SidebarEntry, list[SidebarEntry]]] = field(default_factory=list)  # country, cities
    total: int = 0
    pending: int = 0
    favourites: int = 0
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
    data.places = load_places(library)
    try:
        data.favourites = sum(1 for m in library.marks().values() if m.favourite)
    except Exception:  # a catalog from before marks
        data.favourites = 0
    return data


def load_places(library: Library) -> list[tuple[SidebarEntry, list[SidebarEntry]]]:
    """Countries (most photos first) with their cities, from the places already found."""
    try:
        rows = library.place_counts()
    except sqlite3.Error:  # a catalog from before places
        return []
    countries: dict[str, list[SidebarEntry]] = {}
    for country, city, n in rows:
        cities = countries.setdefault(country or "Unknown country", [])
        if city:
            cities.append(SidebarEntry(city, city, int(n), detail=country))
        else:
            cities.append(SidebarEntry("", "", int(n)))
    out = []
    for country, cities in countries.items():
        total = sum(c.count for c in cities)
        named = sorted((c for c in cities if c.value), key=lambda c: (-c.count, c.label.lower()))
        out.append((SidebarEntry(country, country, total), named))
    out.sort(key=lambda pair: (-pair[0].count, pair[0].label.lower()))
    return out


def place_query(name: str) -> str:
    """The search that shows the photos taken at a place (the query language's ``place:`` field)."""
    return f'place:"{name}"' if " " in name or "-" in name else f"place:{name}"


class SidebarWidget(QTreeWidget):
    """Emits what the user picked: everything, a folder, an album or a tag."""

    allChosen = Signal()
    folderChosen = Signal(str)
    albumChosen = Signal(str)
    tagChosen = Signal(str)
    favouritesChosen = Signal()
    placeChosen = Signal(str)  # a country or a city
    removeFolderRequested = Signal(str)
    deleteAlbumRequested = Signal(str)
    renameAlbumRequested = Signal(str)
    editAlbumRequested = Signal(str)
    exportAlbumRequested = Signal(str)
    tagActionRequested = Signal(str, str)  # action ("show", "disable", "remove"), tag name
    addFolderRequested = Signal()
    duplicatesChosen = Signal()
    photosDropped = Signal(str, list)  # album name, photo ids dragged from the grid

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
        self.all_item.setIcon(0, icon("photos"))
        self.all_item.setToolTip(0, "Every photo in your folders, newest first")
        self.duplicates_item = QTreeWidgetItem(self, ["Duplicates", ""])
        self.duplicates_item.setData(0, KIND_ROLE, "duplicates")
        self.duplicates_item.setToolTip(0, "Copies of one photo and similar shots, with the one to keep")
        self.favourites_item = QTreeWidgetItem(self, ["Favourites", ""])
        self.favourites_item.setData(0, KIND_ROLE, "favourites")
        self.favourites_item.setIcon(0, icon("heart"))
        self.favourites_item.setToolTip(0, "Photos you marked with a heart (the . key)")
        self.activity_item = QTreeWidgetItem(self, ["", ""])
        self.activity_item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.activity_item.setHidden(True)
        font = self.activity_item.font(0)
        font.setItalic(True)
        self.activity_item.setFont(0, font)
        self.activity_item.setFont(1, font)
        self.folders_item = self._section("Folders")
        self.albums_item = self._section("Albums")
        self.places_item = self._section("Places")
        self.tags_item = self._section("Tags")
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
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
        self.favourites_item.setText(1, f"{data.favourites:,}" if data.favourites else "")
        self._fill(self.folders_item, "folder", data.folders, "Add a folder\u2026")
        self._fill(self.albums_item, "album", data.albums, "No albums yet")
        self._fill_places(data.places)
        self._fill(self.tags_item, "tag", data.tags, "No tags yet")

    def _fill_places(self, places: list[tuple[SidebarEntry, list[SidebarEntry]]]) -> None:
        selected = self.currentItem()
        keep = selected.data(0, VALUE_ROLE) if selected is not None and selected.data(0, KIND_ROLE) == "place" \
            else None
        expanded = {self.places_item.child(i).data(0, VALUE_ROLE) for i in range(self.places_item.childCount())
                    if self.places_item.child(i).isExpanded()}
        self.places_item.takeChildren()
        self.places_item.setHidden(not places)
        for country, cities in places:
            item = QTreeWidgetItem(self.places_item, [country.label, f"{country.count:,}"])
            item.setData(0, KIND_ROLE, "place")
            item.setData(0, VALUE_ROLE, country.value)
            for city in cities:
                child = QTreeWidgetItem(item, [city.label, f"{city.count:,}"])
                child.setData(0, KIND_ROLE, "place")
                child.setData(0, VALUE_ROLE, city.value)
                child.setToolTip(0, f"{city.label}, {country.label}")
                if keep == city.value:
                    self.setCurrentItem(child)
            item.setExpanded(country.value in expanded)
            if keep == country.value:
                self.setCurrentItem(item)

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

    def show_filters(self, album: str | None, tags: tuple[str, ...], folder: str | None,
                     favourite: bool = False) -> None:
        """Highlight the entry that matches what the grid is narrowed by (All photos when nothing)."""
        wanted = ("album", album) if album else ("tag", tags[0]) if len(tags) == 1 else \
            ("folder", folder) if folder else None
        if wanted is None and favourite:
            self.setCurrentItem(self.favourites_item)
            return
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
        elif kind == "favourites":
            self.favouritesChosen.emit()
        elif kind == "place":
            self.placeChosen.emit(value)
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
            menu.addAction(icon("view"), "Show", lambda: self.albumChosen.emit(value))
            menu.addAction("Rename\u2026", lambda: self.renameAlbumRequested.emit(value))
            if self._is_smart(value):
                menu.addAction("Edit rule\u2026", lambda: self.editAlbumRequested.emit(value))
            menu.addAction(icon("export"), "Export\u2026", lambda: self.exportAlbumRequested.emit(value))
            menu.addSeparator()
            menu.addAction(icon("trash"), "Delete album", lambda: self.deleteAlbumRequested.emit(value))
        elif kind == "tag":
            menu.addAction(icon("view"), "Show photos with this tag", lambda: self.tagChosen.emit(value))
            menu.addAction("Turn this tag off", lambda: self.tagActionRequested.emit("disable", value))
            menu.addAction(icon("trash"), "Remove this tag\u2026",
                           lambda: self.tagActionRequested.emit("remove", value))
        if item is self.folders_item or kind in ("folder", "add-folder"):
            menu.addAction("Add folder\u2026", self.addFolderRequested.emit)
        if not menu.isEmpty():
            self.last_menu = menu
            menu.exec(self.viewport().mapToGlobal(pos))

    def _is_smart(self, name: str) -> bool:
        return any(e.value == name and e.kind_note == "smart" for e in self.data.albums)

    # -- photos dropped onto an album -------------------------------------------------------

    def _album_at(self, event: QDropEvent | QDragMoveEvent) -> str | None:
        item = self.itemAt(event.position().toPoint())
        if item is not None and item.data(0, KIND_ROLE) == "album":
            return str(item.data(0, VALUE_ROLE))
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if photo_ids_from(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if photo_ids_from(event.mimeData()) and self._album_at(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        ids, album = photo_ids_from(event.mimeData()), self._album_at(event)
        if ids and album is not None:
            event.acceptProposedAction()
            self.photosDropped.emit(album, ids)
        else:
            event.ignore()
