"""The main window opens offscreen with a dock for each pane, under stable object names."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget

from workbench.ui.main_window import PANES, MainWindow


def test_main_window_has_every_pane(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    names = {d.objectName() for d in window.findChildren(QDockWidget)}
    assert names == {f"{key}_pane" for key, _, _ in PANES}
    assert window.windowTitle() == "Composition Workbench"
    image = window.grab().toImage()
    assert image.width() > 0 and image.height() > 0
