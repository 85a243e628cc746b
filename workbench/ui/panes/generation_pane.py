"""The generation pane: choose a model and a prompt, set the sampling knobs, generate, stream.

The chosen model is the session's checkpoint (the training pane and run history set it too);
it is loaded on a worker thread and described in one line. The prompt comes from the editor's
tune, its selection, or nothing, with the key and meter dropdowns written into its header where
it has no `K:` / `M:` of its own (a note says when a dropdown is not applied); a read-only
preview shows exactly what the model will continue. Sending a result to the editor does not
change the prompt: it stays as it was until the editor's tune is edited or the source is
chosen again. Generate samples on a worker thread and streams the characters into the live
view in batches; Stop ends it at once and keeps what was sampled, and the progress bar then
says how it ended. Finished tunes go to the results list below; quitting with tunes that are
not saved (exported or sent to the editor) asks first (`confirm_close`). The knobs persist in
QSettings.

With a MIDI event model the pane follows the model's kind in one place (`_apply_kind`): the
prompt is the opening of a loaded piece or of any MIDI file (`EventPromptWidget`), the length
is in events, the streaming variation is drawn as a piano roll instead of text, and the
ABC-only controls (key, meter, meter-aware decoding) are hidden or disabled with a tooltip
saying why. Argmax (the reports' mode) samples the most likely token at every step.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import (
    QFontDatabase,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QShowEvent,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from models.pretrained import default_checkpoint
from workbench.generation import KEYS, METERS, GeneratedTune, piece_tune, plan_prompt
from workbench.midi_data.reader import MidiLoadResult
from workbench.midi_data.stats import preview_text
from workbench.notation.provenance import drop_provenance
from workbench.runs import default_runs_root
from workbench.session import Session
from workbench.ui.lifetimes import connect_session
from workbench.ui.panes.editor_pane import tune_spans
from workbench.ui.settings_values import read_string
from workbench.ui.widgets.event_prompt import EventPromptWidget
from workbench.ui.widgets.generation_results import GenerationResults
from workbench.ui.widgets.model_chooser import ModelChooser
from workbench.ui.widgets.piano_roll import PianoRollWidget
from workbench.ui.widgets.sampling_knobs import ABC_ONLY, SamplingKnobs
from workbench.ui.widgets.scrolling import VerticalScrollArea
from workbench.ui.workers.generation_worker import (
    GenerationOutcome,
    GenerationRunner,
    LoadedModel,
    ModelLoader,
    StreamChunk,
    piece_settings,
)

KEEP = "— keep —"
SOURCES = (("tune", "Editor tune"), ("selection", "Editor selection"), ("empty", "Empty"))
RESULTS_ROOM = 300  # pixels the results list keeps before the settings get their full height
_AUTO = object()  # "the shipped model, if this build has one"


class GenerationPane(QWidget):
    """Sampling from a chosen checkpoint with streamed output and a results list."""

    generation_started = Signal()
    # The outcome of each generation (stopped or not), after the results list has its tunes.
    generation_finished = Signal(object)  # GenerationOutcome
    first_char_shown = Signal(float)  # seconds from Generate to the first character on screen

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        runs_root: Path | None = None,
        settings: QSettings | None = None,
        default_model: Path | object | None = _AUTO,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings or QSettings()
        default = default_checkpoint() if default_model is _AUTO else default_model
        self.loaded: LoadedModel | None = None
        self._good_model: Path | None = None  # the last checkpoint that loaded
        self.last_outcome: GenerationOutcome | None = None
        self.last_seed: int | None = None
        self.first_char_latency: float | None = None
        self._t0 = 0.0
        self._live: list[str] = []  # generated text per variation of the running batch
        self._live_shown: str | None = None  # what the live view shows of the watched one
        self._prompt_used = ""
        self._max_chars = 1
        # After Send to editor: (the editor tunes that mean "still the sent tune", the prompt
        # source text from before), so the prompt does not become the sent tune.
        self._pinned: tuple[set[str], str] | None = None
        self._prompt_notes: list[str] = []
        self._kind = "chars"  # what the loaded model writes: "chars" (ABC) or "events" (MIDI)
        self._pieces: list = []  # the last batch's GeneratedPiece results, for the roll

        self.loader = ModelLoader(self)
        self.runner = GenerationRunner(self)

        # -- model
        self.chooser = ModelChooser(
            Path(runs_root) if runs_root else default_runs_root(), default, self
        )
        self.model_label = QLabel("No model chosen")
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        model_layout.addWidget(self.chooser)
        model_layout.addWidget(self.model_label)

        # -- prompt
        self.source_combo = QComboBox()
        for key, label in SOURCES:
            self.source_combo.addItem(label, key)
        self.key_combo = QComboBox()
        self.key_combo.addItem(KEEP, None)
        for key in KEYS:
            self.key_combo.addItem(key, key)
        self.meter_combo = QComboBox()
        self.meter_combo.addItem(KEEP, None)
        for meter in METERS:
            self.meter_combo.addItem(meter, meter)
        self.prompt_preview = QPlainTextEdit()
        self.prompt_preview.setReadOnly(True)
        self.prompt_preview.setPlaceholderText("(empty prompt: the model starts a tune itself)")
        self.prompt_preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.prompt_preview.setMaximumHeight(90)
        self.prompt_note = QLabel()
        self.prompt_note.setWordWrap(True)
        self.prompt_note.setStyleSheet("color: #b45309;")
        self.prompt_note.hide()
        self.follow_editor_button = QPushButton("Prompt from the editor now")
        self.follow_editor_button.setToolTip("Take the prompt from the editor's tune as it is now")
        self.follow_editor_button.hide()
        self.event_prompt = EventPromptWidget(self.settings)
        prompt_box = QGroupBox("Prompt")
        self.prompt_form = prompt_form = QFormLayout(prompt_box)
        self.abc_prompt_row = QWidget()
        row = QHBoxLayout(self.abc_prompt_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.source_combo)
        row.addWidget(QLabel("Key"))
        row.addWidget(self.key_combo)
        row.addWidget(QLabel("Meter"))
        row.addWidget(self.meter_combo)
        row.addStretch(1)
        prompt_form.addRow("From", self.abc_prompt_row)
        prompt_form.addRow("From", self.event_prompt)
        prompt_form.addRow("Prompt", self.prompt_preview)
        note_row = QHBoxLayout()
        note_row.addWidget(self.prompt_note, 1)
        note_row.addWidget(self.follow_editor_button)
        prompt_form.addRow("", note_row)

        # -- sampling knobs (the pane's names for them are the knobs' own)
        self.knobs = SamplingKnobs(self.settings)
        knobs_box = self.knobs
        for name in (
            "temp_slider",
            "temp_label",
            "top_k_spin",
            "top_p_spin",
            "length_spin",
            "num_spin",
            "seed_spin",
            "random_seed_check",
            "seed_used_label",
            "meter_aware_check",
            "argmax_check",
            "end_early_check",
        ):
            setattr(self, name, getattr(self.knobs, name))

        # -- run
        self.generate_button = QPushButton("Generate")
        self.generate_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m chars")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.watch_spin = QSpinBox()
        self.watch_spin.setRange(1, 1)
        self.watch_spin.setPrefix("Watching variation ")
        self.live_view = QPlainTextEdit()
        self.live_view.setReadOnly(True)
        self.live_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.live_view.setPlaceholderText("Generated text appears here as it is sampled")
        run_row = QHBoxLayout()
        run_row.addWidget(self.generate_button)
        run_row.addWidget(self.stop_button)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.watch_spin)
        # An event model's variation streams as notes on a piano roll (its events are text a
        # musician cannot read); a char model's as text.
        self.live_roll = PianoRollWidget()
        self.live_roll.setMinimumHeight(48)
        self.live_stack = QStackedWidget()
        self.live_stack.addWidget(self.live_view)
        self.live_stack.addWidget(self.live_roll)

        self.results = GenerationResults(session, self, settings=self.settings)

        # The settings scroll by themselves, so that in a short dock (a 1366 x 768 screen) the
        # run row, the live view and the results' buttons stay in sight.
        settings_column = QWidget()
        settings_layout = QVBoxLayout(settings_column)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(model_box)
        settings_layout.addWidget(prompt_box)
        settings_layout.addWidget(knobs_box)
        settings_layout.addStretch(1)
        self.settings_scroll = VerticalScrollArea(settings_column, minimum_height=120)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(run_row)
        top_layout.addWidget(self.status_label)
        top_layout.addWidget(self.live_stack, 1)
        self.live_view.setMinimumHeight(48)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.settings_scroll)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.results)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        # The pane shares its height out (`_share_height`) until the user drags a handle.
        self._split_by_user = False
        self.splitter.splitterMoved.connect(self._on_splitter_moved)

        self._restore_settings()
        self._wire()
        if session.checkpoint is not None:
            self._on_session_checkpoint_changed(session.checkpoint)
        elif default is not None:
            session.checkpoint = default  # the shipped model, ready to use
        self._apply_kind(self._kind)
        self._on_session_dataset_changed(session.dataset)
        self._update_prompt_preview()
        self._update_controls()

    # -- layout ----------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)  # the layout has resized the splitter already
        if not self._split_by_user:
            self._share_height()

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._split_by_user = True

    def _share_height(self) -> None:
        """Settings, live view and results: the live view gets a strip (it matters while
        sampling); the settings their full height when the results still get RESULTS_ROOM,
        else a share, and they scroll."""
        settings, live, results = (self.splitter.widget(i) for i in range(3))
        minimum = [
            w.minimumSizeHint().expandedTo(w.minimumSize()).height()
            for w in (settings, live, results)
        ]
        room = self.splitter.height() - 2 * self.splitter.handleWidth()
        # A piano roll needs more height than streaming text to show its pitches apart.
        share, cap = (0.28, 320) if self._kind == "events" else (0.15, 180)
        live_h = max(minimum[1], min(round(room * share), cap))
        rest = room - live_h
        full = settings.sizeHint().height()
        if rest - full >= max(minimum[2], RESULTS_ROOM):
            settings_h = full
        else:
            settings_h = max(minimum[0], min(full, round(rest * 0.45)))
        results_h = rest - settings_h
        if results_h < minimum[2]:
            settings_h = max(minimum[0], settings_h - (minimum[2] - results_h))
            results_h = rest - settings_h
        self.splitter.setSizes([settings_h, live_h, results_h])

    # -- wiring and settings ---------------------------------------------------------------

    def _wire(self) -> None:
        self.chooser.model_chosen.connect(self._on_chooser_model_chosen)
        self.session.checkpoint_changed.connect(self._on_session_checkpoint_changed)
        self.session.editor_tune_changed.connect(self._on_session_editor_tune_changed)
        self.loader.loading.connect(self._on_loader_loading)
        self.loader.loaded.connect(self._on_loader_loaded)
        self.loader.failed.connect(self._on_loader_failed)
        self.runner.streamed.connect(self._on_runner_streamed)
        self.runner.completed.connect(self._on_runner_completed)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.finished.connect(self._on_runner_finished)
        connect_session(self, [(self.session.dataset_changed, self._on_session_dataset_changed)])
        self.event_prompt.prompt_changed.connect(self._on_event_prompt_changed)
        self.source_combo.currentIndexChanged.connect(self._on_prompt_setting_changed)
        self.source_combo.activated.connect(self._unpin_prompt)  # chosen again: follow it
        self.follow_editor_button.clicked.connect(self._unpin_prompt)
        self.results.sent_to_editor.connect(self._on_results_sent_to_editor)
        self.key_combo.currentIndexChanged.connect(self._on_prompt_setting_changed)
        self.meter_combo.currentIndexChanged.connect(self._on_prompt_setting_changed)
        self.watch_spin.valueChanged.connect(self._on_watch_changed)
        self.generate_button.clicked.connect(self.generate)
        self.stop_button.clicked.connect(self.stop)
        # Shortcuts press the buttons, so a disabled button ignores them too.
        generate_key = QShortcut(QKeySequence("Ctrl+Return"), self)
        generate_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        generate_key.activated.connect(self.generate_button.click)
        stop_key = QShortcut(QKeySequence("Ctrl+."), self)
        stop_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop_key.activated.connect(self.stop_button.click)
        self.generate_button.setToolTip("Generate (Ctrl+Enter)")
        self.stop_button.setToolTip("Stop now, keeping what was generated (Ctrl+.)")

    def _restore_settings(self) -> None:
        """The prompt's settings (the knobs restore their own)."""
        s = self.settings
        for combo, name in (
            (self.source_combo, "source"),
            (self.key_combo, "key"),
            (self.meter_combo, "meter"),
        ):
            index = combo.findData(read_string(s, "generation/" + name, ""))
            if index >= 0:
                combo.setCurrentIndex(index)

    def _save_settings(self) -> None:
        s = self.settings
        s.beginGroup("generation")
        s.setValue("source", self.source_combo.currentData())
        s.setValue("key", self.key_combo.currentData() or "")
        s.setValue("meter", self.meter_combo.currentData() or "")
        s.endGroup()

    # -- model -----------------------------------------------------------------------------

    def _on_chooser_model_chosen(self, path: Path) -> None:
        if path == self.session.checkpoint:
            self.loader.load(path)  # chosen again: reload if the file changed
        else:
            self.session.checkpoint = path

    def _on_session_checkpoint_changed(self, path: Path | None) -> None:
        self.chooser.set_current(path)
        if path is None:
            self.loaded = None
            self.model_label.setText("No model chosen")
            self._update_controls()
        else:
            self.loader.load(Path(path))

    def _on_loader_loading(self, path: Path) -> None:
        self.loaded = None
        self.model_label.setText(f"Loading {path.name}…")
        self._update_controls()

    def _on_loader_loaded(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self._good_model = Path(loaded.path)
        self.model_label.setText(f"{loaded.description}\n{loaded.path}")
        self.model_label.setStyleSheet("")
        self._apply_kind(loaded.kind)
        self._update_controls()

    def _apply_kind(self, kind: str) -> None:
        """Show the controls of a model that writes `kind` ("chars" or "events"): the one
        place where the pane follows the model's kind."""
        self._kind = kind
        self.knobs.set_kind(kind)
        self.results.set_model_kind(kind)
        events = kind == "events"
        self.prompt_form.setRowVisible(self.abc_prompt_row, not events)
        self.prompt_form.setRowVisible(self.event_prompt, events)
        for combo in (self.key_combo, self.meter_combo):
            combo.setToolTip(ABC_ONLY if events else "")
        self.live_stack.setCurrentWidget(self.live_roll if events else self.live_view)
        if not self._split_by_user and self.isVisible():
            self._share_height()
        self.prompt_preview.setPlaceholderText(
            "(empty prompt: the model begins a piece of its own)"
            if events
            else "(empty prompt: the model starts a tune itself)"
        )
        settings = self.loaded.tokenizer.settings if events and self.loaded else None
        self.event_prompt.set_model_settings(settings)
        self._update_prompt_preview()

    def model_kind(self) -> str:
        """What the chosen model writes: "chars" (ABC) or "events" (MIDI)."""
        return self._kind

    def _on_session_dataset_changed(self, result: object) -> None:
        if isinstance(result, MidiLoadResult):
            self.event_prompt.set_pieces(result.pieces, result.settings)
        else:
            self.event_prompt.set_pieces([], {})

    def _on_event_prompt_changed(self) -> None:
        if self._kind == "events":
            self._update_prompt_preview()
            self._update_controls()

    def _on_loader_failed(self, path: Path, message: str) -> None:
        keep = self._good_model
        if keep is not None and keep != Path(path) and self.session.checkpoint == path:
            # A file that is no checkpoint must not cost the user the model they had: choose
            # it again (the loader hands it back from its cache).
            self.session.checkpoint = keep
            self.model_label.setText(f"Cannot use this model: {message}\nStill using {keep}")
            self.model_label.setStyleSheet("color: #b00020;")
            return
        self.loaded = None
        self.model_label.setText(f"Cannot use this model: {message}")
        self.model_label.setStyleSheet("color: #b00020;")
        self._update_controls()

    # -- prompt ----------------------------------------------------------------------------

    def prompt_source_text(self) -> str:
        source = self.source_combo.currentData()
        if source == "empty":
            return ""
        if self._pinned is not None:
            return self._pinned[1]
        if source == "tune":
            return self.session.editor_tune
        if source == "selection":
            return self.session.editor_selection
        return ""

    def prompt(self) -> str:
        """The exact text sampling will continue."""
        if self._kind == "events":
            return self._event_prompt_text()
        text, self._prompt_notes = plan_prompt(
            self.prompt_source_text(),
            key=self.key_combo.currentData(),
            meter=self.meter_combo.currentData(),
        )
        return text

    def prompt_is_pinned(self) -> bool:
        """Whether the prompt is held as it was before a result was sent to the editor."""
        return self._pinned is not None

    def _event_prompt_text(self) -> str:
        """An event model's prompt ("" while it is read: Generate waits), with its notes."""
        text = self.event_prompt.prompt()
        notes = [self.event_prompt.error() or self.event_prompt.description()]
        if text and self.loaded is not None:
            unknown = self.loaded.tokenizer.unknown_chars([text])
            if unknown:
                notes.append(
                    f"{len(unknown)} event(s) of the prompt the model never saw are read as "
                    f"<unk>: {' '.join(sorted(unknown)[:5])}"
                )
        self._prompt_notes = [n for n in notes if n]
        return text or ""

    def _update_prompt_preview(self) -> None:
        prompt = self.prompt()
        self.prompt_preview.setPlainText(preview_text(prompt) if self._kind == "events" else prompt)
        notes = list(self._prompt_notes)
        if self._pinned is not None:
            notes.insert(
                0,
                "The prompt is as it was before Send to editor; it follows the editor again "
                "once the tune there is edited.",
            )
        self.prompt_note.setText("\n".join(notes))
        self.prompt_note.setVisible(bool(notes))
        self.follow_editor_button.setVisible(self._pinned is not None)

    def _on_prompt_setting_changed(self) -> None:
        self._update_prompt_preview()
        self._save_settings()

    def _on_results_sent_to_editor(self, tune: GeneratedTune) -> None:
        if self.source_combo.currentData() == "empty":
            return
        before = self.prompt_source_text()
        if self._pinned is None:
            self._pinned = ({self.session.editor_tune}, before)
        # The editor shows the sent tune (each of its tunes, as the cursor moves) unedited.
        self._pinned[0].update(tune.text[start:end] for start, end in tune_spans(tune.text))
        self._update_prompt_preview()

    def _unpin_prompt(self) -> None:
        if self._pinned is not None:
            self._pinned = None
            self._update_prompt_preview()

    def _on_session_editor_tune_changed(self, text: str) -> None:
        if self._pinned is not None and text not in self._pinned[0]:
            self._pinned = None  # edited in the editor: the prompt follows it again
        self._update_prompt_preview()

    def showEvent(self, event: QShowEvent) -> None:
        # The editor's selection has no change signal: read it whenever the pane is shown.
        self._update_prompt_preview()
        super().showEvent(event)

    # -- knobs -----------------------------------------------------------------------------

    def temperature(self) -> float:
        return self.knobs.temperature()

    def sampling_params(self, seed: int):  # -> models.sample.SamplingParams
        return self.knobs.sampling_params(seed)

    # -- generating ------------------------------------------------------------------------

    def is_running(self) -> bool:
        return self.runner.is_running()

    def _update_controls(self) -> None:
        running = self.runner.is_running()
        # An event model's prompt is read on a worker: Generate waits for it.
        prompt_ready = self._kind != "events" or self.event_prompt.prompt() is not None
        self.generate_button.setEnabled(self.loaded is not None and not running and prompt_ready)
        self.stop_button.setEnabled(running)
        self.chooser.setEnabled(not running)

    def generate(self) -> bool:
        """Start sampling with the current settings; False when it cannot start."""
        if self.loaded is None or self.runner.is_running():
            return False
        if self._kind == "events" and self.event_prompt.prompt() is None:
            return False
        self._t0 = time.perf_counter()
        self.first_char_latency = None
        seed = self.knobs.next_seed()
        self.last_seed = seed
        prompt = self.prompt()
        events = self._kind == "events"
        self.prompt_preview.setPlainText(preview_text(prompt) if events else prompt)
        num = self.num_spin.value()
        self._prompt_used = prompt
        self._live = [""] * num
        self._pieces = []
        self._max_chars = self.length_spin.value()
        self.watch_spin.setRange(1, num)
        self.live_view.setPlainText(prompt)
        self._live_shown = prompt
        # The pieces play at the prompt's source's tempo (None: the checkpoint's).
        tempo = self.event_prompt.tempo() if events and prompt else None
        if events:
            opening = piece_tune(piece_settings(self.loaded, tempo), prompt)
            self.live_roll.set_tune(opening)
            # The model's own notes begin at (or after) the prompt's last onset.
            last = max((n.start for n in opening.notes), default=None)
            self.live_roll.set_marker(last, "end of prompt")
        self.progress.setRange(0, self._max_chars)
        self.progress.setValue(0)
        self.progress.setFormat(f"%v / %m {self._unit()}s")
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"Generating {num} variation{'s' if num > 1 else ''}…")
        self.runner.start(
            self.loaded,
            prompt,
            num,
            self.sampling_params(seed),
            meter_aware=self.meter_aware_check.isChecked() and not events,
            t0=self._t0,
            tempo=tempo,
        )
        self.runner.watch(self.watch_spin.value() - 1)
        # music21 checks of earlier results hold the GIL for ~100 ms each: not while streaming.
        self.results.pause_checks(True)
        self._update_controls()
        self.generation_started.emit()
        return True

    def stop(self) -> None:
        self.runner.stop()

    def _unit(self) -> str:
        return "event" if self._kind == "events" else "char"

    def _on_runner_streamed(self, chunk: StreamChunk) -> None:
        watched = self.watch_spin.value() - 1
        for index, piece in chunk.pieces.items():
            self._live[index] += piece
        if watched in chunk.pieces:
            self._show_live(watched)
            if self.first_char_latency is None:
                self.first_char_latency = time.perf_counter() - self._t0
                self.first_char_shown.emit(self.first_char_latency)
        if chunk.roll is not None and chunk.roll[0] == watched:
            self._show_roll(chunk.roll[1])
        self.progress.setValue(min(chunk.steps, self._max_chars))

    def _show_roll(self, tune) -> None:  # a playback Tune
        self.live_roll.set_tune(tune)
        self.live_roll.setTitle(
            f"Variation {self.watch_spin.value()}: {len(tune.notes)} notes, {tune.duration:.1f} s"
        )

    def _on_watch_changed(self, value: int) -> None:
        if 0 < value <= len(self._live):
            self._live_shown = None
            self._show_live(value - 1)
            self.runner.watch(value - 1)
            if 0 < value <= len(self._pieces):  # done: draw the finished piece
                piece = self._pieces[value - 1]
                self._show_roll(piece_tune(piece.settings, piece.text))

    def _show_live(self, index: int) -> None:
        """Show variation ``index`` as sampled so far, as it will be kept: without the
        provenance lines of its header (workbench.notation.provenance). Appends when the shown
        text only grew (the usual case: the body streaming in), else replaces it."""
        text = drop_provenance(self._prompt_used + self._live[index], self._prompt_used)
        shown = self._live_shown
        if shown is not None and text.startswith(shown):
            cursor = self.live_view.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(text[len(shown) :])
            self.live_view.setTextCursor(cursor)
        else:
            self.live_view.setPlainText(text)
            self.live_view.moveCursor(QTextCursor.MoveOperation.End)
        self._live_shown = text
        self.live_view.ensureCursorVisible()

    def _on_runner_completed(self, outcome: GenerationOutcome) -> None:
        self.last_outcome = outcome
        if outcome.pieces:
            self._pieces_completed(outcome)
            return
        model = outcome.model_path.name
        tunes = [
            GeneratedTune.make(
                text,
                prompt=outcome.prompt,
                seed=outcome.params.seed,
                index=i,
                temperature=outcome.params.temperature,
                model=model,
            )
            for i, text in enumerate(outcome.texts)
            # A tune stopped before its first character is no result.
            if len(text) > len(outcome.prompt)
        ]
        self.results.add_tunes(tunes)
        how = "Stopped" if outcome.stopped else "Done"
        n = f"{len(tunes)} tune{'s' if len(tunes) != 1 else ''}"
        if outcome.stopped:
            steps = max((len(t) - len(outcome.prompt) for t in outcome.texts), default=0)
            self.progress.setFormat(
                f"Stopped after {steps:,} of {self._max_chars:,} chars: {n} "
                f"in {outcome.elapsed:.1f} s"
            )
        else:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat(f"Done: {n} in {outcome.elapsed:.1f} s")
        self.status_label.setText(
            f"{how}: {len(tunes)} tune{'s' if len(tunes) != 1 else ''}, "
            f"{outcome.stats.get('chars', 0):,.0f} chars in {outcome.elapsed:.1f} s "
            f"({outcome.stats.get('chars_per_s', 0):,.0f} chars/s), seed {outcome.params.seed}"
        )
        self.generation_finished.emit(outcome)

    def _pieces_completed(self, outcome: GenerationOutcome) -> None:
        """An event model's batch: its pieces (rendered on the worker) go to the results."""
        self._pieces = list(outcome.pieces)
        prompt_events = len(outcome.prompt.split())
        # A piece stopped before its first event is no result.
        pieces = [p for p in self._pieces if p.events > prompt_events]
        self.results.add_tunes(pieces)
        n = f"{len(pieces)} piece{'s' if len(pieces) != 1 else ''}"
        events = outcome.stats.get("chars", 0)
        if outcome.stopped:
            steps = max((p.events - prompt_events for p in self._pieces), default=0)
            self.progress.setFormat(
                f"Stopped after {steps:,} of {self._max_chars:,} events: {n} "
                f"in {outcome.elapsed:.1f} s"
            )
        else:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat(f"Done: {n} in {outcome.elapsed:.1f} s")
        broken = [p for p in pieces if not p.midi]
        extra = f"; {len(broken)} without notes" if broken else ""
        self.status_label.setText(
            f"{'Stopped' if outcome.stopped else 'Done'}: {n}, {events:,.0f} events in "
            f"{outcome.elapsed:.1f} s ({outcome.stats.get('chars_per_s', 0):,.0f} events/s), "
            f"seed {outcome.params.seed}{extra}"
        )
        self.generation_finished.emit(outcome)

    def _on_runner_finished(self) -> None:
        self.results.pause_checks(False)
        self._update_controls()

    def _on_runner_failed(self, message: str) -> None:
        self.progress.setFormat(f"Failed after %v {self._unit()}s")
        self.status_label.setStyleSheet("color: #b00020;")
        self.status_label.setText(f"Generation failed: {message}")

    def confirm_close(self) -> bool:
        """Call from the window's closeEvent: asks before losing generated tunes that are not
        saved (exported or sent to the editor); False means the user cancelled."""
        unsaved = self.results.unsaved()
        running = self.is_running()
        if not unsaved and not running:
            return True
        what = []
        if unsaved:
            n = len(unsaved)
            starred = sum(t.kept for t in unsaved)
            what.append(
                f"{n} generated tune{'s are' if n != 1 else ' is'} not saved "
                f"(exported or sent to the editor)"
                + (f", {starred} of them starred" if starred else "")
            )
        if running:
            what.append("a generation is still running")
        text = " and ".join(what)
        answer = QMessageBox.question(
            self,
            "Generated tunes not saved",
            f"{text[0].upper()}{text[1:]}. Quit and lose {'it' if len(unsaved) == 1 else 'them'}?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def shutdown(self) -> None:
        """Stop sampling and wait for every worker thread (before the app quits)."""
        self.runner.shutdown()
        self.loader.shutdown()
        self.event_prompt.shutdown()
        self.results.shutdown()
