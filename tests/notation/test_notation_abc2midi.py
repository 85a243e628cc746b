"""abc2midi checks: real tunes pass, known faults are reported as errors (needs apt abcmidi)."""

from __future__ import annotations

import pytest

from workbench.corpus import load
from workbench.notation import abc2midi
from workbench.notation.abc2midi import check_tune, check_tunes, parse_output

pytestmark = pytest.mark.skipif(
    abc2midi.abc2midi_path() is None, reason="abc2midi is not installed (apt install abcmidi)"
)

GOOD = "X:1\nT:Scale\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|dcBA GFED|\n"


def test_a_clean_tune_passes():
    report = check_tune(GOOD)
    assert report.ok and report.errors == []


def test_an_unmatched_tie_is_an_error():
    report = check_tune("X:1\nT:Tie\nM:4/4\nL:1/8\nK:D\nDEFG ABc-|z8|\n")
    assert not report.ok
    assert any("tie" in e.lower() for e in report.errors)


def test_an_overfull_bar_is_only_a_warning():
    report = check_tune("X:1\nT:Long\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|DEFG ABcde|DEFG ABcd|\n")
    assert report.ok and report.warnings


def test_batch_keeps_the_order_on_real_tunes():
    tunes = [t.text for t in load(["corpus:miscFolk"]).tunes[:12]]
    reports = check_tunes([*tunes, "X:1\nT:Bad\nK:C\nABc-|z4|\n"])
    assert len(reports) == 13
    assert not reports[-1].ok
    assert sum(r.ok for r in reports[:12]) >= 8  # most of a real collection is clean


def test_parse_output_separates_errors_and_warnings():
    report = parse_output(
        "4.84 March 2024 abc2midi\nError in line-char 7-0 : I: key ' ::' not recognized\n"
        "Warning in line-char 9-3 : Track 0 Bar 1 has 9/2 units\nwriting MIDI file t.mid\n"
    )
    assert report.errors == ["Error in line-char 7-0 : I: key ' ::' not recognized"]
    assert len(report.warnings) == 1 and not report.ok
