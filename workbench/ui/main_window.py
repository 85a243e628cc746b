"""The main window: a dock per pane, filled in by the pane issues.

Until each pane lands, its dock holds a short note of what it will do, so the layout (and the
object names tests and saved layouts rely on) is in place from the start.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

PANES = (
    ("dataset", "Dataset", "Load tune collections, files and folders."),
    ("training", "Training", "Train models with live curves."),
    ("editor", "Editor", "Write ABC prompts."),
    ("generation", "Generation", "Sample new tunes."),
    ("playback", "Playback", "Listen to tunes."),
    ("neurons", "Neurons", "Look inside the network."),
)


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Composition Workbench")
        self.setObjectName("main_window")
        self.resize(1200, 800)
        self.docks: dict[str, QDockWidget] = {}
        for key, title, blurb in PANES:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}_pane")
            label = QLabel(blurb)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            dock.setWidget(label)
            area = (
                Qt.DockWidgetArea.LeftDockWidgetArea
                if key in ("dataset", "editor")
                else Qt.DockWidgetArea.RightDockWidgetArea
            )
            self.addDockWidget(area, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["training"], self.docks["generation"])
        self.tabifyDockWidget(self.docks["generation"], self.docks["neurons"])
        self.docks["training"].raise_()
        self.statusBar().showMessage("Ready")
