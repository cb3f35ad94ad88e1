"""Defects found using the app as a person would; each test failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices

from tests.gui.conftest import make_photos


def names(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(i.path).stem for i in window.model.items()]


def wait_for_answer(qtbot, window, predicate, timeout: int = 5000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.answer is not None and predicate(window.answer), timeout=timeout)


def settle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Wait until no query is running (the window's task pool is idle)."""
    qtbot.waitUntil(lambda: window.tasks.pool.activeThreadCount() == 0, timeout=5000)
    qtbot.wait(50)
    qtbot.waitUntil(lambda: window.tasks.pool.activeThreadCount() == 0, timeout=5000)


def test_find_similar_after_a_text_search_shows_the_similar_photos(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    window.search_bar.set_text("red")
    wait_for_answer(qtbot, window, lambda a: a.request.query == "red")
    window.grid.select_row(0)
    window.similar_to_current()
    wait_for_answer(qtbot, window, lambda a: a.request.similar_to is not None)
    settle(qtbot, window)
    assert window.answer.request.similar_to is not None, "clearing the search field dropped 'similar'"
    assert window.search_bar.similar_chip.isVisible()
    assert "red" not in names(window)


def test_down_arrow_moves_in_the_grid_and_from_the_search_field(qtbot, make_window, library, tmp_path) -> None:
    colours = {f"c{i:02d}": (i * 9, 100, 200 - i * 9) for i in range(20)}
    make_photos(tmp_path / "many", colours)
    library.add_folder(tmp_path / "many")
    library.index()
    window = make_window(library)
    wait_for_answer(qtbot, window, lambda a: len(a) == 20)
    window.search_bar.focus_search()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Down)
    assert window.grid.hasFocus() and window.grid.currentIndex().row() == 0
    cols = window.grid.columns()
    assert 1 <= cols < 20
    qtbot.waitUntil(lambda: window.grid.visualRect(window.model.index(cols)).x() == 0)  # Qt lays out lazily
    qtbot.keyClick(window.grid, Qt.Key.Key_Down)
    assert window.grid.currentIndex().row() == cols, "Down must move one row down in the grid"


def test_problems_follow_files_found_unreadable_outside_an_indexing_job(qtbot, make_window, indexed,
                                                                       photos) -> None:
    window = make_window(indexed)
    qtbot.waitUntil(lambda: window.problems_button.text() == "No problems")
    for name in ("broken1.jpg", "broken2.jpg"):
        (photos["red"].parent / name).write_bytes(b"not a jpeg at all")
    indexed.index()  # as the folder watcher does: library events, no indexing job of the window
    qtbot.waitUntil(lambda: window.problems_button.text() == "2 problems", timeout=5000)
    assert {Path(p).name for p, _ in window.problems.problems()} == {"broken1.jpg", "broken2.jpg"}


def test_open_says_so_when_the_system_has_no_viewer(qtbot, make_window, indexed, monkeypatch,
                                                    message_boxes) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda _url: False))
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    window.grid.select_row(0)
    qtbot.waitUntil(lambda: window.preview.path is not None)
    window.preview.open_photo()
    assert message_boxes and "green.jpg" in message_boxes[-1][1]


def test_indexing_that_found_nothing_does_not_say_it_indexed(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    with qtbot.waitSignal(window.indexing.indexed, timeout=10000):
        window.start_indexing()
    assert "Everything is up to date" in messages
    assert "Indexing finished" not in messages


def test_model_size_is_said_one_way(qtbot, make_window, library) -> None:
    from photoclip.gui.welcome_dialog import WelcomeDialog

    window = make_window(library)
    welcome = WelcomeDialog(library, window.model_setup, window)
    qtbot.addWidget(welcome)
    banner = window.banner.label.text()
    sizes_banner = re.findall(r"[\d,]+ MB", banner)
    sizes_welcome = re.findall(r"[\d,]+ MB", welcome.model_status.text())
    assert sizes_banner == sizes_welcome and len(sizes_banner) == 1


def test_remote_providers_are_not_shown_as_devices() -> None:
    from photoclip.gui.settings_dialog import describe_devices

    text = describe_devices({"runtime": "onnxruntime", "version": "1.20",
                             "providers": ["AzureExecutionProvider", "CPUExecutionProvider"],
                             "gpu": False, "gpu_providers": [], "physical_cores": 2})
    assert "Azure" not in text and "CPU" in text


def test_a_date_typed_in_one_go_is_read_as_typed(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    bar = window.filter_bar
    bar.show()
    bar.use_after.setChecked(True)
    field = bar.after
    field.setFocus()
    qtbot.keyClick(field.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field.edit, "2020-01-01")
    qtbot.keyClick(field.edit, Qt.Key.Key_Return)
    assert bar.state().after.isoformat() == "2020-01-01"


def test_sidebar_activity_fits_the_sidebar(qtbot, make_window, library) -> None:
    from photoclip.gui.indexing_status import describe, percent
    from photoclip.jobs import Progress

    window = make_window(library)
    p = Progress(phase="ocr", done=18, total=120)
    window.sidebar.set_activity(describe("Indexing", p, short=True), percent(p))
    text = window.sidebar.activity_item.text(0)
    width = window.sidebar.fontMetrics().horizontalAdvance(text) + 40  # indentation and the icon's room
    assert width <= window.sidebar.columnWidth(0), f"{text!r} is cut in a {window.sidebar.columnWidth(0)} px column"


def test_failed_download_clears_the_sidebar_progress_before_the_dialog(qtbot, make_window, library,
                                                                      monkeypatch) -> None:
    from photoclip.gui import main_window as main_window_module

    window = make_window(library)
    window.sidebar.set_activity("Downloading 1,000 / 9,000", 11)
    seen: list[str] = []
    monkeypatch.setattr(main_window_module, "explain_failure", lambda _w, _m: seen.append(window.sidebar.activity()))
    window.model_setup.failed.emit("you are offline")
    assert seen == [""]


def test_folder_picker_starts_in_the_pictures_folder(qtbot, monkeypatch, tmp_path) -> None:
    from PySide6.QtWidgets import QFileDialog

    from photoclip.gui import library_actions

    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    monkeypatch.setattr(library_actions, "pictures_folder", lambda: str(pictures), raising=False)
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda _p, _t, folder="", *a: asked.append(folder) or ""))
    library_actions.choose_folder(None)
    assert asked == [str(pictures)]


def test_grid_fills_the_width_and_shows_photos_not_file_names(qtbot, make_window, library, tmp_path) -> None:
    make_photos(tmp_path / "many", {f"c{i:02d}": (i * 9, 100, 200 - i * 9) for i in range(30)})
    library.add_folder(tmp_path / "many")
    library.index()
    window = make_window(library)
    window.resize(1600, 900)
    wait_for_answer(qtbot, window, lambda a: len(a) == 30)
    grid = window.grid
    qtbot.waitUntil(lambda: grid.viewport().width() > 900)
    for zoom in (120, 160, 200, 260):
        window.zoom.setValue(zoom)
        cols = grid.columns()
        qtbot.waitUntil(lambda c=cols: grid.visualRect(window.model.index(c)).x() == 0)  # Qt's layout is lazy
        last = grid.visualRect(window.model.index(cols - 1))
        band = grid.viewport().width() - last.right()
        assert band <= cols + 2, f"an empty band of {band} px at zoom {zoom}"
    assert grid.text_height == 0 and ".jpg" in window.model.data(window.model.index(29), Qt.ItemDataRole.ToolTipRole)


def test_preview_photo_grows_with_its_pane(qtbot, make_window, library, tmp_path) -> None:
    from PIL import Image

    folder = tmp_path / "big"
    folder.mkdir()
    Image.new("RGB", (1600, 1200), (200, 120, 30)).save(folder / "big.jpg")
    library.add_folder(folder)
    library.index()
    window = make_window(library)
    window.resize(1600, 820)
    wait_for_answer(qtbot, window, lambda a: len(a) == 1)
    window.grid.select_row(0)
    qtbot.waitUntil(lambda: window.preview.image.has_image(), timeout=5000)
    window.splitter.setSizes([200, 600, 800])
    qtbot.waitUntil(lambda: window.preview.width() > 700)
    qtbot.wait(50)
    shown = window.preview.image.pixmap()
    width = shown.width() / shown.devicePixelRatio()
    assert width > 0.7 * window.preview.width(), f"the photo stays {width} px in a {window.preview.width()} px pane"


def current_name(window) -> str | None:  # type: ignore[no-untyped-def]
    item = window.grid.current_item()
    selected = [Path(i.path).stem for i in window.grid.selected_items()]
    return Path(item.path).stem if item is not None and selected == [Path(item.path).stem] else None


def test_selection_survives_find_similar_escape_and_zoom(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    window.grid.select_row(names(window).index("blue"))
    window.similar_to_current()
    wait_for_answer(qtbot, window, lambda a: a.request.similar_to is not None)
    window.search_bar.similar_chip.click()  # back from the similar photos
    wait_for_answer(qtbot, window, lambda a: a.request.similar_to is None)
    assert current_name(window) == "blue"

    window.search_bar.focus_search()
    qtbot.keyClicks(window.search_bar.edit, "red")
    wait_for_answer(qtbot, window, lambda a: a.request.query == "red")
    window.grid.select_row(names(window).index("red"))
    window.search_bar.focus_search()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Escape)
    wait_for_answer(qtbot, window, lambda a: not a.searched)
    settle(qtbot, window)
    assert current_name(window) == "red"

    window.zoom.setValue(300)
    qtbot.wait(20)
    assert current_name(window) == "red"


def test_sidebar_highlight_follows_the_filters(qtbot, make_window, indexed) -> None:
    indexed.add_tag("colourful")
    indexed.accept_tag(indexed.browse()[0].id, "colourful")
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    qtbot.waitUntil(lambda: window.sidebar.tags_item.childCount() == 1
                    and window.sidebar.tags_item.child(0).text(0) == "colourful")
    tag_item = window.sidebar.tags_item.child(0)
    rect = window.sidebar.visualItemRect(tag_item)
    qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.sidebar.currentItem() is tag_item
    wait_for_answer(qtbot, window, lambda a: a.request.filters.tags == ("colourful",))
    window.filter_bar.clear()
    wait_for_answer(qtbot, window, lambda a: not a.request.filters.active)
    assert window.sidebar.currentItem() is window.sidebar.all_item
