"""GUI entry point: `workbench-gui` (or `workbench gui`) opens the main window.

Start-up stays light: torch is imported only when something needs it (a training run starts in
its own process; the About box and the device list import it on demand).
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Sequence


def apply_theme(app) -> None:
    """Fusion style, which follows the system's light/dark colour scheme, and plots to match."""
    import pyqtgraph as pg
    from PySide6.QtGui import QPalette

    app.setStyle("Fusion")

    def match_plots() -> None:
        palette = app.palette()
        pg.setConfigOptions(
            background=palette.color(QPalette.ColorRole.Base),
            foreground=palette.color(QPalette.ColorRole.Text),
            antialias=False,
        )

    match_plots()
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: match_plots())


def main(argv: Sequence[str] | None = None) -> int:
    # The trainer runs in a spawned child process; frozen builds need this first.
    multiprocessing.freeze_support()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    from workbench import __version__

    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("Composition Workbench")
    app.setOrganizationName("Composition Workbench")
    app.setApplicationVersion(__version__)
    apply_theme(app)

    from workbench.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    status = app.exec()
    # Delete the window while the QApplication still exists: left to interpreter shutdown,
    # the two were destroyed in either order and the wrong one segfaulted (1 exit in 5 here).
    window.deleteLater()
    del window
    app.processEvents()
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
