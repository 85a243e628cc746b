"""Batch export's exact names, texts and problems (files re-read from disk), error messages kept
to one line, tune texts that end without a newline, and ties around one-note and untied chords
(MIDI read by mido and compared with abc2midi's; MusicXML ties read from the bytes)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import mido
import pytest
from abc2midi_marks import needs_abc2midi

from workbench.corpus import load
from workbench.notation.convert import (
    ConversionError,
    ExportProblem,
    _one_line,
    abc_to_midi_bytes,
    abc_to_musicxml_bytes,
    abc_to_score,
    describe,
    export_file_names,
    export_tunes,
    free_names,
    renumber,
    safe_stem,
)
from workbench.notation.midi_compare import abc2midi_bytes, compare

KESH = "X:4\nT:The Kesh\nM:6/8\nL:1/8\nK:G\nGAG GAB|ABA ABd|]\n"


def test_describe_counts_from_one_and_quotes_the_title():
    assert describe(KESH, 0) == 'tune 1 "The Kesh"'
    assert describe(KESH, 6) == 'tune 7 "The Kesh"'
    assert describe("X:1\nK:G\nGABc|\n", 4) == "tune 5"


def test_one_line_messages():
    assert _one_line(ValueError("bad\n  token\tdump ")) == "bad token dump"
    assert _one_line(KeyError()) == "KeyError"  # no message: the exception's name
    assert _one_line(ValueError("x" * 200)) == "x" * 200  # at the cap: kept whole
    long = _one_line(ValueError("y" * 201))
    assert long == "y" * 197 + "..." and len(long) == 200


def test_safe_stem_keeps_x_and_cuts_long_titles_at_a_word():
    assert safe_stem("Xylophone Reel", "t") == "Xylophone_Reel"
    assert safe_stem("Malcolm X", "t") == "Malcolm_X"
    # Cut at 60 characters, where a separator would end the stem: it is trimmed off.
    assert safe_stem("A" * 59 + " Bee", "t") == "A" * 59
    assert safe_stem("-" + "A" * 59 + "-B", "t") == "A" * 59


def test_three_tunes_of_one_title_are_numbered_in_turn():
    assert export_file_names([KESH, KESH, KESH, "X:2\nK:D\nD|\n"], ".mid") == [
        "The_Kesh.mid",
        "The_Kesh-2.mid",
        "The_Kesh-3.mid",
        "tune_004.mid",
    ]


def test_free_names_never_hand_out_an_existing_file(tmp_path):
    """A tune titled "kesh-2" after one titled "Kesh": the first is moved to Kesh-2.abc, which
    once made the second keep kesh-2.abc although that file exists (it was overwritten)."""
    names = export_file_names(
        [KESH.replace("The Kesh", "Kesh"), "X:2\nT:kesh-2\nK:G\nG|\n"], ".abc"
    )
    assert names == ["Kesh.abc", "kesh-2.abc"]
    (tmp_path / "Kesh.abc").write_text("old 1", encoding="utf-8")
    (tmp_path / "kesh-2.abc").write_text("old 2", encoding="utf-8")
    free = free_names(tmp_path, names)
    assert free == ["Kesh-2.abc", "kesh-2-2.abc"]
    export_tunes([KESH, KESH], tmp_path, "abc", free)
    assert (tmp_path / "kesh-2.abc").read_text(encoding="utf-8") == "old 2"
    assert (tmp_path / "Kesh.abc").read_text(encoding="utf-8") == "old 1"


def test_renumber_changes_only_the_x_line():
    text = "X:12\nT:Tab\tand  spaces  \nK:G\nGABc|  "
    assert renumber(text, 3) == "X:3\nT:Tab\tand  spaces  \nK:G\nGABc|  "
    assert renumber("\n\nT:No number\nK:G\nG|\n\n", 9) == "X:9\nT:No number\nK:G\nG|"


def test_abc_export_writes_the_text_as_written(tmp_path):
    text = "X:1\nT:Spaced\nK:G\nGABc|  \n\n"
    (path,) = export_tunes([text], tmp_path, "abc")
    assert path.read_bytes() == b"X:1\nT:Spaced\nK:G\nGABc|  \n"
    (path,) = export_tunes(["X:1\nT:S\xed Bheag\nK:G\nG|\n"], tmp_path, "abc")
    assert path.name == "Si_Bheag.abc"
    assert path.read_bytes() == "X:1\nT:S\xed Bheag\nK:G\nG|\n".encode()


def test_export_makes_missing_folders_and_reports_empty_tunes(tmp_path):
    folder = tmp_path / "a" / "b" / "c"
    results = export_tunes(["X:1\nT:Bare\nK:D\nDEFG|\n", " \n\n"], folder, "mid")
    assert results == [
        folder / "Bare.mid",
        ExportProblem(1, "tune 2", "the tune is empty"),
    ]
    song = mido.MidiFile(file=io.BytesIO((folder / "Bare.mid").read_bytes()))
    assert [m.note for m in song.tracks[-1] if m.type == "note_on" and m.velocity] == [
        62,
        64,
        66,
        67,
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["Bare.mid"]


def test_a_file_that_cannot_be_written_is_that_tunes_problem(tmp_path):
    (tmp_path / "taken").mkdir()  # a folder where the file should go
    results = export_tunes([KESH, KESH], tmp_path, "abc", ["taken", "ok.abc"])
    assert results == [
        ExportProblem(0, 'tune 1 "The Kesh"', f"{tmp_path / 'taken'}: Is a directory"),
        tmp_path / "ok.abc",
    ]
    assert str(results[0]) == f'tune 1 "The Kesh": {tmp_path / "taken"}: Is a directory'


def test_unknown_format_names_the_formats(tmp_path):
    with pytest.raises(ValueError, match=r"use one of abc, tunebook, mid, musicxml$"):
        export_tunes([KESH], tmp_path, "wav")  # type: ignore[arg-type]


def test_tunebook_problems_are_exact(tmp_path):
    results = export_tunes([KESH, "", KESH], tmp_path / "book.abc", "tunebook")
    assert results == [
        tmp_path / "book.abc",
        ExportProblem(1, "tune 2", "the tune is empty"),
        tmp_path / "book.abc",
    ]
    assert [t.title for t in load([str(tmp_path / "book.abc")]).tunes] == ["The Kesh"] * 2


def test_a_tunebook_that_cannot_be_written_fails_every_tune_it_held(tmp_path):
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    book = tmp_path / "file" / "book.abc"
    results = export_tunes([KESH, "", "X:2\nK:D\nD|\n"], book, "tunebook")
    assert results == [
        ExportProblem(0, 'tune 1 "The Kesh"', f"{book}: Not a directory"),
        ExportProblem(1, "tune 2", "the tune is empty"),
        ExportProblem(2, "tune 3", f"{book}: Not a directory"),
    ]


def test_a_tunebook_refused_by_the_writer_says_why(tmp_path):
    book = tmp_path / "book.abc"
    bad = "X:1\nT:Marker\nK:G\n<start>\nGABc|\n"  # could not be read back as a tunebook
    results = export_tunes([bad, KESH], book, "tunebook")
    reason = f"{book}: tune 'X:1' holds a <start> or <end> line"
    assert results == [
        ExportProblem(0, 'tune 1 "Marker"', reason),
        ExportProblem(1, 'tune 2 "The Kesh"', reason),
    ]
    assert not book.exists()


@pytest.mark.parametrize("last", ["A", "A2", "A2-", "[CE]", "[CE]2"])
def test_a_tune_text_ending_without_a_newline_converts(last):
    data = abc_to_midi_bytes(f"X:1\nT:t\nK:C\nG {last}")
    song = mido.MidiFile(file=io.BytesIO(data))
    notes = [m.note for t in song.tracks for m in t if m.type == "note_on" and m.velocity]
    assert notes[0] == 67 and set(notes[1:]) == ({69} if last.startswith("A") else {60, 64})


ONE_NOTE_CHORD = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n[G2] [CE]2-[CE]2 z2|\n"


def test_a_one_note_chord_keeps_the_later_ties_and_cues():
    """music21 reads `[G2]` as a Chord of one note, the text as a note: that used to stop the
    pairing of text and score there, so `[CE]2-[CE]2` was struck twice and no note after the
    `[G2]` had the characters that wrote it (follow-along)."""
    notes, hanging = _quarter_notes(abc_to_midi_bytes(ONE_NOTE_CHORD))
    assert hanging == 0
    assert notes == [(0.0, 1.0, 67), (1.0, 2.0, 60), (1.0, 2.0, 64)]  # C and E held 4 units
    score = abc_to_score(ONE_NOTE_CHORD)
    spans = [e.editorial.get("source_span") for e in score.recurse().notesAndRests]
    assert [ONE_NOTE_CHORD[a:b] for a, b in spans] == ["[G2]", "[CE]2", "[CE]2", "z2"]


UNTIED = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\nG2 [GB]2 [G2-B2][GB] z2|\n"


def test_a_note_not_tied_into_a_chord_is_struck_again():
    notes, hanging = _quarter_notes(abc_to_midi_bytes(UNTIED))
    assert hanging == 0
    # G, then [GB] struck anew, then [G2-B2][GB]: G held 3 units, B struck twice.
    assert notes == [
        (0.0, 1.0, 67),
        (1.0, 1.0, 67),
        (1.0, 1.0, 71),
        (2.0, 1.0, 71),
        (2.0, 1.5, 67),
        (3.0, 0.5, 71),
    ]


def test_musicxml_ties_only_what_the_text_ties():
    """In UNTIED only `[G2-B2][GB]`'s G is tied: one tie start and one stop in the MusicXML, and
    none on the `[GB]` after the untied G2 (the score's ties are what notation programs show)."""
    xml = abc_to_musicxml_bytes(UNTIED).decode("utf-8")
    assert re.findall(r'<tie type="(\w+)"', xml) == ["start", "stop"]


@needs_abc2midi
@pytest.mark.parametrize("abc", [ONE_NOTE_CHORD, UNTIED])
def test_chords_with_one_note_or_untied_notes_play_as_abc2midi_plays_them(abc):
    comparison = compare(abc_to_midi_bytes(abc), abc2midi_bytes(abc))
    assert comparison.agree, f"{comparison.kinds}: {comparison.first_difference}"


def _quarter_notes(data: bytes) -> tuple[list[tuple[float, float, int]], int]:
    """(onset, length, pitch) in quarter notes read by mido, and the note-ons never ended."""
    song = mido.MidiFile(file=io.BytesIO(data))
    tick, sounding, notes = 0, {}, []
    for message in mido.merge_tracks(song.tracks):
        tick += message.time
        if message.type == "note_on" and message.velocity:
            sounding.setdefault(message.note, []).append(tick)
        elif message.type in ("note_on", "note_off") and sounding.get(message.note):
            start = sounding[message.note].pop(0)
            beat = song.ticks_per_beat
            notes.append((start / beat, (tick - start) / beat, message.note))
    return sorted(notes), sum(len(v) for v in sounding.values())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            "M:2/8\nL:16/14",
            "L:16/14 is not a note length music21 can read; write it like L:1/8 or L:1/16",
        ),
        ("M:3/14\nL:1/8", "M:3/14 is not a meter music21 can read; write it like M:6/8 or M:3/4"),
    ],
)
def test_a_length_or_meter_music21_cannot_read_is_refused_with_an_example(fields, message):
    with pytest.raises(ConversionError) as info:
        abc_to_midi_bytes(f"X:1\nT:t\n{fields}\nK:G\nABcd|\n")
    assert str(info.value) == message


def test_a_conversion_error_message_is_one_line():
    with pytest.raises(ConversionError) as info:
        abc_to_midi_bytes("X:1\nT:t\nK:C\n" + "\n".join(["(((((( ]]]]"] * 40))
    assert "\n" not in str(info.value) and len(str(info.value)) <= 250


def test_every_export_format_round_trips_a_title(tmp_path):
    for fmt, suffix in (("abc", ".abc"), ("mid", ".mid"), ("musicxml", ".musicxml")):
        (path,) = export_tunes([KESH], tmp_path / fmt, fmt)
        assert path == tmp_path / fmt / f"The_Kesh{suffix}" and path.stat().st_size > 0
    assert Path(tmp_path / "abc" / "The_Kesh.abc").read_text(encoding="utf-8") == KESH
