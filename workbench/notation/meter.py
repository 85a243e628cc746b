"""Bar lengths of ABC tunes: meters, unit note lengths, and the duration of every bar (Qt-free).

`bar_lengths(text)` measures each bar of a tune's body against its meter, with the bar's line and
columns, so an editor can underline a bar that does not fit and a sampler can check its tunes.
It is built on `BarScanner`, a character-at-a-time state machine: the meter-aware decoder
(`workbench.notation.meter_aware`) feeds it one sampled character per step and reads its state,
so decoding and checking share one reading of the notation.

Why not music21: its ABC reader (`music21.abcFormat`) tokenises a whole tune and keeps no
character offsets on its tokens or on the measures it builds, so a bar cannot be mapped back to
its line and column; it also re-tokenises from the start on every call (~100 ms a tune), which
rules it out for a decoder that advances one character at a time.

What takes time, in units of `L:` (default: 1/16 when the meter is below 3/4, else 1/8):
notes `A`..`g` and rests `z`/`x` with lengths `A2`, `A/2`, `A/`, `A//`, `A3/2`; chords `[CEG]2`
(once, as long as their first note, times the length after the bracket); broken rhythm
`A>B` (3/2 and 1/2; `>>` 7/4 and 1/4; `<` the reverse); tuplets `(3abc` (3 notes in the time of 2)
and `(p:q:r`; multi-bar rests `Z4` (four whole bars). What takes none: grace notes `{...}`,
chord symbols and annotations `"..."`, decorations (`!trill!`, `+trill+`, `.~HLMOPSTuv`),
ties, slurs, spaces, comments, field lines and inline fields (`[M:3/4]`, `[L:1/16]`, which change
the meter and unit note length from there on).

The body starts after the header's first `K:` line; a text with no `K:` line has no body. A tune
whose header names no meter is read in 4/4 (as abc2midi does); `M:none` is free meter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

ONE = Fraction(1)
DEFAULT_METER = Fraction(1)  # 4/4, when the header names none (abc2midi's choice)

NOTE_LETTERS = frozenset("ABCDEFGabcdefg")
ACCIDENTALS = frozenset("^_=")

_FIELD_LINE = re.compile(r"([A-Za-z]):(.*)")
_METER_TERM = re.compile(r"^\(?(\d+(?:\+\d+)*)\)?/(\d+)$")
_UNIT = re.compile(r"^(\d+)(?:/(\d+))?$")

# Tuplet `(p`: how many notes' time p notes take (q), when the tuplet does not say; 0 = "n":
# 3 in compound meters, else 2.
_TUPLET_Q = {2: 3, 3: 2, 4: 3, 5: 0, 6: 2, 7: 0, 8: 3, 9: 0}


def _clean(value: str, field: str) -> str:
    value = value.split("%", 1)[0].strip()
    if value[:2].upper() == field:
        value = value[2:]
    return "".join(value.split())


def parse_meter(value: str) -> Fraction | None:
    """The bar length of an `M:` value as a fraction of a whole note, or None for free meter.

    `6/8` -> 3/4, `C` -> 1, `C|` -> 1, `2/2` -> 1, `2+3/8` -> 5/8, `3/4+2/4` -> 5/4.
    `none`, an empty value and anything unreadable give None (no bar length to check).
    A leading `M:` is accepted.
    """
    meter = _clean(value, "M:")
    if meter.upper() in ("C", "C|"):
        return ONE
    if not meter or meter.lower() == "none":
        return None
    total = Fraction(0)
    # "3/4+2/4" is two terms; "2+3/8" is one term with a summed numerator: a piece without
    # a "/" belongs to the next one.
    terms, piece = [], ""
    for part in meter.split("+"):
        piece = f"{piece}+{part}" if piece else part
        if "/" in part:
            terms.append(piece)
            piece = ""
    if piece or not terms:
        return None
    for term in terms:
        match = _METER_TERM.match(term)
        if match is None:
            return None
        num = sum(int(n) for n in match.group(1).split("+"))
        den = int(match.group(2))
        if num == 0 or den == 0:
            return None
        total += Fraction(num, den)
    return total


def meter_is_compound(value: str) -> bool:
    """Whether an `M:` value is a compound meter (6/8, 9/8, 12/8: numerator a multiple of 3 > 3)."""
    match = _METER_TERM.match(_clean(value, "M:"))
    if match is None:
        return False
    num = sum(int(n) for n in match.group(1).split("+"))
    return num > 3 and num % 3 == 0


def parse_unit_length(value: str) -> Fraction | None:
    """The unit note length of an `L:` value (`1/8` -> 1/8, `1` -> 1), or None if unreadable.

    A leading `L:` is accepted.
    """
    match = _UNIT.match(_clean(value, "L:"))
    if match is None:
        return None
    num, den = int(match.group(1)), int(match.group(2) or 1)
    if num == 0 or den == 0:
        return None
    return Fraction(num, den)


def default_unit_length(meter: Fraction | None) -> Fraction:
    """The ABC standard's unit note length when `L:` is absent: 1/16 below 3/4, else 1/8."""
    if meter is not None and meter < Fraction(3, 4):
        return Fraction(1, 16)
    return Fraction(1, 8)


@dataclass(frozen=True)
class BarLength:
    """One bar of a tune's body.

    `index` counts the bars that hold a note or rest (from 0); `line` is 1-based; `column` and
    `end_column` are 0-based offsets into that line (end exclusive), spanning the bar from its
    first character to the end of its closing bar line, or to the end of the line when the bar
    runs on to the next line. `duration` and `expected` are fractions of a whole note
    (`expected` is None in free meter). `fits`: see `bar_lengths`.
    """

    index: int
    line: int
    column: int
    end_column: int
    duration: Fraction
    expected: Fraction | None
    fits: bool


class ClosedBar:
    """What the scanner knows of a bar it has closed (mutable: a bar line may still grow)."""

    __slots__ = (
        "column",
        "duration",
        "end_boundary",
        "end_column",
        "end_line",
        "expected",
        "has_notes",
        "index",
        "line",
        "pickup_eligible",
    )

    def __init__(self) -> None:
        self.index = -1
        self.duration = Fraction(0)
        self.expected: Fraction | None = None
        self.has_notes = False
        self.pickup_eligible = False  # the tune's first bar, or the first after a section boundary
        self.end_boundary = False  # closed by a repeat/section bar line (or the tune's end)
        self.line = self.column = self.end_line = self.end_column = 0

    def fits(self, last: bool) -> bool:
        if self.expected is None or self.duration == self.expected:
            return True
        if self.duration > self.expected:
            return False
        return self.pickup_eligible or self.end_boundary or last


# Scanner modes.
HEADER = 0  # before the end of the header's first K: line
NORMAL = 1  # between things in the body
LS_LETTER = 2  # a letter at the start of a body line: a field (`P:`) or music (`G2`)?
FIELD = 3  # a field line in the body, up to its newline
COMMENT = 4  # after %, up to the newline
QUOTE = 5  # inside "..."
DECO = 6  # inside !...! or +...+
GRACE = 7  # inside {...}
BRACKET = 8  # just after [
BRACKET_LETTER = 9  # [ and a letter that is no note: an inline field ([M:...]) if ':' follows
INLINE = 10  # inside an inline field, up to ]
VARIANT = 11  # [1 (a variant ending's number)
CHORD = 12  # inside [CEG]
TUPLET = 13  # after (3, reading p:q:r
ELEM = 14  # after a note, rest or chord: reading its length (digits, /)
ACCIDENTAL = 15  # after ^ _ =: a note letter follows
COLON = 16  # a ':' that starts :| or ::
TOKEN = 17  # just after a bar line that may still grow (| -> || |] |: |1)
PAREN = 18  # just after ( : a slur, or a tuplet if a digit follows

# Element kinds.
NOTE, REST, CHORD_ELEM, MULTI_REST = 0, 1, 2, 3


def key_tonic(value: str) -> tuple[str, str] | None:
    """The tonic of a `K:` value as (upper-case letter, `^`/`_`/""): `F#m` -> ("F", "^");
    None for `none`, the bagpipe keys `HP`/`Hp` and anything without a key letter."""
    text = value.strip()
    if not text or text[0].upper() not in "ABCDEFG" or text.lower().startswith(("none", "clef")):
        return None
    acc = {"#": "^", "b": "_"}.get(text[1:2], "")
    return (text[0].upper(), acc)


def at_home(tonic: tuple[str, str] | None, note: tuple[str, str] | None) -> bool:
    """Is `note` (accidental, letter) the `tonic` (letter, accidental) of the key? True when
    the key has no tonic; an unmarked note takes the key's accidental, `=` only a natural."""
    if tonic is None:
        return True
    if note is None:
        return False
    acc, letter = note
    return letter.upper() == tonic[0] and (acc in ("", tonic[1]) or (acc == "=" and not tonic[1]))


def is_boundary(token: str) -> bool:
    """A repeat or section bar line (`:|`, `|:`, `::`, `||`, `|]`, `[|`), not a plain `|`/`|1`."""
    return ":" in token or "||" in token or "]" in token or token.startswith("[")


class BarScanner:
    """Reads ABC one character at a time and keeps the duration of the current bar.

    `feed(ch)` for each character, then `finish()` at the end of the text. With `record=True`
    every closed bar with a note or rest is kept in `bars` (as `ClosedBar`); `closed` is always
    the bar most recently closed. The fields are read directly by the meter-aware decoder:
    `mode`, `meter`, `unit`, `used` (the committed duration of the current bar), `has_notes`,
    `pending_length()` (the length of the note being written, as if it ended now) and so on.
    """

    def __init__(self, record: bool = False) -> None:
        self.record = record
        self.bars: list[ClosedBar] = []
        self.mode = HEADER
        self.line_buf: list[str] = []  # the current header line, field line or inline field
        self.header_meter: Fraction | None = DEFAULT_METER
        self.header_unit: Fraction | None = None
        # Has the header an M: or L: line? Without either, ABC means L:1/8, but music21
        # refuses to read the notes, so the decoder waits for one before K:.
        self.header_has_length = False
        self.meter: Fraction | None = DEFAULT_METER
        self.compound = False
        self.unit = Fraction(1, 8)
        self.line = 1
        self.col = 0
        self.at_line_start = True
        self.prev = "\n"
        self.ls_letter = ""
        self.field = ""
        self.deco_end = "!"
        # The current bar.
        self.used = Fraction(0)
        self.overlay_max = Fraction(0)
        self.has_notes = False
        self.extra_bars = 0  # whole bars of multi-bar rests (Z4 adds 3)
        self.bar_line = 0
        self.bar_col = -1  # -1: the bar has not started yet
        self.after_boundary = False
        self.n_bars = 0
        # The music of the closed bars, in bars of their meter (a pickup and its complement
        # make one): how long the tune is so far, for the decoder's shortest-tune rule.
        self.bars_played = Fraction(0)
        self.closed: ClosedBar | None = None  # the bar closed by the latest bar line
        self.closed_empty = True  # the latest bar line closed a bar without notes
        self.token = ""
        # The tune's pickup: the duration of the latest short first-of-section bar.
        self.pickup = Fraction(0)
        self.last_content = (1, 0)
        # The element whose length is being read (ELEM, or the first note inside a chord).
        self.elem_kind = NOTE
        self.elem_base = Fraction(0)
        self.num = 0
        self.has_num = False
        self.div_done = 1
        self.in_group = False
        self.cur_digits = 0
        self.slashes = 0
        self.spec = ""  # the length characters read so far, as written
        self.octaves = 0
        self.chord_notes = 0
        # Broken rhythm and tuplets.
        self.last_len = Fraction(0)  # the latest element's length before broken rhythm
        self.last_in_bar = False
        self.broken_n = 0
        self.broken_dir = ""
        self.next_broken = ONE
        self.tup_factor = ONE
        self.tup_left = 0
        self.tup_parts: list[str] = [""]
        self.accidentals = 0
        # For the meter-aware decoder's syntax rules (no effect on durations): the pitch of the
        # note being read, a tie waiting for its second note, the length a broken-rhythm pair's
        # second note must repeat, and the text of the chord symbol or decoration being read.
        self.acc_text = ""
        self.note_acc = ""
        self.note_letter = ""
        self.octave_text = ""
        self.last_spec = ""
        self.tie_pitch: tuple[str, str, str] | None = None  # after `A-`: what must come next
        self.tie_target: tuple[str, str, str] | None = None  # the note being read must be this
        self.broken_spec: str | None = None  # after `A2>`: the next element's length is `2`
        self.spec_target: str | None = None  # the element being read must have this length
        self.quote_text = ""
        self.deco_len = 0
        self.deco_text = ""  # the name inside !...! read so far
        self.grace_notes = 0
        self.grace_waiting = False  # a {grace} group closed and its main note has not begun
        # The key's tonic as (letter, accidental) and the last note written (accidental,
        # letter; a chord's first note), for the decoder's rule that a tune ends at home.
        self.tonic: tuple[str, str] | None = None
        self.last_sound: tuple[str, str] | None = None
        # (field letter, value) of each header line read, in order
        self.header_fields: list[tuple[str, str]] = []
        self.marks = 0  # octave marks after the latest note inside a chord or grace group
        self.slurs = 0  # slurs opened with ( and not yet closed
        self.staccato = False  # a `.` waits for its note
        self.note_staccato = False  # the note being read (or just read) has a `.`
        self.fermata = False  # an `H` waits for its note
        self.note_fermata = False  # the note being read (or just read) has an `H`
        # Repeats, as of the last finished bar line: a `|:` waits for its `:|`; the variant
        # ending being played (1 after `|1`, 2 after `:|2`, 0 outside endings).
        self.repeat_open = False
        self.variant = 0
        self.token_at_line_start = False  # the bar line being read began its line
        self.rest_bars = 0  # bars of the current bar's multi-bar rests (Z2 Z3: 5)
        # For reading real collections' notation (kept last: see benchmarks/mutation.py's
        # equivalents, numbered by position):
        self.prev2 = "\n"  # the character before `prev`
        self.spaces = 0  # spaces (and back quotes) just read in a row (the decoder limits runs)
        self.chord_spec = ""  # the length written after a chord's later note so far (`[c2e2`)
        self.inner_spec = ""  # the length written inside the chord just closed (`[c2e2]`)
        self.breath = False  # a `!breath!` waits for its note
        self.note_breath = False  # the note being read (or just read) has a `!breath!`
        self.elem_in_tuplet = False  # the element being read (or just read) is a tuplet's
        # Has a repeat bar line (`|:`, `:|`, `::`) been read? Before the first, the tune's
        # start is an open repeat to abc2midi (`::` there is no error; after a `:|` it is).
        self.repeated = False
        # Was the open repeat opened by `:|:`? abc2midi then takes no first ending in it
        # ("found [1 or like before |:"), where after `|:` or `::` it does.
        self.colon_reopened = False

    # -- reading ---------------------------------------------------------------------------

    def multiplier(self) -> Fraction | int:
        """The length factor written so far after the element (`3/2`, `/`, `//`...)."""
        num = self.num if self.has_num else 1
        if not self.in_group:
            return num
        return Fraction(num, self.div_done * (self.cur_digits or 2))

    def pending_length(self) -> Fraction:
        """The length of the element being read (ELEM mode), as if it ended here."""
        if self.elem_kind == MULTI_REST:
            return (self.meter or 0) * (self.num if self.has_num else 1)
        mult = self.multiplier()
        return self.elem_base if mult == 1 else self.elem_base * mult

    def bar_duration(self) -> Fraction:
        """The current bar's duration so far, with the element being read as if it ended here."""
        used = self.used
        if self.mode == ELEM:
            used = used + self.pending_length()
        return max(used, self.overlay_max)

    def expected(self) -> Fraction | None:
        if self.meter is None or not self.extra_bars:
            return self.meter
        return self.meter * (1 + self.extra_bars)

    @property
    def in_body(self) -> bool:
        return self.mode != HEADER

    # -- feeding ---------------------------------------------------------------------------

    def feed_text(self, text: str) -> None:
        for ch in text:
            self.feed(ch)

    def feed(self, ch: str) -> None:
        mode = self.mode
        if mode == HEADER:
            self._header(ch)
        elif mode == NORMAL:
            self._normal(ch)
        elif mode == ELEM:
            self._elem(ch)
        else:
            self._special(ch, mode)
        if ch == "\n":
            self.line += 1
            self.col = 0
        else:
            if ch not in " \t\\" and self.mode != HEADER:
                self.last_content = (self.line, self.col + 1)
            self.col += 1
        self.spaces = self.spaces + 1 if ch == " " or ch == "`" else 0
        self.prev2 = self.prev
        self.prev = ch

    def finish(self) -> None:
        """The end of the text: the element being read ends, and the last bar closes."""
        mode = self.mode
        if mode == HEADER:
            return
        if mode == ELEM:
            self._commit()
        elif mode == LS_LETTER:
            self.mode = NORMAL
            self.at_line_start = False
            self._normal(self.ls_letter)
            if self.mode == ELEM:
                self._commit()
        elif mode == CHORD:
            self._close_chord()
            self._commit()
        elif mode == TUPLET:
            self._end_tuplet()
        elif mode == TOKEN:
            self._end_token()
        self.mode = NORMAL
        if self.has_notes:
            self._close_bar("", end=True)

    # -- the header ------------------------------------------------------------------------

    def _header(self, ch: str) -> None:
        if ch != "\n":
            self.line_buf.append(ch)
            return
        line = "".join(self.line_buf)
        self.line_buf.clear()
        match = _FIELD_LINE.match(line)
        if match is None:
            return
        letter, value = match.groups()
        self.header_fields.append((letter, value.strip()))
        if letter in "ML":
            self.header_has_length = True
        if letter == "M":
            self.header_meter = parse_meter(value)
            self.compound = meter_is_compound(value)
        elif letter == "L":
            self.header_unit = parse_unit_length(value)
        elif letter == "K":
            self.tonic = key_tonic(value)
            self.meter = self.header_meter
            self.unit = self.header_unit or default_unit_length(self.header_meter)
            self.mode = NORMAL
            self.at_line_start = True

    def _apply_field(self, letter: str, value: str) -> None:
        if letter == "K":
            self.tonic = key_tonic(value)
        elif letter == "M":
            self.meter = parse_meter(value)
            self.compound = meter_is_compound(value)
        elif letter == "L":
            unit = parse_unit_length(value)
            if unit is not None:
                self.unit = unit

    # -- the body --------------------------------------------------------------------------

    def _start_bar_at(self) -> None:
        if self.bar_col < 0:
            self.bar_line, self.bar_col = self.line, self.col

    def _normal(self, ch: str) -> None:
        if self.at_line_start:
            if ch == "\n":
                return
            self.at_line_start = False
            if ch.isascii() and ch.isalpha():
                self.mode = LS_LETTER
                self.ls_letter = ch
                return
            if ch == "%":
                self.mode = COMMENT
                return
        if ch in NOTE_LETTERS:
            self._start_bar_at()
            self.note_letter = ch
            self.note_acc = self.acc_text if self.prev in ACCIDENTALS else ""
            self.last_sound = (self.note_acc, ch)
            self._start_elem(NOTE)
        elif ch == "z" or ch == "x":
            self._start_bar_at()
            self._start_elem(REST)
        elif ch == "Z" or ch == "X":
            self._start_bar_at()
            self._start_elem(MULTI_REST)
        elif ch == "|":
            self._close_bar("|")
        elif ch == "\n":
            self.at_line_start = True
        elif ch in " \t\\":
            pass
        elif ch in ACCIDENTALS:
            self._start_bar_at()
            self.mode = ACCIDENTAL
            self.accidentals = 1
            self.acc_text = ch
        elif ch == "[":
            self.mode = BRACKET
        elif ch == ":":
            self.mode = COLON
        elif ch == "(":
            self._start_bar_at()
            self.mode = PAREN
        elif ch == "{":
            self._start_bar_at()
            self.mode = GRACE
            self.grace_notes = 0
        elif ch == '"':
            self._start_bar_at()
            self.mode = QUOTE
            self.quote_text = ""
        elif ch == "!" or ch == "+":
            self._start_bar_at()
            self.mode = DECO
            self.deco_end = ch
            self.deco_len = 0
            self.deco_text = ""
        elif ch == "%":
            self.mode = COMMENT
        elif ch == ">" or ch == "<":
            self._broken(ch)
        elif ch == ")":
            self.slurs = max(0, self.slurs - 1)
        elif ch == ".":
            self._start_bar_at()
            self.staccato = True
        elif ch == "H":
            self._start_bar_at()
            self.fermata = True
        elif ch == "&":
            self.overlay_max = max(self.overlay_max, self.used)
            self.used = Fraction(0)
            self.last_in_bar = False
        else:
            # Decorations, ties, slurs and stray characters take no time.
            self._start_bar_at()

    def _special(self, ch: str, mode: int) -> None:
        if mode == TOKEN:
            token = self.token
            last = token[-1]
            digits = any(c.isdigit() for c in token)
            if (
                (ch in "|:" and not digits and "]" not in token and len(token) < 4)
                or (ch == "]" and last == "|" and not digits)
                or (ch.isdigit() and (last == "|" or last.isdigit() or last == ","))
                or (ch == "," and last.isdigit())
            ):
                self.token = token + ch
                self._classify_token()
                return
            self._end_token()
            self.mode = NORMAL
            self._normal(ch)
        elif mode == LS_LETTER:
            if ch == ":":
                self.mode = FIELD
                self.field = self.ls_letter
                self.line_buf.clear()
                return
            self.mode = NORMAL
            self.col -= 1  # the letter stood one column back
            self._normal(self.ls_letter)
            self.col += 1
            self.feed_inner(ch)
        elif mode == FIELD:
            if ch == "\n":
                self._apply_field(self.field, "".join(self.line_buf))
                self.line_buf.clear()
                self.mode = NORMAL
                self.at_line_start = True
            else:
                self.line_buf.append(ch)
        elif mode == COMMENT:
            if ch == "\n":
                self.mode = NORMAL
                self.at_line_start = True
        elif mode == QUOTE:
            if ch == '"':
                self.mode = NORMAL
            elif ch == "\n":
                self.mode = NORMAL
                self._normal(ch)
            else:
                self.quote_text += ch
        elif mode == DECO:
            if ch == self.deco_end:
                self.mode = NORMAL
                self.breath = self.breath or self.deco_text == "breath"
            elif ch == "\n":
                self.mode = NORMAL
                self._normal(ch)
            else:
                self.deco_len += 1
                self.deco_text += ch
        elif mode == GRACE:
            if ch == "}":
                self.mode = NORMAL
                self.grace_waiting = True
            elif ch in NOTE_LETTERS:
                self.grace_notes += 1
                self.marks = 0
            elif ch == "'" or ch == ",":
                self.marks += 1
        elif mode == ACCIDENTAL:
            if ch in ACCIDENTALS:
                self.accidentals += 1
                self.acc_text += ch
                return
            self.mode = NORMAL
            self._normal(ch)
        elif mode == PAREN:
            if ch.isdigit():
                self.mode = TUPLET
                self.tup_parts = [ch]
                return
            self.slurs += 1
            self.mode = NORMAL
            self._normal(ch)
        elif mode == TUPLET:
            if ch.isdigit():
                self.tup_parts[-1] += ch
                return
            if ch == ":" and len(self.tup_parts) < 3:
                self.tup_parts.append("")
                return
            self._end_tuplet()
            self.mode = NORMAL
            self._normal(ch)
        elif mode == BRACKET:
            if ch in NOTE_LETTERS or ch in ACCIDENTALS:
                if self.bar_col < 0:  # the bar starts at the "[" just before
                    self.bar_line, self.bar_col = self.line, self.col - 1
                self.mode = CHORD
                self.grace_waiting = False
                self.chord_notes = 0
                self._chord(ch)
            elif ch == "|":
                self.mode = NORMAL
                self._close_bar("[|")
            elif ch.isdigit():
                self.mode = VARIANT
                self.variant = int(ch)
            elif ch.isascii() and ch.isalpha():
                self.mode = BRACKET_LETTER
                self.field = ch
            else:
                self.mode = NORMAL
                self._normal(ch)
        elif mode == BRACKET_LETTER:
            if ch == ":":
                self.mode = INLINE
                self.line_buf.clear()
            else:
                self.mode = NORMAL
                self._normal(ch)
        elif mode == INLINE:
            if ch == "]":
                self._apply_field(self.field, "".join(self.line_buf))
                self.line_buf.clear()
                self.mode = NORMAL
            elif ch == "\n":
                self.line_buf.clear()
                self.mode = NORMAL
                self._normal(ch)
            else:
                self.line_buf.append(ch)
        elif mode == VARIANT:
            if ch.isdigit() or ch in ",-":
                return
            self.mode = NORMAL
            self._normal(ch)
        elif mode == CHORD:
            self._chord(ch)
        elif mode == COLON:
            self.mode = NORMAL
            if ch == "|":
                self._close_bar(":|")
            elif ch == ":":
                self._close_bar("::")
            else:
                self._normal(ch)

    def feed_inner(self, ch: str) -> None:
        """Process `ch` in the current mode without moving the position (a replayed character)."""
        mode = self.mode
        if mode == NORMAL:
            self._normal(ch)
        elif mode == ELEM:
            self._elem(ch)
        else:
            self._special(ch, mode)

    # -- elements --------------------------------------------------------------------------

    def _factor(self) -> Fraction:
        """Unit length times the tuplet and broken-rhythm factors due to the next element."""
        f = self.unit
        if self.tup_left:
            f = f * self.tup_factor
            self.tup_left -= 1
        if self.next_broken is not ONE:
            f = f * self.next_broken
            self.next_broken = ONE
        return f

    def _reset_spec(self) -> None:
        self.num = 0
        self.has_num = False
        self.div_done = 1
        self.in_group = False
        self.cur_digits = 0
        self.slashes = 0
        self.spec = ""
        self.octaves = 0

    def _start_elem(self, kind: int) -> None:
        self.elem_kind = kind
        self.elem_in_tuplet = self.tup_left > 0
        self.elem_base = self._factor() if kind != MULTI_REST else Fraction(0)
        self._reset_spec()
        self.mode = ELEM
        self.octave_text = ""
        self.tie_target = self.tie_pitch if kind == NOTE else None
        self.tie_pitch = None
        self.note_staccato = self.staccato
        self.staccato = False
        self.note_fermata = self.fermata
        self.fermata = False
        self.note_breath = self.breath
        self.breath = False
        self.grace_waiting = False
        self.spec_target = self.broken_spec
        self.broken_spec = None

    def _spec_char(self, ch: str) -> bool:
        """Read a length character (digit or /); False if `ch` is none."""
        if "0" <= ch <= "9" or ch == "/":
            self.spec += ch
        if "0" <= ch <= "9":
            if self.in_group:
                self.cur_digits = self.cur_digits * 10 + int(ch)
            else:
                self.num = self.num * 10 + int(ch)
                self.has_num = True
            return True
        if ch == "/":
            if self.in_group:
                self.div_done *= self.cur_digits or 2
            self.in_group = True
            self.cur_digits = 0
            self.slashes += 1
            return True
        return False

    def _elem(self, ch: str) -> None:
        if (
            (ch == "'" or ch == ",")
            and self.elem_kind == NOTE
            and not (self.has_num or self.in_group)
        ):
            self.octaves += 1
            self.octave_text += ch
            return
        if self._spec_char(ch):
            return
        if ch == "-" and self.elem_kind == NOTE:
            self.tie_pitch = (self.note_acc, self.note_letter, self.octave_text)
        self._commit()
        self._normal(ch)

    def _commit(self) -> None:
        if self.elem_kind == MULTI_REST:
            count = self.num if self.has_num else 1
            if self.meter is not None and count > 0:
                self.used += self.meter * count
                # Z2 Z3 in one bar lasts five bars (not 1 + 1 + 2).
                self.rest_bars += count
                self.extra_bars = self.rest_bars - 1
            length = Fraction(0)
            self.last_in_bar = False
        else:
            length = self.pending_length()
            self.used += length
            self.last_in_bar = True
        self.has_notes = True
        self.last_len = length
        self.last_spec = self.spec
        self.broken_n = 0
        self.tie_target = None
        self.spec_target = None
        self.mode = NORMAL

    def _chord(self, ch: str) -> None:
        if ch == "'" or ch == ",":
            self.marks += 1
        if ch in NOTE_LETTERS:
            self.marks = 0
            self.chord_notes += 1
            self.chord_spec = ""
            if self.chord_notes == 1:
                self._reset_spec()
                self.last_sound = (self.prev if self.prev in ACCIDENTALS else "", ch)
        elif ch == "]":
            self._close_chord()
        elif ch == "\n":
            self._close_chord()
            self._commit()
            self._normal(ch)
        elif self.chord_notes == 1:
            self._spec_char(ch)
        elif "0" <= ch <= "9" or ch == "/":
            self.chord_spec += ch  # (the chord lasts as long as its first note)

    def _close_chord(self) -> None:
        inner = self.multiplier() if self.chord_notes else 1
        self.elem_kind = CHORD_ELEM
        self.elem_in_tuplet = self.tup_left > 0  # (before _factor counts the chord off)
        base = self._factor()
        self.elem_base = base if inner == 1 else base * inner
        self.inner_spec = self.spec if self.chord_notes else ""
        self._reset_spec()
        self.mode = ELEM
        self.tie_pitch = self.tie_target = None
        self.spec_target = self.broken_spec
        self.broken_spec = None

    def _broken(self, ch: str) -> None:
        if not self.last_in_bar:
            return
        if self.broken_n == 0:
            self.broken_dir = ch
        elif ch != self.broken_dir or self.broken_n >= 3:
            return
        old = broken_factors(self.broken_dir, self.broken_n)[0]
        if self.broken_n == 0:
            self.broken_spec = self.last_spec
        self.broken_n += 1
        new, nxt = broken_factors(self.broken_dir, self.broken_n)
        self.used += self.last_len * (new - old)
        self.next_broken = nxt

    def _end_tuplet(self) -> None:
        parts = self.tup_parts
        p = int(parts[0]) if parts[0] else 0
        if p < 2:
            return
        q = int(parts[1]) if len(parts) > 1 and parts[1] else 0
        r = int(parts[2]) if len(parts) > 2 and parts[2] else 0
        if q == 0:
            q = _TUPLET_Q.get(p, 0) or (3 if self.compound else 2)
        self.tup_factor = Fraction(q, p)
        self.tup_left = r or p

    # -- bar lines -------------------------------------------------------------------------

    def _close_bar(self, token: str, end: bool = False) -> None:
        self.token_at_line_start = self.last_content[0] != self.line
        duration = max(self.used, self.overlay_max)
        if self.has_notes:
            bar = ClosedBar()
            bar.index = self.n_bars
            bar.duration = duration
            bar.expected = self.expected()
            bar.has_notes = True
            bar.pickup_eligible = self.n_bars == 0 or self.after_boundary
            bar.end_boundary = end
            bar.line, bar.column = self.bar_line, max(self.bar_col, 0)
            if end:
                bar.end_line, bar.end_column = self.last_content
            else:
                bar.end_line, bar.end_column = self.line, self.col + 1
            self.n_bars += 1
            if bar.expected:
                self.bars_played += duration / bar.expected
            if self.record:
                self.bars.append(bar)
            if bar.pickup_eligible and bar.expected is not None and duration < bar.expected:
                self.pickup = duration
            self.closed = bar
            self.closed_empty = False
            self.after_boundary = False
        else:
            self.closed_empty = True
        self.used = Fraction(0)
        self.overlay_max = Fraction(0)
        self.has_notes = False
        self.extra_bars = 0
        self.bar_col = -1
        self.last_in_bar = False
        self.next_broken = ONE
        self.broken_spec = None
        if not end:
            self.token = token
            self.mode = TOKEN
            self._classify_token()
        self.rest_bars = 0

    def _end_token(self) -> None:
        """A bar line is complete: follow its repeats and variant endings."""
        token = self.token
        bare = token.rstrip("0123456789,")
        if ":" in bare:
            self.repeated = True
        if token.startswith(":"):
            self.repeat_open = False
        if bare.endswith(":"):
            self.repeat_open = True
            self.variant = 0
            self.colon_reopened = bare.startswith(":|")
        if bare != token:
            self.variant = int(token[len(bare)] if token[len(bare)].isdigit() else 0)
        elif bare in ("||", "|]", "[|"):
            self.variant = 0

    def _classify_token(self) -> None:
        closed = None if self.closed_empty else self.closed
        if is_boundary(self.token):
            self.after_boundary = True
            if closed is not None:
                closed.end_boundary = True
        if closed is not None and closed.end_line == self.line:
            closed.end_column = self.col + 1


def broken_factors(direction: str, n: int) -> tuple[Fraction, Fraction]:
    """(factor of the element before, factor of the element after) for n `>` or `<` signs."""
    if n == 0:
        return ONE, ONE
    small = Fraction(1, 2**n)
    big = 2 - small
    return (big, small) if direction == ">" else (small, big)


def bar_lengths(text: str) -> list[BarLength]:
    """The duration of every bar (with a note or rest) of the tune `text`, against its meter.

    A bar `fits` when its duration equals the meter's bar length, or when it is shorter and is
    the tune's first bar (a pickup), the first bar after a repeat or section bar line
    (`|:`, `:|`, `::`, `||`, `|]`, `[|`: the next part's pickup), a bar closed by such a bar line
    (the pickup's complement), or the tune's last bar. In free meter (`M:none`) every bar fits;
    a bar that is too long never fits. A bar with a multi-bar rest `Z4` is expected to last as
    many bars as its rests say.
    """
    scanner = BarScanner(record=True)
    scanner.feed_text(text)
    scanner.finish()
    lines = text.split("\n")
    out = []
    bars = scanner.bars
    for i, bar in enumerate(bars):
        if bar.end_line == bar.line:
            end_column = bar.end_column
        else:
            end_column = len(lines[bar.line - 1]) if bar.line - 1 < len(lines) else bar.column
        out.append(
            BarLength(
                index=bar.index,
                line=bar.line,
                column=bar.column,
                end_column=max(end_column, bar.column),
                duration=bar.duration,
                expected=bar.expected,
                fits=bar.fits(last=i == len(bars) - 1),
            )
        )
    return out
