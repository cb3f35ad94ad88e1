"""Starting the desktop app: the Qt application, the library, the welcome flow, the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from photoclip import __version__
from photoclip.errors import PhotoClipError
from photoclip.paths import resources_dir

ORGANISATION = "PhotoClip"
APPLICATION = "PhotoClip"


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "photoclip.svg"))


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv if argv is not None else sys.argv[:1]))
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    return app


def first_run(window: object, ui: QSettings) -> None:
    """Show the welcome flow when the library has no folders yet; add what the user chose."""
    from photoclip.gui.main_window import MainWindow
    from photoclip.gui.welcome_dialog import WelcomeDialog

    assert isinstance(window, MainWindow)
    if window.library.catalog.folders():
        return
    dialog = WelcomeDialog(window.library, window.model_setup, window)
    dialog.exec()
    for folder in dialog.folders:
        window.add_folder(folder)
    ui.setValue("welcome/done", True)


def run(library_dir: str | None = None) -> int:
    """Open the app on a library (``photoclip`` with no command); returns the exit code."""
    from photoclip.gui.main_window import MainWindow
    from photoclip.library import Library

    app = make_application()
    try:
        library = Library.open(library_dir)
    except PhotoClipError as exc:
        QMessageBox.critical(None, "PhotoClip cannot open the library", str(exc))
        return 1
    ui = QSettings()
    window = MainWindow(library, ui_settings=ui)
    window.show()
    first_run(window, ui)
    window.start_live_sync()
    try:
        return app.exec()
    finally:
        library.close()


def main() -> int:
    library = None
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--library":
        library = args[1]
    return run(library)
