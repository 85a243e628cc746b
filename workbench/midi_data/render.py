"""An event model's output as music: event text -> symusic Score -> .mid; and MIDI prompts.

The renderer of the MIDI data kind: it needs only the settings stored in the checkpoint's event
tokenizer, never the training data, so a checkpoint generates anywhere.

A rendered piece plays at one tempo: the one asked for (a prompt's, `prompt_tempo`), else the
settings' `tempo` (the training pieces' median, recorded by `load_midi`), else MIDI's 120.
Everything that turns events into sound or files (the CLI's `.mid`, the GUI's listing,
piano roll, playback and export, the length in seconds) goes through `render`, so all agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import symusic

from workbench.atomic_files import write_bytes_atomically
from workbench.midi_data.encodings import (
    DEFAULT_TEMPO,
    TEMPO_KEY,
    TEMPO_RANGE,
    MidiFileProblem,
    codec_for,
    events_of,
    main_tempo,
    read_score,
    text_of,
)
from workbench.midi_data.reader import Piece


@dataclass(frozen=True, slots=True)
class Rendered:
    """A generated piece as MIDI, with what a listing shows about it."""

    score: symusic.Score
    notes: int
    seconds: float


def tempo_of(settings: dict[str, Any], tempo: float | None = None) -> float:
    """The tempo (quarter notes per minute) a piece rendered with `settings` plays at."""
    for qpm in (tempo, settings.get(TEMPO_KEY)):
        if isinstance(qpm, (int, float)) and TEMPO_RANGE[0] <= qpm <= TEMPO_RANGE[1]:
            return float(qpm)
    return DEFAULT_TEMPO


def render(settings: dict[str, Any], text: str, tempo: float | None = None) -> Rendered:
    """The Score of an event text (DecodeError if the events are not music), at `tempo`
    (quarter notes per minute; None: the settings' tempo, see the module docstring)."""
    score = codec_for(settings).decode(events_of(text))
    # The decoders write MIDI's default tempo (or none); one tempo from the first tick.
    score.tempos = [symusic.Tempo(0, qpm=tempo_of(settings, tempo))]
    return Rendered(score, score.note_num(), _seconds(score))


def _seconds(score: symusic.Score) -> float:
    if score.note_num() == 0:
        return 0.0
    return float(score.to("second").end())


def midi_bytes(rendered: Rendered) -> bytes:
    """The standard MIDI file of a rendered piece, as bytes (what the player and exports read)."""
    return bytes(rendered.score.dumps_midi())


def write_midi(
    settings: dict[str, Any], text: str, path: str | os.PathLike[str], tempo: float | None = None
) -> Rendered:
    """Write an event text as a standard MIDI file at `path` (atomically), at `tempo`."""
    rendered = render(settings, text, tempo)
    path = Path(path)
    # symusic writes to a path only; a sibling temp file, then one atomic write of its bytes.
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        rendered.score.dump_midi(str(tmp))
        write_bytes_atomically(path, tmp.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)
    return rendered


def prompt_from_midi(settings: dict[str, Any], path: str | os.PathLike[str], events: int) -> str:
    """The first `events` events of a MIDI file, encoded as the model's data was, as text.

    MidiFileProblem (from encodings.py) when the file cannot be used.
    """
    found = codec_for(settings).encode_file(path)
    return text_of(found[: max(0, events)])


def prompt_tempo(path: str | os.PathLike[str]) -> float | None:
    """The main tempo of a MIDI file a prompt is taken from (None: it sets none), for
    `render(..., tempo=)`: a piece continued from a prompt plays at the prompt's tempo."""
    return main_tempo(read_score(path))


def _same_encoding(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two settings encode alike (the tempo is how pieces play, not how they encode)."""
    return {k: v for k, v in a.items() if k != TEMPO_KEY} == {
        k: v for k, v in b.items() if k != TEMPO_KEY
    }


def prompt_from_piece(
    settings: dict[str, Any], piece: Piece, data_settings: dict[str, Any], events: int
) -> str:
    """The first `events` events of a loaded piece, as a model with `settings` reads them.

    A piece loaded with the model's own encoding (`data_settings`) gives its events as they
    are; under another encoding its MIDI file is read again with the model's (MidiFileProblem
    when it cannot be).
    """
    if _same_encoding(data_settings, settings):
        return text_of(events_of(piece.text)[: max(0, events)])
    if not piece.path:
        raise MidiFileProblem("its MIDI file is not known, so it cannot be read again")
    return prompt_from_midi(settings, piece.path, events)
