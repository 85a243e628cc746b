"""Hostile tunes through the app's validation, engraving (verovio's child process) and MIDI
conversion: benchmarks/crash_isolation.py's own loop on 20 hand-made and sampled tunes.

The benchmark runs 1,000 tunes sampled at T = 2.0; this keeps its loop honest in the default
suite: every tune gets an outcome on each path, the ones that kill verovio cost only a worker
process (replaced by a fresh live one each time), nothing escapes as an exception, and a good
tune still engraves at the end.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from workbench.notation.render import ScoreRenderer

ROOT = Path(__file__).resolve().parents[2]

# A tune the shipped model sampled at T = 2.0 (seed 7, the 39th of 60, prompt "X:1\n"): its
# L:16/14 kept music21 choosing time signatures for minutes (the playback pane said
# "converting" for ever) until workbench.notation.convert refused such note lengths.
SAMPLED_L_16_14 = (
    "X:1\nT:Codd: Oter Fs -alas\nM:2/8\nL:16/14\nK:y Minor\nf> {g}ag>g gf(c>^c) |j/E/E/gc  "
    "BGge      \\ b|c1, 2TF6 \\\nA<D|F=daf g/f/e|df/p\naf |g>=gb<a Fg/f/a de    d/c/|\\\n'bae\n"
    "z:f2Na3igzjgt g/f/a gg|j{d}  ia`A/>eg|/3R|"
)

HOSTILE = [
    "X:1\nT:Stray\nM:4/4\nL:1/8\nK:G\nABcd ] efga|\n",  # a stray ]: verovio dies (SIGSEGV)
    "X:1\nT:Typo\nM:6/8\nL:1/8\nK:D\ndfa afd|gbg faf:]\n",  # :] for :|]
    SAMPLED_L_16_14,
    "",
    "   \n\n",
    "X:1\nT:No key\nM:4/4\nabc|def|\n",
    "X:1\nK:C\n\x00\x00abc\x00|\n",
    "\ufeffX:1\nT:BOM\nK:C\nabc|\n",
    "X:1\nM:13/16\nL:1/16\nK:C\nabcdefg|\nX:2\nK:D\nfed|\n",  # two tunes in one text
    "X:1\nM:0/0\nL:1/0\nQ:1/4=0\nK:Zz mode\nabc|\n",
    "X:1\nL:1/8\nK:C\n[[[[[[[[abc]]]]]]]]]]]]|\n",
    "X:1\nL:1/8\nK:C\n{{{{{abc (((((d|\n",
    "X:1\nL:1/8\nK:C\n(99999abc|(3:2:1ab|\n",
    "X:1\nL:1/8\nK:C\n" + "|:" * 300 + "\n",
    "X:1\nL:1/8\nK:C\n" + "a" * 300 + "|\n",  # one bar of 300 notes
    "X:1\nL:1/8\nK:C\n[M:7/0]abc[L:3/7]def[K:]|\n",
    "X:1\nK:C\näöü ßðð ∞∑|ab\u200bc|\n",
    '%%MIDI program 999\nX:1\nL:1/8\nK:C\n"C7"abc "unclosed|\n',
    "X:1\nL:1/8\nK:C\nV:1\nabc|\nV:2\nV:3\nV:1\n::::|\n",
    "X:1\nT:Fine\nM:6/8\nL:1/8\nK:D\nA|dfa afd|gbg faf|edc d2:|\n",  # a good one among them
]


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "crash_isolation", ROOT / "benchmarks" / "crash_isolation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tally():
    bench = _benchmark()
    pid = os.getpid()
    with ScoreRenderer() as renderer:
        result = bench.check_tunes(HOSTILE, renderer, timeout=10.0)
        result.end_restarts = renderer.restarts
    assert os.getpid() == pid
    return result


def test_every_tune_gets_an_outcome_on_every_path(tally):
    assert tally.tunes == len(HOSTILE) == 20
    for counts in (tally.validation, tally.render, tally.midi):
        assert sum(counts.values()) == len(HOSTILE)
    assert tally.unhandled == []  # nothing escaped; a good tune engraved at the end


def test_verovio_crashes_cost_a_worker_each_and_it_is_replaced(tally):
    assert tally.render["worker crash: signal 11, SIGSEGV"] >= 1  # the stray ]
    assert tally.crashes >= 1
    assert tally.restarts_seen == tally.crashes  # a fresh live process after each one
    assert tally.end_restarts >= tally.crashes
    assert tally.render["ok"] >= 2  # the BOM tune and the good one at least


def test_failures_are_counted_by_kind(tally):
    assert tally.render["the tune is empty"] == 2
    assert any("no K:" in kind for kind in tally.render)
    assert tally.validation["has errors"] >= 12
    assert tally.validation_problems["M: value is not a meter"] >= 1
    assert tally.validation_problems["L: value is not a note length"] >= 1
    # The sampled L:16/14 tune is refused with a reason, not converted for minutes.
    assert any("is not a note length music" in kind for kind in tally.midi), tally.midi
    assert not any(kind.startswith("hung") for kind in tally.midi)
    assert tally.midi["ok"] >= 2
    assert not any(kind.startswith("UNDOCUMENTED") for kind in tally.midi)
