"""The settings dialog: folders, model and query language, device, tagging vocabulary, thumbnail cache.

Library settings are the core's `Settings` dataclass, saved with ``library.save_settings`` when the
user presses OK. Folder, model and tag changes take effect at once (each is its own catalog write,
run on a worker); re-embedding and re-tagging run as background jobs.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from photoclip.gui.job_runner import JobRunner
from photoclip.gui.model_setup import ModelSetupController
from photoclip.gui.query_language import QueryLanguageBox
from photoclip.gui.workers import TaskRunner

if TYPE_CHECKING:
    from photoclip.library import Library

DEVICE_LABELS = (("auto", "Automatic (GPU when available)"), ("cpu", "CPU"), ("gpu", "GPU"))


# What each ONNX Runtime provider runs on, in words; providers that are not a device of this computer
# (Azure sends work to a remote endpoint) are left out.
DEVICE_NAMES = {
    "CPUExecutionProvider": "CPU",
    "CUDAExecutionProvider": "NVIDIA GPU (CUDA)",
    "TensorrtExecutionProvider": "NVIDIA GPU (TensorRT)",
    "ROCMExecutionProvider": "AMD GPU (ROCm)",
    "MIGraphXExecutionProvider": "AMD GPU (MIGraphX)",
    "DmlExecutionProvider": "GPU (DirectML)",
    "CoreMLExecutionProvider": "Apple GPU / Neural Engine (Core ML)",
    "OpenVINOExecutionProvider": "Intel CPU/GPU (OpenVINO)",
}


def device_names(providers: list[str]) -> list[str]:
    return list(dict.fromkeys(DEVICE_NAMES[p] for p in providers if p in DEVICE_NAMES))


def describe_devices(info: dict[str, Any]) -> str:
    gpus = ", ".join(device_names(info.get("gpu_providers") or []))
    lines = [f"Runtime: {info.get('runtime') or 'not installed'} {info.get('version') or ''}".strip(),
             f"Devices: {', '.join(device_names(info.get('providers') or [])) or 'none'}",
             f"GPU: {'yes (' + gpus + ')' if info.get('gpu') else 'not available'}",
             f"Physical CPU cores: {info.get('physical_cores')}"]
    if info.get("problem"):
        lines.append(f"Problem: {info['problem']}")
    return "\n".join(lines)


def _load_devices() -> dict[str, Any]:
    from photoclip.engine import available_devices

    return available_devices()


class SettingsDialog(QDialog):
    reindexRequested = Signal()
    queryLanguageChanged = Signal(str)  # saved: searches from now on use it

    def __init__(self, library: Library, tasks: TaskRunner, jobs: JobRunner,
                 model_setup: ModelSetupController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PhotoClip settings")
        self.library = library
        self.tasks = tasks
        self.jobs = jobs
        self.model_setup = model_setup
        self.settings = dataclasses.replace(library.settings)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._folders_tab(), "Folders")
        self.tabs.addTab(self._model_tab(), "Model")
        self.tabs.addTab(self._device_tab(), "Device")
        self.tabs.addTab(self._tagging_tab(), "Tagging")
        self.tabs.addTab(self._storage_tab(), "Storage")
        self.tabs.addTab(self._appearance_tab(), "Appearance")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(640, 460)
        model_setup.installed.connect(lambda _n: self.reload_models())
        self.reload_folders()
        self.reload_models()
        self.reload_tags()
        self.tasks.run(_load_devices, lambda info: self.device_info.setText(describe_devices(info)),
                       lambda exc: self.device_info.setText(f"Cannot inspect devices: {exc}"))

    # -- folders ----------------------------------------------------------------------------

    def _folders_tab(self) -> QWidget:
        page = QWidget(self)
        self.folder_list = QListWidget(page)
        self.folder_list.setAccessibleName("Library folders")
        add = QPushButton("Add\u2026", page)
        remove = QPushButton("Remove", page)
        self.polling = QCheckBox("Check this folder by polling (for network shares)", page)
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_folder)
        self.polling.toggled.connect(self._set_polling)
        self.folder_list.currentItemChanged.connect(self._on_folder_selected)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        col = QVBoxLayout(page)
        col.addWidget(self.folder_list)
        col.addWidget(self.polling)
        col.addLayout(row)
        return page

    def reload_folders(self) -> None:
        library = self.library
        self.tasks.run(library.folders, self._fill_folders)

    def _fill_folders(self, infos: list[Any]) -> None:
        self.folder_list.clear()
        for info in infos:
            text = f"{info.folder.path}  ({info.total:,} photos{', offline' if info.folder.state == 'offline' else ''})"
            item = QListWidgetItem(text, self.folder_list)
            item.setData(Qt.ItemDataRole.UserRole, (info.folder.path, info.folder.polling))

    def _on_folder_selected(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        self.polling.blockSignals(True)
        self.polling.setChecked(bool(item and item.data(Qt.ItemDataRole.UserRole)[1]))
        self.polling.blockSignals(False)

    def _add_folder(self) -> None:
        from photoclip.gui.library_actions import choose_folder

        path = choose_folder(self)
        if path:
            library = self.library
            self.tasks.run(lambda: library.add_folder(path), lambda _f: (self.reload_folders(),
                                                                         self.reindexRequested.emit()),
                           lambda exc: QMessageBox.warning(self, "Cannot add this folder", str(exc)))

    def _remove_folder(self) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            path = item.data(Qt.ItemDataRole.UserRole)[0]
            library = self.library
            self.tasks.run(lambda: library.remove_folder(path), lambda _n: self.reload_folders())

    def _set_polling(self, on: bool) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            path = item.data(Qt.ItemDataRole.UserRole)[0]
            library = self.library
            self.tasks.run(lambda: library.set_folder_polling(path, on), lambda _f: self.reload_folders(),
                           lambda exc: QMessageBox.warning(self, "Cannot change how the folder is watched",
                                                           str(exc)))

    # -- model ------------------------------------------------------------------------------

    def _model_tab(self) -> QWidget:
        page = QWidget(self)
        self.model_list = QListWidget(page)
        self.model_list.setAccessibleName("Installed models")
        self.model_note = QLabel(page)
        self.model_note.setWordWrap(True)
        use = QPushButton("Use selected", page)
        remove = QPushButton("Remove", page)
        download = QPushButton("Download\u2026", page)
        import_ = QPushButton("Import folder\u2026", page)
        reembed = QPushButton("Re-embed in background", page)
        reembed.setToolTip("Compute vectors for every photo that has none for the active model")
        use.clicked.connect(self._use_model)
        remove.clicked.connect(self._remove_model)
        download.clicked.connect(lambda: self.model_setup.download())
        import_.clicked.connect(lambda: self.model_setup.import_folder())
        reembed.clicked.connect(self.reindexRequested.emit)
        row = QHBoxLayout()
        for b in (use, remove, download, import_):
            row.addWidget(b)
        col = QVBoxLayout(page)
        col.addWidget(self.model_list)
        col.addWidget(self.model_note)
        col.addLayout(row)
        col.addWidget(reembed)
        self.language_box = QueryLanguageBox(self.library, self.tasks, self.settings.query_language, page)
        self.query_language = self.language_box.combo
        self.query_language_note = self.language_box.note
        col.addWidget(self.language_box)
        return page

    def reload_models(self) -> None:
        store = self.library.models
        if store is None:
            self.model_note.setText("This library uses a built-in model.")
            return
        self.tasks.run(lambda: (store.list(), store.active()), self._fill_models)
        self.language_box.reload_note()  # another active model may or may not take a language

    def _fill_models(self, data: tuple[list[Any], Any]) -> None:
        infos, active = data
        active_name = getattr(active, "name", None)
        self.model_list.clear()
        for info in infos:
            mark = "  \u2014 active" if info.name == active_name else ""
            item = QListWidgetItem(f"{info.name}{mark}", self.model_list)
            item.setData(Qt.ItemDataRole.UserRole, info.name)
        self.model_note.setText("" if infos else "No model installed: download one or import a folder.")

    def _use_model(self) -> None:
        item = self.model_list.currentItem()
        if item is not None:
            name, library = item.data(Qt.ItemDataRole.UserRole), self.library
            self.tasks.run(lambda: library.use_model(name),
                           lambda _r: (self.reload_models(), self.reindexRequested.emit()),
                           lambda exc: QMessageBox.warning(self, "Cannot use this model", str(exc)))

    def _remove_model(self) -> None:
        item = self.model_list.currentItem()
        store = self.library.models
        if item is not None and store is not None:
            name, library = item.data(Qt.ItemDataRole.UserRole), self.library

            def work() -> None:
                store.remove(name)
                library.reload_engine()

            self.tasks.run(work, lambda _r: self.reload_models(),
                           lambda exc: QMessageBox.warning(self, "Cannot remove this model", str(exc)))

    # -- device -----------------------------------------------------------------------------

    def _device_tab(self) -> QWidget:
        page = QWidget(self)
        self.device = QComboBox(page)
        for key, label in DEVICE_LABELS:
            self.device.addItem(label, key)
        self.device.setCurrentIndex(max(0, self.device.findData(self.settings.device)))
        self.threads = QSpinBox(page)
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText("Automatic")
        self.threads.setValue(self.settings.threads)
        self.device_info = QLabel("Checking\u2026", page)
        self.device_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(page)
        form.addRow("Run the model on", self.device)
        form.addRow("Threads", self.threads)
        form.addRow("This computer", self.device_info)
        return page

    # -- tagging ----------------------------------------------------------------------------

    def _tagging_tab(self) -> QWidget:
        page = QWidget(self)
        self.auto_tag = QCheckBox("Tag new photos automatically", page)
        self.auto_tag.setChecked(self.settings.auto_tag)
        self.max_tags = QSpinBox(page)
        self.max_tags.setRange(1, 50)
        self.max_tags.setValue(self.settings.max_tags_per_photo)
        self.tag_table = QTableWidget(0, 4, page)
        self.tag_table.setHorizontalHeaderLabels(["Tag", "Described to the model as", "Threshold", "Photos"])
        header = self.tag_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tag_table.verticalHeader().hide()
        self.tag_table.setToolTip("Untick a tag to stop applying it. Double-click its descriptions to edit "
                                  "them; separate several with ;")
        self.tag_table.itemChanged.connect(self._tag_item_changed)
        self._thresholds: dict[str, float] = {}
        self._prompts: dict[str, list[str]] = {}
        self._enabled: dict[str, bool] = {}
        self.new_tag = QLineEdit(page)
        self.new_tag.setPlaceholderText("New tag name")
        self.new_prompts = QLineEdit(page)
        self.new_prompts.setPlaceholderText("Optional prompts, separated by ;")
        add = QPushButton("Add tag", page)
        remove = QPushButton("Remove selected", page)
        retag = QPushButton("Re-tag all photos", page)
        add.clicked.connect(self._add_tag)
        remove.clicked.connect(self._remove_tag)
        retag.clicked.connect(self._retag)
        self.min_score = QDoubleSpinBox(page)
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setValue(self.settings.search_min_score)
        self.min_score.setToolTip("Search results scoring below this are hidden (and counted). 0.5 means as "
                                  "likely a match as not; the same scale as a tag's confidence.")
        form = QFormLayout()
        form.addRow(self.auto_tag)
        form.addRow("Tags per photo, at most", self.max_tags)
        form.addRow("Search strictness: hide results below", self.min_score)
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_tag)
        add_row.addWidget(self.new_prompts)
        add_row.addWidget(add)
        row = QHBoxLayout()
        row.addWidget(remove)
        row.addStretch(1)
        row.addWidget(retag)
        col = QVBoxLayout(page)
        col.addLayout(form)
        col.addWidget(self.tag_table)
        col.addLayout(add_row)
        col.addLayout(row)
        return page

    def reload_tags(self) -> None:
        library = self.library

        def load() -> list[Any]:
            try:
                return library.tags()
            except ImportError:
                return []

        self.tasks.run(load, self._fill_tags)

    def _fill_tags(self, tags: list[Any]) -> None:
        """One row per tag: on/off, its prompts (editable), its threshold and how many photos carry it."""
        self.tag_table.blockSignals(True)
        try:
            self.tag_table.setRowCount(len(tags))
            for r, tag in enumerate(tags):
                name = QTableWidgetItem(tag.name)
                name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable)
                on = self._enabled.get(tag.name, bool(tag.enabled))
                name.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                name.setData(Qt.ItemDataRole.UserRole, tag.name)
                unavailable = getattr(tag, "available", None) is False
                if unavailable:
                    name.setForeground(Qt.GlobalColor.gray)
                    name.setToolTip("Unavailable: the active model cannot tell this tag's words from made-up "
                                    "ones, so it is never applied.")
                self.tag_table.setItem(r, 0, name)
                prompts = QTableWidgetItem("; ".join(self._prompts.get(tag.name, tag.prompts)))
                prompts.setData(Qt.ItemDataRole.UserRole, tag.name)
                self.tag_table.setItem(r, 1, prompts)
                spin = QDoubleSpinBox(self.tag_table)
                spin.setRange(0.0, 1.0)
                spin.setSingleStep(0.05)
                spin.setValue(self._thresholds.get(tag.name, float(tag.threshold)))
                spin.valueChanged.connect(lambda v, n=tag.name: self._thresholds.__setitem__(n, v))
                self.tag_table.setCellWidget(r, 2, spin)
                count = QTableWidgetItem("unavailable" if unavailable else str(tag.count))
                count.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.tag_table.setItem(r, 3, count)
        finally:
            self.tag_table.blockSignals(False)

    def _tag_item_changed(self, item: QTableWidgetItem) -> None:
        """Remember edits until OK: several changes then cost one re-tagging pass."""
        if item.column() == 0:
            self._enabled[item.data(Qt.ItemDataRole.UserRole) or item.text()] = \
                item.checkState() == Qt.CheckState.Checked
        elif item.column() == 1:
            name = str(item.data(Qt.ItemDataRole.UserRole))
            prompts = [p.strip() for p in item.text().split(";") if p.strip()]
            if prompts:
                self._prompts[name] = prompts
            else:  # an emptied cell means "as before"
                self._prompts.pop(name, None)

    def _add_tag(self) -> None:
        name = " ".join(self.new_tag.text().split())
        if not name:
            return
        prompts = [p.strip() for p in self.new_prompts.text().split(";") if p.strip()] or None
        library = self.library
        self.new_tag.clear()
        self.new_prompts.clear()
        self.tasks.run(lambda: library.add_tag(name, prompts), lambda _r: self.reload_tags(),
                       lambda exc: QMessageBox.warning(self, "Cannot add the tag", str(exc)))

    def _remove_tag(self) -> None:
        row = self.tag_table.currentRow()
        item = self.tag_table.item(row, 0) if row >= 0 else None
        if item is not None:
            name, library = item.text(), self.library
            self.tasks.run(lambda: library.remove_tag(name), lambda _r: self.reload_tags())

    def _retag(self) -> None:
        library = self.library
        self.jobs.submit("Re-tagging", lambda sink, token: library.retag(progress=sink, cancel=token))

    # -- storage ----------------------------------------------------------------------------

    def _storage_tab(self) -> QWidget:
        page = QWidget(self)
        self.cache_mb = QSpinBox(page)
        self.cache_mb.setRange(16, 100_000)
        self.cache_mb.setSuffix(" MB")
        self.cache_mb.setValue(self.settings.thumbnail_cache_mb)
        form = QFormLayout(page)
        form.addRow("Thumbnail cache size", self.cache_mb)
        form.addRow(QLabel(f"Thumbnails are kept in {self.library.directory / 'thumbs'}", page))
        return page

    # -- appearance (UI state, applied at once) ----------------------------------------------

    def _appearance_tab(self) -> QWidget:
        from photoclip.gui.theme import THEME_KEY, THEMES

        page = QWidget(self)
        self.theme = QComboBox(page)
        for key, label in THEMES:
            self.theme.addItem(label, key)
        ui = getattr(self.parentWidget(), "ui", None)
        current = str(ui.value(THEME_KEY, "system")) if ui is not None else "system"
        self.theme.setCurrentIndex(max(0, self.theme.findData(current)))
        self.theme.currentIndexChanged.connect(lambda _i: self.set_theme(str(self.theme.currentData())))
        form = QFormLayout(page)
        form.addRow("Colours", self.theme)
        form.addRow(QLabel("Applies at once and is remembered.", page))
        return page

    def set_theme(self, key: str) -> None:
        from PySide6.QtWidgets import QApplication

        from photoclip.gui.theme import THEME_KEY, apply_theme

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, key)
        ui = getattr(self.parentWidget(), "ui", None)
        if ui is not None:
            ui.setValue(THEME_KEY, key)

    # -- saving -----------------------------------------------------------------------------

    def collected(self) -> Any:
        """The settings as edited in the dialog (not saved yet)."""
        return dataclasses.replace(
            self.settings, device=str(self.device.currentData()), threads=self.threads.value(),
            auto_tag=self.auto_tag.isChecked(), max_tags_per_photo=self.max_tags.value(),
            thumbnail_cache_mb=self.cache_mb.value(), search_min_score=round(self.min_score.value(), 2),
            query_language=self.language_box.code())

    def accept(self) -> None:
        settings, library = self.collected(), self.library
        thresholds, prompts, enabled = dict(self._thresholds), dict(self._prompts), dict(self._enabled)
        language_changed = settings.query_language != library.settings.query_language

        def save() -> bool:
            library.save_settings(settings)
            for name, value in thresholds.items():
                library.set_tag_threshold(name, value)
            for name, texts in prompts.items():
                library.set_tag_prompts(name, texts)
            for name, on in enabled.items():
                library.set_tag_enabled(name, on)
            # Turning a tag off takes effect at once; anything else needs the photos re-tagged.
            return bool(thresholds or prompts or any(enabled.values()))

        def saved(retag: bool) -> None:
            if language_changed:
                self.queryLanguageChanged.emit(settings.query_language)
            if retag:
                self._retag()

        self.tasks.run(save, saved,
                       lambda exc: QMessageBox.warning(self.parentWidget(), "Settings not saved", str(exc)))
        super().accept()
