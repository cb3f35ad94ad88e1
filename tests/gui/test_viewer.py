"""The viewer: the keyboard path from the grid and back, stepping, zoom, info, slideshow, full screen."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from tests.gui.conftest import make_photos


def names(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(i.path).stem for i in window.model.items()]


def wait_for_answer(qtbot, window, predicate) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.answer is not None and predicate(window.answer), timeout=5000)


def centre_colour(widget) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    image = widget.grab().toImage()
    c = QColor(image.pixel(image.width() // 2, image.height() // 2))
    return c.red(), c.green(), c.blue()


def close(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) < 30 for x, y in zip(a, b, strict=True))


def test_enter_views_arrows_step_and_escape_keeps_the_photo_selected(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    window.activateWindow()
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    assert names(window) == ["green", "blue", "red"]
    window.search_bar.focus_search()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Down)  # selects the first photo
    assert window.grid.current_item() is not None and Path(window.grid.current_item().path).stem == "green"
    assert [Path(i.path).stem for i in window.grid.selected_items()] == ["green"], "Down selects the first photo"
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    assert window.viewing()
    viewer = window.viewer
    qtbot.waitUntil(viewer.is_ready, timeout=5000)
    assert close(centre_colour(viewer), (20, 200, 30))
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.waitUntil(viewer.is_ready, timeout=5000)
    assert close(centre_colour(viewer), (220, 20, 20)), "two steps on from green is red"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)  # the last photo: stays there
    assert Path(viewer.current().path).stem == "red"
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not window.viewing()
    assert [Path(i.path).stem for i in window.grid.selected_items()] == ["red"]
    assert window.grid.hasFocus()
    assert window.grid.viewport().rect().intersects(window.grid.visualRect(window.grid.currentIndex()))


def test_space_and_double_click_open_the_viewer(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    window.grid.select_row(1)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.viewing() and Path(window.viewer.current().path).stem == "blue"
    qtbot.keyClick(window.viewer, Qt.Key.Key_Escape)
    rect = window.grid.visualRect(window.model.index(2))
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.viewing() and Path(window.viewer.current().path).stem == "red"


def test_zoom_to_100_percent_wheel_and_drag(qtbot, make_window, library, tmp_path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    image = Image.new("RGB", (3000, 2000), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 1500, 2000))  # left half red, right half blue
    image.save(folder / "halves.png")
    library.add_folder(folder)
    library.index()
    window = make_window(library)
    window.resize(1000, 700)
    wait_for_answer(qtbot, window, lambda a: len(a) == 1)
    window.grid.select_row(0)
    window.open_viewer()
    viewer = window.viewer
    qtbot.waitUntil(viewer.is_ready, timeout=10000)
    assert viewer.zoom is None and viewer.fit_scale() < 0.5
    qtbot.keyClick(viewer, Qt.Key.Key_Z)
    assert viewer.scale() == 1.0
    viewer.centre = QPointF(750, 1000)  # the middle of the red half
    viewer.set_zoom(1.0)
    assert close(centre_colour(viewer), (255, 0, 0))
    start = QPoint(viewer.width() // 2, viewer.height() // 2)
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=start)
    for dx in range(0, 1000, 100):  # drag the image leftwards: the blue half comes into view
        qtbot.mouseMove(viewer, QPoint(start.x() - dx, start.y()))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(start.x() - 1000, start.y()))
    assert viewer.centre.x() > 1500
    assert close(centre_colour(viewer), (0, 0, 255))
    viewer.set_zoom(None)
    fit = viewer.fit_scale()
    viewer.set_zoom(fit * 1.25 ** 2)
    assert abs(viewer.scale() - fit * 1.5625) < 1e-6
    qtbot.keyClick(viewer, Qt.Key.Key_Z)  # zoomed in: back to fit
    assert viewer.zoom is None
    qtbot.keyClick(viewer, Qt.Key.Key_Z)
    assert viewer.zoom == 1.0


def test_info_overlay_slideshow_and_full_screen(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    window.grid.select_row(0)
    window.open_viewer()
    viewer = window.viewer
    qtbot.keyClick(viewer, Qt.Key.Key_I)
    qtbot.waitUntil(lambda: len(viewer.info_text()) > 1, timeout=5000)
    assert viewer.info_text()[0] == "green.jpg"
    assert any("64 \u00d7 48" in line for line in viewer.info_text())
    viewer.slideshow.setInterval(30)
    qtbot.keyClick(viewer, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: Path(viewer.current().path).stem == "red", timeout=3000)
    qtbot.waitUntil(lambda: not viewer.slideshow.isActive(), timeout=3000)  # stops at the last photo
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    qtbot.waitUntil(window.isFullScreen, timeout=3000)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=3000)
    assert not window.viewing()


def test_orientation_is_honoured_and_neighbours_are_prefetched(qtbot, make_window, library, tmp_path) -> None:
    folder = tmp_path / "turned"
    make_photos(folder, {"a": (200, 200, 0), "b": (0, 200, 200), "c": (200, 0, 200)})
    wide = Image.new("RGB", (400, 200), (10, 10, 10))
    exif = wide.getexif()
    exif[0x0112] = 6  # shown turned 90°: portrait
    wide.save(folder / "turned.jpg", exif=exif)
    library.add_folder(folder)
    library.index()
    window = make_window(library)
    wait_for_answer(qtbot, window, lambda a: len(a) == 4)
    row = names(window).index("turned")
    window.grid.select_row(row)
    window.open_viewer()
    viewer = window.viewer
    qtbot.waitUntil(viewer.is_ready, timeout=5000)
    decoded = viewer._cache[viewer.current().path]
    assert (decoded.full.width(), decoded.full.height()) == (200, 400)
    neighbours = [viewer.item_at(i).path for i in (row - 1, row + 1) if viewer.item_at(i) is not None]
    qtbot.waitUntil(lambda: all(p in viewer._cache for p in neighbours[:1]), timeout=5000)


def test_stars_and_favourite_keys_work_in_the_viewer(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    window.grid.select_row(1)
    window.open_viewer()
    viewer = window.viewer
    shown = viewer.current().id
    qtbot.keyClick(viewer, Qt.Key.Key_5)
    qtbot.keyClick(viewer, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: indexed.marks([shown])[shown].rating == 5 and indexed.marks([shown])[shown].favourite,
                    timeout=5000)
    assert window.viewing(), "marking does not leave the viewer"


def test_a_resized_viewer_gets_a_fit_copy_of_its_new_size(qtbot, make_window, library, tmp_path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    Image.new("RGB", (2400, 1600), (200, 40, 90)).save(folder / "wide.jpg")
    Image.new("RGB", (60, 40), (20, 40, 190)).save(folder / "tiny.jpg")
    library.add_folder(folder)
    library.index()
    window = make_window(library)
    window.resize(1000, 700)
    wait_for_answer(qtbot, window, lambda a: len(a) == 2)
    window.grid.select_row(names(window).index("wide"))
    window.open_viewer()
    viewer = window.viewer
    qtbot.waitUntil(viewer.is_ready, timeout=5000)
    window.resize(700, 500)
    qtbot.waitUntil(lambda: viewer.width() < 800)
    viewer.repaint()
    decoded = viewer._cache[viewer.current().path]
    qtbot.waitUntil(lambda: decoded.fit.width() <= viewer.width() * viewer.devicePixelRatioF() + 2, timeout=5000)
    viewer.step(1 if names(window).index("wide") == 0 else -1)  # the tiny photo: enlarged, never re-fitted
    qtbot.waitUntil(viewer.is_ready, timeout=5000)
    for _ in range(5):
        viewer.repaint()
    qtbot.waitUntil(lambda: not viewer._refitting and not viewer.runner.busy, timeout=5000)
    assert close(centre_colour(viewer), (20, 40, 190)), "a small photo fills the window"
