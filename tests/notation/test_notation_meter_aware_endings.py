"""Variant endings in meter-aware decoding's shape bias: a later ending (`:|2`, `:|[2`) replaces
the one before it, as abc2midi plays it and music21 reads it, so its bars go on the section its
first ending was in and do not add to the tune's length.

Real collections write most dance tunes `|: A |1 x :|2 y || |: B |1 x :|2 y |]`. Counted from
the later ending's own bar line, the section it closes would be a bar or two long and the tune
two bars past 16, and the decoder would all but forbid the `||`, `|]` or end that real tunes
have there. Each case is a hand-written tune in 4/4; music21's reading of the finished tune
(`tune_shape`, which shares no code with the decoder's bar scanner) gives the section and
tune lengths the expected biases are computed from.
"""

from __future__ import annotations

import pytest
from meter_aware_kit import BAR, LAST, H, logits_after

from workbench.notation.meter_aware import (
    END_AFTER_REPEAT,
    END_AT,
    HOME_BONUS,
    SECTION_END,
    SHAPE_CLOSE,
    SHAPE_END,
    SHORT_SECTION,
    TONIC_PULL,
)
from workbench.notation.tune_shape import tune_shape

pytestmark = pytest.mark.usefixtures("cold_meter_caches")

BEST = SHAPE_CLOSE[0]


def logits(text: str, chars: str = "|]") -> dict[str, float]:
    """The logits after `text` (from all 0) of `chars` and of <end>."""
    row = logits_after(text)
    return {c: row[c] for c in [*chars, "<end>"]}


def part(first_ending: str, second: str, bars: int = 8) -> str:
    """A repeated part of `bars` bars whose last bar has two endings, as `|1` or `[1`."""
    return "|:" + BAR * (bars - 2) + LAST + f" {first_ending}1 {LAST} :{second}2 {LAST}|"


@pytest.mark.parametrize(("first", "second"), [("|", "|"), ("|", "|["), ("|[", "|[")])
def test_a_second_ending_closes_the_section_its_first_ending_was_in(first, second):
    a_part = H + part(first, second)
    # music21: one 8-bar section so far, the second ending in place of the first.
    shape = tune_shape(a_part + "|\n")
    assert (shape.sections, shape.bars) == ((8,), 8)
    # So `||` or `|]` there closes 8 bars, as good as any 8-bar section (the second ending
    # counted on its own would be one bar: all but forbidden), and the tune may end there.
    after = logits(a_part)
    assert after["|"] == after["]"] == BEST
    assert after["<end>"] == HOME_BONUS + END_AT[8] + SECTION_END[0]


def test_a_dance_tune_with_two_endings_a_part_is_sixteen_bars_long():
    a_part = part("|", "|")
    tune = H + a_part + "|\n" + a_part
    shape = tune_shape(tune + "]\n")
    assert (shape.sections, shape.bars) == ((8, 8), 16)
    # At the end of the B part's second ending: bar 16, an 8-bar last section.
    assert logits(tune)["<end>"] == HOME_BONUS + END_AT[16] + SECTION_END[0]


def test_a_first_endings_repeat_is_followed_by_the_second_ending():
    # `|1 ... :|` just closed: the second ending comes, not the end of the tune (as after the
    # A part's repeat, END_AFTER_REPEAT); once it is played the tune may end.
    b_part = "|:" + BAR * 6 + LAST + " |1 " + LAST + " :|"
    tune = H + part("|", "|") + "|\n" + b_part
    shape = tune_shape(tune + "2 " + LAST + "|]\n")
    assert (shape.sections, shape.bars) == ((8, 8), 16)
    # Just after a bar line only the bonus at home and the section's term apply (the bars'
    # own term comes with the next character); the repeat's term makes it negative.
    assert logits(tune)["<end>"] == HOME_BONUS + SECTION_END[0] + END_AFTER_REPEAT < 0
    done = logits(tune + "2 " + LAST + "|")["<end>"]
    assert done == HOME_BONUS + END_AT[16] + SECTION_END[0]


def test_the_tonic_is_pulled_for_in_the_second_ending_of_bar_sixteen():
    # The second half of bar 16 (the B part's second ending) pulls for the tonic, where the
    # tune may end; counted with both endings it would be bar 18, where nothing pulls.
    tune = H + part("|", "|") + "|\n" + part("|", "|").removesuffix(" dBAG|")
    assert tune.endswith(":|2 GABc")
    assert tune_shape(tune + " dBAG|]\n").bars == 16
    assert logits(tune, "G")["G"] == TONIC_PULL


def test_a_third_ending_replaces_the_second():
    # As the standard has it and abc2midi plays it (music21's ABC reader is no oracle here: it
    # reads a `:|3` ending as one more bar of the tune).
    three = "|:" + BAR * 6 + LAST + f" |1 {LAST} :|2 {LAST} :|3 {LAST}|"
    after = logits(H + three)
    assert after["|"] == after["]"] == BEST
    assert after["<end>"] == HOME_BONUS + END_AT[8] + SECTION_END[0]


def test_a_later_ending_without_a_first_is_counted_as_written():
    # `[2` with no `[1` before it (a model may write that) replaces nothing: its bar is a
    # section of its own after the repeat (one bar: all but ruled out) and the tune's ninth.
    tune = H + "|:" + BAR * 7 + LAST + " :|[2 " + LAST + "|"
    after = logits(tune)
    assert after["|"] == SHORT_SECTION
    assert after["<end>"] == HOME_BONUS + SHAPE_END[3] + SECTION_END[3]


def test_endings_end_with_their_repeat():
    # After the A part's endings and `||`, a lone `[2` in the B part has no first ending to
    # replace: it is counted as written, as in a tune without endings before it.
    tune = H + part("|", "|") + "|\n" + "|:" + BAR * 7 + LAST + " :|[2 " + LAST + "|"
    assert logits(tune)["|"] == SHORT_SECTION
