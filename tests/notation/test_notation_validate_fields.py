"""Header values the validator judges, one case per rule, with the exact message (issue 16).

Which K:, L: and M: values are valid comes from the ABC 2.1 standard (section 3.1.14 for K:,
keynote A-G, then # or b, then a mode of which only the first three letters count, then
explicit accidentals and clef settings; 3.1.7 for L:, a fraction with a power-of-two
denominator; C is 4/4 and C| is 2/2). Written to kill mutants that survived
`benchmarks/mutation.py workbench/notation/validate.py`: every branch of the key check, the
note-length check and the bar-length message in the meter's own beats.
"""

from __future__ import annotations

import pytest

from workbench.notation.validate import validate_abc

MODES = "use m (minor), major, dorian, phrygian, lydian, mixolydian, aeolian or locrian"


def judged(text: str) -> list[tuple[str, str]]:
    return [(p.severity, p.message) for p in validate_abc(text)]


@pytest.mark.parametrize(
    "key",
    [
        "G",
        "Am",
        "Bb",
        "F#m",
        "A Dorian",
        "A Mix",  # a mode's first three letters are enough
        "A m",
        "D M",  # a mode word is matched whatever its case
        "Am ^f _b",
        "G^f",
        "G exp _b ^f",
        "HP",  # Highland bagpipe notation
        "Hp",
        "none",
        "bass",  # a clef alone: the key stays C
        "clef=bass",
        "G treble-8",
        "G bass+8",
        "G middle=d",
        "G clef=treble transpose=-2",
    ],
)
def test_keys_the_standard_allows(key) -> None:
    assert judged(f"X:1\nT:T\nK:{key}\nZ|\n") == [], key


@pytest.mark.parametrize(
    ("key", "severity", "message"),
    [
        ("", "error", "K: is empty; it must name the key, e.g. K:G, K:Dm or K:A dorian"),
        ("H", "error", "K:H: H is not a key letter in ABC; the German H is written B"),
        ("h", "error", "K:h: H is not a key letter in ABC; the German H is written B"),
        ("hp", "error", "K:hp: H is not a key letter in ABC; the German H is written B"),
        (
            "Q",
            "error",
            "K:Q: Q is not a key; write the keynote A-G, then # or b, then the mode, e.g. "
            "K:G, K:F#m, K:Bb, K:A dorian",
        ),
        ("g", "error", "K:g: write the keynote as a capital letter (K:G)"),
        ("Gxyz", "error", f"K:Gxyz: xyz is not a mode; {MODES}"),
        ("G^x", "error", "K:G^x: ^x is not an accidental like ^f or _b"),
        ("G stuff", "warning", "K:G stuff: stuff is not understood here; players ignore it"),
        ("G foo=bar", "warning", "K:G foo=bar: foo=bar is not understood here; players ignore it"),
        (
            "C Dorian Lydian",
            "warning",
            "K:C Dorian Lydian: Lydian is not understood here; players ignore it",
        ),
        ("A m m", "warning", "K:A m m: m is not understood here; players ignore it"),
        ("Am m", "warning", "K:Am m: m is not understood here; players ignore it"),
        ("G =", "warning", "K:G =: = is not understood here; players ignore it"),
        ("G ^f stuff", "warning", "K:G ^f stuff: stuff is not understood here; players ignore it"),
    ],
)
def test_keys_the_standard_does_not_allow(key, severity, message) -> None:
    found = judged(f"X:1\nT:T\nK:{key}\nZ|\n")
    assert len(found) == 1, found
    assert found[0] == (severity, message)


@pytest.mark.parametrize(
    ("length", "ok"),
    [
        ("1/8", True),
        ("1/16", True),
        ("1/1", True),
        ("3/8", True),
        ("1 / 8", True),  # spaces are allowed around the slash
        ("0/8", False),
        ("1/6", False),
        ("2/3", False),
        ("1/0", False),
        ("eighth", False),
    ],
)
def test_note_lengths(length, ok) -> None:
    found = judged(f"X:1\nT:T\nL:{length}\nK:G\nZ|\n")
    expected = (
        [] if ok else [("error", f"L:{length} is not a note length; write it like L:1/8 or L:1/16")]
    )
    assert found == expected


@pytest.mark.parametrize(
    ("meter", "unit", "body", "message"),
    [
        ("C", "1/4", "ABcd e|ABcd|", "bar 1 has 5/4 but M:C needs 4/4"),
        ("C|", "1/4", "ABcd ef|ABcd|", "bar 1 has 3/2 but M:C| needs 2/2"),
        ("2/2", "1/4", "ABcd ef|ABcd|", "bar 1 has 3/2 but M:2/2 needs 2/2"),
        ("6/8", "1/8", "ABc def g|ABc def|", "bar 1 has 7/8 but M:6/8 needs 6/8"),
        # Not a whole number of the meter's beats: said as a fraction of a whole note.
        ("C|", "1/4", "ABcd e|ABcd|", "bar 1 has 5/4 but M:C| needs 2/2"),
    ],
)
def test_a_bar_that_does_not_fit_is_told_in_the_meters_beats(meter, unit, body, message) -> None:
    assert judged(f"X:1\nT:T\nM:{meter}\nL:{unit}\nK:G\n{body}\n") == [("warning", message)]
