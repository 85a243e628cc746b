"""The event labeller, the event timeline and the music probes on a hand-built MIDI piece whose
beats, chords and rests are known (tests/event_pieces.py), with exact expectations, checked
against independent readings of the same file: music21 (measures, beats, chordified rests,
pitch names) and symusic (notes)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import symusic
from event_pieces import EXPECTED, PIECE, RESTS, write_piece
from music21 import converter, pitch

from workbench.midi_data import codec_for, make_settings
from workbench.midi_data.cache import CACHE_ENV
from workbench.midi_data.labels import (
    amount,
    describe_event,
    duration_text,
    event_labels,
    label_event,
    pitch_name,
)
from workbench.midi_data.timeline import read_timeline
from workbench.neurons.event_probes import (
    EVENT_PROBES,
    event_target,
    rank_event_probe,
    run_event_probe,
)
from workbench.neurons.probes import ProbeError

F = Fraction
TIMED = ("remi", "tsd", "midilike")


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    # notes-chords caches music21's reading: keep it out of the user's cache folder.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def piece(tmp_path_factory):
    return write_piece(tmp_path_factory.mktemp("piece") / "known.mid")


@pytest.fixture(scope="module")
def piece_34(tmp_path_factory):
    """The same notes in 3/4: other bars and beats, so bars follow the time signature."""
    return write_piece(tmp_path_factory.mktemp("piece") / "known_34.mid", numerator=3)


def _read(path, encoding):
    settings = make_settings(encoding)
    events = codec_for(settings).encode_file(path)
    return events, settings, read_timeline(events, settings)


# -- labels ----------------------------------------------------------------------------------


def test_pitch_names_are_music21s_for_every_midi_number():
    assert [pitch_name(m) for m in range(128)] == [
        pitch.Pitch(midi=m).unicodeNameWithOctave for m in range(128)
    ]


def test_note_values_and_beat_amounts():
    assert [duration_text(q) for q in (F(1, 4), F(1, 2), F(3, 4), F(1), F(3, 2))] == [
        "♬",
        "♪",
        "♪.",
        "♩",
        "♩.",
    ]
    assert [duration_text(q) for q in (F(2), F(3), F(4), F(3, 8), F(1, 3), F(5, 16))] == [
        "2♩",
        "3♩",
        "4♩",
        "⅜♩",
        "⅓♩",
        "5/16♩",
    ]
    assert [amount(q) for q in (F(0), F(5, 2), F(1, 2), F(11, 8), F(21, 16))] == [
        "0",
        "2½",
        "½",
        "1⅜",
        "21/16",
    ]


EXPECTED_LABELS = {
    # A line a bar.
    "remi": [
        *("Bar", "4/4", "@1", "C4", "♩", "@2", "C4", "♩", "E4", "♩", "G4", "♩"),
        *("@3", "E4", "♪", "@3½", "F4", "♪"),
        *("Bar", "4/4", "@1", "D4", "2♩", "F4", "2♩", "A4", "2♩", "@3½", "G4", "♪", "@4", "B3"),
        "♩",
        *("Bar", "4/4", "@1", "C5", "4♩"),
    ],
    "tsd": [
        *("4/4", "C4", "♩", "Shift 1", "C4", "♩", "E4", "♩", "G4", "♩", "Shift 1", "E4", "♪"),
        *("Shift ½", "F4", "♪", "Shift 1½"),
        *("D4", "2♩", "F4", "2♩", "A4", "2♩", "Shift 2½", "G4", "♪", "Shift ½", "B3", "♩"),
        *("Shift 1", "C5", "4♩"),
    ],
    "midilike": [
        "4/4",
        "C4 on",
        "Shift 1",
        "C4 off",
        "C4 on",
        "E4 on",
        "G4 on",
        "Shift 1",
        "C4 off",
        "E4 off",
        "G4 off",
        "E4 on",
        "Shift ½",
        "E4 off",
        "F4 on",
        "Shift ½",
        "F4 off",
        "Shift 1",
        "D4 on",
        "F4 on",
        "A4 on",
        "Shift 2",
        "D4 off",
        "F4 off",
        "A4 off",
        "Shift ½",
        "G4 on",
        "Shift ½",
        "G4 off",
        "B3 on",
        "Shift 1",
        "B3 off",
        "C5 on",
        "Shift 4",
        "C5 off",
    ],
    # The reports' encoding: music21's onsets, a chord as its pitch classes' normal order,
    # each lasting the half beat the decoder gives it.
    "notes-chords": ["C4 ♪", "0.4.7 ♪", "E4 ♪", "F4 ♪", "2.5.9 ♪", "G4 ♪", "B3 ♪", "C5 ♪"],
}


@pytest.mark.parametrize("encoding", [*TIMED, "notes-chords"])
def test_labels_of_each_encoding(piece, encoding):
    events, settings, timeline = _read(piece, encoding)
    assert event_labels(events, settings, timeline) == EXPECTED_LABELS[encoding]


def test_note_values_follow_the_time_signature(tmp_path):
    # In 6/8 MidiTok's beat is the eighth: Duration_1.0.8 is an eighth, Position_16 beat 3.
    notes = [(60, F(0), F(1), 0), (62, F(1), F(1, 2), 0), (64, F(3, 2), F(3, 2), 0)]
    path = write_piece(tmp_path / "six_eight.mid", notes, numerator=6, denominator=8)
    events, settings, timeline = _read(path, "remi")
    assert events[:7] == [
        "Bar_None",
        "TimeSig_6/8",
        "Position_0",
        "Pitch_60",
        "Duration_2.0.8",
        "Position_16",
        "Pitch_62",
    ]
    assert event_labels(events, settings, timeline) == (
        ["Bar", "6/8", "@1", "C4", "♩", "@3", "D4", "♪", "@4", "E4", "♩."]
    )
    # The E4 starts a dotted quarter into the bar: three eighths, on a beat of 6/8.
    onsets = [i for i, started in enumerate(timeline.starts) if started]
    assert event_target("on_beat", timeline)[onsets].tolist() == [1, 1, 1]
    assert event_target("bar_position", timeline)[onsets] == pytest.approx([0, 1 / 3, 1 / 2])
    # Without the time signature's context a label reads beats as quarters.
    assert label_event("Duration_1.0.8", settings) == "♩"


def test_specials_and_unknown_tokens_keep_a_readable_label():
    settings = make_settings("remi")
    assert [label_event(t, settings) for t in ("<start>", "<end>", "<unk>", "Foo_1")] == [
        "start",
        "end",
        "?",
        "Foo_1",
    ]


def test_describe_names_the_raw_event_its_bar_and_beat(piece):
    events, settings, timeline = _read(piece, "remi")
    labels = event_labels(events, settings, timeline)
    # The second Position_20 (2½ beats, 20 steps, into a bar) is bar 2's G4 eighth.
    i = [k for k, e in enumerate(events) if e == "Position_20"][1]
    assert describe_event(timeline, i + 1, labels[i + 1]) == "G4 (Pitch_67), bar 2 beat 3½"


# -- the timeline against symusic and music21 ------------------------------------------------


@pytest.mark.parametrize("encoding", TIMED)
def test_timeline_notes_are_the_files_notes(piece, encoding):
    _, _, timeline = _read(piece, encoding)
    score = symusic.Score(str(piece))
    tpq = score.ticks_per_quarter
    truth = sorted(
        (F(n.time, tpq), F(n.end, tpq), n.pitch) for track in score.tracks for n in track.notes
    )
    assert sorted((n.onset, n.end, n.pitch) for n in timeline.notes) == truth
    assert truth == sorted((onset, onset + dur, p) for p, onset, dur, _ in PIECE)


@pytest.mark.parametrize("meter", ["piece", "piece_34"])
@pytest.mark.parametrize("encoding", TIMED)
def test_bars_and_beats_are_music21s(request, encoding, meter):
    path = request.getfixturevalue(meter)
    _, _, timeline = _read(path, encoding)
    truth = {}
    for element in converter.parse(str(path)).flatten().notes:
        if element.tie is not None and element.tie.type != "start":
            continue  # music21 ties a note across the bar line: the same onset, held
        for p in element.pitches:
            truth[(F(element.offset), p.midi)] = (element.measureNumber, F(element.beat))
    found = {}
    for i, started in enumerate(timeline.starts):
        for p in started:
            beat = 1 + timeline.position(i) / timeline.beat[i]
            found[(timeline.time[i], p)] = (timeline.bar[i] + 1, beat)
    assert found == truth
    assert len(found) == len(PIECE)


# -- probes: exact expectations --------------------------------------------------------------


@pytest.mark.parametrize("encoding", TIMED)
def test_beat_chord_and_pitch_probes_on_each_note(piece, encoding):
    events, _, timeline = _read(piece, encoding)
    beat = event_target("on_beat", timeline)
    chord = event_target("chord", timeline)
    height = event_target("pitch", timeline)
    position = event_target("bar_position", timeline)
    onsets = [i for i, s in enumerate(timeline.starts) if s]
    assert len(onsets) == len(PIECE)
    for i in onsets:
        (p,) = timeline.starts[i]
        assert (beat[i], chord[i]) == EXPECTED[(timeline.time[i], p)], events[i]
        assert height[i] == p
        assert position[i] == pytest.approx(float((timeline.time[i] % 4) / 4))
    others = [i for i in range(len(events)) if i not in onsets]
    assert np.isnan(beat[others]).all() and np.isnan(chord[others]).all()
    # A Duration (or NoteOff) carries its note's pitch; Bar, Position, TimeShift none.
    for i, event in enumerate(events):
        kind, value = event.split("_")
        if kind == "Duration":  # right after its Pitch (no velocities)
            assert height[i] == int(events[i - 1].split("_")[1])
        elif kind == "NoteOff":
            assert height[i] == int(value)
        elif kind in ("Bar", "Position", "TimeShift", "TimeSig"):
            assert np.isnan(height[i])


EXPECTED_RESTS = {
    # REMI and TSD have no rest events: the Bar / Position / TimeShift that jumps over the
    # silence arrives from it.
    "remi": ["Bar", "@3½"],
    "tsd": ["Shift 1½", "Shift 2½"],
    # MIDI-like: the NoteOffs that leave nothing sounding, the TimeShifts across the silence,
    # and the last NoteOff (the piece is over).
    "midilike": ["F4 off", "Shift 1", "D4 off", "F4 off", "A4 off", "Shift ½", "C5 off"],
}


@pytest.mark.parametrize("encoding", TIMED)
def test_rest_probe_marks_the_events_inside_the_two_rests(piece, encoding):
    events, settings, timeline = _read(piece, encoding)
    labels = event_labels(events, settings, timeline)
    target = event_target("rest", timeline)
    assert set(np.unique(target)) == {0.0, 1.0}
    assert [labels[i] for i in np.flatnonzero(target)] == EXPECTED_RESTS[encoding]


# -- probes against music21's reading ----------------------------------------------------------


@pytest.mark.parametrize("encoding", TIMED)
def test_probes_agree_with_music21(piece, encoding):
    score = converter.parse(str(piece))
    pitches_at: dict[Fraction, set[int]] = {}
    beat_of: dict[Fraction, float] = {}
    for element in score.flatten().notes:
        pitches_at.setdefault(F(element.offset), set()).update(p.midi for p in element.pitches)
        beat_of[F(element.offset)] = element.beat
    rests = [
        (F(r.offset), F(r.offset) + F(r.quarterLength))
        for r in score.chordify().flatten().getElementsByClass("Rest")
    ]
    assert rests == RESTS  # the piece is what its docstring says

    _, _, timeline = _read(piece, encoding)
    beat, chord = event_target("on_beat", timeline), event_target("chord", timeline)
    for i, started in enumerate(timeline.starts):
        if started:
            t = timeline.time[i]
            assert chord[i] == (len(pitches_at[t]) > 1)
            assert beat[i] == float(beat_of[t]).is_integer()
    rest = event_target("rest", timeline)
    times = timeline.time
    for i in np.flatnonzero(rest):
        # Inside a music21 rest: the moment the event arrives from (when it moves time), or
        # its own moment; the end of the piece counts as silence too.
        moved = i > 0 and times[i] > times[i - 1]
        inside = [a < times[i] <= b if moved else a <= times[i] < b for a, b in rests]
        assert any(inside) or times[i] >= max(n.end for n in timeline.notes)
    for a, b in rests:  # each rest holds some event's state
        assert any((a < times[i] <= b) or (a <= times[i] < b) for i in np.flatnonzero(rest)), (a, b)


def test_notes_chords_probes(piece):
    events, _, timeline = _read(piece, "notes-chords")
    assert events == ["C4", "0.4.7", "E4", "F4", "2.5.9", "G4", "B3", "C5"]
    # Decoded one event every half beat: the events alternate on and off the beat.
    assert event_target("on_beat", timeline).tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    assert event_target("chord", timeline).tolist() == [0, 1, 0, 0, 1, 0, 0, 0]
    height = event_target("pitch", timeline)
    assert np.isnan(height[[1, 4]]).all()  # a chord's octave is not in the encoding
    assert height[[0, 2, 3, 5, 6, 7]].tolist() == [60, 64, 65, 67, 59, 72]
    acts = np.random.default_rng(0).normal(size=(len(events), 4))
    with pytest.raises(ProbeError, match="0 events where it holds"):
        rank_event_probe("rest", timeline, acts)


# -- ranking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", TIMED)
def test_rankings_find_planted_neurons(piece, encoding):
    events, settings, timeline = _read(piece, encoding)
    rng = np.random.default_rng(7)
    acts = rng.normal(scale=0.3, size=(len(events), 8)).astype(np.float32)
    chord = event_target("chord", timeline)
    acts[:, 5] = np.where(chord == 1, -2.0, 0.0) + rng.normal(scale=0.1, size=len(events))
    height = event_target("pitch", timeline)
    acts[:, 2] = np.nan_to_num(height, nan=60.0) / 50 + rng.normal(scale=0.01, size=len(events))
    ranking = run_event_probe("chord", events, settings, acts)
    assert ranking.method == "cohen_d" and ranking.order[0] == 5 and ranking.scores[5] < -2
    ranking = run_event_probe("pitch", events, settings, acts)
    assert ranking.method == "pearson_r" and ranking.order[0] == 2 and ranking.scores[2] > 0.95
    for name in EVENT_PROBES:  # every probe ranks this piece
        assert len(run_event_probe(name, events, settings, acts).order) == 8
