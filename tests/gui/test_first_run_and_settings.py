"""First run with no model, the welcome flow and the settings dialog."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from photoclip.engine import ModelStore
from photoclip.gui import app as app_module
from photoclip.gui import library_actions as main_window_module
from photoclip.gui.settings_dialog import SettingsDialog
from photoclip.gui.welcome_dialog import WelcomeDialog
from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.gui.conftest import quick_settings


def no_model_library(tmp_path: Path) -> Library:
    lib_dir = tmp_path / "fresh"
    return Library(lib_dir, Catalog(lib_dir / "catalog.sqlite3"), models=ModelStore(tmp_path / "no-models"),
                   settings=quick_settings())


def test_first_run_without_a_model_still_browses_and_explains(qtbot, make_window, photos, tmp_path,
                                                              monkeypatch) -> None:
    library = no_model_library(tmp_path)
    try:
        window = make_window(library)
        assert not library.has_model
        qtbot.waitUntil(window.banner.isVisible)
        assert window.banner.download_button.isVisible() and window.banner.import_button.isVisible()

        def welcome_exec(dialog: WelcomeDialog) -> int:
            assert not dialog.model_ready
            assert "No model is installed" in dialog.model_status.text()
            dialog._add_folder()
            return QDialog.DialogCode.Accepted

        monkeypatch.setattr(main_window_module, "choose_folder", lambda _p: str(photos["red"].parent))
        monkeypatch.setattr(WelcomeDialog, "exec", welcome_exec)
        window = make_window(library)  # a fresh window, welcomed the way the app does it
        app_module.welcome_when_ready(window, window.ui)
        qtbot.waitUntil(lambda: window.answer is not None and len(window.answer.items) == 3, timeout=5000)
        qtbot.waitUntil(lambda: not window.jobs.busy, timeout=5000)
        assert [Path(i.path).stem for i in window.model.items()] == ["green", "blue", "red"]
        assert window.ui.value("welcome/done") in (True, "true")

        window.search_bar.set_text("a dog")
        qtbot.waitUntil(lambda: window.answer is not None and window.answer.searched, timeout=5000)
        assert not window.answer.meaning, "without a model only words can match"
        assert window.model.rowCount() == 0
        assert "search model" in window.empty.text()
        assert window.empty.button.text() == "Show all photos"
    finally:
        window.shutdown()
        library.close()


def test_welcome_is_skipped_when_the_library_has_folders(qtbot, make_window, indexed, monkeypatch) -> None:
    shown: list[bool] = []
    monkeypatch.setattr(WelcomeDialog, "exec", lambda self: shown.append(True) or 0)
    window = make_window(indexed)
    app_module.welcome_when_ready(window, window.ui)
    qtbot.waitUntil(lambda: window.sidebar_loaded)
    qtbot.wait(50)
    assert shown == []
    assert [e.label for e in window.sidebar.data.folders] == ["photos"]


def test_importing_a_model_folder_reports_a_bad_bundle(qtbot, make_window, tmp_path, message_boxes) -> None:
    library = no_model_library(tmp_path)
    try:
        window = make_window(library)
        bogus = tmp_path / "not-a-model"
        bogus.mkdir()
        (bogus / "readme.txt").write_text("nothing here")
        with qtbot.waitSignal(window.model_setup.failed, timeout=5000) as blocker:
            window.model_setup.import_folder(str(bogus))
        assert blocker.args[0]
        qtbot.waitUntil(lambda: bool(message_boxes), timeout=5000)
        assert message_boxes[0][0] == "warning"
        assert not library.has_model
    finally:
        window.shutdown()
        library.close()


def test_settings_dialog_saves_library_settings(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.folder_list.count() == 1, timeout=5000)
    qtbot.waitUntil(lambda: "Checking" not in dialog.device_info.text(), timeout=10000)
    assert "Runtime" in dialog.device_info.text() or "Cannot" in dialog.device_info.text()
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.cache_mb.setValue(64)
    dialog.max_tags.setValue(3)
    dialog.accept()
    settings_file = indexed.directory / "settings.json"
    qtbot.waitUntil(settings_file.is_file, timeout=5000)
    saved = json.loads(settings_file.read_text())
    assert (saved["device"], saved["thumbnail_cache_mb"], saved["max_tags_per_photo"]) == ("cpu", 64, 3)
    assert indexed.settings.device == "cpu"


def test_settings_dialog_adds_a_tag_and_sets_polling(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.folder_list.count() == 1, timeout=5000)
    dialog.new_tag.setText("birthday cake")
    dialog._add_tag()
    qtbot.waitUntil(lambda: any(dialog.tag_table.item(r, 0).text() == "birthday cake"
                                for r in range(dialog.tag_table.rowCount())), timeout=5000)
    dialog.folder_list.setCurrentRow(0)
    dialog.polling.setChecked(True)
    qtbot.waitUntil(lambda: indexed.catalog.folders()[0].polling, timeout=5000)
    dialog.reject()


def test_settings_dialog_changes_a_tag_threshold_through_the_library(qtbot, make_window, indexed) -> None:
    name = "grandmother's teapot"
    indexed.add_tag(name)
    window = make_window(indexed)
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.tag_table.rowCount() > 0, timeout=5000)
    row = next(r for r in range(dialog.tag_table.rowCount()) if dialog.tag_table.item(r, 0).text() == name)
    dialog.tag_table.cellWidget(row, 2).setValue(0.35)
    dialog.accept()

    def threshold() -> float:
        return next(float(t.threshold) for t in indexed.tags() if t.name == name)

    qtbot.waitUntil(lambda: abs(threshold() - 0.35) < 1e-6, timeout=5000)
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=10_000)  # the re-tagging it started


def test_settings_dialog_edits_prompts_and_turns_a_tag_off(qtbot, make_window, indexed) -> None:
    indexed.add_tag("teapot")
    kettle_prompts = indexed.add_tag("kettle").prompts
    window = make_window(indexed)
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.tag_table.rowCount() > 0, timeout=5000)
    rows = {dialog.tag_table.item(r, 0).text(): r for r in range(dialog.tag_table.rowCount())}
    assert dialog.tag_table.item(rows["teapot"], 0).checkState() == Qt.CheckState.Checked
    dialog.tag_table.item(rows["teapot"], 1).setText("a porcelain teapot ;  a teapot on a table; ")
    dialog.tag_table.item(rows["kettle"], 0).setCheckState(Qt.CheckState.Unchecked)
    dialog.accept()

    def tag(name: str):  # type: ignore[no-untyped-def]
        return next(t for t in indexed.tags() if t.name == name)

    qtbot.waitUntil(lambda: tag("teapot").prompts == ["a porcelain teapot", "a teapot on a table"], timeout=5000)
    qtbot.waitUntil(lambda: not tag("kettle").enabled, timeout=5000)
    assert tag("teapot").enabled and tag("kettle").prompts == kettle_prompts
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=10_000)  # the re-tagging it started


def test_welcome_offers_the_pictures_folder_in_one_click(qtbot, make_window, library, tmp_path, monkeypatch) -> None:
    from photoclip.gui import welcome_dialog

    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    monkeypatch.setattr(welcome_dialog, "pictures_folder", lambda: str(pictures))
    window = make_window(library)
    dialog = WelcomeDialog(library, window.model_setup, window)
    qtbot.addWidget(dialog)
    assert "Pictures" in dialog.pictures_button.text()
    qtbot.mouseClick(dialog.pictures_button, Qt.MouseButton.LeftButton)
    assert dialog.folders == [str(pictures)]


def test_query_language_is_chosen_in_settings_and_applied_to_the_shown_search(qtbot, make_window, indexed,
                                                                               monkeypatch) -> None:
    from tests.fakes import FakeEmbedder

    monkeypatch.setattr(FakeEmbedder, "takes_language", True)  # the library's model is multilingual
    window = make_window(indexed)
    window.search_bar.set_text("a dog")
    qtbot.waitUntil(lambda: window.answer is not None and window.answer.searched, timeout=5000)
    engine = indexed.engine
    assert ("a dog", None) in engine.languages  # automatic until chosen
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    dialog.queryLanguageChanged.connect(lambda _code: window.refresh())  # as the window wires it
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "reads the language" in dialog.query_language_note.text(), timeout=5000)
    assert dialog.query_language.currentData() == "auto"
    assert dialog.query_language.findData("deu_Latn") > 0
    assert "German" in dialog.query_language.itemText(dialog.query_language.findData("deu_Latn"))
    dialog.query_language.setCurrentIndex(dialog.query_language.findData("deu_Latn"))
    with qtbot.waitSignal(dialog.queryLanguageChanged, timeout=5000) as changed:
        dialog.accept()
    assert changed.args == ["deu_Latn"]
    assert json.loads((indexed.directory / "settings.json").read_text())["query_language"] == "deu_Latn"
    # The search on screen is asked again, in the chosen language, without restarting anything.
    qtbot.waitUntil(lambda: ("a dog", "deu_Latn") in engine.languages, timeout=5000)


def test_query_language_note_says_when_the_model_ignores_it(qtbot, make_window, indexed) -> None:
    window = make_window(indexed)
    dialog = SettingsDialog(indexed, window.tasks, window.jobs, window.model_setup, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "makes no difference" in dialog.query_language_note.text(), timeout=5000)
    dialog.reject()
    assert indexed.settings.query_language == "auto"
