"""The quality measures (workbench/midi_data/quality.py): exact values on MIDI files written
note by note with mido, and the same numbers read independently through music21 from real
chorales."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import mido
import pytest
import symusic

from workbench.midi_data.quality import PIECE_TARGETS, failed_targets, measure

TPQ = 480


def write_notes(path: Path, *tracks: list[tuple[int, float, float]], drums=None) -> Path:
    """A type-1 file with one track per list of (pitch, onset, duration) in beats; `drums`
    (same shape) goes on channel 10."""
    mf = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    mf.tracks.append(conductor)
    voices = [(notes, channel) for channel, notes in enumerate(tracks)]
    if drums is not None:
        voices.append((drums, 9))
    for notes, channel in voices:
        events = []
        for pitch, onset, dur in notes:
            on = mido.Message("note_on", note=pitch, velocity=80, channel=channel)
            off = mido.Message("note_off", note=pitch, channel=channel)
            events.append((round(onset * TPQ), 1, on))
            events.append((round((onset + dur) * TPQ), 0, off))
        events.sort(key=lambda e: (e[0], e[1]))
        track, now = mido.MidiTrack(), 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        mf.tracks.append(track)
    mf.save(path)
    return path


def sequence(pitches, dur: float = 1.0, start: float = 0.0):
    return [(p, start + i * dur, dur) for i, p in enumerate(pitches)]


C_MAJOR = [60, 62, 64, 65, 67, 69, 71]


def test_a_c_major_scale(tmp_path: Path) -> None:
    q = measure(write_notes(tmp_path / "scale.mid", sequence(C_MAJOR)))
    assert q.notes == 7
    assert q.pitch_class_entropy == pytest.approx(math.log2(7))
    assert q.scale_consistency == 1.0
    assert q.distinct_pitches == 7
    assert q.pitch_range == 11
    assert q.top_pitch_share == pytest.approx(1 / 7)
    assert q.distinct_durations == 1
    assert q.longest_run == 1
    assert q.polyphony == 1.0
    assert q.empty_beat_rate == 0.0


def test_a_chromatic_scale_fits_no_scale(tmp_path: Path) -> None:
    q = measure(write_notes(tmp_path / "chromatic.mid", sequence(range(60, 72), dur=0.5)))
    assert q.pitch_class_entropy == pytest.approx(math.log2(12))
    assert q.scale_consistency == pytest.approx(7 / 12)
    # A natural minor scale counts as much as a major one: A minor holds C major's notes.
    a_minor = [57, 59, 60, 62, 64, 65, 67]
    q = measure(write_notes(tmp_path / "a_minor.mid", sequence([*a_minor, 68, 68, 68])))
    assert q.scale_consistency == pytest.approx(7 / 10)  # the G sharps are outside


def test_triads_with_rests_between(tmp_path: Path) -> None:
    # Four one-beat C major triads, a one-beat rest after each of the first three.
    chords = [(p, 2.0 * i, 1.0) for i in range(4) for p in (60, 64, 67)]
    q = measure(write_notes(tmp_path / "triads.mid", chords))
    assert q.notes == 12
    assert q.polyphony == 3.0
    assert q.empty_beat_rate == pytest.approx(3 / 7)  # 7 beats to the last note's end
    assert q.pitch_class_entropy == pytest.approx(math.log2(3))
    assert q.scale_consistency == 1.0
    assert q.top_pitch_share == pytest.approx(1 / 3)
    # In time order, then pitch order: C E G C E G ... never the same note twice running.
    assert q.longest_run == 1


def test_polyphony_counts_the_time_each_pitch_sounds(tmp_path: Path) -> None:
    # 60 over beats 0-2 and 64 over 1-3: 4 pitch-beats over 3 sounding beats; a gap of two
    # beats, then 72 alone for one beat: 5 over 4.
    path = write_notes(tmp_path / "overlap.mid", [(60, 0, 2), (64, 1, 2), (72, 5, 1)])
    q = measure(path)
    assert q.polyphony == pytest.approx(5 / 4)
    assert q.empty_beat_rate == pytest.approx(2 / 6)
    # The same pitch held by two tracks at once sounds once (MusPy's boolean piano roll).
    doubled = write_notes(tmp_path / "doubled.mid", [(60, 0, 4)], [(60, 0, 4), (67, 0, 2)])
    assert measure(doubled).polyphony == pytest.approx(6 / 4)


def test_a_note_ending_on_a_beat_does_not_fill_the_next(tmp_path: Path) -> None:
    # Half-beat notes: each beat holds a note except beat 2 (empty); beat 4 holds one that
    # starts half-way through it.
    notes = [(60, 0, 1), (62, 1, 1), (64, 3, 1), (65, 4.5, 0.5)]
    q = measure(write_notes(tmp_path / "gaps.mid", notes))
    assert q.empty_beat_rate == pytest.approx(1 / 5)


def test_durations_are_told_apart_on_a_grid_of_a_24th_beat(tmp_path: Path) -> None:
    notes = [
        (60, 0, 1.0),  # quarter
        (62, 1, 0.5),  # eighth
        (64, 1.5, 1.5),  # dotted quarter
        (65, 3, 1 / 3),  # triplet eighth
        (67, 10 / 3, 478 / TPQ),  # a quarter played 2 ticks short: still a quarter
        (69, 5, 1 / 3 + 1 / 24),  # a 24th longer than a triplet eighth: a new value
    ]
    q = measure(write_notes(tmp_path / "durations.mid", notes))
    assert q.distinct_durations == 5


def test_the_longest_run_of_identical_notes(tmp_path: Path) -> None:
    eight = sequence([60] * 8 + [62])
    q = measure(write_notes(tmp_path / "eight.mid", eight))
    assert q.longest_run == 8
    assert q.top_pitch_share == pytest.approx(8 / 9)
    # The same pitch with another duration breaks the run.
    broken = [*sequence([60] * 4), (60, 4, 0.5), *sequence([60] * 4, start=4.5)]
    q = measure(write_notes(tmp_path / "broken.mid", broken))
    assert q.longest_run == 4
    # Notes of another voice between them break it too (time order across tracks).
    melody = sequence([60] * 6)
    bass = [(48, 2.5, 0.5)]
    assert measure(write_notes(tmp_path / "voices.mid", melody, bass)).longest_run == 3


def test_drum_tracks_are_left_out(tmp_path: Path) -> None:
    plain = measure(write_notes(tmp_path / "plain.mid", sequence(C_MAJOR)))
    drums = sequence([36, 38, 42] * 10, dur=0.25)
    with_drums = measure(write_notes(tmp_path / "drums.mid", sequence(C_MAJOR), drums=drums))
    assert with_drums == plain


def test_a_score_and_its_file_measure_the_same(tmp_path: Path) -> None:
    path = write_notes(tmp_path / "scale.mid", sequence(C_MAJOR), [(48, 0, 4), (43, 4, 3)])
    assert measure(symusic.Score(str(path))) == measure(path)


def piece(tmp_path: Path, name: str, pitches, durations) -> Path:
    notes, t = [], 0.0
    for i, p in enumerate(pitches):
        d = durations[i % len(durations)]
        notes.append((p, t, d))
        t += d
    return write_notes(tmp_path / name, notes)


def test_the_per_piece_targets(tmp_path: Path) -> None:
    # 112 notes over two octaves of C major (14 pitches, 8 notes each), three durations.
    pitches = [p + o for o in (0, 12) for p in C_MAJOR] * 8
    good = measure(piece(tmp_path, "good.mid", pitches, [1.0, 0.5, 0.25]))
    assert (good.notes, good.distinct_pitches, good.distinct_durations) == (112, 14, 3)
    assert failed_targets(good) == []
    cases = {
        ">= 100 notes": piece(tmp_path, "short.mid", pitches[:99], [1.0, 0.5, 0.25]),
        ">= 12 distinct pitches": piece(tmp_path, "narrow.mid", C_MAJOR * 16, [1.0, 0.5, 0.25]),
        ">= 3 distinct durations": piece(tmp_path, "plain.mid", pitches, [1.0, 0.5]),
        "no pitch above 25 % of notes": piece(
            tmp_path, "drone.mid", [p for q in pitches for p in (q, 48)], [1.0, 0.5, 0.25]
        ),
        "no run of 8 identical events": piece(
            tmp_path, "stuck.mid", pitches + [60] * 8, [1.0, 0.5, 0.25] * 37 + [1.0] * 9
        ),
    }
    assert {t.name for t in PIECE_TARGETS} == set(cases)
    for name, path in cases.items():
        assert failed_targets(measure(path)) == [name], name


def music21_measures(path: Path) -> dict[str, float]:
    """The measures read independently: music21 parses the MIDI file into notes and chords,
    and chordify gives the pitches sounding in each stretch of time."""
    from music21 import converter

    parsed = converter.parse(str(path), format="midi", quantizePost=False)
    # music21 splits a note across a bar line into tied notes: join them back into one
    # (for counting notes and durations; chordify reads the parsed score as it is).
    score = parsed.stripTies()
    pitches: list[int] = []
    durations: list[float] = []
    for element in score.recurse().notes:
        for p in element.pitches:
            pitches.append(p.midi)
            durations.append(float(element.quarterLength))
    counts = Counter(p % 12 for p in pitches)
    n = len(pitches)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    major = {0, 2, 4, 5, 7, 9, 11}
    scale = max(
        sum(c for pc, c in counts.items() if (pc - root) % 12 in major) for root in range(12)
    )
    sounding = pitch_time = 0.0
    beats: set[int] = set()
    for element in parsed.chordify().flatten().notes:
        length = float(element.quarterLength)
        start = float(element.offset)
        if length <= 0:
            continue
        sounding += length
        pitch_time += len({p.midi for p in element.pitches}) * length
        beats.update(range(math.floor(start), math.ceil(start + length)))
    end = max(float(e.offset + e.quarterLength) for e in score.flatten().notes)
    total_beats = math.ceil(end)
    return {
        "notes": n,
        "pitch_class_entropy": entropy,
        "scale_consistency": scale / n,  # the minor scales are rotations of the major ones
        "distinct_pitches": len(set(pitches)),
        "top_pitch_share": max(Counter(pitches).values()) / n,
        "distinct_durations": len({round(d * 24) for d in durations}),
        "polyphony": pitch_time / sounding,
        "empty_beat_rate": 1 - len(beats) / total_beats,
    }


def test_real_chorales_measure_as_music21_reads_them(chorale_files: list[Path]) -> None:
    for path in chorale_files[:4]:
        ours = measure(path).to_dict()
        theirs = music21_measures(path)
        for key, value in theirs.items():
            assert ours[key] == pytest.approx(value, abs=1e-9), f"{path.name}: {key}"
        # Real four-part chorales: about four voices at once, in one key, no empty beats.
        assert 3.0 < ours["polyphony"] <= 4.0
        assert ours["scale_consistency"] > 0.85
        assert ours["empty_beat_rate"] < 0.1


HAND_BUILT = {
    "triads with rests": ([(p, 2.0 * i, 1.0) for i in range(4) for p in (60, 64, 67)],),
    "overlaps and a gap": ([(60, 0, 2), (64, 1, 2), (72, 5, 1)],),
    "two voices, a half-beat rest": (sequence(C_MAJOR, dur=0.5), [(48, 0, 1.5), (43, 2, 1.5)]),
}


@pytest.mark.parametrize("name", HAND_BUILT)
def test_hand_built_files_measure_as_music21_reads_them(tmp_path: Path, name: str) -> None:
    path = write_notes(tmp_path / "piece.mid", *HAND_BUILT[name])
    ours = measure(path).to_dict()
    for key, value in music21_measures(path).items():
        assert ours[key] == pytest.approx(value, abs=1e-9), key
