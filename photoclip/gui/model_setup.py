"""Getting a CLIP model: download one (with a progress dialog) or import a folder.

Shared by the welcome flow, the "no model" banner and the settings dialog. The download is the
engine's own `download_model`, run by the `JobRunner` so it reports progress and can be cancelled;
an import copies and validates a bundle folder on a worker. Either way the new model becomes
active and the library reloads its engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from photoclip.errors import ModelError
from photoclip.gui.indexing_status import describe
from photoclip.gui.job_runner import Job, JobRunner
from photoclip.gui.workers import TaskRunner
from photoclip.jobs import Cancelled, CancelToken, Progress, ProgressSink

if TYPE_CHECKING:
    from photoclip.library import Library


def downloadable_models() -> tuple[str, dict[str, str]]:
    """(default name, {name: description}) from the engine's catalogue of known models."""
    from photoclip.engine.download import load_catalogue

    default, entries = load_catalogue()
    return default, {name: e.description for name, e in entries.items()}


def default_model_size() -> str:
    """How big the default download is, said one way everywhere ("about 610 MB"), from the catalogue."""
    from photoclip.engine.download import load_catalogue

    try:
        default, entries = load_catalogue()
    except Exception:  # no catalogue in this build
        return "a few hundred MB"
    size = entries[default].size_mb if default in entries else None
    return f"about {round(size, -1):,} MB" if size else "a few hundred MB"


def choose_model_folder(parent: QWidget | None) -> str:
    """Ask for a model bundle folder (a module function so tests can replace the dialog)."""
    return QFileDialog.getExistingDirectory(parent, "Choose a CLIP model folder")


def _activate(library: Library, info: Any) -> Any:
    library.use_model(info.name)
    return info


class ModelSetupController(QObject):
    """Runs a model download or import and reports ``installed(name)`` or ``failed(message)``."""

    installed = Signal(str)
    failed = Signal(str)

    def __init__(self, library: Library, jobs: JobRunner, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.jobs = jobs
        self.tasks = tasks
        self._parent = parent
        self._dialog: QProgressDialog | None = None
        self._job: Job | None = None
        jobs.progress.connect(self._on_progress)
        jobs.finished.connect(self._on_finished)
        jobs.failed.connect(self._on_failed)

    def download(self, name: str | None = None) -> Job | None:
        if self.library.models is None:
            self.failed.emit("this library has no model store to install into")
            return None
        from photoclip.engine.download import download_model

        default, _known = downloadable_models()
        name = name or default
        store, library = self.library.models, self.library

        def job(sink: ProgressSink, token: CancelToken) -> Any:
            return _activate(library, download_model(name, store, sink=sink, cancel=token))

        dialog = QProgressDialog(f"Downloading {name}\u2026", "Cancel", 0, 0, self._parent)
        dialog.setWindowTitle("Downloading a model")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.jobs.cancel)
        self._dialog = dialog
        self._job = self.jobs.submit(f"Downloading {name}", job)
        dialog.show()
        return self._job

    def import_folder(self, folder: str | None = None) -> None:
        folder = folder if folder is not None else choose_model_folder(self._parent)
        if not folder:
            return
        if self.library.models is None:
            self.failed.emit("this library has no model store to install into")
            return
        store, library = self.library.models, self.library
        from pathlib import Path

        self.tasks.run(lambda: _activate(library, store.install_from_dir(Path(folder))),
                       lambda info: self.installed.emit(info.name),
                       lambda exc: self.failed.emit(str(exc)))

    def _on_progress(self, job: Job, p: Progress) -> None:
        if job is self._job and self._dialog is not None:
            self._dialog.setLabelText(describe(job.label, p))
            if p.total:
                self._dialog.setRange(0, p.total)
                self._dialog.setValue(min(p.done, p.total))

    def _on_finished(self, job: Job, info: Any) -> None:
        if job is self._job:
            self._close_dialog()
            if job.token.cancelled or info is None:
                self.failed.emit("the download was cancelled; start it again to resume")
            else:
                self.installed.emit(info.name)

    def _on_failed(self, job: Job, exc: BaseException) -> None:
        if job is self._job:
            self._close_dialog()
            if isinstance(exc, Cancelled):
                self.failed.emit("the download was cancelled; start it again to resume")
            else:
                self.failed.emit(str(exc) if isinstance(exc, ModelError) else f"download failed: {exc}")

    def _close_dialog(self) -> None:
        self._job = None
        if self._dialog is not None:
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None


def explain_failure(parent: QWidget | None, message: str) -> None:
    QMessageBox.warning(parent, "Model not installed", message)


class ModelBannerWidget(QFrame):
    """The strip under the search bar while no model is installed, with the two ways to get one."""

    def __init__(self, setup: ModelSetupController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(
            "<b>No search model is installed.</b> You can browse your photos by date now; searching by "
            f"meaning, similar photos and tags need a CLIP model ({default_model_size()}, downloaded once; "
            "then everything stays on this computer).", self)
        self.label.setWordWrap(True)
        self.download_button = QPushButton("Download a model\u2026", self)
        self.download_button.setToolTip("Download the default CLIP model once; it then works offline")
        self.import_button = QPushButton("Import a model folder\u2026", self)
        self.import_button.setToolTip("Use a model folder copied from another computer")
        self.download_button.clicked.connect(lambda: setup.download())
        self.import_button.clicked.connect(lambda: setup.import_folder())
        row = QHBoxLayout(self)
        row.addWidget(self.label, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.import_button)
        self.hide()

    def set_model(self, name: str | None) -> None:
        """Hidden once a model is active."""
        self.setVisible(not name)
