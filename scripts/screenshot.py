"""Start the real app on a display (Xvfb in CI/headless use), train briefly, save a screenshot.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py [OUT.png]

Loads corpus:ryansMammoth through the Dataset pane, trains the default model for ~40 s with
live curves, and grabs the screen: the README's picture (resources/screenshots/main.png).
Settings and runs go to a temporary folder, so your own are untouched.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from workbench.app import apply_theme
from workbench.ui.main_window import MainWindow

TRAIN_MS = 40_000


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots/main.png")
    tmp = Path(tempfile.mkdtemp(prefix="workbench-shot-"))
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    window = MainWindow(
        settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
        runs_root=tmp / "runs",
    )
    window.resize(1600, 1000)
    window.show()
    pane = window.dataset_pane
    pane.add_sources(["corpus:ryansMammoth"])
    pane.load()

    def start_training() -> None:
        if window.session.dataset is None:
            QTimer.singleShot(200, start_training)
            return
        window.training_pane.start_button.click()
        QTimer.singleShot(TRAIN_MS, shoot)

    def shoot() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        image = window.screen().grabWindow(0, 0, 0, window.width(), window.height())
        if image.isNull() or (image.toImage().allGray() and image.toImage().pixel(5, 5) == 0):
            image = window.grab()  # no window system to grab from (offscreen)
        image.save(str(out))
        print(f"saved {out} ({image.width()}x{image.height()})")
        window.training_pane.stop_and_wait(60)
        window.close()
        app.quit()

    QTimer.singleShot(500, start_training)
    status = app.exec()
    window.deleteLater()  # before the QApplication goes (see workbench/app.py)
    app.processEvents()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
