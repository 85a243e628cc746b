"""Note events read from MIDI bytes built with mido, with times worked out by hand from ticks
and tempo: note pairing, tempo maps, programs, unreleased notes, ordering, and ABC to MIDI
with a tempo (checked by reading the bytes back with mido)."""

from __future__ import annotations

import io

import mido
import pytest

from workbench.playback.events import (
    Cue,
    NoteEvent,
    PlaybackError,
    Tune,
    abc_to_midi,
    tune_from_abc,
    tune_from_midi,
    tune_from_notes,
)


def midi_bytes(*messages: mido.Message | mido.MetaMessage, tpb: int = 480, kind: int = 1) -> bytes:
    mid = mido.MidiFile(type=kind, ticks_per_beat=tpb)
    mid.tracks.append(mido.MidiTrack(messages))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def on(note: int, time: int = 0, velocity: int = 64, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=velocity, time=time, channel=channel)


def off(note: int, time: int = 0, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=note, time=time, channel=channel)


def test_default_tempo_is_120_bpm_and_ticks_per_beat_are_read() -> None:
    # 96 ticks a quarter at 0.5 s a quarter: 48 ticks = 0.25 s, 192 ticks = 1 s.
    tune = tune_from_midi(midi_bytes(on(60, 48, 100), off(60, 192), tpb=96), "T")
    assert tune.notes == [NoteEvent(0.25, 1.25, 60, 100, 0)]
    assert tune.title == "T"
    assert tune.duration == 1.25
    assert tune.tempo_segments == [(0.0, 0.0, 0.5)]
    assert tune.quarters_to_seconds(3) == 1.5


def test_repeated_pitch_pairs_first_on_with_first_off() -> None:
    # Two overlapping C4s on one channel: offs close them in the order they began.
    data = midi_bytes(on(60, 0, 10), on(60, 480, 20), off(60, 480), off(60, 480))
    tune = tune_from_midi(data)
    assert [(n.start, n.end, n.velocity) for n in tune.notes] == [(0.0, 1.0, 10), (0.5, 1.5, 20)]


def test_note_on_with_velocity_zero_ends_a_note_and_strays_are_ignored() -> None:
    data = midi_bytes(off(50), on(62, 0, 0), on(62, 0, 90), on(62, 240, 0), off(62, 240))
    tune = tune_from_midi(data)
    assert tune.notes == [NoteEvent(0.0, 0.25, 62, 90, 0)]
    assert tune.title == ""
    # The softest velocity is still a note.
    assert tune_from_midi(midi_bytes(on(64, 0, 1), off(64, 480))).notes == [
        NoteEvent(0.0, 0.5, 64, 1, 0)
    ]


def test_notes_never_released_end_at_the_last_event() -> None:
    data = midi_bytes(
        on(60, 0, 70, channel=1),
        on(64, 480, 80, channel=1),
        mido.MetaMessage("marker", text="end", time=960),
    )
    tune = tune_from_midi(data)
    assert tune.notes == [NoteEvent(0.0, 1.5, 60, 70, 1), NoteEvent(0.5, 1.5, 64, 80, 1)]
    assert tune.channels == [1]


def test_the_first_program_of_a_channel_counts_and_channels_include_silent_ones() -> None:
    data = midi_bytes(
        mido.Message("program_change", channel=3, program=40, time=0),
        mido.Message("program_change", channel=3, program=41, time=0),
        mido.Message("program_change", channel=5, program=7, time=0),
        on(60, 0, channel=3),
        off(60, 480, channel=3),
    )
    tune = tune_from_midi(data)
    assert tune.programs == {3: 40, 5: 7}
    assert tune.channels == [3, 5]


def test_tempo_changes_make_segments_and_a_change_at_the_same_moment_replaces_one() -> None:
    data = midi_bytes(
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),  # replaces the default at 0
        on(60, 0),
        off(60, 960),  # two quarters at 0.5 s
        mido.MetaMessage("set_tempo", tempo=400_000, time=0),
        mido.MetaMessage("set_tempo", tempo=250_000, time=0),  # same moment: this one counts
        on(62, 0),
        off(62, 480),  # one quarter at 0.25 s
    )
    tune = tune_from_midi(data)
    assert tune.tempo_segments == [(0.0, 0.0, 0.5), (2.0, 1.0, 0.25)]
    assert [(n.start, n.end) for n in tune.notes] == [(0.0, 1.0), (1.0, 1.25)]
    # Before, at and after the change; quarters before 0 follow the first segment.
    assert tune.quarters_to_seconds(1.0) == 0.5
    assert tune.quarters_to_seconds(2.0) == 1.0
    assert tune.quarters_to_seconds(3.0) == 1.25
    assert tune.quarters_to_seconds(-1.0) == -0.5


def test_a_tempo_change_later_keeps_the_first_segment() -> None:
    data = midi_bytes(on(60, 0), off(60, 480), mido.MetaMessage("set_tempo", tempo=1_000_000))
    tune = tune_from_midi(data)
    assert tune.tempo_segments == [(0.0, 0.0, 0.5), (1.0, 0.5, 1.0)]
    assert tune.quarters_to_seconds(0.5) == 0.25
    assert tune.quarters_to_seconds(2.0) == 1.5


def test_a_header_with_zero_ticks_per_beat_is_read_as_480() -> None:
    # A division of 0 in MThd (a broken writer) would divide by zero; it is read as 480 ticks a
    # quarter, the common default: 480 ticks = one quarter = 0.5 s at the default 120 bpm.
    data = midi_bytes(
        on(60, 480), off(60, 960), mido.MetaMessage("set_tempo", tempo=1_000_000), tpb=0
    )
    assert data[12:14] == b"\x00\x00"  # the header's division field really is 0
    tune = tune_from_midi(data)
    assert tune.notes == [NoteEvent(0.5, 1.5, 60, 64, 0)]
    assert tune.tempo_segments == [(0.0, 0.0, 0.5), (3.0, 1.5, 1.0)]


def test_type_2_files_and_garbage_are_refused() -> None:
    with pytest.raises(PlaybackError) as info:
        tune_from_midi(midi_bytes(on(60), off(60, 480), kind=2))
    assert str(info.value) == "MIDI type 2 files (independent sequences) are not supported"
    with pytest.raises(PlaybackError) as info:
        tune_from_midi(b"MThd\x00")
    assert str(info.value).startswith("not a readable MIDI file: ")
    assert isinstance(info.value.__cause__, (OSError, EOFError, ValueError, KeyError, IndexError))


def test_tunes_sort_their_notes_and_keep_what_they_are_given() -> None:
    notes = [NoteEvent(1.0, 2.0, 60), NoteEvent(0.0, 1.0, 67), NoteEvent(0.0, 1.0, 64)]
    programs = {0: 24}
    tune = tune_from_notes(notes, programs, "Mine")
    assert [(n.start, n.pitch) for n in tune.notes] == [(0.0, 64), (0.0, 67), (1.0, 60)]
    assert tune.notes[0] == NoteEvent(0.0, 1.0, 64, 90, 0)  # the defaults
    assert tune.programs == {0: 24} and tune.programs is not programs
    assert tune.title == "Mine" and tune.abc is None and tune.cues == []
    assert tune.duration == 2.0
    empty = tune_from_notes([])
    assert empty.duration == 0.0 and empty.programs == {} and empty.title == ""
    assert empty.channels == []
    assert empty.quarters_to_seconds(4) == 2.0  # 120 bpm when there is no tempo map
    assert Cue(0.5, 3, 5) == Cue(time=0.5, start=3, end=5)
    assert Tune([NoteEvent(0, 1, 60, channel=9)]).channels == [9]


def sounding_seconds(data: bytes) -> float:
    """Seconds from the first note_on to the last note end, as mido plays the file."""
    now, first, last = 0.0, None, 0.0
    for msg in mido.MidiFile(file=io.BytesIO(data)):  # iterating gives delta seconds
        now += msg.time
        if msg.type == "note_on" and msg.velocity and first is None:
            first = now
        if msg.type == "note_off" or (msg.type == "note_on" and not msg.velocity):
            last = now
    assert first is not None
    return last - first


def test_abc_to_midi_uses_the_tempo_asked_for() -> None:
    abc = "X:1\nT:Two\nM:2/4\nL:1/4\nK:C\nCD|\n"
    # mido reads the bytes: two crotchets at 60 bpm last two seconds, at 120 one.
    assert sounding_seconds(abc_to_midi(abc, tempo_bpm=60)) == pytest.approx(2.0)
    assert sounding_seconds(abc_to_midi(abc)) == pytest.approx(1.0)
    with pytest.raises(PlaybackError, match="tempo must be positive"):
        abc_to_midi(abc, tempo_bpm=0)


def test_abc_tunes_keep_their_text_title_and_cues() -> None:
    abc = "X:1\nT:Two\nM:2/4\nL:1/4\nQ:1/4=120\nK:C\nCD|\n"
    tune = tune_from_abc(abc, "Two notes")
    assert tune.title == "Two notes" and tune.abc == abc
    assert [(n.start, n.end, n.pitch) for n in tune.notes] == [(0.0, 0.5, 60), (0.5, 1.0, 62)]
    # Each cue points at the characters that wrote its note.
    assert [(c.time, abc[c.start : c.end]) for c in tune.cues] == [(0.0, "C"), (0.5, "D")]
    assert tune_from_abc(abc).title == ""
    with pytest.raises(PlaybackError) as info:
        tune_from_abc("X:1\nT:t\nK:C\n")
    assert str(info.value) == "the tune has no notes"
