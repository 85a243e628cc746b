"""A tokenizer for ABC notation that gives each token's kind and character span (Qt-free).

The editor's syntax highlighter colours these spans and the validator reads them. It is written
by hand because no library gives them: music21's ABC reader, abc2midi and verovio turn ABC into
music, but none hands back tokens with character offsets, which highlighting and underlining need.

The unit is one line, as a ``QSyntaxHighlighter`` sees one text block: :func:`lex_line` takes the
line and whether the tune body had started before it (the block state), and returns the tokens
and the state after the line. That one bool is all the state there is:

* a ``K:`` field line starts the body; an ``X:`` line starts a header; a blank line ends a tune
  (header again); every other line keeps the state;
* every ``letter:`` line is a field (in the body one that ABC allows only in the header, such
  as ``C:``, too: the validator reports it), except in the body before ``|`` or ``:``, where
  ``A:|`` is a note and a repeat;
* other lines are lexed as music, in the header too (music before ``K:``, which the validator
  reports).

Music is matched by one compiled regular expression of alternatives, tried at each position,
so a 60-character line of music takes about 40 µs (``tests/notation/test_notation_lexer.py``
measures it). Tokens come in order, never overlap and lie inside the line; whitespace (and the
backquote, which ABC 2.1 allows between notes) belongs to no token. A character that is not ABC
where it stands is an ``error`` token of its own; the lexer never raises.

Some ABC symbols outside the named kinds are folded into the nearest one: ``$`` (score line
break) and a ``!`` at the end of a line (a line break before ABC 2.0) are ``line_continuation``;
``&`` (voice overlay) and a lone ``:`` (abc2midi reads it as a bar line; it is also the second
half of a ``:|:`` split over two lines) are ``barline``; the letters ``H-W``, ``h-w`` that a
``U:`` field may define and the spacer ``y`` are ``decoration``. Unclosed constructs run to the
end of the line as one token (``"Am``, ``[K:D``), so the validator can report them at their
opening character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS: tuple[str, ...] = (
    "field_key",
    "field_value",
    "comment",
    "barline",
    "note",
    "accidental",
    "length",
    "rest",
    "chord_symbol",
    "decoration",
    "chord_bracket",
    "grace",
    "tuplet",
    "slur",
    "tie",
    "broken_rhythm",
    "inline_field",
    "lyrics",
    "line_continuation",
    "error",
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (one of :data:`KINDS`) and its span ``[start, end)`` in characters."""

    kind: str
    start: int
    end: int


# A field line: a letter (or "+", which continues the previous field) and a colon; in the body
# not before "|" or ":", where "A:|" is a note and a repeat.
_FIELD_LINE = re.compile(r"[A-Za-z+]:")
_BODY_FIELD_LINE = re.compile(r"[A-Za-z+]:(?![|:])")
# A field value ends at an unescaped "%" comment.
_FIELD_COMMENT = re.compile(r"(?<!\\)%")

# A note length: "2", "3/2", "/2", "/", "//".
_LENGTH = r"(?:\d+(?:/+\d*)?|/+\d*)"
# The ending number(s) right after a bar line: "|1", ":|2", "|1,3", "[1-3".
_ENDING = r"(?:\d+(?:[,-]\d+)*)?"

# The alternatives of music, in priority order (commonest first). Each starts with a literal or
# a character class, so the regex engine skips a non-matching one after one character check;
# an empty group named after the alternative's index, at its end, tells which one matched
# (`lastgroup` is the group that closed last).
_ALTERNATIVES: tuple[tuple[str, str], ...] = (
    (r"[A-Ga-g][,']*(?P<note_len>" + _LENGTH + r")?", "note"),
    (r"\|[|\]]*:*" + _ENDING, "barline"),  # | || |] |: ||: |1
    (r"[zxZX](?P<rest_len>" + _LENGTH + r")?", "rest"),
    (r'"[^"]*"?', "chord_symbol"),  # unclosed: to the end of the line
    (r"\](?P<close_len>" + _LENGTH + r")?", "chord_close"),
    (r"\(\d+(?::\d*(?::\d*)?)?", "tuplet"),  # (3 (3:2 (3:2:4 (3::2
    (r"[()]", "slur"),
    (r"(?:\^\^?|__?|=)[A-Ga-g][,']*(?P<acc_len>" + _LENGTH + r")?", "accidental_note"),
    (r"%.*", "comment"),
    (r"\[[A-Za-z]:[^\]]*\]?", "inline_field"),  # unclosed: to the end of the line
    (r"\[\|[|\]]*:*", "barline"),  # [| [|:
    (r"\[\d+(?:[,-]\d+)*", "barline"),  # [1 [2
    (r"\[", "chord_bracket"),
    # :| :: :|: :|] :|2; a lone ":" too, which players read as a bar line (it is also the
    # second half of a ":|:" split over two lines).
    (r":+(?:\[?\|[|\]]*:*)?" + _ENDING, "barline"),
    (r"&", "barline"),  # voice overlay
    (r"\{/?", "grace"),  # {/ is an acciaccatura
    (r"\}", "grace"),
    # ~ . H L M O P S T u v are defined by the standard; the other letters H-W, h-w can be given
    # a meaning with a U: field (the validator warns about undefined ones); y is a spacer.
    (r"[~.H-Wh-wy]", "decoration"),
    (r"![^!|\"\s]+!", "decoration"),
    (r"\+[^+|\"\s]+\+", "decoration"),
    (r">>*", "broken_rhythm"),
    (r"<<*", "broken_rhythm"),
    (r"-", "tie"),
    (r"\\(?=[ \t\r`]*(?:%|$))", "line_continuation"),  # only at the end of a line
    (r"\$", "line_continuation"),  # score line break
    (r"!(?=[ \t\r`]*(?:%|$))", "line_continuation"),  # a line break in ABC before 2.0
    (r"[\s\S]", "error"),  # anything else, one character at a time (even a stray newline)
)
_KIND_OF = {f"k{i}": kind for i, (_, kind) in enumerate(_ALTERNATIVES)}
# Whitespace (and the backquote) before a token is skipped by the same match, as group 1.
_SPACE = " \t\r`"
_MUSIC = re.compile(
    f"([{_SPACE}]*)(?:"
    + "|".join(f"{pattern}(?P<k{i}>)" for i, (pattern, _) in enumerate(_ALTERNATIVES))
    + ")"
)

# Equal tokens are shared: a frozen dataclass costs ~1.5 µs to build and a cache hit ~0.2 µs,
# which is most of a line's lexing time. Bounded; tokens are immutable, so sharing is safe.
_CACHE: dict[tuple[str, int, int], Token] = {}
_CACHE_SIZE = 50_000


def _token(kind: str, start: int, end: int) -> Token:
    key = (kind, start, end)
    token = _CACHE.get(key)
    if token is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        token = _CACHE[key] = Token(kind, start, end)
    return token


def _lex_music(line: str, tokens: list[Token]) -> None:
    """Append the tokens of ``line``, a line of music."""
    match = _MUSIC.match
    append = tokens.append
    end = len(line.rstrip(_SPACE))
    pos = 0
    while pos < end:
        m = match(line, pos)
        kind = _KIND_OF[m.lastgroup]
        start = m.end(1)  # after the whitespace
        pos = m.end()
        if kind == "note":
            split = m.start("note_len")
            if split < 0:
                append(_token("note", start, pos))
            else:
                append(_token("note", start, split))
                append(_token("length", split, pos))
        elif kind == "accidental_note":
            pitch = start + (2 if line[start + 1] in "^_" else 1)
            append(_token("accidental", start, pitch))
            split = m.start("acc_len")
            if split < 0:
                append(_token("note", pitch, pos))
            else:
                append(_token("note", pitch, split))
                append(_token("length", split, pos))
        elif kind == "rest" or kind == "chord_close":
            split = m.start("rest_len" if kind == "rest" else "close_len")
            kind = "rest" if kind == "rest" else "chord_bracket"
            if split < 0:
                append(_token(kind, start, pos))
            else:
                append(_token(kind, start, split))
                append(_token("length", split, pos))
        else:
            append(_token(kind, start, pos))


def _lex_field(line: str, tokens: list[Token]) -> None:
    """Append the tokens of a field line such as ``T:Title % comment``."""
    tokens.append(_token("field_key", 0, 2))
    comment = _FIELD_COMMENT.search(line, 2)
    value_end = comment.start() if comment else len(line)
    value = line[2:value_end]
    stripped = value.strip()
    if stripped:
        start = 2 + len(value) - len(value.lstrip())
        kind = "lyrics" if line[0] in "wW" else "field_value"
        tokens.append(_token(kind, start, start + len(stripped)))
    if comment:
        tokens.append(_token("comment", value_end, len(line.rstrip())))


def _is_field_line(line: str, in_body: bool) -> bool:
    """Tell whether ``line`` is an information field line (``T:``, ``K:``...) in this state."""
    return (_BODY_FIELD_LINE if in_body else _FIELD_LINE).match(line) is not None


def lex_line(line: str, in_body: bool) -> tuple[list[Token], bool]:
    """Tokens of one line (columns within it) and whether the tune body has started after it.

    ``in_body`` is the state after the previous line (False before the first line).
    """
    if not line or line.isspace():
        return [], False
    tokens: list[Token] = []
    if line[0] == "%":
        tokens.append(_token("comment", 0, len(line.rstrip())))
        return tokens, in_body
    if _is_field_line(line, in_body):
        _lex_field(line, tokens)
        letter = line[0]
        if letter == "K":
            return tokens, True
        if letter == "X":
            return tokens, False
        return tokens, in_body
    _lex_music(line, tokens)
    return tokens, in_body


def lex(text: str) -> list[Token]:
    """All tokens of ``text`` (lines split at ``\\n``), with offsets into ``text``."""
    tokens: list[Token] = []
    in_body = False
    offset = 0
    for line in text.split("\n"):
        line_tokens, in_body = lex_line(line, in_body)
        if offset:
            tokens.extend(Token(t.kind, t.start + offset, t.end + offset) for t in line_tokens)
        else:
            tokens.extend(line_tokens)
        offset += len(line) + 1
    return tokens
