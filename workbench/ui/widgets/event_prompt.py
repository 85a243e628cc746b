"""The prompt of a MIDI event model: nothing, the opening of a loaded piece, or of any MIDI file.

The generation pane shows this in place of its ABC prompt controls when the model writes
events. The piece list holds the pieces of the session's MIDI dataset (type to filter); a file
is chosen with a dialog. Reading a prompt can be slow (the notes-and-chords encoding parses the
file with music21 the first time), so it is read on a worker thread: :meth:`prompt` is None
while it is read or when it cannot be, and ``prompt_changed`` fires when it is known.
:meth:`tempo` is the tempo of the piece or file the prompt comes from (the generated pieces play
at it, as ``workbench generate --prompt-midi`` does), read with the prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.generation import event_prompt
from workbench.ui.settings_values import read_int
from workbench.ui.workers.generation_worker import TaskRunner

SOURCES = (
    ("empty", "Empty"),
    ("piece", "Opening of a loaded piece"),
    ("file", "Opening of a MIDI file"),
)
MIDI_FILTER = "MIDI files (*.mid *.midi *.kar);;All files (*)"
DEFAULT_EVENTS = 64


def read_prompt(
    settings: dict[str, Any], events: int, **source: Any
) -> tuple[str, str, float | None]:
    """`event_prompt`'s (text, description) and the tempo of its source: a loaded piece's
    (`piece.tempo`, kept when it was loaded) or a MIDI file's main tempo; None for no prompt
    or a source that sets none (then the checkpoint's tempo applies). Worker thread."""
    from workbench.midi_data import prompt_tempo

    text, description = event_prompt(settings, events, **source)
    tempo = None
    if text:
        piece, path = source.get("piece"), source.get("path")
        if piece is not None:
            tempo = piece.tempo
        elif path is not None:
            tempo = prompt_tempo(path)  # symusic: a millisecond, the file just read
    return text, description, tempo


class EventPromptWidget(QWidget):
    """Where an event model's prompt comes from; ``prompt_changed`` when it is read again."""

    prompt_changed = Signal()

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._model_settings: dict[str, Any] | None = None
        self._data_settings: dict[str, Any] = {}
        self._pieces: list[Any] = []
        self._prompt: str | None = ""
        self._tempo: float | None = None
        self._description = "no prompt: the model begins a piece of its own"
        self._error = ""
        self._request = 0
        self._reader = TaskRunner(self)

        self.source_combo = QComboBox()
        for key, label in SOURCES:
            self.source_combo.addItem(label, key)
        self.piece_combo = QComboBox()
        self.piece_combo.setEditable(True)
        self.piece_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.piece_combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.piece_combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.piece_combo.setMinimumContentsLength(14)
        self.piece_combo.lineEdit().setPlaceholderText("load MIDI in the Dataset pane")
        self.file_edit = QLineEdit()
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText("no MIDI file chosen")
        self.file_button = QPushButton("Choose…")
        self.file_button.setToolTip("Take the prompt from the opening of any MIDI file")
        self.events_spin = QSpinBox()
        self.events_spin.setRange(1, 5000)
        self.events_spin.setSuffix(" events")
        self.events_spin.setToolTip("How many events of the opening the model continues")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.source_combo)
        top.addWidget(self.events_spin)
        top.addStretch(1)
        self.piece_row = QWidget()
        piece_layout = QHBoxLayout(self.piece_row)
        piece_layout.setContentsMargins(0, 0, 0, 0)
        piece_layout.addWidget(QLabel("Piece"))
        piece_layout.addWidget(self.piece_combo, 1)
        self.file_row = QWidget()
        file_layout = QHBoxLayout(self.file_row)
        file_layout.setContentsMargins(0, 0, 0, 0)
        file_layout.addWidget(QLabel("File"))
        file_layout.addWidget(self.file_edit, 1)
        file_layout.addWidget(self.file_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.piece_row)
        layout.addWidget(self.file_row)

        self._restore()
        self.source_combo.currentIndexChanged.connect(self._on_setting_changed)
        self.piece_combo.currentIndexChanged.connect(self._on_setting_changed)
        self.events_spin.valueChanged.connect(self._on_setting_changed)
        self.file_button.clicked.connect(self._on_file_button_clicked)
        self._show_rows()

    # -- what the pane sets --------------------------------------------------------------

    def set_model_settings(self, settings: dict[str, Any] | None) -> None:
        """The encoding of the model the prompt is for (None: no event model loaded)."""
        if settings != self._model_settings:
            self._model_settings = settings
            self._read()

    def set_pieces(self, pieces: list[Any], data_settings: dict[str, Any]) -> None:
        """The loaded MIDI pieces (`midi_data.Piece`) and the encoding they were read with."""
        current = self.piece_combo.currentText()
        self._pieces, self._data_settings = list(pieces), dict(data_settings)
        self.piece_combo.blockSignals(True)
        self.piece_combo.clear()
        for piece in self._pieces:
            self.piece_combo.addItem(piece.name, piece.source)
        index = self.piece_combo.findText(current)
        self.piece_combo.setCurrentIndex(index if index >= 0 else (0 if self._pieces else -1))
        self.piece_combo.blockSignals(False)
        self._read()

    def set_file(self, path: str) -> None:
        """Take the prompt from the MIDI file `path` (as Choose… does)."""
        self.file_edit.setText(path)
        self.source_combo.setCurrentIndex(self.source_combo.findData("file"))
        self._on_setting_changed()

    def set_source(self, source: str) -> None:
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))

    # -- what the pane reads -------------------------------------------------------------

    def prompt(self) -> str | None:
        """The prompt's events as text ("" for none); None while it is read or when it cannot
        be (see :meth:`error`)."""
        return self._prompt

    def tempo(self) -> float | None:
        """The tempo (quarter notes per minute) of the piece or file the prompt comes from;
        None with no prompt (or one not read yet), or when the source sets no tempo."""
        return self._tempo

    def description(self) -> str:
        return self._description

    def error(self) -> str:
        return self._error

    def is_reading(self) -> bool:
        return self._reader.is_busy()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until the prompt is read (tests)."""
        return self._reader.wait_idle(timeout_ms)

    def shutdown(self) -> None:
        self._reader.shutdown()

    # -- reading -------------------------------------------------------------------------

    def _show_rows(self) -> None:
        source = self.source_combo.currentData()
        self.piece_row.setVisible(source == "piece")
        self.file_row.setVisible(source == "file")
        self.events_spin.setEnabled(source != "empty")

    def _on_setting_changed(self) -> None:
        self._show_rows()
        self._save()
        self._read()

    def _on_file_button_clicked(self) -> None:
        start = self.file_edit.text() or str(self.settings.value("generation/prompt_dir", ""))
        path, _ = QFileDialog.getOpenFileName(self, "Prompt from a MIDI file", start, MIDI_FILTER)
        if path:
            self.settings.setValue("generation/prompt_dir", str(Path(path).parent))
            self.set_file(path)

    def _chosen_piece(self) -> Any:
        source = self.piece_combo.currentData()
        return next((p for p in self._pieces if p.source == source), None)

    def _read(self) -> None:
        """Read the prompt again on the worker; only the latest request's answer counts."""
        self._request += 1
        request = self._request
        settings = self._model_settings
        source = self.source_combo.currentData()
        events = self.events_spin.value()
        kwargs: dict[str, Any] = {}
        problem = ""
        if source == "piece":
            kwargs = {"piece": self._chosen_piece(), "data_settings": self._data_settings}
            if kwargs["piece"] is None:
                problem = "Load MIDI pieces in the Dataset pane, or choose another prompt."
        elif source == "file":
            path = self.file_edit.text()
            kwargs = {"path": path}
            if not path:
                problem = "Choose a MIDI file for the prompt."
        if settings is None or problem:
            self._set(None if problem else "", problem, "")
            return
        self._prompt, self._tempo, self._error = None, None, ""
        self._description = "reading the prompt…"
        self._reader.clear()
        self.prompt_changed.emit()
        self._reader.submit(
            lambda: read_prompt(settings, events, **kwargs),
            lambda result: self._on_read(request, result),
            lambda message: self._on_failed(request, message),
        )

    def _on_read(self, request: int, result: tuple[str, str, float | None]) -> None:
        if request == self._request:
            text, description, tempo = result
            self._set(text, "", description, tempo)

    def _on_failed(self, request: int, message: str) -> None:
        if request == self._request:  # the message names the file
            self._set(None, f"Cannot take the prompt: {message}", "")

    def _set(
        self, prompt: str | None, error: str, description: str, tempo: float | None = None
    ) -> None:
        self._prompt, self._error, self._tempo = prompt, error, tempo
        self._description = description or (
            "no prompt: the model begins a piece of its own" if prompt == "" else ""
        )
        self.prompt_changed.emit()

    # -- settings ------------------------------------------------------------------------

    def _restore(self) -> None:
        s = self.settings
        self.events_spin.setValue(
            read_int(s, "generation/prompt_events", DEFAULT_EVENTS, 1, self.events_spin.maximum())
        )
        index = self.source_combo.findData(s.value("generation/event_source", "empty"))
        self.source_combo.setCurrentIndex(max(index, 0))
        self.file_edit.setText(str(s.value("generation/prompt_file", "") or ""))

    def _save(self) -> None:
        s = self.settings
        s.setValue("generation/prompt_events", self.events_spin.value())
        s.setValue("generation/event_source", self.source_combo.currentData())
        s.setValue("generation/prompt_file", self.file_edit.text())
