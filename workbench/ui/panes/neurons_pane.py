"""The neuron viewer: run a tune (or, for an event model, a MIDI piece) through a model and
look at every unit over it.

Top: where the input comes from (the session's inspect requests, the editor's tune, a paste box;
for event models a MIDI or event file opened here, or a piece of the session's loaded MIDI data)
and the capture's progress with a Cancel button; the model is the session's checkpoint, or one
opened here, or the shipped default. Middle: the neurons x tokens heatmap with a layer /
hidden-cell selector and a neuron sort (index, variance, correlation with the selection).
Bottom: the selected neuron's colouring of the text (or of the events' labels, a bar a line)
with its activation curve, and on the right the hover readout, search results (a selected span
or a built-in probe), the neurons most active at the selected token and the model's top-10 next
tokens there.

What depends on the kind of capture (labels, readouts, probes) comes from its
:class:`~workbench.neurons.reading.Reading`, chosen once per capture. Clicking a heatmap cell
selects both its neuron (row) and its token (column). Capture runs on an
:class:`~workbench.ui.workers.activation_worker.ActivationWorker` thread.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from models.activation_store import PROBS, Activations
from workbench.neurons.export import export_csv
from workbench.neurons.piece_input import EVENT_FILE_PATTERNS, piece_file
from workbench.neurons.probes import (
    PROBES,
    ProbeError,
    rank_neurons,
    sort_units,
    span_mask,
)
from workbench.neurons.reading import Reading, reading_for
from workbench.session import Session
from workbench.ui.lifetimes import connect_session
from workbench.ui.widgets.heatmap_view import HeatmapView
from workbench.ui.widgets.neuron_text_view import NeuronTextView
from workbench.ui.widgets.scrolling import AdaptiveSplitter
from workbench.ui.workers.activation_worker import ActivationWorker
from workbench.ui.workers.checkpoint_check import CheckpointCheck

TOP_N = 10
SORTS = [
    ("index", "Sort: index"),
    ("variance", "Sort: variance"),
    ("correlation", "Sort: correlation with selection"),
]
METHOD_NAMES = {"cohen_d": "Cohen's d (mean difference / pooled std)", "pearson_r": "Pearson r"}


def _fill(widget: QListWidget, rows: list[tuple[str, int | None]]) -> None:
    """Show `rows` (text, unit) reusing the list's items: clearing and re-adding them relayouts
    the list, which cost more than the rest of a click."""
    while widget.count() > len(rows):
        widget.takeItem(widget.count() - 1)
    while widget.count() < len(rows):
        widget.addItem(QListWidgetItem())
    for i, (text, unit) in enumerate(rows):
        item = widget.item(i)
        item.setText(text)
        item.setData(Qt.ItemDataRole.UserRole, unit)


class NeuronsPane(QWidget):
    """Neuron viewer over the session's model and texts.

    ``status_reported(str)`` carries one-line messages for a status bar; ``captured`` fires when
    a capture is on display. Call :meth:`shutdown` before the application exits.
    """

    status_reported = Signal(str)
    captured = Signal()  # a capture finished and is on display
    checkpoint_checked = Signal(bool)  # a checkpoint chosen with Model… was taken (or refused)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NeuronsPane")
        self.session = session
        self.acts: Activations | None = None
        self.reading: Reading | None = None  # how the capture on display reads (its kind)
        self.keys: list[str] = []  # arrays shown (several when all layers are shown)
        self.matrix = np.zeros((0, 0), dtype=np.float32)  # (T, units) of `keys`
        self.order = np.zeros(0, dtype=int)  # display row -> unit
        self.row_of = np.zeros(0, dtype=int)  # unit -> display row
        self.selected_unit: int | None = None
        self.selected_char: int | None = None
        self.checkpoint_override: Path | None = None
        # What to run once the current capture ends: ("text", str) or ("midi", Path).
        self._pending: tuple[str, object] | None = None
        self._last_midi: Path | None = None  # the MIDI or event file last run, if it was one
        self._last_text = ""

        self.worker = ActivationWorker(self)
        self.worker.progressed.connect(self._on_worker_progressed)
        self.worker.captured.connect(self._on_worker_captured)
        self.worker.failed.connect(self._on_worker_failed)
        self.worker.cancelled.connect(self._on_worker_cancelled)
        self.worker.finished.connect(self._on_worker_finished)
        # A checkpoint picked with Model… is read off the GUI thread before it is used.
        self.checker = CheckpointCheck(self)
        self.checker.accepted.connect(self._on_checkpoint_accepted)
        self.checker.refused.connect(self._on_checkpoint_refused)

        self._build()
        connections = [
            (session.inspect_requested, self._on_session_inspect_requested),
            (session.checkpoint_changed, self._on_session_checkpoint_changed),
            (session.dataset_changed, self._on_session_dataset_changed),
        ]
        connect_session(self, connections)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._update_model_label()
        self._on_session_dataset_changed(session.dataset)

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)  # a long checkpoint name wraps, not widens the pane
        self.model_button = QPushButton("Model…")
        self.model_button.clicked.connect(self._on_model_clicked)
        self.editor_button = QPushButton("Inspect editor tune")
        self.editor_button.clicked.connect(self._on_editor_clicked)
        self.paste_button = QPushButton("Paste text…")
        self.paste_button.setCheckable(True)
        self.midi_button = QPushButton("Open MIDI…")
        self.midi_button.setToolTip(
            "Run a MIDI file (or a generated piece's .events.txt) through an event model, "
            "encoded as the model's training data was"
        )
        self.midi_button.clicked.connect(self._on_midi_clicked)
        # The session's loaded MIDI pieces, when it holds some.
        self.piece_combo = QComboBox()
        self.piece_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.piece_combo.setMaximumWidth(200)
        self.piece_button = QPushButton("Inspect piece")
        self.piece_button.clicked.connect(self._on_piece_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.worker.cancel)
        for w in (
            self.model_label,
            self.model_button,
            self.editor_button,
            self.paste_button,
            self.midi_button,
            self.piece_combo,
            self.piece_button,
        ):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        layout.addLayout(top)

        self.paste_box = QWidget()
        paste = QHBoxLayout(self.paste_box)
        paste.setContentsMargins(0, 0, 0, 0)
        self.paste_edit = QPlainTextEdit()
        self.paste_edit.setPlaceholderText("Paste ABC text to run through the model")
        self.paste_edit.setMaximumHeight(90)
        self.run_paste_button = QPushButton("Run")
        self.run_paste_button.clicked.connect(lambda: self.inspect(self.paste_edit.toPlainText()))
        paste.addWidget(self.paste_edit, 1)
        paste.addWidget(self.run_paste_button)
        self.paste_box.setVisible(False)
        self.paste_button.toggled.connect(self.paste_box.setVisible)
        layout.addWidget(self.paste_box)

        controls = QHBoxLayout()
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.sort_combo = QComboBox()
        for key, label in SORTS:
            self.sort_combo.addItem(label, key)
        self.sort_combo.currentIndexChanged.connect(lambda _: self._apply_sort())
        self.probe_combo = QComboBox()
        self._fill_probes(PROBES)
        # Compact combos (their lists still show whole names): sized to their longest item,
        # this row needed 732 px, more than the research tabs' column on a 1366-px screen.
        for combo in (self.sort_combo, self.probe_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        self.probe_button = QPushButton("Rank neurons")
        self.probe_button.clicked.connect(self._on_probe_clicked)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for label, method, pattern in (
            ("Heatmap as PNG…", self.export_heatmap_png, "PNG image (*.png)"),
            ("Heatmap as SVG…", self.export_heatmap_svg, "SVG image (*.svg)"),
            ("Neuron text as HTML…", self.export_text_html, "HTML (*.html)"),
            ("Neuron text as PNG…", self.export_text_png, "PNG image (*.png)"),
            ("Activations as .npz…", self.export_npz, "NumPy archive (*.npz)"),
            ("Activations as .csv…", self.export_csv, "CSV (*.csv)"),
        ):
            menu.addAction(label, functools.partial(self._export_via_dialog, method, pattern))
        self.export_button.setMenu(menu)
        for w in (self.layer_combo, self.sort_combo, QLabel("Probe:"), self.probe_combo):
            controls.addWidget(w)
        controls.addWidget(self.probe_button)
        controls.addStretch(1)
        controls.addWidget(self.export_button)
        layout.addLayout(controls)

        self.heatmap = HeatmapView()
        self.heatmap.hovered.connect(self._on_heatmap_hovered)
        self.heatmap.clicked.connect(self._on_heatmap_clicked)

        self.text_view = NeuronTextView()
        self.text_view.char_clicked.connect(self.select_char)
        self.text_view.char_hovered.connect(self._on_text_hovered)
        self.text_view.span_selected.connect(self.search_span)
        self.text_scroll = QScrollArea()
        self.text_scroll.setWidget(self.text_view)
        self.curve_plot = pg.PlotWidget(background="w")
        self.curve_plot.setLabel("bottom", "character")
        self.curve = self.curve_plot.plot(
            pen=pg.mkPen((178, 24, 43), width=1), skipFiniteCheck=True
        )
        # Fixed ranges (set per layer): autoranging on every new neuron would regenerate the
        # axes' ticks and relayout the plot on each click.
        self.curve_plot.disableAutoRange()
        self.curve_plot.setMouseEnabled(x=True, y=False)
        self.curve_marker = pg.InfiniteLine(angle=90, pen=pg.mkPen((20, 20, 20)))
        self.curve_marker.setVisible(False)
        self.curve_plot.addItem(self.curve_marker, ignoreBounds=True)
        self.curve_label = QLabel()
        self.curve_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.curve_label.setAutoFillBackground(True)
        curve_box = QWidget()
        curve_layout = QVBoxLayout(curve_box)
        curve_layout.setContentsMargins(0, 0, 0, 0)
        curve_layout.addWidget(self.curve_label)
        curve_layout.addWidget(self.curve_plot, 1)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.text_scroll)
        left.addWidget(curve_box)
        left.setSizes([300, 150])

        right = QWidget()
        side = QVBoxLayout(right)
        side.setContentsMargins(0, 0, 0, 0)
        self.readout = QLabel("Hover over the heatmap")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results_label = QLabel("Search: drag over the text, or rank by a probe")
        self.results_label.setWordWrap(True)
        self.results_list = QListWidget()
        self.results_list.itemClicked.connect(self._on_unit_item_clicked)
        self.top_label = QLabel("Most active neurons here")
        self.top_list = QListWidget()
        self.top_list.itemClicked.connect(self._on_unit_item_clicked)
        self.next_label = QLabel("Next character (top 10)")
        self.next_list = QListWidget()
        # Labels whose text changes on every hover or click must not resize (a new size hint
        # relayouts the splitters and repaints the heatmap: measured 5 ms -> 25 ms a hover), and
        # must paint their own background (a transparent label repaints every widget beneath).
        for label in (self.readout, self.results_label, self.top_label, self.next_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            label.setFixedHeight(label.sizeHint().height() * (2 if label.wordWrap() else 1))
            label.setAutoFillBackground(True)
        for w in (self.readout, self.results_label, self.results_list, self.top_label):
            side.addWidget(w)
        side.addWidget(self.top_list)
        side.addWidget(self.next_label)
        side.addWidget(self.next_list)

        bottom = AdaptiveSplitter()
        bottom.addWidget(left)
        bottom.addWidget(right)
        bottom.setSizes([900, 300])
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(self.heatmap)
        main.addWidget(bottom)
        main.setSizes([450, 450])
        layout.addWidget(main, 1)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

    # -- model and text ------------------------------------------------------------------------

    def checkpoint_path(self) -> Path | None:
        """The model used: one opened here, else the session's, else the shipped default."""
        if self.checkpoint_override is not None:
            return self.checkpoint_override
        if self.session.checkpoint is not None:
            return Path(self.session.checkpoint)
        from models.pretrained import default_checkpoint

        return default_checkpoint()

    def _update_model_label(self) -> None:
        path = self.checkpoint_path()
        self.model_label.setText(f"Model: {path.name}" if path else "Model: none")
        self.model_label.setToolTip(str(path) if path else "")

    def inspect(self, text: str) -> None:
        """Run `text` through the model (after any capture now running) and show it."""
        if not text.strip():
            self._report("nothing to inspect: the text is empty")
            return
        self._run(("text", text))

    def inspect_midi(self, path: str | Path) -> None:
        """Run a MIDI file (or an event text file) through the model, an event model, encoded
        with the model's own settings."""
        self._run(("midi", Path(path)))

    def _run(self, job: tuple[str, object]) -> None:
        path = self.checkpoint_path()
        if path is None:
            self._report("no model to inspect with: choose a checkpoint (Model…) or train one")
            return
        kind, what = job
        self._last_text = what if kind == "text" else ""
        self._last_midi = what if kind == "midi" else None
        if self.worker.is_running():
            self._pending = job
            self.worker.cancel()
            return
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        if kind == "text":
            self._report(f"running {len(what)} characters through {path.name}…")
            self.worker.start(path, what)
        else:
            self._report(f"running {what.name} through {path.name}…")
            self.worker.start(path, midi=what)

    def _rerun_last(self) -> None:
        if self._last_midi is not None:
            self.inspect_midi(self._last_midi)
        elif self._last_text:
            self.inspect(self._last_text)

    def shutdown(self) -> None:
        self.checker.shutdown()
        self.worker.shutdown()

    def _on_session_inspect_requested(self, text: str) -> None:
        self.inspect(text)

    def _on_session_checkpoint_changed(self, _path: object) -> None:
        self._update_model_label()
        if self.checkpoint_override is None:
            self._rerun_last()

    def _on_session_dataset_changed(self, dataset: object) -> None:
        # MIDI data (a MidiLoadResult) has pieces; ABC data has tunes, which the editor holds.
        pieces = list(getattr(dataset, "pieces", None) or [])
        self.piece_combo.clear()
        for piece in pieces:
            self.piece_combo.addItem(Path(piece.source).name or piece.source, piece)
            self.piece_combo.setItemData(
                self.piece_combo.count() - 1, piece.source, Qt.ItemDataRole.ToolTipRole
            )
        self.piece_combo.setVisible(bool(pieces))
        self.piece_button.setVisible(bool(pieces))

    def _on_piece_clicked(self) -> None:
        piece = self.piece_combo.currentData()
        if piece is None:
            return
        # Read again from its file with the model's own encoding; the text as loaded when the
        # file is gone (it may then be of another encoding: the worker says so).
        source = piece_file(piece)
        if source is not None:
            self.inspect_midi(source)
        else:
            self.inspect(piece.text)

    def _on_editor_clicked(self) -> None:
        self.inspect(self.session.editor_tune)

    def _on_midi_clicked(self) -> None:
        patterns = " ".join(EVENT_FILE_PATTERNS)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a MIDI file", "", f"MIDI or event files ({patterns});;All files (*)"
        )
        if path:
            self.inspect_midi(path)

    def _on_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a checkpoint", "", "Checkpoints (*.pt);;All files (*)"
        )
        if path:
            self.use_checkpoint(Path(path))

    def use_checkpoint(self, path: Path) -> None:
        """Inspect with the checkpoint at `path` from now on (as Model… does), once it has been
        read on a worker thread (`checkpoint_checked` follows). A file that is not one is
        refused with a message naming it, and the model in use stays."""
        self._report(f"Reading {Path(path).name}…")
        self.checker.check(Path(path))

    def _on_checkpoint_accepted(self, path: Path, _description: str) -> None:
        self.checkpoint_override = Path(path)
        self._update_model_label()
        self._report(f"Inspecting with {Path(path).name}")
        self.checkpoint_checked.emit(True)
        self._rerun_last()

    def _on_checkpoint_refused(self, _path: Path, message: str) -> None:
        kept = self.checkpoint_path()
        self._report(f"Cannot use {message}; still using {kept.name if kept else 'no model'}")
        self.checkpoint_checked.emit(False)

    def _on_worker_progressed(self, fraction: float, what: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.progress.setFormat(f"{what} %p%")

    def _on_worker_captured(self, acts: Activations, description: str) -> None:
        self.set_activations(acts)
        self._report(f"{len(acts)} {self.reading.unit_noun}s through {description}")
        self.captured.emit()

    def _on_worker_failed(self, message: str) -> None:
        self._report(message)

    def _on_worker_cancelled(self) -> None:
        if self._pending is None:
            self._report("capture cancelled")

    def _on_worker_finished(self) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        pending, self._pending = self._pending, None
        if pending is not None:
            self._run(pending)

    def _report(self, message: str) -> None:
        self.status_label.setText(message)
        self.status_reported.emit(message)

    # -- display ------------------------------------------------------------------------------

    def set_activations(self, acts: Activations) -> None:
        """Show captured (or loaded) activations."""
        self.acts = acts
        self.reading = reading = reading_for(acts)
        self.selected_unit = self.selected_char = None
        if reading.kind == "events":
            self.text_view.set_tokens(reading.labels, reading.line_breaks)
        else:
            self.text_view.set_text(acts.text)
        self.curve_plot.setLabel("bottom", reading.unit_noun)
        self.next_label.setText(f"Next {reading.unit_noun} (top {TOP_N})")
        if reading.probes is not self._probes:
            self._fill_probes(reading.probes)
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        keys = acts.state_keys()
        for key in keys:
            layer, kind = key.split(".")
            self.layer_combo.addItem(f"{layer.replace('layer', 'layer ')} {kind}", [key])
        hidden = [k for k in keys if k.endswith(".hidden")]
        if len(hidden) > 1:
            self.layer_combo.addItem("all layers hidden", hidden)
        self.layer_combo.blockSignals(False)
        for lst in (self.results_list, self.top_list, self.next_list):
            lst.clear()
        self._on_layer_changed()

    def _on_layer_changed(self, *_: object) -> None:
        if self.acts is None or self.layer_combo.currentIndex() < 0:
            return
        self.keys = list(self.layer_combo.currentData())
        blocks = [self.acts[k] for k in self.keys]
        self.matrix = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
        self.selected_unit = None
        self.results_list.clear()
        self._apply_sort(keep_view=False)
        limit = float(np.abs(self.matrix).max()) or 1.0
        self.curve_plot.setRange(xRange=(0, len(self.acts)), yRange=(-limit, limit), padding=0.02)
        self.select_neuron(int(self.order[0]))

    def _apply_sort(self, keep_view: bool = True) -> None:
        if self.acts is None or not self.matrix.size:
            return
        by = self.sort_combo.currentData()
        reference = None
        if by == "correlation":
            span = self.text_view.selection()
            if span is not None:
                reference = span_mask(len(self.acts), *span)
            elif self.selected_unit is not None:
                reference = self.matrix[:, self.selected_unit]
        try:
            self.order = sort_units(self.matrix, by, reference)
        except ProbeError as error:
            self._report(str(error))
            self.order = np.arange(self.matrix.shape[1])
        self.row_of = np.empty_like(self.order)
        self.row_of[self.order] = np.arange(len(self.order))
        self.heatmap.set_data(
            self.matrix[:, self.order],
            self.reading.labels,
            self.order,
            keep_view=keep_view,
            noun=self.reading.unit_noun,
        )
        self._update_cursor()

    def _update_cursor(self) -> None:
        row = int(self.row_of[self.selected_unit]) if self.selected_unit is not None else None
        self.heatmap.set_cursor(self.selected_char, row)

    def unit_name(self, unit: int) -> str:
        """`layer0.hidden #12` for a unit of the shown matrix."""
        for key in self.keys:
            width = self.acts[key].shape[1]
            if unit < width:
                return f"{key} #{unit}"
            unit -= width
        return f"#{unit}"

    def select_neuron(self, unit: int) -> None:
        """Colour the text by `unit` (of the shown matrix) and plot its curve."""
        if self.acts is None or not 0 <= unit < self.matrix.shape[1]:
            return
        self.selected_unit = unit
        values = self.matrix[:, unit]
        self.text_view.set_values(values, title=self.unit_name(unit))
        self.curve.setData(values)
        self.curve_label.setText(f"Activation of {self.unit_name(unit)}")
        self._update_cursor()

    def select_char(self, position: int) -> None:
        """Show the most active neurons at `position` and the model's next-token top 10."""
        if self.acts is None or not 0 <= position < len(self.acts):
            return
        self.selected_char = position
        self.text_view.mark(position)
        self.curve_marker.setValue(position)
        self.curve_marker.setVisible(True)
        self._update_cursor()
        column = self.matrix[position]
        reading = self.reading
        label = reading.labels[position]
        self.top_label.setText(f"Most active neurons at {label!r} (position {position})")
        self.top_label.setToolTip(reading.describe(position))
        # argpartition then a sort of the few: a full argsort of 1,024 units costs more.
        top = np.argpartition(-np.abs(column), min(TOP_N, len(column) - 1))[:TOP_N]
        top = top[np.argsort(-np.abs(column[top]), kind="stable")]
        _fill(self.top_list, [(f"{self.unit_name(int(u))}: {column[u]:+.3f}", int(u)) for u in top])
        probs = self.acts[PROBS][position]
        self.next_label.setText(f"Next {reading.unit_noun} after {label!r} (top {TOP_N})")
        best = np.argsort(-probs, kind="stable")[:TOP_N]
        vocab = self.acts.vocab
        _fill(
            self.next_list,
            [(f"{reading.vocab_label(vocab[i], position)}  {probs[i]:.1%}", None) for i in best],
        )

    def _on_heatmap_hovered(self, col: int, row: int) -> None:
        if col < 0 or self.acts is None:
            return
        unit = int(self.order[row])
        value = float(self.matrix[col, unit])
        where = self.reading.describe(col)
        self.readout.setText(f"{where} · neuron {self.unit_name(unit)} · {value:+.4f}")

    def _on_text_hovered(self, position: int) -> None:
        if position < 0 or self.acts is None or self.selected_unit is None:
            return
        value = float(self.matrix[position, self.selected_unit])
        where = self.reading.describe(position)
        self.readout.setText(
            f"{where} · neuron {self.unit_name(self.selected_unit)} · {value:+.4f}"
        )

    def _on_heatmap_clicked(self, col: int, row: int) -> None:
        self.select_neuron(int(self.order[row]))
        self.select_char(col)

    def _on_unit_item_clicked(self, item: QListWidgetItem) -> None:
        unit = item.data(Qt.ItemDataRole.UserRole)
        if unit is not None:
            self.select_neuron(int(unit))

    # -- search -------------------------------------------------------------------------------

    def search_span(self, start: int, end: int) -> None:
        """Rank neurons by how well they separate text[start:end] from the rest."""
        if self.acts is None:
            return
        self.text_view.set_selection(start, end)
        shown = self.reading.span_text(start, end)
        try:
            ranking = rank_neurons(self.matrix, span_mask(len(self.acts), start, end), binary=True)
        except ProbeError as error:
            self._report(str(error))
            return
        self._show_ranking(ranking, f"span {start}–{end} {shown!r}")
        if self.sort_combo.currentData() == "correlation":
            self._apply_sort()

    def _fill_probes(self, probes: dict) -> None:
        """Offer the probes of the capture's kind (ABC text's, or music's for events)."""
        self._probes = probes
        self.probe_combo.clear()
        for name, probe in probes.items():
            self.probe_combo.addItem(probe.label, name)

    def _on_probe_clicked(self) -> None:
        if self.acts is None:
            return
        name = self.probe_combo.currentData()
        label = self.reading.probes[name].label
        try:
            ranking = self.reading.rank(name, self.matrix)
        except ProbeError as error:
            self._report(f"{label}: {error}")
            return
        self._show_ranking(ranking, label)

    def _show_ranking(self, ranking, what: str) -> None:
        self.results_label.setText(f"{what}: ranked by |{METHOD_NAMES[ranking.method]}|")
        self.results_list.clear()
        symbol = "d" if ranking.method == "cohen_d" else "r"
        for unit, score in ranking.top(TOP_N):
            item = QListWidgetItem(f"{self.unit_name(unit)}: {symbol} = {score:+.2f}")
            item.setData(Qt.ItemDataRole.UserRole, unit)
            self.results_list.addItem(item)
        self.select_neuron(int(ranking.order[0]))

    # -- export -------------------------------------------------------------------------------

    def _export_via_dialog(self, method, pattern: str) -> None:
        if self.acts is None:
            self._report("nothing to export yet")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export", "", pattern)
        if path:
            try:
                method(Path(path))
            except OSError as error:
                self._report(f"{path}: {error.strerror or error}")
            else:
                self._report(f"wrote {path}")

    def export_heatmap_png(self, path: Path) -> None:
        if not self.heatmap.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def export_heatmap_svg(self, path: Path) -> None:
        # pyqtgraph 0.14's SVGExporter fails on the path data Qt 6.11's SVG generator writes
        # (ValueError unpacking "x,y" pairs), so the scene is rendered into QSvgGenerator
        # directly: axes, labels and colour bar as vectors, the heatmap as an embedded image.
        from PySide6.QtCore import QRectF, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        source = self.heatmap.scene().sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(int(source.width()), int(source.height())))
        generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
        generator.setTitle("neuron heatmap")
        painter = QPainter()
        if not painter.begin(generator):
            raise OSError(f"could not write {path}")
        try:
            self.heatmap.scene().render(
                painter, QRectF(0, 0, source.width(), source.height()), source
            )
        finally:
            painter.end()

    def export_text_html(self, path: Path) -> None:
        Path(path).write_text(self.text_view.to_html(), encoding="utf-8")

    def export_text_png(self, path: Path) -> None:
        if not self.text_view.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def export_npz(self, path: Path) -> None:
        self.acts.save_npz(path)

    def export_csv(self, path: Path) -> None:
        export_csv(path, self.acts)
