"""Short musical labels for events, as a musician reads them (Qt-free).

`Pitch_60` -> `C4`, `Duration_1.0.8` -> `♩`, `Position_12` -> `@2½` (beat 2½ of the bar),
`TimeShift_0.4.8` -> `Shift ½` (beats), `Bar_None` -> `Bar`, `TimeSig_6/8` -> `6/8`,
`NoteOn_60`/`NoteOff_60` -> `C4 on`/`C4 off`, `Rest_1.0.8` -> `rest ♩`, and the reports'
notes-chords events `E-4` -> `E♭4 ♪`, `0.4.7` -> `0.4.7 ♪` (every one lasts `step_beats` when
decoded). Pitch names are music21's spelling (`C♯`, `E♭`, `F♯`, `G♯`, `B♭`) from a table of
twelve, so labelling a piece never waits for music21 to import. A duration is a note glyph
when it is one (`♬ ♪ ♪. ♩ ♩.`), else a count of quarter notes (`2♩`, `⅜♩`); note values come
from the time signature in force (an eighth is one beat in 6/8), read by
:mod:`workbench.midi_data.timeline`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from workbench.midi_data.encodings import NOTES_CHORDS, NOTES_CHORDS_STEP_BEATS
from workbench.midi_data.timeline import (
    CHORD_EVENT,
    Timeline,
    read_timeline,
    steps_per_beat,
    time_value,
)

#: music21's spelling of the twelve pitch classes (Pitch(midi=n).unicodeName).
PITCH_CLASS_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "G♯", "A", "B♭", "B")
# music21's nameWithOctave: a step, its accidentals, the octave.
_NAME = re.compile(r"^([A-G])(#{1,2}|-{1,2})?(-?\d+)$")
_ACCIDENTALS = {"#": "♯", "##": "𝄪", "-": "♭", "--": "𝄫", "": ""}
#: Note values with a glyph, in quarter notes.
NOTE_GLYPHS = {
    Fraction(1, 4): "♬",
    Fraction(1, 2): "♪",
    Fraction(3, 4): "♪.",
    Fraction(1): "♩",
    Fraction(3, 2): "♩.",
}
_VULGAR = {
    Fraction(1, 2): "½",
    Fraction(1, 3): "⅓",
    Fraction(2, 3): "⅔",
    Fraction(1, 4): "¼",
    Fraction(3, 4): "¾",
    Fraction(1, 8): "⅛",
    Fraction(3, 8): "⅜",
    Fraction(5, 8): "⅝",
    Fraction(7, 8): "⅞",
}
#: Tokens that are not music: the tokenizer's specials and MidiTok's own.
SPECIAL_LABELS = {
    "<start>": "start",
    "<end>": "end",
    "<unk>": "?",
    "PAD_None": "pad",
    "BOS_None": "begin",
    "EOS_None": "end",
    "MASK_None": "mask",
}


def pitch_name(midi: int) -> str:
    """`C4` for MIDI 60, `B♭3` for 58 (music21's spelling; octave 4 holds middle C)."""
    return f"{PITCH_CLASS_NAMES[midi % 12]}{midi // 12 - 1}"


def amount(value: Fraction) -> str:
    """`2`, `½`, `1½`, `⅜`, `5/16`: a whole part and a vulgar fraction where one exists."""
    value = Fraction(value)
    whole, part = divmod(value, 1)
    if part == 0:
        return str(whole)
    if part in _VULGAR:
        return f"{whole or ''}{_VULGAR[part]}"
    return f"{value.numerator}/{value.denominator}"


def duration_text(quarters: Fraction) -> str:
    """A note value: a glyph (`♩`, `♪.`), or quarter notes counted (`2♩`, `⅜♩`)."""
    quarters = Fraction(quarters)
    return NOTE_GLYPHS.get(quarters) or f"{amount(quarters)}♩"


def _note_name(name: str) -> str | None:
    """music21's `E-4` / `F#5` written with ♭/♯: `E♭4`, `F♯5`; None if it is not a name."""
    m = _NAME.match(name)
    if not m:
        return None
    step, accidental, octave = m.groups()
    return f"{step}{_ACCIDENTALS[accidental or '']}{octave}"


def label_event(token: str, settings: dict[str, Any], beat: Fraction = Fraction(1)) -> str:
    """The label of one event, with `beat` the quarter notes of one beat where it stands."""
    if token in SPECIAL_LABELS:
        return SPECIAL_LABELS[token]
    if settings.get("encoding") == NOTES_CHORDS:
        step = duration_text(Fraction(str(settings.get("step_beats", NOTES_CHORDS_STEP_BEATS))))
        if CHORD_EVENT.match(token):
            return f"{token} {step}"
        named = _note_name(token)
        return f"{named} {step}" if named is not None else token
    kind, _, value = token.partition("_")
    try:
        if kind == "Bar":
            return "Bar"
        if kind == "TimeSig":
            return value
        if kind == "Pitch":
            return pitch_name(int(value))
        if kind == "NoteOn":
            return f"{pitch_name(int(value))} on"
        if kind == "NoteOff":
            return f"{pitch_name(int(value))} off"
        if kind == "Duration":
            return duration_text(time_value(value) * beat)
        if kind == "Rest":
            return f"rest {duration_text(time_value(value) * beat)}"
        if kind == "TimeShift":
            return f"Shift {amount(time_value(value))}"
        if kind == "Position":
            return f"@{amount(1 + Fraction(int(value), steps_per_beat(settings)))}"
        if kind == "Velocity":
            return f"vel {value}"
        if kind == "Tempo":
            return f"♩={float(value):g}"
        if kind == "Program":
            return f"prog {value}"
    except ValueError:
        pass  # a malformed value: show the token as it is
    return token


def event_labels(
    events: Sequence[str], settings: dict[str, Any], timeline: Timeline | None = None
) -> list[str]:
    """A label per event, note values read in the time signature in force at each."""
    timeline = timeline if timeline is not None else read_timeline(events, settings)
    return [
        label_event(token, settings, timeline.beat[i] if i < len(timeline) else Fraction(1))
        for i, token in enumerate(events)
    ]


def describe_event(timeline: Timeline, i: int, label: str) -> str:
    """`C4 (Pitch_60), bar 2 beat 1½`: an event with its raw name and where it falls."""
    beat = amount(1 + timeline.position(i) / timeline.beat[i])
    return f"{label} ({timeline.events[i]}), bar {timeline.bar[i] + 1} beat {beat}"
