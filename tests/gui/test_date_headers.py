"""Date headers in the grid: a band per day and month in date order, none in relevance order, and
a row is always a photo (arrows, Ctrl+A, the viewer and Escape never meet a header)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QPoint, Qt
from PySide6.QtGui import QColor, QDrag, QPalette

from photoclip.gui import queries
from photoclip.gui.grid_model import photo_ids_from
from tests.gui.conftest import make_photos

# Six reddish photos on three days across two months (newest first: a1 a2 | b1 b2 b3 | c1).
TAKEN = {"a1": (2025, 7, 2, 12), "a2": (2025, 7, 2, 11), "b1": (2025, 6, 14, 15), "b2": (2025, 6, 14, 14),
         "b3": (2025, 6, 14, 13), "c1": (2025, 6, 10, 10)}
HEADERS = ["July 2025", "Wednesday, 2 July 2025", "June 2025", "Saturday, 14 June 2025", "Tuesday, 10 June 2025"]


@pytest.fixture(autouse=True)
def british_dates():  # type: ignore[no-untyped-def]
    """Headers are written in the user's language; the tests read them in British English."""
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(before)


@pytest.fixture
def three_days(library, tmp_path: Path):  # type: ignore[no-untyped-def]
    colours = {name: (200 + i * 8, 30 + i * 12, 20 + i * 5) for i, name in enumerate(TAKEN)}
    paths = make_photos(tmp_path / "days", colours)
    for name, (y, m, d, h) in TAKEN.items():
        t = datetime(y, m, d, h).timestamp()
        os.utime(paths[name], (t, t))
    library.add_folder(tmp_path / "days")
    library.index()
    return library


def open_window(qtbot, make_window, library):  # type: ignore[no-untyped-def]
    window = make_window(library)
    window.resize(1300, 820)
    qtbot.waitUntil(lambda: window.answer is not None and len(window.answer) == 6, timeout=5000)
    assert [Path(i.path).stem for i in window.model.items()] == list(TAKEN)
    assert window.grid.columns() >= 3
    return window


def stem(item) -> str:  # type: ignore[no-untyped-def]
    return Path(item.path).stem


def day_band(window, text: str):  # type: ignore[no-untyped-def]
    return next(rect for label, rect in window.grid.date_headers() if label == text)


def test_headers_show_days_and_months_in_date_order_and_not_in_relevance_order(qtbot, make_window,
                                                                                three_days) -> None:
    window = open_window(qtbot, make_window, three_days)
    grid, model = window.grid, window.model
    assert [label for label, _rect in grid.date_headers()] == HEADERS
    width = grid.viewport().width()
    for label, rect in grid.date_headers():
        assert rect.x() == 0 and rect.width() == width, f"{label} spans the grid"
    june14 = day_band(window, "Saturday, 14 June 2025")
    b1 = grid.visualRect(model.index(2))
    assert b1.x() == 0 and b1.top() == june14.bottom() + 1, "a day starts on a new line under its header"
    assert grid.visualRect(model.index(1)).bottom() < day_band(window, "June 2025").top()
    assert grid.indexAt(june14.center()).isValid() is False, "a header is not a photo"
    window.search_bar.set_sort(queries.SORT_RELEVANCE)
    window.search_bar.set_text("red")
    qtbot.waitUntil(lambda: window.answer.searched and len(window.answer) > 1, timeout=5000)
    assert grid.date_headers() == []
    assert grid.visualRect(model.index(0)).topLeft() == QPoint(0, 0)
    assert grid.visualRect(model.index(1)).topLeft() == QPoint(grid.gridSize().width(), 0), "one plain grid"
    window.search_bar.set_sort(queries.SORT_NEWEST)
    qtbot.waitUntil(lambda: window.answer.request.sort == queries.SORT_NEWEST, timeout=5000)
    labels = [label for label, _rect in grid.date_headers()]
    assert labels and set(labels) <= set(HEADERS) and labels[0] == "July 2025", "search results sorted by date"


def test_arrows_move_from_photo_to_photo_across_headers(qtbot, make_window, three_days) -> None:
    window = open_window(qtbot, make_window, three_days)
    grid = window.grid
    grid.setFocus()
    grid.select_row(1)  # a2, the last photo of 2 July, in the second column

    def press(key: Qt.Key) -> str:
        qtbot.keyClick(grid, key)
        item = grid.current_item()
        assert item is not None and grid.currentIndex().isValid()
        assert [stem(i) for i in grid.selected_items()] == [stem(item)]
        return stem(item)

    assert press(Qt.Key.Key_Right) == "b1", "Right from a day's last photo goes to the next day's first"
    assert press(Qt.Key.Key_Left) == "a2"
    assert press(Qt.Key.Key_Down) == "b2", "Down goes to the same column of the next day, under its header"
    assert press(Qt.Key.Key_Down) == "c1", "a day of one photo: the nearest column"
    assert press(Qt.Key.Key_Down) == "c1", "the last line: stays"
    assert press(Qt.Key.Key_Up) == "b1"
    assert press(Qt.Key.Key_Up) == "a1"
    assert press(Qt.Key.Key_End) == "c1" and press(Qt.Key.Key_Home) == "a1"


def test_select_all_selects_only_photos_and_headers_stay_unselected(qtbot, make_window, three_days,
                                                                    monkeypatch) -> None:
    window = open_window(qtbot, make_window, three_days)
    grid = window.grid
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(grid.selectionModel().selectedIndexes()) == 6
    assert sorted(stem(i) for i in grid.selected_items()) == sorted(TAKEN)
    assert window.selection.label.text() == "6 selected"
    highlight = grid.palette().color(QPalette.ColorRole.Highlight)
    image = grid.viewport().grab().toImage()
    ratio = image.devicePixelRatio()

    def colour(point: QPoint) -> QColor:
        return QColor(image.pixel(int(point.x() * ratio), int(point.y() * ratio)))

    cell = grid.visualRect(window.model.index(2))
    assert colour(QPoint(cell.left() + 4, cell.center().y())) == highlight, "a selected photo is highlighted"
    for label, rect in grid.date_headers():
        assert colour(QPoint(rect.right() - 8, rect.center().y())) != highlight, f"{label} is not selected"
    dragged: list[list[int]] = []
    monkeypatch.setattr(QDrag, "exec", lambda drag, *_a: dragged.append(photo_ids_from(drag.mimeData())))
    grid.startDrag(Qt.DropAction.CopyAction)
    assert dragged == [[i.id for i in window.model.items()]], "a drag carries the six photos"
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=day_band(window, "June 2025").center())
    assert grid.selected_items() == [], "a click on a header selects no photo"


def test_viewer_steps_over_headers_and_escape_reselects_the_photo(qtbot, make_window, three_days) -> None:
    window = open_window(qtbot, make_window, three_days)
    grid, model = window.grid, window.model
    between = day_band(window, "Saturday, 14 June 2025")
    assert grid.visualRect(model.index(1)).bottom() < between.top() < grid.visualRect(model.index(2)).top()
    grid.setFocus()
    grid.select_row(1)  # a2, just before the headers of June
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    viewer = window.viewer
    assert window.viewing() and stem(viewer.current()) == "a2"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert stem(viewer.current()) == "b1", "the photo after a2 is b1, across the headers"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert stem(viewer.current()) == "c1"
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert stem(viewer.current()) == "b2"
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not window.viewing()
    assert [stem(i) for i in grid.selected_items()] == ["b2"] and stem(grid.current_item()) == "b2"
    assert grid.viewport().rect().contains(grid.visualRect(grid.currentIndex()))
    assert stem(window.model.item(grid.indexAt(grid.visualRect(grid.currentIndex()).center()).row())) == "b2"


def test_layout_maps_rows_and_points_both_ways() -> None:
    from photoclip.gui.grid_layout import SectionLayout

    # Days of 5, 1 and 7 photos in 3 columns under bands of 40, 20 and 30 pixels; cells 100 x 80.
    layout = SectionLayout([0, 5, 6], [40, 20, 30], 13, 3, 100, 80)
    assert layout.height == 40 + 2 * 80 + 20 + 80 + 30 + 3 * 80
    assert layout.cell(4) == (1, 40 + 80) and layout.cell(5) == (0, 220) and layout.cell(12) == (0, 330 + 160)
    for row in range(13):
        col, y = layout.cell(row)
        assert layout.row_at(col, y + 40) == row
    assert layout.row_at(0, 10) == -1 and layout.row_at(2, 130) == -1, "a header, an empty place"
    assert [layout.below(r) for r in (1, 4, 5, 10, 12)] == [4, 5, 6, 12, 12]
    assert [layout.above(r) for r in (6, 8, 5, 0)] == [5, 5, 3, 0]
    assert layout.near(2, 210) == 5 and layout.near(2, 130) == 4
    assert layout.first_row_at(0) == 0 and layout.first_row_at(125) == 3 and layout.first_row_at(335) == 6
    assert layout.top_of(7) == 300 and layout.top_of(10) == 410
    assert layout.visible(100, 250) == [(0, 0, 4), (1, 5, 5)]
    assert layout.visible(360, 420) == [(2, 6, 11)]


def test_small_days_of_a_month_share_a_line_under_their_own_dates(qtbot, make_window, three_days) -> None:
    window = open_window(qtbot, make_window, three_days)
    window.resize(1700, 820)
    grid, model = window.grid, window.model
    qtbot.waitUntil(lambda: grid.columns() >= 4)
    b3, c1 = grid.visualRect(model.index(4)), grid.visualRect(model.index(5))
    assert (c1.top(), c1.left()) == (b3.top(), b3.right() + 1), "10 June sits beside 14 June"
    june10 = day_band(window, "Tuesday, 10 June 2025")
    assert june10.left() == c1.left() and june10.bottom() + 1 == c1.top()
    july = grid.visualRect(model.index(1))
    assert july.bottom() < day_band(window, "June 2025").top(), "a new month starts a line of its own"
    grid.setFocus()
    grid.select_row(4)
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert stem(grid.current_item()) == "c1"
    qtbot.keyClick(grid, Qt.Key.Key_Up)
    assert stem(grid.current_item()) == "a2", "Up from the fourth column: the nearest photo of the line above"


def test_layout_packs_days_that_fit_beside_each_other() -> None:
    from photoclip.gui.grid_layout import SectionLayout

    # Days of 2, 1, 3 and 2 photos in 4 columns; a new month before the third: it starts a line.
    layout = SectionLayout([0, 2, 3, 6], [50, 20, 50, 20], 8, 4, 100, 80, [True, False, True, False])
    assert layout.col0 == [0, 2, 0, 0]
    assert layout.tops == [0, 0, 130, 260] and layout.cell_tops == [50, 50, 180, 280]
    assert layout.height == 360
    assert [layout.cell(r) for r in (1, 2, 5, 7)] == [(1, 50), (2, 50), (2, 180), (1, 280)]
    assert layout.row_at(2, 60) == 2 and layout.row_at(3, 60) == -1 and layout.row_at(2, 10) == -1
    assert layout.near(3, 60) == 2 and layout.near(2, 10) == 2, "a day's date stands for its first photo"
    assert layout.below(2) == 5 and layout.above(5) == 2 and layout.above(4) == 1 and layout.below(5) == 7
    assert layout.first_row_at(140) == 3 and layout.visible(0, 100) == [(0, 0, 1), (1, 2, 2)]


def test_shift_click_and_shift_arrows_select_the_photos_between_in_reading_order(qtbot, make_window,
                                                                                 three_days) -> None:
    window = open_window(qtbot, make_window, three_days)
    grid, model = window.grid, window.model
    assert day_band(window, "June 2025").top() > grid.visualRect(model.index(1)).bottom()
    viewport = grid.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=grid.visualRect(model.index(1)).center())
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     grid.visualRect(model.index(3)).center())
    assert [stem(i) for i in grid.selected_items()] == ["a2", "b1", "b2"], "a range, across the headers"
    assert window.selection.label.text() == "3 selected"
    qtbot.keyClick(grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert [stem(i) for i in grid.selected_items()] == ["a2", "b1", "b2", "b3", "c1"]
