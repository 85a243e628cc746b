"""GUI entry point: `workbench-gui` (or `workbench gui`) opens the main window."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    # The trainer runs in a spawned child process; frozen builds need this first.
    multiprocessing.freeze_support()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    from workbench import __version__
    from workbench.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("Composition Workbench")
    app.setOrganizationName("Composition Workbench")
    app.setApplicationVersion(__version__)
    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
