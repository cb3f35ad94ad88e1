"""Everyday actions on a selection and the undo of every kind of catalog edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from photoclip.gui import photo_actions as photo_actions_module
from photoclip.organize.marks import Mark


def names(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(i.path).stem for i in window.model.items()]


def wait_for_answer(qtbot, window, predicate) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.answer is not None and predicate(window.answer), timeout=5000)


def ready(qtbot, make_window, library):  # type: ignore[no-untyped-def]
    window = make_window(library)
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)
    qtbot.waitUntil(lambda: window.sidebar_loaded)
    return window


def idle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.tasks.busy and not window.undo.busy, timeout=5000)


def select(window, *stems: str) -> list[int]:  # type: ignore[no-untyped-def]
    grid = window.grid
    grid.clearSelection()
    ids = []
    for stem in stems:
        row = names(window).index(stem)
        grid.selectionModel().select(window.model.index(row), grid.selectionModel().SelectionFlag.Select)
        grid.selectionModel().setCurrentIndex(window.model.index(row), grid.selectionModel().SelectionFlag.NoUpdate)
        ids.append(window.model.item(row).id)
    grid.setFocus()
    return ids


def undo(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()
    idle(qtbot, window)


def redo(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    assert window.redo_action.isEnabled()
    window.redo_action.trigger()
    idle(qtbot, window)


def test_keys_mark_favourites_and_stars_shown_on_thumbnails_and_undone(qtbot, make_window, indexed) -> None:
    window = ready(qtbot, make_window, indexed)
    green, blue = select(window, "green", "blue")
    qtbot.keyClick(window.grid, Qt.Key.Key_Period)
    idle(qtbot, window)
    assert indexed.marks([green, blue]) == {green: Mark(True, 0), blue: Mark(True, 0)}
    assert window.model.marks[green].favourite
    qtbot.keyClick(window.grid, Qt.Key.Key_4)
    idle(qtbot, window)
    assert indexed.marks([green]) == {green: Mark(True, 4)}
    assert window.undo_action.text().startswith("Undo Rate 2 photos 4 stars")
    before = window.grid.viewport().grab().toImage()
    undo(qtbot, window)
    assert indexed.marks([green]) == {green: Mark(True, 0)} and window.model.marks[green].rating == 0
    undo(qtbot, window)
    assert indexed.marks() == {} and green not in window.model.marks
    after = window.grid.viewport().grab().toImage()
    assert before != after, "the marks were painted on the thumbnails"
    redo(qtbot, window)
    assert indexed.marks([green])[green].favourite


def test_status_bar_counts_the_selection_and_ctrl_a_selects_all(qtbot, make_window, indexed) -> None:
    window = ready(qtbot, make_window, indexed)
    select(window, "green", "red")
    assert window.selection.label.text() == "2 selected"
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.grid.selected_items()) == 3
    assert window.selection.label.text() == "3 selected"


def test_context_menu_offers_every_action_on_the_selection(qtbot, make_window, indexed) -> None:
    indexed.create_album("Trip")
    window = ready(qtbot, make_window, indexed)
    qtbot.waitUntil(lambda: any(e.value == "Trip" for e in window.sidebar.data.albums))
    select(window, "green", "blue")
    menu = window.selection.build_menu()
    texts = [a.text() for a in menu.actions() if a.text()]
    for wanted in ("View", "Open with the system viewer", "Open with\u2026", "Show in folder", "Find similar",
                   "Favourite", "Rate", "Add to album", "Tag\u2026", "Copy", "Copy paths", "Export\u2026",
                   "Move to trash\u2026"):
        assert wanted in texts, wanted
    albums_menu = next(a.menu() for a in menu.actions() if a.text() == "Add to album")
    next(a for a in albums_menu.actions() if a.text() == "Trip").trigger()
    idle(qtbot, window)
    assert sorted(p.path for p in indexed.album_members("Trip")) == sorted(
        i.path for i in window.grid.selected_items())
    next(a for a in menu.actions() if a.text() == "Copy paths").trigger()
    assert QApplication.clipboard().text().count("\n") == 1
    undo(qtbot, window)
    assert indexed.album_members("Trip") == []


def test_album_membership_removal_and_drop_onto_an_album_are_undone(qtbot, make_window, indexed) -> None:
    indexed.create_album("Trip")
    window = ready(qtbot, make_window, indexed)
    qtbot.waitUntil(lambda: window.sidebar.find_entry("album", "Trip") is not None)
    ids = select(window, "green", "red")
    mime = QMimeData()
    mime.setData("application/x-photoclip-photo-ids", ",".join(map(str, ids)).encode())
    item = window.sidebar.find_entry("album", "Trip")
    point = QPointF(window.sidebar.visualItemRect(item).center())
    event = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.sidebar.dropEvent(event)
    idle(qtbot, window)
    assert sorted(p.id for p in indexed.album_members("Trip")) == sorted(ids)
    window.filter_bar.set_album("Trip")
    wait_for_answer(qtbot, window, lambda a: a.request.filters.album == "Trip" and len(a) == 2)
    select(window, "red")
    menu = window.selection.build_menu()
    next(a for a in menu.actions() if a.text().startswith("Remove from")).trigger()
    idle(qtbot, window)
    assert [p.id for p in indexed.album_members("Trip")] == [ids[0]]
    undo(qtbot, window)
    assert sorted(p.id for p in indexed.album_members("Trip")) == sorted(ids)


def test_tag_added_accepted_and_rejected_are_undone(qtbot, make_window, indexed, monkeypatch) -> None:
    from photoclip.gui import grid_menu

    window = ready(qtbot, make_window, indexed)
    ids = select(window, "green", "blue")
    monkeypatch.setattr(grid_menu, "ask_text", lambda *_a, **_k: "holiday")
    window.selection.tag(ids)
    idle(qtbot, window)
    assert all("holiday" in [t.name for t in indexed.photo_tags(i)] for i in ids)
    undo(qtbot, window)
    assert all("holiday" not in [t.name for t in indexed.photo_tags(i)] for i in ids)
    assert "holiday" not in [t.name for t in indexed.tags()], "a tag the edit created goes with its undo"
    redo(qtbot, window)
    assert all("holiday" in [t.name for t in indexed.photo_tags(i)] for i in ids)
    # rejecting from the preview pane is recorded too
    select(window, "green")
    qtbot.waitUntil(lambda: window.preview.photo_id == ids[0])
    window.preview._decide(False, "holiday")
    idle(qtbot, window)
    assert [t.rejected for t in indexed.photo_tags(ids[0]) if t.name == "holiday"] == [True]
    undo(qtbot, window)
    assert [t.rejected for t in indexed.photo_tags(ids[0]) if t.name == "holiday"] == [False]


def test_album_create_rename_edit_and_delete_are_undone(qtbot, make_window, indexed, monkeypatch) -> None:
    from photoclip.gui import grid_menu

    window = ready(qtbot, make_window, indexed)
    ids = select(window, "blue")
    monkeypatch.setattr(grid_menu, "ask_text", lambda *_a, **_k: "Blues")
    window.selection.new_album(ids)
    idle(qtbot, window)
    assert [p.id for p in indexed.album_members("Blues")] == ids
    window.album_actions.rename("Blues", "Blue things")
    idle(qtbot, window)
    assert [a.name for a in indexed.albums()] == ["Blue things"]
    undo(qtbot, window)
    assert [a.name for a in indexed.albums()] == ["Blues"]
    window.album_actions.delete("Blues")
    idle(qtbot, window)
    assert indexed.albums() == []
    undo(qtbot, window)
    assert [p.id for p in indexed.album_members("Blues")] == ids, "the album comes back with its photos"
    undo(qtbot, window)  # the rename's redo is gone, so this undoes the album's creation
    assert indexed.albums() == []


def test_smart_album_rule_edit_counts_live_and_is_undone(qtbot, make_window, indexed) -> None:
    from photoclip.gui.album_actions import RuleDialog

    indexed.create_album("Reds", query="red")
    window = ready(qtbot, make_window, indexed)
    album = indexed.albums()[0]
    dialog = RuleDialog(indexed, window.tasks, "Reds", album.rule, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.count.text().isdigit(), timeout=5000)
    first = int(dialog.count.text())
    dialog.threshold.setValue(0.0)
    qtbot.waitUntil(lambda: dialog.count.text().isdigit() and int(dialog.count.text()) != first, timeout=5000)
    assert int(dialog.count.text()) == 3, "a threshold of 0 takes every photo"
    dialog.reject()
    before = sorted(p.id for p in indexed.album_members("Reds"))
    window.album_actions.edit_rule("Reds", ("red", (), 0.0))
    idle(qtbot, window)
    assert len(indexed.album_members("Reds")) == 3
    undo(qtbot, window)
    assert sorted(p.id for p in indexed.album_members("Reds")) == before
    assert indexed.albums()[0].rule.threshold == album.rule.threshold


def test_move_to_trash_asks_naming_the_files_and_undo_restores_them(qtbot, make_window, indexed, photos,
                                                                    monkeypatch) -> None:
    asked: list[list[str]] = []
    answer = {"yes": False}
    monkeypatch.setattr(photo_actions_module, "confirm_trash", lambda _p, paths: asked.append(paths) or answer["yes"])
    window = ready(qtbot, make_window, indexed)
    select(window, "blue")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    assert asked == [[str(photos["blue"])]]
    idle(qtbot, window)
    assert photos["blue"].exists(), "nothing moves without a yes"
    answer["yes"] = True
    window.trash_selection()
    idle(qtbot, window)
    assert not photos["blue"].exists()
    wait_for_answer(qtbot, window, lambda a: len(a) == 2)
    assert "blue" not in names(window)
    undo(qtbot, window)
    assert photos["blue"].exists()
    wait_for_answer(qtbot, window, lambda a: len(a) == 3)


def test_trash_confirmation_names_the_files(qtbot, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    seen: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: seen.append(self.text()) or 0)
    assert not photo_actions_module.confirm_trash(None, ["/p/a.jpg", "/p/b.jpg"])
    assert "a.jpg" in seen[0] and "b.jpg" in seen[0] and "2 photos" in seen[0]


def test_places_sidebar_lists_countries_and_cities_and_a_click_searches(qtbot, make_window, indexed) -> None:
    import time

    ids = [p.id for p in indexed.browse()]
    with indexed.catalog.write() as c:
        for pid, city, country in zip(ids, ("Porto", "Lisbon", "Porto"), ("Portugal",) * 3, strict=True):
            c.execute("INSERT INTO places(photo_id, content_hash, lat, lon, city, country, updated_at) "
                      "VALUES(?, 'h', 41.1, -8.6, ?, ?, ?)", (pid, city, country, time.time()))
    window = ready(qtbot, make_window, indexed)
    qtbot.waitUntil(lambda: window.sidebar.places_item.childCount() == 1)
    country = window.sidebar.places_item.child(0)
    assert (country.text(0), country.text(1)) == ("Portugal", "3")
    assert [(country.child(i).text(0), country.child(i).text(1)) for i in range(2)] == [("Porto", "2"),
                                                                                        ("Lisbon", "1")]
    window.sidebar._chosen(country.child(0))
    assert window.search_bar.text() == "place:Porto"


def test_tag_right_click_offers_actions(qtbot, make_window, indexed, message_boxes) -> None:
    indexed.add_tag("sky")
    indexed.accept_tag(indexed.browse()[0].id, "sky")
    window = ready(qtbot, make_window, indexed)
    qtbot.waitUntil(lambda: window.sidebar.find_entry("tag", "sky") is not None)
    item = window.sidebar.find_entry("tag", "sky")
    pos = window.sidebar.visualItemRect(item).center()
    from PySide6.QtCore import QTimer

    shown: list[list[str]] = []

    def look_and_close() -> None:
        menu = window.sidebar.last_menu
        shown.append([x.text() for x in menu.actions()])
        menu.close()

    QTimer.singleShot(50, look_and_close)
    window.sidebar._menu(pos)
    assert shown and "Show photos with this tag" in shown[0] and "Turn this tag off" in shown[0]


@pytest.mark.parametrize("kind", ["photos"])
def test_export_copies_the_selection_with_progress(qtbot, make_window, indexed, tmp_path, kind) -> None:
    from photoclip.gui.export_dialog import export_files

    window = ready(qtbot, make_window, indexed)
    select(window, "green", "blue")
    out = tmp_path / "out"
    with qtbot.waitSignal(window.jobs.finished, timeout=5000):
        export_files(window, window.selection.paths(), str(out))
    assert sorted(p.name for p in out.iterdir()) == ["blue.jpg", "green.jpg"]
    export_files(window, window.selection.paths(), str(out))
    qtbot.waitUntil(lambda: len(list(out.iterdir())) == 4, timeout=5000)
    assert "green (2).jpg" in [p.name for p in out.iterdir()], "nothing is overwritten"
