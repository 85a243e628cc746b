"""A generated piece's MusicXML is well formed where music21's own MIDI reader and notation pass
leave a measure holding voices and loose notes side by side (notes held over the bar line
overlapping new ones of other lengths, as generated pieces and real chorales have): every note
is in a voice, music21 reads the file back without a warning (pytest turns warnings into errors
here), and every pitch sounds as long as in music21's own reading of the piece's MIDI (and, for
a piece on the quarter-beat grid, as in mido's reading of it).

Before the mending, 25 of 39 chorales and 36 of 40 pieces of a trained model's gave a file
music21 warned about.
"""

from __future__ import annotations

import io
from collections import defaultdict

import mido
import pytest
from midi_files import write_tracks

import workbench.generation as generation
from workbench.generation import GeneratedPiece, piece_musicxml_bytes
from workbench.midi_data import codec_for, make_settings
from workbench.midi_data.encodings import text_of

#: Held notes from beat 1.5 and 2 of bar 1 run into bar 2 by 0.5 to 2 beats, where new notes of
#: 1 and 4 beats start: music21 reads bar 2 as two voices plus loose notes.
OVERLAPPING = [
    (55, 1.5, 4.0),
    (43, 1.5, 3.0),
    (71, 1.5, 3.0),
    (73, 2.0, 3.0),
    (47, 2.0, 4.0),
    (74, 4.0, 1.0),
    (63, 4.0, 4.0),
]
#: Events a trained model wrote (cut down to what still shows it): a 12-beat F4 under short
#: notes, whose tie's remainder the writer's notation pass leaves loose in a later measure, so
#: that one mending is not enough.
TWO_PASSES = (
    "Position_16 Pitch_62 Duration_1.0.8 Pitch_65 Duration_12.0.4 Bar_None Pitch_71 "
    "Duration_0.4.8 Pitch_78 Duration_1.0.8 Bar_None Bar_None Pitch_59 Duration_0.4.8 "
    "Pitch_70 Duration_1.0.8 "
)

#: Events a trained model wrote (cut down likewise): a 12-beat E3 whose loose notes, once in a
#: voice of their own, are tied into the next measure, which must hold a voice of that name.
NEXT_VOICE = (
    "Pitch_76 Duration_1.4.8 Pitch_52 Duration_12.0.4 Position_28 Bar_None Pitch_67 "
    "Duration_1.4.8 Pitch_60 Duration_0.2.8 Bar_None Pitch_52 Duration_2.0.8 Pitch_57 "
    "Duration_0.4.8 "
)


def beats_per_pitch_mido(midi: bytes) -> dict[int, float]:
    mf = mido.MidiFile(file=io.BytesIO(midi))
    held: dict[int, float] = defaultdict(float)
    for track in mf.tracks:
        now, on = 0, {}
        for msg in track:
            now += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                on[msg.note] = now
            elif msg.type in ("note_off", "note_on") and msg.note in on:
                held[msg.note] += (now - on.pop(msg.note)) / mf.ticks_per_beat
    return dict(held)


def beats_per_pitch_music21(score) -> dict[int, float]:
    held: dict[int, float] = defaultdict(float)
    for n in score.recurse().notes:
        for p in n.pitches:
            held[p.midi] += float(n.duration.quarterLength)
    return dict(held)


def mixed_measures(score) -> list[int]:
    from music21 import note, stream

    return [
        m.number
        for m in score.recurse().getElementsByClass(stream.Measure)
        if m.voices and list(m.getElementsByClass(note.GeneralNote))
    ]


def read_back(piece: GeneratedPiece):
    from music21 import converter

    return converter.parseData(piece_musicxml_bytes(piece), format="musicxml")


def assert_same_lengths(expected: dict[int, float], got: dict[int, float]) -> None:
    assert got.keys() == expected.keys()
    for pitch, beats in expected.items():
        assert got[pitch] == pytest.approx(beats), pitch


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory) -> GeneratedPiece:
    path = write_tracks(tmp_path_factory.mktemp("xml") / "overlapping.mid", [OVERLAPPING])
    settings = make_settings("remi")
    return GeneratedPiece.make(text_of(codec_for(settings).encode_file(path)), settings)


def test_music21_reads_the_midi_with_loose_notes_beside_voices(overlapping) -> None:
    """The case exists: without the mending, the export would carry it (the oracle is music21's
    own reading of the piece's MIDI)."""
    from music21 import converter

    assert mixed_measures(converter.parseData(overlapping.midi, format="midi")) == [2]


def test_the_musicxml_puts_every_note_in_a_voice_and_keeps_every_pitchs_length(
    overlapping,
) -> None:
    back = read_back(overlapping)  # a warning would fail the test
    assert mixed_measures(back) == []
    expected = beats_per_pitch_mido(overlapping.midi)
    assert expected.keys() == {p for p, _, _ in OVERLAPPING}
    assert_same_lengths(expected, beats_per_pitch_music21(back))


def test_real_chorales_as_pieces_export_clean_musicxml(chorale_files) -> None:
    from music21 import converter

    settings = make_settings("remi")
    codec = codec_for(settings)
    mended = 0
    for path in chorale_files:
        piece = GeneratedPiece.make(text_of(codec.encode_file(path)), settings)
        read = converter.parseData(piece.midi, format="midi")
        read.makeNotation(inPlace=True)  # as the writer would, before any mending
        mended += bool(mixed_measures(read))
        back = read_back(piece)
        assert mixed_measures(back) == [], path.name
        reference = converter.parseData(piece.midi, format="midi")
        assert_same_lengths(beats_per_pitch_music21(reference), beats_per_pitch_music21(back))
    assert mended > 0  # the chorales exercised the mending


def test_a_tie_into_the_next_measure_finds_its_voice_there() -> None:
    from music21 import converter

    piece = GeneratedPiece.make(NEXT_VOICE, make_settings("remi"))
    back = read_back(piece)  # music21's writer raised KeyError before the voice was added
    assert mixed_measures(back) == []
    reference = converter.parseData(piece.midi, format="midi")
    assert_same_lengths(beats_per_pitch_music21(reference), beats_per_pitch_music21(back))


def test_a_tie_left_loose_by_the_notation_pass_is_mended_on_a_second_pass(monkeypatch) -> None:
    from music21 import converter
    from music21.musicxml.xmlObjects import MusicXMLWarning

    piece = GeneratedPiece.make(TWO_PASSES, make_settings("remi"))
    back = read_back(piece)
    assert mixed_measures(back) == []
    reference = converter.parseData(piece.midi, format="midi")
    assert_same_lengths(beats_per_pitch_music21(reference), beats_per_pitch_music21(back))
    monkeypatch.setattr(generation, "NOTATION_PASSES", 1)
    with pytest.warns(MusicXMLWarning, match="missing voice tag"):
        read_back(piece)
