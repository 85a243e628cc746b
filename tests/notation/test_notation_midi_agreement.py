"""The app plays what abc2midi plays: one minimal tune per class of difference once found.

Each class was an app bug a musician hears (music21 misreading the ABC), found by
`benchmarks/midi_agreement.py`; each test here compares the app's MIDI with abc2midi's through
the independent oracle (`workbench.notation.midi_compare`) and failed before its repair in
`workbench.notation.music21_text` / `play_order` / `convert`. The tests that need abc2midi
skip without it; the play-order and text-tracing tests below them do not need it.
"""

from __future__ import annotations

import pytest
from abc2midi_marks import needs_abc2midi

from workbench.notation.convert import abc_to_midi_bytes, abc_to_score, music21_source
from workbench.notation.midi_compare import (
    abc2midi_bytes,
    compare,
    note_name,
    pairing_faults,
    played_notes,
)
from workbench.notation.music21_text import music21_text
from workbench.notation.play_order import part_order, play_order

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"


def _tune(body: str, header: str = HEADER) -> str:
    return header + body + "\n"


def _agrees(abc: str) -> None:
    """The app's notes (pitch, onset, length) are abc2midi's, and none of them hangs."""
    app = abc_to_midi_bytes(abc)
    reference = abc2midi_bytes(abc)
    comparison = compare(app, reference)
    assert comparison.agree, f"{comparison.kinds}: {comparison.first_difference}"
    assert pairing_faults(app).ok


def _pitches(abc: str) -> str:
    return " ".join(note_name(n.pitch) for n in played_notes(abc_to_midi_bytes(abc)))


# -- 1. repeats -------------------------------------------------------------------------------


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "GABc|dedc:|BAGF|E4 z4:|",  # the tune: AABB, not back to the top
        "GABc|dedc:|:BAGF|E4 z4:|",  # ":|:" keeps its start half
        "GABc|dedc::BAGF|E4 z4:|",
        "|:GABc dedc:|",  # a one-bar repeat
        "|:GABc dedc:|BAGF E4|]",
        "GABc|dedc||BAGF|E4 z4:|",  # in abc2midi "||" is no start repeat for the first ":|"
        "GABc|dedc:|BAGF|]E4 z4:|",  # ... but is one for a later ":|"
        "|:GABc|1dedc:|2BAGF|]",  # endings
        "|:GABc|[1dedc:|[2BAGF:|[3E4 z4|]",
        "GABc|dedc|1BAGF:|2E4 z4|]",  # an ending with no start repeat
        "|:GABc|dedc :| [|]:|",  # bar lines split over tokens: "[|]:|" ends a repeat
    ],
)
def test_repeats_play_as_abc2midi_plays_them(body):
    _agrees(_tune(body))


def test_repeats_play_aabb():
    assert _pitches(_tune("G2A2|B4:|c2d2|e4:|")) == " ".join(
        ["G4", "A4", "B4"] * 2 + ["C5", "D5", "E5"] * 2
    )


# -- 2. accidentals carry through the bar ----------------------------------------------------


@needs_abc2midi
def test_accidentals_carry_through_the_bar():
    _agrees(_tune("^c d c e =c c d2|c8|"))
    _agrees(_tune("^C c C2 D4|C8|"))  # to the same letter in other octaves too


def test_declaring_abc21_changes_nothing_but_accidentals():
    """music21 reads ``%abc-2.1`` only to let accidentals carry: decorations, line breaks and
    continuations, chords, tuplets and grace notes read the same with and without it."""
    from music21 import converter

    from workbench.notation.music21_text import VERSION_LINE

    def read(text: str) -> list[tuple[str, float, float]]:
        score = converter.parse(text, format="abc")
        return [
            (str(n.pitches), float(n.offset), float(n.quarterLength))
            for n in score.recurse().notesAndRests
        ]

    tune = "X:1\nM:4/4\nL:1/8\nK:D\n!trill!A2 (3Bcd e2 !\n~f2 [df]2 \\\nT g2 .a2|{b}a8|]\n"
    assert read(VERSION_LINE + tune) == read(tune)
    sharp = "X:1\nM:4/4\nL:1/8\nK:C\n^c2 c2 d4|\n"
    assert read(VERSION_LINE + sharp) != read(sharp)


def test_accidentals_carry_without_abc2midi():
    assert _pitches(_tune("^c d c2 e4|c8|")) == "C#5 D5 C#5 E5 C5"


# -- 3. a tie between two pitches -------------------------------------------------------------


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "A4-B2 c2|d8|",  # both notes play
        "A4-A2 B2|d8|",  # a real tie still holds
        "g>-f ga b-<g a2|g>-g a2 b-<b a2|",  # O'Neill's: a broken rhythm and a tie together
        "FGAB {d}-cAFG|A8|",  # a tie after a grace group
    ],
)
def test_ties_between_two_pitches_play_both(body):
    _agrees(_tune(body))


# -- 4. H, the fermata shorthand, and unknown decoration letters ------------------------------


@needs_abc2midi
def test_fermata_shorthand_keeps_its_note():
    _agrees(_tune("G4 Hz2 f2|Hf2 g6|"))
    _agrees(_tune("A2 J B2 W c2 p d2|"))  # letters music21 would read as notes


# -- 5. broken rhythms past slurs, dots and grace notes ---------------------------------------


@needs_abc2midi
def test_broken_rhythms_reach_past_slurs_dots_and_graces():
    _agrees(_tune("G>(FG) A>.F G<(GG>)B|A8|"))
    _agrees(_tune("G>{a}F G2 [GB]>[FA] D2|G8|"))


# -- 6 and 7. invisible and multi-bar rests ---------------------------------------------------


@needs_abc2midi
def test_invisible_rests_take_their_time():
    _agrees(_tune("x2 G2 x4|G8|"))


@needs_abc2midi
@pytest.mark.parametrize(
    "abc",
    [
        _tune("G8|Z2|G8|"),
        _tune("G2 Z2|G8|"),  # bars of rest after notes in the same bar
        "X:1\nM:6/8\nL:1/8\nK:G\nG6|Z3|X|G6|\n",
        "X:1\nM:3/4\nL:1/8\nK:G\nG6|Z|[M:2/4]Z|G4|\n",  # the meter in force
        "X:1\nL:1/8\nK:G\nZ|G8|\n",  # no meter: 4/4, as abc2midi
    ],
)
def test_multi_bar_rests_take_their_bars(abc):
    _agrees(abc)


# -- 8. annotations ---------------------------------------------------------------------------


@needs_abc2midi
def test_annotations_leave_their_notes():
    _agrees(_tune('">"G2 A2 "<(" B2 c2|"^x"d4 "_y"e4|'))


# -- 9. a P: play order -----------------------------------------------------------------------


@needs_abc2midi
@pytest.mark.parametrize(
    "order",
    ["ABA", "A2B", "(AB)3", "B.A.B", "ABA % Aird uses a da capo", "BCA"],
)
def test_play_order_plays_the_parts_in_order(order):
    abc = f"X:1\nM:4/4\nL:1/8\nP:{order}\nK:G\nP:A\nGABc dedc:|\nP:B\nBAGF E4|]\n"
    _agrees(abc)


def test_play_order_without_abc2midi():
    abc = "X:1\nM:4/4\nL:1/8\nP:BA\nK:G\nP:A\nG8|]\nP:B\nB8|]\n"
    assert _pitches(abc) == "B4 G4"


# -- 10. chord symbols --------------------------------------------------------------------------


@needs_abc2midi
def test_chord_symbols_are_not_played_and_nothing_hangs():
    abc = _tune('"G"G2 "Am"A2 "f"B2 c2|"D7"d8|')
    _agrees(abc)
    assert pairing_faults(abc_to_midi_bytes(abc)).hanging == 0


def test_chord_symbols_stay_in_the_written_score():
    from music21 import harmony

    score = abc_to_score(_tune('"G"G2 "Am"A2 B2 c2|'))
    assert len(list(score.recurse().getElementsByClass(harmony.ChordSymbol))) == 2


# -- grace notes ------------------------------------------------------------------------------


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "{d}(3cAF G2 (3{d}cAF G2|G8|",  # before a tuplet: full time; inside: the tuplet's
        "(3c{d}AF G2 z4|",
    ],
)
def test_grace_notes_and_tuplets_time_as_abc2midi(body):
    _agrees(_tune(body))


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "{AGF}E z7|",  # graces take their full time, even more than half the note
        "{AG}E/ z7z/|",  # graces as long as their note are left out (O'Neill's "({AG}E/D/)")
        "E2 {A}z2 E4|",  # graces before a rest take the rest's time
    ],
)
def test_grace_lengths_follow_abc2midi(body):
    _agrees(_tune(body))


@needs_abc2midi
def test_grace_chords_are_grace_notes():
    _agrees("X:1\nM:2/4\nL:1/16\nK:D\n[F4d4] {[Ge]}[Af][Ge][Fd][Ge]|[A2f2][F2d2] [F4d2]c2|\n")


# -- smaller repairs --------------------------------------------------------------------------


@needs_abc2midi
@pytest.mark.parametrize(
    "abc",
    [
        _tune("G2 A2 [K:D] F2 c2|[L:1/4] F c F c|"),  # inline fields music21 ignored
        "X:1\nM:4/4\nL:1/8\nI (1) :| (2) ||\nK:G\nG2 A2 B2 c2|d8|]\n",  # music before K:
        # voices, each repeated on its own (music21 failed on the header V: lines)
        "X:1\nM:2/4\nL:1/8\nV:1\nV:2\nK:D\nV:1\nFA dc|B2 B2:|\nV:2\nDF DF|G2 G2:|\n",
    ],
)
def test_smaller_repairs_agree(abc):
    _agrees(abc)


# -- the play order itself (no abc2midi needed) -------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "order"),
    [
        ("ABA", "ABA"),
        ("A2B", "AAB"),
        ("(AB)3", "ABABAB"),
        ("A(AB)3(CD)2", "AABABABCDCD"),
        ("((AB)2.C)2", "ABABCABABC"),
        ("B.A % comment", "BA"),
    ],
)
def test_part_order(spec, order):
    assert part_order(spec) == order


def _played(body: str) -> str:
    """The letters of the music items ``body`` plays, in playing order."""
    abc = "X:1\nK:C\n" + body + "\n"
    playing = play_order(abc)
    assert playing is not None
    music = "".join(abc[i.start : i.end] for i in playing.items if i.kind == "music")
    return "".join(music.split())


@pytest.mark.parametrize(
    ("body", "played"),
    [
        ("C|D:|E|F:|", "CDCDEFEF"),
        ("C||D:|", "CDCD"),
        ("C|D:|E|]F:|", "CDCDEFF"),
        ("C:|D|E:|", "CCDEDE"),
        ("|:C|1D:|2E|", "CDCE"),
        ("C|1D:|2E|F:|", "CDCEFC"),  # abc2midi's own quirk: back to the top after endings
        ("|:C|[1,3D:|[2E:|", "CDCECDC"),
    ],
)
def test_play_order_follows_abc2midi(body, played):
    assert _played(body) == played


def test_voices_are_left_to_the_caller():
    assert play_order("X:1\nK:C\nV:1\nC:|\nV:2\nE:|\n") is None


# -- tracing the text music21 reads back to the tune ------------------------------------------


def test_every_played_note_points_at_the_characters_that_wrote_it():
    abc = _tune("GABc|Z2|x2 B>(AG) Hz2:|")
    source = music21_text(abc, played=True)
    score = abc_to_score(abc, played=True)
    assert music21_source(score) == source
    spans = [e.editorial.source_span for e in score.recurse().notesAndRests]
    written = [abc[a:b] for a, b in spans]
    once = ["G", "A", "B", "c", "Z2", "Z2", "x2", "B", "A", "G", "z2"]
    assert written == once * 2
