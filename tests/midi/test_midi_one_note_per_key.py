"""One note per key in what is decoded: a key struck twice at one onset, whether the data held
it (a unison doubling of two tracks, kept in the event stream) or a model wrote it, decodes to
one note with the longer of the durations; every other note is kept.

Checked on a mido file made for it (a chord whose notes three tracks list in no order, a unison
doubling of unequal lengths, notes a tick apart that quantise onto one position), on real Bach
chorales, whose four voices cross and double each other, and on hand-written events; the oracle
is mido's own reading of each file, grouped by hand.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import mido
import pytest
from midi_files import TPQ, write_tracks

from workbench.midi_data import codec_for, make_settings

#: REMI's grid for onsets: 8 positions per beat (MidiTok's default beat_res).
GRID = 8


def pitches_by_position(events: list[str]) -> list[list[int]]:
    """REMI events -> the pitches written at each position, in the order written."""
    groups: list[list[int]] = []
    for event in events:
        if event.startswith(("Position_", "Bar_")):
            groups.append([])
        elif event.startswith("Pitch_"):
            groups[-1].append(int(event.split("_")[1]))
    return [g for g in groups if g]


def mido_notes(path: Path) -> dict[tuple[int, int], float]:
    """(onset on REMI's grid, pitch) -> the longest duration in beats struck there, read by
    mido note by note over every track.

    Each track is paired on its own, not as `midi_compare.played_notes` pairs the merged
    stream: two voices in unison on one channel make that pairing ambiguous (on a chorale it
    gave one of them the other's note-off)."""
    mf = mido.MidiFile(path)
    longest: dict[tuple[int, int], float] = defaultdict(float)
    for track in mf.tracks:
        now, sounding = 0, {}
        for msg in track:
            now += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                sounding[(msg.channel, msg.note)] = now
            elif msg.type in ("note_off", "note_on") and (msg.channel, msg.note) in sounding:
                start = sounding.pop((msg.channel, msg.note))
                key = (round(start * GRID / mf.ticks_per_beat), msg.note)
                longest[key] = max(longest[key], (now - start) / mf.ticks_per_beat)
    return dict(longest)


def decoded_notes(codec, events: list[str]) -> dict[tuple[int, int], float]:
    score = codec.decode(events)
    tpq = score.ticks_per_quarter
    found: dict[tuple[int, int], float] = {}
    for track in score.tracks:
        for n in track.notes:
            key = (round(n.time * GRID / tpq), n.pitch)
            assert key not in found, f"pitch {n.pitch} struck twice at position {key[0]}"
            found[key] = n.duration / tpq
    return found


def assert_durations_close(expected: dict, got: dict) -> None:
    assert got.keys() == expected.keys()
    for key, beats in expected.items():
        beats = min(beats, 12.0)  # REMI's longest duration
        step = 1 / 8 if beats < 4 else 1 / 4  # its grid below and above 4 beats
        assert abs(got[key] - beats) <= step / 2 + 1e-6, f"{key}: {got[key]} beats, not {beats}"


@pytest.fixture(scope="module")
def scrambled_file(tmp_path_factory) -> Path:
    """Three tracks whose notes at beat 0 form C4 E4 G4 C5 with G4 doubled (4 beats and 1 beat),
    listed high, low, middle; at beat 1, E5 a tick before C5 (one position once quantised)."""
    tick = 1 / TPQ
    tracks = [
        [(72, 0.0, 1.0), (67, 0.0, 4.0), (76, 1.0, 1.0)],
        [(67, 0.0, 1.0), (60, 0.0, 0.5)],
        [(64, 0.0, 2.0), (72, 1.0 + tick, 1.0)],
    ]
    return write_tracks(tmp_path_factory.mktemp("order") / "scrambled.mid", tracks)


@pytest.mark.parametrize("encoding", ["remi", "tsd", "midilike"])
def test_a_doubled_key_is_one_note_the_longer(scrambled_file: Path, encoding: str) -> None:
    codec = codec_for(make_settings(encoding))
    events = codec.encode_file(scrambled_file)
    if encoding == "remi":
        # The stream keeps the doubling, in symusic's order: shortest first, then by pitch.
        assert pitches_by_position(events) == [[60, 67, 72, 64, 67], [76, 72]]
    expected = mido_notes(scrambled_file)
    assert len(expected) == 6  # the oracle sees the doubled G4 once: (0, 67)
    assert expected[(0, 67)] == 4.0
    assert_durations_close(expected, decoded_notes(codec, events))


@pytest.mark.parametrize("encoding", ["remi", "tsd"])
def test_real_chorales_decode_to_one_note_per_key_and_every_other_note(
    chorale_files: list[Path], encoding: str
) -> None:
    codec = codec_for(make_settings(encoding))
    doubled = 0
    for path in chorale_files:
        events = codec.encode_file(path)
        expected = mido_notes(path)
        assert_durations_close(expected, decoded_notes(codec, events))
        # Unisons between voices: in the stream twice, decoded once.
        doubled += sum(e.startswith(("Pitch_", "NoteOn_")) for e in events) - len(expected)
    assert doubled > 0  # the chorales do double voices: the merging was exercised


def test_a_key_written_twice_at_one_onset_decodes_to_one_note_the_longer() -> None:
    codec = codec_for(make_settings("remi"))
    events = "Bar_None TimeSig_4/4 Position_0 Pitch_60 Duration_0.4.8 Pitch_64 Duration_1.0.8"
    events += " Pitch_60 Duration_2.0.8 Position_8 Pitch_60 Duration_0.4.8"
    got = decoded_notes(codec, events.split())  # asserts no key struck twice at one onset
    assert got == {(0, 60): 2.0, (0, 64): 1.0, (8, 60): 0.5}
    assert [t.name for t in codec.decode(events.split()).tracks] == ["generated"]
