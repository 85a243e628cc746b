"""Meters, unit lengths and bar durations of ABC tunes (workbench.notation.meter)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from workbench.corpus import load
from workbench.notation.meter import (
    bar_lengths,
    default_unit_length,
    parse_meter,
    parse_unit_length,
)


def tune(body: str, meter: str | None = "4/4", unit: str | None = "1/8") -> str:
    head = "X:1\nT:t\n"
    if meter is not None:
        head += f"M:{meter}\n"
    if unit is not None:
        head += f"L:{unit}\n"
    return head + "K:G\n" + body


def durations(text: str) -> list[F]:
    return [bar.duration for bar in bar_lengths(text)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6/8", F(3, 4)),
        ("C", F(1)),
        ("C|", F(1)),
        ("2/2", F(1)),
        ("3/4", F(3, 4)),
        ("none", None),
        ("", None),
        ("2+3/8", F(5, 8)),
        ("(2+2+3)/8", F(7, 8)),
        ("3/4+2/4", F(5, 4)),
        (" 9 / 8 % compound", F(9, 8)),
        # the comment starts at the first %, whatever follows it
        ("6/8 % a jig, 100% of it", F(3, 4)),
        ("M:12/8", F(3, 2)),
        ("FREI", None),
    ],
)
def test_parse_meter(value, expected):
    assert parse_meter(value) == expected


def test_parse_and_default_unit_length():
    assert parse_unit_length("1/8") == F(1, 8)
    assert parse_unit_length("L:1/16") == F(1, 16)
    assert parse_unit_length("1") == F(1)
    assert parse_unit_length("x/8") is None
    assert parse_unit_length("1/16 % semiquavers, 50% of them dotted") == F(1, 16)
    assert default_unit_length(F(2, 4)) == F(1, 16)
    assert default_unit_length(F(3, 4)) == F(1, 8)
    assert default_unit_length(F(1)) == F(1, 8)
    assert default_unit_length(None) == F(1, 8)


def test_note_lengths():
    # A2 = 2/8, A/2 = A/ = 1/16, A3/2 = 3/16, A// = 1/32, A4 = 4/8.
    assert durations(tune("A2 A/2A/ A3/2 A// A4|A8|")) == [
        F(2, 8) + F(1, 16) * 2 + F(3, 16) + F(1, 32) + F(4, 8),
        F(1),
    ]


def test_broken_rhythm():
    assert durations(tune("A>B A<B A>>B C2|")) == [F(1)]
    # A>B is 3/16 + 1/16 with L:1/8; chord symbols between do not matter.
    assert durations(tune('A>"G"B C6|')) == [F(1)]


def test_tuplets():
    assert durations(tune("(3abc d2 e4|")) == [F(1)]
    assert durations(tune("(3:2:3abc (2de f4|")) == [F(2, 8) + F(3, 8) + F(4, 8)]
    # (5 in 6/8 is 5 in the time of 3.
    assert durations(tune("(5abcde ABC|", meter="6/8")) == [F(3, 4)]


def test_chords_rests_grace_notes_and_decorations():
    body = '[CEG]2 [C2E2]2 z2 {gab}A !trill!B "Am"c ~d|'
    # [CEG]2 = 2/8, [C2E2]2 = 4/8 (first note's length times the outer one), z2, four 1/8 notes.
    assert durations(tune(body)) == [F(2, 8) + F(4, 8) + F(2, 8) + F(4, 8)]
    assert durations(tune("A2-A2 (AB) .c.d|")) == [F(1)]


def test_multi_bar_rest_lasts_its_bars():
    bars = bar_lengths(tune("Z4|ABcd efga|"))
    assert bars[0].duration == bars[0].expected == F(4)
    assert all(b.fits for b in bars)


def test_inline_and_body_meter_and_unit_changes():
    text = tune("ABcd efga|[M:3/4]ABc def|\nM:6/8\nABc def|[L:1/16]A4B4c4|")
    bars = bar_lengths(text)
    assert [b.expected for b in bars] == [F(1), F(3, 4), F(3, 4), F(3, 4)]
    assert [b.duration for b in bars] == [F(1), F(3, 4), F(3, 4), F(3, 4)]
    assert all(b.fits for b in bars)


def test_default_unit_length_comes_from_the_header_meter():
    # M:2/4 without L: is in sixteenths.
    assert durations(tune("ABcd efga|", meter="2/4", unit=None)) == [F(1, 2)]
    # No M: at all: 4/4 and eighths.
    bars = bar_lengths(tune("ABcd efga|", meter=None, unit=None))
    assert bars[0].duration == bars[0].expected == F(1)


def test_pickups_and_section_ends_may_be_short():
    text = tune("D|GAB BAB|gdB G2:|\n|:B|def gfg|gdB G2|]", meter="6/8")
    bars = bar_lengths(text)
    assert [b.duration for b in bars] == [F(1, 8), F(3, 4), F(5, 8), F(1, 8), F(3, 4), F(5, 8)]
    assert all(b.fits for b in bars)


def test_short_and_long_bars_in_the_middle_do_not_fit():
    bars = bar_lengths(tune("ABcd efga|ABc|ABcd efga|ABcd efgab|ABcd efga|"))
    assert [b.fits for b in bars] == [True, False, True, False, True]
    # A too-long bar never fits, not even before a repeat or at the end.
    assert not bar_lengths(tune("ABcd efgab:|"))[-1].fits
    assert not bar_lengths(tune("ABcd efga|ABcd efgab"))[-1].fits


def test_free_meter_fits_everything():
    bars = bar_lengths(tune("ABcdefg|AB|ABcdefgabc|", meter="none"))
    assert all(b.fits and b.expected is None for b in bars)


def test_positions_are_line_and_columns():
    text = tune("ABcd efga | ABc |\nAB\ncd efga|")
    bars = bar_lengths(text)
    lines = text.split("\n")
    assert [(b.line, b.column, b.end_column) for b in bars] == [(6, 0, 11), (6, 12, 17), (7, 0, 2)]
    assert lines[5][12:17] == "ABc |"
    # The bar that runs over a line break is underlined to the end of its first line.
    assert bars[2].duration == F(1)


def test_fields_comments_and_line_starts():
    text = tune("ABcd % comment | not a bar\nefga|\nP:B\nw: ly-rics | here\nTABcd efga|")
    bars = bar_lengths(text)
    assert [b.duration for b in bars] == [F(1), F(1)]


def test_no_body_without_a_key_line():
    assert bar_lengths("X:1\nM:4/4\nABcd|") == []


def test_variant_endings_and_repeat_bar_lines():
    text = tune("|:ABcd efga|1 ABcd efg:|2 ABcd e2z2|[1 ABcd efga::ABcd efga|]")
    bars = bar_lengths(text)
    assert len(bars) == 5
    assert all(b.fits for b in bars)


@pytest.fixture(scope="module")
def ryans() -> list[str]:
    return [t.text for t in load(["corpus:ryansMammoth"]).tunes]


def test_most_real_bars_fit(ryans):
    # Ryan's Mammoth Collection as transcribed: about 99 % of its bars fit by the ABC standard's
    # rules (the rest are transcription slips such as `G>c/B/` where `G>c B/` was meant).
    tunes = ryans[:300]
    bars = [bar for text in tunes for bar in bar_lengths(text)]
    assert len(bars) > 4000
    assert sum(b.fits for b in bars) / len(bars) > 0.97
    assert sum(all(b.fits for b in bar_lengths(t)) for t in tunes) / len(tunes) > 0.85


def test_real_tune_bars(ryans):
    # "Connelly's Ale" (a jig, 6/8): pickup D, 3/4 bars, 5/8 before each repeat, B-part pickup.
    text = next(t for t in ryans if "Connelly's Ale" in t)
    bars = bar_lengths(text)
    assert bars[0].duration == F(1, 8) and bars[0].fits
    assert all(b.fits for b in bars)
    assert sum(b.duration == F(3, 4) for b in bars) >= 14
