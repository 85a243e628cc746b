"""The application state the panes share, with change events (Qt-free).

Panes get the session, connect to its signals and write back by assignment; the main window
only wires. psygnal gives Qt-like signals without Qt, so this module (and its tests) run
headless.

`play_choice` is what the transport's Play plays: the user's latest choice between the selected
generated tune (`choose_result`) and the editor's tune (a new `editor_tune`, or
`choose_editor_tune` when the user turns to the editor); when only one of them exists, that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from psygnal import Signal

from workbench.corpus import LoadResult
from workbench.midi_data.reader import MidiLoadResult


@dataclass(frozen=True)
class PlayRequest:
    """A tune to play: ABC text, or a standard MIDI file's bytes (from a MIDI model)."""

    title: str
    abc: str | None = None
    midi: bytes | None = None


@dataclass(frozen=True)
class NoteHighlight:
    """Characters [start, end) of `abc` that wrote the note sounding now."""

    abc: str
    start: int
    end: int


class Session:
    """What is loaded and selected right now."""

    # LoadResult (tunes), MidiLoadResult (MIDI pieces) or None; data_specs is set before it fires
    dataset_changed = Signal(object)
    split_changed = Signal(float, int)  # validation fraction, seed
    run_changed = Signal(object)  # Path | None: the selected run directory
    checkpoint_changed = Signal(object)  # Path | None: the model used for generation
    prompt_changed = Signal(str)  # ABC text to open in the editor (a corpus or generated tune)
    editor_tune_changed = Signal(str)  # the tune being edited now (the generation prompt source)
    play_requested = Signal(object)  # PlayRequest: something to play in the transport bar
    play_choice_changed = Signal(object)  # PlayRequest | None: what the transport's Play plays
    inspect_requested = Signal(str)  # a text to run through the model in the neuron viewer
    # The note sounding now, for follow-along: NoteHighlight, or None when playback stops.
    playback_highlight = Signal(object)

    def __init__(self) -> None:
        self._dataset: LoadResult | None = None
        # The DATA arguments the dataset was loaded from: a training process loads them itself.
        self.data_specs: list[str] = []
        self._val_fraction = 0.1
        self._seed = 1234
        self._run: Path | None = None
        self._checkpoint: Path | None = None
        self._prompt = ""
        self._editor_tune = ""
        # The text selected in the editor ("" when none); read when a prompt is taken from it.
        self.editor_selection = ""
        self._chosen_result: PlayRequest | None = None  # the selected generated tune
        self._play_from = "editor"  # "result" or "editor": the user's latest choice

    @property
    def dataset(self) -> LoadResult | MidiLoadResult | None:
        return self._dataset

    @property
    def data_settings(self) -> dict | None:
        """The MIDI encoding the dataset was read with (None: ABC tunes, or nothing loaded):
        a training run reads the same MIDI the same way."""
        if isinstance(self._dataset, MidiLoadResult):
            return self._dataset.settings
        return None

    def set_dataset(self, result: LoadResult | MidiLoadResult | None, specs: list[str]) -> None:
        """The loaded tunes (or MIDI pieces) and the DATA specs (files, folders, corpus:NAME)
        they came from."""
        self._dataset = result
        self.data_specs = list(specs) if result is not None else []
        self.dataset_changed.emit(result)

    @property
    def val_fraction(self) -> float:
        return self._val_fraction

    @property
    def seed(self) -> int:
        return self._seed

    def set_split(self, val_fraction: float, seed: int) -> None:
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"validation fraction must be in (0, 1), not {val_fraction}")
        if (val_fraction, seed) != (self._val_fraction, self._seed):
            self._val_fraction, self._seed = val_fraction, seed
            self.split_changed.emit(val_fraction, seed)

    @property
    def run(self) -> Path | None:
        return self._run

    @run.setter
    def run(self, value: Path | None) -> None:
        if value != self._run:
            self._run = value
            self.run_changed.emit(value)

    @property
    def checkpoint(self) -> Path | None:
        return self._checkpoint

    @checkpoint.setter
    def checkpoint(self, value: Path | None) -> None:
        if value != self._checkpoint:
            self._checkpoint = value
            self.checkpoint_changed.emit(value)

    @property
    def prompt(self) -> str:
        return self._prompt

    @prompt.setter
    def prompt(self, value: str) -> None:
        if value != self._prompt:
            self._prompt = value
            self.prompt_changed.emit(value)

    @property
    def editor_tune(self) -> str:
        return self._editor_tune

    @editor_tune.setter
    def editor_tune(self, value: str) -> None:
        if value != self._editor_tune:
            before = self.play_choice
            self._editor_tune = value
            if value.strip():
                self._play_from = "editor"  # typed, sent there, or the cursor moved to it
            self.editor_tune_changed.emit(value)
            self._play_choice_moved(before)

    # -- what Play plays ---------------------------------------------------------------------

    @property
    def play_choice(self) -> PlayRequest | None:
        """What the transport's Play plays now (None: nothing to play)."""
        editor = None
        if self._editor_tune.strip():
            editor = PlayRequest(_title_of(self._editor_tune), abc=self._editor_tune)
        if self._play_from == "result" and self._chosen_result is not None:
            return self._chosen_result
        return editor or self._chosen_result

    def choose_result(self, request: PlayRequest | None) -> None:
        """A generated tune was selected (chosen to play); None: no single tune is selected."""
        before = self.play_choice
        self._chosen_result = request
        if request is not None:
            self._play_from = "result"
        self._play_choice_moved(before)

    def choose_editor_tune(self) -> None:
        """The user turned to the editor (clicked or typed into it): Play plays its tune."""
        before = self.play_choice
        self._play_from = "editor"
        self._play_choice_moved(before)

    def _play_choice_moved(self, before: PlayRequest | None) -> None:
        after = self.play_choice
        if after != before:
            self.play_choice_changed.emit(after)

    def request_play(self, request: PlayRequest) -> None:
        if request.abc is None and request.midi is None:
            raise ValueError("a play request needs ABC text or MIDI bytes")
        self.play_requested.emit(request)

    def request_inspect(self, text: str) -> None:
        self.inspect_requested.emit(text)

    def highlight_note(self, highlight: NoteHighlight | None) -> None:
        self.playback_highlight.emit(highlight)


def _title_of(abc: str) -> str:
    """The first ``T:`` field of an ABC tune, or "Untitled tune"."""
    for line in abc.split("\n"):
        if line.startswith("T:") and line[2:].strip():
            return line[2:].strip()
    return "Untitled tune"
