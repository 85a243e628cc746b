"""The main window: one dock per pane, menus, shortcuts, status bar, saved layout.

The window only wires: panes get the shared `Session` and talk through it (a corpus or generated
tune opens in the Editor, anything plays in Playback, any text opens in Neurons). Dock object
names are stable, so saved layouts survive new versions.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from workbench import __version__
from workbench.runs import default_runs_root
from workbench.session import Session
from workbench.ui.panes.dataset_pane import DatasetPane
from workbench.ui.panes.editor_pane import EditorPane
from workbench.ui.panes.generation_pane import GenerationPane
from workbench.ui.panes.neurons_pane import NeuronsPane
from workbench.ui.panes.playback_pane import PlaybackPane
from workbench.ui.panes.training_pane import TrainingPane
from workbench.ui.widgets.run_history import RunHistoryWidget
from workbench.ui.widgets.sweep_builder import SweepBuilderDialog

# key, dock title
PANES = (
    ("dataset", "Dataset"),
    ("training", "Training"),
    ("runs", "Run history"),
    ("editor", "Editor"),
    ("generation", "Generation"),
    ("playback", "Playback"),
    ("neurons", "Neurons"),
)
SETTINGS_VERSION = 1


class MainWindow(QMainWindow):
    def __init__(
        self,
        session: Session | None = None,
        settings: QSettings | None = None,
        runs_root: Path | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Composition Workbench")
        self.resize(1400, 900)
        self.session = session or Session()
        self.settings = settings or QSettings()
        self.runs_root = Path(runs_root or default_runs_root())
        self.runs_root.mkdir(parents=True, exist_ok=True)

        self.dataset_pane = DatasetPane(self.session)
        self.training_pane = TrainingPane(self.session, runs_root=self.runs_root)
        self.run_history = RunHistoryWidget(self.runs_root)
        self.editor_pane = EditorPane(self.session, settings=self.settings)
        self.generation_pane = GenerationPane(
            self.session, runs_root=self.runs_root, settings=self.settings
        )
        self.playback_pane = PlaybackPane(self.session)
        self.neurons_pane = NeuronsPane(self.session)
        self.docks: dict[str, QDockWidget] = {}
        # Run directories of the sweep in progress (None: no sweep), overlaid in Run history.
        self._sweep_runs: list[Path] | None = None
        widgets = {
            "dataset": self.dataset_pane,
            "training": self.training_pane,
            "runs": self.run_history,
            "editor": self.editor_pane,
            "generation": self.generation_pane,
            "playback": self.playback_pane,
            "neurons": self.neurons_pane,
        }
        for key, title in PANES:
            self.docks[key] = self._add_dock(key, title, widgets[key])
        self._arrange_default()
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._build_menus()
        self._wire()
        self.statusBar().showMessage("Ready")
        self._restore()

    # -- layout ----------------------------------------------------------------------------

    def _add_dock(self, key: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}_pane")
        # In a scroll area a pane can be narrower than its contents' minimum: without it the
        # Dataset and Training panes together needed 1,730 px and overflowed a 1600 px screen.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        return dock

    def _arrange_default(self) -> None:
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(left, self.docks["dataset"])
        self.addDockWidget(left, self.docks["editor"])
        self.tabifyDockWidget(self.docks["dataset"], self.docks["editor"])
        self.addDockWidget(right, self.docks["training"])
        for key in ("runs", "generation", "neurons"):
            self.addDockWidget(right, self.docks[key])
            self.tabifyDockWidget(self.docks["training"], self.docks[key])
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.docks["playback"])
        self.resizeDocks(
            [self.docks["dataset"], self.docks["training"]], [520, 880], Qt.Orientation.Horizontal
        )
        self.docks["dataset"].raise_()
        self.docks["training"].raise_()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, SETTINGS_VERSION)

    # -- menus -----------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open tunes…", self._on_open_files, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &folder…", self._on_open_folder, "Ctrl+Shift+O")
        file_menu.addSeparator()
        self._action(file_menu, "Choose runs &folder…", self._on_choose_runs_root)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        # Menu actions press the pane's buttons: a disabled button ignores click(), so a
        # shortcut does exactly what the button would do right now.
        pane = self.training_pane
        train_menu = bar.addMenu("&Train")
        self._action(train_menu, "&Start", pane.start_button.click, "F5")
        self._action(train_menu, "S&top", pane.stop_button.click, "Shift+F5")
        self._action(train_menu, "&Pause / resume", pane.pause_button.click, "F6")
        self._action(train_menu, "Save &checkpoint now", pane.save_button.click, "Ctrl+S")
        self._action(train_menu, "&Resume selected run", pane.resume_run_button.click)
        train_menu.addSeparator()
        self._action(train_menu, "S&weep…", self._on_sweep)

        view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        self._action(view_menu, "&Reset layout", self.reset_layout)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About Composition Workbench", self.show_about)

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # -- wiring ----------------------------------------------------------------------------

    def _wire(self) -> None:
        status = self.statusBar()
        self.run_history.run_activated.connect(self._on_history_run_activated)
        self.training_pane.status_changed.connect(status.showMessage)
        self.training_pane.running_changed.connect(self._on_training_running_changed)
        self.dataset_pane.status_reported.connect(status.showMessage)
        self.playback_pane.status_reported.connect(status.showMessage)
        self.neurons_pane.status_reported.connect(status.showMessage)
        # A request from one pane brings the pane that serves it to the front.
        self.session.prompt_changed.connect(lambda _: self.docks["editor"].raise_())
        self.session.play_requested.connect(lambda _: self.docks["playback"].raise_())
        self.session.inspect_requested.connect(lambda _: self.docks["neurons"].raise_())

    def _on_training_running_changed(self, running: bool) -> None:
        self.run_history.set_active_run(self.session.run if running else None)
        if running and self._sweep_runs is not None and self.session.run is not None:
            self._sweep_runs.append(self.session.run)
        self.run_history.refresh()
        if self._sweep_runs:
            # Overlay the sweep's runs as they appear (a run is listed once its trainer has
            # written config.json, so this is repeated at each start and end).
            self.run_history.set_checked(self._sweep_runs)
        if not running and not self.training_pane.queue:
            self._sweep_runs = None  # the sweep is over; its runs stay ticked

    def _on_history_run_activated(self, path: Path) -> None:
        self.session.run = Path(path)
        self.training_pane.show_run(Path(path))
        self.docks["training"].raise_()

    def _on_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open tunes", "", "ABC and text files (*.abc *.txt);;All files (*)"
        )
        if files:
            self.dataset_pane.add_sources(files)
            self.docks["dataset"].raise_()

    def _on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of tunes")
        if folder:
            self.dataset_pane.add_sources([folder])
            self.docks["dataset"].raise_()

    def _on_choose_runs_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for training runs", str(self.runs_root)
        )
        if folder:
            self.set_runs_root(Path(folder))

    def set_runs_root(self, path: Path) -> None:
        self.runs_root = path
        self.training_pane.runs_root = path
        self.run_history.set_runs_root(path)

    def _on_sweep(self) -> None:
        dialog = SweepBuilderDialog(self.training_pane.form.current_config(), self)
        if dialog.exec():
            self.start_sweep(dialog.runs())

    def start_sweep(self, runs: list) -> None:
        """Train `runs` ((name, RunConfig) pairs) one after another, overlaying their curves."""
        self._sweep_runs = []
        self.training_pane.enqueue(runs)
        self.docks["training"].raise_()

    # -- about -----------------------------------------------------------------------------

    def about_text(self) -> str:
        def version(dist: str) -> str:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return "not installed"

        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from models.device import describe_device, resolve_device

        return (
            f"<h3>Composition Workbench {__version__}</h3>"
            "<p>Train recurrent networks on tunes, generate, listen, look inside.</p>"
            f"<p>Python {platform.python_version()}<br>PySide6 {pyside_version} (Qt {qVersion()})"
            f"<br>PyTorch {version('torch')}<br>music21 {version('music21')}"
            f"<br>pyqtgraph {version('pyqtgraph')}</p>"
            f"<p>Device: {describe_device(resolve_device('auto'))}</p>"
        )

    def show_about(self) -> None:
        QMessageBox.about(self, "About Composition Workbench", self.about_text())

    # -- settings and closing --------------------------------------------------------------

    def _restore(self) -> None:
        s = self.settings
        if int(s.value("version", 0)) != SETTINGS_VERSION:
            return
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, SETTINGS_VERSION)
        runs_root = s.value("runs/root")
        if runs_root and Path(str(runs_root)).is_dir():
            self.set_runs_root(Path(str(runs_root)))
        specs = s.value("session/data_specs") or []
        if isinstance(specs, str):
            specs = [specs]
        if specs:
            # Reload the last session's tunes once the window is up (off the GUI thread).
            self.dataset_pane.add_sources(list(specs))
            QTimer.singleShot(0, self.dataset_pane.load)
        run = s.value("session/run")
        if run and Path(str(run)).is_dir():
            self.session.run = Path(str(run))
            QTimer.singleShot(0, lambda: self.training_pane.show_run(Path(str(run))))

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("version", SETTINGS_VERSION)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(SETTINGS_VERSION))
        s.setValue("runs/root", str(self.runs_root))
        s.setValue("session/data_specs", list(self.session.data_specs))
        s.setValue("session/run", str(self.session.run) if self.session.run else "")
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.editor_pane.confirm_close():  # unsaved ABC: save, discard or cancel
            event.ignore()
            return
        if self.training_pane.is_training():
            answer = QMessageBox.question(
                self,
                "Training in progress",
                "A model is training. Stop it and quit? Stopping saves a checkpoint you can "
                "resume later.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.statusBar().showMessage("Stopping the training run…")
            self.training_pane.stop_and_wait(60.0)
        self.dataset_pane.shutdown()
        for pane in (self.editor_pane, self.generation_pane, self.playback_pane, self.neurons_pane):
            pane.shutdown()
        self.save_settings()
        event.accept()
