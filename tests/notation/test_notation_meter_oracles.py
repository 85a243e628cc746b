"""Bar lengths judged by tools that share none of our code: abc2midi's bar warnings and music21's
measure durations, against lengths worked out by hand for every rhythm form the scanner reads.

Each case is one bar placed second in a tune, between two full bars: abc2midi checks every bar
but the first and prints `Bar 1 has N time units while the time signature has D` (N in the
meter's beat units) when the bar is not full, and music21 builds one measure per bar. Where a
tool reads a form differently from the ABC standard the case says so and leaves that tool out.
"""

from __future__ import annotations

import re
import warnings
from fractions import Fraction as F

import music21
import pytest

from workbench.notation.abc2midi import abc2midi_path, check_tunes
from workbench.notation.meter import bar_lengths

# (M:, L: or None, the second bar, its length in whole notes by hand, oracles that read it alike)
BOTH = ("abc2midi", "music21")
CASES = [
    # broken rhythm, both ways, doubled and tripled: 3/16 + 1/16, 7/32 + 1/32, 15/128 + 1/128
    ("4/4", "1/8", "A>B c2", F(3, 16) + F(1, 16) + F(1, 4), BOTH),
    ("4/4", "1/8", "A<B c2", F(1, 16) + F(3, 16) + F(1, 4), BOTH),
    ("4/4", "1/8", "A>>B c2", F(7, 32) + F(1, 32) + F(1, 4), BOTH),
    ("4/4", "1/8", "A2<<B2", F(1, 16) + F(7, 16), BOTH),
    ("4/4", "1/8", "A/>>>B/ c", F(15, 128) + F(1, 128) + F(1, 8), BOTH),
    ("4/4", "1/8", "A>B C>D E2", F(1, 2) + F(1, 4), BOTH),
    # tuplets (p, (p:q, (p:q:r, the empty q, and (5 (n: 2 in simple, 3 in compound meters)
    ("4/4", "1/8", "(3abc d2", F(1, 4) + F(1, 4), BOTH),
    ("4/4", "1/8", "(3:2:3abc d2", F(1, 4) + F(1, 4), BOTH),
    ("4/4", "1/8", "(3:2:2ab c", F(1, 6) + F(1, 8), BOTH),
    ("4/4", "1/8", "(3::abc", F(1, 4), BOTH),
    ("4/4", "1/8", "(2ab c", F(3, 8) + F(1, 8), BOTH),
    ("4/4", "1/8", "(4abcd", F(3, 8), BOTH),
    ("4/4", "1/8", "(5abcde", F(2, 8), BOTH),
    ("6/8", "1/8", "(5abcde", F(3, 8), BOTH),
    ("4/4", "1/8", "(6abcdef", F(2, 8), BOTH),
    ("4/4", "1/8", "(5:4abcde", F(4, 8), BOTH),
    ("4/4", "1/8", "(3:4:6abcdef", F(6, 8) * F(4, 3), BOTH),
    ("4/4", "1/8", "(3a2b2c2 d", F(6, 8) * F(2, 3) + F(1, 8), BOTH),
    # grace notes, chord symbols, decorations, ties and slurs take no time
    ("4/4", "1/8", "{g}A2 {ag}B2", F(1, 2), BOTH),
    ("4/4", "1/8", '"Am"A !trill!B ~c .d', F(1, 2), BOTH),
    ("4/4", "1/8", "A-A B2", F(1, 2), BOTH),
    ("4/4", "1/8", "(AB) c", F(3, 8), BOTH),
    # chords: as long as their first note, times the length after the bracket
    ("4/4", "1/8", "[CEG]2 [C2E2]", F(1, 4) + F(1, 4), BOTH),
    # abc2midi takes [C/E/]3 as 3 units, ignoring the inner length (the decoder forbids inner
    # lengths for that reason); music21 reads the standard's 1/16 * 3.
    ("4/4", "1/8", "[CEG]/ [C/E/]3", F(1, 16) + F(3, 16), ("music21",)),
    # length spellings
    ("4/4", "1/8", "A3/2 B/ c// d3", F(3, 16) + F(1, 16) + F(1, 32) + F(3, 8), BOTH),
    ("4/4", "1/8", "A/4 B3/4 c///", F(1, 32) + F(3, 32) + F(1, 64), BOTH),
    ("4/4", "1/8", "A/16 B3/16 c7 d/2", F(1, 128) + F(3, 128) + F(7, 8) + F(1, 16), BOTH),
    ("9/8", "1/8", "A9", F(9, 8), BOTH),
    ("5/4", "1/8", "A10", F(10, 8), BOTH),
    ("4/4", "1/8", "a'B,, C,2 D3", F(1, 4) + F(1, 4) + F(3, 8), BOTH),
    # rests: music21 drops the invisible rest x
    ("4/4", "1/8", "z2 x2 a", F(5, 8), ("abc2midi",)),
    # unit lengths: written, default from the meter (1/16 below 3/4), inline (music21 ignores
    # an inline L:)
    ("4/4", "1/16", "abcd", F(1, 4), BOTH),
    ("3/4", None, "abc", F(3, 8), BOTH),
    ("2/4", None, "abc", F(3, 16), BOTH),
    ("4/4", "1/8", "[L:1/16]abcd", F(1, 4), ("abc2midi",)),
    # meters
    ("6/8", "1/8", "abc d2", F(5, 8), BOTH),
    ("C|", "1/8", "abc", F(3, 8), BOTH),
    ("C", "1/8", "abcdef", F(3, 4), BOTH),
    ("9/8", "1/8", "abcd", F(1, 2), BOTH),
]
IDS = [f"{m} {body}" for m, _, body, _, _ in CASES]


def _read_by(tool: str) -> dict:
    """The cases `tool` reads as the standard does, for pytest.mark.parametrize."""
    cases = [c for c in CASES if tool in c[4]]
    return {"argvalues": cases, "ids": [f"{m} {body}" for m, _, body, _, _ in cases]}


def _tune(meter: str, unit: str | None, body: str) -> str:
    """The bar between two bars that fill `meter` with one note each (`G` times its length)."""
    head = f"X:1\nT:t\nM:{meter}\n" + (f"L:{unit}\n" if unit else "") + "K:G\n"
    whole = {"C": F(1), "C|": F(1)}.get(meter) or F(meter)
    step = F(unit) if unit else (F(1, 16) if whole < F(3, 4) else F(1, 8))
    full = f"G{whole / step}"
    return head + f"{full}|{body}|{full}|\n"


def _beat(meter: str) -> F:
    """The unit abc2midi counts a bar in: the meter's denominator (C is 4/4, C| is 2/2)."""
    return {"C": F(1, 4), "C|": F(1, 2)}.get(meter) or F(1, int(meter.split("/")[1]))


@pytest.mark.parametrize(("meter", "unit", "body", "hand", "oracles"), CASES, ids=IDS)
def test_bar_lengths_by_hand(meter, unit, body, hand, oracles):
    bars = bar_lengths(_tune(meter, unit, body))
    assert len(bars) == 3
    assert bars[1].duration == hand
    assert bars[1].fits == (hand == bars[1].expected)


@pytest.fixture(scope="module")
def abc2midi_reports():
    if abc2midi_path() is None:
        pytest.skip("abc2midi is not installed (apt install abcmidi)")
    return check_tunes([_tune(m, u, body) for m, u, body, _, _ in CASES], workers=2)


@pytest.mark.parametrize(("meter", "unit", "body", "hand", "oracles"), **_read_by("abc2midi"))
def test_abc2midi_counts_the_same_bar_length(abc2midi_reports, meter, unit, body, hand, oracles):
    report = abc2midi_reports[IDS.index(f"{meter} {body}")]
    assert report.errors == []
    said = [re.search(r"Bar 1 has (\S+) time units", w) for w in report.warnings]
    said = [F(m.group(1)) * _beat(meter) for m in said if m]
    ours = bar_lengths(_tune(meter, unit, body))[1]
    # abc2midi is silent about a full bar.
    assert said == ([] if ours.duration == ours.expected else [ours.duration])
    assert ours.duration == hand


@pytest.mark.parametrize(("meter", "unit", "body", "hand", "oracles"), **_read_by("music21"))
def test_music21_measures_last_as_long(meter, unit, body, hand, oracles):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(_tune(meter, unit, body), format="abc")
    measures = score.parts[0].getElementsByClass("Measure")
    ours = bar_lengths(_tune(meter, unit, body))
    assert len(measures) == len(ours)
    for measure, bar in zip(measures, ours, strict=True):
        assert F(measure.duration.quarterLength).limit_denominator(10_000) / 4 == bar.duration


HEAD = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"
# Whole tunes: pickups, section ends, inline and body M:/L: changes, multi-bar rests, short and
# long bars in the middle, a short last bar.
TUNES = [
    HEAD + "GA|B8|c4 d2 e>f|g4:|\nga|b8|c6|d8|[M:3/4]b6|Z2|c2 d2|[M:2/4]c4|d2|e4|f3|\n",
    HEAD + "B8|[L:1/16]b16|c8 d4|[L:1/8]Z|c6|A2 z4|\nB8 | A6 | (3ABc d2 B2 z2 |]\n",
    "X:1\nT:t\nM:6/8\nL:1/8\nK:D\nA|B2A B2c|d3 e2|\nM:3/4\nf6|g4|a6|\nL:1/16\na12|b8|\n",
    HEAD + "A8|B9|c8|[M:C|]d8|e4 z2|Z|f7|\n",
]
_WARNING = re.compile(
    r"line-char (\d+)-(\d+) : Track 0 Bar \d+ has (\S+) time units while the time signature has "
    r"(\d+)"
)


@pytest.mark.parametrize("text", TUNES, ids=range(len(TUNES)))
def test_abc2midi_warns_about_the_bars_that_do_not_fit(text):
    """abc2midi leaves the first bar, section ends and the last bar unjudged in its own way, so
    only the two clear cases are compared: a middle bar we find short or long is one it warns
    about, at the same bar line and with the same length; a full bar gets no warning."""
    if abc2midi_path() is None:
        pytest.skip("abc2midi is not installed (apt install abcmidi)")
    [report] = check_tunes([text], workers=1)
    assert report.errors == []
    # abc2midi counts in the meter's beats: N units of a D-beat bar are N/D of the bar.
    warned = {
        (int(m[1]), int(m[2])): F(m[3]) / int(m[4])
        for m in map(_WARNING.search, report.warnings)
        if m
    }
    bars = bar_lengths(text)
    short_or_long = [b for b in bars if not b.fits]
    assert short_or_long, "each tune has a bar that does not fit"
    for bar in bars[1:]:
        at = (bar.line, bar.end_column - 1)  # abc2midi names the closing bar line
        if not bar.fits:
            assert warned[at] * bar.expected == bar.duration
        elif bar.duration == bar.expected:
            assert at not in warned


def test_header_comments_holding_a_percent_sign_end_at_the_first_one():
    """`M:6/8 % ... 100% ...`: the comment starts at the first `%`. abc2midi reads the same meter
    and unit: it is silent about the full bars and warns about the short middle one in 6/8."""
    if abc2midi_path() is None:
        pytest.skip("abc2midi is not installed (apt install abcmidi)")
    text = "X:1\nT:t\nM:6/8 % a jig, 100% of it\nL:1/8 % eighths, 50% dotted\nK:G\nG6|A6|B4|c6|\n"
    [report] = check_tunes([text], workers=1)
    assert report.errors == []
    warned = [_WARNING.search(w) for w in report.warnings]
    assert [(int(m[1]), int(m[2]), F(m[3]) / int(m[4])) for m in warned if m] == [(6, 8, F(4, 6))]
    bars = bar_lengths(text)
    assert [(b.duration, b.expected) for b in bars] == [(F(3, 4), F(3, 4))] * 2 + [
        (F(1, 2), F(3, 4)),
        (F(3, 4), F(3, 4)),
    ]
    assert (bars[2].line, bars[2].end_column - 1) == (6, 8)
