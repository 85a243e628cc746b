"""Checking ABC text as a musician types it: problems with a place and plain words (Qt-free).

:func:`validate_abc` reads a tune (or a tunebook) with the line lexer of
:mod:`workbench.notation.abc_lexer` and reports

* header fields: unknown field letters, and values that are not what the field needs (``M:``,
  ``L:``, ``K:``, ``Q:``, ``X:``; inline fields such as ``[M:3/4]`` too);
* a tune without ``K:``, and music before its ``K:`` line;
* unclosed or stray chord brackets ``[ ]``, quotes ``"``, slurs ``( )``, grace groups ``{ }`` and
  inline fields, each at its opening character (a stray closer at itself);
* characters that are not ABC where they stand, and symbol letters (``k``, ``R``...) that no
  ``U:`` field defines;
* bars whose length does not match ``M:`` and ``L:`` (as warnings: players still play them).

Severities follow what players make of a tune: an ``error`` is something abc2midi, music21 or
verovio reject or misread; a ``warning`` is something they ignore or play anyway. Tunes are the
blank-line-separated paragraphs that hold a field line (or a new ``X:`` line); free text between
tunes is left alone. The editor runs this on a worker thread after each pause in typing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from workbench.notation.abc_lexer import Token, lex_line
from workbench.notation.meter import bar_lengths, parse_meter


@dataclass(frozen=True)
class AbcProblem:
    """One problem: 1-based ``line``, 0-based ``column`` .. ``end_column`` (exclusive)."""

    line: int
    column: int
    end_column: int
    message: str
    severity: str  # "error" | "warning"


ERROR = "error"
WARNING = "warning"

# The information fields of ABC 2.1 ("+:" continues the field above), and those it allows in
# a tune body (X: there starts the next tune).
_KNOWN_FIELDS = frozenset("ABCDFGHIKLMmNOPQRrSsTUVWwXZ+")
_BODY_FIELDS = frozenset("IKLMmNPQRrsTUVWw+")
# Single-letter symbols the standard defines; other letters in H-W, h-w need a U: field.
_PREDEFINED_SYMBOLS = frozenset("~.HLMOPSTuvy")

_NUMBER = re.compile(r"\d+")
_METER_DENOMINATOR = re.compile(r"/\s*(\d+)\s*$")
_UNIT = re.compile(r"(\d+)/(\d+)")
_TEMPO_BEATS = re.compile(r"(?:\d+/\d+\s*)*\d+/\d+\s*=\s*\d+|\d+|[A-G]\d*\s*=\s*\d+")
_QUOTED = re.compile(r'"[^"]*"')
_KEY = re.compile(r"([A-Ga-g])([#b]?)([A-Za-z]*)(.*)")
_ACCIDENTALS = re.compile(r"(?:(?:\^\^?|__?|=)[A-Ga-g])+")
# Modes count by their first three letters: major, minor, ionian, aeolian, dorian...
_MODES = frozenset({"maj", "min", "ion", "aeo", "dor", "phr", "lyd", "mix", "loc"})
_CLEFS = frozenset({"treble", "bass", "bass3", "alto", "alto1", "alto2", "tenor", "perc", "none"})
_KEY_SETTINGS = frozenset(
    {"clef", "middle", "transpose", "octave", "stafflines", "staffscale", "cue", "t", "m"}
)
# ABC 2.1 keeps these for future extensions and asks players to ignore them; abc2midi ignores
# them too (saying so). "#" is reserved as well, but it is an error here: it is a sharp written
# the wrong way, so the note after it would sound natural.
_RESERVED = frozenset("*;?@")
_USER_SYMBOL = re.compile(r"\s*([H-Wh-w~])\s*=")


def _is_mode(word: str) -> bool:
    """Mode words: "" (major), "m", or a mode whose first three letters are given."""
    word = word.lower()
    return word in ("", "m") or word[:3] in _MODES


def is_power_of_two(n: int) -> bool:
    """Whether `n` can be a note length's or a meter's denominator in ABC (1, 2, 4, 8...)."""
    return n > 0 and n & (n - 1) == 0


def _check_meter(value: str) -> str | None:
    if value.lower() == "none" or parse_meter(value) is not None:
        return None
    return f"M:{value} is not a meter; write it like M:6/8, M:C, M:C| or M:none"


def _check_unit_length(value: str) -> str | None:
    match = _UNIT.fullmatch("".join(value.split()))
    if match and int(match.group(1)) > 0 and is_power_of_two(int(match.group(2))):
        return None
    return f"L:{value} is not a note length; write it like L:1/8 or L:1/16"


def _check_tempo(value: str) -> str | None:
    rest = _QUOTED.sub(" ", value).strip()
    if (not rest and '"' in value) or _TEMPO_BEATS.fullmatch(rest):
        return None
    return f'Q:{value} is not a tempo; write it like Q:1/4=120 or Q:"Allegro" 3/8=100'


def _in_beats(duration: Fraction, meter: str) -> str:
    """``duration`` (of a whole note) in the meter's beats: 7/8 in 6/8, 5/4 in C, 3/2 in C|."""
    match = _METER_DENOMINATOR.search(meter)
    # With no denominator: C (common time) counts in quarters, C| (cut time) in halves; the bar
    # scanner reads "C |" as C| (it drops all spaces), so the message must too.
    cut_time = "".join(meter.split()).upper() == "C|"
    beat = int(match.group(1)) if match else 2 if cut_time else 4
    count = duration * beat
    if beat and count.denominator == 1:
        return f"{count.numerator}/{beat}"
    return str(duration)


def _check_key(value: str) -> tuple[str, str] | None:
    """(message, severity) for a K: value that is not a key, or None when it is one."""
    words = value.split()
    if not words:
        return "K: is empty; it must name the key, e.g. K:G, K:Dm or K:A dorian", ERROR
    first = words[0]
    rest = words[1:]
    if first.lower() in _CLEFS or first.partition("=")[0].lower() in _KEY_SETTINGS:
        rest = words  # a clef only: the key stays C
    elif first in ("HP", "Hp"):
        pass  # Highland bagpipe
    else:
        match = _KEY.fullmatch(first)
        if match is None:
            if first[0] in "Hh":
                return f"K:{value}: H is not a key letter in ABC; the German H is written B", ERROR
            return (
                f"K:{value}: {first} is not a key; write the keynote A-G, then # or b, then "
                "the mode, e.g. K:G, K:F#m, K:Bb, K:A dorian",
                ERROR,
            )
        tonic, _sharp_flat, mode, tail = match.groups()
        if tonic.islower():
            return f"K:{value}: write the keynote as a capital letter (K:{tonic.upper()})", ERROR
        if not _is_mode(mode):
            return (
                f"K:{value}: {mode} is not a mode; use m (minor), major, dorian, phrygian, "
                "lydian, mixolydian, aeolian or locrian",
                ERROR,
            )
        if tail and not _ACCIDENTALS.fullmatch(tail):
            return f"K:{value}: {tail} is not an accidental like ^f or _b", ERROR
        if not mode and rest and _is_mode(rest[0]):
            rest = rest[1:]  # the mode as a word of its own: "A Dorian", "A m"
    for word in rest:
        name = word.partition("=")[0].lower()
        clef = word.lower().rstrip("+-8")
        if _ACCIDENTALS.fullmatch(word) or word.lower() == "exp" or clef in _CLEFS:
            continue
        if "=" in word and name in _KEY_SETTINGS:
            continue
        return f"K:{value}: {word} is not understood here; players ignore it", WARNING
    return None


def _value_of(line: str, tokens: list[Token]) -> tuple[str, int, int]:
    """The value of a field line without its comment, and its column span (the key's if empty)."""
    for token in tokens:
        if token.kind in ("field_value", "lyrics"):
            return line[token.start : token.end], token.start, token.end
    return "", 0, 2


class _Checker:
    """Collects problems while walking the lines of one text."""

    def __init__(self, lines: list[str], tokens: list[list[Token]]) -> None:
        self.lines = lines
        self.tokens = tokens
        self.problems: list[AbcProblem] = []
        # The M: fields of the tune being checked: (line index, column, value), in order.
        self.meters: list[tuple[int, int, str]] = []

    def add(self, index: int, start: int, end: int, message: str, severity: str = ERROR) -> None:
        self.problems.append(AbcProblem(index + 1, start, max(end, start + 1), message, severity))

    # -- fields ---------------------------------------------------------------------------------

    def field(self, index: int, letter: str, value: str, start: int, end: int) -> None:
        """Check one field's value (from a field line or an inline field)."""
        message: str | None = None
        severity = ERROR
        if letter not in _KNOWN_FIELDS:
            message = f"{letter}: is not an ABC field; players ignore this line"
            severity = WARNING
        elif letter == "X":
            if not _NUMBER.fullmatch(value):
                message = f"X:{value} must be the tune's number, e.g. X:1"
        elif letter == "M":
            message = _check_meter(value)
            self.meters.append((index, start, value))
        elif letter == "L":
            message = _check_unit_length(value)
        elif letter == "Q":
            message = _check_tempo(value)
        elif letter == "K":
            found = _check_key(value)
            if found:
                message, severity = found
        if message:
            self.add(index, start, end, message, severity)

    # -- music ----------------------------------------------------------------------------------

    def music(self, index: int, symbols: set[str], slurs: list[tuple[int, int]]) -> None:
        """Check the tokens of a music line; ``slurs`` holds the tune's open ``(`` (line, col)."""
        line = self.lines[index]
        chord: int | None = None  # column of an open "["
        grace: int | None = None  # column of an open "{"
        error_start = error_end = -1
        for token in self.tokens[index]:
            kind, start, end = token.kind, token.start, token.end
            if kind == "error":
                if start == error_end:
                    error_end = end  # one problem for a run of bad characters
                    continue
                self._bad(index, error_start, error_end)
                error_start, error_end = start, end
                continue
            if kind == "barline":
                # A chord or grace group ends within its bar.
                if chord is not None:
                    self._unclosed_chord(index, chord)
                    chord = None
                if grace is not None:
                    self._unclosed_grace(index, grace)
                    grace = None
            elif kind == "chord_bracket":
                if line[start] == "[":
                    if chord is not None:
                        self._unclosed_chord(index, chord)
                    chord = start
                elif chord is None:
                    self.add(index, start, start + 1, "] closes no chord (a chord is [CEG])")
                else:
                    chord = None
            elif kind == "grace":
                if line[start] == "{":
                    if grace is not None:
                        self._unclosed_grace(index, grace)
                    grace = start
                elif grace is None:
                    self.add(index, start, end, "} closes no grace notes (they are {ga})")
                else:
                    grace = None
            elif kind == "slur":
                if line[start] == "(":
                    slurs.append((index, start))
                elif slurs:
                    slurs.pop()
                else:
                    self.add(index, start, end, ") ends a slur that was never started", WARNING)
            elif kind == "chord_symbol":
                if end - start < 2 or line[end - 1] != '"':
                    self.add(index, start, start + 1, 'this chord symbol or text has no closing "')
            elif kind == "inline_field":
                text = line[start:end]
                if not text.endswith("]"):
                    self.add(
                        index, start, start + 3, f"the inline field {text[:3]} has no closing ]"
                    )
                else:
                    self.field(index, text[1], text[3:-1].strip(), start, end)
            elif kind == "decoration" and end - start == 1 and line[start] not in symbols:
                self.add(
                    index,
                    start,
                    end,
                    f"{line[start]} is a symbol letter that no U: field defines; players ignore it",
                    WARNING,
                )
        self._bad(index, error_start, error_end)
        if chord is not None:
            self._unclosed_chord(index, chord)
        if grace is not None:
            self._unclosed_grace(index, grace)

    def _unclosed_chord(self, index: int, column: int) -> None:
        self.add(index, column, column + 1, "this chord [ is not closed with ] within its bar")

    def _unclosed_grace(self, index: int, column: int) -> None:
        self.add(index, column, column + 1, "these grace notes { are not closed with } in the bar")

    def _bad(self, index: int, start: int, end: int) -> None:
        """Report the run of characters the lexer found no meaning for."""
        if start < 0:
            return
        text = self.lines[index][start:end]
        first = text[0]
        severity = ERROR
        if first in "!+":
            message = f"{first} starts a decoration like {first}trill{first} but is never closed"
        elif first == "\\":
            message = "\\ continues a line only at the end of the line"
        elif first.isdigit() or first == "/":
            message = (
                f"{text} is a note length with no note before it (write A{text}, not A {text})"
            )
        elif first in "^_=":
            message = f"the accidental {first} must stand right before a note, as in {first}f"
        elif first == "#":
            message = "# is not ABC: a sharp is written ^ before the note, as in ^F"
        elif first in _RESERVED:
            message = f"{first} is reserved in ABC for future use; players ignore it"
            severity = WARNING
        else:
            message = f"{text} is not ABC music"
        self.add(index, start, end, message, severity)

    # -- tunes ----------------------------------------------------------------------------------

    def tune(self, first: int, stop: int) -> None:
        """Check the tune on lines ``first`` .. ``stop - 1``."""
        in_header = True
        music_before_key: int | None = None
        last_header = first
        symbols = set(_PREDEFINED_SYMBOLS)
        slurs: list[tuple[int, int]] = []
        self.meters = []
        for index in range(first, stop):
            line = self.lines[index]
            tokens = self.tokens[index]
            # A line of only a comment (indented or not) is neither header nor music.
            if not tokens or tokens[0].kind == "comment":
                continue
            if tokens[0].kind == "field_key":
                letter = line[0]
                value, start, end = _value_of(line, tokens)
                if in_header:
                    last_header = index
                elif letter in _KNOWN_FIELDS and letter not in _BODY_FIELDS:
                    # ABC allows it only above K:; abc2midi rejects it, others read it.
                    self.add(
                        index,
                        0,
                        2,
                        f"{letter}: belongs in the header, above the K: line; abc2midi rejects "
                        "it in the music",
                        WARNING,
                    )
                    continue
                self.field(index, letter, value, start, end)
                if letter == "U":
                    symbol = _USER_SYMBOL.match(value)
                    if symbol:
                        symbols.add(symbol.group(1))
                if letter == "K":
                    in_header = False
                continue
            if in_header:
                # Not read as music: one "no K:" problem says more than its characters would.
                if music_before_key is None:
                    music_before_key = index
                continue
            self.music(index, symbols, slurs)
        for index, column in slurs:
            self.add(index, column, column + 1, "this slur ( is never closed with )", WARNING)
        if in_header:
            if music_before_key is not None:
                self.add(
                    music_before_key,
                    0,
                    len(self.lines[music_before_key]),
                    "the tune has no K: field: the music seems to start here, so put its "
                    "key (e.g. K:G) on a line just above",
                )
            else:
                self.add(
                    last_header,
                    0,
                    len(self.lines[last_header]),
                    "the tune has no K: field: its header must end with the key, e.g. K:G",
                )
        elif music_before_key is not None:
            self.add(
                music_before_key,
                0,
                len(self.lines[music_before_key]),
                "music before the K: field: the header must end with K: before the first "
                "line of music",
            )
        if not in_header:
            self.bars(first, stop)

    def bars(self, first: int, stop: int) -> None:
        """Warn about the bars of the tune on lines ``first`` .. ``stop - 1`` that do not fit."""
        bars = bar_lengths("\n".join(self.lines[first:stop]))
        # Musicians count a pickup as bar 0 and the first full bar as bar 1.
        pickup = bool(bars) and bars[0].expected is not None and bars[0].duration < bars[0].expected
        for bar in bars:
            if bar.fits or bar.expected is None:
                continue
            number = bar.index if pickup else bar.index + 1
            index = first + bar.line - 1
            meter = ""
            for line, column, value in self.meters:
                if (line, column) > (index, bar.column):
                    break
                meter = value
            has = _in_beats(bar.duration, meter or "4/4")
            needs = _in_beats(bar.expected, meter or "4/4")
            if meter:
                message = f"bar {number} has {has} but M:{meter} needs {needs}"
            else:
                message = f"bar {number} has {has} but needs {needs} (no M:, so 4/4)"
            self.add(index, bar.column, bar.end_column, message, WARNING)


def _paragraphs(lines: list[str], tokens: list[list[Token]]) -> list[tuple[int, int]]:
    """(first, stop) line ranges of the runs of non-blank lines, also split before X: fields."""
    paragraphs: list[tuple[int, int]] = []
    first: int | None = None
    for index, line in enumerate(lines):
        blank = not line.strip()
        # Only an X: the lexer read as a field starts a tune: in the music "X:|" is an
        # invisible rest and a repeat.
        new_tune = line.startswith("X:") and tokens[index][0].kind == "field_key"
        if first is not None and (blank or new_tune):
            paragraphs.append((first, index))
            first = None
        if first is None and not blank:
            first = index
    if first is not None:
        paragraphs.append((first, len(lines)))
    return paragraphs


def _has(tokens: list[list[Token]], first: int, stop: int, kind: str) -> bool:
    """Whether a token of ``kind`` is on lines ``first`` .. ``stop - 1``."""
    return any(token.kind == kind for line in tokens[first:stop] for token in line)


def _line_starts(tokens: list[list[Token]], first: int, stop: int) -> set[str]:
    """The kinds of the first tokens of lines ``first`` .. ``stop - 1``."""
    return {line[0].kind for line in tokens[first:stop] if line}


def validate_abc(text: str) -> list[AbcProblem]:
    """The problems of the ABC ``text`` (one tune or several), sorted by position."""
    lines = text.replace("\r\n", "\n").split("\n")
    tokens: list[list[Token]] = []
    in_body = False
    for line in lines:
        line_tokens, in_body = lex_line(line, in_body)
        tokens.append(line_tokens)
    checker = _Checker(lines, tokens)
    paragraphs = _paragraphs(lines, tokens)
    # A tune is a paragraph with a field line; the others are free text, unless there are no
    # fields at all: then music alone is a tune without its header.
    tunes = [p for p in paragraphs if "field_key" in _line_starts(tokens, *p)]
    if not tunes:
        tunes = [p for p in paragraphs if _line_starts(tokens, *p) - {"comment"}]
    for first, stop in tunes:
        checker.tune(first, stop)
    for first, stop in paragraphs:
        # Bar lines and nothing unreadable, after a tune: music cut off by a blank line.
        if (
            tunes
            and tunes[0][0] < first
            and (first, stop) not in tunes
            and _has(tokens, first, stop, "barline")
            and not _has(tokens, first, stop, "error")
        ):
            checker.add(
                first,
                0,
                len(lines[first]),
                "a blank line ends a tune, so this music belongs to no tune (remove the blank "
                "line above it)",
                WARNING,
            )
    return sorted(checker.problems, key=lambda p: (p.line, p.column, p.end_column, p.message))


__all__ = ["ERROR", "WARNING", "AbcProblem", "validate_abc"]
