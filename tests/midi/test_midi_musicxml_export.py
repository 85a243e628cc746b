"""A generated piece's MusicXML holds every note at the time and for the length music21's own
reading of the piece's MIDI gives it, and music21 reads the file back without a warning (pytest
turns warnings into errors here).

The oracle is the MIDI itself as music21 reads it: for each pitch, the stretches of time it
sounds, compared with the stretches it sounds in the MusicXML read back (ties and chord
spellings may differ; when and how long each pitch sounds may not). The cases are those where
the export went wrong before: real chorales (13 of 19 came back right), a piece made to give
measures with loose notes beside voices, and two pieces a trained model wrote, cut down to what
still shows it (a note held 12 beats under shorter ones).
"""

from __future__ import annotations

import pytest
from midi_files import sounding_spans, write_tracks

from workbench.generation import GeneratedPiece, piece_musicxml_bytes
from workbench.midi_data import TEMPO_KEY, codec_for, make_settings
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
#: Events a trained model wrote, cut down: each has a note held 12 beats under shorter ones.
MODEL_PIECES = {
    "held F4": "Position_16 Pitch_62 Duration_1.0.8 Pitch_65 Duration_12.0.4 Bar_None Pitch_71 "
    "Duration_0.4.8 Pitch_78 Duration_1.0.8 Bar_None Bar_None Pitch_59 Duration_0.4.8 "
    "Pitch_70 Duration_1.0.8 ",
    "held E3": "Pitch_76 Duration_1.4.8 Pitch_52 Duration_12.0.4 Position_28 Bar_None Pitch_67 "
    "Duration_1.4.8 Pitch_60 Duration_0.2.8 Bar_None Pitch_52 Duration_2.0.8 Pitch_57 "
    "Duration_0.4.8 ",
}


def assert_exported_as_read(piece: GeneratedPiece):
    from music21 import converter

    back = converter.parseData(piece_musicxml_bytes(piece), format="musicxml")  # no warning
    assert sounding_spans(back) == sounding_spans(converter.parseData(piece.midi, format="midi"))
    return back


def test_a_piece_with_loose_notes_beside_voices(tmp_path) -> None:
    from music21 import converter, note, stream

    path = write_tracks(tmp_path / "overlapping.mid", [OVERLAPPING])
    settings = make_settings("remi")
    piece = GeneratedPiece.make(text_of(codec_for(settings).encode_file(path)), settings)
    read = converter.parseData(piece.midi, format="midi")
    mixed = [
        m.number
        for m in read.recurse().getElementsByClass(stream.Measure)
        if m.voices and list(m.getElementsByClass(note.GeneralNote))
    ]
    assert mixed == [2]  # the case the file must not carry
    back = assert_exported_as_read(piece)
    assert set(sounding_spans(back)) == {p for p, _, _ in OVERLAPPING}


@pytest.mark.parametrize("name", sorted(MODEL_PIECES))
def test_pieces_a_model_wrote(name: str) -> None:
    assert_exported_as_read(GeneratedPiece.make(MODEL_PIECES[name], make_settings("remi")))


def test_real_chorales(chorale_files) -> None:
    settings = make_settings("remi")
    codec = codec_for(settings)
    for path in chorale_files:
        assert_exported_as_read(GeneratedPiece.make(text_of(codec.encode_file(path)), settings))


def test_title_meter_and_tempo_are_kept(chorale_files) -> None:
    from music21 import converter, meter, tempo

    settings = {**make_settings("remi"), TEMPO_KEY: 72.0}
    text = text_of(codec_for(settings).encode_file(chorale_files[0]))
    piece = GeneratedPiece.make(text, settings, seed=5, index=1)
    back = assert_exported_as_read(piece)
    assert back.metadata.bestTitle == "Piece (seed 5, #2)"
    [mark] = back.flatten().getElementsByClass(tempo.MetronomeMark)
    assert mark.number == pytest.approx(72.0)
    read = converter.parseData(piece.midi, format="midi")
    [meter_read] = {ts.ratioString for ts in read.flatten().getElementsByClass(meter.TimeSignature)}
    assert [ts.ratioString for ts in back.flatten().getElementsByClass(meter.TimeSignature)] == [
        meter_read
    ]


def test_what_cannot_be_written_says_why(chorale_files, monkeypatch) -> None:
    import workbench.generation as generation
    from workbench.notation.convert import ConversionError

    with pytest.raises(ConversionError, match=r"^the piece has no notes$"):
        piece_musicxml_bytes(GeneratedPiece(text="", settings={}))
    with pytest.raises(ConversionError, match=r"^the events hold no notes$"):
        piece_musicxml_bytes(GeneratedPiece.make("Bar_None ", make_settings("remi")))
    settings = make_settings("remi")
    text = text_of(codec_for(settings).encode_file(chorale_files[0]))
    piece = GeneratedPiece.make(text, settings)

    def boom(*_args):
        raise ValueError("bad bytes\nmore")

    monkeypatch.setattr(generation, "_chords_in_time", boom)
    with pytest.raises(ConversionError, match=r"^music21 cannot notate its MIDI \(bad bytes\)$"):
        piece_musicxml_bytes(piece)
    monkeypatch.setattr(generation, "_music21_score", boom)
    with pytest.raises(ConversionError, match=r"^music21 cannot read its MIDI \(bad bytes\)$"):
        piece_musicxml_bytes(piece)
