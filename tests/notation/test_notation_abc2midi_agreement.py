"""Broken rhythms and decorated accidentals play as abc2midi plays them, with exact onsets.

abc2midi (``store.c``, ``brokenadjust``) applies ``>`` and ``<`` only between two notes or rests
of the same length as they stand then (an earlier ``>`` included), and always next to a chord;
otherwise it warns "Cannot apply broken rhythm. Notes not equal durations" and plays the written
lengths. The app follows it (`workbench.notation.music21_text._broken_rhythms_spelled_out`),
not the standard's literal "dot the first, halve the second", which music21 applied to
``d>c/`` and ``A2>B``: about one corpus tune in 25 of miscFolk and Ryan's sounded otherwise.

Each case gives the notes, in quarter notes from the tune's start, that the app must play
(checked without abc2midi) and that abc2midi plays (checked where it is installed, within
the oracle's tolerance for its one-tick lateness).

Ties on chords: music21 kept none (``[D2F2]-[D2F2]`` and ``[D2-F2][DF]`` were struck twice);
abc2midi, as the standard says, ties each pitch to the same pitch in the next note or chord.

Also here: an accidental after a one-letter decoration (``T^c3 B/c/``) carries through the bar,
and the oracle reads ``H[|]`` as abc2midi should (a bar line, not a chord that never ends).
"""

from __future__ import annotations

import functools

import pytest
from abc2midi_marks import needs_abc2midi

from workbench.corpus import load
from workbench.notation.convert import abc_to_midi_bytes, abc_to_score, score_to_midi_bytes
from workbench.notation.midi_compare import (
    DURATION_TOLERANCE,
    ONSET_TOLERANCE,
    _plain_music_line,
    abc2midi_bytes,
    compare,
    note_name,
    pairing_faults,
    played_notes,
)

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"  # one unit note is half a quarter

# (body, [(note, onset, length)] in quarter notes)
CASES = [
    # unequal notes: the written lengths (the standard would give 0.75 + 0.125)
    ("d>c/ B2 z4|", [("D5", 0, 0.5), ("C5", 0.5, 0.25), ("B4", 0.75, 1)]),
    ("A2>B c2 z3|", [("A4", 0, 1), ("B4", 1, 0.5), ("C5", 1.5, 1)]),
    ("A>B2 c z4|", [("A4", 0, 0.5), ("B4", 0.5, 1), ("C5", 1.5, 0.5)]),
    ("A>>B/ z6z/|", [("A4", 0, 0.5), ("B4", 0.5, 0.25)]),
    ("z2>A z5|", [("A4", 1, 0.5)]),  # a rest is a note here
    # a chain: after A>B, B is 1/2 long and c 1, so the second > is not applied ...
    ("A>B>c z5|", [("A4", 0, 0.75), ("B4", 0.75, 0.25), ("C5", 1, 0.5)]),
    # ... and in A>B<c>d the last one is again between equals
    ("A>B<c>d z4|", [("A4", 0, 0.75), ("B4", 0.75, 0.25), ("C5", 1, 0.75), ("D5", 1.75, 0.25)]),
    # ... and after A>B the shortened B equals c/, so both apply (B to 3/4, c/ to 1/4)
    ("A>B>c/ z5|", [("A4", 0, 0.75), ("B4", 0.75, 0.375), ("C5", 1.125, 0.125)]),
    # past a slur (The White Cockade, across a line break) and inside one (Boys of Bockhill)
    ("g> (a//\nb) z5z/z//|", [("G5", 0, 0.5), ("A5", 0.5, 0.125), ("B5", 0.625, 0.5)]),
    ("(e>g/f/a/) z5|", [("E5", 0, 0.5), ("G5", 0.5, 0.25), ("F5", 0.75, 0.25), ("A5", 1, 0.25)]),
    # still applied: equal notes, and a chord on either side whatever the lengths
    ("A/>B/ z7|", [("A4", 0, 0.375), ("B4", 0.375, 0.125)]),
    ("A>z z6|", [("A4", 0, 0.75)]),
    ("z>A z6|", [("A4", 0.75, 0.25)]),
    (
        "[CE]2>[DF] z5|",
        [("C4", 0, 1.5), ("E4", 0, 1.5), ("D4", 1.5, 0.25), ("F4", 1.5, 0.25)],
    ),
    ("A2>[DF] z5|", [("A4", 0, 1.5), ("D4", 1.5, 0.25), ("F4", 1.5, 0.25)]),
    ("A2-A>B z4|", [("A4", 0, 1.75), ("B4", 1.75, 0.25)]),  # the tied note's last part counts
]


def _notes(data: bytes) -> list[tuple[str, float, float]]:
    notes = sorted(played_notes(data), key=lambda n: (round(n.onset, 2), n.pitch))
    return [(note_name(n.pitch), n.onset, n.duration) for n in notes]


def _check_app(body: str, expected: list) -> None:
    """The app's MIDI of `body` holds exactly `expected`, every note-on paired."""
    app = abc_to_midi_bytes(HEADER + body + "\n")
    assert _notes(app) == expected
    assert pairing_faults(app).ok


def _check_abc2midi(body: str, expected: list) -> None:
    """abc2midi plays `expected` too (within its tick rounding), and agrees with the app."""
    abc = HEADER + body + "\n"
    reference = _notes(abc2midi_bytes(abc))
    assert [n for n, _, _ in reference] == [n for n, _, _ in expected]
    for (_, onset, length), (_, want_onset, want_length) in zip(reference, expected, strict=True):
        assert abs(onset - want_onset) <= ONSET_TOLERANCE
        assert abs(length - want_length) <= DURATION_TOLERANCE
    assert compare(abc_to_midi_bytes(abc), abc2midi_bytes(abc)).agree


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_app_plays_broken_rhythms_as_abc2midi(body, expected):
    _check_app(body, expected)


@needs_abc2midi
@pytest.mark.parametrize(("body", "expected"), CASES)
def test_abc2midi_plays_the_expected_notes(body, expected):
    _check_abc2midi(body, expected)


# -- an accidental after a one-letter decoration carries through the bar ---------------------

DECORATED = "X:1\nM:C\nL:1/8\nK:G\nd2 e{letter}^c B/c/ {letter}=f f z|c8|\n"


@pytest.mark.parametrize("letter", ["T", "~", "L", "O", "P", "S"])
def test_accidentals_after_decoration_letters_carry(letter):
    """music21 dropped the sharp of the second c after ``T^c`` (and the natural after ``T=f``):
    the standard and abc2midi carry both to the end of the bar."""
    app = abc_to_midi_bytes(DECORATED.format(letter=letter))
    assert _notes(app) == [
        ("D5", 0, 1),
        ("E5", 1, 0.5),
        ("C#5", 1.5, 0.5),
        ("B4", 2, 0.25),
        ("C#5", 2.25, 0.25),
        ("F5", 2.5, 0.5),
        ("F5", 3, 0.5),
        ("C5", 4, 4),  # the next bar: the key's c again
    ]


@needs_abc2midi
@pytest.mark.parametrize("letter", ["T", "~", "L", "O", "P", "S"])
def test_accidentals_after_decoration_letters_agree(letter):
    abc = DECORATED.format(letter=letter)
    comparison = compare(abc_to_midi_bytes(abc), abc2midi_bytes(abc))
    assert comparison.agree, f"{comparison.kinds}: {comparison.first_difference}"


# -- the oracle: a fermata on a thick-thin bar line ---------------------------------------------


def test_oracle_writes_a_fermata_before_a_bar_line_long():
    assert _plain_music_line("A8 H[|]|]") == "A8 !fermata![|]|]"
    assert _plain_music_line("HA8 [|]") == "HA8 [|]"  # a fermata on a note stays


@needs_abc2midi
def test_oracle_plays_on_after_a_fermata_on_a_bar_line():
    abc = "X:1\nM:4/4\nL:1/8\nK:C\nA8 H[|]|]\nB2 c2 d2 e2|f8|\n"
    onsets = [round(n.onset) for n in played_notes(abc2midi_bytes(abc))]
    assert onsets == [0, 4, 5, 6, 7, 8]  # without it abc2midi played B..f as one chord at 4
    assert compare(abc_to_midi_bytes(abc), abc2midi_bytes(abc)).agree


# -- ties on chords: each pitch held into the same pitch of the next note or chord ------------

# (body, [(note, onset, length)] in quarter notes)
CHORD_TIE_CASES = [
    ("[D2F2]-[D2F2] z4|", [("D4", 0, 2), ("F4", 0, 2)]),  # the whole chord
    ("[D2-F2-][DF] z5|", [("D4", 0, 1.5), ("F4", 0, 1.5)]),  # every note of it
    ("[D2-F2][DF] z5|", [("D4", 0, 1.5), ("F4", 0, 1), ("F4", 1, 0.5)]),  # one note: F again
    ("[D2F2]-D z5|", [("D4", 0, 1.5), ("F4", 0, 1)]),  # into a note: F is not held
    ("D2-[DF] z5|", [("D4", 0, 1.5), ("F4", 1, 0.5)]),  # a note into a chord
    ("[D2F2]-[DF]-[DF] z4|", [("D4", 0, 2), ("F4", 0, 2)]),  # a chain
    ("D2-D2-[DF] z3|", [("D4", 0, 2.5), ("F4", 2, 0.5)]),  # a note chain ending in a chord
    ("[D2F2]-[DF] D z4|", [("D4", 0, 1.5), ("F4", 0, 1.5), ("D4", 1.5, 0.5)]),  # struck again
    ("z6 [DF]2-|[DF]2 z6|", [("D4", 3, 2), ("F4", 3, 2)]),  # across a bar line
    ("[b4-B4-]B4|", [("B4", 0, 4), ("B5", 0, 2)]),  # Walk Around: only the low B goes on
]


@pytest.mark.parametrize(("body", "expected"), CHORD_TIE_CASES)
def test_app_holds_tied_chord_notes(body, expected):
    _check_app(body, expected)


@needs_abc2midi
@pytest.mark.parametrize(("body", "expected"), CHORD_TIE_CASES)
def test_abc2midi_holds_tied_chord_notes_alike(body, expected):
    _check_abc2midi(body, expected)


def test_chord_ties_are_on_the_score_and_midi_leaves_its_elements():
    """The written score carries the ties (for MusicXML too); writing MIDI holds the notes in
    a copy, so the score keeps one element per written chord for the player's cues."""
    score = abc_to_score(HEADER + "[D2-F2][DF] z5|\n", played=True)
    first, second = list(score.recurse().notes)
    assert [(n.pitch.name, n.tie.type if n.tie else None) for n in first.notes] == [
        ("D", "start"),
        ("F", None),
    ]
    assert [(n.pitch.name, n.tie.type if n.tie else None) for n in second.notes] == [
        ("D", "stop"),
        ("F", None),
    ]
    score_to_midi_bytes(score)
    assert [len(c.notes) for c in score.recurse().notes] == [2, 2]


# -- whole corpus tunes -------------------------------------------------------------------------


@functools.cache
def _tunes(collection: str) -> tuple:
    return tuple(load([f"corpus:{collection}"]).tunes)


@needs_abc2midi
@pytest.mark.parametrize(
    ("collection", "title", "written"),
    [
        ("miscFolk", "The White Cockade", "g> (a//"),  # across a line
        ("miscFolk", "Rakes of Marlow", "d>B/"),
        ("ryansMammoth", "THE BOYS OF BOCKHILL - JIG", "(e>g/f/a/)"),
        ("ryansMammoth", "BUCKLEY'S -- HORNPIPE", "vB/>(u.=A>u.c)"),
        ("airdsAirs", "See the Conquering Hero comes", "T^c3 B/c/"),
        ("ryansMammoth", "HUNTING THE HARE -- JIG", "H[|]|]"),
        ("ryansMammoth", "ESSENCE OF OLD KENTUCKY.", "[d3-d'3-]"),  # ties on chords
        ("ryansMammoth", "Mardi Gras -- Reel", "[D2F2]-"),
        ("ryansMammoth", 'WALK AROUND. -- "HEY, DADDY."', "[b4-B4-]"),
    ],
)
def test_corpus_tunes_of_each_class_agree(collection, title, written):
    tune = next(t for t in _tunes(collection) if t.title == title and written in t.text)
    app = abc_to_midi_bytes(tune.text)
    comparison = compare(app, abc2midi_bytes(tune.text))
    assert comparison.agree, f"{comparison.kinds}: {comparison.first_difference}"
    assert pairing_faults(app).ok
