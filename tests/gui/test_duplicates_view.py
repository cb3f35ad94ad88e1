"""The Duplicates page driven like a user: open it from the sidebar, compare, trash copies, undo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from photoclip.library import Library
from tests.dupe_photos import exif_bytes, sample

pytest.importorskip("skimage")


@pytest.fixture
def copies(tmp_path: Path, library: Library) -> dict[str, Path]:
    """An original with three copies (half size, PNG, byte copy elsewhere) and a burst of two frames."""
    photos, other = tmp_path / "photos", tmp_path / "photos" / "phone"
    other.mkdir(parents=True)
    img = sample("astronaut")
    out = {"original": photos / "astronaut.jpg", "small": photos / "astronaut_small.jpg",
           "png": photos / "astronaut.png", "copy": other / "astronaut.jpg"}
    img.save(out["original"], quality=92, exif=exif_bytes("2021:05:01 10:00:00"))
    Image.open(out["original"]).resize((256, 256)).save(out["small"], quality=90)
    Image.open(out["original"]).save(out["png"])
    shutil.copyfile(out["original"], out["copy"])
    cat = sample("chelsea")
    for k, taken in enumerate(["2022:07:01 12:00:00", "2022:07:01 12:00:02"]):
        out[f"frame{k}"] = photos / f"frame{k}.jpg"
        cat.crop((60 * k, 0, cat.width - 120 + 60 * k, cat.height)).save(out[f"frame{k}"], quality=90,
                                                                          exif=exif_bytes(taken))
    library.add_folder(photos)
    library.index()
    return out


def open_page(qtbot, window):  # type: ignore[no-untyped-def]
    window.sidebar.duplicatesChosen.emit()
    view = window.duplicates
    assert window.content.currentWidget() is view
    qtbot.waitUntil(lambda: len(view.groups) == 2 and not view._finding, timeout=15000)
    return view


def select_kind(qtbot, view, kind: str | None) -> None:  # type: ignore[no-untyped-def]
    view.kind.setCurrentIndex(view.kind.findData(kind))
    qtbot.waitUntil(lambda: view.groups and all(kind is None or g.kind == kind for g in view.groups), timeout=5000)


def test_groups_compare_side_by_side_with_differences(qtbot, make_window, library, copies) -> None:
    window = make_window(library)
    view = open_page(qtbot, window)
    assert sorted(g.kind for g in view.groups) == ["same", "similar"]
    select_kind(qtbot, view, "same")
    group = view.current_group()
    assert group.keep.path == str(copies["original"])
    compare = view.compare
    assert set(compare.views) == {m.id for m in group.members}
    by_path = {m.path: m.id for m in group.members}
    small_info = compare.labels[by_path[str(copies["small"])]].text()
    copy_info = compare.labels[by_path[str(copies["copy"])]].text()
    assert "<b style='color:#d9480f'>256×256 px</b>" in small_info  # the size differs from the keeper's
    assert "512×512 px" in copy_info and "<b style='color:#d9480f'>512×512" not in copy_info
    assert f"<b style='color:#d9480f'>{copies['copy'].parent}</b>" in copy_info  # another folder
    qtbot.waitUntil(lambda: all(not v.item.pixmap().isNull() for v in compare.views.values()), timeout=10000)
    views = list(compare.views.values())
    compare.zoom_by(2.0)
    scales = {round(v.scale_factor, 6) for v in views}
    assert len(scales) == 1
    views[0].zoom_by(4.0)  # big enough to scroll
    bar = views[0].horizontalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    assert all(v.position()[0] == pytest.approx(1.0, abs=0.02) for v in views[1:])


def test_similar_shots_are_never_offered_for_removal(qtbot, make_window, library, copies) -> None:
    window = make_window(library)
    view = open_page(qtbot, window)
    select_kind(qtbot, view, "similar")
    assert view.current_group().kind == "similar"
    assert not view.keep_group.isEnabled()
    assert not view.keep_all.isEnabled()


def test_trash_needs_confirmation_and_undo_brings_files_back(qtbot, make_window, library, copies) -> None:
    window = make_window(library)
    view = open_page(qtbot, window)
    select_kind(qtbot, view, "same")
    asked: list[str] = []
    view.confirm = lambda _parent, _title, question: asked.append(question) or False
    view.keep_group.click()
    assert asked and "Move 3 copies" in asked[0]
    assert all(p.exists() for p in copies.values())  # declined: nothing moved

    view.confirm = lambda *_a: True
    view.trash_all_of_kind()
    qtbot.waitUntil(lambda: view.undo_button.isEnabled(), timeout=10000)
    assert copies["original"].exists()
    assert not any(copies[k].exists() for k in ("small", "png", "copy"))
    qtbot.waitUntil(lambda: all(g.kind != "same" for g in view.groups), timeout=5000)

    view.undo_button.click()
    qtbot.waitUntil(lambda: any(g.kind == "same" for g in view.groups), timeout=10000)
    assert all(p.exists() for p in copies.values())
    assert len(next(g for g in view.groups if g.kind == "same").members) == 4


def test_choosing_another_keeper_and_leaving_the_page(qtbot, make_window, library, copies) -> None:
    window = make_window(library)
    view = open_page(qtbot, window)
    select_kind(qtbot, view, "same")
    png = next(m for m in view.current_group().members if m.path == str(copies["png"]))
    view.compare.keepRequested.emit(png.id)
    qtbot.waitUntil(lambda: view.groups and view.groups[0].keep.id == png.id, timeout=5000)
    assert view.groups[0].keep.reason == "keep: chosen by you"
    # The page sits beside the sidebar, as every page the sidebar chooses does: the way back stays in view.
    window.show()
    qtbot.waitExposed(window)
    assert view.isVisible() and window.sidebar.isVisible() and window.search_bar.isVisible()
    window.sidebar.allChosen.emit()
    assert window.content.currentWidget() is not view and window.grid.isVisible()


def test_hide_copies_setting_from_the_page(qtbot, make_window, library, copies) -> None:
    window = make_window(library)
    view = open_page(qtbot, window)
    assert not view.hide_copies.isChecked() and library.settings.hide_duplicates is False
    hidden = {m.id for g in view.groups if g.kind == "same" for m in g.others}
    shown = {i.id for i in library.search("astronaut", top=50, show_all=True).hits}
    assert hidden & shown
    with qtbot.waitSignal(view.changed, timeout=5000):
        view.hide_copies.setChecked(True)
    assert library.settings.hide_duplicates is True
    assert (library.directory / "settings.json").read_text().count('"hide_duplicates": true') == 1
    shown = {i.id for i in library.search("astronaut", top=50, show_all=True).hits}
    assert not hidden & shown
