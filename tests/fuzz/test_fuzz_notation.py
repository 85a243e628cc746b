"""Fuzzing the ABC readers: the lexer, the validator, the meter scanner and prompt preparation.

None of them may raise on any text (their docstrings: "the lexer never raises"; the validator
reports problems, it does not fail). Inputs are real tunes from music21's folk collections,
mutated with ABC snippets (bar lines, tuplets, inline fields, absurd meters and lengths, markers,
control characters), and arbitrary text. Each test checks the reader's promises about its output
too, so a reader that "survives" by returning nonsense fails as well.
"""

from __future__ import annotations

from fractions import Fraction

from fuzzing import Material, fuzz_case, fuzz_settings, mutated_text, real_tunes
from hypothesis import given
from hypothesis import strategies as st

from workbench.notation.abc_lexer import KINDS, lex
from workbench.notation.meter import BarScanner, bar_lengths, parse_meter, parse_unit_length
from workbench.notation.prompt import prepare_prompt
from workbench.notation.validate import ERROR, WARNING, validate_abc

REAL = Material("real tunes", real_tunes())
#: Mutated real tunes most of the time, any text sometimes, several tunes glued now and then.
abc_text = st.one_of(
    mutated_text(REAL),
    mutated_text(REAL),
    mutated_text(REAL),
    st.text(max_size=300),
    st.lists(mutated_text(REAL, max_edits=2), min_size=2, max_size=3).map("\n\n".join),
)


@fuzz_settings()
@given(abc_text)
@fuzz_case
def test_lexer(text: str) -> None:
    """Tokens of known kinds, in order, never overlapping, inside the text; every character
    that is not white space belongs to one (the lexer's docstring)."""
    covered = set()
    previous_end = 0
    for token in lex(text):
        assert token.kind in KINDS
        assert previous_end <= token.start < token.end <= len(text)
        previous_end = token.end
        covered.update(range(token.start, token.end))
    uncovered = [(i, ch) for i, ch in enumerate(text) if i not in covered]
    assert all(ch.isspace() or ch == "`" for _, ch in uncovered), uncovered


@fuzz_settings()
@given(abc_text)
@fuzz_case
def test_validator(text: str) -> None:
    """Problems sorted, each on a line of the text, within (or just after) that line, with a
    severity and a message."""
    lines = text.replace("\r\n", "\n").split("\n")
    found = validate_abc(text)
    assert found == sorted(found, key=lambda p: (p.line, p.column, p.end_column, p.message))
    for problem in found:
        assert 1 <= problem.line <= len(lines)
        assert 0 <= problem.column <= problem.end_column <= len(lines[problem.line - 1]) + 1
        assert problem.severity in (ERROR, WARNING) and problem.message.strip()


@fuzz_settings()
@given(abc_text)
@fuzz_case
def test_meter_scanner(text: str) -> None:
    """`bar_lengths` places every bar on a line of the text, in order, with a duration that is
    not negative; feeding the scanner one character at a time reads the same as the whole."""
    lines = text.split("\n")
    bars = bar_lengths(text)
    assert [b.index for b in bars] == list(range(len(bars)))
    for bar in bars:
        assert 1 <= bar.line <= len(lines)
        assert 0 <= bar.column <= bar.end_column
        assert isinstance(bar.duration, Fraction) and bar.duration >= 0
        assert bar.expected is None or bar.expected > 0
        assert not (bar.expected is not None and bar.duration > bar.expected and bar.fits)
    assert [(b.line, b.column) for b in bars] == sorted((b.line, b.column) for b in bars)
    one_by_one = BarScanner(record=True)
    for ch in text:
        one_by_one.feed(ch)
    one_by_one.finish()
    whole = BarScanner(record=True)
    whole.feed_text(text)
    whole.finish()
    assert [(b.line, b.duration) for b in one_by_one.bars] == [
        (b.line, b.duration) for b in whole.bars
    ]


field_value = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"\(?[0-9]{1,12}(\+[0-9]{1,3})*\)?/[0-9]{1,12}( ?%.*)?", fullmatch=True),
    st.sampled_from(["C", "C|", "none", "M:6/8", "", "0/0", "1/0", "2+3/8", "3/4+2/4", "L:1/8"]),
)


@fuzz_settings()
@given(field_value)
@fuzz_case
def test_meter_and_unit_length_values(value: str) -> None:
    """An `M:` or `L:` value gives a positive bar or note length, or None (free meter or
    unreadable): never zero, never an exception."""
    for parse in (parse_meter, parse_unit_length):
        length = parse(value)
        assert length is None or (isinstance(length, Fraction) and length > 0)


@fuzz_settings()
@given(st.one_of(abc_text, st.text(max_size=60)))
@fuzz_case
def test_prompts(text: str) -> None:
    """A prompt comes out empty (nothing to say) or as a tune's opening: `X:` first, `\\n` line
    endings, a complete header line closed; preparing it again changes nothing."""
    prompt = prepare_prompt(text)
    if not text.replace("\r", "\n").strip():
        assert prompt == ""
        return
    assert prompt.startswith("X:") and "\r" not in prompt
    assert prepare_prompt(prompt) == prompt
