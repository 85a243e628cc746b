"""Musical probes over an event model's input, and the ranking of neurons against them (Qt-free).

The event counterpart of :mod:`workbench.neurons.probes`: a probe turns a piece's events (read
as music by :func:`workbench.midi_data.timeline.read_timeline`) into one target per event, the
state *after reading* that event, NaN where the probe says nothing; the ranking is the char
probes' own (`rank_neurons`: Cohen's d for a yes/no target, Pearson r for a number).

- **On a beat**: for each event that starts a note, 1 when the note starts on a beat of the time
  signature (a whole number of beats into its bar), 0 when between beats.
- **Position in the bar**: for each event that starts a note, how far into its bar it starts
  (0 on the downbeat, < 1 at the end).
- **Chord vs single note**: for each event that starts a note, 1 when other pitches start at the
  same moment (a chord; in notes-chords, a chord event), 0 for a note alone.
- **Pitch height**: the MIDI pitch of the note an event starts or completes (its `Duration` or
  `Velocity`); notes-chords chords have none (their octave is not in the encoding).
- **Inside a rest**: every event; 1 when no note sounds at its moment. The timed encodings have
  no rest events (MidiTok's rests are off): the music falls silent *between* events, when a
  `Position`, `TimeShift` or `Bar` jumps past the end of every note. So an event that moves time
  forward is inside a rest when the moment it arrives from silence (nothing sounds just before
  its time), and any other event when nothing sounds at its time. Notes-chords never rests.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from workbench.midi_data.timeline import Timeline, read_timeline
from workbench.neurons.probes import MIN_GROUP, Probe, ProbeError, Ranking, rank_neurons


def _starts_note(tl: Timeline) -> np.ndarray:
    return np.fromiter((bool(s) for s in tl.starts), dtype=bool, count=len(tl))


def on_beat(tl: Timeline) -> np.ndarray:
    """1 on events that start a note on a beat, 0 on those that start one off the beat."""
    target = np.full(len(tl), np.nan, dtype=np.float32)
    for i in np.flatnonzero(_starts_note(tl)):
        target[i] = 1.0 if (tl.position(i) / tl.beat[i]).denominator == 1 else 0.0
    return target


def bar_position(tl: Timeline) -> np.ndarray:
    """Fraction of its bar elapsed when each note-starting event's note starts; NaN elsewhere."""
    target = np.full(len(tl), np.nan, dtype=np.float32)
    for i in np.flatnonzero(_starts_note(tl)):
        target[i] = float(tl.position(i) / tl.bar_length[i])
    return target


def chord(tl: Timeline) -> np.ndarray:
    """1 on note-starting events of a chord, 0 on those of a single note; NaN elsewhere."""
    target = np.full(len(tl), np.nan, dtype=np.float32)
    for i in np.flatnonzero(_starts_note(tl)):
        target[i] = 1.0 if tl.in_chord[i] else 0.0
    return target


def pitch_height(tl: Timeline) -> np.ndarray:
    """The MIDI pitch of the note an event starts or completes; NaN elsewhere."""
    target = np.full(len(tl), np.nan, dtype=np.float32)
    for i, n in enumerate(tl.note_of):
        if n >= 0 and tl.pitch_known[tl.notes[n].event]:
            target[i] = tl.notes[n].pitch
    return target


def _sounding(tl: Timeline) -> list[tuple[Fraction, Fraction]]:
    """The times some note sounds, as disjoint [start, end) spans in order; notes that touch
    (one ends as the next starts) make one span: no silence between them."""
    spans: list[tuple[Fraction, Fraction]] = []
    for onset, end in sorted((n.onset, n.end) for n in tl.notes if n.end > n.onset):
        if spans and onset <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((onset, end))
    return spans


def rest(tl: Timeline) -> np.ndarray:
    """1 on events inside a rest (see the module docstring), 0 elsewhere."""
    spans = _sounding(tl)
    starts = [s for s, _ in spans]

    def sounds_at(t: Fraction) -> bool:  # some span holds t: start <= t < end
        k = bisect.bisect_right(starts, t) - 1
        return k >= 0 and t < spans[k][1]

    def sounds_before(t: Fraction) -> bool:  # some span holds the moment just before t
        k = bisect.bisect_left(starts, t) - 1
        return k >= 0 and t <= spans[k][1]

    target = np.zeros(len(tl), dtype=np.float32)
    previous = Fraction(0)
    for i, t in enumerate(tl.time):
        silent = not sounds_before(t) if t > previous else not sounds_at(t)
        target[i] = 1.0 if silent else 0.0
        previous = t
    return target


EVENT_PROBES: dict[str, Probe] = {
    p.name: p
    for p in (
        Probe("on_beat", "Note on a beat (vs between beats)", on_beat),
        Probe("bar_position", "Position within the bar", bar_position, binary=False),
        Probe("chord", "Chord (vs a single note)", chord),
        Probe("pitch", "Pitch height (MIDI pitch)", pitch_height, binary=False),
        Probe("rest", "Inside a rest (nothing sounding)", rest),
    )
}


def event_target(name: str, timeline: Timeline) -> np.ndarray:
    """The target of probe `name` over `timeline`, one value per event."""
    return EVENT_PROBES[name].target(timeline)


def rank_event_probe(name: str, timeline: Timeline, acts: np.ndarray) -> Ranking:
    """Rank the units of `acts` (events, units) for the event probe `name`.

    ProbeError, in the piece's terms, when the piece cannot tell (no rests, no chords...)."""
    probe = EVENT_PROBES[name]
    target = probe.target(timeline)
    values = target[~np.isnan(target)]
    if probe.binary:
        yes = int((values > 0.5).sum())
        no = len(values) - yes
        if min(yes, no) < MIN_GROUP:
            raise ProbeError(
                f"this piece has {yes} events where it holds and {no} where it does not; "
                f"the probe needs at least {MIN_GROUP} of each"
            )
    elif len(values) < 3 or np.ptp(values) == 0:
        raise ProbeError(
            f"the target needs at least 3 events and must vary ({len(values)} had one)"
        )
    return rank_neurons(acts, target, binary=probe.binary)


def run_event_probe(
    name: str, events: Sequence[str], settings: dict[str, Any], acts: np.ndarray
) -> Ranking:
    """Rank the units of `acts` for probe `name` over `events` encoded per `settings`."""
    return rank_event_probe(name, read_timeline(events, settings), acts)
