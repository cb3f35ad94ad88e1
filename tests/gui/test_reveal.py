""""Show in folder" selects the photo: Explorer and Finder arguments, the freedesktop D-Bus call, the fallback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QProcess, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from photoclip.gui import reveal

REPO = Path(__file__).resolve().parents[2]


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())


@pytest.fixture
def opened(qapp):  # type: ignore[no-untyped-def]
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher.urls
    QDesktopServices.unsetUrlHandler("file")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []

    def fake(program: str, args: list[str]) -> tuple[bool, int]:
        calls.append((program, list(args)))
        return True, 4242
    monkeypatch.setattr(QProcess, "startDetached", staticmethod(fake))
    return calls


def test_windows_selects_the_file_in_explorer(monkeypatch, started, opened) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "platform", "win32")
    assert reveal.reveal_in_file_manager("/photos/a b/x.jpg") == "explorer"
    program, args = started[0]
    assert program == "explorer.exe" and args[0] == "/select,"
    assert args[1].endswith("x.jpg") and "a b" in args[1]
    assert opened == []


def test_macos_reveals_in_finder(monkeypatch, started, opened) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "platform", "darwin")
    assert reveal.reveal_in_file_manager("/photos/x.jpg") == "finder"
    assert started == [("open", ["-R", "/photos/x.jpg"])]
    assert opened == []


def test_falls_back_to_the_folder_when_the_helper_will_not_start(monkeypatch, opened) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(QProcess, "startDetached", staticmethod(lambda program, args: (False, 0)))
    assert reveal.reveal_in_file_manager("/photos/trip/x.jpg") == "folder"
    assert opened == ["/photos/trip"]


# -- Linux: a private session bus with a stand-in file manager, each side in its own process ------------

FAKE_FILE_MANAGER = textwrap.dedent("""
    from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, QTimer, Slot
    from PySide6.QtDBus import QDBusConnection

    @ClassInfo({"D-Bus Interface": "org.freedesktop.FileManager1"})
    class FileManager(QObject):
        @Slot("QStringList", str)
        def ShowItems(self, uris, startup_id):
            print("SHOW", "|".join(uris), repr(startup_id), flush=True)
            QCoreApplication.quit()

    app = QCoreApplication([])
    bus = QDBusConnection.sessionBus()
    fm = FileManager()
    assert bus.registerObject("/org/freedesktop/FileManager1", fm, QDBusConnection.ExportAllSlots)
    assert bus.registerService("org.freedesktop.FileManager1")
    print("READY", flush=True)
    QTimer.singleShot(15000, app.quit)
    app.exec()
""")

REVEAL = textwrap.dedent("""
    import sys
    from PySide6.QtGui import QGuiApplication
    app = QGuiApplication([])
    from photoclip.gui.reveal import reveal_in_file_manager
    print("HOW", reveal_in_file_manager(sys.argv[1]), flush=True)
""")


@pytest.fixture
def session_bus(tmp_path: Path) -> dict[str, str]:
    if not sys.platform.startswith("linux") or shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon (Linux)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                              stdout=subprocess.PIPE, text=True)
    assert daemon.stdout is not None
    address = daemon.stdout.readline().strip()
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(REPO)}
    yield env
    daemon.terminate()
    daemon.wait(5)


def test_linux_asks_the_file_manager_to_select_the_file(session_bus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fm = subprocess.Popen([sys.executable, "-c", FAKE_FILE_MANAGER], env=session_bus,
                          stdout=subprocess.PIPE, text=True)
    try:
        assert fm.stdout is not None
        assert fm.stdout.readline().strip() == "READY"
        photo = tmp_path / "trip 2024" / "été #1.jpg"
        out = subprocess.run([sys.executable, "-c", REVEAL, str(photo)], env=session_bus,
                             capture_output=True, text=True, timeout=60)
        assert "HOW dbus" in out.stdout, out.stderr
        deadline = time.monotonic() + 15
        line = fm.stdout.readline()
        assert time.monotonic() < deadline
        uris, startup_id = line.removeprefix("SHOW ").strip().rsplit(" ", 1)
        assert QUrl(uris).toLocalFile() == str(photo)
        assert "%20" in uris and startup_id == "''"
    finally:
        fm.kill()
        fm.wait(5)


def test_linux_without_a_file_manager_opens_the_folder(session_bus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run([sys.executable, "-c", REVEAL, str(tmp_path / "x.jpg")], env=session_bus,
                         capture_output=True, text=True, timeout=60)
    assert "HOW folder" in out.stdout, out.stderr
