"""Meter-aware decoding: mask the next characters that would overfill the current bar.

`MeterAwareConstraint(tokenizer)` is a `constraint` for `models.sample.sample`: called with the
(B, V) next-token logits and the texts so far, it sets to -inf every token that would make a bar
longer than the tune's `M:` under its `L:` (read with `workbench.notation.meter.BarScanner`, so
decoding and checking share one reading of ABC), and when a bar is exactly full it allows only what
may end it, so a bar line is forced. Every bar of a tune sampled with it fits by
`meter.bar_lengths` (a tune cut off by the length cap may end mid-bar).

Each row keeps a scanner and feeds it only the characters added since the last step; the set of
allowed tokens is reduced to a small integer key (one bit per class of characters) whose mask
tensor is cached, so a step costs a few Fraction comparisons per row.

The rules, in short (`u` = the bar's duration so far, `E` = the bar length):
- Before the header's `K:` line ends, or in free meter (`M:none`), nothing is masked. A tune with
  no `M:` is in 4/4, with no `L:` in the standard default unit (1/8 from 3/4 up).
- A note, rest or chord may start while `u < E`. Its length may grow (digits) only while it fits;
  a note that starts too long for what is left (`A` with 1/16 left under `L:1/8`) can only be
  shortened (`/`, `//`, `/3`...) before anything else. Broken rhythm `>` needs room for the
  shortened next note; after `>`/`<` a note must come before any bar line.
- When `u == E` only bar lines, spaces, a newline, ties, slur ends, chord symbols, `!...!`
  decorations and comments may follow.
- A bar line (or `<end>`) may close a short bar only as a pickup or as the pickup's complement:
  the tune's first bar, or the first bar after a repeat/section bar line (`|:`, `:|`, `::`, `||`,
  `|]`, `[|`), may end at most half full (that length becomes the current pickup); a bar of
  exactly `E - pickup` may end with a repeat/section bar line (a `|` must then grow into `||` or
  `|]`, or `|:`) or with `<end>`. An empty bar may always end.
- For syntax the scanner and abc2midi read alike, a few rarely needed things are masked in the
  body: multi-bar and invisible rests (`Z`, `X`, `x`), spacers `y`, voice overlay `&`, `+...+`
  decorations, lengths inside chords (write `[CEG]2`), line continuation `\\`, tabs, blank lines,
  letters that are no notes, decorations or fields, field lines and inline fields that change
  the meter in mid-bar (fields may start only at the start of a bar), and `X:`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from fractions import Fraction

import torch
from torch import Tensor

from workbench.notation.meter import (
    _TUPLET_Q,
    ACCIDENTAL,
    ACCIDENTALS,
    BRACKET,
    BRACKET_LETTER,
    CHORD,
    COLON,
    COMMENT,
    DECO,
    ELEM,
    FIELD,
    GRACE,
    HEADER,
    INLINE,
    LS_LETTER,
    MULTI_REST,
    NORMAL,
    NOTE,
    NOTE_LETTERS,
    ONE,
    PAREN,
    QUOTE,
    TOKEN,
    TUPLET,
    VARIANT,
    BarScanner,
)

#: Letters that may start a field line in the body (at the start of a bar): key, meter, unit
#: length, part, tempo, title, notes, rhythm, words.
FIELD_LETTERS = "KLMPQTNRWw"
#: Fields that may appear inline, `[M:3/4]`.
INLINE_LETTERS = "KLMPQ"
#: Single-character decorations (ABC 2.1's default shortcuts).
DECO_CHARS = ".~HLMOPSTuv"

# Character classes, one bit each; a mask is the union of its classes' characters.
_CLASSES: list[tuple[str, str]] = [
    ("note", "ABCDEFGabcdefg"),
    ("rest", "z"),
    ("sharp", "^"),
    ("flat", "_"),
    ("natural", "="),
    ("up", "'"),
    ("down", ","),
    *[(f"d{k}", str(k)) for k in range(10)],
    ("slash", "/"),
    ("bar", "|"),
    ("colon", ":"),
    ("rbracket", "]"),
    ("lbracket", "["),
    ("space", " "),
    ("newline", "\n"),
    ("quote", '"'),
    ("bang", "!"),
    ("tie", "-"),
    ("rparen", ")"),
    ("lparen", "("),
    ("lbrace", "{"),
    ("rbrace", "}"),
    ("gt", ">"),
    ("lt", "<"),
    ("percent", "%"),
    ("deco", DECO_CHARS),
    ("fieldl", FIELD_LETTERS),
    ("inlinel", INLINE_LETTERS),
]
_BIT = {name: 1 << i for i, (name, _) in enumerate(_CLASSES)}
_N = len(_CLASSES)
END = 1 << _N  # the <end> token
ANY = 1 << (_N + 1)  # every character of the vocabulary...
NO_NEWLINE = 1 << (_N + 2)  # ...but the newline
NO_PIPE = 1 << (_N + 3)  # ...but "|"

NOTE_B = _BIT["note"]
ACC_B = _BIT["sharp"] | _BIT["flat"] | _BIT["natural"]
OCT_B = _BIT["up"] | _BIT["down"]
DIGIT_B = [_BIT[f"d{k}"] for k in range(10)]
SLASH_B = _BIT["slash"]
BAR_B = _BIT["bar"]
COLON_B = _BIT["colon"]
# What may begin a note, rest or chord, with its decorations (while the bar has room).
START_B = (
    NOTE_B
    | _BIT["rest"]
    | ACC_B
    | _BIT["lbracket"]
    | _BIT["lparen"]
    | _BIT["lbrace"]
    | _BIT["deco"]
    | _BIT["quote"]
    | _BIT["bang"]
)
# What takes no time and may come anywhere, even in a full bar.
NEUTRAL_B = (
    _BIT["space"] | _BIT["quote"] | _BIT["bang"] | _BIT["tie"] | _BIT["rparen"] | _BIT["percent"]
)


class _Row:
    __slots__ = ("key", "scanner", "seen")

    def __init__(self) -> None:
        self.scanner = BarScanner()
        self.seen = 0
        self.key: int | None = None


class MeterAwareConstraint:
    """A sampling constraint that keeps every bar within the tune's meter (see the module doc).

    `pickup_limit` is the longest a pickup bar may be, as a share of the bar.
    """

    def __init__(self, tokenizer, pickup_limit: Fraction = Fraction(1, 2)) -> None:
        self.tokenizer = tokenizer
        self.pickup_limit = Fraction(pickup_limit)
        vocab = tokenizer.vocab
        self._vocab_size = len(vocab)
        self._end_id = tokenizer.end_id
        specials = {tokenizer.start_id, tokenizer.end_id, tokenizer.unk_id}
        self._chars = [i for i in range(len(vocab)) if i not in specials]
        self._class_ids: list[list[int]] = []
        for _, chars in _CLASSES:
            self._class_ids.append([i for i in self._chars if vocab[i] in chars])
        self._newline_ids = [i for i in self._chars if vocab[i] == "\n"]
        self._pipe_ids = [i for i in self._chars if vocab[i] == "|"]
        self._masks: dict[int, Tensor] = {}
        self._option_cache: dict[tuple, tuple[int, bool, bool]] = {}
        self._device: torch.device | None = None
        self._rows: list[_Row] = []
        self._prompt = ""

    # -- the sampler's interface -----------------------------------------------------------

    def reset(self) -> None:
        """Forget the rows (a new call of `sample` is also noticed by itself)."""
        self._rows = []
        self._prompt = ""

    def __call__(self, logits: Tensor, texts: Sequence[str]) -> Tensor:
        batch = logits.shape[0]
        rows = self._rows
        first = texts[0] if batch else ""
        if len(rows) != batch or not first.startswith(self._prompt):
            rows = self._rows = [_Row() for _ in range(batch)]
            self._prompt = first
        if logits.device != self._device:
            self._masks.clear()
            self._device = logits.device
        keys: list[int | None] = []
        masked = False
        for b in range(batch):
            row = rows[b]
            text = first if b == 0 else texts[b]
            n = len(text)
            if n != row.seen:
                if n < row.seen:
                    row.scanner = BarScanner()
                    row.seen = 0
                feed = row.scanner.feed
                for ch in text[row.seen :]:
                    feed(ch)
                row.seen = n
                row.key = self.key(row.scanner)
            keys.append(row.key)
            masked = masked or row.key is not None
        if not masked:
            return logits
        allow = torch.stack([self._mask(k) for k in keys])  # (B, V) bool
        return logits.masked_fill(~allow, float("-inf"))

    def allowed(self, scanner: BarScanner) -> list[str] | None:
        """The tokens allowed after what `scanner` has read (None: all); for tests and views."""
        key = self.key(scanner)
        if key is None:
            return None
        mask = self._mask(key)
        return [self.tokenizer.vocab[i] for i in torch.nonzero(mask).flatten().tolist()]

    # -- masks -----------------------------------------------------------------------------

    def _mask(self, key: int | None) -> Tensor:
        mask = self._masks.get(-1 if key is None else key)
        if mask is not None:
            return mask
        if key is None:
            mask = torch.ones(self._vocab_size, dtype=torch.bool)
        else:
            ids: set[int] = set()
            if key & ANY:
                ids.update(self._chars)
                if key & NO_NEWLINE:
                    ids.difference_update(self._newline_ids)
                if key & NO_PIPE:
                    ids.difference_update(self._pipe_ids)
            for i, class_ids in enumerate(self._class_ids):
                if key >> i & 1:
                    ids.update(class_ids)
            if key & END:
                ids.add(self._end_id)
            mask = torch.zeros(self._vocab_size, dtype=torch.bool)
            mask[sorted(ids)] = True
        mask = mask.to(self._device or "cpu")
        self._masks[-1 if key is None else key] = mask
        return mask

    # -- the rules -------------------------------------------------------------------------

    def key(self, sc: BarScanner) -> int | None:
        """The classes of characters allowed next, as bits; None when nothing is masked."""
        mode = sc.mode
        if mode == HEADER:
            return None
        expected = sc.expected()
        if expected is None:
            return None
        if mode == NORMAL:
            return self._normal_key(sc, sc.used, expected)
        if mode == ELEM:
            return self._elem_key(sc, expected)
        if mode == TOKEN:
            return self._token_key(sc, expected)
        if mode == QUOTE:
            return ANY | NO_NEWLINE
        if mode in (DECO, INLINE):
            return ANY | NO_NEWLINE | NO_PIPE
        if mode in (COMMENT, FIELD):
            return ANY | (END if self._end_ok(sc, sc.used, expected) else 0)
        if mode == ACCIDENTAL:
            key = NOTE_B
            if sc.accidentals < 2 and sc.prev in "^_":
                key |= _BIT["sharp"] if sc.prev == "^" else _BIT["flat"]
            return key
        if mode == CHORD:
            if sc.prev in ACCIDENTALS:
                return NOTE_B
            key = ACC_B | (NOTE_B if sc.chord_notes < 4 else 0)
            if sc.chord_notes:
                key |= _BIT["rbracket"]
            if sc.prev in NOTE_LETTERS or sc.prev in "',":
                key |= OCT_B
            return key
        if mode == BRACKET:
            key = 0
            if self._can_start(sc, sc.used, expected):
                key |= NOTE_B | ACC_B
            if self._closable(sc, sc.used, expected, boundary=True):
                key |= BAR_B
            if self._bar_empty(sc):
                key |= DIGIT_B[1] | DIGIT_B[2] | _BIT["inlinel"]
            return key
        if mode == BRACKET_LETTER:
            return COLON_B
        if mode == VARIANT:
            return self._normal_key(sc, sc.used, expected) & ~_BIT["tie"]
        if mode == COLON:
            return BAR_B | COLON_B
        if mode == PAREN:
            key = START_B & ~_BIT["lparen"]
            if sc.tup_left == 0 and sc.next_broken is ONE:
                room = expected - sc.used
                grain = sc.unit / SUBDIVISION
                if (room / grain).denominator == 1:
                    for p in TUPLETS:
                        if room >= _TUPLET_Q[p] * grain:
                            key |= DIGIT_B[p]
            return key
        if mode == TUPLET:
            return START_B & ~_BIT["lparen"]
        if mode == GRACE:
            key = NOTE_B | ACC_B
            if sc.prev == "{":
                key |= SLASH_B
            elif sc.prev in NOTE_LETTERS or sc.prev in "',":
                key |= OCT_B | _BIT["rbrace"]
            return key
        if mode == LS_LETTER:
            return self._line_start_key(sc, expected)
        return None

    def _bar_empty(self, sc: BarScanner) -> bool:
        return not sc.has_notes and sc.next_broken is ONE and sc.mode != ELEM

    def _closable(self, sc: BarScanner, used: Fraction, expected: Fraction, boundary: bool) -> bool:
        """May a bar line end the current bar (of duration `used`) here?"""
        if sc.next_broken is not ONE:
            return False
        if not sc.has_notes and sc.mode != ELEM:
            return True
        if sc.tup_left:
            return False
        if used == expected:
            return True
        if used > expected:
            return False
        if (sc.n_bars == 0 or sc.after_boundary) and used <= expected * self.pickup_limit:
            return True
        return boundary and sc.pickup > 0 and used == expected - sc.pickup

    def _end_ok(self, sc: BarScanner, used: Fraction, expected: Fraction) -> bool:
        """May the tune end here? (An empty, full, or pickup-complement last bar.)"""
        if sc.next_broken is not ONE:
            return False
        if not sc.has_notes and sc.mode != ELEM:
            return True
        if sc.tup_left:
            return False
        return used == expected or (sc.pickup > 0 and used == expected - sc.pickup)

    def _can_start(self, sc: BarScanner, used: Fraction, expected: Fraction) -> bool:
        """May a note, rest or chord start in a bar of duration `used` (is there a length for
        it that keeps the bar completable)?"""
        room = expected - used
        if room <= 0:
            return False
        base = sc.unit
        left = sc.tup_left
        if left:
            base = base * sc.tup_factor
            left -= 1
        if sc.next_broken is not ONE:
            base = base * sc.next_broken
        return self._options("", base, room, sc.unit, sc.tup_factor, left)[2]

    def _options(
        self, prefix: str, base: Fraction, room: Fraction, unit: Fraction, tf: Fraction, left: int
    ) -> tuple[int, bool, bool]:
        """Length characters that may follow `prefix` for an element of `base` length.

        Returns (bits of the next length characters that lead to a good length, whether
        `prefix` itself is a good length, whether any good length starts with `prefix`).
        A length is good when it fits in `room` and leaves a room that later notes can fill
        exactly: a multiple of the shortest note (unit/16) once the `left` notes still due in
        the current tuplet (each a multiple of unit/16 times the tuplet factor `tf`) are written.
        """
        grain = unit / SUBDIVISION
        cache_key = (prefix, room / grain, base / grain, tf if left else ONE, left)
        found = self._option_cache.get(cache_key)
        if found is None:
            found = _suffix_options(*cache_key)
            self._option_cache[cache_key] = found
        return found

    def _normal_key(self, sc: BarScanner, used: Fraction, expected: Fraction) -> int:
        """What may follow outside a note, in a bar of duration `used`."""
        key = NEUTRAL_B
        broken = sc.next_broken is not ONE
        if sc.prev != "\n" and not broken:
            key |= _BIT["newline"]
        if self._can_start(sc, used, expected):
            key |= START_B
            if sc.tup_left:
                key &= ~_BIT["lparen"]
        if self._closable(sc, used, expected, boundary=True):
            key |= BAR_B | COLON_B
        if self._end_ok(sc, used, expected):
            key |= END
        if sc.at_line_start and sc.mode == NORMAL and self._bar_empty(sc):
            # A letter here may begin a field line: only at the start of a bar.
            key |= _BIT["fieldl"]
        return key

    def _elem_key(self, sc: BarScanner, expected: Fraction) -> int:
        """After a note, rest or chord: its length may only grow into a good length."""
        if sc.elem_kind == MULTI_REST or sc.elem_base <= 0:
            return 0
        room = expected - sc.used
        bits, good, _ = self._options(
            sc.spec, sc.elem_base, room, sc.unit, sc.tup_factor, sc.tup_left
        )
        key = bits
        if sc.spec == "" and sc.elem_kind == NOTE and sc.octaves < 3:
            key |= OCT_B
        if not good:
            return key
        length = sc.pending_length()
        key |= self._normal_key(sc, sc.used + length, expected)
        # Broken rhythm (outside tuplets): the next note must have a good length too.
        if sc.tup_left == 0 and sc.next_broken is ONE:
            for bit, mine, theirs in ((_BIT["gt"], HALF3, HALF), (_BIT["lt"], HALF, HALF3)):
                rest = room - length * mine
                if rest > 0 and self._options("", sc.unit * theirs, rest, sc.unit, ONE, 0)[2]:
                    key |= bit
        return key

    def _token_key(self, sc: BarScanner, expected: Fraction) -> int:
        """Just after a bar line: it may grow (`||`, `|]`, `:|2`), or the next bar begins."""
        token = sc.token
        closed = None if sc.closed_empty else sc.closed
        must_grow = False
        if closed is not None and token == "|":
            e = closed.expected
            d = closed.duration
            must_grow = not (
                e is None or d == e or (closed.pickup_eligible and d <= e * self.pickup_limit)
            )
        key = 0
        if token == "|":
            key |= BAR_B | _BIT["rbracket"] | COLON_B
            if not must_grow:
                key |= DIGIT_B[1] | DIGIT_B[2]
        elif token == ":|":
            key |= COLON_B | DIGIT_B[1] | DIGIT_B[2]
        if must_grow:
            return key
        return key | self._normal_key(sc, sc.used, expected)

    def _line_start_key(self, sc: BarScanner, expected: Fraction) -> int:
        """A letter began the line: a field if ':' follows (only at a bar's start), else music."""
        letter = sc.ls_letter
        key = 0
        if letter in FIELD_LETTERS and self._bar_empty(sc):
            key |= COLON_B
        if letter in NOTE_LETTERS or letter == "z" or letter in DECO_CHARS:
            music = copy.copy(sc)
            music.mode = NORMAL
            music.at_line_start = False
            music._normal(letter)
            music.prev = letter
            # ':' after a line-start letter always makes a field, never a bar line.
            key |= (self.key(music) or 0) & ~COLON_B
        return key


# -- note lengths the decoder writes ---------------------------------------------------------

#: The shortest note is the unit length over this (`A/16`, `A////` is not written).
SUBDIVISION = 16
HALF = Fraction(1, 2)
HALF3 = Fraction(3, 2)
#: Tuplets the decoder may open: (2, (3, (4, (6 with their standard time (3, 2, 3, 2 notes).
TUPLETS = (2, 3, 4, 6)


def _length_suffixes() -> dict[str, Fraction]:
    """The length suffixes the decoder may write, with their multipliers.

    Numerators 2-9, 12, 16; denominators `/`, `//`, `///`, `/2`, `/4`, `/8`, `/16`; and both
    (`A3/2`). Only powers of two divide, so every length is a multiple of unit/16 and any bar
    (a multiple of unit/16 under common meters) can be completed exactly.
    """
    nums = {"": 1, **{str(n): n for n in (2, 3, 4, 5, 6, 7, 8, 9, 12, 16)}}
    dens = {"": 1, "/": 2, "//": 4, "///": 8, "/2": 2, "/4": 4, "/8": 8, "/16": 16}
    return {n + d: Fraction(nv, dv) for n, nv in nums.items() for d, dv in dens.items()}


_SUFFIXES = _length_suffixes()
# prefix -> {next character: (multiplier, numerator) of the suffixes through it}
_TRIE: dict[str, dict[str, list[tuple[Fraction, int]]]] = {}
for _text, _mult in _SUFFIXES.items():
    _num = int(_text.split("/", 1)[0] or 0)  # 0: no numerator written
    for _i in range(len(_text)):
        _TRIE.setdefault(_text[:_i], {}).setdefault(_text[_i], []).append((_mult, _num))
_CHAR_BIT = {str(k): DIGIT_B[k] for k in range(10)}
_CHAR_BIT["/"] = SLASH_B


def _good(mult: Fraction, room: Fraction, base: Fraction, tf: Fraction, left: int) -> bool:
    """Whether a note of `base * mult` leaves a `room` (all in unit/16 grains) that `left`
    tuplet notes of `tf` grains each, or more, and then whole grains can fill exactly."""
    rest = room - base * mult
    if rest < 0:
        return False
    if not left:
        return rest.denominator == 1
    # K tuplet grains (K >= left) take K * tf; K * tf repeats modulo 1 with period tf's denominator.
    for k in range(left, left + tf.denominator):
        after = rest - k * tf
        if after < 0:
            return False
        if after.denominator == 1:
            return True
    return False


def _suffix_options(
    prefix: str, room: Fraction, base: Fraction, tf: Fraction, left: int
) -> tuple[int, bool, bool]:
    """(next-character bits, prefix good, any good) for a length being written.

    A numerator that alone overfills the bar (`a2` with an eighth left) is masked even when a
    denominator could bring it back (`a2/4`); only when nothing else would complete the bar are
    such lengths allowed.
    """
    most = room / base  # the longest multiplier that fits
    for strict in (True, False):
        bits = 0
        for ch, options in _TRIE.get(prefix, {}).items():
            if any(
                _good(m, room, base, tf, left) and (not strict or n <= most) for m, n in options
            ):
                bits |= _CHAR_BIT[ch]
        mult = _SUFFIXES.get(prefix)
        if mult is None and prefix and prefix not in _TRIE:
            # A length the decoder does not write (from the prompt): judge it as it stands.
            mult = _parse_suffix(prefix)
        good = mult is not None and _good(mult, room, base, tf, left)
        if bits or good:
            return bits, good, True
    return 0, False, False


def _parse_suffix(text: str) -> Fraction:
    scanner = BarScanner()
    scanner.feed_text("K:C\n")
    for ch in text:
        scanner._spec_char(ch)
    return Fraction(scanner.multiplier())


def meter_aware_constraint(tokenizer) -> MeterAwareConstraint:
    """The meter-aware constraint for `tokenizer`'s vocabulary, with the default rules."""
    return MeterAwareConstraint(tokenizer)


__all__ = ["MeterAwareConstraint", "meter_aware_constraint"]
