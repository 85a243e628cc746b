r"""Meter-aware decoding: mask the next characters that would overfill the current bar.

`MeterAwareConstraint(tokenizer)` is a `constraint` for `models.sample.sample`: called with the
(B, V) next-token logits and the texts so far, it sets to -inf every token that would make a bar
longer than the tune's `M:` under its `L:` (read with `workbench.notation.meter.BarScanner`, so
decoding and checking share one reading of ABC), and when a bar is exactly full it allows only what
may end it, so a bar line is forced. Every bar of a tune sampled with it fits by
`meter.bar_lengths` (a tune cut off by the length cap may end mid-bar).

Each row keeps a scanner and feeds it only the characters added since the last step; what is
allowed next is reduced to a small key (bits for classes of characters, plus single characters)
whose mask tensor is cached per vocabulary and device, so a step costs a few Fraction operations
per row (measured: ~0.03 ms per row at B=32, ~0.08 ms at B=1; benchmarks/musicality.py --overhead).

The meter rules (`u` = the bar's duration so far, `E` = the bar length):
- Before the header's `K:` line ends, or in free meter (`M:none`), durations are not checked.
  A tune with no `M:` is in 4/4, with no `L:` in the standard default unit (1/8 from 3/4 up).
- A note, rest or chord may start while it can still be given a length that keeps the bar
  completable: lengths are the unit times 2-9, 12, 16 and/or divided by 2, 4, 8, 16 (`A3/2`,
  `A//`, `A/16`), so every bar is a whole number of unit/16 steps and can always be filled exactly.
  A numerator that alone overfills (`a2` with an eighth left) is masked; a note that starts too
  long for what is left (`A` with 1/16 left under `L:1/8`) can only be shortened (`/`...) first.
- Tuplets `(2 (3 (4 (6` open only where they fit and must finish within the bar; broken rhythm
  `>`/`<` only where the pair's second note (as long as the first, as abc2midi requires) fits.
- When `u == E` only a bar line, spaces, a newline (or `\` and one), `)` closing a slur or
  `<end>` may follow.
- A bar line (or `<end>`) may close a short bar only as a pickup or as the pickup's complement:
  the tune's first bar, or the first after a repeat/section bar line (`|:`, `:|`, `::`, `||`,
  `|]`, `[|`), may end at most half full (that length becomes the current pickup); a bar of
  exactly `E - pickup` may end with a repeat/section bar line (a `|` must then grow into `||`,
  `|]` or `|:`) or with `<end>`. An empty bar may always end.

So that what the scanner counts is what abc2midi plays (and abc2midi prints no `Error`), the
body's syntax is kept to what both read alike: no multi-bar or invisible rests (`Z`, `X`, `x`),
spacers, voice overlays, `+...+` decorations, unequal lengths inside chords (`[c2e2]` or `[ce]2`),
tabs, blank lines (nor lines of spaces alone), comments, or letters that are no notes, decorations
or fields; field lines only at the start of a bar; `M:`, `L:` and `K:` values (in the header too)
that abc2midi reads, and no `P:` part order in the header; `'` only after lower-case notes and `,`
after upper-case ones; a single-character decoration directly before its note (or a lone `.`
before a slur's `(`); chord symbols abc2midi knows (`"Am7"`, `"D/F#"`), fingerings (`"4"`) or
short annotations (`"^fine"`), one at a time; ties only after a (non-staccato) note and into the
same note; `|:` not inside a repeat, `|1` only inside one, `:|2` only after a `|1`, `::` only
inside one or before the tune's first, and no `<end>` while a repeat is open; at most `SPACE_RUN`
spaces and back quotes in a row, so that a model that wants a bar line where none may go writes
notes rather than spaces.

What real collections write in that syntax is allowed, since a model trained on one writes it
too (`benchmarks/decoder_vs_real.py` teacher-forces real tunes through these rules): line
continuations `\`, fingerings, slurs around tuplets `((3abc)`, after a staccato `.(ab)` or on a
broken rhythm's second note `A>(Bc)`, runs of spaces and back quotes that align bars, indented
field values `M:  2/4`, and `::` before the first `|:`. In the 516 tunes of Ryan's Mammoth that
abc2midi reads with no error, the rules masked a character in 93 % (mostly those), now in 36 %
(mostly lengths inside chords, short first sections and ends away from the tonic, by design).

The header follows a grammar (`_header_key`): one `X:` number first, then field lines only,
`K:` last and never before an `M:` or `L:`, no `<end>` before it, tempos and hornpipe meters as
abc2midi reads them. In the body: no `N:`/`R:` lines, known `!decoration!` names only, a grace
group's note after it, no broken rhythm on a staccato, fermata or `!breath!` note or a tuplet's
last. Given the sampler's
length cap, a tune closes in its last `CLOSING_MARGIN` characters instead of being cut off.
Measured over 3,000 tunes of the shipped model at three seeds: 0 abc2midi errors (from 47).

The ending rules (`end_on_tonic`, on by default; `workbench generate --no-end-on-tonic` and
the GUI's meter-aware switch turn them off): `<end>` and `|]` only after the key's tonic and
after `MIN_BARS` bars, and `<end>` at home gets `HOME_BONUS`. With them comes the shape bias
(`shape=False` drops it alone), since the model counts no bars: its tunes ran a median 19 bars
(p90 42-44) against the corpus's 16 (p90 24), and 8 % of their sections (the stretches between
repeat/section bar lines) were 8 or 16 bars long against 59 % (tune_shape on 600 held-out
tunes of corpus:folk: 70 % are one section, mostly 8, 12 or 16 bars; 26 % two, mostly 8 + 8).
Each row counts the bars of its current section, and soft logit biases (never a mask) follow
what real tunes do:
- Where a bar line would close a section (the `:` of `:|` after a full bar; `|`, `]`, `:` after
  a `|`, growing into `||`, `|]`, `|:`; any bar line after a pickup's complement, where `|` must
  grow), `SHAPE_CLOSE` by the section's bars: + after 8, 16..., - after 4 or 12, -- after other
  even counts, --- after odd ones or a pickup alone, and `SHORT_SECTION` (----) after 1 to 3
  bars (the model wrote `||` after a bar or two in a third of its tunes, most of them forced by
  the pickup rule above; real tunes hardly ever do).
- `<end>` at home gets, besides `HOME_BONUS`, `END_AT` at 8 and 16 bars (at 16 nearly a rule:
  the model's own p(<end>) at the end of bar 16 was under 0.001 in most tunes that ran on),
  else `SHAPE_END` by what the bars are a multiple of (8, 4, 2, odd), plus `LATE_BONUS` a bar
  past `LATE_FROM`: tunes that miss 16 end soon after rather than wander.
- The tonic's letter gets `TONIC_PULL` (half in bar 8) in the second half of bar 16 and of
  every bar past `LATE_FROM`, so that a tune is at home where it should end.
- Just after a first section closed by a repeat (`|: A :|`), `<end>` gets `END_AFTER_REPEAT`:
  a dance's A part is not the whole tune (2 of 1,200 training tunes are one repeated section).
- In a tune that has closed a section before, `<end>` also gets `SECTION_END` by the bars of
  the section it would close, the tune's last: + after 8 or 16, - after 4 or 12, -- after other
  counts, --- under 4 (`END_AT` alone pulled the end to bar 16 whatever the form: `||` at bar
  14 and two bars more, or a 4-bar A part and a 12-bar B part).
- A later variant ending (`:|2`, `:|[2`) replaces the one before it, as abc2midi plays it and
  music21 reads it: its bars go on the section its first ending was in, and the tune's bar
  count leaves the replaced ending out. Counted from its own bar line, the `||` after a one-bar
  second ending closed "a section of one bar" and `<end>` at the end of an AABB tune with
  endings came at "bar 18", both all but forbidden, in the form most dance tunes of real
  collections are written in. Just after `|1 ... :|`, `<end>` gets `END_AFTER_REPEAT`: the
  second ending comes.
Measured (benchmarks/musicality.py --num 1000 --temperatures 1.0 --meter-aware, seeds 101,
202, 303, against 1,000 held-out tunes of the shipped model's own training tunebook each,
2026-12-06): two repeated 8-bar parts 11.4 / 11.3 / 11.2 % (real 12.4 / 11.3 / 12.4 %; 2.3-3.3 %
at 300 tunes a seed before the section rules), sections 8 or 16 bars long 55-57 % (50-53 %),
1.53-1.61 sections a tune (1.23-1.28), median 16 bars, bar-bin TV 0.14-0.18, ending on the
tonic 99.7-99.9 %, abc2midi clean 99.7-100 %, music21 100 %, every bar fits. How each constant
got its value is in its comment (SHAPE_CLOSE, SHORT_SECTION, SECTION_END). What is left is the
model's: real Essen songs are one section each, 15-20 % of the model's Essen-style songs have
more, and a bias cannot tell the model which style it is writing.

A prompt is the user's and may break these rules: a bar it overfilled may end at a bar line,
and where it leaves the rules nothing to allow (a chord symbol or inline field they cannot
read) that row is left unmasked for the step (`unmasked_rows` counts them), so a tune is never
ended for want of a token (tests/fuzz/test_fuzz_decoding.py).
"""

from __future__ import annotations

import copy
import string
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
    CHORD_ELEM,
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
    at_home,
)

#: Letters that may start a field line in the body (at the start of a bar): key, meter, unit
#: length, part, tempo, title, words (abc2midi refuses N: and R: in the body).
FIELD_LETTERS = "KLMPQTWw"
#: Fields a header line may be: no P: (a part order abc2midi rejects unless the body names
#: those parts), U:/I:/V:/E:/m: (definitions and instructions), or anything that is no field.
HEADER_LETTERS = "XTCOARMLKNZSBDHGFQW"
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
    ("backquote", "`"),
    ("newline", "\n"),
    ("backslash", "\\"),
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
NO_COLON = 1 << (_N + 4)  # ...but ":"
NO_K = 1 << (_N + 5)  # ...but "K"
NO_E = 1 << (_N + 6)  # ...but "e" and "E" (R:hornpip|e where the meter is no hornpipe's)
NO_ESCAPE = 1 << (_N + 7)  # ...but "%", "\\", ";" and "," (in quotes: see _quote_key)

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
# What may follow a single-character decoration (`.A`, `~G`, `TA`): abc2midi wants a note
# (`L!trill!c` and `~"G"c` are "Malformed note"; `!trill!Lc` is fine).
AFTER_DECO_B = NOTE_B | _BIT["rest"] | ACC_B | _BIT["lbracket"] | _BIT["deco"]
#: ...but no chord after a roll or trill: "Rolls and trills not supported in chords".
NO_CHORD_AFTER = "~T"
# What may follow `>`/`<`: the pair's second note (or rest), nothing else; no staccato `.` or
# fermata `H` on it, which change its length (abc2midi: "Notes not equal durations").
AFTER_BROKEN_B = NOTE_B | _BIT["rest"] | ACC_B | _BIT["quote"] | _BIT["bang"]
AFTER_BROKEN_DECO = "".join(c for c in ".~HLMOPSTuv" if c not in ".H")

# What may close a section: `:` (`:|`), and after a `|`: `|`, `]`, `:` (`||`, `|]`, `|:`).
_CLOSE_B = COLON_B | BAR_B | _BIT["rbracket"]

#: A key: the bits of the allowed classes and any single characters allowed besides.
Key = tuple[int, str]

# Chord symbols abc2midi knows: a root, a chord type, an optional bass ("Am7", "D/F#").
_ROOTS = [r + a for r in "ABCDEFG" for a in ("", "#", "b")]
_CHORD_TYPES = (
    "", "m", "7", "m7", "maj7", "M7", "6", "m6", "9", "m9", "11", "dim", "dim7", "aug", "+",
    "sus", "sus4", "7sus4", "m7b5", "5",
)  # fmt: skip
_CHORD_NAMES = {
    r + t + b for r in _ROOTS for t in _CHORD_TYPES for b in ["", *("/" + x for x in _ROOTS)]
}
_CHORD_NEXT: dict[str, str] = {}
for _name in _CHORD_NAMES:
    for _i in range(len(_name)):
        _CHORD_NEXT[_name[:_i]] = _CHORD_NEXT.get(_name[:_i], "") + _name[_i]
_CHORD_NEXT = {k: "".join(sorted(set(v))) for k, v in _CHORD_NEXT.items()}
#: Annotations ("^text", "_text", "<text", ">text", "@text") may say anything, briefly.
ANNOTATION_PREFIXES = "^_<>@"
ANNOTATION_MAX = 30
#: The most spaces before a field's value (`M:  2/4`, as O'Neill's write some).
FIELD_INDENT = 2
#: Fingerings in quotes ("4", "04"): digits, at most this many, the first a finger (abc2midi
#: reads a quoted text that starts with 0-5 as no chord, and one that starts with 6-9 as a bad
#: one; 90 % of Ryan's quoted texts that are neither chord symbols nor prefixed annotations are
#: fingerings).
FINGERS = "012345"
FINGERING_MAX = 2
#: The most spaces in a row. Tunes align their bars with runs of spaces (2 or more are 1.6 %
#: of Ryan's runs, 4 % of O'Neill's, 38 % of Aird's; 8 or more 0.04, 0.4 and 3.4 %); a run
#: without limit would let a model that wants a bar line where none may go write spaces
#: instead of the notes that fill the bar.
SPACE_RUN = 8
#: Values the decoder lets `M:`, `L:` and `K:` take (in the header too: a meter or key abc2midi
#: cannot read is an error), and the characters a `P:` (part) value may use.
METER_VALUES = {"C", "C|"} | {f"{n}/{d}" for n in range(1, 13) for d in (2, 4, 8, 16)}
UNIT_VALUES = {"1/1", "1/2", "1/4", "1/8", "1/16", "1/32"}
_MODES = ("", "m", "min", "maj", "ion", "dor", "phr", "lyd", "mix", "aeo", "loc", "Dor", "Mix")
KEY_VALUES = {r + m for r in _ROOTS for m in _MODES}
PART_CHARS = string.ascii_uppercase + string.digits + ".()"
#: Tempo (`Q:`) values abc2midi reads: a beat of a power-of-two note and a whole number of beats
#: a minute, or the beats alone.
_BEATS = ("1/4", "1/8", "3/8", "1/2", "3/4", "1/16", "3/16", "1/1")
TEMPO_VALUES = {f"{b}={bpm}" for b in _BEATS for bpm in range(40, 241)} | {
    str(bpm) for bpm in range(40, 241)
}
#: abc2midi plays a hornpipe (an `R:` naming one) only in these meters.
HORNPIPE_METERS = {"2/4", "4/4", "C"}
#: `X:` reference numbers: 1 to 6 digits, a leading 0 allowed (Aird's Airs are numbered `X:0831`;
#: abc2midi and music21 read it, and forbidding it turned every Aird's-style opening into an
#: Essen one: 25 of 300 unconstrained tunes opened with a 4-digit number, 1 of 300 constrained).
X_DIGITS = 6
#: `!decoration!` names abc2midi and ABC 2.1 know (no fermata: it lengthens its note).
DECO_NAMES = {
    "trill", "trill(", "trill)", "lowermordent", "uppermordent", "mordent", "pralltriller",
    "roll", "turn", "turnx", "invertedturn", "invertedturnx", "arpeggio", ">", "accent",
    "emphasis", "tenuto", "0", "1", "2", "3", "4", "5", "+", "plus", "snap", "slide", "wedge",
    "upbow", "downbow", "open", "thumb", "breath", "pppp", "ppp", "pp", "p", "mp", "mf", "f",
    "ff", "fff", "ffff", "sfz", "crescendo(", "crescendo)", "<(", "<)", "diminuendo(",
    "diminuendo)", ">(", ">)", "segno", "coda", "D.S.", "D.C.", "dacoda", "dacapo", "fine",
    "shortphrase", "mediumphrase", "longphrase",
}  # fmt: skip


def _next_chars(values: set[str]) -> dict[str, str]:
    """prefix -> the characters that may follow it in one of `values`."""
    out: dict[str, set[str]] = {}
    for value in values:
        for i in range(len(value)):
            out.setdefault(value[:i], set()).add(value[i])
    return {k: "".join(sorted(v)) for k, v in out.items()}


_FIELD_VALUES = {
    "M": METER_VALUES,
    "L": UNIT_VALUES,
    "K": KEY_VALUES,
    "Q": TEMPO_VALUES,
    "hornpipe M": HORNPIPE_METERS,
}
_FIELD_NEXT = {letter: _next_chars(values) for letter, values in _FIELD_VALUES.items()}
_DECO_NEXT = _next_chars(DECO_NAMES)
_DECOS = (DECO_NAMES, _DECO_NEXT)
PAIRED_DECO_NAMES = DECO_NAMES - {"breath"}
_PAIRED_DECO_NEXT = _next_chars(PAIRED_DECO_NAMES)

GRACE_MAX = 8
#: `!decoration!` names: letters, digits and a few signs, at most this long.
DECO_NAME_CHARS = string.ascii_letters + string.digits + ".<>()-/"
DECO_MAX = 12


# Shared caches: masks per vocabulary and device; length options per (prefix, room, base...).
_MASK_CACHES: dict[tuple[str, ...], dict[str, dict]] = {}
_OPTION_CACHE: dict[tuple, tuple[int, bool, bool]] = {}


class _Row:
    __slots__ = (
        "before_ending",
        "ending_from",
        "first_repeated",
        "in_boundary",
        "key",
        "last_section",
        "replaced",
        "scanner",
        "section_start",
        "sections",
        "seen",
        "variant",
    )

    def __init__(self) -> None:
        self.scanner = BarScanner()
        self.seen = 0
        self.key: Key | None = None
        # The tune's form, for the shape bias: bars played when the current section began,
        # sections closed so far, and whether the scanner is just past a section bar line.
        self.section_start = Fraction(0)
        self.sections = 0
        self.in_boundary = False
        # The bars of the section closed most recently (the tune's last, if it ends there).
        self.last_section = 0
        # Whether the first section was closed by a repeat (`:|`, `::`): a tune is then a
        # dance's first part, and it goes on (see END_AFTER_REPEAT).
        self.first_repeated = False
        # Variant endings (`|1 ... :|2 ...`): a later ending replaces the one before it, as
        # abc2midi plays it and music21 reads it. The ending being played (the scanner's
        # `variant` as last seen); the section's bars before its first ending, which a later
        # ending's section goes on from; the tune's bars where the ending before this one
        # began; and the bars of endings replaced so far, which the tune's length leaves out.
        self.variant = 0
        self.before_ending = Fraction(0)
        self.ending_from: Fraction | None = None  # None: no first ending in this repeat
        self.replaced = Fraction(0)

    def track(self) -> None:
        """After each character: a repeat/section bar line (`:|`, `||`, `|:`...) starts a new
        section (the scanner keeps `after_boundary` until the next bar with notes closes); a
        later ending (`:|2`, `:|[2`) goes on the section its first ending was in."""
        sc = self.scanner
        if sc.variant != self.variant:
            # The scanner names the ending once its bar line (`:|2`, `[2`) is read, after
            # the repeat's `:|` began the boundary below.
            if sc.variant == 1:  # a first ending begins
                self.before_ending = sc.bars_played - self.section_start
                self.ending_from = sc.bars_played
            elif sc.variant == 0:  # the endings are over (`||`, `|]`, `|:`)
                self.ending_from = None
            elif self.ending_from is not None:  # a later ending replaces the one before
                self.replaced += sc.bars_played - self.ending_from
                self.ending_from = sc.bars_played
                if sc.after_boundary:  # its repeat's `:|` began a section: it goes on instead
                    self.section_start = sc.bars_played - self.before_ending
            self.variant = sc.variant
        if sc.after_boundary:
            # No bar closes while the scanner is past a section bar line, so bars_played is
            # the same for every character until then: the section starts once.
            if not self.in_boundary:
                self.in_boundary = True
                if sc.bars_played - self.section_start >= 1:
                    self.sections += 1
                    self.last_section = round(sc.bars_played - self.section_start)
                    if self.sections == 1:
                        self.first_repeated = sc.token.startswith(":")
                self.section_start = sc.bars_played
        else:
            self.in_boundary = False

    def bars(self, played: Fraction) -> Fraction:
        """The tune's bars at `played` bars read, without the endings later ones replaced."""
        return played - self.replaced


class MeterAwareConstraint:
    """A sampling constraint that keeps every bar within the tune's meter (see the module doc).

    `pickup_limit` is the longest a pickup bar may be, as a share of the bar. `max_chars`, the
    sampler's length cap, lets the tune close before it: from `CLOSING_MARGIN` characters
    before the cap, no repeat opens and the tune ends at the first place it may (a full bar, no
    repeat open). A tune cut by the cap instead ends mid-bar or inside a repeat, which abc2midi
    refuses ("Missing :| at end of tune": a third of the errors before this).
    """

    def __init__(
        self,
        tokenizer,
        pickup_limit: Fraction = Fraction(1, 2),
        max_chars: int | None = None,
        end_on_tonic: bool = True,
        home_bonus: float | None = None,
        min_bars: int | None = None,
        shape: bool | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.max_chars = max_chars
        self.end_on_tonic = end_on_tonic
        self.min_bars = (MIN_BARS if min_bars is None else min_bars) if end_on_tonic else 0
        # Where the tune may end at home, <end> gets this much more logit: the model's wish to
        # end, refused at the phrase ends away from home, is given back where ending is allowed
        # (without it tunes ran to twice the corpus's bar counts).
        bonus = HOME_BONUS if home_bonus is None else home_bonus
        self.home_bonus = bonus if end_on_tonic else 0.0
        # The shape bias (section lengths, where the tune ends, the pull to the tonic: see
        # SHAPE_CLOSE) goes with the ending rules: `shape=False` drops it alone.
        self.shape = end_on_tonic and (shape is None or shape)
        # The rule is lifted in the last HOME_MARGIN characters before the cap, so that a
        # tune that has not come home by then still ends whole rather than cut off.
        self._home_rule = end_on_tonic
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
        self._colon_ids = [i for i in self._chars if vocab[i] == ":"]
        self._k_ids = [i for i in self._chars if vocab[i] == "K"]
        self._e_ids = [i for i in self._chars if vocab[i] in "eE"]
        self._escape_ids = [i for i in self._chars if vocab[i] in "%\\;,"]
        # Masks depend only on the vocabulary and the device: constraints for the same
        # vocabulary share them (a new constraint per Generate starts warm).
        self._mask_caches = _MASK_CACHES.setdefault(tuple(vocab), {})
        self._masks: dict[Key | None, Tensor] = self._mask_caches.setdefault("cpu", {})
        self._char_ids = {vocab[i]: i for i in self._chars}
        self._device: torch.device | None = None
        self._rows: list[_Row] = []
        self._prompt = ""
        #: Rows left unmasked for one step because the rules allowed them nothing (see below).
        self.unmasked_rows = 0

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
            # What may open an empty text (the rows below only look again once text is added).
            empty = self.key(BarScanner())
            for row in rows:
                row.key = empty
        if logits.device != self._device:
            self._device = logits.device
            self._masks = self._mask_caches.setdefault(str(logits.device), {})
        keys: list[Key | None] = []
        # (row, token, logit added): the <end> bonus at home and the shape bias.
        biases: list[tuple[int, int, float]] = []
        masked = False
        for b in range(batch):
            row = rows[b]
            text = first if b == 0 else texts[b]
            n = len(text)
            if n != row.seen:
                if n < row.seen:
                    row = rows[b] = _Row()
                feed = row.scanner.feed
                for ch in text[row.seen :]:
                    feed(ch)
                    row.track()
                row.seen = n
                row.key = self.key(row.scanner)
            key = row.key
            if self.max_chars and n - len(self._prompt) >= self.max_chars - CLOSING_MARGIN:
                if self.end_on_tonic and n - len(self._prompt) >= self.max_chars - HOME_MARGIN:
                    self._home_rule = False
                    try:
                        key = self.key(row.scanner)
                    finally:
                        self._home_rule = True
                key = _closing(key, row.scanner)
            elif key is not None and (self.home_bonus or self.shape):
                for token, value in self._biases(row, key):
                    biases.append((b, token, value))
            keys.append(key)
            masked = masked or key is not None
        if not masked:
            return logits
        if batch == 1:
            forbid = self._forbid(keys[0]).unsqueeze(0)
        else:
            forbid = torch.stack([self._forbid(k) for k in keys])  # (B, V) bool
        dead = forbid.all(dim=-1)  # (B,)
        if dead.any():
            # A prompt can leave the scanner where the rules allow nothing (a chord symbol or
            # inline field they cannot read, a body line starting with `N`): rather than end
            # that tune at once, the model writes freely until the rules can read it again.
            self.unmasked_rows += int(dead.sum())
            forbid = forbid & ~dead.unsqueeze(-1)
        out = logits.masked_fill(forbid, float("-inf"))
        if biases:
            b_idx, t_idx, values = zip(*biases, strict=True)
            out = out.index_put(
                (
                    torch.tensor(b_idx, device=out.device),
                    torch.tensor(t_idx, device=out.device),
                ),
                torch.tensor(values, dtype=out.dtype, device=out.device),
                accumulate=True,
            )
        return out

    def _biases(self, row: _Row, key: Key) -> list[tuple[int, float]]:
        """(token, logit added) for one row: the <end> bonus at home and the shape bias, where
        a bar may close or a cadence is due (see `SHAPE_CLOSE`). Masked tokens stay -inf."""
        sc = row.scanner
        bits = key[0]
        ends = bool(bits & END) and sc.last_sound is not None and sc.tonic is not None
        mode = sc.mode
        home = self.home_bonus
        if self.shape and row.first_repeated and row.sections == 1 and row.in_boundary:
            home += END_AFTER_REPEAT  # just after `|: A :|`: the B part comes
        elif self.shape and row.in_boundary and sc.variant == 1 and sc.token.startswith(":"):
            home += END_AFTER_REPEAT  # just after `|1 ... :|`: the second ending comes
        expected = sc.expected() if self.shape else None
        # Where the row is in its bar, for the section's end here and the biases below.
        position = _bar_position(sc, expected) if expected else None
        home += self._section_end(row, position)
        flat = [(self._end_id, home)] if ends and home else []
        if position is None or sc.meter is None or mode not in (NORMAL, ELEM, TOKEN):
            return flat
        out: list[tuple[int, float]] = []
        if mode == TOKEN:
            # Just after a bar line: `||`, `|]` or `|:` would close the section here.
            if sc.token != "|" or sc.closed_empty:
                return flat
            bars = round(sc.bars_played - row.section_start)
            value = _close_bias(bars)
            # A pickup alone may open a repeat (`A|:`), but not be a section of its own.
            closers = "|]:" if bars else "|]"
            out += [(self._char_ids[c], value) for c in closers if c in self._char_ids]
            if ends:
                out.append((self._end_id, home + _end_bias(round(row.bars(sc.bars_played)))))
            return out
        used, empty, played = position
        if bits & (BAR_B | COLON_B) and not empty:
            bars = round(played - row.section_start)
            if used == expected:
                # A full bar: `:|` would close the section here (`|` may still grow).
                if ":" in self._char_ids:
                    out.append((self._char_ids[":"], _close_bias(bars)))
            elif (
                sc.pickup
                and used == expected - sc.pickup
                and not ((sc.n_bars == 0 or sc.after_boundary) and used <= expected / 2)
            ):
                # The pickup's complement: any bar line here closes a section (`|` must grow
                # into `||`...), so the model's plain `|` at the end of a phrase line would make
                # a section of a bar or two (see SHAPE_CLOSE).
                value = _close_bias(bars)
                out += [(self._char_ids[c], value) for c in "|:" if c in self._char_ids]
        if ends:
            out.append((self._end_id, home + _end_bias(round(row.bars(played)))))
        if bits & NOTE_B and sc.tonic is not None and used * 2 >= expected and not empty:
            # The second half of a bar that would make the tune a multiple of 8 bars long (or
            # of any length past LATE_FROM): the tonic is pulled for, so that the tune can end
            # there (it may end only on the tonic).
            bar = int(row.bars(sc.bars_played)) + 1
            pull = _tonic_pull(bar)
            if pull:
                letter = sc.tonic[0]
                out += [
                    (self._char_ids[c], pull)
                    for c in (letter, letter.lower())
                    if c in self._char_ids
                ]
        return out

    def _section_end(self, row: _Row, position: tuple[Fraction, bool, Fraction] | None) -> float:
        """`SECTION_END`'s term for <end> by the bars of the section <end> would make the
        tune's last (`position`: the row's `_bar_position`, None without a meter or without
        the shape bias): 0 in a tune that has closed no section before it (its one section is
        judged by its bars, `_end_bias`)."""
        if not self.shape:
            return 0.0
        if row.in_boundary:
            # Just past a section bar line: the section it closed would be the last.
            return _section_end_bias(row.last_section) if row.sections >= 2 else 0.0
        if not row.sections or position is None:
            return 0.0
        # A section under half a bar (a pickup after a section line) is no last section.
        bars = round(position[2] - row.section_start)
        return _section_end_bias(bars) if bars >= 1 else 0.0

    def allowed(self, scanner: BarScanner) -> list[str] | None:
        """The tokens allowed after what `scanner` has read (None: all); for tests and views."""
        key = self.key(scanner)
        if key is None:
            return None
        mask = ~self._forbid(key)
        return [self.tokenizer.vocab[i] for i in torch.nonzero(mask).flatten().tolist()]

    # -- masks -----------------------------------------------------------------------------

    def _forbid(self, key: Key | None) -> Tensor:
        """(V,) bool: True for the tokens `key` does not allow."""
        forbid = self._masks.get(key)
        if forbid is not None:
            return forbid
        if key is None:
            mask = torch.ones(self._vocab_size, dtype=torch.bool)
        else:
            bits, chars = key
            ids: set[int] = set()
            if bits & ANY:
                ids.update(self._chars)
                if bits & NO_NEWLINE:
                    ids.difference_update(self._newline_ids)
                if bits & NO_PIPE:
                    ids.difference_update(self._pipe_ids)
                if bits & NO_COLON:
                    ids.difference_update(self._colon_ids)
                if bits & NO_K:
                    ids.difference_update(self._k_ids)
                if bits & NO_E:
                    ids.difference_update(self._e_ids)
                if bits & NO_ESCAPE:
                    ids.difference_update(self._escape_ids)
            for i, class_ids in enumerate(self._class_ids):
                if bits >> i & 1:
                    ids.update(class_ids)
            if bits & END:
                ids.add(self._end_id)
            ids.update(self._char_ids[c] for c in chars if c in self._char_ids)
            mask = torch.zeros(self._vocab_size, dtype=torch.bool)
            mask[sorted(ids)] = True
        forbid = (~mask).to(self._device or "cpu")
        self._masks[key] = forbid
        return forbid

    # -- the rules -------------------------------------------------------------------------

    def key(self, sc: BarScanner) -> Key | None:
        """What may come next: (bits of the allowed classes, single characters allowed besides);
        None when nothing is masked."""
        key = self._key(sc)
        if sc.grace_waiting and key is not None and key[0] & _BIT["deco"]:
            # No roll `~` between a grace group and its note: abc2midi plays the roll as grace
            # notes ("Intervening note needed between grace notes").
            bits, chars = key
            return (bits & ~_BIT["deco"], chars + DECO_CHARS.replace("~", ""))
        return key

    def _key(self, sc: BarScanner) -> Key | None:
        mode = sc.mode
        if mode == HEADER:
            return self._header_key(sc)
        expected = sc.expected()
        if expected is None:
            return None
        if mode == NORMAL:
            if sc.prev == "\\":
                return (_BIT["newline"], "")  # a line continuation ends its line at once
            return self._normal_key(sc, sc.used, expected)
        if mode == ELEM:
            return self._elem_key(sc, expected)
        if mode == TOKEN:
            return self._token_key(sc, expected)
        if mode == QUOTE:
            return self._quote_key(sc)
        if mode == DECO:
            if sc.deco_end == "!":
                # Only names abc2midi knows: `!>dc/B//c!` is read as notes ("Malformed note").
                text = sc.deco_text
                # On a broken-rhythm pair's second note, no `!breath!`, which shortens it
                # ("Notes not equal durations").
                paired = sc.next_broken is not ONE
                names, nexts = (PAIRED_DECO_NAMES, _PAIRED_DECO_NEXT) if paired else _DECOS
                return (0, nexts.get(text, "") + ("!" if text in names else ""))
            if sc.deco_len == 0:
                return (0, DECO_NAME_CHARS)
            return (0, sc.deco_end if sc.deco_len >= DECO_MAX else DECO_NAME_CHARS + sc.deco_end)
        if mode == INLINE:
            value = _field_value_key(sc.field, "".join(sc.line_buf))
            if value is not None:
                # An inline field ends at "]", not at the end of the line.
                return (value[0], value[1].replace("\n", "]"))
            return (ANY | NO_NEWLINE | NO_PIPE, "")
        if mode == FIELD:
            value = _field_value_key(sc.field, "".join(sc.line_buf))
            if value is not None:
                return value
            return (ANY | (END if self._end_ok(sc, sc.used, expected) else 0), "")
        if mode == COMMENT:
            return (ANY | (END if self._end_ok(sc, sc.used, expected) else 0), "")
        if mode == ACCIDENTAL:
            return self._accidental_key(sc)
        if mode == CHORD:
            return self._chord_key(sc, expected)
        if mode == BRACKET:
            bits = 0
            if self._can_start(sc, sc.used, expected):
                bits |= NOTE_B | ACC_B
            if sc.prev2 in DECO_CHARS:
                # `.[`: a decoration's chord, never `[|` or `[1` (a random walk's `.[|b` made
                # abc2midi read a chord to the end of the tune: "Too many notes in chord").
                return (bits, "")
            if self._closable(sc, sc.used, expected, boundary=True):
                bits |= BAR_B
            if self._bar_empty(sc):
                bits |= _BIT["inlinel"]
                # Variant endings as abc2midi wants them: [1 inside a repeat, [2 after its :|.
                if sc.repeat_open and sc.variant == 0 and not sc.colon_reopened:
                    bits |= DIGIT_B[1]
                if sc.token.startswith(":") and sc.variant == 1:
                    bits |= DIGIT_B[2]
            return (bits, "")
        if mode == BRACKET_LETTER:
            return (COLON_B, "")
        if mode == VARIANT:
            bits, chars = self._normal_key(sc, sc.used, expected)
            return (bits & ~_BIT["tie"], chars)
        if mode == COLON:
            # :| ends a repeat; :: ends one and opens the next (where one is open).
            return (BAR_B | (COLON_B if _reopens(sc) else 0), "")
        if mode == PAREN:
            if sc.next_broken is not ONE:
                # `A>(`: a slur opens on the pair's second note, which follows as after `>`
                # (no tuplet: "Notes not equal durations").
                return (AFTER_BROKEN_B & ~_BIT["lparen"], AFTER_BROKEN_DECO)
            bits = START_B & ~_BIT["lparen"]
            if sc.slurs == 0 and sc.tup_left == 0:
                # `((3abc)`: a slur around a tuplet, as 59 % of Ryan's and 27 % of O'Neill's
                # tuplets are written (the first `(` is then the slur; no third one).
                bits |= _BIT["lparen"]
            if sc.grace_waiting:
                bits &= ~_BIT["lbrace"]
            if sc.tup_left == 0 and not sc.staccato:
                # (`.(3abc` is an error to abc2midi: "Unrecognized character: 3")
                room = expected - sc.used
                grain = sc.unit / SUBDIVISION
                if (room / grain).denominator == 1:
                    for p in TUPLETS:
                        if room >= _TUPLET_Q[p] * grain:
                            bits |= DIGIT_B[p]
            return (bits, "")
        if mode == TUPLET:
            return (START_B & ~(_BIT["lparen"] | _BIT["lbrace"] * sc.grace_waiting), "")
        if mode == GRACE:
            # At most GRACE_MAX grace notes: {g}, {/g}, {gag}, {^fg}.
            bits = NOTE_B | ACC_B if sc.grace_notes < GRACE_MAX else 0
            chars = ""
            if sc.prev == "{":
                bits |= SLASH_B
            elif sc.prev in ACCIDENTALS:
                bits = NOTE_B
            elif sc.prev in NOTE_LETTERS or sc.prev in "',":
                bits |= _BIT["rbrace"]
                chars = _octave_marks(sc.prev) if sc.marks < 3 else ""
            return (bits, chars)
        if mode == LS_LETTER:
            return self._line_start_key(sc, expected)
        return None

    def _header_key(self, sc: BarScanner) -> Key:
        """The header's grammar: every line is a field (`HEADER_LETTERS`, then `:`), the tune
        cannot end before `K:` closes the header, and `K:` waits for an M: or L: line (music21
        reads no notes without one; abc2midi assumes L:1/8). Values: `X:` a number; M:, L:, K:
        and Q: what abc2midi reads; `R:` names no hornpipe where the meter is no hornpipe's,
        and `M:` is one where an R: named it. Other fields (titles, origins...) are free text."""
        buf = sc.line_buf
        if not buf:
            if not sc.header_fields:
                return (0, "X")  # abc2midi: "No tune processed. Possible missing X: field"
            letters = HEADER_LETTERS.replace("X", "")  # once ("second X: field in header")
            if not sc.header_has_length:
                letters = letters.replace("K", "")
            return (0, letters)
        if buf[0] not in HEADER_LETTERS or (len(buf) > 1 and buf[1] != ":"):
            return None  # a line of the prompt's that is no field: nothing to add to it
        if len(buf) == 1:
            return (0, ":")
        letter, value = buf[0], "".join(buf[2:])
        if letter == "X":
            digits = value[1:] if value.startswith(" ") else value
            if not digits:
                return (0, "0123456789" + (" " if not value else ""))
            return (0, ("0123456789" if len(digits) < X_DIGITS else "") + "\n")
        fields = sc.header_fields
        if letter == "M" and any(f == "R" and "hornpipe" in v.lower() for f, v in fields):
            return _field_value_key("hornpipe M", value)
        if letter == "R":
            meter = next((v for f, v in reversed(fields) if f == "M"), None)
            if meter not in (None, *HORNPIPE_METERS) and value.lower().endswith("hornpip"):
                return (ANY | NO_E, "")
        return _field_value_key(letter, value) or (ANY, "")

    def _repeat_open(self, sc: BarScanner) -> bool:
        """Is a `|:` waiting for its `:|` (counting the bar line being written)?"""
        if sc.mode == TOKEN:
            bare = sc.token.rstrip("0123456789,")
            if bare.endswith(":"):
                return True
            if sc.token.startswith(":"):
                return False
        return sc.repeat_open

    def _bar_empty(self, sc: BarScanner) -> bool:
        return (
            not sc.has_notes and sc.next_broken is ONE and sc.mode != ELEM and sc.tie_pitch is None
        )

    def _closable(self, sc: BarScanner, used: Fraction, expected: Fraction, boundary: bool) -> bool:
        """May a bar line end the current bar (of duration `used`) here?"""
        if sc.next_broken is not ONE:
            return False
        if not sc.has_notes and sc.mode != ELEM:
            return True
        if sc.tup_left:
            return False
        if used >= expected:
            # Overfull (only a prompt writes such a bar): a bar line ends it, and the rest fits.
            return True
        if (sc.n_bars == 0 or sc.after_boundary) and used <= expected * self.pickup_limit:
            return True
        return boundary and sc.pickup > 0 and used == expected - sc.pickup

    def _end_ok(self, sc: BarScanner, used: Fraction, expected: Fraction) -> bool:
        """May the tune end here? (An empty, full, or pickup-complement last bar, after the
        key's tonic when the tune must end at home.)"""
        if sc.next_broken is not ONE or sc.tie_pitch is not None or self._repeat_open(sc):
            return False
        if not self._home_ok(sc) or not self._long_enough(sc, used, expected):
            return False
        if not sc.has_notes and sc.mode != ELEM:
            return True
        if sc.tup_left:
            return False
        if used == expected or (sc.pickup > 0 and used == expected - sc.pickup):
            return True
        # At home, the last bar may also stop short from half full: a tune written in phrase
        # lines (Essen's songs, three quarters of the corpus) completes each bar with the next
        # line's pickup, so its phrases end on the tonic mid-bar, and so does the tune.
        return self._home_rule and sc.last_sound is not None and used * 2 >= expected

    def _home_ok(self, sc: BarScanner) -> bool:
        """May the tune end after its last note? Only on the key's tonic, as 93-95 % of the
        corpus's tunes do (the model alone ends half its tunes elsewhere), unless the rule is
        off or lifted near the length cap."""
        return not self._home_rule or sc.last_sound is None or at_home(sc.tonic, sc.last_sound)

    def _long_enough(self, sc: BarScanner, used: Fraction, expected: Fraction) -> bool:
        """Has the tune `min_bars` bars of music (lifted with the tonic rule near the cap)?"""
        if not self._home_rule or not self.min_bars or sc.meter is None or not expected:
            return True
        return sc.bars_played + used / expected >= self.min_bars

    def _can_start(self, sc: BarScanner, used: Fraction, expected: Fraction) -> bool:
        """May a note, rest or chord start in a bar of duration `used` (is there a length for
        it that keeps the bar completable)?"""
        room = expected - used
        if room <= 0:
            return False
        base, left = _next_base(sc)
        return self._options("", base, room, sc.unit, sc.tup_factor, left)[2]

    def _chord_key(self, sc: BarScanner, expected: Fraction) -> Key:
        """Inside `[...]`: at most four notes, and the chord's length either after its `]`
        (`[CEG]2`) or inside it, the same after every note (`[c2e2]`, as fiddle books write
        double stops; abc2midi plays a chord as long as its first note and warns of unequal
        ones), never both (music21 and abc2midi read `[c2e2]2` apart)."""
        if sc.prev in ACCIDENTALS:
            return (NOTE_B, "")
        more = (ACC_B | NOTE_B) if sc.chord_notes < 4 else 0
        # (At most four notes: an accidental would start a fifth (abc2midi: "Too many notes
        # in chord"; a chord of 80 accidentals was seen).)
        # (none after a length: _octave_marks gives none after a digit or `/`)
        marks = _octave_marks(sc.prev) if sc.marks < 3 else ""
        first = sc.spec
        if sc.chord_notes == 1:
            if sc.next_broken is not ONE:  # a broken pair's second: its length after `]`
                return (more | _BIT["rbracket"], marks)
            base, left = _next_base(sc)
            room = expected - sc.used
            bits, good, _ = self._options(first, base, room, sc.unit, sc.tup_factor, left)
            if first and not good:
                return (bits, "")
            return (bits | more | _BIT["rbracket"], marks)
        written = sc.chord_spec
        if written != first and first.startswith(written):  # the first one's length again
            return (_CHAR_BIT[first[len(written)]], marks)
        # (A length that is not the first one's is a prompt's: the chord goes on.)
        return (more | _BIT["rbracket"], marks)

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
        # Keyed by plain integers: hashing Fractions (and dividing them) costs more.
        if not left:
            tf = ONE
        cache_key = (
            prefix,
            room.numerator,
            room.denominator,
            base.numerator,
            base.denominator,
            unit.numerator,
            unit.denominator,
            tf.numerator,
            tf.denominator,
            left,
        )
        found = _OPTION_CACHE.get(cache_key)
        if found is None:
            grain = unit / SUBDIVISION
            found = _suffix_options(prefix, room / grain, base / grain, tf, left)
            _OPTION_CACHE[cache_key] = found
        return found

    def _normal_key(self, sc: BarScanner, used: Fraction, expected: Fraction) -> Key:
        """What may follow outside a note, in a bar of duration `used`."""
        can_start = self._can_start(sc, used, expected)
        closable = self._closable(sc, used, expected, boundary=True)
        # No blank line, nor one of spaces alone: abc2midi ends the tune there ("Could not
        # find note to be tied" after `A-\n \n`, found by a random walk).
        newline = _BIT["newline"] if sc.col > sc.spaces else 0
        # (A back quote is ABC 2.1's spacer between beamed notes: `A``B`.)
        space = _BIT["space"] | _BIT["backquote"] if sc.spaces < SPACE_RUN else 0
        if sc.tie_pitch is not None:
            # `A-`: the same note must come next (after a bar line, maybe; not after a back
            # quote, which abc2midi does not tie across: "Could not find note to be tied";
            # nor after a second bar line: a model wrote `B4- | | | ...` to the cap).
            bar = BAR_B | COLON_B if closable and sc.has_notes else 0
            bits = (space & ~_BIT["backquote"]) | newline | bar
            acc, letter, _ = sc.tie_pitch
            return (bits, (letter + acc[:1]) if can_start else "")
        if sc.next_broken is not ONE:
            # `A>`: the pair's second note follows at once (with its length: see _elem_key).
            if not can_start:
                return (0, "")
            if sc.mode == NORMAL and sc.prev in DECO_CHARS:
                # `A>v`: the note itself ("Malformed note" for `A>v(`, `A>v"G"`).
                return (AFTER_DECO_B & AFTER_BROKEN_B, AFTER_BROKEN_DECO)
            return (AFTER_BROKEN_B | _BIT["lparen"], AFTER_BROKEN_DECO)  # (`A>(Bc)`: a slur)
        if sc.mode == NORMAL and sc.prev in DECO_CHARS:
            # `.`, `~`, `T`...: a note must follow at once; after `.` a slur may open first
            # (`.(AB)`: abc2midi reads it, and refuses `~(`, `u(`, `H(`...).
            if not can_start:
                return (0, "")
            # (Not after two, nor after a slur's `(`: `..(`, `~.(` and `(.(` are errors too.)
            lone = sc.prev2 not in DECO_CHARS and sc.prev2 != "("
            slur = _BIT["lparen"] if sc.prev == "." and lone else 0
            slur = slur if not sc.tup_left else 0
            rolled = sc.prev in NO_CHORD_AFTER or sc.prev2 in NO_CHORD_AFTER  # (`TM[`)
            chord = 0 if rolled else _BIT["lbracket"]
            return ((AFTER_DECO_B & ~_BIT["lbracket"]) | chord | slur, "")
        if sc.grace_waiting:
            # `{g}`: its main note comes next (after decorations or a slur's `(`), never another
            # grace group, a bar line or the end (abc2midi: "Intervening note needed").
            return ((START_B & ~_BIT["lbrace"]) if can_start else 0, "")
        bits = space | newline | (_BIT["rparen"] if sc.slurs else 0)
        if newline:
            bits |= _BIT["backslash"]  # `\` continues the line: a newline must follow (`key`)
        if can_start:
            bits |= START_B
            if sc.tup_left:
                bits &= ~_BIT["lparen"]
            if sc.mode == NORMAL and sc.prev in '"!':
                # One chord symbol or decoration at a time: "G"A, !p!A, not "G""G"...
                bits &= ~(_BIT["quote"] | _BIT["bang"])
        if closable:
            bits |= BAR_B | COLON_B
        if self._end_ok(sc, used, expected):
            bits |= END
        if sc.at_line_start and sc.mode == NORMAL and self._bar_empty(sc):
            # A letter here may begin a field line: only at the start of a bar.
            bits |= _BIT["fieldl"]
        return (bits, "")

    def _elem_key(self, sc: BarScanner, expected: Fraction) -> Key:
        """After a note, rest or chord: its length may only grow into a good length."""
        if sc.elem_kind == MULTI_REST or sc.elem_base <= 0:
            return (0, "")
        marks = ""
        if sc.spec == "" and sc.elem_kind == NOTE and sc.octaves < 3:
            marks = _octave_marks(sc.note_letter)
            target = sc.tie_target
            if target is not None and target[1] == sc.note_letter:
                # The second note of a tie repeats the first one's octave marks exactly.
                want = target[2]
                if len(want) > len(sc.octave_text) and want.startswith(sc.octave_text):
                    return (0, want[len(sc.octave_text)])
                marks = ""
        room = expected - sc.used
        if room <= 0 and not sc.tup_left:
            # A prompt overfilled the bar before this note: no length fits, so the note stays
            # as written and the bar may end (see `_closable`).
            nbits, nchars = self._normal_key(sc, sc.used + sc.pending_length(), expected)
            return (nbits, marks + nchars)
        target = sc.spec_target
        if target is not None and target != sc.spec and target.startswith(sc.spec):
            # The second note of a broken-rhythm pair has the first one's length (abc2midi).
            return (0, marks + target[len(sc.spec)])
        bits, good, _ = self._options(
            sc.spec, sc.elem_base, room, sc.unit, sc.tup_factor, sc.tup_left
        )
        inner = sc.elem_kind == CHORD_ELEM and sc.inner_spec
        if (target is not None and target == sc.spec) or inner:
            bits = 0  # (a chord whose length was written inside it takes none after `]`)
        if not good:
            return (bits, marks)
        length = sc.pending_length()
        nbits, nchars = self._normal_key(sc, sc.used + length, expected)
        bits |= nbits
        if sc.elem_kind == NOTE and not sc.note_staccato:
            bits |= _BIT["tie"]  # (abc2midi cannot tie a staccato note)
        # Broken rhythm (outside tuplets): the pair's second note, as long as this one as
        # written, must have a good length too.
        # Not after a staccato, fermata or breath note, nor a tuplet's last: abc2midi takes
        # their lengths as changed ("Notes not equal durations", the last two found by
        # random walks).
        if (
            sc.tup_left == 0
            and not sc.elem_in_tuplet
            and not inner
            and sc.next_broken is ONE
            and target is None
            and not sc.note_staccato
            and not sc.note_fermata
            and not sc.note_breath
        ):
            for bit, mine, theirs in ((_BIT["gt"], HALF3, HALF), (_BIT["lt"], HALF, HALF3)):
                rest = room - length * mine
                if rest > 0 and self._options(sc.spec, sc.unit * theirs, rest, sc.unit, ONE, 0)[1]:
                    bits |= bit
        return (bits, marks + nchars)

    def _accidental_key(self, sc: BarScanner) -> Key:
        if sc.tie_pitch is not None:
            acc, letter, _ = sc.tie_pitch
            if acc == sc.acc_text:
                return (0, letter)
            if acc.startswith(sc.acc_text):
                return (0, acc[len(sc.acc_text)])
        bits = NOTE_B
        if sc.accidentals < 2 and sc.prev in "^_":
            bits |= _BIT["sharp"] if sc.prev == "^" else _BIT["flat"]
        return (bits, "")

    def _quote_key(self, sc: BarScanner) -> Key:
        """Chord symbols abc2midi knows ("Am7", "D/F#"), or short annotations ("^fine")."""
        text = sc.quote_text
        if not text:
            return (0, "ABCDEFG" + ANNOTATION_PREFIXES + FINGERS)
        if text[0].isdigit():
            # A fingering ("4", "04"), as fiddle books write them above the note.
            return (0, (string.digits if len(text) < FINGERING_MAX else "") + '"')
        if text[0] in ANNOTATION_PREFIXES:
            if len(text) >= ANNOTATION_MAX:
                return (0, '"')
            # Not `%` (abc2midi ends the line there even in quotes: "Guitar chord name not
            # properly closed"), `\` (an escape), `;` (a new chord symbol follows, which
            # must then be one: "Guitar chord does not start with A-G"), found by a network
            # pushed towards quotes, or `,` (music21 reads `"_a b,"` as a pitch and fails:
            # "Cannot make a step out of '_'", one of the shipped model's 3,000 tunes).
            return (ANY | NO_NEWLINE | NO_PIPE | NO_ESCAPE, "")
        nxt = _CHORD_NEXT.get(text, "")
        return (0, nxt + ('"' if text in _CHORD_NAMES else ""))

    def _token_key(self, sc: BarScanner, expected: Fraction) -> Key:
        """Just after a bar line: it may grow (`||`, `|]`, `:|2`), or the next bar begins."""
        token = sc.token
        closed = None if sc.closed_empty else sc.closed
        must_grow = False
        if closed is not None and token == "|":
            e = closed.expected
            d = closed.duration
            must_grow = not (
                e is None or d >= e or (closed.pickup_eligible and d <= e * self.pickup_limit)
            )
        bits = 0
        if token == "|":
            # `|]` ends a tune: only where the tune may end at home.
            bits |= BAR_B | (_BIT["rbracket"] if self._home_ok(sc) else 0)
            if not sc.repeat_open and sc.token_at_line_start:
                # |: opens a repeat at the start of a line (as 90 % of the corpus's do), never
                # inside another (abc2midi).
                bits |= COLON_B
            if (
                not must_grow
                and sc.tie_pitch is None
                and sc.repeat_open
                and sc.variant == 0
                and not sc.colon_reopened  # (see BarScanner)
            ):
                bits |= DIGIT_B[1]  # |1
        elif token == ":|":
            if _reopens(sc):
                bits |= COLON_B  # :|: ends a repeat and opens the next
            if sc.tie_pitch is None and sc.variant == 1:
                bits |= DIGIT_B[2]  # :|2
        if must_grow:
            return (bits, "")
        nbits, nchars = self._normal_key(sc, sc.used, expected)
        # Right after a bar line, "|" and ":" would only grow it: just as listed above.
        return (bits | (nbits & ~(BAR_B | COLON_B)), nchars)

    def _line_start_key(self, sc: BarScanner, expected: Fraction) -> Key:
        """A letter began the line: a field if ':' follows (only at a bar's start), else music."""
        letter = sc.ls_letter
        bits, chars = 0, ""
        if letter in FIELD_LETTERS and self._bar_empty(sc):
            bits |= COLON_B
        if letter in NOTE_LETTERS or letter == "z" or letter in DECO_CHARS:
            music = copy.copy(sc)
            music.mode = NORMAL
            music.at_line_start = False
            music._normal(letter)
            music.prev = letter
            # ':' after a line-start letter always makes a field, never a bar line.
            mbits, mchars = self.key(music) or (0, "")
            bits |= mbits & ~COLON_B
            chars = mchars.replace(":", "")
        return (bits, chars)


#: Characters before the length cap from which a tune closes (see MeterAwareConstraint).
CLOSING_MARGIN = 200
#: Characters before the cap from which a tune may end away from its tonic.
HOME_MARGIN = 80
#: Logit added to <end> where a tune may end at home (see MeterAwareConstraint).
HOME_BONUS = 1.0
#: Logits added to the tokens that close a section (`:` of `:|`, and `|`, `]`, `:` after a `|`:
#: `||`, `|]`, `|:`) by the bars the section would then have: a multiple of 8, of 4, another
#: even number from 6; anything else (odd from 5, a pickup alone) gets the last, and 1 to 3
#: bars `SHORT_SECTION`. Real tunes'
#: sections are 8 or 16 bars long (59 % of 880 in 600 held-out tunes of corpus:folk), 4 or 12
#: (15 %), 10, 14 or other even lengths; the model wrote `||` after 1 or 2 bars in a third of
#: its tunes. With 2 at bar 8 (before 2026-12-06) the model still closed its first section there
#: in a third of its dance tunes (real: two thirds); 6, with SECTION_END, more than doubled its
#: two 8-bar-part tunes (2.3-3.3 % -> 7.5-8.5 %; 5 gave 6 % at one seed).
#: 4 and 12 went from 0 to -2, other even lengths from -2 to -4: in its Irish and Scottish
#: tunes the model closed a section before its last after 4 bars 0.7 times as often as after 8
#: (real: 0.37; 6, 10 or 14 bars 1 in 13-18, real 1 in 160). Swept at seeds 101 and 202, 1,000
#: tunes each (4-bar bias 0 / -1 / -2 / -3): two 8-bar parts 8.1-8.8 / 9.8 / 10.5-11.0 /
#: 11.5-12.1 % (real 11.3-12.4 %), 4:8 ratio 0.66-0.69 / 0.36-0.40 / 0.18-0.23 / 0.09-0.12;
#: with -4 for even lengths too, 11.3-11.4 %. The ratio is the price: 4-bar sections are now
#: half as common as in real dance tunes, and sections of 8 or 16 bars slightly over (56 %,
#: real 50-53 %), for the two-part form at its real share.
SHAPE_CLOSE = (6.0, -2.0, -4.0, -5.0)
#: Logit added instead to a bar line that would close a section of 1 to 3 bars. Of 2,000
#: training tunes (music21's reading), 1 has a section that short before its last (the rest:
#: 4, 8, 12 or 16 bars, and 6, 10 or 18 in 4 tunes). At SHAPE_CLOSE[3] (-5) the shipped model
#: still wrote a section under 4 bars in 7.8-9.6 % of its tunes, three quarters of them in its
#: Essen-style songs (some at a short bar that only a section line may close); at -10 in
#: 5.1-6.1 % (1,000 tunes at each of seeds 101, 202, 303; two 8-bar parts 7.5-8.5 % -> 7.8-8.8 %,
#: sections 1.70-1.78 a tune -> 1.65-1.70, sections of 8 or 16 bars 46-48 % -> 47-50 %).
SHORT_SECTION = -10.0
#: Logits added to <end> at home (besides HOME_BONUS) by the tune's bars: at 8 and 16 bars
#: (END_AT), else by what the bars are a multiple of: 8, 4, 2, or odd. The model's own <end>
#: is unlikely anywhere but its own idea of an ending (measured: p(<end>) under 0.001 at the
#: end of bar 16 of most tunes that ran past it), so the bonus at 16 is nearly a rule.
END_AT = {8: 3.0, 16: 9.0}
SHAPE_END = (4.0, 3.0, 1.5, -2.0)
#: Logit added to <end> just after a first section closed by a repeat (`|: A :|`): real tunes
#: that repeat their first section go on to a second (2 of 1,200 training tunes are a single
#: repeated section; of the shipped model's tunes 2 %, most of them an 8-bar dance's A part).
END_AFTER_REPEAT = -8.0
#: Logits added to <end> in a tune that has closed a section before, by the bars of the section
#: <end> would close (its last): a multiple of 8, of 4, another count from 4, under 4. Of 152
#: training tunes of two or more sections (in 600), the last was 8 bars long in 118, 4 in 17
#: (nearly all after 4-bar sections: `(4, 4)`), 16 in 8, never under 4; of the shipped model's,
#: a quarter ended under 4 bars after a `||` (`END_AT` pulling <end> to bar 16 whatever the form)
#: and most 4-bar last sections followed 8-bar ones.
SECTION_END = (2.0, -3.0, -4.0, -8.0)
#: Past this many bars the <end> bonus grows by LATE_BONUS a bar, whatever the bar's number.
LATE_FROM = 20
LATE_BONUS = 1.0
#: Logit added to the tonic's letter in the second half of bar 16 and of every bar past
#: LATE_FROM (half of it in bar 8): where the tune should end, it can (only at home).
TONIC_PULL = 3.0


def _close_bias(bars: int) -> float:
    """The logit added to a section's closing bar line after `bars` bars (0: a pickup alone)."""
    if 0 < bars < 4:
        return SHORT_SECTION
    if bars % 8 == 0 and bars:
        return SHAPE_CLOSE[0]
    if bars % 4 == 0 and bars:
        return SHAPE_CLOSE[1]
    if bars % 2 == 0 and bars >= 6:
        return SHAPE_CLOSE[2]
    return SHAPE_CLOSE[3]


def _end_bias(bars: int) -> float:
    """The logit added to <end> at home (besides HOME_BONUS) after `bars` bars."""
    if bars in END_AT:
        return END_AT[bars]
    late = LATE_BONUS * max(0, bars - LATE_FROM)
    for i, step in enumerate((8, 4, 2)):
        if bars % step == 0:
            return SHAPE_END[i] + late
    return SHAPE_END[-1] + late


def _bar_position(sc: BarScanner, expected: Fraction) -> tuple[Fraction, bool, Fraction]:
    """(used, empty, played) where `sc` is: the bar's length so far (with the element still
    being written), whether the bar is empty, and the bars the tune would have if it ended
    here (an empty bar adds none; a bar that a long last note fills counts whole)."""
    used = sc.used + (sc.pending_length() if sc.mode == ELEM else 0)
    empty = not sc.has_notes and sc.mode != ELEM
    return used, empty, (sc.bars_played if empty else sc.bars_played + used / expected)


def _section_end_bias(bars: int) -> float:
    """The logit added to <end> (see SECTION_END) when the tune's last section has `bars`."""
    if bars % 8 == 0:
        return SECTION_END[0]
    if bars % 4 == 0:
        return SECTION_END[1]
    return SECTION_END[2] if bars >= 4 else SECTION_END[3]


def _tonic_pull(bar: int) -> float:
    """The logit added to the tonic's letter in the second half of the tune's `bar`-th bar."""
    if bar == 16 or bar > LATE_FROM:
        return TONIC_PULL
    return TONIC_PULL / 2 if bar % 8 == 0 else 0.0


#: The fewest bars a tune ends after (3 % of the corpus's tunes are shorter; unconstrained,
#: 13.5 % of the shipped model's were).
MIN_BARS = 8


#: Header fields whose values the grammar spells out (the others are free text).
_SPELLED = "XMLKQ"


def _next_base(sc: BarScanner) -> tuple[Fraction, int]:
    """(length of the next element before its own length, tuplet notes left after it): the
    unit, times the tuplet's and broken rhythm's factors due to it."""
    base = sc.unit
    left = sc.tup_left
    if left:
        base = base * sc.tup_factor
        left -= 1
    if sc.next_broken is not ONE:
        base = base * sc.next_broken
    return base, left


def _reopens(sc: BarScanner) -> bool:
    """May `::` or `:|:` close a repeat and open the next here? Where a `|:` waits for its
    `:|`, and before the tune's first repeat bar line, where abc2midi repeats from the start
    (after a `:|` it calls it an error: "found :: before |:"). A first ending (`|1`) stays
    inside a written `|:`: before the first one, random walks found abc2midi refusing it
    ("found [1 or like before |:", "Cannot find :| ... to close variant ending")."""
    return sc.repeat_open or not sc.repeated


def _closing(key: Key | None, sc: BarScanner) -> Key | None:
    """`key` near the length cap: finish the header (a free-text line ends, then only the M:,
    L: and K: lines the body needs), then end where the tune may end, once it has two bars of
    music; open no repeat."""
    if key is None:
        return None
    bits, chars = key
    if sc.mode == HEADER:
        buf = sc.line_buf
        if not buf:
            return (0, "K" if sc.header_has_length else "ML")
        if len(buf) > 2 and buf[0] not in _SPELLED:
            return (0, "\n")
        return key
    if bits & END:
        if sc.n_bars < 2:
            return (bits & ~END, chars)  # not a tune without music
        return (END, "")
    if sc.mode == TOKEN and sc.token == "|" and not sc.repeat_open:
        bits &= ~COLON_B  # `|:` would open a repeat that must then be closed
    if sc.mode == COLON:
        bits &= ~COLON_B  # `::` closes a repeat and opens the next: only `:|` now
    bits &= ~_BIT["lbrace"]  # no grace group that the cap could leave without its note
    # Nothing that takes no time but a single space: runs of spaces and back quotes, line
    # continuations (a network pushed towards them ran into the cap with a repeat open).
    bits &= ~(_BIT["backquote"] | _BIT["backslash"] | (_BIT["space"] if sc.spaces else 0))
    if sc.repeat_open and sc.mode != TOKEN and bits & COLON_B:
        # A repeat is open: the next bar line is its `:|`, so that the tune may then end (a
        # model that never closes it ran into the cap: "Missing :| at end of tune").
        bits &= ~BAR_B
    return (bits, chars)


def _field_value_key(letter: str, value: str) -> Key | None:
    """What may come next in the value of an M:, L:, K:, Q: or P: field (None: any other
    field)."""
    if letter == "P":
        return (0, PART_CHARS + ("\n" if value.strip() else ""))
    nexts = _FIELD_NEXT.get(letter)
    if nexts is None:
        return None
    bare = value.lstrip(" ")
    if not bare:
        return (0, nexts[""] + (" " if len(value) < FIELD_INDENT else ""))
    return (0, nexts.get(bare, "") + ("\n" if bare in _FIELD_VALUES[letter] else ""))


def _octave_marks(letter: str) -> str:
    """abc2midi takes `'` only after a lower-case note and `,` only after an upper-case one."""
    if letter in "abcdefg'":
        return "'"
    if letter in "ABCDEFG,":
        return ","
    return ""


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


def meter_aware_constraint(
    tokenizer, max_chars: int | None = None, end_on_tonic: bool = True
) -> MeterAwareConstraint:
    """The meter-aware constraint for `tokenizer`'s vocabulary, with the default rules; give
    the sampler's `max_chars` so that tunes close before the cap. `end_on_tonic=False` drops
    the ending rules (the tonic, the shortest tune, the <end> bonus and the shape bias)."""
    return MeterAwareConstraint(tokenizer, max_chars=max_chars, end_on_tonic=end_on_tonic)


__all__ = ["MeterAwareConstraint", "meter_aware_constraint"]
