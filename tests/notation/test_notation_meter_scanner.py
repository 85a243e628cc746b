"""The bar scanner's smaller promises, with values worked out by hand from the ABC standard:
meter and length fields (odd spellings, zeros), key tonics, bar-line kinds, broken-rhythm
factors, and the state the meter-aware decoder reads while a tune is fed one character at a
time (pitch of the note being written, ties, decorations, grace notes, repeats, pickups).
Found by mutation testing (benchmarks/mutation.py)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from workbench.notation.meter import (
    ACCIDENTAL,
    CHORD,
    CHORD_ELEM,
    DECO,
    ELEM,
    GRACE,
    HEADER,
    NORMAL,
    QUOTE,
    REST,
    TOKEN,
    TUPLET,
    BarScanner,
    at_home,
    bar_lengths,
    broken_factors,
    is_boundary,
    key_tonic,
    meter_is_compound,
    parse_meter,
    parse_unit_length,
)

HEAD = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"


def scan(text: str, finish: bool = False) -> BarScanner:
    s = BarScanner(record=True)
    s.feed_text(text)
    if finish:
        s.finish()
    return s


# -- fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("m:6/8", F(3, 4)),  # the field name in either case
        ("c", F(1)),
        ("NONE", None),
        ("0/8", None),
        ("3/0", None),
        ("2+", None),  # a numerator with no denominator after it
        ("3/4+2", None),
        ("3/4 % waltz", F(3, 4)),
        ("3/x", None),
        ("2+2/8+3/8", F(7, 8)),
    ],
)
def test_meter_spellings(value: str, expected) -> None:
    assert parse_meter(value) == expected


@pytest.mark.parametrize(
    ("value", "compound"),
    [
        ("6/8", True),
        ("9/8", True),
        ("12/8", True),
        ("3/8", False),  # 3 is simple triple
        ("3/4", False),
        ("4/4", False),
        ("2+4/8", True),  # 6 eighths
        ("M:6/8", True),
        ("C", False),
        ("none", False),
    ],
)
def test_compound_meters(value: str, compound: bool) -> None:
    assert meter_is_compound(value) is compound


def test_unit_length_spellings() -> None:
    assert parse_unit_length("l:1/4") == F(1, 4)
    assert parse_unit_length("1/16 % fast") == F(1, 16)
    assert parse_unit_length("0/8") is None
    assert parse_unit_length("1/0") is None
    assert parse_unit_length("3") == F(3)
    assert parse_unit_length("") is None


@pytest.mark.parametrize(
    ("value", "tonic"),
    [
        ("G", ("G", "")),
        ("F#m", ("F", "^")),
        ("Bb", ("B", "_")),
        ("ebmin", ("E", "_")),
        ("  D mix", ("D", "")),
        ("none", None),
        ("HP", None),
        ("Hp", None),
        ("clef=bass", None),
        ("", None),
    ],
)
def test_key_tonics(value: str, tonic) -> None:
    assert key_tonic(value) == tonic


def test_notes_at_home() -> None:
    assert at_home(None, None) and at_home(None, ("^", "c"))
    assert not at_home(("G", ""), None)
    assert at_home(("G", ""), ("", "g")) and at_home(("G", ""), ("", "G"))
    assert at_home(("G", ""), ("=", "G"))  # a natural G is G's tonic
    assert not at_home(("G", ""), ("^", "G"))
    assert not at_home(("G", ""), ("", "A"))
    # In F# minor an unmarked F is F#, a sharp too; a natural is not.
    assert at_home(("F", "^"), ("", "F")) and at_home(("F", "^"), ("^", "f"))
    assert not at_home(("F", "^"), ("=", "F"))
    assert not at_home(("F", "^"), ("_", "F"))


@pytest.mark.parametrize(
    ("token", "boundary"),
    [
        ("|", False),
        ("|1", False),
        ("||", True),
        ("|]", True),
        ("[|", True),
        (":|", True),
        ("|:", True),
        ("::", True),
        (":|2", True),
    ],
)
def test_bar_line_kinds(token: str, boundary: bool) -> None:
    assert is_boundary(token) is boundary


def test_broken_rhythm_factors() -> None:
    assert broken_factors(">", 0) == (1, 1)
    assert broken_factors(">", 1) == (F(3, 2), F(1, 2))
    assert broken_factors("<", 1) == (F(1, 2), F(3, 2))
    assert broken_factors(">", 2) == (F(7, 4), F(1, 4))
    assert broken_factors("<", 3) == (F(1, 8), F(15, 8))


# -- durations ------------------------------------------------------------------------------


def durations(body: str, head: str = HEAD) -> list[F]:
    return [b.duration for b in bar_lengths(head + body)]


def test_broken_rhythm_both_ways_and_its_limits() -> None:
    # A<B: 1/16 + 3/16; A>>>B: 15/64 + 1/64 (capped at three signs).
    assert durations("A<B|A>>>B|A>>>>B|") == [F(1, 4), F(1, 4), F(1, 4)]
    assert durations("A>>B c|") == [F(7, 32) + F(1, 32) + F(1, 8)]
    # Mixed signs after the first are ignored: A>B then the < changes nothing.
    assert durations("A><B|") == [F(1, 4)]
    # Nothing before it in the bar: no effect; after a rest it applies.
    assert durations("|>AB|z>A|") == [F(1, 4), F(1, 4)]
    # The next note after a bar line is not shortened by a > before it.
    assert durations("A>|B|") == [F(3, 16), F(1, 8)]


def test_tuplet_forms() -> None:
    # (3:2:2 then one more note: only two notes are in the tuplet.
    assert durations("(3:2:2abc|") == [F(2, 8) * F(2, 3) + F(1, 8)]
    # (2 is 2 in the time of 3; (4 is 4 in the time of 3.
    assert durations("(2ab|(4abcd|") == [F(3, 8), F(3, 8)]
    # (6, (8 and (9 (n in compound meters: 3).
    assert durations("(6abcdef|(8abcdefga|") == [F(2, 8), F(3, 8)]
    assert durations("(9abcdefgab|", "X:1\nM:9/8\nL:1/8\nK:G\n") == [F(3, 8)]
    assert durations("(9abcdefgab|", "X:1\nM:4/4\nL:1/8\nK:G\n") == [F(2, 8)]
    assert durations("(7abcdefg|", "X:1\nM:6/8\nL:1/8\nK:G\n") == [F(3, 8)]
    # (1 and ( with no digit are no tuplets; (3: with an empty q takes the default.
    assert durations("(1ab|(ab)|(3::abc|") == [F(2, 8), F(2, 8), F(2, 8)]
    # A tuplet closing the text.
    assert durations("ab(3", HEAD) == [F(2, 8)]


def test_chord_lengths() -> None:
    # The first note's length inside, times the length after.
    assert durations("[C/E]2 [CE]/ [C3/2E]|") == [F(1, 8) + F(1, 16) + F(3, 16)]
    # An unclosed chord at the end of a line ends there.
    assert durations("[CEG\nA|") == [F(1, 4)]
    assert durations("[CEG") == [F(1, 8)]


def test_multi_bar_rests() -> None:
    bars = bar_lengths(HEAD + "Z|X2|Z0|abcd efga|")
    assert [(b.duration, b.expected) for b in bars] == [
        (F(1), F(1)),
        (F(2), F(2)),
        (F(0), F(1)),
        (F(1), F(1)),
    ]
    # In free meter a multi-bar rest has no length to take.
    free = bar_lengths("X:1\nM:none\nL:1/8\nK:G\nZ2|ab|")
    assert [(b.duration, b.expected) for b in free] == [(F(0), None), (F(1, 4), None)]


def test_voice_overlay_counts_the_longest_voice() -> None:
    assert durations("abcd efga & A8|") == [F(1)]
    assert durations("ab & abcdef|cdef|") == [F(3, 4), F(1, 2)]


def test_length_spellings() -> None:
    # A/4 = 1/32, A3/4 = 3/32, A/// = 1/64, A12 = 12/8.
    assert durations("A/4 A3/4 A///|A12|") == [F(1, 32) + F(3, 32) + F(1, 64), F(3, 2)]
    # Octave marks take no time, also on rests written after the letter.
    assert durations("a'b,, C,2|") == [F(1, 2)]


def test_inline_fields_that_are_not_lengths_and_broken_fields() -> None:
    # [K:D] and [P:A] change no length; an unreadable [L:x] keeps the unit.
    assert durations("[K:D]ab [P:A]cd [L:x]ef|") == [F(3, 4)]
    # An inline field cut by the end of its line is dropped: the bar stays in 4/4.
    [bar] = bar_lengths(HEAD + "ab [M:3/4\ncd|")
    assert (bar.duration, bar.expected) == (F(1, 2), F(1))
    # [Q... is no chord: `Q` is no note letter.
    assert durations("[Q:1/4=90]abcd|") == [F(1, 2)]
    # A body field line with an unreadable L: keeps the unit.
    assert durations("ab|\nL:bad\ncd|") == [F(1, 4), F(1, 4)]


def test_quotes_and_decorations_cut_by_a_line_end() -> None:
    assert durations('"Am ab|\ncd|') == [F(1, 4)]
    assert durations("!trill ab|\ncd|") == [F(1, 4)]


def test_comments_and_line_starts() -> None:
    assert durations("%abcdefgh|\nab|\n\n\ncd|") == [F(1, 4), F(1, 4)]
    # `A2` at the start of a line is music, not a field; so is a lone letter at the end.
    assert durations("A2B2|\nA") == [F(1, 2), F(1, 8)]
    assert durations("ab|\nw:lyrics|here\ncd|") == [F(1, 4), F(1, 4)]


def test_positions_of_bars_across_lines_and_at_the_end() -> None:
    text = HEAD + "  ab cd |]\n[CE]2 z2 ||\nef"
    bars = bar_lengths(text)
    assert [(b.index, b.line, b.column, b.end_column) for b in bars] == [
        (0, 6, 2, 10),
        (1, 7, 0, 11),
        (2, 8, 0, 2),
    ]
    # A bar that spans two lines is underlined to the end of its first line.
    bars = bar_lengths(HEAD + "ab\ncd|")
    assert [(b.line, b.column, b.end_column) for b in bars] == [(6, 0, 2)]
    # Bars without notes are not counted.
    bars = bar_lengths(HEAD + "|ab||:cd:|")
    assert [(b.index, b.column, b.end_column) for b in bars] == [(0, 1, 6), (1, 6, 10)]


# -- the state the decoder reads -------------------------------------------------------------


def test_header_state() -> None:
    s = scan("X:1\nT:Title\nM:6/8\nK:Dm\n")
    assert s.header_fields == [("X", "1"), ("T", "Title"), ("M", "6/8"), ("K", "Dm")]
    assert s.header_has_length and s.compound
    assert s.meter == F(3, 4) and s.unit == F(1, 8)  # 6/8 is not below 3/4
    assert s.tonic == ("D", "") and s.mode == NORMAL and s.in_body
    s = scan("X:1\nT:t\nK:G\n")
    assert not s.header_has_length and s.meter == 1 and s.unit == F(1, 8)
    s = scan("X:1\nL:1/4\n")
    assert s.header_has_length and s.mode == HEADER and not s.in_body
    s = scan("X:1\nM:2/4\nnot a field\nK:A\n")
    assert s.unit == F(1, 16) and len(s.header_fields) == 3
    # A header with no K: has no body: finishing it closes nothing.
    s = scan("X:1\nM:3/4\n", finish=True)
    assert s.bars == [] and s.closed is None


def test_body_fields_change_key_meter_and_compound() -> None:
    s = scan(HEAD + "ab|\nK:F#\nM:9/8\n")
    assert s.tonic == ("F", "^") and s.meter == F(9, 8) and s.compound
    s = scan(HEAD + "[K:Bb][M:3/4]")
    assert s.tonic == ("B", "_") and s.meter == F(3, 4) and not s.compound


def test_pitch_of_the_note_being_written() -> None:
    s = scan(HEAD + "^^f'")
    assert s.mode == ELEM and s.note_letter == "f" and s.note_acc == "^^"
    assert s.octave_text == "'" and s.last_sound == ("^^", "f")
    s = scan(HEAD + "=B,,2 c")
    assert s.note_acc == "" and s.last_sound == ("", "c")
    s = scan(HEAD + "[_EGc]")
    assert s.last_sound == ("_", "E")
    s = scan(HEAD + "^")
    assert s.mode == ACCIDENTAL and s.acc_text == "^" and s.accidentals == 1


def test_a_tie_names_the_note_that_must_follow() -> None:
    s = scan(HEAD + "^F,2-")
    assert s.tie_pitch == ("^", "F", ",")
    s.feed("^")
    s.feed("F")
    assert s.tie_target == ("^", "F", ",") and s.tie_pitch is None
    s.feed(" ")
    assert s.tie_target is None
    # A rest after a tie clears it.
    s = scan(HEAD + "A-z")
    assert s.tie_target is None and s.tie_pitch is None


def test_broken_rhythm_names_the_length_the_next_note_repeats() -> None:
    s = scan(HEAD + "A3/2>")
    assert s.broken_spec == "3/2" and s.spec_target is None
    s.feed("B")
    assert s.spec_target == "3/2" and s.broken_spec is None
    s.feed("3")
    assert s.spec == "3" and s.pending_length() == F(3, 8) * F(1, 2)


def test_lengths_being_written() -> None:
    s = scan(HEAD + "A3/")
    assert s.mode == ELEM and s.spec == "3/" and s.multiplier() == F(3, 2)
    assert s.pending_length() == F(3, 16) and s.bar_duration() == F(3, 16)
    s = scan(HEAD + "ab Z3")
    assert s.pending_length() == 3 and s.bar_duration() == F(1, 4) + 3
    s = scan(HEAD + "A//")
    assert s.multiplier() == F(1, 4) and s.slashes == 2
    s = scan(HEAD + "cA")
    assert s.multiplier() == 1 and s.pending_length() == F(1, 8)


def test_quotes_decorations_and_grace_notes() -> None:
    s = scan(HEAD + '"Am7')
    assert s.mode == QUOTE and s.quote_text == "Am7"
    s = scan(HEAD + "!trill")
    assert s.mode == DECO and s.deco_text == "trill" and s.deco_len == 5 and s.deco_end == "!"
    s = scan(HEAD + "+fermata+")
    assert s.mode == NORMAL and s.deco_text == "fermata"
    s = scan(HEAD + "{ga'")
    assert s.mode == GRACE and s.grace_notes == 2 and s.marks == 1
    s.feed("}")
    assert s.grace_waiting and s.mode == NORMAL
    s.feed("A")
    assert not s.grace_waiting
    s = scan(HEAD + "{g}[")
    s.feed("C")
    assert s.mode == CHORD and not s.grace_waiting


def test_marks_inside_chords() -> None:
    s = scan(HEAD + "[C,,E")
    assert s.chord_notes == 2 and s.marks == 0
    s.feed("'")
    assert s.marks == 1


def test_slurs_staccato_and_fermata() -> None:
    s = scan(HEAD + "((ab)")
    assert s.slurs == 1
    s = scan(HEAD + "))")
    assert s.slurs == 0
    s = scan(HEAD + ".H")
    assert s.staccato and s.fermata
    s.feed("c")
    assert s.note_staccato and s.note_fermata and not s.staccato and not s.fermata
    s.feed(" ")
    s.feed("d")
    assert not s.note_staccato and not s.note_fermata


def test_tuplet_being_read() -> None:
    s = scan(HEAD + "(3:2")
    assert s.mode == TUPLET and s.tup_parts == ["3", "2"]
    s.feed(":")
    s.feed("4")
    s.feed(":")  # a fourth part is not read: the tuplet ends
    assert s.tup_parts == ["3", "2", "4"] and s.tup_factor == F(2, 3) and s.tup_left == 4


def test_repeats_and_variant_endings() -> None:
    s = scan(HEAD + "|:ab")
    assert s.repeat_open and s.variant == 0
    s = scan(HEAD + "|:ab:|2 c")
    assert not s.repeat_open and s.variant == 2
    s = scan(HEAD + "ab|1 c")
    assert s.variant == 1
    s = scan(HEAD + "ab|1 c||d")
    assert s.variant == 0
    s = scan(HEAD + "ab[2 c")
    assert s.variant == 2
    s = scan(HEAD + "ab::cd")
    assert s.repeat_open
    s = scan(HEAD + "ab|1,3 c")
    assert s.variant == 1
    s = scan(HEAD + "ab|]")
    assert s.mode == TOKEN and s.token == "|]"


def test_bar_line_at_the_start_of_a_line() -> None:
    s = scan(HEAD + "abcd efga\n|")
    assert s.token_at_line_start
    s = scan(HEAD + "abcd efga|")
    assert not s.token_at_line_start


def test_closed_bars_pickups_and_bars_played() -> None:
    s = scan(HEAD + "d|abcd efga|ab")
    assert s.pickup == F(1, 8)
    assert s.bars_played == F(1, 8) + 1
    assert s.n_bars == 2 and s.closed is s.bars[-1] and not s.closed_empty
    assert [(b.pickup_eligible, b.end_boundary) for b in s.bars] == [(True, False), (False, False)]
    assert (
        s.used == F(1, 8)
        and s.bar_duration() == F(1, 4)
        and s.has_notes
        and s.bar_line == 6
        and s.bar_col == 12
    )
    s.feed_text("||")
    assert not s.closed_empty and s.bars[-1].end_boundary
    s.feed_text(" |")  # a bar line after an empty bar
    assert s.closed_empty
    s.finish()
    assert len(s.bars) == 3
    # The B part's pickup after a section bar line.
    s = scan(HEAD + "abcd efga|]g|")
    assert s.pickup == F(1, 8) and s.bars[1].pickup_eligible
    # A bar ended by the end of the tune.
    s = scan(HEAD + "abcd efga|ab", finish=True)
    assert s.bars[-1].end_boundary and s.bars[-1].duration == F(1, 4)
    assert (s.bars[-1].end_line, s.bars[-1].end_column) == (6, 12)


def test_a_bar_line_grows_its_bar_to_the_end() -> None:
    s = scan(HEAD + "abcd efga:|")
    assert s.closed.end_column == 11 and s.closed.end_boundary
    s = scan(HEAD + "abcd efga|1")
    assert s.closed.end_column == 11 and not s.closed.end_boundary


def test_finish_ends_what_is_being_read() -> None:
    assert scan(HEAD + "ab [CE", finish=True).bars[-1].duration == F(3, 8)
    assert scan(HEAD + "ab (3", finish=True).bars[-1].duration == F(1, 4)
    assert scan(HEAD + "ab\nA", finish=True).bars[-1].duration == F(3, 8)
    assert scan(HEAD + "ab\nP", finish=True).bars[-1].duration == F(1, 4)
    assert scan(HEAD + "ab|", finish=True).bars[-1].duration == F(1, 4)
    assert len(scan(HEAD + "ab|", finish=True).bars) == 1


def test_broken_rhythm_shares_of_the_first_note() -> None:
    # With nothing after the signs the bar holds the first note's share alone.
    assert durations("A>|") == [F(3, 16)]
    assert durations("A>>|") == [F(7, 32)]
    assert durations("A>>>>|") == [F(15, 64)]  # at most three signs count
    assert durations("A><|") == [F(3, 16)]  # a sign the other way is ignored


def test_more_tuplet_defaults() -> None:
    # (2:1: two notes in the time of one; (10 in simple time: ten in the time of two.
    assert durations("(2:1ab c|") == [F(1, 8) + F(1, 8)]
    assert durations("(10abcdefgabc d|") == [F(2, 8) + F(1, 8)]
    assert durations("(5abcde|") == [F(2, 8)]


def test_rests_x_and_the_unit_length_of_five_eight() -> None:
    assert durations("x2 ab|") == [F(1, 2)]
    # 5/8 is below 3/4: sixteenths.
    assert durations("abcde fgabc|", "X:1\nM:5/8\nK:G\n") == [F(10, 16)]


def test_a_chord_with_no_note_takes_one_unit_whatever_came_before() -> None:
    assert durations("A3[^]|") == [F(3, 8) + F(1, 8)]


def test_a_multi_bar_rest_in_free_meter_has_no_pending_length() -> None:
    s = scan("X:1\nM:none\nL:1/8\nK:G\nab Z2")
    assert s.pending_length() == 0 and s.bar_duration() == F(1, 4)


def test_a_chord_ends_a_tie_and_takes_over_a_broken_rhythm_length() -> None:
    s = scan(HEAD + "A-[CE]")
    assert s.mode == ELEM and s.tie_pitch is None and s.tie_target is None
    s = scan(HEAD + "A2>[CE]")
    assert s.spec_target == "2" and s.broken_spec is None


def test_more_of_the_state_being_read() -> None:
    assert key_tonic("X") is None  # no key letter
    s = scan(HEAD + "[EG")
    assert s.last_sound == ("", "E")
    s = scan(HEAD + "[C,,")
    assert s.marks == 2
    s = scan(HEAD + "[CE]")
    assert s.elem_kind == CHORD_ELEM
    s = scan(HEAD + "cz")
    assert s.elem_kind == REST
    s = scan(HEAD + "ab Z")
    assert s.pending_length() == 1  # one whole 4/4 bar


# -- found by the second mutation run (the functions the first run left out) -----------------


def test_finish_ends_a_bar_line_and_a_tuplet_and_leaves_the_body_mode() -> None:
    # The closing `:|` is only followed once the text ends: the repeat is closed.
    s = scan(HEAD + "|:ab:|", finish=True)
    assert not s.repeat_open and s.mode == NORMAL
    s = scan(HEAD + "|:ab|1", finish=True)
    assert s.repeat_open and s.variant == 1
    # A tuplet sign at the end is read (3 notes in the time of 2 would follow).
    s = scan(HEAD + "ab(3", finish=True)
    assert (s.tup_factor, s.tup_left, s.mode) == (F(2, 3), 3, NORMAL)
    assert scan(HEAD + "ab", finish=True).mode == NORMAL


def test_pickup_and_bars_played_in_a_three_four_tune() -> None:
    head = "X:1\nT:t\nM:3/4\nL:1/8\nK:D\n"
    # Two full 3/4 bars and a 1/8 pickup: 1/6 + 2 bars of music.
    s = scan(head + "A|B6|c6|")
    assert s.pickup == F(1, 8) and s.bars_played == F(1, 6) + 2
    # A full first bar is no pickup, and a short middle bar does not become one.
    s = scan(head + "B6|c4|d6|")
    assert s.pickup == 0 and s.bars_played == F(2, 3) + 2


def test_section_bar_lines_end_a_variant_ending() -> None:
    assert scan(HEAD + "|:ab|1 cd|] ef").variant == 0
    assert scan(HEAD + "|:ab|1 cd [| ef").variant == 0
    assert scan(HEAD + "|:ab|1 cd | ef").variant == 1


def test_the_last_bar_may_be_short_only_when_it_is_last() -> None:
    bars = bar_lengths(HEAD + "A8|B8|c4|")
    assert [b.fits for b in bars] == [True, True, True]
    bars = bar_lengths(HEAD + "A8|c4|B8|")
    assert [b.fits for b in bars] == [True, False, True]


def test_a_bar_line_after_an_empty_bar_leaves_the_bar_before_alone() -> None:
    # `c4|` is a short middle bar; the `||` after the empty bar that follows it is no section
    # end of that bar.
    bars = bar_lengths(HEAD + "A8|c4| ||A8|")
    assert [b.fits for b in bars] == [True, False, True]
    s = scan(HEAD + "A8|c4| ||")
    assert not s.bars[1].end_boundary and s.bars[1].end_column == 6


def test_a_bar_line_drops_the_broken_rhythm_length_due() -> None:
    s = scan(HEAD + "A2>|B")
    assert s.spec_target is None and s.broken_spec is None


def test_octave_marks_count_only_before_the_length() -> None:
    assert scan(HEAD + "A,,,").octaves == 3
    assert scan(HEAD + "a''").octave_text == "''"
    s = scan(HEAD + "A2,")  # a mark after the length is no octave mark of this note
    assert s.mode == NORMAL and s.octaves == 0


def test_multi_bar_rests_after_notes_and_after_each_other() -> None:
    # `ab Z|`: a quarter and a whole bar, in a bar expected to last one bar (it is too long).
    [bar] = bar_lengths(HEAD + "ab Z|")
    assert (bar.duration, bar.expected, bar.fits) == (F(5, 4), F(1), False)
    # Z2 Z3 in one bar: five bars, expected to last five.
    [bar] = bar_lengths(HEAD + "Z2 Z3|")
    assert (bar.duration, bar.expected, bar.fits) == (F(5), F(5), True)
    # Broken rhythm has no note before it after a multi-bar rest: A keeps its length.
    assert durations("Z>A|") == [F(1) + F(1, 8)]


def test_only_a_hyphen_ties_a_note() -> None:
    s = scan(HEAD + "A B")
    assert s.tie_pitch is None and s.tie_target is None
    s = scan(HEAD + "A-B")
    assert s.tie_target == ("", "A", "")


def test_length_digits_as_written() -> None:
    assert scan(HEAD + "A10").spec == "10" and scan(HEAD + "A9").spec == "9"
    assert scan(HEAD + "A9").pending_length() == F(9, 8)
    assert scan(HEAD + "A/16").pending_length() == F(1, 128)


def test_a_multi_bar_rest_is_no_tuplet_note() -> None:
    # (3 a b c are the tuplet's three notes; the Z between them takes its whole bar.
    assert durations("(3abZc|") == [F(1, 4) + 1]


def test_the_flags_a_note_clears_are_false() -> None:
    # The decoder does arithmetic with them (`bit * grace_waiting`), so they stay bools.
    s = scan(HEAD + "{g}.HA")
    assert (s.grace_waiting, s.staccato, s.fermata) == (False, False, False)
    assert scan(HEAD + "{g}[CE]").grace_waiting is False
    assert s.note_staccato is True and s.note_fermata is True
    assert all(type(f) is bool for f in (s.grace_waiting, s.staccato, s.fermata))


def test_broken_rhythm_backwards_across_a_bar_line_and_on_unequal_notes() -> None:
    # A pair's total hides which way it goes; a bar line between the two halves does not.
    assert durations("A<|B|") == [F(1, 16), F(1, 8)]
    assert durations("A>|B|") == [F(3, 16), F(1, 8)]
    # A2<B: 2/8 * 1/2 + 1/8 * 3/2 (the standard's reading; abc2midi refuses unequal pairs).
    assert durations("A2<B c|") == [F(1, 8) + F(3, 16) + F(1, 8)]
    assert durations("A2>B c|") == [F(3, 8) + F(1, 16) + F(1, 8)]


@pytest.mark.parametrize(
    ("body", "token"),
    [
        ("ab|12", "|12"),  # a variant number of two digits
        ("ab|1,3", "|1,3"),  # a list of endings
        ("ab|1-", "|1"),  # a range is read by the variant, not the bar line
        ("ab|]|", "|"),  # nothing grows after `]`: a new bar line
        ("ab||||", "||||"),
        ("ab|||||", "|"),  # at most four characters of `|` and `:`
        ("ab::1", "::"),  # a digit grows only `|`, a digit or a `,`
        ("ab|1|", "|"),  # nothing but digits and commas after a digit
        ("ab:|2", ":|2"),
        ("ab[|", "[|"),
    ],
)
def test_how_far_a_bar_line_grows(body: str, token: str) -> None:
    assert scan(HEAD + body).token == token


def test_a_broken_rhythm_sign_after_a_voice_overlay_has_no_note_before_it() -> None:
    # `&` starts the bar's second voice: `>` has nothing before it there, so b8 stays whole.
    assert durations("a & >b8|") == [F(1)]


def test_marks_in_grace_groups_and_accidentals_counted() -> None:
    assert scan(HEAD + "{g,,").marks == 2
    assert scan(HEAD + "{g'/").marks == 1  # `/` (an acciaccatura's slash) is no mark
    assert scan(HEAD + "^^").accidentals == 2
    assert scan(HEAD + "__").acc_text == "__"


def test_a_field_line_after_a_comment_line() -> None:
    bars = bar_lengths(HEAD + "abcd efga|\n% the B part\nM:3/4\nabc def|")
    assert [(b.duration, b.expected) for b in bars] == [(F(1), F(1)), (F(3, 4), F(3, 4))]


def test_a_space_after_an_accidental_a_slur_or_a_tuplet_sign() -> None:
    # Each ends what it began and the bar reads on.
    assert durations("^ ab|( ab)|(3 abc|") == [F(1, 4), F(1, 4), F(1, 4)]


def test_a_chord_after_a_note_leaves_the_bars_start() -> None:
    [bar] = bar_lengths(HEAD + "A[CE] B|")
    assert (bar.column, bar.duration) == (0, F(3, 8))


def test_a_bracket_that_opens_nothing() -> None:
    # `[` then a space, or a letter with no `:`, is no chord or inline field: the bar reads on.
    assert durations("[ ab|[K ab|") == [F(1, 4), F(1, 4)]
    # A `[` at the end of a line leaves the next line's start as a line start (a field line).
    bars = bar_lengths(HEAD + "abcd efga| [\nM:3/4\nabc def|")
    assert [b.expected for b in bars] == [F(1), F(3, 4)]
    # `[|` is a section bar line: the bar after it may be short (the next part's pickup).
    assert [b.fits for b in bar_lengths(HEAD + "A8[|c4|A8|")] == [True, True, True]


def test_a_tune_with_no_meter_is_in_simple_time() -> None:
    # No M: line: 4/4, so (5 is five notes in the time of two.
    assert durations("(5abcde|", "X:1\nL:1/8\nK:G\n") == [F(2, 8)]


def test_a_decoders_scanner_keeps_no_list_of_bars() -> None:
    s = BarScanner()  # record=False, as the meter-aware decoder makes one per row
    s.feed_text(HEAD + "abcd efga|" * 3)
    assert s.bars == [] and s.n_bars == 3


def test_a_variant_bracket_reads_its_numbers() -> None:
    bars = bar_lengths(HEAD + "ab|[1,2 cd|[3-4 ef|")
    assert [(b.column, b.duration) for b in bars] == [(0, F(1, 4)), (8, F(1, 4)), (16, F(1, 4))]
    assert scan(HEAD + "ab|[1,2 cd").variant == 1


def test_before_the_first_bar_line_the_token_is_empty() -> None:
    # The decoder asks `token.startswith(":")` at a `[` that opens the body.
    s = scan(HEAD + "[")
    assert s.token == "" and not s.token.startswith(":")


def test_a_fresh_scanner_reads_a_length_from_nothing() -> None:
    # The decoder reads a prompt's odd lengths (`A5/3`) with a fresh scanner's length reader.
    for spec, mult in [("3/2", F(3, 2)), ("//", F(1, 4)), ("/3", F(1, 3)), ("", 1), ("12", 12)]:
        s = BarScanner()
        for ch in spec:
            s._spec_char(ch)
        assert s.multiplier() == mult, spec


def test_a_bar_line_that_opens_the_body_is_at_its_line_start() -> None:
    assert scan("K:G\n|").token_at_line_start


def test_a_stray_colon_and_a_multi_bar_rest_after_a_variant_number() -> None:
    # A `:` that starts neither `:|` nor `::` is read past: the bar goes on.
    assert durations("ab:cd|ab: cd|") == [F(1, 2), F(1, 2)]
    assert [b.duration for b in bar_lengths(HEAD + "ab::cd|")] == [F(1, 4), F(1, 4)]
    # `[1` reads digits, commas and hyphens only: the X after it is a whole-bar rest.
    assert durations("ab|[1X|") == [F(1, 4), F(1)]


def test_a_field_line_may_open_the_body() -> None:
    [bar] = bar_lengths(HEAD + "M:3/4\nabc def|")
    assert (bar.duration, bar.expected) == (F(3, 4), F(3, 4))


def test_the_last_bar_ends_at_its_last_character_not_at_trailing_spaces() -> None:
    [bar] = bar_lengths(HEAD + "abcd efga  ")
    assert (bar.column, bar.end_column) == (0, 9)
    [bar] = bar_lengths(HEAD + "ab X")  # a multi-bar rest X is the bar's last character
    assert bar.end_column == 4


def test_a_broken_rhythm_sign_before_the_first_note_and_no_tuplet_due() -> None:
    assert durations(">ab|") == [F(1, 4)]
    # The decoder compares tup_left with 0 (a tuplet may open only when none is due).
    assert scan(HEAD + "(").tup_left == 0


def test_at_the_bodys_start_nothing_is_pending() -> None:
    # What the decoder asks before the first note: no tie or broken-rhythm length to repeat,
    # no grace group waiting for its note, no last note, no octave marks.
    s = scan(HEAD)
    assert (s.tie_pitch, s.broken_spec, s.last_sound) == (None, None, None)
    assert s.grace_waiting is False and s.marks == 0
    assert s.repeat_open is False and s.variant == 0  # no repeat open, no ending
    s = scan(HEAD + "A2")  # (a lone `A` at a line start could still begin a field)
    assert s.mode == ELEM and s.tie_target is None and s.spec_target is None
    assert not s.note_staccato and not s.note_fermata


def test_what_the_decoder_reads_of_real_collections_notation() -> None:
    # Runs of spaces and back quotes, and the two characters last read.
    assert scan(HEAD + "AB  `").spaces == 3 and scan(HEAD + "AB  `c").spaces == 0
    sc = scan(HEAD + "AB.(")
    assert (sc.prev2, sc.prev) == (".", "(") and scan(HEAD).prev2 == "G"
    # Repeats: none read yet, then read; a repeat opened by `:|:` rather than `|:` or `::`.
    assert not scan(HEAD + "AB|").repeated and scan(HEAD + "AB:|c").repeated
    assert scan(HEAD + "|:AB|c").repeated  # `|:` counts too
    assert scan(HEAD + "AB:|:c").colon_reopened and scan(HEAD + "AB:|:c").repeat_open
    assert not scan(HEAD + "AB::c").colon_reopened and not scan(HEAD + "|:AB|c").colon_reopened
    assert not scan(HEAD + "AB:|:c:|d|:e").colon_reopened  # a later `|:` opens afresh


def test_a_breath_and_a_tuplet_mark_their_note() -> None:
    sc = scan(HEAD + "AB!breath!c")
    assert sc.note_breath and not sc.breath
    assert scan(HEAD + "AB!breath!").breath and not scan(HEAD + "AB!trill!").breath
    assert not scan(HEAD + "AB!breath!cd").note_breath  # the next note has none
    assert scan(HEAD + "(3ABc").elem_in_tuplet and not scan(HEAD + "(3ABcd").elem_in_tuplet
    assert scan(HEAD + "(3AB[ce]").elem_in_tuplet and not scan(HEAD + "(3ABc[ce]").elem_in_tuplet
    assert not scan(HEAD + "G ").note_breath  # the body's first note has none


def test_a_chords_lengths_inside_it() -> None:
    sc = scan(HEAD + "[c2e/")
    assert sc.mode == CHORD and sc.spec == "2" and sc.chord_spec == "/"
    assert scan(HEAD + "[c2e2g").chord_spec == ""  # a new note starts its own
    sc = scan(HEAD + "[c2e2]")
    assert sc.mode == ELEM and sc.elem_kind == CHORD_ELEM and sc.inner_spec == "2"
    assert sc.pending_length() == F(1, 4)
    after = scan(HEAD + "[ce]2")
    assert after.inner_spec == "" and after.pending_length() == F(1, 4)


def test_a_chords_later_lengths_are_read_whole() -> None:
    assert scan(HEAD + "[c9e9").chord_spec == "9" and scan(HEAD + "[c10e10").chord_spec == "10"
    assert scan(HEAD + "[c3/2e3/2").chord_spec == "3/2"
    assert scan(HEAD + "[c2e2=").chord_spec == "2"  # an accidental is the next note's
    # A chord cut off before its first note (by a line end) has no length inside it.
    assert scan(HEAD + "A2[^\n").inner_spec == ""
