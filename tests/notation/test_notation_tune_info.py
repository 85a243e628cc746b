"""Tune summaries for the results list: title, key, meter, bars; and the music21 check."""

from __future__ import annotations

from workbench.notation.tune_info import TuneInfo, parses_in_music21, tune_info

JIG = """X:1
T:Connelly's Ale -- Jig
M:6/8
L:1/8
K:G
D|GAB BAB|GBd def|gfg edB|BAA A2B|
GAB BAB|GBd def|gfe dBd|BGG G2:|
"""


def test_tune_info_of_a_good_tune():
    assert tune_info(JIG) == TuneInfo(
        title="Connelly's Ale -- Jig", key="G", meter="6/8", bars=9, bars_fit=True, misfit_bars=[]
    )


def test_misfit_bars_are_numbered_from_one():
    text = "X:1\nT:  Bad \nM:C\nL:1/8\nK:A Dorian\nABcd efga|ABc|ABcd efga|ABcd efgab|ABcd efga|\n"
    info = tune_info(text)
    assert (info.title, info.key, info.meter, info.bars) == ("Bad", "Ador", "4/4", 5)
    assert not info.bars_fit
    assert info.misfit_bars == [2, 4]


def test_tune_info_without_header_fields():
    info = tune_info("X:1\nabc|")
    assert (info.title, info.key, info.meter, info.bars, info.bars_fit) == (
        "",
        "none",
        "none",
        0,
        True,
    )


def test_parses_in_music21():
    assert parses_in_music21(JIG) is None
    assert parses_in_music21("X:1\nT:empty\nK:G\n") == "no notes"
    message = parses_in_music21("X:1\nK:G\nabc|\n")  # no M: or L: for music21 to go by
    assert isinstance(message, str) and message
