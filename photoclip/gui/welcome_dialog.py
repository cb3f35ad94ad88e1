"""First run: pick photo folders and set up a model, or skip the model and browse by date.

The dialog only collects choices; the window adds the folders and starts indexing afterwards, so
nothing here touches the disk on the GUI thread. Model setup reuses `ModelSetupController`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

from photoclip.gui.model_setup import ModelSetupController, default_model_size, downloadable_models

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

        intro = QLabel(
            "<h2>Welcome to PhotoClip</h2>"
            "<p>PhotoClip finds photos by what is in them (\u201ca dog on a beach\u201d), entirely on "
            "this computer. Your photos are never uploaded or changed.</p>", self)
        intro.setWordWrap(True)

        folders_box = QGroupBox("1. Which folders hold your photos?", self)
        self.folder_list = QListWidget(folders_box)
        self.folder_list.setAccessibleName("Chosen folders")
        add = QPushButton("Add folder\u2026", folders_box)
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

        model_box = QGroupBox("2. Set up the search model", self)
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
        layout.addWidget(intro)
        layout.addWidget(folders_box)
        layout.addWidget(model_box)
        layout.addWidget(self.buttons)
        self._describe_model()
        self.resize(560, 520)

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

        path = choose_folder(self)
        if path and path not in self.folders:
            self.folders.append(path)
            self.folder_list.addItem(path)

    def _remove_folder(self) -> None:
        row = self.folder_list.currentRow()
        if row >= 0:
            self.folder_list.takeItem(row)
            del self.folders[row]
