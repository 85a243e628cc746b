"""Timed note events: what the player plays, read from standard MIDI file bytes or from ABC.

A :class:`Tune` is a list of :class:`NoteEvent` in seconds at the tune's own tempo (tempo
changes in the file already applied), the General MIDI program of each channel, and the
follow-along cues (which ABC characters wrote the note sounding at a time). MIDI files are read
with mido; ABC goes through music21 (``workbench.notation.convert`` when it is there).
"""

from __future__ import annotations

import io
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

import mido


class PlaybackError(Exception):
    """A tune that cannot be played (bad MIDI bytes, ABC that music21 cannot convert)."""


@dataclass(frozen=True)
class NoteEvent:
    """One note: seconds from the tune's start, MIDI pitch 0-127, velocity 1-127, channel 0-15."""

    start: float
    end: float
    pitch: int
    velocity: int = 90
    channel: int = 0


@dataclass(frozen=True)
class Cue:
    """From ``time`` seconds on, ABC characters [start, end) wrote the note sounding."""

    time: float
    start: int
    end: int


@dataclass
class Tune:
    """A playable tune. ``programs`` maps a channel to its General MIDI program (0-127)."""

    notes: list[NoteEvent]
    programs: dict[int, int] = field(default_factory=dict)
    title: str = ""
    abc: str | None = None
    cues: list[Cue] = field(default_factory=list)
    # Quarter notes -> seconds, as (quarter, seconds, seconds per quarter) segments from the
    # MIDI tempo map; used to place score offsets (follow-along cues) on the played timeline.
    tempo_segments: list[tuple[float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.notes = sorted(self.notes, key=lambda n: (n.start, n.pitch))

    @property
    def duration(self) -> float:
        return max((n.end for n in self.notes), default=0.0)

    @property
    def channels(self) -> list[int]:
        return sorted({n.channel for n in self.notes} | set(self.programs))

    def quarters_to_seconds(self, quarters: float) -> float:
        segments = self.tempo_segments or [(0.0, 0.0, 0.5)]
        i = max(0, bisect_right([s[0] for s in segments], quarters) - 1)
        q0, t0, spq = segments[i]
        return t0 + (quarters - q0) * spq


def tune_from_notes(
    notes: Sequence[NoteEvent], programs: dict[int, int] | None = None, title: str = ""
) -> Tune:
    return Tune(list(notes), dict(programs or {}), title)


def tune_from_midi(data: bytes, title: str = "") -> Tune:
    """Read a standard MIDI file's notes, programs and tempo map.

    Raises :class:`PlaybackError` naming the problem when the bytes are not a MIDI file.
    """
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
        raise PlaybackError(f"not a readable MIDI file: {error}") from error
    if midi.type == 2:
        raise PlaybackError("MIDI type 2 files (independent sequences) are not supported")
    tpb = midi.ticks_per_beat or 480
    notes: list[NoteEvent] = []
    programs: dict[int, int] = {}
    sounding: dict[tuple[int, int], list[tuple[float, int]]] = {}
    segments: list[tuple[float, float, float]] = [(0.0, 0.0, 0.5)]
    seconds = 0.0
    ticks = 0
    tempo = 500_000  # microseconds per quarter: the MIDI default (120 bpm)
    # mido.merge_tracks gives one stream in delta ticks; seconds follow the tempo changes.
    for msg in mido.merge_tracks(midi.tracks):
        ticks += msg.time
        seconds += mido.tick2second(msg.time, tpb, tempo)
        if msg.type == "set_tempo":
            tempo = msg.tempo
            if segments[-1][0] == ticks / tpb:  # a change at the same moment replaces it
                segments.pop()
            segments.append((ticks / tpb, seconds, tempo / 1e6))
        elif msg.type == "program_change":
            programs.setdefault(msg.channel, msg.program)
        elif msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault((msg.channel, msg.note), []).append((seconds, msg.velocity))
        elif msg.type in ("note_off", "note_on"):
            started = sounding.get((msg.channel, msg.note))
            if started:
                start, velocity = started.pop(0)
                notes.append(NoteEvent(start, seconds, msg.note, velocity, msg.channel))
    for (channel, pitch), starts in sounding.items():  # never released: end at the last event
        notes.extend(NoteEvent(s, max(seconds, s), pitch, v, channel) for s, v in starts)
    return Tune(notes, programs, title, tempo_segments=segments)


def abc_to_midi(abc: str, *, tempo_bpm: float | None = None) -> bytes:
    """ABC text -> standard MIDI file bytes (music21). Raises :class:`PlaybackError`."""
    from workbench.notation.convert import ConversionError, abc_to_midi_bytes

    try:
        return abc_to_midi_bytes(abc, tempo_bpm=tempo_bpm)
    except ConversionError as error:
        raise PlaybackError(str(error)) from error


def tune_from_abc(abc: str, title: str = "") -> Tune:
    """Convert ABC (music21, repeats played as abc2midi plays them) into note events with
    follow-along cues.

    Raises :class:`PlaybackError` with music21's reason when the tune cannot be converted.
    """
    from workbench.notation.convert import ConversionError, abc_to_score, score_to_midi_bytes
    from workbench.playback.follow import abc_cues

    try:
        score = abc_to_score(abc, played=True)
        data = score_to_midi_bytes(score)
    except ConversionError as error:
        raise PlaybackError(str(error)) from error
    tune = tune_from_midi(data, title)
    tune.abc = abc
    tune.cues = abc_cues(abc, score, tune)
    return tune
