"""An event sequence read as music, event by event: when each event happens, in which bar, and
which notes it starts (Qt-free).

MidiTok decodes a whole sequence to a Score but does not say which token made which note; the
neuron viewer needs exactly that (a label and probe targets per event), so this module reads the
events the way each encoding's decoder reads them:

- REMI, TSD, MIDI-like: the rules of MidiTok's own `_tokens_to_score`. A `Bar` moves to the
  start of the next bar of the current time signature, a `Position_p` to `p` steps into the bar
  (`max(beat_res)` steps a beat), `TimeShift` forward, `Rest` forward from the end of the notes
  so far; `Duration`/`TimeShift`/`Rest` values `B.P.R` are B + P/R beats. A *beat* is the time
  signature's denominator (a quarter in 4/4, an eighth in 6/8), as in MidiTok and MIDI. A note
  starts at a `Pitch` (its `Duration` follows, after a `Velocity` when velocities are on) or a
  `NoteOn` (ended by the next `NoteOff` of its pitch). No time signature token means 4/4.
- notes-chords: one event every `step_beats` quarter notes, each sounding that long, in 4/4 (as
  `NotesChordsCodec.decode` writes them); a chord's pitch classes sit in `chord_octave`, an
  octave the encoding does not know, so a chord event has no pitch height.

Times are exact fractions of a quarter note, so "on the beat" is an equality, not a tolerance.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from workbench.midi_data.encodings import (
    NOTES_CHORDS,
    NOTES_CHORDS_OCTAVE,
    NOTES_CHORDS_STEP_BEATS,
    note_name_to_midi,
)

#: MidiTok's default when a sequence has no time signature token.
DEFAULT_TIME_SIGNATURE = (4, 4)
#: A notes-chords chord: the normal order of its pitch classes (`0.4.7`; `0` for octaves),
#: as `NotesChordsCodec.decode` reads it.
CHORD_EVENT = re.compile(r"^\d+(\.\d+)*$")


@dataclass(frozen=True, slots=True)
class Note:
    """One note the events describe; `event` is the index of the event that starts it."""

    onset: Fraction  # quarter notes from the start
    end: Fraction  # onset + duration (equal to onset when the duration never came)
    pitch: int
    event: int


@dataclass(slots=True)
class Timeline:
    """Per event `i` (the state after reading it): its time, bar and meter, and its notes."""

    events: list[str]
    encoding: str
    time: list[Fraction] = field(default_factory=list)  # quarters from the start
    bar: list[int] = field(default_factory=list)  # 0-based bar index
    bar_start: list[Fraction] = field(default_factory=list)  # where that bar starts
    bar_length: list[Fraction] = field(default_factory=list)  # in quarters
    beat: list[Fraction] = field(default_factory=list)  # one beat, in quarters
    #: The notes event i starts (a Pitch or NoteOn starts one, a notes-chords chord several).
    starts: list[list[int]] = field(default_factory=list)
    #: The note event i belongs to (its Pitch/NoteOn, its Duration/Velocity), or -1.
    note_of: list[int] = field(default_factory=list)
    #: Whether event i's pitches are real heights (False for a notes-chords chord).
    pitch_known: list[bool] = field(default_factory=list)
    #: Whether event i starts a note that is part of a chord: other pitches start with it (a
    #: notes-chords chord event, octaves included).
    in_chord: list[bool] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events)

    def position(self, i: int) -> Fraction:
        """Quarters from the start of event i's bar."""
        return self.time[i] - self.bar_start[i]


def _miditok_config(settings: dict[str, Any]) -> dict[str, Any]:
    return dict(settings.get("miditok", {}).get("config", {}))


def steps_per_beat(settings: dict[str, Any]) -> int:
    """REMI's `Position` steps in one beat: the finest of MidiTok's beat resolutions."""
    beat_res = _miditok_config(settings).get("beat_res") or {"0_4": 8}
    return max(int(v) for v in beat_res.values())


def time_value(value: str) -> Fraction:
    """A MidiTok time value `B.P.R` (beats, positions, resolution) in beats: B + P/R."""
    beats, pos, res = (int(part) for part in value.split("."))
    return beats + Fraction(pos, res)


def _split(token: str) -> tuple[str, str]:
    kind, _, value = token.partition("_")
    return kind, value


def read_timeline(events: Sequence[str], settings: dict[str, Any]) -> Timeline:
    """Read `events` (an event text's tokens, specials allowed) per `settings`' encoding."""
    encoding = str(settings.get("encoding", ""))
    if encoding == NOTES_CHORDS:
        return _read_notes_chords(list(events), settings)
    return _read_miditok(list(events), encoding, settings)


def _read_miditok(events: list[str], encoding: str, settings: dict[str, Any]) -> Timeline:
    tl = Timeline(events, encoding)
    res = steps_per_beat(settings)
    num, den = DEFAULT_TIME_SIGNATURE
    beat = Fraction(4, den)
    bar_len = num * beat
    now = Fraction(0)
    bar = -1  # no Bar read yet: the first Bar (or Position) opens bar 0
    bar_start = Fraction(0)
    ts_time, ts_bar = Fraction(0), 0  # where the current time signature began
    note_end = Fraction(0)  # the end of the notes so far (where a Rest counts from)
    open_notes: dict[int, deque[int]] = defaultdict(deque)  # MIDI-like: pitch -> notes
    notes: list[Note] = []
    note_of = [-1] * len(events)
    starts: list[list[int]] = [[] for _ in events]

    for i, token in enumerate(events):
        kind, value = _split(token)
        if token == "Bar_None":
            bar += 1
            if bar > 0:
                now = bar_start + bar_len
            bar_start = now
        elif kind == "Position":
            bar = max(bar, 0)
            now = bar_start + int(value) * beat / res
        elif kind == "TimeShift":
            now += time_value(value) * beat
        elif kind == "Rest":
            # MidiTok's REMI and TSD rest from the end of the notes so far; MIDI-like from now.
            now = max(now, note_end) if encoding != "midilike" else now
            now += time_value(value) * beat
            if encoding == "remi":  # a rest may cross bar lines without Bar tokens
                crossed = ts_bar + int((now - ts_time) // bar_len)
                if crossed > bar:
                    bar_start += (crossed - max(bar, 0)) * bar_len
                    bar = crossed
        elif kind == "TimeSig":
            n, d = (int(x) for x in value.split("/"))
            if (n, d) != (num, den):
                num, den = n, d
                beat = Fraction(4, den)
                bar_len = num * beat
                # A change in REMI comes right after its Bar; in TSD/MIDI-like wherever it
                # falls, which then starts a bar.
                ts_bar = max(bar, 0) + (1 if bar >= 0 and now > bar_start else 0)
                ts_time = bar_start = now
        elif kind in ("Pitch", "NoteOn"):
            pitch = int(value)
            duration: Fraction | None = None
            if kind == "Pitch":
                k = i + 1
                if k < len(events) and events[k].startswith("Velocity_"):
                    note_of[k] = len(notes)
                    k += 1
                if k < len(events) and events[k].startswith("Duration_"):
                    duration = time_value(_split(events[k])[1]) * beat
                    note_of[k] = len(notes)
            end = now + (duration or 0)
            if kind == "NoteOn":
                open_notes[pitch].append(len(notes))
            notes.append(Note(now, end, pitch, i))
            note_end = max(note_end, end)
            note_of[i] = len(notes) - 1
            starts[i] = [pitch]
        elif kind == "NoteOff":
            pitch = int(value)
            if open_notes[pitch]:
                n = open_notes[pitch].popleft()
                notes[n] = Note(notes[n].onset, now, pitch, notes[n].event)
                note_of[i] = n
                note_end = max(note_end, now)
        elif kind == "Velocity" and i > 0 and events[i - 1].startswith("NoteOn_"):
            note_of[i] = note_of[i - 1]
        # TSD and MIDI-like have no Bar tokens: bars follow from the time signature.
        if encoding != "remi":
            bar = ts_bar + int((now - ts_time) // bar_len)
            bar_start = ts_time + (bar - ts_bar) * bar_len
        tl.time.append(now)
        tl.bar.append(max(bar, 0))
        tl.bar_start.append(bar_start)
        tl.bar_length.append(bar_len)
        tl.beat.append(beat)
    tl.notes = notes
    tl.note_of = note_of
    tl.starts = starts
    tl.pitch_known = [True] * len(events)
    at_onset: dict[Fraction, set[int]] = defaultdict(set)
    for note in notes:
        at_onset[note.onset].add(note.pitch)
    tl.in_chord = [bool(starts[i]) and len(at_onset[tl.time[i]]) > 1 for i in range(len(events))]
    return tl


def _read_notes_chords(events: list[str], settings: dict[str, Any]) -> Timeline:
    tl = Timeline(events, NOTES_CHORDS)
    step = Fraction(str(settings.get("step_beats", NOTES_CHORDS_STEP_BEATS)))
    octave = int(settings.get("chord_octave", NOTES_CHORDS_OCTAVE))
    bar_len = Fraction(4)
    now = Fraction(0)
    for i, event in enumerate(events):
        pitches: list[int] = []
        known = True
        chord = bool(CHORD_EVENT.match(event))
        if chord:
            pitches = sorted({12 * (octave + 1) + int(pc) % 12 for pc in event.split(".")})
            known = False
        elif (pitch := note_name_to_midi(event)) is not None:
            pitches = [pitch]
        # The decoder places a note or chord every step and skips anything else.
        onset = now
        if pitches:
            now += step
        tl.notes.extend(Note(onset, onset + step, p, i) for p in pitches)
        tl.starts.append(pitches)
        tl.note_of.append(len(tl.notes) - 1 if pitches else -1)
        tl.pitch_known.append(known)
        tl.in_chord.append(chord)
        tl.time.append(onset)
        bar = int(onset // bar_len)
        tl.bar.append(bar)
        tl.bar_start.append(bar * bar_len)
        tl.bar_length.append(bar_len)
        tl.beat.append(Fraction(1))
    return tl
