"""Saving a search as a smart album, or editing a smart album's rule, with a live preview.

The dialog scores every photo once for the query (in the background, on the window's task runner),
then the threshold slider only counts: scores belong to the photo and the query, so the count shown
for a threshold is exactly what the album will hold. The strip shows the photos just above the
threshold, the weakest members, which is where a person decides whether the threshold is right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui.workers import Latest, TaskRunner

if TYPE_CHECKING:
    from photoclip.gui.thumbnails import ThumbnailLoader
    from photoclip.library import Library
    from photoclip.search import Filters

STRIP = 6  # thumbnails of the weakest members shown
SIDE = 72
DEFAULT_THRESHOLD = 0.5


class AlbumRuleDialog(QDialog):
    """Name, query and threshold of a smart album, with how many photos it would hold."""

    def __init__(self, library: Library, tasks: TaskRunner, parent: QWidget | None = None, *,
                 query: str = "", name: str = "", threshold: float = DEFAULT_THRESHOLD,
                 filters: Filters | None = None, editing: bool = False,
                 loader: ThumbnailLoader | None = None, like: tuple[int, ...] = (),
                 unlike: tuple[int, ...] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit smart album" if editing else "Save search as album")
        self.library, self.tasks, self.filters, self.loader = library, tasks, filters, loader
        self.editing = editing
        self.like, self.unlike = like, unlike  # examples the search was taught with; the album keeps them
        self.scores: list[tuple[int, float]] = []
        self._latest = Latest()
        self._photos: dict[int, Any] = {}
        self.name_edit = QLineEdit(name or query)
        self.name_edit.setReadOnly(editing)
        self.query_edit = QLineEdit(query)
        self._taught_query = query.strip()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(round(threshold * 100))
        self.threshold_label = QLabel()
        self.count_label = QLabel("scoring photos\u2026")
        self.strip = QHBoxLayout()
        form = QFormLayout()
        form.addRow("Album name:", self.name_edit)
        form.addRow("Photos matching:", self.query_edit)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.threshold_label)
        form.addRow("Threshold:", row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addLayout(self.strip)
        layout.addWidget(QLabel("0.5 means as likely a match as not; scores depend only on the photo and "
                                "the words, so the album keeps these photos as the library grows."))
        layout.addWidget(self.buttons)
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.rescore)
        self.query_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.slider.valueChanged.connect(lambda _v: self._show_count())
        self._show_count()
        self.rescore()

    @property
    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def rescore(self) -> None:
        """Score every photo for the query in the background; only the latest answer is shown."""
        query = self.query_edit.text().strip()
        ticket = self._latest.next()
        if not query:
            self.scores = []
            self._show_count()
            return
        library, filters, like, unlike = self.library, self.filters, self.like, self.unlike
        if query != self._taught_query:
            like, unlike = (), ()  # the examples belong to the query they were given for

        def work() -> tuple[list[tuple[int, float]], dict[int, Any]]:
            scores = library.album_rule_scores(query, filters, like=like, unlike=unlike)
            return scores, library.photos([i for i, _ in scores[:500]])

        def done(result: tuple[list[tuple[int, float]], dict[int, Any]]) -> None:
            if self._latest.is_current(ticket):
                self.scores, self._photos = result
                self._show_count()

        def failed(exc: BaseException) -> None:
            if self._latest.is_current(ticket):
                self.scores = []
                self.count_label.setText(f"cannot preview: {exc}")

        self.tasks.run(work, done, failed)

    def member_count(self) -> int:
        return sum(1 for _, s in self.scores if s >= self.threshold)

    def _show_count(self) -> None:
        self.threshold_label.setText(f"{self.threshold:.2f}")
        n = self.member_count()
        self.count_label.setText(f"{n:,} photo{'s' if n != 1 else ''} would be in the album")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(
            bool(self.query_edit.text().strip() and self.name_edit.text().strip()))
        self._fill_strip()

    def _fill_strip(self) -> None:
        while self.strip.count():
            item = self.strip.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        members = [i for i, s in self.scores if s >= self.threshold]
        for photo_id in members[-STRIP:]:
            photo = self._photos.get(photo_id)
            label = QLabel()
            label.setFixedSize(SIDE, SIDE)
            label.setToolTip(photo.path if photo is not None else str(photo_id))
            if self.loader is not None and photo is not None:
                pm = self.loader.pixmap(photo.content_hash, photo.path, SIDE)
                if pm is not None:
                    label.setPixmap(pm.scaled(SIDE, SIDE, Qt.AspectRatioMode.KeepAspectRatio))
            self.strip.addWidget(label)
        self.strip.addStretch(1)

    def values(self) -> tuple[str, str, float]:
        """(name, query, threshold) as entered."""
        return self.name_edit.text().strip(), self.query_edit.text().strip(), self.threshold

    def examples(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(like, unlike) to save with the album: none once the query was changed."""
        if self.query_edit.text().strip() != self._taught_query:
            return (), ()
        return self.like, self.unlike


def save_search_as_album(library: Library, tasks: TaskRunner, parent: QWidget | None, query: str,
                         filters: Filters | None, *, loader: ThumbnailLoader | None = None,
                         on_done: Any = None, on_error: Any = None, like: tuple[int, ...] = (),
                         unlike: tuple[int, ...] = ()) -> AlbumRuleDialog:
    """Open the dialog for the current search (with the examples it was taught, if any); on Save, the
    album is created on the task runner."""
    dialog = AlbumRuleDialog(library, tasks, parent, query=query, filters=filters, loader=loader, like=like,
                             unlike=unlike)

    def save() -> None:
        name, text, threshold = dialog.values()
        like_ids, unlike_ids = dialog.examples()
        tasks.run(lambda: library.create_album(name, query=text, filters=filters, threshold=threshold,
                                               like=like_ids, unlike=unlike_ids),
                  on_done, on_error)

    dialog.accepted.connect(save)
    dialog.open()
    return dialog


def edit_smart_album(library: Library, tasks: TaskRunner, parent: QWidget | None, album: Any, *,
                     loader: ThumbnailLoader | None = None, on_done: Any = None,
                     on_error: Any = None) -> AlbumRuleDialog:
    """Open the dialog on a smart album's rule; on Save, the rule is replaced (pins and exclusions stay)."""
    from photoclip.organize.albums import Rule

    rule = album.rule or Rule()
    filters = rule.search_filters()
    dialog = AlbumRuleDialog(library, tasks, parent, query=rule.query or "", name=album.name,
                             threshold=rule.threshold, filters=filters if filters.active else None,
                             editing=True, loader=loader)

    def save() -> None:
        _name, text, threshold = dialog.values()
        tasks.run(lambda: library.set_album_rule(album.name, query=text, tags=tuple(rule.tags),
                                                 filters=dict(rule.filters), threshold=threshold),
                  on_done, on_error)

    dialog.accepted.connect(save)
    dialog.open()
    return dialog
