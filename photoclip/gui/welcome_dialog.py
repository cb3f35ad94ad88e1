"""First run: pick photo folders and set up a model, or skip the model and browse by date.

The dialog only collects choices; the window adds the folders and starts indexing afterwards, so
nothing here touches the disk on the GUI thread. Model setup reuses `ModelSetupController`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui.icons import icon
from photoclip.gui.library_actions import pictures_folder
from photoclip.gui.model_setup import ModelSetupController, default_model_size, downloadable_models
from photoclip.gui.theme import app_icon

if TYPE_CHECKING:
    from photoclip.library import Library


class WelcomeDialog(QDialog):
    """Collects ``folders`` and offers the model choices; ``model_ready`` tells what happened."""

    def __init__(self, library: Library, model_setup: ModelSetupController,
                 parent: QWidget | None = None, *, model: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to PhotoClip")
        self.library = library
        self.model_setup = model_setup
        self.folders: list[str] = []
        self.model = model  # the active model's name as the window last read it, None when none
        self.model_ready = model is not None

        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        intro = QLabel(
            "<h1 style='font-weight: 600'>Find any photo by describing it</h1>"
            "<p style='font-size: 11pt'>Type \u201cdog on the beach at sunset\u201d, \u201creceipts\u201d or "
            "\u201cgrandma\u2019s birthday cake\u201d and PhotoClip shows those photos \u2014 found by what is in "
            "them, entirely on this computer. Your photos are never uploaded, and never changed.</p>", self)
        intro.setWordWrap(True)
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pictures = pictures_folder()
        home = Path(self.pictures) == Path.home()
        self.pictures_button = QPushButton(
            "  Start with your home folder  " if home else f"  Start with {Path(self.pictures).name}  ", self)
        self.pictures_button.setIcon(icon("folder"))
        self.pictures_button.setDefault(True)
        self.pictures_button.setMinimumHeight(40)
        font = self.pictures_button.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.pictures_button.setFont(font)
        self.pictures_button.setToolTip(self.pictures)
        self.pictures_button.clicked.connect(lambda: self.add_folder_path(self.pictures))

        folders_box = QGroupBox("Your photo folders", self)
        self.folder_list = QListWidget(folders_box)
        self.folder_list.setAccessibleName("Chosen folders")
        add = QPushButton("Choose a folder\u2026", folders_box)
        remove = QPushButton("Remove", folders_box)
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_folder)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        fcol = QVBoxLayout(folders_box)
        fcol.addWidget(self.folder_list)
        fcol.addLayout(row)

        model_box = QGroupBox("Searching by meaning", self)
        self.model_status = QLabel(model_box)
        self.model_status.setWordWrap(True)
        self.download_button = QPushButton("Download\u2026", model_box)
        self.import_button = QPushButton("Import a model folder\u2026", model_box)
        self.download_button.clicked.connect(lambda: self.model_setup.download())
        self.import_button.clicked.connect(lambda: self.model_setup.import_folder())
        mrow = QHBoxLayout()
        mrow.addWidget(self.download_button)
        mrow.addWidget(self.import_button)
        mrow.addStretch(1)
        mcol = QVBoxLayout(model_box)
        mcol.addWidget(self.model_status)
        mcol.addLayout(mrow)
        model_setup.installed.connect(self._on_installed)
        model_setup.failed.connect(lambda msg: self.model_status.setText(f"Not installed: {msg}"))

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(logo)
        layout.addWidget(intro)
        start = QHBoxLayout()
        start.addStretch(1)
        start.addWidget(self.pictures_button)
        start.addStretch(1)
        layout.addLayout(start)
        layout.addWidget(folders_box)
        layout.addWidget(model_box)
        layout.addWidget(self.buttons)
        self._describe_model()
        self.resize(620, 640)

    def _describe_model(self) -> None:
        if self.model_ready:
            self.model_status.setText(f"Ready: {self.model}")
            self.download_button.setEnabled(False)
            return
        try:
            default, _known = downloadable_models()
        except Exception:  # no catalogue in this build: importing a folder still works
            default = ""
        about = default_model_size()
        self.download_button.setText(f"Download {default}\u2026" if default else "Download\u2026")
        self.download_button.setEnabled(bool(default))
        self.model_status.setText(
            f"No model is installed yet. Download one once ({about}), or "
            "import a model folder copied from another computer. You can also skip this: browsing by "
            "date works without a model, and you can set one up later from the banner or Settings.")

    def _on_installed(self, name: str) -> None:
        self.model_ready = True
        self.model_status.setText(f"Ready: {name}")
        self.download_button.setEnabled(False)

    def _add_folder(self) -> None:
        from photoclip.gui.library_actions import choose_folder

        self.add_folder_path(choose_folder(self))

    def add_folder_path(self, path: str) -> None:
        if path and path not in self.folders:
            self.folders.append(path)
            self.folder_list.addItem(path)
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)

    def _remove_folder(self) -> None:
        row = self.folder_list.currentRow()
        if row >= 0:
            self.folder_list.takeItem(row)
            del self.folders[row]
