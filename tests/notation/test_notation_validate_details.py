"""Each of the validator's problems with its exact place, words and severity; where it draws tunes.

Written for issue 16 against the mutants of `workbench/notation/validate.py` that survived the
first two test files: the message a musician reads is the validator's output, so each case pins
the whole problem (line, columns, severity, words), worked out by hand from the text. Where
abc2midi (the reference ABC reader, an independent program) has a view, it is asked too: the
music faults reported here as errors are ones abc2midi reports as errors, the words of a K:
value we call "not understood" are the ones abc2midi says it ignores, and text abc2midi reads
cleanly (an empty annotation ``""``, a note before ``:|`` at a line's start, a key setting whose
value holds ``=``) gets no problem. The tune structure cases (comment lines, CRLF, tunes without
a blank line between them, free text after a tune) are hand-worked.
"""

from __future__ import annotations

import re

import pytest
from abc2midi_marks import needs_abc2midi

from workbench.notation import abc2midi
from workbench.notation.validate import validate_abc

HEADER = "X:1\nT:T\nM:3/4\nL:1/4\nK:G\n"  # the music starts on line 6

UNCLOSED_CHORD = "this chord [ is not closed with ] within its bar"
UNCLOSED_GRACE = "these grace notes { are not closed with } in the bar"
UNCLOSED_QUOTE = 'this chord symbol or text has no closing "'
SHARP = "# is not ABC: a sharp is written ^ before the note, as in ^F"
CUT_OFF = (
    "a blank line ends a tune, so this music belongs to no tune (remove the blank line above it)"
)


def found(text: str) -> list[tuple[int, int, int, str, str]]:
    """(line, column, end_column, severity, message) of each problem, in the validator's order."""
    return [(p.line, p.column, p.end_column, p.severity, p.message) for p in validate_abc(text)]


# -- music faults abc2midi rejects too: our errors, at the faulty character ---------------------

MUSIC_ERRORS = [
    # A chord opened inside a chord: the outer one is the one never closed.
    ("[GB [ce]|", [(0, 1, UNCLOSED_CHORD)]),
    # Grace notes opened inside grace notes, and at the end of a line that never closes them.
    ("{ag {f}G|", [(0, 1, UNCLOSED_GRACE)]),
    ("GAB {f", [(4, 5, UNCLOSED_GRACE)]),
    ("GAB}|", [(3, 4, "} closes no grace notes (they are {ga})")]),
    # A lone quote, after a bar line or a space, as the line's last character.
    ('GAB|"', [(4, 5, UNCLOSED_QUOTE)]),
    ('GAB "', [(4, 5, UNCLOSED_QUOTE)]),
    # A bad character in the first column, and a run of them before another fault on the line.
    ("#GAB|", [(0, 1, SHARP)]),
    ('G##AB "C|', [(1, 3, SHARP), (6, 7, UNCLOSED_QUOTE)]),
    ("GA\\B|", [(2, 3, "\\ continues a line only at the end of the line")]),
    ("GA 2B|", [(3, 4, "2 is a note length with no note before it (write A2, not A 2)")]),
    ("GA / B|", [(3, 4, "/ is a note length with no note before it (write A/, not A /)")]),
    ("GA^ B|", [(2, 3, "the accidental ^ must stand right before a note, as in ^f")]),
    ("G!AB|", [(1, 2, "! starts a decoration like !trill! but is never closed")]),
    ("G+AB|", [(1, 2, "+ starts a decoration like +trill+ but is never closed")]),
]


@pytest.mark.parametrize(("music", "expected"), MUSIC_ERRORS)
def test_music_faults_are_errors_at_their_character(music, expected) -> None:
    assert found(HEADER + music + "\n") == [
        (6, start, end, "error", message) for start, end, message in expected
    ]


@needs_abc2midi
@pytest.mark.parametrize(("music", "expected"), MUSIC_ERRORS)
def test_abc2midi_also_rejects_those_music_faults(music, expected) -> None:
    report = abc2midi.check_tune(HEADER + music + "\n")
    assert report.errors, report


def test_an_unclosed_chord_at_the_end_of_a_line_is_an_error() -> None:
    # The line ends without a bar line; its bar is also too long (the chord's notes count).
    assert found(HEADER + "GAB [ce\n") == [
        (6, 0, 7, "warning", "bar 1 has 4/4 but M:3/4 needs 3/4"),
        (6, 4, 5, "error", UNCLOSED_CHORD),
    ]


def test_a_stray_chord_closer_is_an_error() -> None:
    # abc2midi skips a lone "]", but verovio crashes on it (Lillibullero in Ryan's collection).
    assert found(HEADER + "GAB]|\n") == [(6, 3, 4, "error", "] closes no chord (a chord is [CEG])")]


@pytest.mark.parametrize("char", list("*;?@"))
def test_reserved_characters_are_warnings(char) -> None:
    # ABC 2.1 reserves them and asks players to ignore them; the note after one still plays.
    assert found(HEADER + f"G{char}AB|\n") == [
        (6, 1, 2, "warning", f"{char} is reserved in ABC for future use; players ignore it")
    ]


def test_other_characters_are_not_abc_music() -> None:
    assert found(HEADER + "GYAB|\n") == [(6, 1, 2, "error", "Y is not ABC music")]


CLEAN = [
    HEADER + 'G""AB|\n',  # an empty annotation is closed
    HEADER + "GAB|c2\nD:|\n",  # a note D and a repeat, not a D: (discography) field
    HEADER + "GAB|\nK:middle==B\nGAB|\n",  # a clef setting first, its value holding "="
    "X:1\nT:T\nM:3/4\nL:1/4\nK:G middle==B\nGAB|\n",
]


@pytest.mark.parametrize("text", CLEAN)
def test_text_abc2midi_reads_cleanly_gets_no_problem(text) -> None:
    assert found(text) == []


@needs_abc2midi
@pytest.mark.parametrize("text", CLEAN)
def test_abc2midi_reads_that_text_cleanly(text) -> None:
    assert abc2midi.check_tune(text).errors == []


# -- K: words: what abc2midi ignores is what we call "not understood" ----------------------------

_IGNORED = re.compile(r"Ignoring string '(.*)' in K: field")


@pytest.mark.parametrize(
    "key",
    [
        "G foo",
        "G clef=bass foo",  # a setting, then a word that is none
        "G treble+8 stuff",
        "G exp ^f stuff",
        "Am ^f stuff",
        "A m stuff",
        "A Dorian stuff",
        "G middle==B",
        "G middle=B transpose=-2",
    ],
)
def test_key_words_we_do_not_understand_are_the_ones_abc2midi_ignores(key) -> None:
    ours = [
        p.message.split(": ", 1)[1].split(" is not understood", 1)[0]
        for p in validate_abc(f"X:1\nT:T\nM:3/4\nL:1/4\nK:{key}\nGAB|\n")
        if p.severity == "warning" and "is not understood here" in p.message
    ]
    if abc2midi.abc2midi_path() is not None:
        report = abc2midi.check_tune(f"X:1\nT:T\nM:3/4\nL:1/4\nK:{key}\nGAB|\n")
        assert ours == [m for w in report.warnings for m in _IGNORED.findall(w)]
    # Without abc2midi, the same answer worked out by hand: the one word that is not ABC.
    assert ours == (["stuff"] if "stuff" in key else ["foo"] if "foo" in key else [])


def test_a_key_letter_outside_a_to_g_is_not_a_key() -> None:
    # X is no key letter (abc2midi: "First K: field must specify key signature"); only H gets
    # the German-B hint.
    assert found("X:1\nT:T\nK:X\nZ|\n") == [
        (
            3,
            2,
            3,
            "error",
            "K:X: X is not a key; write the keynote A-G, then # or b, then the mode, e.g. "
            "K:G, K:F#m, K:Bb, K:A dorian",
        )
    ]


@pytest.mark.parametrize("letter", ["K", "M", "X", "Q"])
def test_an_empty_field_is_reported_on_its_letter_and_colon(letter) -> None:
    text = f"X:1\nT:T\n{letter}:\n" + ("" if letter == "K" else "K:G\n") + "Z|\n"
    [(line, start, end, severity, _)] = [p for p in found(text) if p[0] == 3]
    assert (line, start, end, severity) == (3, 0, 2, "error")


def test_an_empty_tempo_is_an_error_as_in_abc2midi() -> None:
    text = "X:1\nT:T\nQ:\nM:3/4\nL:1/4\nK:G\nGAB|\n"
    assert found(text) == [
        (3, 0, 2, "error", 'Q: is not a tempo; write it like Q:1/4=120 or Q:"Allegro" 3/8=100')
    ]
    if abc2midi.abc2midi_path() is not None:
        assert any("malformed Q:" in e for e in abc2midi.check_tune(text).errors)


def test_a_tempo_word_next_to_a_quoted_text_is_still_not_a_tempo() -> None:
    assert [p[3:] for p in found('X:1\nT:T\nQ:"Allegro" fast\nK:G\nZ|\n')] == [
        ("error", 'Q:"Allegro" fast is not a tempo; write it like Q:1/4=120 or Q:"Allegro" 3/8=100')
    ]


# -- bar lengths in the meter's beats --------------------------------------------------------------


def test_cut_time_written_with_a_space_is_counted_in_halves() -> None:
    # "C |" is read as C| (2/2) by the bar scanner; the message must say it in halves too.
    assert found("X:1\nT:T\nM:C |\nL:1/4\nK:G\nABcd ef|ABcd|\n") == [
        (6, 0, 8, "warning", "bar 1 has 3/2 but M:C | needs 2/2")
    ]


# -- where the tune's header and body are ----------------------------------------------------------


def test_the_three_missing_key_messages() -> None:
    assert found("X:1\nT:No key\nM:4/4\nL:1/8\nDEFG ABcd|\n") == [
        (
            5,
            0,
            10,
            "error",
            "the tune has no K: field: the music seems to start here, so put its key (e.g. K:G) "
            "on a line just above",
        )
    ]
    assert found("X:1\nT:Only a header\nM:4/4\n") == [
        (3, 0, 5, "error", "the tune has no K: field: its header must end with the key, e.g. K:G")
    ]
    assert found("X:1\nT:Early\nDEFG ABcd|\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n") == [
        (
            3,
            0,
            10,
            "error",
            "music before the K: field: the header must end with K: before the first line of music",
        )
    ]


def test_a_header_field_in_the_body_is_a_warning_and_checking_goes_on() -> None:
    assert found(HEADER + "GAB|\nC:Turlough O'Carolan\ncB#A|\n") == [
        (
            7,
            0,
            2,
            "warning",
            "C: belongs in the header, above the K: line; abc2midi rejects it in the music",
        ),
        (8, 2, 3, "error", SHARP),
    ]


def test_comment_lines_are_neither_header_nor_music() -> None:
    text = "X:1\n% a comment in the header\nT:T\nM:3/4\nL:1/4\nK:G\nGAB|\n% and in the music\n"
    assert found(text) == []
    # A fault after a comment line is still found.
    assert found(text + "G#AB|\n") == [(9, 1, 2, "error", SHARP)]


def test_an_indented_comment_line_in_the_header_is_not_music() -> None:
    # abc2midi reads this tune without a message; the comment is not "music before the K:".
    text = "X:1\nT:T\n  % a note to self\nM:3/4\nL:1/4\nK:G\nGAB|\n"
    assert found(text) == []
    if abc2midi.abc2midi_path() is not None:
        assert abc2midi.check_tune(text).errors == []


def test_a_line_of_only_backquotes_is_nothing() -> None:
    # ABC 2.1 allows ` between notes; a line of them has no tokens and is not a blank line.
    assert found(HEADER + "GAB|\n``\ncBA|\n") == []


def test_a_header_without_x_reads_its_fields_as_fields() -> None:
    # The first line starts in the header: "N:|: ..." is a notes field, not a note and a repeat.
    assert found("T:Repeats\nN:|: and :| mark the repeat\nM:3/4\nL:1/4\nK:G\n|:GAB:|\n") == []


def test_windows_line_ends_give_the_same_problems() -> None:
    for text in (
        "X:1\nT:Only a header\nM:4/4\n",
        HEADER + "GAB|\n\ncBA|\n",
        HEADER + "G#AB|cBA|\n",
    ):
        assert found(text.replace("\n", "\r\n")) == found(text), text
    assert found("X:1\r\nT:Only a header\r\nM:4/4\r\n")[0][:3] == (3, 0, 5)


# -- tunes and the text around them ----------------------------------------------------------------


def test_tunes_without_a_blank_line_between_them_are_checked_apart() -> None:
    # An X: line starts the next tune: a slur does not run from one tune into the next.
    text = "X:1\nT:A\nK:G\n(GAB|\nX:2\nT:B\nK:G\nGA)B|\n"
    assert found(text) == [
        (4, 0, 1, "warning", "this slur ( is never closed with )"),
        (8, 2, 3, "warning", ") ends a slur that was never started"),
    ]


def test_each_tunes_bars_are_checked_once() -> None:
    text = "X:1\nM:3/4\nL:1/4\nK:G\nGAB|c2B|\n\nX:2\nM:3/4\nL:1/4\nK:G\nGABc|\n"
    assert found(text) == [(11, 0, 5, "warning", "bar 1 has 4/4 but M:3/4 needs 3/4")]


def test_an_x_rest_before_a_repeat_stays_in_its_tune() -> None:
    # In the music "X:|" is an invisible rest and a repeat (abc2midi reads it so), not an X: line
    # that starts a tune; nor is it music cut off by a blank line.
    assert found(HEADER + "|:GAB|cBA|\nX:|\n") == []


def test_music_cut_off_by_a_blank_line_is_told_at_its_start() -> None:
    assert found(HEADER + "GAB|\n\ncBA|\n") == [(8, 0, 4, "warning", CUT_OFF)]
    # Also after a tune with its own faults, and before later text that has some.
    assert found(HEADER + "G#AB|\n\ncBA|\n\nNotes # 1\n") == [
        (6, 1, 2, "error", SHARP),
        (8, 0, 4, "warning", CUT_OFF),
    ]


def test_free_text_around_tunes_is_left_alone() -> None:
    # Prose reads as ABC letters but has no bar line; a paragraph with something that is not
    # ABC is text even with a "|" in it; neither belongs to a tune.
    assert found(HEADER + "GAB|\n\nThanks for reading\n\ncBA|\n") == [
        (10, 0, 4, "warning", CUT_OFF)
    ]
    assert found(HEADER + "GAB|\n\nParts: A | B, # 2\n") == []


def test_a_paragraph_of_comments_is_not_a_tune() -> None:
    # No field lines anywhere: the music is a tune without a header, the comments are not.
    assert found("% just a comment\n\nGAB|\n") == [
        (
            3,
            0,
            4,
            "error",
            "the tune has no K: field: the music seems to start here, so put its key (e.g. K:G) "
            "on a line just above",
        )
    ]
