"""Words inside photos: the engine wrapper, its gate, the enrichment stage, and finding photos by their words.

The OCR engine takes about a second per photo on two cores, so the rendered corpus is small (two dozen
photos of at most 960 px) and the tests that run it are marked slow. Without the OCR extra they skip.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from photoclip.enrich import ocr
from photoclip.enrich.stage import Enricher, ocr_counts, photo_lines
from photoclip.errors import ModelError
from photoclip.ingest.pipeline import Indexer
from photoclip.ingest.scanner import scan
from photoclip.search.keywords import KeywordIndex, plain_terms
from photoclip.store.catalog import Catalog

needs_ocr = pytest.mark.skipif(not ocr.available(), reason=ocr.unavailable_reason() or "")

FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/opentype/urw-base35/C059-Roman.otf",
)
WORDS = ("harbour", "lantern", "meadow", "copper", "violet", "quartz", "saddle", "timber", "walnut", "falcon",
         "orchid", "pepper", "marble", "cobalt", "juniper", "bramble", "thistle", "canyon", "glacier", "velvet",
         "monsoon", "lobster", "cricket", "tundra", "basalt", "saffron", "kestrel", "cinder", "maple", "pebble")


def fonts() -> list[str | None]:
    """TrueType/OpenType fonts found on this machine; Pillow's scalable default font (None) otherwise."""
    found: list[str | None] = [f for f in FONT_FILES if Path(f).is_file()]
    return found or [None]


def font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def background(size: tuple[int, int], light: bool, seed: int) -> Image.Image:
    """A photo-like backdrop: a two-way colour gradient, soft blotches and sensor noise."""
    w, h = size
    rng = np.random.default_rng(seed)
    sw, sh = max(8, w // 8), max(8, h // 8)  # shapes are smooth: draw them small, then enlarge
    base = rng.uniform(150, 215, 3) if light else rng.uniform(20, 80, 3)
    gx = np.linspace(-1, 1, sw)[None, :, None]
    gy = np.linspace(-1, 1, sh)[:, None, None]
    a = base + 25 * gx * rng.uniform(-1, 1, 3) + 25 * gy * rng.uniform(-1, 1, 3)
    yy, xx = np.mgrid[0:sh, 0:sw]
    for _ in range(6):
        cx, cy, r = rng.uniform(0, sw), rng.uniform(0, sh), rng.uniform(sw / 10, sw / 3)
        a = a + (np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(-20, 20))[:, :, None]
    small = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB").resize(size, Image.Resampling.BILINEAR)
    noisy = np.asarray(small, dtype=np.int16) + rng.integers(-8, 9, (h, w, 3), dtype=np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def text_photo(text: str, *, size: tuple[int, int] = (800, 600), font_size: int = 40, font_path: str | None = None,
               light: bool = True, seed: int = 0) -> Image.Image:
    """``text`` drawn across a photo-like background, dark on light or light on dark."""
    im = background(size, light, seed)
    draw = ImageDraw.Draw(im)
    f = font(font_path, font_size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=f)
    x = max(8, (size[0] - (right - left)) // 2 - left + (seed % 5 - 2) * 10)
    y = max(8, (size[1] - (bottom - top)) // 3 - top)
    draw.text((x, y), text, font=f, fill=(25, 25, 30) if light else (235, 235, 225))
    return im


# EXIF orientation -> how to store an upright picture so a viewer applying it shows it upright again.
STORE = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def save(im: Image.Image, path: Path, orientation: int | None = None, gps: tuple[float, float] | None = None) -> Path:
    exif = Image.Exif()
    if orientation:
        im = im.transpose(STORE[orientation])
        exif[0x0112] = orientation
    if gps:
        from tests.corpus import _dms

        lat, lon = gps
        exif.get_ifd(0x8825).update({0: b"\x02\x03\x00\x00", 1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)),
                                     3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))})
    im.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def indexed_catalog(tmp_path: Path, folder: Path) -> Catalog:
    """A catalog of ``folder`` as the indexer leaves it: every photo read (size, EXIF) and "ok"."""
    catalog = Catalog(tmp_path / "lib" / "catalog.db")
    catalog.add_folder(folder)
    scan(catalog)
    Indexer(catalog, None).run()  # no model needed: enrichment works on readable photos
    return catalog


# -- without the extra -----------------------------------------------------------------------------


def test_missing_engine_is_reported_with_how_to_enable_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # makes the import fail
    ocr._import_error.cache_clear()
    try:
        assert not ocr.available()
        reason = ocr.unavailable_reason()
        assert reason is not None and "photoclip[ocr]" in reason
        with pytest.raises(ModelError, match=r"photoclip\[ocr\]"):
            ocr.OcrEngine()
    finally:
        ocr._import_error.cache_clear()


def test_both_onnxruntime_packages_are_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = {"onnxruntime"}
    monkeypatch.setattr(ocr, "_installed", lambda dist: dist in installed)
    assert ocr.runtime_conflict() is None
    installed.add("onnxruntime-gpu")
    message = ocr.runtime_conflict()
    assert message is not None and "onnxruntime-gpu" in message and "--no-deps" in message


def test_enrichment_without_engines_leaves_photos_pending(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    text_photo("harbour", size=(200, 150)).save(folder / "a.jpg")
    catalog = indexed_catalog(tmp_path, folder)
    report = Enricher(catalog, ocr=None, geocoder=None).run()
    assert (report.ocr_text, report.ocr_failed, report.places) == (0, 0, 0)
    assert ocr_counts(catalog)["pending"] == 1
    catalog.close()


# -- the engine ------------------------------------------------------------------------------------


@needs_ocr
def test_opencv_and_the_ocr_engine_do_not_break_qt(tmp_path: Path) -> None:
    """opencv-python's wheel bundles Qt plugins and points QT_QPA_PLATFORM_PLUGIN_PATH at them on import."""
    script = textwrap.dedent("""
        import cv2, rapidocr_onnxruntime
        from PySide6.QtWidgets import QApplication, QLabel
        app = QApplication([])
        label = QLabel("words inside photos")
        label.show()
        app.processEvents()
        image = label.grab().toImage()
        assert not image.isNull() and image.width() > 10
        print("ok", app.platformName())
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "offscreen"]


@pytest.fixture(scope="module")
def engine() -> ocr.OcrEngine:
    if not ocr.available():
        pytest.skip(ocr.unavailable_reason() or "")
    return ocr.OcrEngine()


@needs_ocr
def test_engine_logs_go_to_the_application_not_to_stderr(engine: ocr.OcrEngine) -> None:
    for name in ("RapidOCR", "OrtInferSession"):
        assert not [h for h in logging.getLogger(name).handlers if isinstance(h, logging.StreamHandler)]


@needs_ocr
def test_gate_skips_recognition_on_a_photo_without_text(engine: ocr.OcrEngine) -> None:
    plain = background((1024, 768), True, seed=3)
    result = engine.read(plain)
    assert result.gated and result.lines == ()
    assert engine.has_text(text_photo("COPPER", size=(1024, 768), font_size=40, seed=3))


@needs_ocr
def test_lines_boxes_and_confidence_in_photo_pixels(engine: ocr.OcrEngine) -> None:
    im = text_photo("LANTERN 2024", size=(1024, 768), font_size=48, seed=4)
    result = engine.read(im)
    assert not result.gated
    [line] = [line for line in result.lines if "LANTERN" in line.text.upper()]
    assert "2024" in line.text and 0.5 <= line.confidence <= 1.0
    xs, ys = [p[0] for p in line.box], [p[1] for p in line.box]
    # the box sits where the text was drawn: centred, in the upper third of the 1024 x 768 photo
    assert 300 < (min(xs) + max(xs)) / 2 < 720 and 150 < (min(ys) + max(ys)) / 2 < 380


@needs_ocr
def test_large_photo_is_read_at_the_working_resolution(tmp_path: Path) -> None:
    small_engine = ocr.OcrEngine(max_side=800, gate_side=320)  # a small working size keeps the test fast
    path = save(text_photo("MEADOW", size=(2400, 1800), font_size=160, seed=5), tmp_path / "big.jpg")
    result = small_engine.read_file(path, (2400, 1800))
    [line] = result.lines
    assert line.text.upper() == "MEADOW"
    xs = [p[0] for p in line.box]
    # boxes in the photo's own 2400 px, not the 800 px it was read at: the word spans ~600 px around 1200
    assert max(xs) - min(xs) > 400 and 900 < (min(xs) + max(xs)) / 2 < 1500


@needs_ocr
@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turned_text_is_read(engine: ocr.OcrEngine, turn: int) -> None:
    im = text_photo("QUARTZ FALCON", size=(800, 600), font_size=48, seed=turn).rotate(turn, expand=True)
    assert "QUARTZ FALCON" in engine.read(im).text.upper()


# -- the stage and finding photos by their words ---------------------------------------------------


@needs_ocr
def test_failure_on_one_photo_is_recorded_and_skipped(engine: ocr.OcrEngine, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    save(text_photo("WALNUT", size=(400, 300), font_size=48), folder / "good.jpg")
    save(text_photo("TIMBER", size=(400, 300), font_size=48, seed=2), folder / "soon-broken.jpg")
    catalog = indexed_catalog(tmp_path, folder)
    data = (folder / "soon-broken.jpg").read_bytes()
    # same size and time, damaged content: still "ok" in the catalog, fails when OCR decodes it
    stat = (folder / "soon-broken.jpg").stat()
    (folder / "soon-broken.jpg").write_bytes(data[:200] + bytes(len(data) - 200))
    os.utime(folder / "soon-broken.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = Enricher(catalog, ocr=engine, geocoder=None).run()
    assert (report.ocr_text, report.ocr_failed) == (1, 1)
    assert report.skipped[0].path.endswith("soon-broken.jpg") and report.skipped[0].reason
    counts = ocr_counts(catalog, engine.version)
    assert (counts["done"], counts["failed"], counts["pending"]) == (1, 1, 0)
    again = Enricher(catalog, ocr=engine, geocoder=None).run()  # resumable: nothing left to do
    assert (again.ocr_text, again.ocr_failed, again.ocr_no_text) == (0, 0, 0)
    catalog.close()


@needs_ocr
@pytest.mark.slow
def test_photos_are_found_by_a_word_they_show(engine: ocr.OcrEngine, tmp_path: Path) -> None:
    """Acceptance: several fonts, 16-96 px, dark on light and light on dark, EXIF-rotated; recall >= 0.9
    at 24 px and more, counting a photo found when it is the first keyword hit for one of its words."""
    folder = tmp_path / "photos"
    folder.mkdir()
    sizes = (16, 24, 32, 48, 64, 96)
    orientations = (None, 6, None, 3, None, 8)
    all_fonts = fonts()
    expected: dict[str, tuple[str, int]] = {}
    for i, word in enumerate(WORDS[:24]):
        font_size = sizes[i % len(sizes)]
        light = (i // len(sizes)) % 2 == 0
        canvas = (960, 720) if i % 3 else (720, 540)
        im = text_photo(word.upper() if i % 2 else word.capitalize(), size=canvas, font_size=font_size,
                        font_path=all_fonts[i % len(all_fonts)], light=light, seed=i)
        name = f"IMG_{1000 + i}.jpg"
        save(im, folder / name, orientation=orientations[(i // 2) % len(orientations)])
        expected[word] = (name, font_size)
    save(background((960, 720), True, seed=99), folder / "no_text.jpg")
    catalog = indexed_catalog(tmp_path, folder)
    report = Enricher(catalog, ocr=engine, geocoder=None).run()
    assert report.ocr_failed == 0 and report.ocr_text >= 20

    index = KeywordIndex(catalog)
    found = {}
    for word, (name, _size) in expected.items():
        hits = index.search(plain_terms(word))
        found[word] = bool(hits) and catalog.photo(hits[0].id).name == name
    big = [w for w, (_, size) in expected.items() if size >= 24]
    recall = sum(found[w] for w in big) / len(big)
    assert recall >= 0.9, {w: found[w] for w in big}
    no_text = catalog.photo_by_path(str((folder / "no_text.jpg").resolve()))
    assert no_text is not None and photo_lines(catalog, no_text.id) == []
    catalog.close()


@needs_ocr
@pytest.mark.slow
def test_scikit_image_page_is_found_by_a_word_it_contains(engine: ocr.OcrEngine, tmp_path: Path) -> None:
    data = pytest.importorskip("skimage.data")
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(data.page()).save(folder / "page.png")
    save(text_photo("pebble", size=(400, 300), font_size=40), folder / "other.jpg")
    catalog = indexed_catalog(tmp_path, folder)
    Enricher(catalog, ocr=engine, geocoder=None).run()
    hits = KeywordIndex(catalog).search(plain_terms("segmentation"))
    assert [catalog.photo(h.id).name for h in hits] == ["page.png"]
    assert str(hits[0].matches[0]).startswith("text: Region-based")
    catalog.close()
