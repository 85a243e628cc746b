"""The ABC lexer: token spans on real corpus tunes, line state, and any text at all.

Its speed is measured by benchmarks/notation_speed.py (no timed unit tests).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.corpus import load
from workbench.notation.abc_lexer import KINDS, Token, lex, lex_line

# Characters that belong to no token: whitespace, and the backquote ABC allows between notes.
SPACE = frozenset(" \t\r`")


@pytest.fixture(scope="module")
def ryans():
    return load(["corpus:ryansMammoth"]).tunes


@pytest.fixture(scope="module")
def oneills():
    return load(["corpus:oneills1850"]).tunes


def tune_titled(tunes, title):
    return next(t.text for t in tunes if t.title == title)


def spans(line: str, in_body: bool = True) -> list[tuple[str, str]]:
    """(kind, text) of each token of one line."""
    tokens, _ = lex_line(line, in_body)
    return [(t.kind, line[t.start : t.end]) for t in tokens]


# -- real tunes ----------------------------------------------------------------------------------


def check_cover(text: str) -> tuple[int, int]:
    """Assert that the tokens are in order and that what lies between them is only space.

    Returns (characters, characters in error tokens).
    """
    previous_end = 0
    gaps = []
    errors = 0
    for token in lex(text):
        assert token.kind in KINDS
        assert previous_end <= token.start < token.end <= len(text), token
        gaps.append(text[previous_end : token.start])
        previous_end = token.end
        if token.kind == "error":
            errors += token.end - token.start
    gaps.append(text[previous_end:])
    between = "".join(gaps)
    assert set(between) <= SPACE | {"\n"}, set(between) - SPACE
    return len(text), errors


def test_every_character_of_real_tunes_is_in_a_token_or_space(ryans, oneills):
    chars = errors = 0
    for tune in [*ryans, *oneills[::4]]:  # 1,562 tunes
        tune_chars, tune_errors = check_cover(tune.text)
        chars += tune_chars
        errors += tune_errors
    # The lexer understands real tunes: only a few stray characters (fingering like "=20",
    # typos like "^3^F") are not ABC. Measured: 129 of 634,396 characters.
    assert chars > 600_000
    assert errors / chars < 0.0005


def test_spans_in_a_real_hornpipe(ryans):
    # Ryan's Mammoth, "Hiawatha -- Hornpipe": |:((3fga)|vbBdg ... ^f(Ac)f ... "1"G
    text = tune_titled(ryans, "Hiawat:ha -- Hornpipe")
    tokens = set(lex(text))

    start = text.index("|:((3fga)")
    assert Token("barline", start, start + 2) in tokens
    assert Token("slur", start + 2, start + 3) in tokens
    assert Token("tuplet", start + 3, start + 5) in tokens
    assert Token("note", start + 5, start + 6) in tokens

    sharp = text.index("^f(Ac)f")
    assert Token("accidental", sharp, sharp + 1) in tokens
    assert Token("note", sharp + 1, sharp + 2) in tokens
    assert Token("slur", sharp + 2, sharp + 3) in tokens

    fingering = text.index('"1"G')
    assert Token("chord_symbol", fingering, fingering + 3) in tokens
    assert Token("note", fingering + 3, fingering + 4) in tokens

    natural = text.index("=B)")
    assert Token("accidental", natural, natural + 1) in tokens

    low = text.index("B,2B2B,2:|")
    assert Token("note", low, low + 2) in tokens  # the octave mark belongs to the note
    assert Token("length", low + 2, low + 3) in tokens
    assert Token("barline", low + 8, low + 10) in tokens

    continuation = text.index("\\\n")
    assert Token("line_continuation", continuation, continuation + 1) in tokens


def test_spans_in_a_real_jig_with_annotations_and_chords(ryans):
    # "Essence of Old Kentucky": "Slow" and ">" annotations, tied chords, rests, |]
    text = tune_titled(ryans, "ESSENCE OF OLD KENTUCKY.")
    tokens = set(lex(text))

    slow = text.index('"Slow"')
    assert Token("chord_symbol", slow, slow + 6) in tokens
    assert Token("decoration", slow + 6, slow + 7) in tokens  # u: up-bow

    chord = text.index("[d3-d'3-]")
    assert Token("chord_bracket", chord, chord + 1) in tokens
    assert Token("note", chord + 1, chord + 2) in tokens
    assert Token("length", chord + 2, chord + 3) in tokens
    assert Token("tie", chord + 3, chord + 4) in tokens
    assert Token("note", chord + 4, chord + 6) in tokens  # d'
    assert Token("chord_bracket", chord + 8, chord + 9) in tokens

    rest = text.index("FzG")
    assert Token("rest", rest + 1, rest + 2) in tokens

    end = text.rindex("|]")
    assert Token("barline", end, end + 2) in tokens

    header = text.index("M:6/8")
    assert Token("field_key", header, header + 2) in tokens
    assert Token("field_value", header + 2, header + 5) in tokens


# -- the token kinds, one line at a time ---------------------------------------------------------


def test_a_line_with_every_music_kind():
    line = '|:"Am"^f2 [CEG]3/2 z/ (3abc !trill!A>B {/g}d-d ~e .f :|2 [1 || % end'
    assert spans(line) == [
        ("barline", "|:"),
        ("chord_symbol", '"Am"'),
        ("accidental", "^"),
        ("note", "f"),
        ("length", "2"),
        ("chord_bracket", "["),
        ("note", "C"),
        ("note", "E"),
        ("note", "G"),
        ("chord_bracket", "]"),
        ("length", "3/2"),
        ("rest", "z"),
        ("length", "/"),
        ("tuplet", "(3"),
        ("note", "a"),
        ("note", "b"),
        ("note", "c"),
        ("decoration", "!trill!"),
        ("note", "A"),
        ("broken_rhythm", ">"),
        ("note", "B"),
        ("grace", "{/"),
        ("note", "g"),
        ("grace", "}"),
        ("note", "d"),
        ("tie", "-"),
        ("note", "d"),
        ("decoration", "~"),
        ("note", "e"),
        ("decoration", "."),
        ("note", "f"),
        ("barline", ":|2"),
        ("barline", "[1"),
        ("barline", "||"),
        ("comment", "% end"),
    ]


def test_bar_lines_repeats_and_endings():
    line = "| || |] [| |: :| :: :|: |1 :|2 [2 |1,3 [|] ||: :|]"
    assert spans(line) == [("barline", bar) for bar in line.split()]


def test_accidentals_lengths_rests_and_tuplets():
    assert spans("^^c __B, =e' _E") == [
        ("accidental", "^^"),
        ("note", "c"),
        ("accidental", "__"),
        ("note", "B,"),
        ("accidental", "="),
        ("note", "e'"),
        ("accidental", "_"),
        ("note", "E"),
    ]
    assert spans("A2 B/2 c3/2 d/ e// x Z4") == [
        ("note", "A"),
        ("length", "2"),
        ("note", "B"),
        ("length", "/2"),
        ("note", "c"),
        ("length", "3/2"),
        ("note", "d"),
        ("length", "/"),
        ("note", "e"),
        ("length", "//"),
        ("rest", "x"),
        ("rest", "Z"),
        ("length", "4"),
    ]
    assert spans("(3:2:2ABc (3::2 (AB)") == [
        ("tuplet", "(3:2:2"),
        ("note", "A"),
        ("note", "B"),
        ("note", "c"),
        ("tuplet", "(3::2"),
        ("slur", "("),
        ("note", "A"),
        ("note", "B"),
        ("slur", ")"),
    ]
    assert spans("A>>B C<D") == [
        ("note", "A"),
        ("broken_rhythm", ">>"),
        ("note", "B"),
        ("note", "C"),
        ("broken_rhythm", "<"),
        ("note", "D"),
    ]


def test_decorations_inline_fields_and_annotations():
    assert spans('+fermata+A "^rit."B [M:3/4] [K:D] TcHd uv') == [
        ("decoration", "+fermata+"),
        ("note", "A"),
        ("chord_symbol", '"^rit."'),
        ("note", "B"),
        ("inline_field", "[M:3/4]"),
        ("inline_field", "[K:D]"),
        ("decoration", "T"),
        ("note", "c"),
        ("decoration", "H"),
        ("note", "d"),
        ("decoration", "u"),
        ("decoration", "v"),
    ]


def test_fields_lyrics_comments_and_continuations():
    assert spans("T: The Title  % a comment", in_body=False) == [
        ("field_key", "T:"),
        ("field_value", "The Title"),
        ("comment", "% a comment"),
    ]
    assert spans("w: la la- di da") == [("field_key", "w:"), ("lyrics", "la la- di da")]
    assert spans("W:Verse two", in_body=False) == [("field_key", "W:"), ("lyrics", "Verse two")]
    assert spans("%%MIDI program 1") == [("comment", "%%MIDI program 1")]
    assert spans("abc|\\") == [
        ("note", "a"),
        ("note", "b"),
        ("note", "c"),
        ("barline", "|"),
        ("line_continuation", "\\"),
    ]
    assert spans("K:") == [("field_key", "K:")]


def test_what_is_not_abc_is_an_error_token():
    assert spans("A # B") == [("note", "A"), ("error", "#"), ("note", "B")]
    assert spans("A 2") == [("note", "A"), ("error", "2")]  # a length needs its note
    assert spans("= A") == [("error", "="), ("note", "A")]  # an accidental needs its note
    assert spans("A \\ B") == [("note", "A"), ("error", "\\"), ("note", "B")]
    assert spans("A ! B") == [("note", "A"), ("error", "!"), ("note", "B")]
    assert spans("A B !") == [("note", "A"), ("note", "B"), ("line_continuation", "!")]


def test_unclosed_constructs_run_to_the_end_of_the_line():
    assert spans('A "Am B|') == [("note", "A"), ("chord_symbol", '"Am B|')]
    assert spans("[K:D A") == [("inline_field", "[K:D A")]
    assert spans("[CE A|") == [
        ("chord_bracket", "["),
        ("note", "C"),
        ("note", "E"),
        ("note", "A"),
        ("barline", "|"),
    ]


# -- line state ----------------------------------------------------------------------------------


def test_the_body_starts_at_k_and_ends_at_a_blank_line():
    lines = [
        ("X:1", False),
        ("T:Title", False),
        ("% a comment keeps the state", False),
        ("K:G", True),
        ("P:A", True),  # a field the body allows
        ("|:GABc dedB:|", True),
        ("K:D", True),  # a key change stays in the body
        ("", False),  # a blank line ends the tune
        ("T:Next", False),
        ("K:Am", True),
        ("X:2", False),  # a new tune without a blank line
    ]
    state = False
    for line, body_after in lines:
        _, state = lex_line(line, state)
        assert state is body_after, line


def test_a_letter_and_a_colon_before_a_bar_line_is_music_in_the_body():
    assert spans("A:Donegal", in_body=True) == [("field_key", "A:"), ("field_value", "Donegal")]
    assert spans("A:|", in_body=True) == [("note", "A"), ("barline", ":|")]
    assert spans("B::", in_body=True) == [("note", "B"), ("barline", "::")]
    assert spans("A:|", in_body=False) == [("field_key", "A:"), ("field_value", "|")]


def test_music_before_k_is_lexed_as_music():
    tokens, state = lex_line("GABc|", False)
    assert [t.kind for t in tokens] == ["note"] * 4 + ["barline"]
    assert state is False


def test_lex_gives_the_line_tokens_at_text_offsets():
    text = "X:1\nT:Tune\nK:G\nGAB|\n\nT:B\nGAB|"
    offset = 0
    expected = []
    state = False
    for line in text.split("\n"):
        tokens, state = lex_line(line, state)
        expected += [Token(t.kind, t.start + offset, t.end + offset) for t in tokens]
        offset += len(line) + 1
    assert lex(text) == expected
    # After the blank line "GAB|" is music in a header again, still lexed as notes.
    assert [text[t.start : t.end] for t in lex(text)][-4:] == ["G", "A", "B", "|"]


# -- any text ------------------------------------------------------------------------------------

ABCISH = st.text(
    alphabet=st.sampled_from(list("ABCDEFGabcdefgzxZ^_=,'/23|:[]()<>{}!+\"%-.~HTuvk#\\ \t\n`KXMw")),
    max_size=200,
)


def check_tokens(text: str, tokens: list[Token]) -> None:
    previous_end = 0
    covered = set()
    for token in tokens:
        assert token.kind in KINDS
        assert previous_end <= token.start < token.end <= len(text)
        previous_end = token.end
        covered.update(range(token.start, token.end))
    for i, ch in enumerate(text):
        if not ch.isspace() and ch != "`":
            assert i in covered, (i, ch)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), ABCISH))
def test_any_text_lexes_into_ordered_tokens_inside_it(text):
    check_tokens(text, lex(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.booleans())
def test_any_line_lexes_in_either_state(line, in_body):
    tokens, state = lex_line(line, in_body)
    assert isinstance(state, bool)
    check_tokens(line, tokens)
