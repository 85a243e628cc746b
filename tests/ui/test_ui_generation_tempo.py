"""The Generation pane's event pieces play at their prompt's tempo, as `workbench generate
--prompt-midi` writes them: a prompt from a MIDI file plays at that file's tempo, one from a
loaded piece at the piece's, and no prompt at the checkpoint's (the training data's median).

The model is a small event model with random weights whose checkpoint says 150 bpm; the prompt
file is written with mido at 90 bpm. Tempi are read back from the pieces' MIDI bytes with mido
(what the list plays and exports as .mid), and from their MusicXML with music21.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from event_pieces import write_event_checkpoint, write_piece
from midi_files import tempi_of
from PySide6.QtCore import QSettings

from workbench.generation import GeneratedPiece, piece_musicxml_bytes
from workbench.midi_data import TEMPO_KEY, Piece, codec_for, make_settings, render
from workbench.midi_data.encodings import text_of
from workbench.session import Session
from workbench.ui.panes.generation_pane import GenerationPane
from workbench.ui.widgets.generation_results import play_request

TIMEOUT_MS = 20_000
CHECKPOINT_BPM = 150.0
PROMPT_BPM = 90.0  # write_piece's tempo
PIECE_BPM = 63.0


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory) -> Path:
    return write_piece(tmp_path_factory.mktemp("midi") / "at_90.mid")


@pytest.fixture(scope="module")
def model_settings() -> dict:
    return {**make_settings("remi"), TEMPO_KEY: CHECKPOINT_BPM}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, prompt_file, model_settings) -> Path:
    events = codec_for(model_settings).encode_file(prompt_file)
    path = tmp_path_factory.mktemp("ckpt") / "events.pt"
    return write_event_checkpoint(path, [text_of(events)], model_settings)


@pytest.fixture
def pane(qtbot, tmp_path, checkpoint):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    session = Session()
    widget = GenerationPane(
        session, runs_root=tmp_path / "runs", settings=settings, default_model=None
    )
    qtbot.addWidget(widget)
    session.checkpoint = checkpoint
    qtbot.waitUntil(lambda: widget.loaded is not None, timeout=TIMEOUT_MS)
    assert widget.model_kind() == "events"
    widget.random_seed_check.setChecked(False)
    widget.seed_spin.setValue(5)
    widget.num_spin.setValue(3)
    widget.length_spin.setValue(60)
    yield widget
    widget.shutdown()


def prompt_read(qtbot, pane: GenerationPane, nonempty: bool = True) -> str:
    prompt = pane.event_prompt
    qtbot.waitUntil(
        lambda: prompt.prompt() is not None and bool(prompt.prompt()) == nonempty,
        timeout=TIMEOUT_MS,
    )
    return prompt.prompt()


def generate(qtbot, pane: GenerationPane) -> list[GeneratedPiece]:
    with qtbot.waitSignal(pane.generation_finished, timeout=TIMEOUT_MS):
        pane.generate_button.click()
    qtbot.waitUntil(lambda: not pane.is_running())
    pieces = pane.results.tunes()
    assert len(pieces) == 3 and all(isinstance(p, GeneratedPiece) for p in pieces)
    return pieces


def test_a_prompt_from_a_midi_file_plays_at_the_files_tempo(
    qtbot, pane, prompt_file, model_settings
) -> None:
    pane.event_prompt.events_spin.setValue(16)
    pane.event_prompt.set_file(str(prompt_file))
    prompt = prompt_read(qtbot, pane)
    assert pane.event_prompt.tempo() == pytest.approx(PROMPT_BPM, abs=0.01)

    pieces = generate(qtbot, pane)
    for piece in pieces:
        assert piece.text.startswith(prompt)
        # The prompt's notes are in every piece, so each has MIDI to check.
        assert piece.midi, piece.decode_error
        assert tempi_of(piece.midi) == [PROMPT_BPM]
        assert tempi_of(play_request(piece).midi) == [PROMPT_BPM]  # what the Playback pane gets
        assert piece.settings[TEMPO_KEY] == pytest.approx(PROMPT_BPM)
    # The end-of-prompt marker on the roll is in seconds at 90 bpm, not the checkpoint's 150.
    at_checkpoint = render(model_settings, prompt).score.to("second")
    last = max(float(n.time) for t in at_checkpoint.tracks for n in t.notes)
    assert last > 0
    assert pane.live_roll.marker.value() == pytest.approx(last * CHECKPOINT_BPM / PROMPT_BPM)

    # The .musicxml export (music21 reads the piece's MIDI) carries the same tempo.
    from music21 import converter, tempo

    score = converter.parseData(piece_musicxml_bytes(pieces[0]), format="musicxml")
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    assert marks and marks[0].getQuarterBPM() == pytest.approx(PROMPT_BPM)


def test_a_prompt_from_a_loaded_piece_plays_at_the_pieces_tempo(
    qtbot, pane, prompt_file, model_settings
) -> None:
    events = codec_for(model_settings).encode_file(prompt_file)
    # The same notes, loaded from a file whose main tempo was 63 bpm.
    loaded = Piece(
        str(prompt_file), text_of(events), len(events), str(prompt_file), tempo=PIECE_BPM
    )
    pane.event_prompt.events_spin.setValue(16)
    pane.event_prompt.set_pieces([loaded], model_settings)
    pane.event_prompt.set_source("piece")
    prompt_read(qtbot, pane)
    assert pane.event_prompt.tempo() == PIECE_BPM

    pieces = generate(qtbot, pane)
    assert all(p.midi and tempi_of(p.midi) == [PIECE_BPM] for p in pieces)


def test_no_prompt_plays_at_the_checkpoints_tempo(qtbot, pane, prompt_file) -> None:
    # A file prompt first, then none: the file's tempo must not stay behind.
    pane.event_prompt.set_file(str(prompt_file))
    prompt_read(qtbot, pane)
    pane.event_prompt.set_source("empty")
    prompt_read(qtbot, pane, nonempty=False)
    assert pane.event_prompt.tempo() is None

    pieces = generate(qtbot, pane)
    rendered = [p for p in pieces if p.midi]
    # Random weights may write events that hold no notes; a seed where some do is chosen.
    assert rendered
    for piece in rendered:
        assert tempi_of(piece.midi) == [CHECKPOINT_BPM]
        assert piece.settings[TEMPO_KEY] == CHECKPOINT_BPM
