"""Show a photo selected in the system's file manager.

Opening the folder alone leaves the person hunting for the file among hundreds, so each platform's
way of selecting it is used: Explorer's ``/select,``, Finder's ``open -R``, and on Linux the
freedesktop ``org.freedesktop.FileManager1.ShowItems`` D-Bus call that Nautilus, Dolphin, Nemo,
Caja and Thunar implement. Where none is available the folder is opened, which always works.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QDir, QProcess, QUrl
from PySide6.QtGui import QDesktopServices

FILE_MANAGER_SERVICE = "org.freedesktop.FileManager1"
FILE_MANAGER_PATH = "/org/freedesktop/FileManager1"


def reveal_in_file_manager(path: str | Path) -> str:
    """Select ``path`` in the file manager; returns how: ``explorer``, ``finder``, ``dbus`` or ``folder``."""
    target = Path(path)
    if sys.platform == "win32" and _detached("explorer.exe", ["/select,", QDir.toNativeSeparators(str(target))]):
        return "explorer"
    if sys.platform == "darwin" and _detached("open", ["-R", str(target)]):
        return "finder"
    if sys.platform.startswith("linux") and _show_items_over_dbus(target):
        return "dbus"
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(target.parent)))
    return "folder"


def _detached(program: str, args: list[str]) -> bool:
    started, _pid = QProcess.startDetached(program, args)
    return bool(started)


def _show_items_over_dbus(target: Path) -> bool:
    """Ask a running (or activatable) freedesktop file manager to select the file, without waiting."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusMessage
    except ImportError:  # a PySide6 build without QtDBus
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    interface = bus.interface()
    registered = interface.isServiceRegistered(FILE_MANAGER_SERVICE)
    if not (registered.isValid() and registered.value()):
        activatable = interface.activatableServiceNames()
        if not activatable.isValid() or FILE_MANAGER_SERVICE not in activatable.value():
            return False
    message = QDBusMessage.createMethodCall(FILE_MANAGER_SERVICE, FILE_MANAGER_PATH, FILE_MANAGER_SERVICE,
                                            "ShowItems")
    # Signature (as, s): the file URIs and a startup-notification id, empty when there is none.
    message.setArguments([[QUrl.fromLocalFile(str(target)).toString(QUrl.ComponentFormattingOption.FullyEncoded)],
                          ""])
    return bool(bus.send(message))
