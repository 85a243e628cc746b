"""The ABC text music21 reads: repairs of what its ABC reader gets wrong, and abc2midi's order.

Comparing the app's MIDI with abc2midi's (`workbench.notation.midi_compare`,
`benchmarks/midi_agreement.py`) found music21 (9.x and 10.x) misreading ABC that abc2midi, the
ABC 2.1 standard and a folk musician read alike. Each repair below rewrites the tune's text,
found with the lexer (`workbench.notation.abc_lexer`), before music21 parses it:

* ``%abc-2.1`` is declared: music21 reads text without that line as ABC 1.x, where an accidental
  does not carry through the bar (music21 reads the version for nothing else: its ABC reader
  consults it only in `_accidentalPropagation`);
* lines of music before ``K:`` (a field without its colon) are dropped, as abc2midi ignores
  them (music21 read them as notes), and so are ``V:`` fields there (music21 made an empty
  part of each, and then could not write MIDI);
* ``L:1/8`` is added when the header has neither ``L:`` nor ``M:`` (the standard's default;
  music21 refuses the notes otherwise);
* inline ``[K:]``, ``[L:]``, ``[M:]``, ``[Q:]`` fields become field lines: music21 ignores them;
* ``H`` (the fermata shorthand) deleted the note it decorates: it becomes ``!fermata!``; other
  one-letter decorations music21 does not know (``J``, ``W``, ``p``...: user-defined with
  ``U:``) became notes of their own and are dropped; ``T``, ``~``, ``L``, ``O``, ``P``, ``S``
  right before an accidental (``T^c3 B/c/``) kept it from carrying through the bar: they are
  written in their long form (``!trill!^c3``);
* annotations (``"^text"``, ``"<text"``, ``">"``...: text, not chords) are dropped: ``">"``
  deleted the next note;
* ``x`` (an invisible rest) took no time: it becomes ``z``; ``Z4`` (four bars of rest, §4.5) took
  no time: it becomes four bars of ``z`` (the bar length from ``M:``, 4/4 without one, as
  abc2midi);
* a tie between different pitches (``A4-B2``: many O'Neill's tunes write slurs that way) made
  music21 swallow the second note: that tie is dropped, and both notes play;
* a broken rhythm with a slur, dot, grace group or the like between its notes (``G>(FG)``,
  ``G>.F``) was played even: its lengths are written out (``G3/2(F/2G)``); one between notes
  of unequal length (``d>c/``, ``A2>B``), which abc2midi does not apply, is dropped
  (:func:`_broken_rhythms_spelled_out`: here the app follows abc2midi, not the standard);
* grace notes inside a tuplet are counted out of it (:func:`_tuplets_counting_graces`);
* with ``played``: repeats, endings and a ``P:`` play order are written out in the order
  abc2midi plays them (`workbench.notation.play_order`); music21 then reads a tune with no
  repeats left, as it plays.

:class:`SourcedText` keeps, for every character of the rewritten text, the characters of the
tune it came from, so a note music21 reads can be traced to the characters that wrote it (the
player's follow-along cues, `workbench.playback.follow`), also where a rewrite adds notes (a
multi-bar rest as bars of rests) or plays them twice (repeats written out). Nothing here imports
music21 or Qt.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from workbench.notation.abc_lexer import Token, lex
from workbench.notation.play_order import ENDING, PART, play_order, voice_bodies

VERSION_LINE = "%abc-2.1\n"


@dataclass(frozen=True, slots=True)
class SourcedText:
    """A rewritten tune text and, per character, the span of the original text it came from.

    Characters copied from the original map to themselves; inserted or replacing characters to
    the characters they replace (an insertion: an empty span where it was made).
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SourcedText:
        return cls(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind ``text[start:end]`` (one span that covers them)."""
        if start >= end:
            at = self.starts[start] if start < len(self.starts) else self._end()
            return at, at
        return min(self.starts[start:end]), max(self.ends[start:end])

    def _end(self) -> int:
        return max(self.ends) if self.ends else 0


class _Builder:
    """Builds a :class:`SourcedText` from pieces of another one and new text."""

    def __init__(self, source: SourcedText) -> None:
        self.source = source
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.tail = ""  # the end of the text written so far (for line checks)

    def copy(self, start: int, end: int, source: SourcedText | None = None) -> None:
        """Copy ``text[start:end]`` of the source (or of another text made from the same)."""
        source = self.source if source is None else source
        piece = source.text[start:end]
        self.parts.append(piece)
        self.starts.extend(source.starts[start:end])
        self.ends.extend(source.ends[start:end])
        self.tail = (self.tail + piece)[-200:]

    def put(self, text: str, start: int, end: int) -> None:
        """Write ``text`` for the source characters ``[start, end)`` (an empty span: inserted)."""
        origin = self.source.source_span(start, end)
        self.parts.append(text)
        self.starts.extend([origin[0]] * len(text))
        self.ends.extend([origin[1]] * len(text))
        self.tail = (self.tail + text)[-200:]

    def at_line_start(self) -> bool:
        """Whether the current line holds nothing yet (a newline written now makes it blank)."""
        return not self.tail.rsplit("\n", 1)[-1].strip() and (not self.tail or "\n" in self.tail)

    def build(self) -> SourcedText:
        return SourcedText("".join(self.parts), tuple(self.starts), tuple(self.ends))


def _edited(source: SourcedText, edits: Sequence[tuple[int, int, str]]) -> SourcedText:
    """``source`` with each ``(start, end, text)`` replacement made (non-overlapping)."""
    if not edits:
        return source
    out = _Builder(source)
    at = 0
    for start, end, text in sorted(edits):
        out.copy(at, start)
        out.put(text, start, end)
        at = end
    out.copy(at, len(source.text))
    return out.build()


# -- small repairs --------------------------------------------------------------------------


def _declare_abc21(source: SourcedText) -> SourcedText:
    """Put ``%abc-2.1`` first: music21 looks for a version in the first 100 characters."""
    return _edited(source, [(0, 0, VERSION_LINE)])


def _header_cleaned(source: SourcedText) -> SourcedText:
    """Drop lines before ``K:`` that are neither fields nor comments, and ``V:`` fields there.

    abc2midi ignores music in the header (``I (1) :| (2) ||``, an ``I:`` field without its
    colon), which music21 read as a tuplet; a ``V:`` field in the header made music21 add an
    empty part, on which its MIDI writer failed ("cannot process repeats on Stream that does not
    contain measures"). The voices' music, after ``K:``, makes their parts.
    """
    text = source.text
    key = re.search(r"^K:", text, re.MULTILINE)
    if key is None:
        return source
    edits = []
    for line in re.finditer(r"^.*\n", text[: key.start()], re.MULTILINE):
        music = line.group().strip() and not re.match(r"[A-Za-z+]:|%", line.group())
        if music or line.group().startswith("V:"):
            edits.append((line.start(), line.end(), ""))
    return _edited(source, edits)


def _with_unit_length(source: SourcedText) -> SourcedText:
    """Add ``L:1/8`` before ``K:`` when the header has neither ``L:`` nor ``M:`` (ABC default)."""
    text = source.text
    key = re.search(r"^K:", text, re.MULTILINE)
    if key is None or re.search(r"^[LM]:", text[: key.start()], re.MULTILINE):
        return source  # not a tune per the standard, or it has its own unit length
    return _edited(source, [(key.start(), key.start(), "L:1/8\n")])


_LINE_FIELDS = ("[K:", "[L:", "[M:", "[Q:")


def _inline_fields_as_lines(source: SourcedText) -> SourcedText:
    """``abc [K:D] def`` -> ``abc \\nK:D\\ndef``: music21 ignores inline fields, not field lines."""
    text = source.text
    edits = []
    for token in lex(text):
        piece = text[token.start : token.end]
        if token.kind != "inline_field" or not piece.startswith(_LINE_FIELDS):
            continue
        start, end = token.start, token.end
        line_start = text.rfind("\n", 0, start) + 1
        alone_before = not text[line_start:start].strip()
        rest = re.match(r"[ \t\r]*(?:\n|$)", text[end:])
        if alone_before:  # a field line starts in column 0
            start = line_start
        if rest:  # nothing after it on its line: no new line (a blank one would end the tune)
            end += len(rest.group().rstrip("\n"))
        field = piece[1:].rstrip("]")
        edits.append((start, end, ("" if alone_before else "\n") + field + ("" if rest else "\n")))
    return _edited(source, edits)


# The decorations music21 reads as such; H is the fermata, which music21 drops with its note.
_KNOWN_LETTERS = frozenset("~.TLMOPSuv")


# The standard's long forms (ABC 2.1, §4.14) of the letters that, right before an accidental
# (``T^c3``), keep music21 from carrying that accidental through the bar (its propagation reads
# the note's text, letter included); written long (``!trill!^c3``) it carries, and music21
# keeps neither form's mark in its score, so nothing else changes.
_LONG_FORMS = {
    "~": "!roll!",
    "T": "!trill!",
    "L": "!emphasis!",
    "O": "!coda!",
    "P": "!uppermordent!",
    "S": "!segno!",
}


def _letter_decorations(source: SourcedText) -> SourcedText:
    """``H`` -> ``!fermata!``; drop one-letter decorations music21 would read as notes; write
    the long form of one right before an accidental (see :data:`_LONG_FORMS`)."""
    text = source.text
    tokens = lex(text)
    edits = []
    for i, token in enumerate(tokens):
        piece = text[token.start : token.end]
        if token.kind != "decoration" or len(piece) != 1:
            continue
        if piece not in _KNOWN_LETTERS:
            edits.append((token.start, token.end, "!fermata!" if piece == "H" else ""))
        elif piece in _LONG_FORMS and i + 1 < len(tokens):
            after = tokens[i + 1]
            if after.kind == "accidental" and after.start == token.end:
                edits.append((token.start, token.end, _LONG_FORMS[piece]))
    return _edited(source, edits)


def _annotations_dropped(source: SourcedText) -> SourcedText:
    """Drop ``"^text"``-style annotations (placed text, not chords: ``">"`` ate a note)."""
    text = source.text
    edits = [
        (t.start, t.end, "")
        for t in lex(text)
        if t.kind == "chord_symbol" and text[t.start + 1 : t.start + 2] in ("^", "_", "<", ">", "@")
    ]
    return _edited(source, edits)


# -- lengths and the fields that set them ---------------------------------------------------


def parse_length(piece: str) -> Fraction:
    """A note length as written: ``""`` 1, ``"3"``, ``"3/2"``, ``"/"`` 1/2, ``"//"`` 1/4."""
    match = re.fullmatch(r"(\d*)(/*)(\d*)", piece)
    if match is None:
        return Fraction(1)
    num = int(match.group(1) or 1)
    slashes = len(match.group(2))
    if not slashes:
        return Fraction(num)
    den = int(match.group(3)) * 2 ** (slashes - 1) if match.group(3) else 2**slashes
    return Fraction(num, den or 1)


def format_length(length: Fraction) -> str:
    if length == 1:
        return ""
    if length.denominator == 1:
        return str(length.numerator)
    if length.numerator == 1:
        return f"/{length.denominator}"
    return f"{length.numerator}/{length.denominator}"


def _meter(value: str) -> Fraction | None:
    """``M:`` as a bar length in whole notes: ``6/8``, ``C`` (4/4), ``C|`` (2/2), ``2+3/8``."""
    value = value.split("%", 1)[0].strip()
    if value in ("C", "C|"):
        return Fraction(1)
    match = re.fullmatch(r"\(?([\d+ ]+)\)?\s*/\s*(\d+)", value)
    if match is None:
        return None
    top = sum(int(n) for n in re.findall(r"\d+", match.group(1)))
    return Fraction(top, int(match.group(2))) if int(match.group(2)) else None


class _Fields:
    """The ``M:`` and ``L:`` in force while walking a tune's tokens in order."""

    def __init__(self) -> None:
        self.meter: Fraction | None = None
        self.unit: Fraction | None = None
        self.header_meter: Fraction | None = None
        self.in_body = False

    def see(self, text: str, tokens: Sequence[Token], i: int) -> None:
        key = text[tokens[i].start]
        value = ""
        if i + 1 < len(tokens) and tokens[i + 1].kind == "field_value":
            value = text[tokens[i + 1].start : tokens[i + 1].end]
        if key == "M":
            self.meter = _meter(value)
            if not self.in_body:
                self.header_meter = self.meter
        elif key == "L":
            unit = _meter(value)
            self.unit = unit if unit else self.unit
        elif key == "K":
            self.in_body = True

    def bar_in_units(self) -> Fraction:
        """A bar's length in unit notes; abc2midi takes 4/4 for a tune without a meter."""
        unit = self.unit
        if unit is None:
            small = self.header_meter is not None and self.header_meter < Fraction(3, 4)
            unit = Fraction(1, 16) if small else Fraction(1, 8)
        return (self.meter or Fraction(1)) / unit


def _rests_written_out(source: SourcedText) -> SourcedText:
    """``x`` -> ``z`` (an invisible rest takes its time); ``Z4``/``X4`` -> four bars of ``z``."""
    text = source.text
    tokens = lex(text)
    fields = _Fields()
    edits = []
    for i, token in enumerate(tokens):
        if token.kind == "field_key":
            fields.see(text, tokens, i)
            continue
        if token.kind != "rest" or text[token.start] == "z":
            continue
        if text[token.start] == "x":
            edits.append((token.start, token.end, "z"))
            continue
        has_length = i + 1 < len(tokens) and tokens[i + 1].kind == "length"
        bars = int(parse_length(text[tokens[i + 1].start : tokens[i + 1].end])) if has_length else 1
        bar = "z" + format_length(fields.bar_in_units())
        end = tokens[i + 1].end if has_length else token.end
        edits.append((token.start, end, "|".join([bar] * max(bars, 1))))
    return _edited(source, edits)


# -- ties and broken rhythms ----------------------------------------------------------------

# Tokens that may stand between the two notes of a tie or broken rhythm (O'Neill's writes
# `g>-f` and `b-<g`: a broken rhythm and a tie, used as a slur, on the same two notes).
_BETWEEN = frozenset({"slur", "decoration", "chord_symbol"})
_BETWEEN_TIED = _BETWEEN | {"broken_rhythm"}
_BETWEEN_BROKEN = _BETWEEN | {"tie"}
_ACROSS_LINES = frozenset({"comment", "line_continuation", "field_key", "field_value", "lyrics"})


def _ties_between_pitches_dropped(source: SourcedText) -> SourcedText:
    """Drop each tie whose two notes differ in pitch (``A4-B2``): music21 would merge them.

    A tie right after a grace group (``{d}-c``) goes too: a grace note is not tied to the note
    it ornaments, and music21 merged the two into one long note.
    """
    text = source.text
    tokens = lex(text)
    edits = []
    for i, token in enumerate(tokens):
        if token.kind != "tie":
            continue
        before = _note_ending_at(text, tokens, i - 1)
        after = _note_starting_after(text, tokens, i + 1)
        after_grace = i > 0 and _closes_grace(text, tokens[i - 1])
        two_notes = before is not None and after is not None
        if after_grace or (two_notes and _differ(text, tokens, before, after)):
            edits.append((token.start, token.end, ""))
    return _edited(source, edits)


def _note_ending_at(text: str, tokens: Sequence[Token], k: int) -> int | None:
    """The index of the single note (not a chord's) whose last token is ``tokens[k]``."""
    while k >= 0 and tokens[k].kind in _BETWEEN_TIED:
        k -= 1
    if k >= 0 and tokens[k].kind == "length":
        k -= 1
    if k < 0 or tokens[k].kind != "note" or _inside_group(text, tokens, k):
        return None  # a chord's "]" ends [GB]-: the tie is the chord's
    return k


def _note_starting_after(text: str, tokens: Sequence[Token], k: int) -> int | None:
    """The index of the next single note from ``tokens[k]`` on (bar lines may come between)."""
    while k < len(tokens) and tokens[k].kind in _BETWEEN_TIED | _ACROSS_LINES | {"barline"}:
        k += 1
    if k < len(tokens) and tokens[k].kind == "accidental":
        k += 1
    if k >= len(tokens) or tokens[k].kind != "note" or _inside_group(text, tokens, k):
        return None
    return k


def _inside_group(text: str, tokens: Sequence[Token], k: int) -> bool:
    """Whether ``tokens[k]`` stands inside a chord ``[...]`` or a grace group ``{...}``."""
    for j in range(k - 1, max(k - 60, -1), -1):
        if tokens[j].kind in ("chord_bracket", "grace"):
            return text[tokens[j].start] in "[{"
        if tokens[j].kind in ("barline", "rest", "tie", "broken_rhythm", "tuplet"):
            return False
    return False


def _differ(text: str, tokens: Sequence[Token], first: int, second: int) -> bool:
    """Whether two notes are written at different pitches: another letter or octave, or two
    different accidentals (``F-^F`` may be one pitch, in G major)."""
    a, b = tokens[first], tokens[second]
    if text[a.start : a.end] != text[b.start : b.end]:
        return True
    accidentals = [_accidental(text, tokens, k) for k in (first, second)]
    return all(accidentals) and accidentals[0] != accidentals[1]


def _accidental(text: str, tokens: Sequence[Token], k: int) -> str:
    if k > 0 and tokens[k - 1].kind == "accidental" and tokens[k - 1].end == tokens[k].start:
        return text[tokens[k - 1].start : tokens[k - 1].end]
    return ""


@dataclass(frozen=True, slots=True)
class _Element:
    """A note, rest or chord: the tokens ``first..last`` and where its length is written."""

    first: int
    last: int
    length_at: tuple[int, int]  # the span of its length (empty: where one would go)
    length: Fraction
    chord: bool = False


def _element_before(text: str, tokens: Sequence[Token], k: int) -> _Element | None:
    while k >= 0 and tokens[k].kind in _BETWEEN_BROKEN:
        k -= 1
    if k < 0:
        return None
    last = k
    length_at = (tokens[k].end, tokens[k].end)
    if tokens[k].kind == "length":
        length_at = (tokens[k].start, tokens[k].end)
        k -= 1
    token = tokens[k] if k >= 0 else None
    if token is None:
        return None
    if token.kind == "chord_bracket" and text[token.start] == "]":
        first = next((j for j in range(k - 1, -1, -1) if tokens[j].kind == "chord_bracket"), None)
        if first is None or text[tokens[first].start] != "[":
            return None
    elif token.kind in ("note", "rest") and not _inside_group(text, tokens, k):
        first = k - (k > 0 and tokens[k - 1].kind == "accidental")
    else:
        return None
    chord = tokens[first].kind == "chord_bracket"
    length = parse_length(text[length_at[0] : length_at[1]])
    return _Element(first, last, length_at, length, chord)


def _element_after(text: str, tokens: Sequence[Token], k: int) -> _Element | None:
    while k < len(tokens):
        if tokens[k].kind == "grace" and text[tokens[k].start] == "{":
            while k < len(tokens) and not _closes_grace(text, tokens[k]):
                k += 1
        elif tokens[k].kind not in _BETWEEN_BROKEN:
            break
        k += 1
    if k >= len(tokens):
        return None
    first = k
    if tokens[k].kind == "accidental":
        k += 1
    token = tokens[k] if k < len(tokens) else None
    if token is None:
        return None
    if token.kind == "chord_bracket" and text[token.start] == "[":
        k = next((j for j in range(k + 1, len(tokens)) if tokens[j].kind == "chord_bracket"), -1)
        if k < 0 or text[tokens[k].start] != "]":
            return None
    elif token.kind not in ("note", "rest"):
        return None
    if k + 1 < len(tokens) and tokens[k + 1].kind == "length":
        length_at = (tokens[k + 1].start, tokens[k + 1].end)
        k += 1
    else:
        length_at = (tokens[k].end, tokens[k].end)
    chord = tokens[first].kind == "chord_bracket"
    length = parse_length(text[length_at[0] : length_at[1]])
    return _Element(first, k, length_at, length, chord)


def _closes_grace(text: str, token: Token) -> bool:
    return token.kind == "grace" and text[token.start] == "}"


def _broken_rhythms_spelled_out(source: SourcedText) -> SourcedText:
    """Give each broken rhythm the lengths abc2midi plays, where music21 would play others.

    ``>`` makes the first note 3/2 and the second 1/2 as long, ``>>`` 7/4 and 1/4, ``<`` the
    other way round. music21 applies ``>`` only when a note stands right before and after it
    (``G>(FG)`` played even), and always when one does. abc2midi looks past slurs, dots, grace
    notes and the like, and (``store.c``, ``brokenadjust``) applies ``>`` only between two
    notes or rests of the same length as they stand then, an earlier ``>`` included: ``d>c/``
    and ``A2>B``, which a literal reading of the standard (2.1, §4.4: the first note dotted,
    the second halved) would still break, it plays as written, with the warning "Cannot apply
    broken rhythm. Notes not equal durations", and in ``A>B>c`` the second ``>`` (``B`` now
    1/2, ``c`` 1) is not applied. The app follows abc2midi here, the player ABC users hear, not
    that reading of the standard. With a chord on either side abc2midi always applies it,
    whatever the lengths (measured on abc2midi 4.84: ``A2>[DF]`` and ``[C2E2]>D`` play 3:1).

    So a ``>`` abc2midi does not apply is dropped; one it applies is left to music21 when music21
    reads it alike (its two notes adjacent, neither in another applied ``>``), and otherwise its
    lengths are written out (``G3/2(F/2G)``) and the ``>`` dropped.
    """
    text = source.text
    tokens = lex(text)
    edits: list[tuple[int, int, str]] = []
    lengths: dict[tuple[int, int], Fraction] = {}  # a note's length as abc2midi has it by now
    applied: list[tuple[Token, _Element, _Element, bool]] = []
    for i, token in enumerate(tokens):
        if token.kind != "broken_rhythm":
            continue
        before = _element_before(text, tokens, i - 1)
        after = _element_after(text, tokens, i + 1)
        if before is None or after is None:
            continue  # not between two notes: music21 and abc2midi both pass over it
        now = [lengths.get(e.length_at, e.length) for e in (before, after)]
        if not (before.chord or after.chord) and now[0] != now[1]:
            edits.append((token.start, token.end, ""))  # abc2midi plays the written lengths
            continue
        arrows = token.end - token.start
        short = Fraction(1, 2**arrows)
        first, second = (2 - short, short) if text[token.start] == ">" else (short, 2 - short)
        for element, factor, length in ((before, first, now[0]), (after, second, now[1])):
            lengths[element.length_at] = length * factor
        adjacent = before.last == i - 1 and after.first == i + 1
        applied.append((token, before, after, adjacent))
    uses = Counter(e.length_at for _, before, after, _ in applied for e in (before, after))
    spelled: set[tuple[int, int]] = set()
    for token, before, after, adjacent in applied:
        if adjacent and uses[before.length_at] == uses[after.length_at] == 1:
            continue  # music21 reads it itself, as abc2midi plays it
        edits.append((token.start, token.end, ""))
        spelled.update((before.length_at, after.length_at))
    edits.extend((*at, format_length(lengths[at])) for at in spelled)
    return _edited(source, edits)


# -- tuplets and grace notes ----------------------------------------------------------------


def _tuplets_counting_graces(source: SourcedText) -> SourcedText:
    """Rewrite each tuplet that holds grace notes so that music21 reads it as the standard says.

    ABC counts only real notes (a chord or rest as one) toward a tuplet's ``r`` notes; music21
    counts grace notes too, so in ``(3{g}ABc`` it makes A, B and the grace the triplet and plays
    ``c`` a full eighth (the bar then runs over). Raising ``r`` by the graces inside the tuplet
    (``(3::4{g}ABc``, ``q`` left to its default) gives music21 the same notes as abc2midi.
    """
    text = source.text
    tokens = lex(text)
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        if token.kind != "tuplet":
            continue
        p, q, r = [*text[token.start + 1 : token.end].split(":"), "", ""][:3]
        if not p.isdigit():
            continue
        wanted = int(r) if r.isdigit() else int(p)
        graces = _graces_within(text, tokens[i + 1 :], wanted)
        if graces:
            edits.append((token.start, token.end, f"({p}:{q}:{wanted + graces}"))
    return _edited(source, edits)


def _graces_within(text: str, tokens: Sequence[Token], wanted: int) -> int:
    """Grace notes among the tokens until ``wanted`` notes, chords or rests have passed."""
    counted = graces = 0
    in_grace = in_chord = False
    for token in tokens:
        if counted >= wanted:
            break
        piece = text[token.start : token.end]
        if token.kind == "grace":
            in_grace = piece.startswith("{")
        elif token.kind == "chord_bracket":
            in_chord = piece.startswith("[")
            counted += not in_chord  # a chord counts once, at its closing bracket
        elif token.kind == "note":
            if in_grace:
                graces += 1
            elif not in_chord:
                counted += 1
        elif token.kind == "rest":
            counted += 1
        elif token.kind in ("barline", "tuplet"):
            break
    return graces


def grace_flags(text: str) -> list[tuple[bool, bool]]:
    """For each note, chord and rest of ``text`` in written order: whether it is a grace note
    (or grace chord), and whether a tuplet was running where it is written.

    music21 keeps neither fact where abc2midi needs it: it makes a chord in a grace group
    (``{[Ge]}``) a real chord, and abc2midi shortens a grace note written inside a tuplet
    (``(3{g}ABc``) by the tuplet's ratio but not one written before it (``{g}(3ABc``).
    """
    flags: list[tuple[bool, bool]] = []
    left = 0  # notes of the running tuplet still to come
    in_grace = in_chord = False
    for token in lex(text):
        piece = text[token.start : token.end]
        if token.kind == "tuplet":
            p, _, r = [*piece[1:].split(":"), "", ""][:3]
            left = int(r) if r.isdigit() else int(p) if p.isdigit() else 0
        elif token.kind == "grace":
            in_grace = piece.startswith("{")
        elif token.kind == "chord_bracket" and piece.startswith("["):
            in_chord = True
        elif token.kind == "chord_bracket" or (token.kind == "note" and not in_chord):
            in_chord = False  # a chord is one element, at its closing bracket
            flags.append((in_grace, left > 0))
            left -= not in_grace and left > 0  # grace notes do not count toward a tuplet
        elif token.kind == "rest":
            flags.append((False, left > 0))
            left -= left > 0
    return flags


# -- playing order --------------------------------------------------------------------------


def _fields_in_force(text: str, tokens: Sequence[Token]) -> Callable[[int], dict[str, str]]:
    """A function giving the ``K:``, ``L:``, ``M:``, ``Q:`` values in force at a text position."""
    changes: list[tuple[int, str, str]] = []
    for i, token in enumerate(tokens):
        if token.kind == "field_key" and text[token.start] in "KLMQ":
            value = ""
            if i + 1 < len(tokens) and tokens[i + 1].kind == "field_value":
                value = text[tokens[i + 1].start : tokens[i + 1].end]
            changes.append((token.start, text[token.start], value))
    positions = [c[0] for c in changes]

    def at(position: int) -> dict[str, str]:
        return {key: value for _, key, value in changes[: bisect_right(positions, position - 1)]}

    return at


def _in_play_order(source: SourcedText) -> SourcedText:
    """The tune with its repeats, endings and parts written out as abc2midi plays them.

    Each bar line passed becomes ``|`` (a double bar line stays one); where playing jumps
    (back to a repeat, on to a part), the ``K:``/``L:``/``M:``/``Q:`` fields in force there are
    written again when they differ.
    A tune with voices gets each voice written out on its own, one after the other. Text after
    the tune (another tune) is left out. A tune this cannot handle (voice overlays, voices with
    a ``P:`` play order) is returned as it is, for music21 to expand.
    """
    tokens = lex(source.text)
    voices = voice_bodies(source.text, tokens)
    if voices is None:
        return _one_voice_in_play_order(source, tokens, one_voice=True) or source
    body, _, spans = voices
    if re.search(r"^P:", source.text[:body], re.MULTILINE):
        return source
    out = _Builder(source)
    out.copy(0, body)
    for name, pieces in spans:
        voice = _Builder(source)
        voice.copy(0, body)
        for start, end in pieces:
            if not voice.tail.endswith("\n"):
                voice.put("\n", start, start)
            _copy_without_blank_lines(voice, start, end)
        voice_text = voice.build()
        played = _one_voice_in_play_order(voice_text, lex(voice_text.text), one_voice=False)
        if played is None:
            return source
        if not out.at_line_start():
            out.put("\n", pieces[0][0], pieces[0][0])
        out.put(f"V:{name}\n", pieces[0][0], pieces[0][0])
        out.copy(body, len(played.text), played)
    return out.build()


def _one_voice_in_play_order(
    source: SourcedText, tokens: Sequence[Token], *, one_voice: bool
) -> SourcedText | None:
    text = source.text
    playing = play_order(text, list(tokens), one_voice=one_voice)
    if playing is None:
        return None
    fields = _fields_in_force(text, tokens)
    out = _Builder(source)
    out.copy(0, playing.body)
    position = playing.body  # where the text written so far ends in the source
    notes_since_bar = False
    for item in playing.items:
        if item.kind == "music":
            if item.start != position:
                _restore_fields(out, fields(position), fields(item.start), item.start)
            _copy_without_blank_lines(out, item.start, item.end)
            notes_since_bar = notes_since_bar or item.has_notes
        elif item.kind not in (PART, ENDING) and notes_since_bar:
            out.put(_bar_text(text[item.start : item.end]), item.start, item.end)
            notes_since_bar = False
        position = item.end
    if not out.tail.endswith("\n"):
        out.put("\n", playing.end, playing.end)
    return out.build()


def _bar_text(written: str) -> str:
    """A bar line as written out: a plain or double bar line as written (music21 reads ``]`` of
    ``|]`` as closing a stray ``[``, so taking it away can break a tune it read), any repeat
    or ending bar line plain."""
    return written if written in ("|", "||", "|]", "[|") else "|"


def _restore_fields(out: _Builder, now: dict[str, str], wanted: dict[str, str], at: int) -> None:
    for key, value in wanted.items():
        if now.get(key) != value:
            if not out.at_line_start():
                out.put("\n", at, at)
            out.put(f"{key}:{value}\n", at, at)


_EMPTY_LINE_END = re.compile(r"[ \t\r]*\n")


def _copy_without_blank_lines(out: _Builder, start: int, end: int) -> None:
    """Copy source text, leaving out line breaks that would make a blank line (a tune's end)."""
    text = out.source.text
    while start < end and out.at_line_start():
        match = _EMPTY_LINE_END.match(text, start, end)
        if match is None:
            break
        start = match.end()
    out.copy(start, end)


# -- all together ---------------------------------------------------------------------------

_READING_REPAIRS: tuple[Callable[[SourcedText], SourcedText], ...] = (
    _header_cleaned,
    _with_unit_length,
    _inline_fields_as_lines,
    _letter_decorations,
    _annotations_dropped,
    _rests_written_out,
    _ties_between_pitches_dropped,
    _broken_rhythms_spelled_out,
    _tuplets_counting_graces,
)


def music21_text(abc: str, *, played: bool = False) -> SourcedText:
    """The text of ``abc`` to give music21, with every repair above.

    ``played``: repeats, endings and parts written out in abc2midi's playing order (for MIDI
    and playback); without it the tune keeps its written form (for MusicXML and reading).
    """
    source = SourcedText.of(abc)
    for repair in _READING_REPAIRS:
        source = repair(source)
    if played:
        source = _in_play_order(source)
    return _declare_abc21(source)
