"""MIDI files for the tests, written with mido: known notes at known onsets and durations."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import mido

#: (pitch, onset in beats, duration in beats) of the mido file: two tracks (hands), an
#: off-grid triplet onset and a long note across the bar.
MIDO_NOTES = [
    (60, 0.0, 1.0),
    (64, 1.0, 0.5),
    (67, 1.5, 0.5),
    (72, 2.0, 2.0),
    (71, 4.0, 1 / 3),
    (69, 4 + 1 / 3, 1 / 3),
    (67, 4 + 2 / 3, 1 / 3),
    (65, 5.0, 3.0),
    (48, 0.0, 2.0),
    (55, 2.0, 2.0),
    (43, 4.0, 4.0),
]
TPQ = 480


def write_mido_file(path: Path, notes=MIDO_NOTES, tracks: int = 2) -> Path:
    """A type-1 file: tempo and 4/4 in a conductor track, right hand (>= 60) and left hand."""
    hands = [[n for n in notes if n[0] >= 60], [n for n in notes if n[0] < 60]][:tracks]
    return write_tracks(path, hands)


def write_tracks(path: Path, tracks: list[list[tuple[int, float, float]]]) -> Path:
    """A type-1 file at TPQ ticks per beat: tempo and 4/4 in a conductor track, then one track
    (and channel) per list of (pitch, onset in beats, duration in beats)."""
    mf = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    mf.tracks.append(conductor)
    for channel, hand in enumerate(tracks):
        events = []
        for pitch, onset, dur in hand:
            events.append(
                (
                    round(onset * TPQ),
                    1,
                    mido.Message("note_on", note=pitch, velocity=80, channel=channel),
                )
            )
            events.append(
                (
                    round((onset + dur) * TPQ),
                    0,
                    mido.Message("note_off", note=pitch, channel=channel),
                )
            )
        events.sort(key=lambda e: (e[0], e[1]))
        track = mido.MidiTrack()
        now = 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        mf.tracks.append(track)
    mf.save(path)
    return path


def tempi_of(path_or_bytes: Path | bytes) -> list[float]:
    """The tempi a MIDI file (a path, or its bytes) sets, in beats per minute, read with mido."""
    if isinstance(path_or_bytes, bytes):
        mf = mido.MidiFile(file=io.BytesIO(path_or_bytes))
    else:
        mf = mido.MidiFile(str(path_or_bytes))
    return [
        round(mido.tempo2bpm(msg.tempo), 3)
        for track in mf.tracks
        for msg in track
        if msg.type == "set_tempo"
    ]


def sounding_spans(score) -> dict[int, list[tuple[float, float]]]:
    """Pitch -> the stretches of time (in beats from the start) in which it sounds, merged."""
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for n in score.flatten().notes:
        start = float(n.offset)
        for p in n.pitches:
            spans[p.midi].append((start, start + float(n.duration.quarterLength)))
    merged: dict[int, list[tuple[float, float]]] = {}
    for pitch, found in spans.items():
        out: list[list[float]] = []
        for start, end in sorted(found):
            if out and start <= out[-1][1] + 1e-6:
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        merged[pitch] = [(round(a, 4), round(b, 4)) for a, b in out]
    return merged
