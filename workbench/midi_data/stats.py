"""What the dataset pane shows about loaded MIDI pieces: sizes, event kinds, pitch classes, and a
readable preview of a piece's events (Qt-free).

The figures are read from the event texts the model will train on, not from the MIDI files, so
they describe exactly what the chosen encoding made of the files: how many events, which kinds
(`Pitch`, `Duration`, `Bar`, ... or the reports' single notes and chords), and which pitch
classes sound (a chord of the notes-and-chords encoding counts each of its pitch classes).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from workbench.midi_data.encodings import describe, events_of, note_name_to_midi
from workbench.midi_data.reader import MidiLoadResult

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Events per preview line when the encoding has no bar events to break lines at.
PREVIEW_EVENTS_PER_LINE = 12

_CHORD = re.compile(r"^\d+(\.\d+)+$")
_PITCH_EVENT = re.compile(r"^(?:Pitch|NoteOn)_(\d+)$")


@dataclass(frozen=True)
class MidiStats:
    """The statistics of one MIDI load (see :func:`midi_stats`)."""

    pieces: int = 0
    events: int = 0
    files: int = 0
    encoding: str = ""
    vocabulary: tuple[str, ...] = ()  # the distinct events, sorted
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # per piece
    kinds: dict[str, int] = field(default_factory=dict)  # event kind -> count, most first
    pitch_classes: dict[str, int] = field(default_factory=dict)  # C..B -> count, in order

    @property
    def median_length(self) -> int:
        """The median piece length in events (the upper one of an even count)."""
        return int(np.sort(self.lengths)[self.pieces // 2]) if self.pieces else 0


def event_kind(event: str) -> str:
    """`Pitch_60` -> `Pitch`; the reports' `E-4` -> `note` and `0.4.7` -> `chord`."""
    if "_" in event:
        return event.split("_", 1)[0]
    if _CHORD.match(event):
        return "chord"
    if note_name_to_midi(event) is not None:
        return "note"
    return event


def event_pitch_classes(event: str) -> list[int]:
    """The pitch classes (0 = C) an event sounds: one for a note, each of a chord's."""
    if m := _PITCH_EVENT.match(event):
        return [int(m.group(1)) % 12]
    if _CHORD.match(event):
        return [int(pc) % 12 for pc in event.split(".")]
    pitch = note_name_to_midi(event)
    return [pitch % 12] if pitch is not None else []


def midi_stats(result: MidiLoadResult) -> MidiStats:
    """Sizes, vocabulary, event kinds and pitch classes of `result`'s pieces."""
    counts: Counter[str] = Counter()
    for piece in result.pieces:
        counts.update(events_of(piece.text))
    kinds: Counter[str] = Counter()
    classes = [0] * 12
    for event, n in counts.items():
        kinds[event_kind(event)] += n
        for pc in event_pitch_classes(event):
            classes[pc] += n
    return MidiStats(
        pieces=len(result.pieces),
        events=result.events,
        files=len(result.files),
        encoding=describe(result.settings) if result.settings else "",
        vocabulary=tuple(sorted(counts)),
        lengths=np.array([p.events for p in result.pieces], dtype=int),
        kinds=dict(kinds.most_common()),
        pitch_classes=dict(zip(PITCH_CLASS_NAMES, classes, strict=True)),
    )


def preview_text(text: str, per_line: int = PREVIEW_EVENTS_PER_LINE) -> str:
    """An event text laid out to read: one bar a line (numbered) when the encoding writes bar
    events (REMI), else `per_line` events a line (numbered by their first event)."""
    events = events_of(text)
    if not events:
        return ""
    lines: list[list[str]] = []
    if any(e.startswith("Bar_") for e in events):
        for event in events:
            if event.startswith("Bar_") or not lines:
                lines.append([])
            lines[-1].append(event)
        width = len(str(len(lines)))
        return "\n".join(f"bar {i:>{width}} | {' '.join(line)}" for i, line in enumerate(lines, 1))
    width = len(str(len(events)))
    return "\n".join(
        f"{i + 1:>{width}} | {' '.join(events[i : i + per_line])}"
        for i in range(0, len(events), per_line)
    )
