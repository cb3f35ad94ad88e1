"""Exporting photos or an album into a folder, as a background job with progress and Cancel.

Originals are only read. Selected photos are copied under their own names (numbered when a name
is taken, nothing is overwritten); albums go through the facade's `export_album` (copy, hard
link or symbolic link, optional XMP sidecars with tags and stars).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout

from photoclip.gui.library_actions import pictures_folder
from photoclip.jobs import CancelToken, ProgressSink, ProgressTracker, Skipped

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow

EXPORTING = "Exporting"


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def choose_destination(parent: Any, title: str) -> str:
    """Ask for the folder to export into (a module function so tests answer it)."""
    return QFileDialog.getExistingDirectory(parent, title, pictures_folder())


def free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = target.stem, target.suffix
    n = 2
    while target.exists():
        target = folder / f"{stem} ({n}){suffix}"
        n += 1
    return target


def copy_files(paths: list[str], destination: str, sink: ProgressSink, token: CancelToken) -> CopyReport:
    """Worker side: copy each file into ``destination`` without overwriting anything."""
    folder = Path(destination)
    folder.mkdir(parents=True, exist_ok=True)
    tracker = ProgressTracker(sink, "export", len(paths))
    report = CopyReport()
    for path in paths:
        token.raise_if_cancelled()
        try:
            target = free_name(folder, Path(path).name)
            shutil.copy2(path, target)
            report.copied.append(str(target))
            tracker.advance(current=target.name)
        except OSError as exc:
            skipped = Skipped(path, exc.strerror or str(exc))
            report.skipped.append(skipped)
            tracker.advance(skipped=skipped)
    tracker.emit()
    return report


def export_files(window: MainWindow, paths: list[str], destination: str | None = None) -> None:
    destination = destination or choose_destination(window, f"Export {len(paths)} photo(s) to\u2026")
    if not destination:
        return
    job = window.jobs.submit(EXPORTING, lambda sink, token: copy_files(list(paths), destination, sink, token))

    def finished(done: Any, report: Any) -> None:
        if done is job:
            window.jobs.finished.disconnect(finished)
            skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
            window.statusBar().showMessage(f"Exported {len(report.copied)} photo(s) to {destination}{skipped}", 8000)

    window.jobs.finished.connect(finished)


class AlbumExportDialog(QDialog):
    """Asks how to export an album: copy or link, with or without XMP sidecars."""

    def __init__(self, album: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {album}")
        self.mode = QComboBox(self)
        for key, label in (("copy", "Copies of the photos"), ("hardlink", "Hard links (no extra space, same drive)"),
                           ("symlink", "Symbolic links")):
            self.mode.addItem(label, key)
        self.xmp = QCheckBox("Write XMP sidecars with tags and stars (digiKam, darktable)", self)
        self.xmp.setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Choose folder\u2026")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Export as", self.mode)
        form.addRow(self.xmp)
        form.addRow(buttons)


def ask_album_export(parent: Any, album: str) -> tuple[str, bool] | None:
    """(mode, xmp) or None when cancelled (a module function so tests answer it)."""
    dialog = AlbumExportDialog(album, parent)
    if not dialog.exec():
        return None
    return str(dialog.mode.currentData()), dialog.xmp.isChecked()


def export_album(window: MainWindow, album: str, destination: str | None = None,
                 options: tuple[str, bool] | None = None) -> None:
    """Export an album in the background; progress and Cancel are in the status bar."""
    options = options or ask_album_export(window, album)
    if options is None:
        return
    destination = destination or choose_destination(window, f"Export {album} to\u2026")
    if not destination:
        return
    mode, xmp = options
    library = window.library
    job = window.jobs.submit(EXPORTING, lambda sink, token: library.export_album(
        album, destination, mode=mode, xmp=xmp, progress=sink, cancel=token))

    def finished(done: Any, report: Any) -> None:
        if done is job:
            window.jobs.finished.disconnect(finished)
            exported = len(getattr(report, "exported", []))
            skipped = len(getattr(report, "skipped", []))
            note = f", {skipped} skipped" if skipped else ""
            window.statusBar().showMessage(f"Exported {exported} photo(s) of {album} to {destination}{note}", 8000)

    window.jobs.finished.connect(finished)
