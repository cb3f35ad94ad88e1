"""Starting the desktop app: the Qt application, the library, the welcome flow, the main window."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from photoclip import __version__
from photoclip.errors import PhotoClipError
from photoclip.gui.theme import THEME_KEY, app_icon, apply_theme

if TYPE_CHECKING:
    from photoclip.gui.main_window import MainWindow

ORGANISATION = "PhotoClip"
APPLICATION = "PhotoClip"
# Python hands the interpreter lock to a waiting thread only every "switch interval" (5 ms by
# default). The GUI thread needs it for every Python slot and every painted cell, so with decode
# and catalog threads busy it queued behind them 5 ms at a time; 1 ms keeps it responsive.
SWITCH_INTERVAL_S = 0.001


# Young-generation collections every 20,000 allocations instead of 700: a refresh's short-lived
# objects are then freed before a collection ever sees them, instead of being promoted and
# triggering full collections.
GC_THRESHOLDS = (20_000, 20, 20)


def tune_interpreter() -> None:
    """Let the GUI thread win the interpreter lock quickly (desktop app only, never the core)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.set_threshold(*GC_THRESHOLDS)


def freeze_startup_objects() -> None:
    """Keep the objects made at start-up out of every later garbage collection.

    Qt, numpy and the app leave ~50,000 long-lived objects behind after start-up, and a full
    collection over them (triggered by whichever thread allocates) took ~200 ms here, holding the
    interpreter lock and so freezing the window. Frozen, a full collection takes well under 10 ms.
    """
    gc.freeze()


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv if argv is not None else sys.argv[:1]))
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("photoclip")
    app.setWindowIcon(app_icon())
    return app


def first_run(window: MainWindow, ui: QSettings) -> None:
    """Show the welcome flow when the library has no folders yet; add what the user chose.

    Call it once the window's sidebar has loaded (that is where the folder list comes from).
    """
    from photoclip.gui.welcome_dialog import WelcomeDialog

    if window.sidebar.data.folders:
        return
    dialog = WelcomeDialog(window.library, window.model_setup, window, model=window.model_name)
    dialog.exec()
    for folder in dialog.folders:
        window.actions.add_folder(folder)
    ui.setValue("welcome/done", True)


def welcome_when_ready(window: MainWindow, ui: QSettings) -> None:
    """Run `first_run` after the first sidebar load, without reading the catalog on the GUI thread."""

    def once(_data: object) -> None:
        window.sidebarLoaded.disconnect(once)
        first_run(window, ui)

    window.sidebarLoaded.connect(once)


def run(library_dir: str | None = None) -> int:
    """Open the app on a library (``photoclip`` with no command); returns the exit code."""
    from photoclip.gui.main_window import MainWindow
    from photoclip.library import Library

    tune_interpreter()
    app = make_application()
    ui = QSettings()
    apply_theme(app, str(ui.value(THEME_KEY, "")) or None)
    try:
        library = Library.open(library_dir)
    except PhotoClipError as exc:
        QMessageBox.critical(None, "PhotoClip cannot open the library", str(exc))
        return 1
    window = MainWindow(library, ui_settings=ui)
    from photoclip.instance import InstanceServer

    server = InstanceServer(library)  # `photoclip search` asks this window instead of loading the model
    try:
        window.show()
        freeze_startup_objects()
        welcome_when_ready(window, ui)
        window.start_live_sync()
        server.start()
        return app.exec()
    finally:
        server.close()
        window.shutdown()  # the watcher and jobs let go of the library before it closes
        library.close()


def main() -> int:
    library = None
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--library":
        library = args[1]
    return run(library)
