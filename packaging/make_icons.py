"""Render the application icon (resources/icons/photoclip.svg) to the PNG sizes and the Windows .ico.

Run after editing the SVG: `python packaging/make_icons.py`. Needs PySide6 (QtSvg) and Pillow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PIL import Image

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    if not image.save(str(out)):
        raise SystemExit(f"could not write {out}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - QPainter on QImage wants an application
    svg = ICONS / "photoclip.svg"
    for size in SIZES:
        render(svg, size, ICONS / f"photoclip-{size}.png")
    big = Image.open(ICONS / "photoclip-256.png")
    big.save(ICONS / "photoclip.ico", sizes=[(s, s) for s in SIZES if s <= 256])
    print(f"wrote {len(SIZES)} PNG sizes and photoclip.ico to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
