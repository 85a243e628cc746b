"""An event model's output as music: event text -> symusic Score -> .mid; and MIDI prompts.

The renderer of the MIDI data kind: it needs only the settings stored in the checkpoint's event
tokenizer, never the training data, so a checkpoint generates anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import symusic

from workbench.atomic_files import write_bytes_atomically
from workbench.midi_data.encodings import MidiFileProblem, codec_for, events_of, text_of
from workbench.midi_data.reader import Piece


@dataclass(frozen=True, slots=True)
class Rendered:
    """A generated piece as MIDI, with what a listing shows about it."""

    score: symusic.Score
    notes: int
    seconds: float


def render(settings: dict[str, Any], text: str) -> Rendered:
    """The Score of an event text (DecodeError if the events are not music)."""
    score = codec_for(settings).decode(events_of(text))
    return Rendered(score, score.note_num(), _seconds(score))


def _seconds(score: symusic.Score) -> float:
    if score.note_num() == 0:
        return 0.0
    return float(score.to("second").end())


def midi_bytes(rendered: Rendered) -> bytes:
    """The standard MIDI file of a rendered piece, as bytes (what the player and exports read)."""
    return bytes(rendered.score.dumps_midi())


def write_midi(settings: dict[str, Any], text: str, path: str | os.PathLike[str]) -> Rendered:
    """Write an event text as a standard MIDI file at `path` (atomically)."""
    rendered = render(settings, text)
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


def prompt_from_piece(
    settings: dict[str, Any], piece: Piece, data_settings: dict[str, Any], events: int
) -> str:
    """The first `events` events of a loaded piece, as a model with `settings` reads them.

    A piece loaded with the model's own encoding (`data_settings`) gives its events as they
    are; under another encoding its MIDI file is read again with the model's (MidiFileProblem
    when it cannot be).
    """
    if data_settings == settings:
        return text_of(events_of(piece.text)[: max(0, events)])
    if not piece.path:
        raise MidiFileProblem("its MIDI file is not known, so it cannot be read again")
    return prompt_from_midi(settings, piece.path, events)
