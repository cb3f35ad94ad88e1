"""The grid: edit plans keep the user's place, the view paints where Qt lays out, thumbnails fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QItemSelectionModel
from PySide6.QtGui import QColor

from photoclip.gui.grid_model import PhotoListModel, plan_grid
from photoclip.gui.queries import GridItem, GridRows
from photoclip.gui.thumbnail_grid import ThumbnailGridWidget
from photoclip.gui.thumbnails import ThumbnailLoader
from tests.gui.conftest import make_photos


def items(*ids: int) -> list[GridItem]:
    return [GridItem(i, f"/photos/p{i}.jpg", f"hash{i}") for i in ids]


def rows(*ids: int) -> GridRows:
    return GridRows.of(items(*ids))


def test_plan_inserts_and_removes_runs_when_order_is_kept() -> None:
    plan = plan_grid(rows(1, 9, 2, 3, 8, 7, 5), rows(1, 2, 3, 4, 5))
    assert plan.edits is not None
    removals, inserts, changed = plan.edits
    assert removals == [(3, 3)]  # photo 4
    assert inserts == [(1, 1), (4, 5)]  # 9, then 8 and 7
    assert changed is None
    assert plan.rows_by_hash["hash9"] == 1


def test_plan_resets_when_kept_photos_change_order() -> None:
    assert plan_grid(rows(2, 1, 3), rows(1, 2, 3)).edits is None
    assert plan_grid(rows(1, 2), None).edits is None


def test_plan_reports_rows_whose_details_changed() -> None:
    old = items(1, 2, 3)
    new = [old[0], GridItem(2, "/photos/moved.jpg", "hash2"), old[2]]
    plan = plan_grid(GridRows.of(new), GridRows.of(old))
    assert plan.edits is not None and plan.edits[2] == (1, 1)


@pytest.fixture
def grid(qtbot, tmp_path: Path) -> ThumbnailGridWidget:
    loader = ThumbnailLoader(tmp_path / "thumbs", parent=QCoreApplication.instance())
    model = PhotoListModel(loader)
    view = ThumbnailGridWidget(model)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    yield view
    assert loader.wait(5000)


def test_edits_keep_selection_and_current_photo(qtbot, grid: ThumbnailGridWidget) -> None:
    model = grid.photo_model()
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_items(items(*range(1, 40)))
    resets.clear()
    grid.setCurrentIndex(model.index(model.row_of(20)))
    grid.selectionModel().select(model.index(model.row_of(21)), QItemSelectionModel.SelectionFlag.Select)
    assert model.update_items(items(100, 101, *range(1, 10), *range(11, 40), 102))
    assert resets == []
    assert model.rowCount() == len(model.items()) == 41
    assert grid.current_item() is not None and grid.current_item().id == 20
    assert {i.id for i in grid.selected_items()} >= {20, 21}
    assert [model.item(r).id for r in (0, 1, 2)] == [100, 101, 1]
    assert model.data(model.index(40)) == "p102.jpg"


def test_stale_plan_resets_instead_of_editing_the_wrong_rows(grid: ThumbnailGridWidget) -> None:
    model = grid.photo_model()
    model.set_items(items(1, 2, 3))
    stale = plan_grid(rows(1, 2, 3, 4), model.rows)
    model.set_items(items(7, 8))  # another answer arrived first
    assert not model.show_plan(stale)
    assert [i.id for i in model.items()] == [1, 2, 3, 4]
    assert model.rowCount() == 4


@pytest.mark.parametrize(("width", "zoom"), [(700, 160), (430, 80), (1200, 320), (150, 240)])
def test_cells_are_painted_where_qt_lays_them_out(qtbot, grid: ThumbnailGridWidget, width: int,
                                                  zoom: int) -> None:
    model = grid.photo_model()
    model.set_items(items(*range(200)))
    grid.set_thumb_size(zoom)
    grid.resize(width, 500)
    qtbot.waitUntil(lambda: grid.visualRect(model.index(199)).isValid(), timeout=5000)
    grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum() // 3)
    qtbot.wait(20)
    for row in (0, 1, 2, 5, 17, 60, 199):
        assert grid.cell_rect(row) == grid.visualRect(model.index(row)), row


def test_thumbnails_are_painted_at_their_cell(qtbot, grid: ThumbnailGridWidget, tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "p", {"red": (220, 20, 20), "green": (20, 200, 30)})
    model = grid.photo_model()
    model.set_items([GridItem(1, str(photos["red"]), "h-red"), GridItem(2, str(photos["green"]), "h-green")])
    qtbot.waitUntil(lambda: all(model.loader.pixmap(i.content_hash, i.path, model.thumb_side) is not None
                                for i in model.items()), timeout=5000)
    image = grid.viewport().grab().toImage()
    for row, expected in ((0, (220, 20, 20)), (1, (20, 200, 30))):
        centre = grid.cell_rect(row).center()
        centre.setY(centre.y() - grid.text_height // 2)
        colour = QColor(image.pixel(centre.x() * image.devicePixelRatio(), centre.y() * image.devicePixelRatio()))
        assert all(abs(a - b) < 30 for a, b in zip(colour.getRgb()[:3], expected, strict=True)), (row, colour)


def test_loader_makes_thumbnails_at_the_asked_size_and_keeps_the_old_one_meanwhile(qtbot, tmp_path: Path) -> None:
    from PIL import Image

    photo = tmp_path / "wide.jpg"
    Image.new("RGB", (600, 300), (10, 120, 200)).save(photo)
    loader = ThumbnailLoader(tmp_path / "thumbs", parent=QCoreApplication.instance())
    assert loader.lookup("w", str(photo), 160) == (None, False)
    qtbot.waitUntil(lambda: loader.pixmap("w", str(photo), 160) is not None, timeout=5000)
    pm = loader.pixmap("w", str(photo), 160)
    assert (pm.width(), pm.height()) == (160, 80)
    stale, exact = loader.lookup("w", str(photo), 240)  # zoomed in: the 160 one until the new one
    assert stale is pm and not exact
    qtbot.waitUntil(lambda: loader.pixmap("w", str(photo), 240) is not None, timeout=5000)
    assert loader.pixmap("w", str(photo), 240).width() == 240
    assert loader.wait(2000)


def test_empty_states_say_what_to_do() -> None:
    from photoclip.gui.empty_state import ADD_FOLDER, NO_ACTION, SHOW_ALL, describe_empty

    def state(**kw: object):  # type: ignore[no-untyped-def]
        args = {"searched": False, "narrowed": False, "has_folders": True, "indexing": False, **kw}
        return describe_empty(**args)  # type: ignore[arg-type]

    assert state(has_folders=False).action == ADD_FOLDER
    assert state(has_folders=False, searched=True).action == ADD_FOLDER
    assert state(searched=True).action == SHOW_ALL
    assert "filter" in state(searched=True, narrowed=True).hint
    assert "model" in state(searched=True, words_only=True).hint
    assert state(narrowed=True, has_folders=None).action == SHOW_ALL, "known without the folder list"
    assert state(has_folders=None).title == ""
    assert state(indexing=True).action == NO_ACTION and "indexed" in state(indexing=True).hint
    assert state(error="the query is empty", searched=True).hint == "the query is empty"
