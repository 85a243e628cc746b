"""The dataset pane: choose tune sources, load them off the GUI thread, and look at the result.

Sources are music21's built-in collections (a checkbox each), files and folders (buttons or
drag and drop). Loading runs on a :class:`~workbench.ui.workers.corpus_loader.CorpusLoader`
thread with a progress bar and a Cancel button; a finished load becomes the session's dataset.
Whatever sets the session's dataset, the pane shows its statistics (sizes, vocabulary, length
histogram, meter and key charts), a searchable tune table with an ABC preview, and the problems
found while loading. It also edits the session's train/validation split.

MIDI is the second kind of data: `.mid`/`.midi` files and folders and music21's Bach chorales
(`corpus:bach-chorales`, converted once on the first load, with progress and Cancel) load the
same way, encoded with the chosen encoding (REMI by default; TSD, MIDI-like, or the reports'
notes and chords). A MIDI dataset is shown in events and pieces (`MidiDatasetView`): its
statistics, the pieces with their events, and Play for any of them. A load that mixes MIDI and
ABC is refused with a message: a model reads one kind.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QModelIndex, QStringListModel, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.corpus import (
    CORPUS_PREFIX,
    CorpusError,
    DatasetStats,
    LoadResult,
    Tune,
    dataset_stats,
    list_builtin,
)
from workbench.corpus.builtin import COLLECTIONS
from workbench.midi_data import (
    CHORALES_SPEC,
    DEFAULT_ENCODING,
    ENCODINGS,
    MidiLoadResult,
    Piece,
)
from workbench.midi_data.stats import midi_stats
from workbench.session import PlayRequest, Session
from workbench.ui.lifetimes import connect_session
from workbench.ui.widgets.dataset_stats import DatasetStatsWidget
from workbench.ui.widgets.midi_dataset_view import MidiDatasetView
from workbench.ui.widgets.scrolling import AdaptiveSplitter
from workbench.ui.widgets.tune_table import LENGTH, SOURCE, TITLE, TuneTableModel
from workbench.ui.workers.corpus_loader import CorpusLoader

FILE_FILTER = (
    "Tunes and MIDI (*.abc *.txt *.mid *.midi *.kar);;ABC tunebooks (*.abc);;"
    "MIDI files (*.mid *.midi *.kar);;Text files (*.txt);;All files (*)"
)
#: The MIDI encodings offered, with what each one is (workbench.midi_data.encodings).
ENCODING_CHOICES = {
    "remi": (
        "REMI (bars, positions, durations)",
        "MidiTok's REMI: bar and position events give the metre explicitly; real durations",
    ),
    "tsd": ("TSD (time shifts, durations)", "MidiTok's TSD: time shifts between notes"),
    "midilike": ("MIDI-like (note on/off)", "MidiTok's MIDI-like: note-on, note-off, time shift"),
    "notes-chords": (
        "Notes and chords (the reports')",
        "The MIDI reports' encoding through music21: a note by name or a chord as its pitch "
        "classes, no durations or rests (slow on the first read, then cached)",
    ),
}
CHORALES_NAME = CHORALES_SPEC.split(":", 1)[1]
MAX_SEED = 2**31 - 1
KEPT = "the previous dataset is kept"


def _problems_line(problems: list) -> str:
    """The problems of a load that found nothing, in one line for the status."""
    if not problems:
        return "the sources hold no tunes"
    if len(problems) == 1:
        return str(problems[0])
    return f"{len(problems)} problems, the first: {problems[0]}"


class DatasetPane(QWidget):
    """Loads the session's dataset and shows what is in it.

    ``status_reported(str)`` carries one-line messages (loaded, cancelled, failed) for a status
    bar. Call :meth:`shutdown` before the application exits (it also runs on ``aboutToQuit``).
    """

    status_reported = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DatasetPane")
        self.setAcceptDrops(True)
        self.session = session
        self._sources: list[str] = []
        self._last_dir = str(Path.home())
        # The stats the loader computed for the result it handed to the session, so the
        # dataset_changed handler need not compute them again on the GUI thread.
        self._loaded: tuple[LoadResult, DatasetStats] | None = None
        self._shown_tune: Tune | None = None

        self.loader = CorpusLoader(self)
        self.loader.progressed.connect(self._on_loader_progressed)
        self.loader.loaded.connect(self._on_loader_loaded)
        self.loader.cancelled.connect(self._on_loader_cancelled)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.finished.connect(self._on_loader_finished)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self._build_sources_group())
        left_layout.addWidget(self._build_split_group())
        left_layout.addWidget(self._build_problems_group(), 1)
        abc_view = QSplitter(Qt.Orientation.Vertical)
        abc_view.addWidget(self._build_stats_group())
        abc_view.addWidget(self._build_tunes_group())
        # The dataset's kind picks the view: tunes (ABC) or pieces in events (MIDI).
        self.midi_view = MidiDatasetView()
        self.midi_view.play_requested.connect(self._on_midi_view_play_requested)
        self.data_views = QStackedWidget()
        self.data_views.addWidget(abc_view)
        self.data_views.addWidget(self.midi_view)
        self.abc_view = abc_view
        splitter = AdaptiveSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.data_views)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        connections = [
            (session.dataset_changed, self._on_session_dataset_changed),
            (session.split_changed, self._on_session_split_changed),
        ]
        connect_session(self, connections)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._on_session_dataset_changed(session.dataset)

    # -- building ----------------------------------------------------------------------------

    def _build_sources_group(self) -> QGroupBox:
        group = QGroupBox("Sources")
        layout = QVBoxLayout(group)
        grid = QGridLayout()
        self.builtin_checks: dict[str, QCheckBox] = {}
        try:
            infos = [info for info in list_builtin() if info.name in COLLECTIONS]
        except CorpusError as error:  # music21 missing: files and folders still work
            grid.addWidget(QLabel(str(error)), 0, 0)
            infos = []
        for position, info in enumerate(infos):
            check = QCheckBox(f"{info.name} ({info.tunes:,} tunes)")
            check.setToolTip(f"{info.description}\n{info.files:,} files")
            check.toggled.connect(functools.partial(self._on_builtin_toggled, info.name))
            grid.addWidget(check, position // 2, position % 2)
            self.builtin_checks[info.name] = check
        chorales = QCheckBox(f"{CHORALES_NAME} (MIDI, 371 chorales)")
        chorales.setToolTip(
            "music21's Bach chorales as MIDI: converted once (a few minutes, with progress), "
            "then read from the cache in a second"
        )
        chorales.toggled.connect(functools.partial(self._on_builtin_toggled, CHORALES_NAME))
        grid.addWidget(chorales, (len(infos) + 1) // 2, 0)
        self.builtin_checks[CHORALES_NAME] = chorales
        layout.addLayout(grid)

        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self._on_add_files_clicked)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self.sources_list = QListWidget()
        self.sources_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.sources_list.setToolTip("Files and folders can also be dropped onto this pane.")
        self.sources_list.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.sources_list)

        encoding_row = QHBoxLayout()
        self.encoding_combo = QComboBox()
        for name in ENCODINGS:
            label, tip = ENCODING_CHOICES.get(name, (name, ""))
            self.encoding_combo.addItem(label, name)
            self.encoding_combo.setItemData(
                self.encoding_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.encoding_combo.setCurrentIndex(self.encoding_combo.findData(DEFAULT_ENCODING))
        self.encoding_combo.setToolTip("How MIDI becomes the events a model reads (MIDI only)")
        self.velocities_check = QCheckBox("velocities")
        self.velocities_check.setToolTip(
            "Keep how hard each note is played (an event per note; timed encodings only)"
        )
        self.encoding_combo.currentIndexChanged.connect(self._on_encoding_changed)
        encoding_row.addWidget(QLabel("MIDI encoding"))
        encoding_row.addWidget(self.encoding_combo, 1)
        encoding_row.addWidget(self.velocities_check)
        layout.addLayout(encoding_row)

        run = QHBoxLayout()
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self._on_load_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m files")
        self.progress_bar.setTextVisible(False)  # until a load has something to count
        run.addWidget(self.load_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress_bar, 1)
        layout.addLayout(run)
        self.status_label = QLabel("Choose collections, files or folders, then Load.")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self._update_buttons()
        return group

    def _build_split_group(self) -> QGroupBox:
        group = QGroupBox("Train/validation split")
        form = QFormLayout(group)
        self.val_spin = QDoubleSpinBox()
        self.val_spin.setRange(0.01, 0.5)
        self.val_spin.setSingleStep(0.01)
        self.val_spin.setDecimals(2)
        self.val_spin.setValue(self.session.val_fraction)
        self.val_spin.setToolTip(
            "Share of the tunes (or MIDI pieces) held out to measure validation loss."
        )
        self.val_spin.valueChanged.connect(self._on_split_edited)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setValue(self.session.seed)
        self.seed_spin.setToolTip("The same seed always picks the same validation tunes.")
        self.seed_spin.valueChanged.connect(self._on_split_edited)
        form.addRow("Validation fraction", self.val_spin)
        form.addRow("Seed", self.seed_spin)
        return group

    def _build_problems_group(self) -> QGroupBox:
        self.problems_group = QGroupBox("Problems (0)")
        layout = QVBoxLayout(self.problems_group)
        # A string-list model: a folder of bad files may give thousands of problems.
        self.problems_model = QStringListModel(self)
        self.problems_view = QListView()
        self.problems_view.setModel(self.problems_model)
        self.problems_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems_view.setUniformItemSizes(True)
        layout.addWidget(self.problems_view)
        return self.problems_group

    def _build_stats_group(self) -> QGroupBox:
        group = QGroupBox("Statistics")
        layout = QVBoxLayout(group)
        self.stats_view = DatasetStatsWidget()
        layout.addWidget(self.stats_view)
        return group

    def _build_tunes_group(self) -> QGroupBox:
        group = QGroupBox("Tunes")
        layout = QVBoxLayout(group)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by title, key, meter or source")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.shown_label = QLabel()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.shown_label)
        layout.addLayout(top)

        self.tune_model = TuneTableModel(self)
        self.tune_table = QTableView()
        self.tune_table.setModel(self.tune_model)
        self.tune_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tune_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tune_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tune_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tune_table.setWordWrap(False)
        vertical = self.tune_table.verticalHeader()
        vertical.hide()
        # Fixed row heights: the view never measures 13,000 rows.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.tune_table.horizontalHeader()
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(LENGTH, 70)
        header.resizeSection(SOURCE, 220)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # start in load order
        self.tune_table.setSortingEnabled(True)
        self.tune_table.selectionModel().currentRowChanged.connect(self._on_tune_current_changed)
        self.tune_table.doubleClicked.connect(self._on_tune_double_clicked)

        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setPlaceholderText("Select a tune to read it; double-click to edit it.")
        self.send_button = QPushButton("Send to editor")
        self.send_button.setEnabled(False)
        self.send_button.clicked.connect(self._on_send_clicked)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(self.preview)
        preview_layout.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignRight)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tune_table)
        split.addWidget(preview_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split)
        return group

    # -- sources -----------------------------------------------------------------------------

    def sources(self) -> list[str]:
        """The DATA specs that Load will read, in order."""
        return list(self._sources)

    def add_sources(self, specs: list[str]) -> None:
        """Add files, folders or ``corpus:NAME`` specs that are not listed yet."""
        for spec in specs:
            if spec not in self._sources:
                self._sources.append(spec)
        self._refresh_sources()

    def remove_sources(self, specs: list[str]) -> None:
        self._sources = [spec for spec in self._sources if spec not in specs]
        self._refresh_sources()

    def _refresh_sources(self) -> None:
        self.sources_list.clear()
        self.sources_list.addItems(self._sources)
        chosen = {spec.lower() for spec in self._sources}
        for name, check in self.builtin_checks.items():
            check.blockSignals(True)  # reflecting the list is not a user's toggle
            check.setChecked(f"{CORPUS_PREFIX}{name}".lower() in chosen)
            check.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.loader.is_running()
        self.load_button.setEnabled(bool(self._sources) and not running)
        self.cancel_button.setEnabled(running)
        self.remove_button.setEnabled(bool(self.sources_list.selectedItems()))

    def _on_builtin_toggled(self, name: str, checked: bool) -> None:
        spec = f"{CORPUS_PREFIX}{name}"
        if checked:
            self.add_sources([spec])
        else:
            self.remove_sources([s for s in self._sources if s.lower() == spec.lower()])

    def _on_add_files_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add tune files", self._last_dir, FILE_FILTER)
        if paths:
            self._last_dir = str(Path(paths[0]).parent)
            self.add_sources(paths)

    def _on_add_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of tunes", self._last_dir)
        if folder:
            self._last_dir = folder
            self.add_sources([folder])

    def _on_remove_clicked(self) -> None:
        self.remove_sources([item.text() for item in self.sources_list.selectedItems()])

    @staticmethod
    def _dropped_paths(event: QDragMoveEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]

    def _accept_paths(self, event: QDragMoveEvent) -> None:
        # Only local files and folders can be sources; anything else is refused at once.
        if self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._accept_paths(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._accept_paths(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_sources(paths)

    # -- loading -----------------------------------------------------------------------------

    def load(self) -> None:
        """Start loading the listed sources (as the Load button does)."""
        if not self._sources or self.loader.is_running():
            return
        self.progress_bar.setRange(0, 0)  # busy until the first file is read
        self.progress_bar.setTextVisible(True)
        self._report("Loading…")
        encoding, velocities = self.encoding()
        self.loader.start(self._sources, encoding, velocities)
        self._update_buttons()

    def encoding(self) -> tuple[str, bool]:
        """The MIDI encoding the next load uses, and whether it keeps velocities."""
        return self.encoding_combo.currentData(), self.velocities_check.isChecked()

    def set_encoding(self, encoding: str, velocities: bool = False) -> None:
        """Choose the MIDI encoding of the next load (an unknown name keeps the current)."""
        index = self.encoding_combo.findData(encoding)
        if index >= 0:
            self.encoding_combo.setCurrentIndex(index)
        self.velocities_check.setChecked(velocities and self.velocities_check.isEnabled())

    def _on_encoding_changed(self) -> None:
        # The reports' notes and chords carry no velocities.
        timed = self.encoding_combo.currentData() != "notes-chords"
        self.velocities_check.setEnabled(timed)
        if not timed:
            self.velocities_check.setChecked(False)

    def cancel(self) -> None:
        """Stop the running load before its next file; the current dataset stays."""
        self.loader.cancel()

    def shutdown(self) -> None:
        """Cancel any load and wait for its thread; call before the application exits."""
        self.loader.shutdown()

    def _report(self, message: str) -> None:
        self.status_label.setText(message)
        self.status_reported.emit(message)

    def _on_load_clicked(self) -> None:
        self.load()

    def _on_cancel_clicked(self) -> None:
        self.cancel()

    def _on_loader_progressed(self, done: int, total: int, source: str) -> None:
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        # The chorales' first load converts them before reading: "converting NAME ...".
        converting = source.startswith("converting ")
        self.status_label.setText(f"C{source[1:]}" if converting else f"Reading {source}")

    def _on_loader_loaded(self, result, stats, specs: list) -> None:  # either kind
        if self.session.dataset is not None and not (
            getattr(result, "tunes", None) or getattr(result, "pieces", None)
        ):
            # Every file failed (empty, binary, too large...): an empty dataset in place of
            # the one the user had would lose it for nothing.
            self._report(f"Nothing loaded: {_problems_line(result.problems)}; {KEPT}.")
            return
        self._loaded = (result, stats)
        self.session.set_dataset(result, specs)
        self._report(f"Loaded {result.summary()}.")

    def _on_loader_cancelled(self, specs: list) -> None:
        kept = "nothing was loaded" if self.session.dataset is None else KEPT
        self._report(f"Loading cancelled; {kept}.")

    def _on_loader_failed(self, message: str, specs: list) -> None:
        kept = f"; {KEPT}" if self.session.dataset is not None else ""
        self._report(f"Cannot load: {message}{kept}")

    def _on_loader_finished(self) -> None:
        if self.progress_bar.maximum() == 0:  # stopped before the first file was read
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setTextVisible(False)
        self._update_buttons()

    # -- showing the dataset -----------------------------------------------------------------

    def _on_session_dataset_changed(self, result: LoadResult | MidiLoadResult | None) -> None:
        if isinstance(result, MidiLoadResult):
            self._show_midi(result)
            return
        self.data_views.setCurrentWidget(self.abc_view)
        if result is None:
            stats = dataset_stats([])
        elif self._loaded is not None and self._loaded[0] is result:
            stats = self._loaded[1]
        else:  # set by someone else (e.g. the command line): ~0.2 s for 13,000 tunes
            stats = dataset_stats(result.tunes)
        self._loaded = None
        if result is not None and self.session.data_specs != self._sources:
            self._sources = list(self.session.data_specs)
            self._refresh_sources()

        self.stats_view.show_stats(stats, result.sources if result is not None else 0)

        problems = [str(problem) for problem in result.problems] if result is not None else []
        self.problems_model.setStringList(problems)
        self.problems_group.setTitle(f"Problems ({len(problems):,})")

        tunes = result.tunes if result is not None else []
        self.tune_model.set_tunes(tunes, stats.tune_keys, stats.tune_meters)
        self._show_tune(None)
        self._update_shown_label()

    def _show_midi(self, result: MidiLoadResult) -> None:
        """A MIDI dataset: its statistics and pieces in events, and its problems."""
        if self._loaded is not None and self._loaded[0] is result:
            stats = self._loaded[1]
        else:  # set by someone else: a pass over the events, well under a second
            stats = midi_stats(result)
        self._loaded = None
        if self.session.data_specs != self._sources:
            self._sources = list(self.session.data_specs)
            self._refresh_sources()
        self.data_views.setCurrentWidget(self.midi_view)
        self.midi_view.show_dataset(result, stats)
        problems = [str(problem) for problem in result.problems]
        self.problems_model.setStringList(problems)
        self.problems_group.setTitle(f"Problems ({len(problems):,})")
        self._show_tune(None)

    def _on_midi_view_play_requested(self, piece: Piece) -> None:
        try:
            data = Path(piece.path).read_bytes()
        except OSError as error:
            self._report(f"Cannot play {piece.source}: {error.strerror or error}")
            return
        self.session.request_play(PlayRequest(piece.name, midi=data))

    def _on_filter_text_changed(self, text: str) -> None:
        shown = self._shown_tune
        self.tune_model.set_filter(text)
        self._update_shown_label()
        # The reset cleared the selection: keep the previewed tune selected if still listed.
        row = self.tune_model.row_of(shown) if shown is not None else None
        if row is not None:
            self.tune_table.selectRow(row)

    def _update_shown_label(self) -> None:
        model = self.tune_model
        self.shown_label.setText(f"{model.rowCount():,} of {model.total_count:,}")

    def _show_tune(self, tune: Tune | None) -> None:
        self._shown_tune = tune
        self.preview.setPlainText(tune.text if tune is not None else "")
        self.send_button.setEnabled(tune is not None)

    def _on_tune_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            self._show_tune(self.tune_model.tune_at(current.row()))

    def _on_tune_double_clicked(self, index: QModelIndex) -> None:
        self.session.prompt = self.tune_model.tune_at(index.row()).text

    def _on_send_clicked(self) -> None:
        if self._shown_tune is not None:
            self.session.prompt = self._shown_tune.text

    # -- split -------------------------------------------------------------------------------

    def _on_split_edited(self) -> None:
        self.session.set_split(round(self.val_spin.value(), 4), self.seed_spin.value())

    def _on_session_split_changed(self, val_fraction: float, seed: int) -> None:
        for spin, value in ((self.val_spin, val_fraction), (self.seed_spin, seed)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
