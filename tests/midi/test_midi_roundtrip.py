"""MIDI -> events -> MIDI keeps pitches, onsets and durations (within the encoding's grid), on
files written by mido and by music21; the reports' encoding names notes and chords as music21
does; events and settings survive as plain data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from midi_files import MIDO_NOTES

from workbench.midi_data import codec_for, make_settings, read_score
from workbench.midi_data.encodings import note_name_to_midi

# REMI/TSD/MIDI-like place onsets on a grid of 8 per beat (MidiTok's default beat_res for the
# first 4 beats of a note); a value is rounded to the nearest step, so it moves at most half of
# one. Durations of 4-12 beats use 4 per beat.
ONSET_TOLERANCE = 1 / 16 + 1e-6


def duration_tolerance(beats: float) -> float:
    return (1 / 16 if beats < 4 else 1 / 8) + 1e-6


def notes_in_beats(score) -> list[tuple[int, float, float]]:
    tpq = score.ticks_per_quarter
    found = [
        (n.pitch, n.time / tpq, n.duration / tpq)
        for track in score.tracks
        if not track.is_drum
        for n in track.notes
    ]
    return sorted(found, key=lambda n: (n[1], n[0]))


def assert_same_notes(expected, got) -> None:
    expected = sorted(expected, key=lambda n: (round(n[1] * 8), n[0]))
    got = sorted(got, key=lambda n: (round(n[1] * 8), n[0]))
    assert [n[0] for n in got] == [n[0] for n in expected], "pitches differ"
    for (pitch, onset, dur), (_, onset2, dur2) in zip(expected, got, strict=True):
        assert abs(onset2 - onset) <= ONSET_TOLERANCE, f"onset of {pitch} at {onset}: {onset2}"
        assert abs(dur2 - dur) <= duration_tolerance(dur), f"duration of {pitch}: {dur2}"


@pytest.mark.parametrize("encoding", ["remi", "tsd", "midilike"])
def test_round_trip_of_a_file_written_by_mido(mido_file: Path, encoding: str) -> None:
    codec = codec_for(make_settings(encoding))
    events = codec.encode_file(mido_file)
    assert all(" " not in e for e in events)
    back = codec.decode(events)
    assert len(back.tracks) == 1  # both hands merged into one stream
    assert_same_notes(MIDO_NOTES, notes_in_beats(back))
    # The same file read directly: the mido writer and our expectations agree.
    assert_same_notes(MIDO_NOTES, notes_in_beats(read_score(mido_file)))


@pytest.fixture(scope="module")
def music21_file(tmp_path_factory) -> tuple[Path, list[tuple[int, float, float]]]:
    """Two parts written by music21: notes, a rest, a chord, a dotted note, a tie."""
    from music21 import chord, meter, note, stream, tempo

    upper = stream.Part()
    upper.append(meter.TimeSignature("3/4"))
    upper.append(tempo.MetronomeMark(number=90))
    for item in (
        note.Note("C5", quarterLength=1.0),
        note.Note("E-5", quarterLength=0.5),
        note.Note("G5", quarterLength=0.5),
        note.Rest(quarterLength=1.0),
        chord.Chord(["C4", "E4", "G4"], quarterLength=2.0),
        note.Note("F#5", quarterLength=1.5),
        note.Note("B4", quarterLength=0.5),
    ):
        upper.append(item)
    lower = stream.Part()
    lower.append(meter.TimeSignature("3/4"))
    for item in (
        note.Note("C3", quarterLength=3.0),
        note.Note("G2", quarterLength=3.0),
        note.Note("D3", quarterLength=1.0),
    ):
        lower.append(item)
    score = stream.Score([upper, lower])
    expected = [
        (p.midi, float(n.offset), float(n.quarterLength))
        for part in score.parts
        for n in part.flatten().notes
        for p in n.pitches
    ]
    path = tmp_path_factory.mktemp("music21") / "two_parts.mid"
    score.write("midi", fp=str(path))
    return path, expected


@pytest.mark.parametrize("encoding", ["remi", "tsd", "midilike"])
def test_round_trip_of_a_file_written_by_music21(music21_file, encoding: str) -> None:
    path, expected = music21_file
    codec = codec_for(make_settings(encoding))
    back = codec.decode(codec.encode_file(path))
    assert_same_notes(expected, notes_in_beats(back))


def test_the_reports_encoding_names_notes_and_chords_as_music21_does(music21_file) -> None:
    path, _ = music21_file
    codec = codec_for(make_settings("notes-chords"))
    events = codec.encode_file(path)
    # Both parts are read (chordified), not only the first: the first onset, C5 over C3, is a
    # chord of one pitch class, whose normal order is "0".
    assert events[0] == "0"
    assert "E-5" not in events  # E-5 sounds over the held C3: a two-note chord...
    assert "0.3" in events  # ... C and E-flat, normal order 0.3
    assert "0.4.7" in events  # the C major triad over G2: [C, E, G, G] -> 0.4.7
    assert "F#5" not in events and "6.7" in events  # F#5 over G2
    # No durations: one event per onset, read back one event every half beat.
    back = codec.decode(events)
    onsets = sorted({n.time for n in back.tracks[0].notes})
    step = back.ticks_per_quarter // 2
    assert onsets == [i * step for i in range(len(events))]
    # Cached: the second read does not need music21 and gives the same events.
    assert codec.encode_file(path) == events


def test_note_names() -> None:
    assert note_name_to_midi("C4") == 60
    assert note_name_to_midi("E-4") == 63
    assert note_name_to_midi("F#5") == 78
    assert note_name_to_midi("B--3") == 57
    assert note_name_to_midi("0.4.7") is None


def test_settings_are_plain_data_and_rebuild_the_same_vocabulary() -> None:
    settings = make_settings("remi")
    assert json.loads(json.dumps(settings)) == settings
    codec = codec_for(settings)
    stored = settings["miditok"]["_vocab_base"]
    assert dict(codec.tokenizer.vocab) == stored
    # A vocabulary unlike the installed MidiTok's default is kept as stored, not rebuilt.
    odd = json.loads(json.dumps(settings))
    vocab = odd["miditok"]["_vocab_base"]
    names = sorted(vocab, key=vocab.get)
    names[4], names[5] = names[5], names[4]
    odd["miditok"]["_vocab_base"] = {name: i for i, name in enumerate(names)}
    assert dict(codec_for(odd).tokenizer.vocab) == odd["miditok"]["_vocab_base"]


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="encoding must be one of"):
        make_settings("abc")
