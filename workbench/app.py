"""GUI entry point: `workbench-gui` (or `workbench gui`) opens the main window.

Start-up stays light: torch is imported only when something needs it (a training run starts in
its own process; the About box and the device list import it on demand).

`--quit-after MS` closes the window MS milliseconds after it is up, printing `window ready` the
moment the event loop first runs: the packaging checks (packaging/build.sh) use it to open and close
the bundle headless and to time its start-up.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
from collections.abc import Sequence
from pathlib import Path

#: The reverse-DNS application id: the desktop file's name, the AppStream id and the icon's name
#: (packaging/), so desktops match the running window to its launcher and icon.
APP_ID = "io.github.compositionworkbench.CompositionWorkbench"
#: The app's icon, shipped in the package (the hicolor PNGs in packaging/ are rendered from it).
ICON_PATH = Path(__file__).resolve().parent / "resources" / f"{APP_ID}.svg"


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


def identify_app(app) -> None:
    """Name, version, desktop file and icon of the app (QSettings paths follow the names)."""
    from PySide6.QtGui import QIcon

    from workbench import __version__

    app.setApplicationName("Composition Workbench")
    app.setOrganizationName("Composition Workbench")
    app.setApplicationVersion(__version__)
    # Wayland and X11 desktops match the window to APP_ID.desktop (its icon, its menu entry).
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon.fromTheme(APP_ID, QIcon(str(ICON_PATH))))


def _parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    from workbench import __version__

    parser = argparse.ArgumentParser(prog="workbench-gui", description="Open the workbench window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--quit-after",
        type=int,
        metavar="MS",
        help="close the window MS milliseconds after it is up (smoke tests, start-up timing)",
    )
    # Anything else (-platform, -style...) is Qt's.
    return parser.parse_known_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    # The trainer runs in a spawned child process; frozen builds need this first.
    multiprocessing.freeze_support()
    args, qt_args = _parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    from workbench.ui.lifetimes import collect_on_gui_thread

    collect_on_gui_thread()  # reference cycles holding widgets die on this thread only
    identify_app(app)
    apply_theme(app)

    from workbench.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if args.quit_after is not None:
        close = window.close  # bound now: `window` is deleted below, after the loop

        def ready() -> None:
            print("window ready", flush=True)
            QTimer.singleShot(max(args.quit_after, 0), close)

        # Runs at the event loop's first turn: the window is shown and takes input.
        QTimer.singleShot(0, ready)
    status = app.exec()
    # Delete the window while the QApplication still exists: left to interpreter shutdown,
    # the two were destroyed in either order and the wrong one segfaulted (1 exit in 5 here).
    window.deleteLater()
    del window
    app.processEvents()
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
