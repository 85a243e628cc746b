"""Render the app icon (workbench/resources/APP_ID.svg) into the hicolor theme tree under
packaging/icons/: PNGs at the standard sizes and the SVG itself as the scalable icon.

    .venv/bin/python packaging/make_icons.py

The PNGs are committed; rerun this after changing the SVG (tests/test_packaging.py checks that
the copies match it and that every size exists).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from workbench.app import APP_ID, ICON_PATH  # noqa: E402

#: The sizes desktops look up in the hicolor theme (freedesktop icon theme specification).
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICONS_DIR = ROOT / "packaging" / "icons" / "hicolor"


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    _app = QGuiApplication([])  # QImage text/painting needs a Gui application
    for size in SIZES:
        out = ICONS_DIR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not render(ICON_PATH, size).save(str(out), "PNG"):
            raise SystemExit(f"{out}: could not write")
        print(out.relative_to(ROOT))
    scalable = ICONS_DIR / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICON_PATH, scalable)
    print(scalable.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
