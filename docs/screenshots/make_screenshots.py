"""Make the screenshots in this folder from the real app, on a generated library of shape photos.

The photos are coloured shapes on plain or graded backgrounds, with camera-style file names, EXIF
dates and cameras, in three folders. They are indexed with the toy CLIP of the test fixtures
(imported with ``photoclip models import`` into a temporary model folder, as a user would), which
knows colours and shapes, so a query like "a red circle" finds red circles. Run it under Xvfb so Qt
uses its real X11 platform:

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_screenshots.py

``--model DIR`` picks another model bundle; ``--out DIR`` another folder for the PNG files.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

COLOURS = {"red": (214, 40, 40), "orange": (240, 140, 30), "yellow": (240, 210, 50), "green": (50, 160, 70),
           "blue": (40, 90, 210), "purple": (130, 60, 170)}
BACKGROUNDS = {"white": (245, 245, 242), "black": (22, 22, 24), "grey": (128, 128, 130)}
SHAPES = ("circle", "square", "triangle", "star")
CAMERAS = (("Google", "Pixel 7"), ("Apple", "iPhone 14"), ("FUJIFILM", "X-T30"), ("Canon", "EOS R6"))
FOLDERS = ("Summer 2023", "Garden", "Phone camera")


def draw_photo(path: Path, shape: str, colour: tuple[int, int, int], background: tuple[int, int, int],
               when: datetime, camera: tuple[str, str], rng: random.Random) -> None:
    """One 900x600 JPEG: a background with a soft gradient and a little grain, and one shape on it."""
    import math

    from PIL import Image, ImageDraw, ImageFilter

    w, h = 900, 600
    top = tuple(min(255, c + 18) for c in background)
    image = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    image = Image.composite(Image.new("RGB", (w, h), background), Image.new("RGB", (w, h), top),
                            image.convert("L"))
    canvas = Image.new("RGB", (w * 2, h * 2))
    canvas.paste(image.resize((w * 2, h * 2)))
    draw = ImageDraw.Draw(canvas)
    size = rng.randint(300, 520)
    cx, cy = rng.randint(size // 2 + 80, w * 2 - size // 2 - 80), rng.randint(size // 2 + 80, h * 2 - size // 2 - 80)
    box = (cx - size // 2, cy - size // 2, cx + size // 2, cy + size // 2)
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    elif shape == "triangle":
        draw.polygon([(cx, box[1]), (box[2], box[3]), (box[0], box[3])], fill=colour)
    else:
        points = []
        for k in range(10):
            r = size / 2 if k % 2 == 0 else size / 5
            a = math.pi / 2 + k * math.pi / 5
            points.append((cx + r * math.cos(a), cy - r * math.sin(a)))
        draw.polygon(points, fill=colour)
    photo = canvas.resize((w, h), Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(0.6))
    noise = Image.effect_noise((w, h), 6).convert("RGB")
    photo = Image.blend(photo, noise, 0.04)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = camera
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    photo.save(path, "JPEG", quality=88, exif=exif.tobytes())
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def make_photos(root: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    start = datetime(2023, 5, 2, 9, 12, 5)
    paths = []
    for i in range(count):
        folder = root / FOLDERS[i % len(FOLDERS)]
        folder.mkdir(parents=True, exist_ok=True)
        when = start + timedelta(days=i * 4 + rng.randint(0, 3), minutes=rng.randint(0, 600))
        camera = CAMERAS[i % len(CAMERAS)]
        name = {"Google": f"PXL_{when:%Y%m%d_%H%M%S}123.jpg", "Apple": f"IMG_{4100 + i}.JPG",
                "FUJIFILM": f"DSCF{2200 + i}.JPG", "Canon": f"IMG_{7300 + i}.JPG"}[camera[0]]
        colour = rng.choice(list(COLOURS.values()))
        if i % 5 == 0:
            colour = COLOURS["red"]
        background = rng.choice([*BACKGROUNDS.values(), tuple(rng.randint(60, 200) for _ in range(3))])
        shape = SHAPES[(i // 2) % len(SHAPES)]
        draw_photo(folder / name, shape, colour, background, when, camera, rng)
        paths.append(folder / name)
    return paths


def pump(app: object, seconds: float, until: Callable[[], bool] | None = None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until is not None and until()):
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "tests" / "fixtures" / "toy-clip")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--query", default="a red circle")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="photoclip-shots-"))
    home = Path(tempfile.gettempdir()) / "Anna"  # the photo paths show in the preview: keep them plausible
    shutil.rmtree(home, ignore_errors=True)
    os.environ["PHOTOCLIP_MODELS"] = str(tmp / "models")
    os.environ["PHOTOCLIP_LIBRARY"] = str(tmp / "Family photos")
    toy = args.model.is_dir()
    if toy:
        subprocess.run([sys.executable, "-m", "photoclip", "models", "import", str(args.model)], check=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    else:  # no model bundle in this checkout: the test suite's colour-only embedder stands in
        print(f"{args.model} not found: using the test suite's FakeEmbedder", file=sys.stderr)
    pictures = home / "Pictures"
    made = make_photos(pictures, args.photos)
    # Copies, as libraries collect them: the same file twice, and a smaller PNG sent by chat.
    from PIL import Image

    shutil.copyfile(made[0], pictures / "Phone camera" / f"{made[0].stem} (1){made[0].suffix}")
    Image.open(made[0]).resize((450, 300)).save(pictures / "Phone camera" / "received.png")

    from PySide6.QtCore import QSettings

    from photoclip.gui.app import app_icon, make_application
    from photoclip.gui.main_window import MainWindow
    from photoclip.gui.settings_dialog import SettingsDialog
    from photoclip.gui.theme import apply_theme
    from photoclip.gui.welcome_dialog import WelcomeDialog
    from photoclip.library import Library

    app = make_application()
    apply_theme(app, "light")
    if toy:
        library = Library.open()
    else:
        from photoclip.paths import CATALOG_NAME, default_library_dir
        from photoclip.store.catalog import Catalog
        from tests.fakes import FakeEmbedder

        folder = default_library_dir()
        library = Library(folder, Catalog(folder / CATALOG_NAME), engine_factory=FakeEmbedder)
    library.settings.ocr = False  # shapes carry no words; reading them would only take time
    library.settings.auto_tag = False
    library.save_settings()
    for folder in FOLDERS:
        library.add_folder(pictures / folder)
    library.index()
    for tag in library.tags():  # the toy model knows colours, not the everyday vocabulary
        library.remove_tag(tag.name)
    for colour in ("red", "blue", "green", "yellow"):
        library.add_tag(colour, [f"a {colour} {shape}" for shape in SHAPES])
    library.retag()
    library.create_album("Red things", tags=("red",))
    library.create_album("Favourites")
    favourites = library.browse()[2:9:3]
    library.add_to_album("Favourites", [p.id for p in favourites])
    newest = [p.id for p in library.browse()]
    library.set_favourite(newest[1:12:4])
    library.set_rating(newest[0:14:3], 4)
    library.set_rating(newest[2:14:5], 5)
    window = MainWindow(library, ui_settings=QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat),
                        live_sync=False)
    window.setWindowIcon(app_icon())
    window.resize(1320, 820)
    window.show()
    pump(app, 3, lambda: window.answer is not None and window.sidebar_loaded)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    def settle(seconds: float = 1.5) -> None:
        pump(app, seconds)

    window.search_bar.set_text(args.query)
    pump(app, 10, lambda: window.answer is not None and window.answer.searched)
    window.grid.setFocus()
    window.grid.select_row(0)
    settle(2.5)
    window.grab().save(str(out / "main-window.png"))

    window.search_bar.set_text("")
    pump(app, 5, lambda: window.answer is not None and not window.answer.searched)
    window.search_bar.filters_button.setChecked(True)
    window.filter_bar.set_folder(str(pictures / "Garden"))
    pump(app, 5, lambda: window.answer is not None and bool(window.answer.request.filters.folder))
    window.grid.select_row(3)
    settle(2.5)
    window.grab().save(str(out / "browse-with-filters.png"))

    window.filter_bar.clear()
    window.search_bar.filters_button.setChecked(False)
    pump(app, 5, lambda: window.answer is not None and not window.answer.request.filters.active)
    window.grid.select_row(1)
    settle(2.5)
    bar = window.grid.verticalScrollBar()
    for value in range(0, min(bar.maximum(), 420), 12):  # scrolled a little, as a person would
        bar.setValue(value)
        pump(app, 0.03)
    settle(1.5)
    window.grab().save(str(out / "timeline.png"))
    bar.setValue(0)

    window.grid.select_row(4)
    window.grid.selectionModel().select(window.model.index(5), window.grid.selectionModel().SelectionFlag.Select)
    window.grid.selectionModel().select(window.model.index(6), window.grid.selectionModel().SelectionFlag.Select)
    settle(1)
    menu = window.selection.build_menu()
    menu.adjustSize()
    picture = window.grab()
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter

    cell = window.grid.visualRect(window.model.index(5)).center()
    at = window.grid.viewport().mapTo(window, cell)
    painter = QPainter(picture)
    painter.drawPixmap(QPoint(at.x(), max(0, min(at.y(), picture.height() - menu.height() - 4))), menu.grab())
    painter.end()
    picture.save(str(out / "context-menu.png"))

    window.sidebar.duplicatesChosen.emit()
    duplicates = window.duplicates
    pump(app, 20, lambda: bool(duplicates.groups) and not duplicates._finding)
    settle(2)
    window.grab().save(str(out / "duplicates.png"))
    window.show_all()
    settle(1)

    window.grid.select_row(2)
    window.open_viewer()
    pump(app, 10, window.viewer.is_ready)
    window.viewer.toggle_info()
    settle(2)
    window.grab().save(str(out / "viewer.png"))
    window.viewer.close_viewer()
    settle(0.5)

    from photoclip.gui.album_actions import RuleDialog

    album = next(a for a in library.albums() if a.name == "Red things")
    rule_dialog = RuleDialog(library, window.tasks, album.name, album.rule, window)
    rule_dialog.show()
    settle(2)
    rule_dialog.grab().save(str(out / "album-rule.png"))
    rule_dialog.reject()

    apply_theme(app, "dark")
    window.search_bar.set_text("a blue star")
    pump(app, 10, lambda: window.answer is not None and window.answer.request.query == "a blue star")
    window.grid.select_row(0)
    settle(2.5)
    window.grab().save(str(out / "main-window-dark.png"))
    apply_theme(app, "light")

    window.search_bar.set_text("a green triangle")
    window.filter_bar.set_tag("red")
    pump(app, 10, lambda: window.answer is not None and window.answer.request.filters.tags == ("red",))
    settle()
    window.grab().save(str(out / "no-results.png"))
    window.filter_bar.clear()

    dialog = SettingsDialog(library, window.tasks, window.jobs, window.model_setup, window)
    dialog.show()
    settle(2)
    dialog.tabs.setCurrentIndex(2)
    settle(1)
    dialog.grab().save(str(out / "settings-device.png"))
    dialog.tabs.setCurrentIndex(3)
    settle(1)
    dialog.grab().save(str(out / "settings-tagging.png"))
    dialog.reject()

    from photoclip.gui import welcome_dialog

    welcome_dialog.pictures_folder = lambda: str(pictures)  # this run's "home" is made up
    welcome = WelcomeDialog(library, window.model_setup, window, model=window.model_name)
    welcome.folders = [str(pictures / f) for f in FOLDERS]
    for folder in welcome.folders:
        welcome.folder_list.addItem(folder)
    welcome.show()
    settle(1)
    welcome.grab().save(str(out / "welcome.png"))
    welcome.reject()

    window.close()
    library.close()
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
