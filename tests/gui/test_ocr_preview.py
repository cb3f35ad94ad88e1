"""Words inside photos in the preview: why a hit matched, its text with the query words highlighted,
and the boxes of the matching lines drawn over the picture."""

from __future__ import annotations

from PySide6.QtGui import QColor

from photoclip.enrich.ocr import OcrLine, OcrResult
from photoclip.enrich.stage import store_ocr
from photoclip.gui.ocr_text import BOX_PEN, match_spans
from photoclip.library import Library

INVOICE_BOX = ((4.0, 4.0), (40.0, 4.0), (40.0, 14.0), (4.0, 14.0))  # in the 64 x 48 photo's pixels


def add_text(library: Library, name: str) -> int:
    photo = _photo_named(library, name)
    lines = (OcrLine("INVOICE 2024", INVOICE_BOX, 0.97),
             OcrLine("thank you", ((4.0, 30.0), (30.0, 30.0), (30.0, 38.0), (4.0, 38.0)), 0.9))
    store_ocr(library.catalog, photo, "test-ocr", OcrResult(lines, False, 0.1))
    return photo.id


def _photo_named(library: Library, name: str):  # type: ignore[no-untyped-def]
    item = next(i for i in library.browse() if i.path.endswith(name))
    return library.photo(item.id)


def near(colour: QColor, rgb: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb, strict=True))


def test_match_spans_fold_accents_and_match_word_starts() -> None:
    text = "Café Überweisung, cafeteria; scafe"
    spans = match_spans(text, ["cafe", "uber"])
    assert [text[a:b] for a, b in spans] == ["Café", "Überweisung", "cafeteria"]
    assert match_spans(text, []) == []


def test_search_hit_preview_shows_why_text_highlight_and_box(qtbot, make_window, indexed) -> None:
    red_id = _photo_named(indexed, "red.jpg").id
    add_text(indexed, "red.jpg")
    window = make_window(indexed)
    qtbot.keyClicks(window.search_bar.edit, "invoice")
    qtbot.waitUntil(lambda: window.answer is not None and window.answer.request.query == "invoice"
                    and red_id in window.answer.rows.ids, timeout=5000)
    window.grid.select_row(window.model.row_of(red_id))
    item = window.grid.current_item()
    assert item is not None and item.id == red_id
    assert any(w.startswith("text:") for w in item.why) and "invoice" in item.words
    preview = window.preview
    qtbot.waitUntil(lambda: preview.data is not None and preview.data.photo_id == red_id and preview.image.has_image(),
                    timeout=5000)

    assert preview.why_label.isVisible() and "INVOICE" in preview.why_label.text()
    assert preview.text_box.isVisible() and preview.text_box.isReadOnly()
    assert "INVOICE 2024" in preview.text_box.toPlainText()
    assert preview.text_box.highlighted() == ["INVOICE"]
    assert [line.text for line in preview.image.boxes()] == ["INVOICE 2024"]

    # the box is drawn where the line is, scaled from photo pixels to the shown pixmap
    shown = preview.image.pixmap().toImage()
    sx, sy = shown.width() / 64, shown.height() / 48
    assert near(shown.pixelColor(round(22 * sx), round(4 * sy)), (BOX_PEN.red(), BOX_PEN.green(), BOX_PEN.blue()))
    assert near(shown.pixelColor(round(22 * sx), round(34 * sy)), (220, 20, 20))  # "thank you" is not boxed


def test_photo_without_text_hides_the_text_box(qtbot, make_window, indexed) -> None:
    add_text(indexed, "red.jpg")
    green = _photo_named(indexed, "green.jpg")
    window = make_window(indexed)
    qtbot.waitUntil(lambda: window.answer is not None and len(window.answer) == 3, timeout=5000)
    window.preview.show_photo(green.id, green.path, why=("meaning: 0.50",), words=())
    qtbot.waitUntil(lambda: window.preview.data is not None and window.preview.data.photo_id == green.id,
                    timeout=5000)
    assert not window.preview.text_box.isVisible() and not window.preview.text_head.isVisible()
    assert window.preview.image.boxes() == []
    assert "meaning: 0.50" in window.preview.why_label.text()
    window.preview.show_photo(None, None)
    assert not window.preview.why_label.isVisible()
