"""The main window: one dock per pane, menus, shortcuts, status bar, saved layout.

The window only wires: panes get the shared `Session` and talk through it (a corpus or generated
tune opens in the Editor, anything plays in Playback, any text opens in Neurons). Dock object
names are stable, so saved layouts survive new versions.

It opens on the musician's workspace: Generation on the left, the Editor (text and score) above
Playback on the right; the researcher's panes (Dataset, Training, Run history, Neurons) are tabs
beside Generation. The dock arrangement is saved with its own `LAYOUT_VERSION`: a layout saved
under another version (the old Training-first default) is ignored while the other settings
restore. Help holds "Getting started" and About.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
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
from workbench.ui.settings_values import drop_stored_objects, read_bool, read_int
from workbench.ui.widgets.run_history import RunHistoryWidget
from workbench.ui.widgets.scrolling import PaneScrollArea
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
# The dock arrangement's own version, given to saveState/restoreState: a saved arrangement of
# another version is ignored (the default one stays) while the other settings still restore.
# 1: the Training-first layout (saved with SETTINGS_VERSION); 2: the musician's workspace.
LAYOUT_VERSION = 2
# The researcher's panes: tabs beside Generation, one click away.
RESEARCH_PANES = ("dataset", "training", "runs", "neurons")
# Default share of the window's width for the left column (Generation and its tabs), and
# Playback's share of the right column's height (bounded in pixels).
LEFT_SHARE = 0.45
PLAYBACK_SHARE = 0.38
PLAYBACK_HEIGHT = (290, 420)

GETTING_STARTED = """
<h3>Getting started</h3>
<ol>
<li><b>Pick a model.</b> The Generation pane starts with the shipped model (trained on folk
tunes). Its Model list also holds every checkpoint of your training runs; Browse… opens any
<code>.pt</code> file.</li>
<li><b>Generate.</b> Choose what the model continues (the editor's tune, its selection, or
nothing), a key and a meter if you like, the temperature and how many variations, then press
<i>Generate</i> (Ctrl+Enter). The tunes appear in the results list with their checks.</li>
<li><b>Send to editor.</b> Select a result to read it, then <i>Send to editor</i>: the Editor
shows its text and its engraved score, and checks it as you change it.</li>
<li><b>Play.</b> The Playback bar's <i>Play</i> (or Space) plays what you chose last: the
selected result, or the editor's tune once you edit it or click into it. The piano roll and
the editor follow the notes.</li>
<li><b>Export.</b> Under the results, <i>Export</i> writes the selected, kept or all tunes as
ABC, MIDI or MusicXML; the Editor saves ABC (Ctrl+S) and its score exports SVG, PNG or PDF.</li>
</ol>
<h4>Train on your own tunes</h4>
<p>Open the <i>Dataset</i> tab, tick a collection or add your ABC files or a folder
(File &rarr; Open tunes…), and press <i>Load</i>. In the <i>Training</i> tab choose a preset
and press <i>Start</i> (F5), or <i>Fine-tune</i> the shipped model on them, and watch the loss
fall. When it is done, choose the run's checkpoint in Generation's Model list. <i>Run
history</i> compares runs; <i>Neurons</i> shows what the model's units respond to.</p>
<p>View &rarr; Reset layout brings this arrangement back.</p>
"""


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
        # No bigger than the screen: a 1400 x 900 window overflowed a 1366 x 768 laptop.
        room = self.screen().availableGeometry()
        self.resize(min(1400, room.width()), min(900, room.height()))
        self.session = session or Session()
        self.settings = settings or QSettings()
        # Before the first value is read: a crafted settings file must not run code.
        drop_stored_objects(self.settings)
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
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self._arrange_default()
        self._default_state = self.saveState(LAYOUT_VERSION)
        # The default arrangement's proportions are applied to the window's size when it is
        # first shown, unless a saved arrangement was restored.
        self._size_default_on_show = True
        self.getting_started_dialog: QDialog | None = None
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
        dock.setWidget(PaneScrollArea(widget))
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        return dock

    def _arrange_default(self) -> None:
        """Generation (with the researcher's panes as tabs) left; Editor over Playback right."""
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(left, self.docks["generation"])
        for key in RESEARCH_PANES:
            self.addDockWidget(left, self.docks[key])
            self.tabifyDockWidget(self.docks["generation"], self.docks[key])
        self.addDockWidget(right, self.docks["editor"])
        self.splitDockWidget(self.docks["editor"], self.docks["playback"], Qt.Orientation.Vertical)
        self._size_default_docks()
        self.docks["generation"].raise_()

    def _size_default_docks(self) -> None:
        """The default arrangement's proportions, for the window's present size."""
        height = self.height() - self.menuBar().sizeHint().height()
        height -= self.statusBar().sizeHint().height()
        left = round(self.width() * LEFT_SHARE)
        low, high = PLAYBACK_HEIGHT
        playback = min(max(round(height * PLAYBACK_SHARE), low), high)
        generation, editor = self.docks["generation"], self.docks["editor"]
        self.resizeDocks(
            [generation, editor], [left, self.width() - left], Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [editor, self.docks["playback"]], [height - playback, playback], Qt.Orientation.Vertical
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._size_default_on_show:
            self._size_default_on_show = False
            self._size_default_docks()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self._size_default_docks()
        self.docks["generation"].raise_()

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
        self._action(help_menu, "&Getting started", self.show_getting_started)
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
        self.run_history.follow_requested.connect(self._on_history_follow_requested)
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

    def _on_history_follow_requested(self, path: Path) -> None:
        if self.training_pane.follow_run(Path(path)):
            self.docks["training"].raise_()

    def _on_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Open tunes",
            "",
            "Tunes and MIDI (*.abc *.txt *.mid *.midi *.kar);;All files (*)",
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

    def show_getting_started(self) -> QDialog:
        """A short guide (not modal: it can stay open beside the panes it talks about)."""
        if self.getting_started_dialog is None:
            dialog = QDialog(self)
            dialog.setWindowTitle("Getting started")
            text = QTextBrowser()
            text.setObjectName("GettingStartedText")
            text.setHtml(GETTING_STARTED)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            buttons.rejected.connect(dialog.close)
            layout = QVBoxLayout(dialog)
            layout.addWidget(text)
            layout.addWidget(buttons)
            dialog.resize(560, 560)
            self.getting_started_dialog = dialog
        self.getting_started_dialog.show()
        self.getting_started_dialog.raise_()
        return self.getting_started_dialog

    # -- settings and closing --------------------------------------------------------------

    def _restore(self) -> None:
        s = self.settings
        if read_int(s, "version", 0) != SETTINGS_VERSION:
            return
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        # restoreState refuses a layout saved under another LAYOUT_VERSION: the default stays.
        if isinstance(state, QByteArray) and self.restoreState(state, LAYOUT_VERSION):
            self._size_default_on_show = False
        runs_root = s.value("runs/root")
        if runs_root and Path(str(runs_root)).is_dir():
            self.set_runs_root(Path(str(runs_root)))
        selected = s.value("runs/selected")
        if selected:
            self.run_history.select_run(Path(str(selected)))  # gone since: nothing selected
        specs = s.value("session/data_specs") or []
        if isinstance(specs, str):
            specs = [specs]
        encoding = s.value("session/midi_encoding")
        if encoding:  # MIDI is read again with the encoding it was loaded with
            velocities = read_bool(s, "session/midi_velocities", False)
            self.dataset_pane.set_encoding(str(encoding), velocities)
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
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        s.setValue("runs/root", str(self.runs_root))
        selected = self.run_history.selected_run()
        s.setValue("runs/selected", str(selected) if selected else "")
        s.setValue("session/data_specs", list(self.session.data_specs))
        encoding, velocities = self.dataset_pane.encoding()
        s.setValue("session/midi_encoding", encoding)
        s.setValue("session/midi_velocities", velocities)
        s.setValue("session/run", str(self.session.run) if self.session.run else "")
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.editor_pane.confirm_close():  # unsaved ABC: save, discard or cancel
            event.ignore()
            return
        if not self.generation_pane.confirm_close():  # generated tunes not kept
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
        self.run_history.shutdown()
        for pane in (self.editor_pane, self.generation_pane, self.playback_pane, self.neurons_pane):
            pane.shutdown()
        self.save_settings()
        event.accept()
