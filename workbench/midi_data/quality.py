"""Quality measures of a MIDI piece, real or generated (Qt-free).

The same numbers are computed on held-out real pieces and on generated ones, so a model can be
judged by how close its pieces come to real music (benchmarks/midi_quality.py). MusPy's
definitions (Dong et al., "MusPy", ISMIR 2020; its `muspy.metrics`), written here for a symusic
Score rather than pulling in MusPy and its dependencies; a "beat" is a quarter note (MusPy's
`resolution`), drum tracks are left out, every other track counts:

- `pitch_class_entropy`: Shannon entropy (bits) of the pitch-class histogram of the notes
  (log2 12 = 3.58 when all twelve are equally common).
- `scale_consistency`: the largest share of notes inside one major or natural-minor scale.
- `distinct_pitches`: MIDI pitches used (MusPy's `n_pitches_used`); `pitch_range`: highest
  minus lowest, in semitones.
- `polyphony`: pitches sounding at once, averaged over the time where at least one sounds (a
  pitch held by two tracks at once counts once, as in MusPy's boolean piano roll).
- `empty_beat_rate`: the share of beats in which no note sounds. MusPy's code marks a beat
  sounding when a note *ends* on its first tick, so a one-beat rest between notes never counts
  as empty there; here a note sounds in a beat only when it overlaps it, as its definition
  says ("beats where no note is played").

and the measures behind the issue's per-piece targets, which MusPy does not define:

- `top_pitch_share`: the share of notes on the most common pitch.
- `distinct_durations`: note durations used, each rounded to 1/24 of a beat (tied triplets
  and dotted values stay apart; a performance's jitter of a few ticks does not).
- `longest_run`: the longest stretch of consecutive notes (in time order; notes that start
  together in pitch order) with the same pitch and duration: "one note repeated".
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import symusic

#: Durations are compared on a grid of 1/24 beat (see the module docstring).
DURATION_GRID = 24
#: Pitch classes of C major and C natural minor; the other 22 scales are rotations.
_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)


@dataclass(frozen=True, slots=True)
class Notes:
    """A piece's non-drum notes as arrays in ticks, sorted by onset then pitch."""

    onset: np.ndarray  # (N,) int64
    duration: np.ndarray  # (N,) int64
    pitch: np.ndarray  # (N,) int64
    tpq: int

    def __len__(self) -> int:
        return len(self.pitch)


def notes_of(score: symusic.Score | str | os.PathLike[str]) -> Notes:
    """The non-drum notes of a symusic Score or a MIDI file (read with symusic)."""
    if not isinstance(score, symusic.Score):
        from workbench.midi_data.encodings import read_score

        score = read_score(score)
    columns: dict[str, list[np.ndarray]] = {"time": [], "duration": [], "pitch": []}
    for track in score.tracks:
        if track.is_drum or not len(track.notes):
            continue
        arrays = track.notes.numpy()
        for key in columns:
            columns[key].append(np.asarray(arrays[key], dtype=np.int64))
    onset, duration, pitch = (
        np.concatenate(columns[k]) if columns[k] else np.zeros(0, np.int64)
        for k in ("time", "duration", "pitch")
    )
    order = np.lexsort((duration, pitch, onset))  # onset first, then pitch, then duration
    return Notes(onset[order], duration[order], pitch[order], int(score.ticks_per_quarter))


def pitch_class_entropy(notes: Notes) -> float:
    if not len(notes):
        return math.nan
    counts = np.bincount(notes.pitch % 12, minlength=12).astype(float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(notes: Notes) -> float:
    if not len(notes):
        return math.nan
    counts = np.bincount(notes.pitch % 12, minlength=12)
    best = max(
        int(counts[np.roll(scale, root)].sum()) for scale in (_MAJOR, _MINOR) for root in range(12)
    )
    return best / len(notes)


def distinct_pitches(notes: Notes) -> int:
    return len(np.unique(notes.pitch))


def pitch_range(notes: Notes) -> int:
    return int(notes.pitch.max() - notes.pitch.min()) if len(notes) else 0


def top_pitch_share(notes: Notes) -> float:
    if not len(notes):
        return math.nan
    return int(np.bincount(notes.pitch).max()) / len(notes)


def _grid_durations(notes: Notes) -> np.ndarray:
    return np.rint(notes.duration * DURATION_GRID / notes.tpq).astype(np.int64)


def distinct_durations(notes: Notes) -> int:
    return len(np.unique(_grid_durations(notes)))


def longest_run(notes: Notes) -> int:
    if not len(notes):
        return 0
    durations = _grid_durations(notes)
    same = (notes.pitch[1:] == notes.pitch[:-1]) & (durations[1:] == durations[:-1])
    best = run = 1
    for s in same:
        run = run + 1 if s else 1
        best = max(best, run)
    return best


def _union(starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
    """The union of half-open intervals [start, end) as sorted, disjoint intervals."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(zip(starts.tolist(), ends.tolist(), strict=True)):
        if e <= s:
            continue  # a zero-length note sounds nowhere (as in a piano roll)
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def polyphony(notes: Notes) -> float:
    """Sum over pitches of the time each sounds, over the time any pitch sounds."""
    ends = notes.onset + notes.duration
    sounding = sum(e - s for s, e in _union(notes.onset, ends))
    if sounding == 0:
        return math.nan
    per_pitch = 0
    for p in np.unique(notes.pitch):
        mask = notes.pitch == p
        per_pitch += sum(e - s for s, e in _union(notes.onset[mask], ends[mask]))
    return per_pitch / sounding


def empty_beat_rate(notes: Notes) -> float:
    """Beats (quarter notes from tick 0 to the last note's end) in which no note sounds."""
    ends = notes.onset + notes.duration
    if not len(notes) or int(ends.max()) < 1:
        return math.nan
    beats = math.ceil(int(ends.max()) / notes.tpq)
    sounding = np.zeros(beats, bool)
    for s, e in _union(notes.onset, ends):
        # Beats overlapping [s, e): from the one holding s to the one holding e - 1.
        sounding[s // notes.tpq : (e - 1) // notes.tpq + 1] = True
    return 1.0 - float(sounding.sum()) / beats


@dataclass(frozen=True, slots=True)
class Quality:
    """Every measure of one piece (see the module docstring)."""

    notes: int
    pitch_class_entropy: float
    scale_consistency: float
    distinct_pitches: int
    pitch_range: int
    top_pitch_share: float
    distinct_durations: int
    longest_run: int
    polyphony: float
    empty_beat_rate: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(score: symusic.Score | str | os.PathLike[str]) -> Quality:
    """Every measure of a symusic Score or a MIDI file."""
    n = notes_of(score)
    return Quality(
        notes=len(n),
        pitch_class_entropy=pitch_class_entropy(n),
        scale_consistency=scale_consistency(n),
        distinct_pitches=distinct_pitches(n),
        pitch_range=pitch_range(n),
        top_pitch_share=top_pitch_share(n),
        distinct_durations=distinct_durations(n),
        longest_run=longest_run(n),
        polyphony=polyphony(n),
        empty_beat_rate=empty_beat_rate(n),
    )


@dataclass(frozen=True, slots=True)
class Target:
    """One of the issue's per-piece targets for a generated piece."""

    name: str
    field: str
    op: str  # ">=" or "<="
    bound: float

    def passes(self, quality: Quality) -> bool:
        value = getattr(quality, self.field)
        if isinstance(value, float) and math.isnan(value):
            return False
        return value >= self.bound if self.op == ">=" else value <= self.bound


#: The issue's per-piece targets (issue 13): what a generated piece must reach.
PIECE_TARGETS = (
    Target(">= 100 notes", "notes", ">=", 100),
    Target(">= 12 distinct pitches", "distinct_pitches", ">=", 12),
    Target("no pitch above 25 % of notes", "top_pitch_share", "<=", 0.25),
    Target(">= 3 distinct durations", "distinct_durations", ">=", 3),
    Target("no run of 8 identical events", "longest_run", "<=", 7),
)


def failed_targets(quality: Quality) -> list[str]:
    """The names of the per-piece targets `quality` misses (empty when it meets them all)."""
    return [t.name for t in PIECE_TARGETS if not t.passes(quality)]
