"""The MIDI oracle: reading notes from MIDI, counting pairing faults, comparing two files (on
MIDI written here with mido), and abc2midi's melody next to the app's on real tunes."""

from __future__ import annotations

import io

import mido
import pytest
from abc2midi_marks import needs_abc2midi

from workbench.corpus import load
from workbench.notation.midi_compare import (
    PairingFaults,
    PlayedNote,
    _plain_music_line,
    abc2midi_bytes,
    compare,
    note_name,
    pairing_faults,
    played_notes,
)


def _midi(events: list[tuple[int, str, int]], tpb: int = 480, channel: int = 0) -> bytes:
    """A one-track MIDI file of (absolute tick, "on" | "off" | "on0", pitch) in the given order.

    "on0" is a note_on with velocity 0, the other way of writing a note-off.
    """
    track = mido.MidiTrack()
    last = 0
    for tick, kind, pitch in events:
        name = "note_off" if kind == "off" else "note_on"
        velocity = 80 if kind == "on" else 0
        track.append(
            mido.Message(name, note=pitch, velocity=velocity, channel=channel, time=tick - last)
        )
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    song = mido.MidiFile(ticks_per_beat=tpb)
    song.tracks.append(track)
    out = io.BytesIO()
    song.save(file=out)
    return out.getvalue()


def _notes(spec: list[tuple[float, float, int]], tpb: int = 480, shift: int = 0) -> bytes:
    """MIDI for (onset q, length q, pitch) notes; ``shift`` ticks later and that much shorter,
    the way abc2midi writes them."""
    events = []
    for onset, length, pitch in spec:
        events.append((round(onset * tpb) + shift, "on", pitch))
        events.append((round((onset + length) * tpb), "off", pitch))
    events.sort(key=lambda e: (e[0], e[1] == "on"))  # offs before ons at the same tick
    return _midi(events, tpb)


SCALE = [(0.0, 0.5, 67), (0.5, 0.5, 69), (1.0, 1.0, 71), (2.0, 2.0, 74)]


# -- reading and pairing -------------------------------------------------------------------------


def test_played_notes_are_in_quarter_notes_whatever_the_resolution():
    for tpb in (480, 10080):
        assert played_notes(_notes(SCALE, tpb)) == [
            PlayedNote(onset, length, pitch, 0) for onset, length, pitch in SCALE
        ]


def test_a_velocity_zero_note_on_ends_a_note():
    notes = played_notes(_midi([(0, "on", 60), (240, "on0", 60)]))
    assert notes == [PlayedNote(0.0, 0.5, 60, 0)]


def test_overlapping_notes_of_one_pitch_pair_first_on_first_off():
    data = _midi([(0, "on", 60), (240, "on", 60), (480, "off", 60), (960, "off", 60)])
    assert [(n.onset, n.duration) for n in played_notes(data)] == [(0.0, 1.0), (0.5, 1.5)]
    assert pairing_faults(data) == PairingFaults()


def test_an_off_written_before_its_on_at_the_same_tick_leaves_the_note_hanging():
    # How music21 writes a zero-length note (a grace note, a chord symbol): off, then on.
    data = _midi([(0, "on", 60), (480, "off", 60), (480, "off", 64), (480, "on", 64)])
    faults = pairing_faults(data)
    assert faults.hanging == 1 and faults.orphan_offs == 1 and not faults.ok
    # It sounds to the end of the file (tick 480 here, as nothing follows).
    assert [n.pitch for n in played_notes(data)] == [60, 64]


def test_a_hanging_note_is_heard_to_the_end_of_the_file():
    data = _midi([(0, "on", 50), (0, "on", 60), (960, "off", 60)])
    assert played_notes(data)[0] == PlayedNote(0.0, 2.0, 50, 0)
    assert pairing_faults(data) == PairingFaults(hanging=1)


def test_an_off_with_nothing_sounding_is_an_orphan():
    data = _midi([(0, "on", 60), (480, "off", 60), (960, "off", 60)])
    assert pairing_faults(data) == PairingFaults(orphan_offs=1)


def test_an_on_and_off_at_one_tick_is_a_zero_length_note():
    data = _midi([(0, "on", 60), (0, "off", 60), (0, "on", 62), (480, "off", 62)])
    assert pairing_faults(data) == PairingFaults(zero_length=1)


def test_channels_are_paired_apart():
    track = mido.MidiTrack(
        [
            mido.Message("note_on", note=60, velocity=80, channel=0, time=0),
            mido.Message("note_off", note=60, velocity=0, channel=1, time=480),
        ]
    )
    song = mido.MidiFile(ticks_per_beat=480)
    song.tracks.append(track)
    out = io.BytesIO()
    song.save(file=out)
    assert pairing_faults(out.getvalue()) == PairingFaults(hanging=1, orphan_offs=1)


# -- comparing -----------------------------------------------------------------------------------


def test_abc2midis_one_tick_late_and_short_notes_agree():
    result = compare(_notes(SCALE, 10080), _notes(SCALE, 480, shift=1))
    assert result.agree and result.same_count and result.same_pitches
    assert result.first_difference == ""


def test_a_wrong_pitch_is_named_with_its_place():
    wrong = [*SCALE[:1], (0.5, 0.5, 70), *SCALE[2:]]
    result = compare(_notes(wrong), _notes(SCALE, shift=1))
    assert result.kinds == ["pitch"] and result.onsets_agree and result.durations_agree
    assert result.first_difference.startswith("note 2: app A#4 at 0.5 q")
    assert "abc2midi A4 at 0.502" in result.first_difference


def test_an_extra_note_is_a_note_count_difference_only():
    result = compare(_notes([*SCALE, (4.0, 1.0, 76)]), _notes(SCALE))
    assert result.kinds == ["note count"] and not result.same_count
    assert (result.app_notes, result.reference_notes) == (5, 4)
    assert result.first_difference == "note 5: app E5 at 4 q (1 q), abc2midi nothing"


def test_late_onsets_and_short_notes_are_told_apart():
    late = [(0.0, 0.5, 67), (0.625, 0.375, 69), *SCALE[2:]]  # a broken rhythm played otherwise
    assert compare(_notes(late), _notes(SCALE)).kinds == ["onset", "duration"]
    short = [(0.0, 0.25, 67), *SCALE[1:]]  # a staccato
    assert compare(_notes(short), _notes(SCALE)).kinds == ["duration"]


def test_chord_notes_started_a_tick_apart_keep_their_order():
    chord = [(0.0, 1.0, 67), (0.0, 1.0, 71), (0.0, 1.0, 74)]
    ons = [(0, "on", 74), (1, "on", 67), (2, "on", 71)]  # a strum, in no pitch order
    staggered = _midi([*ons, (480, "off", 67), (480, "off", 71), (480, "off", 74)])
    assert compare(_notes(chord, 10080), staggered).agree


def test_a_grace_note_as_short_as_the_tolerance_is_not_taken_for_a_chord():
    """A generated tune's 1/48 q grace note B5 before F#5: the app wrote them exactly 1/48 q
    apart, abc2midi 11 ticks (of 480) apart; taken for chords, they were put in pitch order in
    one file and in time order in the other, a difference that was not there."""
    app = _notes([(0.0, 10 / 480, 83), (10 / 480, 0.5, 78)], 10080)
    reference = _midi([(1, "on", 83), (10, "off", 83), (12, "on", 78), (250, "off", 78)])
    assert compare(app, reference).agree


def test_note_names():
    assert [note_name(p) for p in (60, 69, 78, 21)] == ["C4", "A4", "F#5", "A0"]


def test_plain_music_lines_lose_only_the_performed_decorations():
    line = '~G2 .A2 TB2 Rc2 !trill!d2 .| "D.C."A [K:Dmix] !fermata!e %% T.R~'
    assert _plain_music_line(line) == 'G2 A2 B2 c2 d2 .| "D.C."A [K:Dmix] !fermata!e %% T.R~'


def test_an_exclamation_mark_that_opens_no_decoration_stands_alone():
    # Aird's "!d>cB>A ...": no closing "!" before a space, so no decoration; the trill T after
    # it is still taken out (it was kept, and abc2midi played a trill the app does not).
    assert _plain_music_line("!d>cB>A G2:: TA>GA<B ~c") == "!d>cB>A G2:: A>GA<B c"


# -- abc2midi ------------------------------------------------------------------------------------

HEADER = "X:1\nT:Test\nM:4/4\nL:1/8\nK:G\n"


def _abc2midi_notes(body: str, **options) -> list[tuple[float, float, int]]:
    data = abc2midi_bytes(HEADER + body, **options)
    return [(round(n.onset, 2), round(n.duration, 2), n.pitch) for n in played_notes(data)]


@needs_abc2midi
def test_abc2midi_plays_the_melody_without_its_accompaniment():
    body = '%%MIDI droneon\n"G"G2 AB "D"c2 d2|"Am"e8|]\n'
    notes = played_notes(abc2midi_bytes(HEADER + body))
    assert [n.pitch for n in notes] == [67, 69, 71, 72, 74, 76]
    assert {n.channel for n in notes} == {0}


@needs_abc2midi
def test_abc2midi_plays_chords_together_and_hornpipes_straight():
    assert _abc2midi_notes("[GBd]4 B4|]")[:3] == [(0.0, 2.0, 67), (0.0, 2.0, 71), (0.0, 2.0, 74)]
    hornpipe = abc2midi_bytes(HEADER.replace("K:G", "R:hornpipe\nK:G") + "GABc d4|]")
    assert [round(n.duration, 2) for n in played_notes(hornpipe)] == [0.5, 0.5, 0.5, 0.5, 2.0]


@needs_abc2midi
def test_abc2midi_plays_decorated_notes_as_written_unless_asked():
    body = "~G2 .A2 TB2 Hc2|d8|]"
    assert _abc2midi_notes(body) == [
        (0.0, 1.0, 67),
        (1.0, 1.0, 69),
        (2.0, 1.0, 71),
        (3.0, 1.0, 72),
        (4.0, 4.0, 74),
    ]
    performed = _abc2midi_notes(body, plain=False)
    assert len(performed) > 5  # the roll and the trill become runs of short notes
    assert (0.0, 1.0, 67) not in performed


@needs_abc2midi
def test_abc2midi_gives_a_tune_without_x_an_x_line():
    assert _abc2midi_notes("GABc d4|]") == _abc2midi_notes("GABc d4|]\n")
    assert len(played_notes(abc2midi_bytes(HEADER[4:] + "GABc d4|]"))) == 5


@needs_abc2midi
def test_compare_finds_a_changed_note_between_two_abc2midi_files():
    tune = HEADER + "|:GABc d2B2|c2A2 G4:|\n"
    changed = tune.replace("c2A2", "c2^A2")
    result = compare(abc2midi_bytes(changed), abc2midi_bytes(tune))
    assert result.kinds == ["pitch"]
    assert result.first_difference.startswith("note 8: app A#4 at 5.002")


@pytest.fixture(scope="module")
def oneill() -> list[str]:
    return [t.text for t in load(["corpus:oneills1850"]).tunes]


@needs_abc2midi
@pytest.mark.parametrize(
    "index",
    [
        63,  # staccato, triplets, slurs
        1231,  # a reel
        1865,  # repeats
    ],
)
def test_the_apps_midi_agrees_with_abc2midi_on_real_tunes(oneill, index):
    from workbench.notation.convert import abc_to_midi_bytes

    tune = oneill[index]
    assert "{" not in tune  # no grace notes: their timing is the players' choice
    app = abc_to_midi_bytes(tune)
    assert pairing_faults(app).ok
    result = compare(app, abc2midi_bytes(tune))
    assert result.agree, result.first_difference
    assert result.app_notes > 50
