"""Defects found using the app as a person would; each test failed before its fix."""

from __future__ import annotations

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
