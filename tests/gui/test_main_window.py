"""The main window driven like a user would, against a real library with the fake embedder."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from photoclip.errors import NotFoundError
from photoclip.gui import library_actions as main_window_module
from photoclip.gui import queries
from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder
from tests.gui.conftest import make_photos, quick_settings


def names(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(i.path).stem for i in window.model.items()]


def wait_for_answer(qtbot, window, predicate) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.answer is not None and predicate(window.answer), timeout=5000)


def test_empty_query_browses_newest_first(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: not a.searched and len(a.items) == 3)
    assert names(window) == ["green", "blue", "red"]
    window.search_bar.set_sort(queries.SORT_OLDEST)
    wait_for_answer(qtbot, window, lambda a: a.request.sort == queries.SORT_OLDEST)
    assert names(window) == ["red", "blue", "green"]


def test_typing_searches_once_after_a_pause_and_orders_results(qtbot, make_window, indexed,
                                                               monkeypatch) -> None:
    asked: list[str] = []
    real_run = queries.run

    def counting_run(library, request):  # type: ignore[no-untyped-def]
        asked.append(request.query)
        return real_run(library, request)

    monkeypatch.setattr(queries, "run", counting_run)
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: not a.searched)
    qtbot.keyClicks(window.search_bar.edit, "blue")
    wait_for_answer(qtbot, window, lambda a: a.searched and a.request.query == "blue")
    assert names(window)[0] == "blue"
    assert [q for q in asked if q] == ["blue"], "each keystroke must not start its own search"
    assert "result" in window.count_label.text()


def test_filters_apply_to_browsing(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    window.filter_bar.type.setCurrentIndex(window.filter_bar.type.findData("png"))
    wait_for_answer(qtbot, window, lambda a: a.request.filters.types == ("png",))
    assert names(window) == []
    assert window.stack.currentWidget() is window.empty
    window.filter_bar.clear()
    wait_for_answer(qtbot, window, lambda a: not a.request.filters.active and len(a.items) == 3)


def test_find_similar_from_preview_and_by_dropping_a_file(qtbot, make_window, indexed, photos,
                                                          tmp_path) -> None:
    make_photos(photos["red"].parent, {"navy": (20, 20, 140)})
    indexed.index()
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 4)
    window.grid.select_row(names(window).index("blue"))
    qtbot.waitUntil(lambda: window.preview.photo_id is not None and window.preview.similar_button.isEnabled())
    qtbot.mouseClick(window.preview.similar_button, Qt.MouseButton.LeftButton)
    wait_for_answer(qtbot, window, lambda a: a.request.similar_to is not None)
    assert names(window)[0] == "navy"
    assert "blue" not in names(window), "the photo itself is not its own neighbour"
    assert window.search_bar.similar_chip.isVisible()

    outside = make_photos(tmp_path / "outside", {"greenish": (30, 190, 40)})["greenish"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(outside))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    wait_for_answer(qtbot, window, lambda a: a.request.similar_to == str(outside))
    assert names(window)[0] == "green"


def test_selecting_shows_preview_and_rejecting_a_tag_persists(qtbot, make_window, indexed) -> None:
    red = indexed.catalog.photo_by_path(str(Path(indexed.catalog.folders()[0].path) / "red.jpg"))
    assert red is not None
    with indexed.catalog.write() as c:
        c.execute("INSERT INTO tags(name, prompts, created_at) VALUES('sunset', '[]', 0)")
        tag_id = c.execute("SELECT id FROM tags WHERE name='sunset'").fetchone()[0]
        c.execute("INSERT INTO photo_tags(photo_id, tag_id, score, source, rejected, updated_at) "
                  "VALUES(?, ?, 0.8, 'auto', 0, 0)", (red.id, tag_id))
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    window.grid.select_row(names(window).index("red"))
    qtbot.waitUntil(lambda: window.preview.data is not None and window.preview.data.photo_id == red.id)
    qtbot.waitUntil(lambda: window.preview.image.has_image())
    assert window.preview.title.text() == "red.jpg"
    assert [t.name for t in window.preview.data.tags] == ["sunset"]
    window.preview.tags.setCurrentRow(0)
    qtbot.mouseClick(window.preview.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.preview.data.tags and window.preview.data.tags[0].rejected)
    assert "rejected" in window.preview.tags.item(0).text()
    stored = indexed.photo_tags(red.id)
    assert [(t.name, t.rejected, t.source) for t in stored] == [("sunset", True, "manual")]


def test_adding_a_folder_indexes_and_fills_the_grid(qtbot, make_window, library, photos,
                                                    monkeypatch) -> None:
    monkeypatch.setattr(main_window_module, "choose_folder", lambda _parent: str(photos["red"].parent))
    window = make_window(library)
    wait_for_answer(qtbot, window, lambda a: not a.items)
    qtbot.waitUntil(lambda: "Add a folder" in window.empty.text())
    assert window.empty.button.isVisible()
    window.add_folder_action.trigger()
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=5000)
    assert len(library.catalog.vectors(FakeEmbedder.model_name)[0]) == 3
    qtbot.waitUntil(lambda: [e.label for e in window.sidebar.data.folders] == ["photos"], timeout=5000)


class GatedEmbedder(FakeEmbedder):
    """Blocks inside the first batch until released, so a test can cancel mid-run."""

    gate = threading.Event()
    entered = threading.Event()

    def embed_pixels(self, pixels):  # type: ignore[no-untyped-def]
        GatedEmbedder.entered.set()
        GatedEmbedder.gate.wait(10)
        return super().embed_pixels(pixels)


def test_cancel_stops_indexing_and_keeps_what_was_done(qtbot, make_window, tmp_path) -> None:
    GatedEmbedder.gate.clear()
    GatedEmbedder.entered.clear()
    colours = {f"c{i}": (i * 30, 100, 200 - i * 20) for i in range(8)}
    folder = tmp_path / "many"
    make_photos(folder, colours)
    lib = Library(tmp_path / "lib2", Catalog(tmp_path / "lib2" / "c.sqlite3"), engine_factory=GatedEmbedder,
                  settings=quick_settings(batch_size=1, decode_workers=1))
    try:
        lib.add_folder(folder)
        window = make_window(lib)
        job = window.start_indexing()
        qtbot.waitUntil(GatedEmbedder.entered.is_set, timeout=5000)
        assert window.status.isVisible()
        with qtbot.waitSignal(window.jobs.finished, timeout=10000):
            qtbot.mouseClick(window.status.cancel_button, Qt.MouseButton.LeftButton)
            GatedEmbedder.gate.set()
        assert job.token.cancelled
        embedded = len(lib.catalog.vectors(GatedEmbedder.model_name)[0])
        assert 1 <= embedded < len(colours)
        qtbot.waitUntil(lambda: not window.status.isVisible())
    finally:
        GatedEmbedder.gate.set()
        window.shutdown()
        lib.close()


def test_album_created_from_a_query_lists_its_photos(qtbot, make_window, indexed, monkeypatch) -> None:
    from photoclip.gui import album_rule_dialog

    opened: list[album_rule_dialog.AlbumRuleDialog] = []
    monkeypatch.setattr(album_rule_dialog.AlbumRuleDialog, "open", lambda self: opened.append(self))
    window = make_window(indexed)
    window.search_bar.set_text("red")
    wait_for_answer(qtbot, window, lambda a: a.searched)
    window.save_search_as_album()
    assert len(opened) == 1
    dialog = opened[0]
    # The preview counts the album's photos before anything is saved.
    qtbot.waitUntil(lambda: dialog.scores != [], timeout=5000)
    assert dialog.member_count() >= 1 and indexed.albums() == []
    dialog.slider.setValue(100)
    assert dialog.member_count() <= 1 and "would be in the album" in dialog.count_label.text()
    dialog.slider.setValue(50)
    dialog.name_edit.setText("Reds")
    dialog.accept()
    qtbot.waitUntil(lambda: [e.value for e in window.sidebar.data.albums] == ["Reds"], timeout=5000)
    album_item = window.sidebar.albums_item.child(0)
    window.search_bar.set_text("")
    window.sidebar.itemClicked.emit(album_item, 0)
    wait_for_answer(qtbot, window, lambda a: a.request.filters.album == "Reds" and not a.searched)
    assert "red" in names(window)
    assert "green" not in names(window)


def test_add_selected_photos_to_a_new_manual_album(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    green = window.model.item(names(window).index("green"))
    window.actions.add_to_album([green.id], "Keep", create=True)

    def members() -> list[int]:
        try:
            return [p.id for p in indexed.album_members("Keep")]
        except NotFoundError:  # not created yet: the write runs on a worker
            return []

    qtbot.waitUntil(lambda: members() == [green.id], timeout=5000)
    qtbot.waitUntil(lambda: [e.value for e in window.sidebar.data.albums] == ["Keep"], timeout=5000)


def test_ui_state_is_remembered(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    window.zoom.setValue(240)
    window.save_ui_state()
    again = make_window(indexed)
    assert again.zoom.value() == 240
    assert again.grid.target_size() == 240
    assert 240 <= again.grid.thumb_size() < 2 * 240


def test_keyboard_focus_moves_between_search_and_grid(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    window.activateWindow()
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    window.search_bar.focus_search()
    qtbot.waitUntil(window.search_bar.edit.hasFocus)
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Down)
    qtbot.waitUntil(window.grid.hasFocus)
    assert window.grid.current_item() is not None
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.preview.title.text() == "blue.jpg")


def test_an_empty_result_offers_to_show_all_photos(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    window.filter_bar.type.setCurrentIndex(window.filter_bar.type.findData("png"))
    wait_for_answer(qtbot, window, lambda a: a.request.filters.types == ("png",))
    assert window.stack.currentWidget() is window.empty
    assert window.empty.button.isVisible() and window.empty.button.text() == "Show all photos"
    qtbot.mouseClick(window.empty.button, Qt.MouseButton.LeftButton)
    wait_for_answer(qtbot, window, lambda a: not a.request.filters.active and len(a.items) == 3)
    assert window.filter_bar.type.currentData() == ""
    assert window.stack.currentWidget() is window.grid


def test_photos_arriving_keep_the_selection_and_do_not_reset_the_grid(qtbot, make_window, indexed,
                                                                      photos) -> None:
    window = make_window(indexed)
    wait_for_answer(qtbot, window, lambda a: len(a.items) == 3)
    window.grid.select_row(names(window).index("blue"))
    resets: list[bool] = []
    window.model.modelReset.connect(lambda: resets.append(True))
    make_photos(photos["red"].parent, {"navy": (20, 20, 140), "olive": (120, 120, 20)})
    indexed.index()  # change events arrive as while the watcher or a job indexes
    qtbot.waitUntil(lambda: len(names(window)) == 5, timeout=5000)
    assert resets == [], "a refresh of the same view must edit rows, not reset the model"
    assert window.grid.current_item() is not None and Path(window.grid.current_item().path).stem == "blue"
    assert [Path(i.path).stem for i in window.grid.selected_items()] == ["blue"]


def test_the_window_explains_itself(qtbot, make_window, indexed) -> None:
    from photoclip import __version__
    from photoclip.gui import app as app_module
    from photoclip.gui import help_dialogs
    from photoclip.gui.main_window import window_title
    from photoclip.gui.search_bar import PLACEHOLDER

    window = make_window(indexed)
    assert window.windowTitle() == window_title(indexed.directory)
    assert window_title(Path("/home/ann/Family photos")) == "Family photos \u2014 PhotoClip"
    assert window.search_bar.edit.placeholderText() == PLACEHOLDER
    for button in (window.preview.similar_button, window.preview.open_button, window.preview.folder_button,
                   window.preview.copy_button, window.preview.album_button, window.status.cancel_button,
                   window.banner.download_button, window.banner.import_button, window.filter_bar.clear_button):
        assert button.toolTip(), button.text()
    assert __version__ in help_dialogs.about_text(str(indexed.directory), "fake-model")
    assert len(app_module.app_icon().availableSizes()) >= 4, "the icon comes in several sizes"
    assert not window.windowIcon().isNull()
    titles = {a.text().replace("&", "") for a in window.menuBar().actions()}
    assert titles >= {"File", "View", "Photo", "Help"}


def test_indexing_shows_in_the_sidebar_while_it_runs(qtbot, make_window, library, photos) -> None:
    library.add_folder(photos["red"].parent)
    window = make_window(library)
    seen: list[str] = []
    window.jobs.progress.connect(lambda _job, _p: seen.append(window.sidebar.activity()))
    window.start_indexing()
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=5000)
    assert seen and all(text for text in seen), "every progress report is shown in the sidebar"
    assert window.sidebar.activity() == ""


def test_the_thumbnail_cache_is_trimmed_to_its_size_at_start(qtbot, make_window, indexed) -> None:
    import os

    from photoclip.gui.thumbnails import cache_path

    mb = 1024 * 1024
    limit_mb = indexed.settings.thumbnail_cache_mb
    thumbs = indexed.directory / "thumbs"
    files = []
    for i in range(3):  # sparse files: they report their size without using the disk
        p = cache_path(thumbs, f"old{i}")
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("wb") as f:
            f.truncate(limit_mb * mb // 2)
        os.utime(p, (1_000_000 + i, 1_000_000 + i))
        files.append(p)
    make_window(indexed)
    qtbot.waitUntil(lambda: not files[0].exists(), timeout=5000)
    assert [p.exists() for p in files] == [False, True, True]


def test_sort_box_shows_the_real_order_while_browsing_and_keeps_best_match_for_searches(
        qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    bar = window.search_bar
    wait_for_answer(qtbot, window, lambda a: not a.searched)
    relevance = bar.sort.findData(queries.SORT_RELEVANCE)
    assert bar.sort.currentText() == "Newest first", "browsing lists newest first, the box must say so"
    assert not bar.sort.model().item(relevance).isEnabled()
    assert bar.sort_key() == queries.SORT_RELEVANCE
    bar.sort.activated.emit(bar.sort.findData(queries.SORT_NEWEST))  # re-picking what is shown
    assert bar.sort_key() == queries.SORT_RELEVANCE
    bar.set_text("blue")
    wait_for_answer(qtbot, window, lambda a: a.searched and a.request.query == "blue")
    assert bar.sort.currentText() == "Best match"
    assert bar.sort.model().item(relevance).isEnabled()
    bar.sort.activated.emit(bar.sort.findData(queries.SORT_OLDEST))
    wait_for_answer(qtbot, window, lambda a: a.request.sort == queries.SORT_OLDEST)
    bar.set_text("")
    wait_for_answer(qtbot, window, lambda a: not a.searched)
    assert bar.sort.currentText() == "Oldest first", "a date order chosen by hand is kept while browsing"
    assert names(window) == ["red", "blue", "green"]


def test_not_this_and_more_like_this_re_rank_the_search_at_once(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    window.search_bar.set_text("red")
    wait_for_answer(qtbot, window, lambda a: a.searched and len(a.items) >= 1)
    top = window.answer.items[0]
    window.grid.select_row(0)
    qtbot.waitUntil(lambda: window.grid.current_item() is not None)
    window.results.mark_current(False)
    wait_for_answer(qtbot, window, lambda a: a.request.unlike == (top.id,))
    lowered = {i.id: i.score for i in window.answer.items}
    assert top.id not in lowered or lowered[top.id] < top.score
    window.results.mark_current(True)  # changing one's mind: the same photo, now liked
    wait_for_answer(qtbot, window, lambda a: a.request.like == (top.id,) and not a.request.unlike)
    assert window.answer.items[0].id == top.id
    window.search_bar.set_text("green")  # a new query forgets the marks
    wait_for_answer(qtbot, window, lambda a: a.request.query == "green")
    assert window.answer.request.like == () and window.answer.request.unlike == ()


def test_a_query_the_model_does_not_know_says_so(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    window.search_bar.set_text("qwxzv")
    wait_for_answer(qtbot, window, lambda a: a.searched and a.request.query == "qwxzv")
    assert window.answer.unknown == ("qwxzv",) and len(window.answer.items) == 0
    qtbot.waitUntil(lambda: "No meaningful match" in window.count_label.text())
