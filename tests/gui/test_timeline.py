"""The timeline scrubber: months found in date order, a click jumps the grid to that month."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt

from photoclip.gui.grid_headers import month_header
from photoclip.gui.queries import SORT_RELEVANCE, day_sections, month_sections
from photoclip.gui.timeline import month_label
from tests.gui.conftest import make_photos


def test_month_sections_and_labels() -> None:
    taken = ["2024-05-02T10:00:00", "2024-05-01T09:00:00", "2024-04-30T23:00:00", None, None]
    assert month_sections(taken) == [("2024-05", 0), ("2024-04", 2), ("", 3)]
    assert month_label("2024-04") == "Apr 2024" and month_label("") == "No date"
    days = day_sections(taken)
    assert (days.keys, days.starts, days.total) == (["2024-05-02", "2024-05-01", "2024-04-30", ""], [0, 1, 2, 3], 5)
    assert days.months() == month_sections(taken)


def test_scrubber_jumps_through_the_years(qtbot, make_window, library, tmp_path) -> None:
    folder = tmp_path / "years"
    colours = {f"p{i:02d}": (i * 8, 90, 200 - i * 6) for i in range(30)}
    paths = make_photos(folder, colours)
    for i, path in enumerate(paths.values()):  # 6 photos a year, 2015..2019
        t = 1_420_070_400 + (i // 6) * 31_536_000 + (i % 6) * 86_400 * 20
        os.utime(path, (t, t))
    library.add_folder(folder)
    library.index()
    window = make_window(library)
    window.resize(900, 500)
    window.zoom.setValue(200)
    qtbot.waitUntil(lambda: window.answer is not None and len(window.answer) == 30, timeout=5000)
    scrubber = window.scrubber
    qtbot.waitUntil(scrubber.isVisible)
    years = sorted({key[:4] for key, _row in scrubber.sections})
    assert years == ["2015", "2016", "2017", "2018", "2019"]
    target = next(row for key, row in scrubber.sections if key.startswith("2016"))
    y = scrubber._y_of(target) + 1
    qtbot.mouseClick(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    bar = window.grid.verticalScrollBar()
    assert window.model.item(window.grid.top_row()).taken_at.startswith("2016") or bar.value() == bar.maximum()
    month = window.model.item(target).taken_at[:7]
    header = next(rect for text, rect in window.grid.date_headers() if text == month_header(month))
    assert header.top() == 0 or bar.value() == bar.maximum(), "the month's header shows at the top"
    assert Path(window.model.item(target).path).exists()
    window.search_bar.set_sort(SORT_RELEVANCE)
    window.search_bar.set_text("p01")
    qtbot.waitUntil(lambda: window.answer.searched, timeout=5000)
    assert not scrubber.isVisible(), "ranked results have no timeline"


def test_the_top_rows_date_is_pinned_over_the_grid_in_date_order(qtbot, make_window, indexed) -> None:
    from PySide6.QtCore import QLocale

    from photoclip.gui.grid_headers import day_header, month_header

    british = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    assert day_header("2023-07-08T11:58:05", british) == "Saturday, 8 July 2023"
    assert month_header("2023-07", british) == "July 2023" and day_header("") == "No date"
    window = make_window(indexed)
    qtbot.waitUntil(lambda: window.answer is not None and len(window.answer) == 3, timeout=5000)
    assert window.grid.show_dates
    window.search_bar.set_sort(SORT_RELEVANCE)
    window.search_bar.set_text("red")
    qtbot.waitUntil(lambda: window.answer.searched, timeout=5000)
    assert not window.grid.show_dates, "ranked results are not in date order"
