"""The preview pane: the selected photo, its metadata and tags, and what you can do with it.

The picture, the file facts and the tags are read on workers; a newer selection supersedes an
older one still loading. Tag decisions are written on a worker too and the pane refreshes when
the library reports the change. For a search hit the pane also says why it matched, and shows the
place and the words read inside the photo, the query's words highlighted there and boxed on the
picture (see ``ocr_text``); those are read from the catalog on the same worker as the file facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photoclip import imaging
from photoclip.errors import NotFoundError
from photoclip.gui.ocr_text import RecognisedText, draw_boxes, matching_lines
from photoclip.gui.reveal import reveal_in_file_manager
from photoclip.gui.workers import Latest, TaskRunner
from photoclip.store import pathtext

if TYPE_CHECKING:
    from photoclip.enrich.ocr import OcrLine
    from photoclip.enrich.places import Place
    from photoclip.gui.queries import GridItem
    from photoclip.library import FileInfo, Library

PREVIEW_SIDE = 900  # decode size: sharp in a wide pane, cheap compared with the full photo


@dataclass
class PreviewData:
    photo_id: int
    info: FileInfo | None
    tags: list[Any]
    error: str | None = None
    lines: list[OcrLine] = field(default_factory=list)  # text read inside the photo
    place: Place | None = None
    size: tuple[int, int] = (0, 0)  # upright (width, height) the catalog has: what the OCR boxes refer to


def load_preview_data(library: Library, photo_id: int, path: str) -> PreviewData:
    info = error = None
    try:
        info = library.file_info(path)
    except Exception as exc:  # a vanished file still shows what the catalog knows
        error = str(exc)
    try:
        tags = list(library.photo_tags(photo_id))
    except ImportError:
        tags = []
    try:
        lines = library.photo_words(photo_id)
        place = library.photo_place(photo_id)
    except sqlite3.Error:  # a catalog from before words and places: the pane just shows less
        lines, place = [], None
    size = (0, 0)
    if lines:
        try:
            photo = library.photo(photo_id)
            size = (photo.width or 0, photo.height or 0)
        except NotFoundError:  # removed meanwhile: the text still shows, only the boxes are left out
            pass
    return PreviewData(photo_id, info, tags, error, lines, place, size)


def load_preview_image(path: str) -> QImage:
    image, _meta = imaging.load_image(path, min_side=PREVIEW_SIDE // 2)
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    data = image.tobytes("raw", "RGB")
    return QImage(data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888).copy()


class _ImageLabel(QLabel):
    """Keeps the pixmap scaled to the label's width as the pane resizes, boxes drawn over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._boxes: list[OcrLine] = []
        self._source_size = (0, 0)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(160, 160))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_image(self, pixmap: QPixmap | None, text: str = "") -> None:
        self._pixmap = pixmap
        if pixmap is None:
            self.setPixmap(QPixmap())
            self.setText(text)
        else:
            self._rescale()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def set_boxes(self, lines: Sequence[OcrLine], source_size: tuple[int, int]) -> None:
        """Lines to box, their corners in the pixels of the upright photo of ``source_size``."""
        self._boxes, self._source_size = list(lines), source_size
        self._rescale()

    def boxes(self) -> list[OcrLine]:
        return list(self._boxes)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is not None:
            scaled = self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
            self.setPixmap(draw_boxes(scaled, self._boxes, self._source_size))


class PreviewPaneWidget(QWidget):
    similarRequested = Signal(int)
    addToAlbumRequested = Signal(int)  # photo id; the window asks which album
    tagsChanged = Signal(int)
    errorOccurred = Signal(str)

    def __init__(self, library: Library, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.runner = runner
        self._latest = Latest()
        self.photo_id: int | None = None
        self.path: str | None = None
        self.data: PreviewData | None = None
        self.why: tuple[str, ...] = ()
        self.words: tuple[str, ...] = ()
        self.decide: Any = None  # callable(photo_id, tag, accept) that records the decision for undo

        self.image = _ImageLabel(self)
        self.image.setAccessibleName("Preview")
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.why_label = QLabel(self)
        self.why_label.setWordWrap(True)
        self.why_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.why_label.setAccessibleName("Why it matched")
        small = self.why_label.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        self.why_label.setFont(small)
        self.place_label = QLabel(self)
        self.place_label.setWordWrap(True)
        self.place_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.place_label.setAccessibleName("Place")
        self.text_head = QLabel("Text in the photo", self)
        self.text_box = RecognisedText(self)
        self.meta = QFormLayout()
        self.meta.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.tags = QListWidget(self)
        self.tags.setAccessibleName("Tags")
        self.tags.setMaximumHeight(170)
        self.tag_edit = QLineEdit(self)
        self.tag_edit.setPlaceholderText("Add a tag\u2026")
        add_tag = QToolButton(self)
        add_tag.setText("Add")
        self.accept_button = QToolButton(self)
        self.accept_button.setText("\u2713 Accept")
        self.accept_button.setToolTip("Confirm the selected tag")
        self.reject_button = QToolButton(self)
        self.reject_button.setText("\u2715 Reject")
        self.reject_button.setToolTip("This tag is wrong for this photo; it will not come back")

        self.similar_button = QPushButton("Find similar", self)
        self.open_button = QPushButton("Open", self)
        self.folder_button = QPushButton("Show in folder", self)
        self.copy_button = QPushButton("Copy path", self)
        self.album_button = QPushButton("Add to album\u2026", self)
        self.similar_button.setToolTip("Show the photos that look most like this one (Ctrl+Shift+S)")
        self.open_button.setToolTip("Open the photo in your usual viewer (Ctrl+Return)")
        self.folder_button.setToolTip("Open the folder that holds this photo")
        self.copy_button.setToolTip("Copy the photo's full path (Ctrl+Shift+C)")
        self.album_button.setToolTip("Add the selected photos to an album (Ctrl+Shift+A)")
        add_tag.setToolTip("Tag this photo yourself; your tags are never changed by automatic tagging")
        self.similar_button.clicked.connect(lambda: self.photo_id and self.similarRequested.emit(self.photo_id))
        self.open_button.clicked.connect(self.open_photo)
        self.folder_button.clicked.connect(self.show_in_folder)
        self.copy_button.clicked.connect(self.copy_path)
        self.album_button.clicked.connect(lambda: self.photo_id and self.addToAlbumRequested.emit(self.photo_id))
        add_tag.clicked.connect(self._add_tag)
        self.tag_edit.returnPressed.connect(self._add_tag)
        self.accept_button.clicked.connect(lambda: self._decide(True))
        self.reject_button.clicked.connect(lambda: self._decide(False))
        self.tags.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tags.customContextMenuRequested.connect(self._tag_menu)

        body = QWidget(self)
        col = QVBoxLayout(body)
        col.addWidget(self.image, 3)
        col.addWidget(self.title)
        col.addWidget(self.why_label)
        col.addWidget(self.place_label)
        col.addLayout(self.meta)
        col.addWidget(self.text_head)
        col.addWidget(self.text_box)
        tags_head = QHBoxLayout()
        tags_head.addWidget(QLabel("Tags", self), 1)
        tags_head.addWidget(self.accept_button)
        tags_head.addWidget(self.reject_button)
        col.addLayout(tags_head)
        col.addWidget(self.tags)
        add_row = QHBoxLayout()
        add_row.addWidget(self.tag_edit, 1)
        add_row.addWidget(add_tag)
        col.addLayout(add_row)
        actions = QHBoxLayout()
        actions.addWidget(self.similar_button)
        actions.addWidget(self.open_button)
        col.addLayout(actions)
        actions2 = QHBoxLayout()
        actions2.addWidget(self.folder_button)
        actions2.addWidget(self.copy_button)
        col.addLayout(actions2)
        col.addWidget(self.album_button)
        scroll = QScrollArea(self)
        self.scroll = scroll
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_photo(None, None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The photo grows with the pane: as wide as the pane, up to most of its height."""
        super().resizeEvent(event)
        width = self.scroll.viewport().width() - 24
        self.image.setMinimumHeight(max(160, min(int(width * 0.8), int(self.height() * 0.62))))

    # -- loading ----------------------------------------------------------------------------

    def show_item(self, item: GridItem | None) -> None:
        """Show a grid cell: its photo and, for a search hit, why it matched."""
        if item is None:
            self.show_photo(None, None)
        else:
            self.show_photo(item.id, item.path, why=item.why, words=item.words)

    def show_photo(self, photo_id: int | None, path: str | None, *, why: Sequence[str] = (),
                   words: Sequence[str] = ()) -> None:
        self.photo_id, self.path = photo_id, path
        self.why, self.words = tuple(why), tuple(words)
        self.why_label.setText("Matched on " + "; ".join(self.why) if self.why else "")
        self.why_label.setVisible(bool(self.why))
        self._show_words(None)
        ticket = self._latest.next()
        enabled = photo_id is not None
        for w in (self.similar_button, self.open_button, self.folder_button, self.copy_button,
                  self.album_button, self.tag_edit, self.accept_button, self.reject_button):
            w.setEnabled(enabled)
        self.tags.clear()
        self._set_meta([])
        if photo_id is None or path is None:
            self.data = None
            self.title.setText("")
            self.image.set_image(None, "Select a photo to see it here")
            return
        self.title.setText(pathtext.display(Path(path).name))
        self.image.set_image(None, "Loading\u2026")
        self.runner.run(lambda: load_preview_image(path),
                        lambda img: self._latest.is_current(ticket) and self._on_image(img),
                        lambda exc: self._latest.is_current(ticket) and self.image.set_image(None, str(exc)))
        self.reload_details()

    def reload_details(self) -> None:
        if self.photo_id is None or self.path is None:
            return
        ticket = self._latest_details = getattr(self, "_latest_details", 0) + 1
        photo_id, path, library = self.photo_id, self.path, self.library
        self.runner.run(lambda: load_preview_data(library, photo_id, path),
                        lambda d: ticket == self._latest_details and d.photo_id == self.photo_id
                        and self._on_data(d))

    def _on_image(self, image: QImage) -> None:
        self.image.set_image(QPixmap.fromImage(image))

    def _show_words(self, data: PreviewData | None) -> None:
        """The place and the recognised text; hidden when the photo has none (or no OCR ran)."""
        place = data.place.label if data is not None and data.place is not None else ""
        self.place_label.setText(f"\U0001F4CD {place}" if place else "")
        self.place_label.setVisible(bool(place))
        lines = data.lines if data is not None else []
        self.text_head.setVisible(bool(lines))
        self.text_box.setVisible(bool(lines))
        self.text_box.show_lines(lines, self.words)
        self.image.set_boxes(matching_lines(lines, self.words), data.size if data is not None else (0, 0))

    def _on_data(self, data: PreviewData) -> None:
        self.data = data
        self._show_words(data)
        info = data.info
        rows: list[tuple[str, str]] = []
        if info is not None:
            if info.width and info.height:
                rows.append(("Size", f"{info.width} \u00d7 {info.height}  {info.format or ''}".strip()))
            rows.append(("File", _human_size(info.size)))
            if info.taken_at:
                rows.append(("Taken", info.taken_text))
            camera = " ".join(x for x in (info.camera_make, info.camera_model) if x)
            if camera:
                rows.append(("Camera", camera))
            if info.gps:
                rows.append(("Location", f"{info.gps[0]:.5f}, {info.gps[1]:.5f}"))
            if info.error:
                rows.append(("Problem", info.error))
        if data.error:
            rows.append(("Problem", data.error))
        rows.append(("Folder", str(Path(self.path or "").parent)))
        self._set_meta(rows)
        self.tags.clear()
        for tag in data.tags:
            if tag.rejected:
                text = f"{tag.name}  \u2014 rejected"
            else:  # the calibrated confidence and where the tag came from (auto, accepted, added)
                origin = getattr(tag, "origin", tag.source)
                mark = "  \u2713" if tag.source == "manual" else ""
                score = f"{tag.score:.2f}, " if tag.score is not None else ""
                text = f"{tag.name}{mark}  ({score}{origin})"
            item = QListWidgetItem(text, self.tags)
            item.setData(Qt.ItemDataRole.UserRole, tag.name)
            if tag.rejected:
                font = item.font()
                font.setStrikeOut(True)
                item.setFont(font)
        if not data.tags:
            QListWidgetItem("No tags", self.tags).setFlags(Qt.ItemFlag.NoItemFlags)

    def _set_meta(self, rows: list[tuple[str, str]]) -> None:
        while self.meta.rowCount():
            self.meta.removeRow(0)
        for label, value in rows:
            field = QLabel(value, self)
            field.setWordWrap(True)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.meta.addRow(label, field)

    # -- tags -------------------------------------------------------------------------------

    def selected_tag(self) -> str | None:
        item = self.tags.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _decide(self, accept: bool, name: str | None = None) -> None:
        name = name or self.selected_tag()
        if name is None or self.photo_id is None:
            return
        photo_id, library = self.photo_id, self.library
        if self.decide is not None:  # the window records it for undo; the library's event reloads us
            self.decide(photo_id, name, accept)
            return
        action = library.accept_tag if accept else library.reject_tag
        self.runner.run(lambda: action(photo_id, name), lambda _r: self._after_tag_change(photo_id),
                        lambda exc: self.errorOccurred.emit(f"The tag was not changed: {exc}"))

    def _add_tag(self) -> None:
        name = " ".join(self.tag_edit.text().split())
        if name:
            self.tag_edit.clear()
            self._decide(True, name)

    def _after_tag_change(self, photo_id: int) -> None:
        self.tagsChanged.emit(photo_id)
        if photo_id == self.photo_id:
            self.reload_details()

    def _tag_menu(self, pos: Any) -> None:
        name = self.selected_tag()
        if name is None:
            return
        menu = QMenu(self)
        menu.addAction("Accept", lambda: self._decide(True, name))
        menu.addAction("Reject", lambda: self._decide(False, name))
        menu.exec(self.tags.viewport().mapToGlobal(pos))

    # -- actions ----------------------------------------------------------------------------

    def open_photo(self) -> None:
        if self.path:
            open_externally(self, self.path)

    def show_in_folder(self) -> None:
        if self.path:
            reveal_in_file_manager(self.path)

    def copy_path(self) -> None:
        if self.path:
            QGuiApplication.clipboard().setText(self.path)


def open_externally(parent: QWidget, path: str) -> bool:
    """Open ``path`` in the system's viewer; say so when the system has none for it."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
        return True
    QMessageBox.warning(parent, "Cannot open the photo",
                        f"The system has no application set to open {Path(path).name}.\n\n"
                        "Use Photo › Show in folder to open it from the file manager, "
                        "or choose a default viewer for this type of file in your system settings.")
    return False


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"
