"""The meter-aware decoder's smaller rules, each checked on one hand-made scanner state: closing
near the length cap, body field values, and the note lengths it may write (multipliers worked out
by hand from the ABC standard). Found by mutation testing (benchmarks/mutation.py)."""

from __future__ import annotations

from fractions import Fraction as F

from meter_aware_kit import TOKENIZER, scanner

from workbench.notation.meter_aware import (
    BAR_B,
    COLON_B,
    DIGIT_B,
    END,
    END_AT,
    LATE_BONUS,
    PART_CHARS,
    SHAPE_CLOSE,
    SHAPE_END,
    SHORT_SECTION,
    SLASH_B,
    TONIC_PULL,
    MeterAwareConstraint,
    _close_bias,
    _closing,
    _end_bias,
    _field_value_key,
    _good,
    _length_suffixes,
    _octave_marks,
    _parse_suffix,
    _suffix_options,
    _tonic_pull,
)

H = "X:1\nM:4/4\nL:1/8\nK:G\n"


def allowed(text: str) -> set[str]:
    return set(MeterAwareConstraint(TOKENIZER, min_bars=0).allowed(scanner(text)))


# -- closing near the length cap --------------------------------------------------------------


def test_closing_ends_a_free_text_header_line_once_it_has_a_value():
    key = (1, "abc")
    assert _closing(key, scanner("X:1\nT:")) == key  # `T:` alone: the title may still come
    assert _closing(key, scanner("X:1\nT:a")) == (0, "\n")
    assert _closing(key, scanner("X:1\nM:")) == key  # a spelled field follows its grammar
    assert _closing(key, scanner("X:1\n")) == (0, "ML")
    assert _closing(key, scanner("X:1\nM:4/4\n")) == (0, "K")


def test_closing_does_not_end_a_tune_without_two_bars():
    assert _closing((END | BAR_B, "x"), scanner(H + "abcd efga|ab")) == (BAR_B, "x")
    assert _closing((END | BAR_B, "x"), scanner(H + "abcd efga|abcd efga|")) == (END, "")


def test_closing_opens_no_repeat():
    # After a plain `|` outside a repeat the `:` of `|:` goes...
    assert _closing((COLON_B | BAR_B, ""), scanner(H + "abcd efga|")) == (BAR_B, "")
    # ...but not after `||` (whose `:` would make `||:`, read apart), nor in the middle of a bar,
    # where a `:` starts the `:|` that may close a repeat.
    assert _closing((COLON_B, ""), scanner(H + "abcd efga||"))[0] & COLON_B
    assert _closing((COLON_B, ""), scanner(H + "abcd efga|ab"))[0] & COLON_B
    # Inside a repeat the `:` stays (it makes `|:`'s partner) and no other bar line may come.
    assert _closing((COLON_B | BAR_B, ""), scanner(H + "|:abcd efga|")) == (COLON_B | BAR_B, "")
    assert _closing((COLON_B | BAR_B, ""), scanner(H + "|:abcd efga|ab")) == (COLON_B, "")


# -- field values -----------------------------------------------------------------------------


def test_a_body_part_line_names_parts():
    assert _field_value_key("P", "") == (0, PART_CHARS)
    assert _field_value_key("P", "A") == (0, PART_CHARS + "\n")
    assert allowed(H + "abcd efga|\nP:") == set(PART_CHARS)
    assert allowed(H + "abcd efga|\nP:A") == set(PART_CHARS + "\n")


# -- lengths ----------------------------------------------------------------------------------


def test_the_lengths_the_decoder_writes():
    suffixes = _length_suffixes()
    # Numerators 1 (unwritten), 2-9, 12, 16 times denominators 1, /, //, ///, /2, /4, /8, /16.
    assert len(suffixes) == 11 * 8
    assert suffixes[""] == 1 and suffixes["2"] == 2 and suffixes["16"] == 16
    assert suffixes["/"] == F(1, 2) and suffixes["//"] == F(1, 4) and suffixes["///"] == F(1, 8)
    assert suffixes["/2"] == F(1, 2) and suffixes["/16"] == F(1, 16)
    assert suffixes["/4"] == F(1, 4) and suffixes["3/4"] == F(3, 4) and suffixes["/8"] == F(1, 8)
    assert suffixes["3/2"] == F(3, 2) and suffixes["12/8"] == F(3, 2) and suffixes["9//"] == F(9, 4)
    assert "10" not in suffixes and "/3" not in suffixes and "1/2" not in suffixes


def test_a_prompts_own_length_is_read_as_written():
    assert _parse_suffix("3/2") == F(3, 2)
    assert _parse_suffix("/3") == F(1, 3)
    assert _parse_suffix("//") == F(1, 4)
    assert _parse_suffix("5") == 5
    assert _parse_suffix("") == 1


# -- the shape bias, by the bars a section or tune would have ---------------------------------


def test_section_lengths_ranked_as_real_tunes_have_them():
    # 8 and 16 first; 4 and 12; other even lengths from 6; odd lengths and a pickup alone;
    # a section of 1 to 3 bars last (real tunes have them before their last section in 1 of
    # 2,000, music21's reading).
    best, four, even, other = SHAPE_CLOSE
    ranks = {
        best: [8, 16, 24, 32],
        four: [4, 12, 20],
        even: [6, 10, 14, 18, 22],
        other: [0, 5, 7, 9, 11, 13, 15, 17],
        SHORT_SECTION: [1, 2, 3],
    }
    assert best > four > even > other > SHORT_SECTION
    assert {n: _close_bias(n) for r in ranks.values() for n in r} == {
        n: bias for bias, r in ranks.items() for n in r
    }


def test_end_bias_by_the_tunes_bars():
    eight, four, two, odd = SHAPE_END
    assert _end_bias(8) == END_AT[8] and _end_bias(16) == END_AT[16]
    by_bars = {4: four, 12: four, 20: four, 6: two, 10: two, 7: odd, 9: odd, 19: odd}
    assert {n: _end_bias(n) for n in by_bars} == by_bars
    # Past 20 bars every bar adds LATE_BONUS, on top of what the bar's number gives.
    assert _end_bias(21) == odd + LATE_BONUS
    assert _end_bias(22) == two + 2 * LATE_BONUS
    assert _end_bias(24) == eight + 4 * LATE_BONUS
    assert _end_bias(28) == four + 8 * LATE_BONUS


def test_the_pull_to_the_tonic_by_bar():
    # Full in bar 16 and past bar 20 (LATE_FROM), half in bar 8, else none.
    assert _tonic_pull(16) == _tonic_pull(21) == _tonic_pull(24) == _tonic_pull(27) == TONIC_PULL
    assert _tonic_pull(8) == TONIC_PULL / 2
    assert [_tonic_pull(n) for n in (1, 4, 7, 9, 12, 15, 17, 18, 19, 20)] == [0.0] * 10


# -- whether a length leaves a bar that can still be filled exactly ---------------------------


def test_a_length_is_good_when_whole_grains_and_the_tuplet_notes_due_can_fill_the_rest():
    # Without a tuplet: the rest must be whole grains (unit/16), and not negative.
    assert _good(F(2), F(5), F(1), F(1), 0)  # 5 - 2 = 3 grains
    assert not _good(F(1, 2), F(5), F(1), F(1), 0)  # 4.5 grains
    assert not _good(F(6), F(5), F(1), F(1), 0)  # overfills
    # Two tuplet notes of 4/3 grains are still due: 1 grain left cannot hold them.
    assert not _good(F(1), F(2), F(1), F(4, 3), 2)
    # 2 grains left and one 4/3-grain note due: 1, 2 or 3 such notes leave 2/3, -2/3...: no.
    assert not _good(F(1), F(3), F(1), F(4, 3), 1)
    # 6 grains left, one due: three tuplet notes (4 grains) and 2 whole grains fill it.
    assert _good(F(1), F(7), F(1), F(4, 3), 1)
    # 10.5 grains left: no count of 4/3-grain notes brings it to whole grains.
    assert not _good(F(1, 2), F(11), F(1), F(4, 3), 1)


# -- where a tune may end ---------------------------------------------------------------------


def test_a_tune_does_not_end_inside_a_broken_pair_a_tie_or_a_tuplet():
    con = MeterAwareConstraint(TOKENIZER, min_bars=0)
    # Each text ends on the tonic G; the bar is taken as full.
    assert con._end_ok(scanner(H + "ABcd efgG"), F(1), F(1))
    assert not con._end_ok(scanner(H + "ABcd efgG>"), F(1), F(1))
    assert not con._end_ok(scanner(H + "ABcd efgG-"), F(1), F(1))
    assert not con._end_ok(scanner(H + "ABcd efg(3G"), F(1), F(1))
    # Less than half a bar, even at home: no.
    assert not con._end_ok(scanner(H + "ABG "), F(3, 8), F(1))


def test_without_the_tonic_rule_a_tune_ends_on_a_full_bar_or_the_pickups_complement():
    con = MeterAwareConstraint(TOKENIZER, end_on_tonic=False)
    assert con._end_ok(scanner(H + "ABcd efga"), F(1), F(1))
    assert not con._end_ok(scanner(H + "ABcd efga"), F(7, 8), F(1))
    # After a 1/4 pickup the last bar may be 3/4 long, and only that.
    picked = scanner(H + "GA|ABcd efga|ABcd ef")
    assert picked.pickup == F(1, 4)
    assert con._end_ok(picked, F(3, 4), F(1))
    assert not con._end_ok(picked, F(1, 2), F(1))
    assert not con._end_ok(picked, F(5, 4), F(1))


def test_the_shortest_tune_counts_bars_of_its_meter():
    con = MeterAwareConstraint(TOKENIZER, min_bars=3)
    sc = scanner("X:1\nM:3/4\nL:1/8\nK:G\nG6|G6|")
    assert sc.bars_played == 2
    assert con._long_enough(sc, F(3, 4), F(3, 4))  # two bars and a full third
    assert not con._long_enough(sc, F(1, 2), F(3, 4))


def test_octave_marks_as_abc2midi_reads_them():
    assert [_octave_marks(c) for c in "a'B,"] == ["'", "'", ",", ","]
    assert [_octave_marks(c) for c in "X^]z"] == ["", "", "", ""]


def test_the_next_length_characters_by_the_room_left():
    # All in grains (unit/16): a note of one unit (16 grains).
    # One unit left: the note may stay as it is or shrink (`/`); no numerator fits alone.
    assert _suffix_options("", F(16), F(16), F(1), 0) == (SLASH_B, True, True)
    # Two units left: `2` (exactly full) and `/` both lead to good lengths; `3` would overfill.
    bits, good, _ = _suffix_options("", F(32), F(16), F(1), 0)
    assert good and bits == DIGIT_B[2] | SLASH_B
    # `1` is no length by itself (only the start of 12 and 16)...
    assert _suffix_options("1", F(16), F(16), F(1), 0)[1] is False
    # ...and with half a unit left every length through it (12/16 the least) overfills.
    assert _suffix_options("1", F(8), F(16), F(1), 0) == (0, False, False)
    # A prompt's own length the decoder never writes (`5/3`) is judged as it stands.
    assert _suffix_options("5/3", F(80, 3), F(16), F(1), 0) == (0, True, True)
    assert _suffix_options("5/3", F(16), F(16), F(1), 0)[1] is False
