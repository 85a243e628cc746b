"""The transport bar: plays what the session asks to play, with a piano roll that follows along.

Play (and Space) plays the session's ``play_choice``, the user's latest choice between the
selected generated tune and the editor's tune: it loads that tune when it is not the one loaded,
else pauses or resumes. A request that cannot play (nothing chosen, no notes, a tune that does
not convert) says so in the pane and in ``status_reported``, never silently.

Play/pause, stop, a position slider with the time, tempo %, loop (the whole tune or a range),
output (the built-in synth or a system MIDI port, refreshable), instrument (General MIDI program),
soundfont, volume and transpose. Space toggles play window-wide (text editors keep their spaces:
they claim printable keys before shortcuts). ABC is converted on a worker thread; a tune music21
cannot convert shows its reason in the pane. The note sounding now goes to
``session.highlight_note`` so the editor can highlight it.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.playback.clock import Clock
from workbench.playback.events import Cue, PlaybackError, Tune, tune_from_abc, tune_from_midi
from workbench.playback.gm import GM_PROGRAMS
from workbench.playback.outputs import Output, PortError, PortOutput, list_output_ports
from workbench.playback.player import Player, State
from workbench.playback.soundfonts import find_soundfonts
from workbench.playback.synth import SynthOutput, ToneSynth, make_engine
from workbench.session import NoteHighlight, PlayRequest, Session
from workbench.ui.lifetimes import connect_session

NOTHING_TO_PLAY = "Nothing to play: select a generated tune, or write or open one in the editor"
BUILTIN = "Built-in synth"
VIRTUAL = "Virtual MIDI port"
DEFAULT_PROGRAM = 0


def format_time(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class _Bridge(QObject):
    """Carries results from worker and player threads to the GUI thread (queued signals)."""

    converted = Signal(int, object, str)  # request number, Tune | None, error message
    cue = Signal(object)  # Cue | None
    state = Signal(object)  # State


class PlaybackPane(QWidget):
    """Transport bar and piano roll. ``status_reported(str)`` carries one-line messages."""

    status_reported = Signal(str)
    tune_loaded = Signal(object)  # Tune

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
        output: Output | None = None,
        audio: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("PlaybackPane")
        self.session = session
        self._bridge = _Bridge(self)
        self._bridge.converted.connect(self._on_converted)
        self._bridge.cue.connect(self._on_player_cue)
        self._bridge.state.connect(self._on_player_state)
        self._request_number = 0
        self._abc: str | None = None
        self._play_when_loaded = False
        self._pending: PlayRequest | None = None  # being converted
        self._loaded: PlayRequest | None = None  # in the player
        self._tune_title: str | None = None  # of the tune in the player (None: none yet)

        self.synth = SynthOutput(make_engine() if output is None else ToneSynth())
        self.audio = None
        if audio and output is None:
            from workbench.ui.audio_output import AudioOutput

            self.audio = AudioOutput(self.synth, self)
        self.player = Player(
            output if output is not None else self.synth,
            clock,
            on_cue=self._bridge.cue.emit,
            on_state=self._bridge.state.emit,
        )
        self._fixed_output = output is not None
        self._build()
        self._port: PortOutput | None = None
        self.refresh_ports()
        self._update_sound_status()

        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._on_timer_tick)
        self._timer.start()
        self.shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.shortcut.activated.connect(self.toggle_play)

        session.play_requested.connect(self._on_session_play_requested)
        connect_session(self, [(session.play_choice_changed, self._on_play_choice_changed)])
        self._on_play_choice_changed(session.play_choice)

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        from workbench.ui.widgets.piano_roll import PianoRollWidget

        self.title_label = QLabel(NOTHING_TO_PLAY)
        self.title_label.setWordWrap(True)  # a long title takes two lines, not the pane's width
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.sliderReleased.connect(self._on_slider_released)
        self.time_label = QLabel("0:00 / 0:00")
        self.tempo = QSpinBox(suffix=" %", minimum=25, maximum=400, value=100, singleStep=5)
        self.tempo.setToolTip("Tempo, percent of the tune's own")
        self.tempo.valueChanged.connect(lambda v: self.player.set_tempo(v / 100))
        self.loop = QCheckBox("Loop")
        self.loop_start = QDoubleSpinBox(suffix=" s", decimals=1, maximum=36000.0)
        self.loop_end = QDoubleSpinBox(suffix=" s", decimals=1, maximum=36000.0)
        self.loop_start.setToolTip("Loop from (seconds)")
        self.loop_end.setToolTip("Loop to (seconds); the whole tune when both are 0")
        for widget in (self.loop, self.loop_start, self.loop_end):
            (widget.toggled if widget is self.loop else widget.valueChanged).connect(
                self._apply_loop
            )
        self.output_combo = QComboBox()
        self.output_combo.setToolTip("Where the notes go")
        self.output_combo.activated.connect(self._on_output_chosen)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("List the system's MIDI ports again")
        self.refresh_button.clicked.connect(self.refresh_ports)
        self.instrument = QComboBox()
        self.instrument.addItems([f"{i + 1} {name}" for i, name in enumerate(GM_PROGRAMS)])
        self.instrument.setCurrentIndex(DEFAULT_PROGRAM)
        self.instrument.currentIndexChanged.connect(lambda p: self.player.set_program(p))
        self.player.set_program(DEFAULT_PROGRAM)
        self.soundfont = QComboBox()
        self.soundfont.setToolTip("The built-in synth's sound")
        for path in find_soundfonts():
            self.soundfont.addItem(path.name, str(path))
        self.soundfont.addItem("Built-in tone", None)
        self.soundfont.addItem("Other soundfont…", "choose")
        self.soundfont.activated.connect(self._on_soundfont_chosen)
        self.volume = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=100)
        self.volume.setMaximumWidth(100)
        self.volume.setToolTip("Volume")
        self.volume.valueChanged.connect(lambda v: self.player.set_volume(v / 100))
        self.transpose = QSpinBox(minimum=-24, maximum=24, value=0, suffix=" st")
        self.transpose.setToolTip("Transpose, semitones")
        self.transpose.valueChanged.connect(self.player.set_transpose)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.piano_roll = PianoRollWidget()
        # Long names (ports, instruments, soundfont files) get their width when there is room
        # and are cut only below it: the rows then fit the Editor's column on a 1366-px screen.
        for combo in (self.output_combo, self.instrument, self.soundfont):
            combo.setMinimumWidth(100)

        row1 = QHBoxLayout()
        for w in (self.play_button, self.stop_button, self.slider, self.time_label):
            row1.addWidget(w)
        row1.setStretch(2, 1)
        row2 = QHBoxLayout()
        for label, w in (
            ("Tempo", self.tempo),
            (None, self.loop),
            ("from", self.loop_start),
            ("to", self.loop_end),
            ("Transpose", self.transpose),
            ("Volume", self.volume),
        ):
            if label:
                row2.addWidget(QLabel(label))
            row2.addWidget(w)
        row2.addStretch(1)
        row3 = QHBoxLayout()
        for label, w in (
            ("Output", self.output_combo),
            (None, self.refresh_button),
            ("Instrument", self.instrument),
            ("Soundfont", self.soundfont),
        ):
            if label:
                row3.addWidget(QLabel(label))
            row3.addWidget(w)
        row3.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addLayout(row3)
        layout.addWidget(self.status_label)
        layout.addWidget(self.piano_roll, 1)

    # --- loading -----------------------------------------------------------------------------
    def _on_session_play_requested(self, request: PlayRequest) -> None:
        self.load_request(request, play=True)

    def _on_play_choice_changed(self, choice: PlayRequest | None) -> None:
        # While stopped or paused the title names what Play will play.
        if self.player.state is State.PLAYING or self._pending is not None:
            return
        if choice is not None and not self._holds(choice):
            self.title_label.setText(f"{choice.title} (press Play)")
        else:
            self.title_label.setText(self._tune_title or NOTHING_TO_PLAY)

    def is_converting(self) -> bool:
        """Whether a tune is being converted (on its thread) to be loaded."""
        return self._pending is not None

    def _holds(self, request: PlayRequest) -> bool:
        """Whether ``request``'s tune is the one loaded (or being loaded)."""
        current = self._pending or self._loaded
        return current is not None and (current.abc, current.midi) == (request.abc, request.midi)

    def load_request(self, request: PlayRequest, *, play: bool = True) -> None:
        """Convert (off the GUI thread) and load ``request``; play it when ``play``."""
        self._request_number += 1
        number = self._request_number
        self._play_when_loaded = play
        self._pending = request
        self.title_label.setText(f"{request.title}: converting…")
        self._report("")

        def convert() -> None:
            try:
                if request.midi is not None:
                    tune = tune_from_midi(request.midi, request.title)
                else:
                    tune = tune_from_abc(request.abc or "", request.title)
                result, message = tune, ""
            except PlaybackError as error:
                result, message = None, str(error)
            except Exception as error:  # any failure is shown, never a silently dead thread
                result, message = None, f"{type(error).__name__}: {error}"
            with contextlib.suppress(RuntimeError):  # the pane was deleted meanwhile
                self._bridge.converted.emit(number, result, message)

        threading.Thread(target=convert, name="playback-convert", daemon=True).start()

    def _on_converted(self, number: int, tune: Tune | None, error: str) -> None:
        if number != self._request_number:
            return  # a newer request superseded this one
        request, self._pending = self._pending, None
        if tune is None:
            self.title_label.setText("Cannot play this tune")
            title = request.title if request is not None else "this tune"
            self._report(f"Cannot play {title}: {error}")
            return
        self.load_tune(tune)
        self._loaded = request
        if self._play_when_loaded:
            self.play()

    def load_tune(self, tune: Tune) -> None:
        self.player.load(tune)
        self._abc = tune.abc
        self._loaded = None  # load_request names the request that made it
        self._tune_title = tune.title or "Untitled"
        self.title_label.setText(self._tune_title)
        self.slider.setRange(0, int(tune.duration * 1000))
        self.piano_roll.set_tune(tune)
        self._apply_loop()
        self._on_timer_tick()
        self.tune_loaded.emit(tune)

    # --- transport ---------------------------------------------------------------------------
    def toggle_play(self) -> None:
        """Play / pause (the button, Space): pause what plays, else play the user's choice."""
        if self.player.state is State.PLAYING:
            self.player.pause()
            return
        choice = self.session.play_choice
        if choice is not None and not self._holds(choice):
            self.load_request(choice, play=True)
        elif self._pending is not None:
            self._play_when_loaded = True  # still converting: it plays when ready
        else:
            self.play()

    def play(self) -> None:
        """Play (or resume) the loaded tune; says why when there is none or it has no notes."""
        if not self.player.tune.notes:
            if self._tune_title is None:
                self.title_label.setText(NOTHING_TO_PLAY)
                self._report(NOTHING_TO_PLAY)
            else:
                self._report(f"Nothing to play: {self._tune_title} has no notes")
            return
        if self.audio is not None and self.player.output is self.synth:
            if not self.audio.start():
                self._report(self.audio.status)  # e.g. no sound device: the roll still plays
            self._update_sound_status()
        self.player.play()

    def stop(self) -> None:
        self.player.stop()
        self._on_timer_tick()

    def _on_slider_released(self) -> None:
        self.player.seek(self.slider.value() / 1000)

    def _apply_loop(self) -> None:
        if not self.loop.isChecked() or not self.player.tune.notes:
            self.player.clear_loop()
            return
        start, end = self.loop_start.value(), self.loop_end.value()
        try:
            if end <= 0:
                self.player.set_loop(start, None)  # to the tune's end
            else:
                self.player.set_loop(start, end)
        except ValueError as error:
            self._report(f"Loop: {error}")

    def _on_timer_tick(self) -> None:
        position = self.player.position
        if not self.slider.isSliderDown():
            self.slider.setValue(int(position * 1000))
        self.time_label.setText(f"{format_time(position)} / {format_time(self.player.duration)}")
        if self.player.state is State.PLAYING or position == 0.0:
            self.piano_roll.set_position(position)

    def _on_player_state(self, state: State) -> None:
        self.play_button.setText("Pause" if state is State.PLAYING else "Play")
        self._on_timer_tick()

    def _on_player_cue(self, cue: Cue | None) -> None:
        if cue is None or self._abc is None:
            self.session.highlight_note(None)
        else:
            self.session.highlight_note(NoteHighlight(self._abc, cue.start, cue.end))

    # --- outputs -----------------------------------------------------------------------------
    def refresh_ports(self) -> None:
        ports = list_output_ports()
        current = self.output_combo.currentText()
        self.output_combo.clear()
        self.output_combo.addItem(BUILTIN)
        for name in ports.names:
            self.output_combo.addItem(name)
        if ports.error is None:
            self.output_combo.addItem(VIRTUAL)
        index = self.output_combo.findText(current)
        self.output_combo.setCurrentIndex(max(index, 0))
        self.ports = ports
        self._update_sound_status()

    def _on_output_chosen(self, index: int) -> None:
        if self._fixed_output:
            return
        name = self.output_combo.itemText(index)
        if self._port is not None:
            old, self._port = self._port, None
        else:
            old = None
        if name == BUILTIN:
            self.player.set_output(self.synth)
        else:
            try:
                port = PortOutput.open_virtual() if name == VIRTUAL else PortOutput.open(name)
            except PortError as error:
                self._report(str(error))
                self.output_combo.setCurrentIndex(0)
                self.player.set_output(self.synth)
                port = None
            if port is not None:
                self._port = port
                self.player.set_output(port)
                if self.audio is not None:
                    self.audio.stop()
        if old is not None:
            old.close()
        self._update_sound_status()

    def _on_soundfont_chosen(self, index: int) -> None:
        data = self.soundfont.itemData(index)
        if data == "choose":
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose a soundfont", "", "SoundFonts (*.sf2 *.sf3);;All files (*)"
            )
            if not path:
                return
            self.soundfont.insertItem(0, Path(path).name, path)
            self.soundfont.setCurrentIndex(0)
            data = path
        self.use_soundfont(Path(data) if data else None)

    def use_soundfont(self, path: Path | None) -> None:
        """The built-in synth plays ``path`` (None: the built-in tone)."""
        engine = make_engine(path, search=False)
        if path is not None and isinstance(engine, ToneSynth):
            self._report(f"Cannot use {path.name}: {engine.description}")
        was_playing = self.player.state is State.PLAYING
        if was_playing:
            self.player.pause()
        self.synth.set_engine(engine)
        if was_playing:
            self.player.play()
        self._update_sound_status()

    def _update_sound_status(self) -> None:
        if not hasattr(self, "ports"):
            return
        parts = [self.synth.description]
        if self.audio is not None:
            parts.append(self.audio.status)
        parts.append(self.ports.status)
        self.status_label.setText(" · ".join(parts))

    def _report(self, text: str) -> None:
        if text:
            self.status_label.setText(text)
            self.status_reported.emit(text)

    def shutdown(self) -> None:
        """Silence and release the player, the sound device and any MIDI port."""
        self._timer.stop()
        self.session.play_requested.disconnect(self._on_session_play_requested)
        self.player.close()
        if self.audio is not None:
            self.audio.stop()
        if self._port is not None:
            self._port.close()
            self._port = None
