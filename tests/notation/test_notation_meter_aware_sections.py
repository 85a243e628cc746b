"""The <end> bias by the tune's last section (`SECTION_END` in meter-aware decoding).

A tune that has closed a section before may end where its last section is as long as real last
sections are (8 bars, sometimes 4 or 16), and hardly after a section of a bar or two. Each case
is a hand-written tune in 4/4; where the section lengths are the point, music21's own reading of
the finished tune (`tune_shape`, which shares no code with the decoder's bar scanner) confirms
the sections the expected bias is computed from.
"""

from __future__ import annotations

import pytest
import torch
from meter_aware_kit import BAR, TOKENIZER, H, logits_after

from workbench.notation import meter_aware
from workbench.notation.meter_aware import (
    END_AFTER_REPEAT,
    END_AT,
    HOME_BONUS,
    SECTION_END,
    SHAPE_CLOSE,
    SHAPE_END,
    SHORT_SECTION,
    MeterAwareConstraint,
    _section_end_bias,
)
from workbench.notation.tune_shape import tune_shape

pytestmark = pytest.mark.usefixtures("cold_meter_caches")

EIGHT, FOUR, OTHER, SHORT = SECTION_END


def end_logit(text: str, **kwargs) -> float:
    """<end>'s logit after `text`, from logits all 0."""
    return logits_after(text, **kwargs)["<end>"]


def sections_read_by_music21(text: str) -> tuple[int, ...]:
    return tune_shape(text + "\n").sections


def test_the_bias_by_the_last_sections_bars():
    expected = {1: SHORT, 2: SHORT, 3: SHORT, 4: FOUR, 5: OTHER, 6: OTHER, 7: OTHER, 8: EIGHT}
    expected |= {10: OTHER, 12: FOUR, 14: OTHER, 16: EIGHT, 20: FOUR, 24: EIGHT}
    assert {n: _section_end_bias(n) for n in expected} == expected
    # The order is the point: 8-bar multiples first, a section under 4 bars last.
    assert EIGHT > 0 > FOUR > OTHER > SHORT


def test_two_eight_bar_parts_end_with_the_section_bonus():
    tune = H + "|:" + BAR * 7 + "GABc dBAG:|\n" + "|:" + BAR * 7 + "GABc dBAG:|\n"
    assert sections_read_by_music21(tune) == (8, 8)
    assert end_logit(tune) == HOME_BONUS + END_AT[16] + EIGHT


@pytest.mark.parametrize(
    ("first", "last", "tune_bars_bias", "section_bias"),
    [
        (14, 2, END_AT[16], SHORT),  # `||` two bars before bar 16: hardly an ending
        (12, 4, END_AT[16], FOUR),
        (8, 4, SHAPE_END[1], FOUR),  # 12 bars: a multiple of 4
        (8, 6, SHAPE_END[2], OTHER),  # 14 bars: even
        (8, 16, SHAPE_END[0] + 4 * meter_aware.LATE_BONUS, EIGHT),  # 24 bars, past LATE_FROM
    ],
)
def test_a_second_section_is_judged_by_its_own_bars(first, last, tune_bars_bias, section_bias):
    tune = H + BAR * (first - 1) + "GABc dBAG||\n" + BAR * last
    assert sections_read_by_music21(tune) == (first, last)
    # Just after the last bar line (it may still grow into `||`), and after the line ends.
    assert end_logit(tune) == HOME_BONUS + tune_bars_bias + section_bias
    assert end_logit(tune + "\n") == HOME_BONUS + tune_bars_bias + section_bias


def test_just_after_a_section_bar_line_the_closed_section_counts():
    # A, then a second section closed by `||` after 8 bars (16 in all) or 2 (10 in all).
    a_part = H + BAR * 7 + "GABc dBAG||\n"
    whole = a_part + BAR * 7 + "GABc dBAG||\n"
    assert sections_read_by_music21(whole) == (8, 8)
    assert end_logit(whole) == HOME_BONUS + END_AT[16] + EIGHT
    short = a_part + BAR + "GABc dBAG||\n"
    assert sections_read_by_music21(short) == (8, 2)
    assert end_logit(short) == HOME_BONUS + SHAPE_END[2] + SHORT


def test_a_tune_of_one_section_is_judged_by_its_bars_alone():
    tune = H + BAR * 16
    assert sections_read_by_music21(tune) == (16,)
    assert end_logit(tune + "\n") == HOME_BONUS + END_AT[16]
    # Right after its first section closed by a repeat, the A part is not the tune: only
    # END_AFTER_REPEAT, no section term (the section would be the tune's only one).
    a_part = H + "|:" + BAR * 7 + "GABc dBAG:|\n"
    assert end_logit(a_part) == HOME_BONUS + END_AFTER_REPEAT + END_AT[8]


def test_without_the_shape_bias_there_is_no_section_term():
    tune = H + BAR * 13 + "GABc dBAG||\n" + BAR * 2
    assert end_logit(tune + "\n", shape=False) == HOME_BONUS


@pytest.mark.parametrize(
    ("header", "bar", "last"),
    [
        (H, BAR, "GABc dBAG"),  # the bar's last note still being written
        (H, BAR, "GA G6"),  # a long last note: its bar counts whole (2/8 written before it)
        ("X:1\nM:6/8\nL:1/8\nK:G\n", "GAB cBG|", "GAB cBG"),  # 6/8: a bar is 3/4, not 1
        ("X:1\nM:6/8\nL:1/8\nK:G\n", "GAB cBG|", "GAB G3"),
    ],
)
def test_an_ending_inside_the_last_bar_counts_that_bar(header, bar, last):
    """<end> may come right after the note that fills the 16th bar, before its bar line: the
    second section is then 8 bars, not 7 (a bar counted by what was written before its last
    note) or 9."""
    tune = header + bar * 7 + bar.replace("|", "||\n") + bar * 7 + last
    assert sections_read_by_music21(tune + "|]") == (8, 8)
    assert end_logit(tune) == HOME_BONUS + END_AT[16] + EIGHT


def test_a_pickup_after_a_section_line_is_no_last_section():
    # Eight bars, `||`, and a quarter-bar pickup closed by `|`: the tune could end after 8 bars
    # (music21 reads one section); the pickup is under half a bar, so no section term.
    tune = H + BAR * 7 + "GABc dBAG||\n" + "G2|"
    assert sections_read_by_music21(tune) == (8,)
    assert end_logit(tune) == HOME_BONUS + END_AT[8]


def test_one_bar_after_a_section_line_is_a_short_last_section():
    # Not after a repeat (no END_AFTER_REPEAT): the 1-bar section alone lowers <end>.
    tune = H + BAR * 7 + "GABc dBAG||\n" + "GABc dBAG||\n"
    assert sections_read_by_music21(tune) == (8, 1)
    assert end_logit(tune) == HOME_BONUS + SHAPE_END[3] + SHORT


@pytest.mark.parametrize(
    ("bars", "bias"),
    [
        *((bars, SHORT_SECTION) for bars in (1, 2, 3)),
        *((4, SHAPE_CLOSE[1]), (5, SHAPE_CLOSE[3]), (6, SHAPE_CLOSE[2]), (8, SHAPE_CLOSE[0])),
    ],
)
def test_a_section_of_under_four_bars_is_all_but_ruled_out(bars: int, bias: float):
    con = MeterAwareConstraint(TOKENIZER)

    def logits_after(text: str, chars: str) -> dict[str, float]:
        row = con(torch.zeros(1, len(TOKENIZER.vocab)), [text])[0]
        return {c: float(row[TOKENIZER.vocab.index(c)]) for c in chars}

    # Just after a bar line, `|` and `]` would make it `||` or `|]`: a section closes.
    after_bar_line = H + BAR * bars
    assert logits_after(after_bar_line, "|]") == dict.fromkeys("|]", bias)
    # After a full bar, `:` would make it `:|`.
    full_bar = H + BAR * (bars - 1) + "GABc dBAG"
    assert logits_after(full_bar, ":") == {":": bias}
    # music21 reads each tune closed there with a first section of those bars.
    assert sections_read_by_music21(after_bar_line + "|" + BAR * 8) == (bars, 8)
    assert sections_read_by_music21(full_bar + ":|" + BAR * 8) == (bars, 8)
