"""The order in which abc2midi plays the bars of an ABC tune: repeats, endings and parts (Qt-free).

music21 expands repeats its own way, and differs from abc2midi (and folk convention) on the
tunes that leave out start repeats: an end repeat ``:|`` with no ``|:`` goes back to the top of
the tune in music21, to the end of the previous repeated section in abc2midi; ``:|:`` loses its
start half, a one-bar repeat ``|:GABc dedc:|`` is not repeated, and a ``P:`` play order
(``P:ABA``) is ignored. :func:`play_order` instead lists the tune's stretches of music in the
order abc2midi 4.8x plays them, so the caller can write the tune out that way before music21
reads it. It follows abc2midi's own rules (``store.c`` and ``genmidi.c``), quirks included:

* bar lines are read as abc2midi's parser reads them: ``|:`` start, ``:|`` end (with an ending
  number, ``:|2``, also an ending), ``::`` both; ``||``, ``|]``, ``[|`` and a lone ``:`` are
  double bars, so ``:|:`` is an end repeat and a double bar; ``[1``, ``|1``, ``[1,3``,
  ``[1-3`` start endings;
* missing start repeats are assumed: the first ``:|`` or ``::`` with no ``|:`` before it goes
  back to the start of the music (of its part, with a ``P:`` play order); without a play order,
  a later one goes back to the last double bar or end repeat before it (an end repeat ``:|``
  then becomes ``::``), unless an ending has been seen anywhere before it;
* playing: an end repeat goes back once (twice or more after endings numbered so), an ending is
  played on the passes its numbers name and skipped to the next repeat or double bar otherwise;
* a header ``P:`` field (ABC 2.1 §3.1.9: ``P:ABA``, ``P:A2B``, ``P:(AB)3``, dots and spaces
  ignored) plays the parts written in the body (``P:A`` lines) in that order; music before
  the first part label plays first; without a header ``P:``, body labels change nothing.

abc2midi plays each voice on its own track: for a tune with ``V:`` fields in its body,
:func:`voice_bodies` gives each voice's music, to be ordered on its own (without the later
start repeats, which abc2midi assumes only for a tune of one voice). Voice overlays (``&``)
are not handled (:func:`play_order` returns None).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from workbench.notation.abc_lexer import Token, lex

# Item kinds: "music" (text between bar lines), abc2midi's bar features, "part" (a P: label).
SINGLE, DOUBLE, START, END, BOTH, ENDING, PART = "|", "||", "|:", ":|", "::", "[n", "P"
_SKIP_ENDING_TO = frozenset({END, START, PART, DOUBLE, ENDING})
_REPEAT_LIST = re.compile(r"[\d,\-]*")


@dataclass(slots=True)
class Item:
    """One stretch of the tune body: music or a bar feature, with its characters in the text."""

    kind: str
    start: int
    end: int
    passes: frozenset[int] = frozenset()  # the passes an ENDING is played on
    label: str = ""  # a PART's letter
    has_notes: bool = False  # music holding a note, chord or rest


def part_order(spec: str) -> str:
    """A ``P:`` play order spelled out: ``A(AB)3(CD)2`` -> ``AABABABCDCD``; ``P:A2B`` -> ``AAB``.

    A number repeats the part or parenthesised group before it; dots and spaces are for
    readability. Anything after a ``%`` is a comment.
    """
    out: list[str] = []
    stack: list[int] = []
    last = (0, 0)  # the span of `out` a number repeats
    spec = spec.split("%", 1)[0]
    i = 0
    while i < len(spec):
        c = spec[i]
        if "A" <= c <= "Z":
            out.append(c)
            last = (len(out) - 1, len(out))
        elif c == "(":
            stack.append(len(out))
        elif c == ")":
            last = (stack.pop() if stack else 0, len(out))
        elif c.isdigit():
            digits = re.match(r"\d+", spec[i:]).group()
            out.extend(out[last[0] : last[1]] * (int(digits) - 1))
            last = (len(out), len(out))  # "A22" does not repeat twice
            i += len(digits)
            continue
        i += 1
    return "".join(out)


def _bar_items(text: str, start: int) -> list[Item]:
    """abc2midi's features for one bar-line token, read character by character as its parser
    reads them (``parseabc.c``): ``:|:`` is an end repeat and then a lone ``:``, a double bar."""
    items: list[Item] = []
    i = 0
    while i < len(text):
        c, nxt = text[i], text[i + 1 : i + 2]
        at = start + i
        if c == "|" and nxt in (":", "|", "]"):
            items.append(Item(START if nxt == ":" else DOUBLE, at, at + 2))
            i += 2
        elif c == "|":
            items.append(Item(SINGLE, at, at + 1))
            i = _ending(text, i + 1, start, items)
        elif c == ":" and nxt == ":":
            items.append(Item(BOTH, at, at + 2))
            i += 2
        elif c == ":" and nxt == "|":
            items.append(Item(END, at, at + 2))
            i = _ending(text, i + 2, start, items)
            i += text[i : i + 1] == "]"
        elif c == ":":
            items.append(Item(DOUBLE, at, at + 1))  # abc2midi's dotted bar
            i += 1
        elif c == "[" and nxt == "|":
            items.append(Item(DOUBLE, at, at + 2))
            i += 2
        elif c == "[":
            i = _ending(text, i + 1, start, items, at)
        else:
            i += 1
    return items


def _ending(text: str, i: int, start: int, items: list[Item], at: int | None = None) -> int:
    """Append the ending ("1", "1,3", "1-3") that starts at ``text[i]``, if any; returns its end.

    ``at``: where the ending's characters start in the text (its ``[``), if before its number.
    """
    numbers = _REPEAT_LIST.match(text, i).group()
    if not numbers or not numbers[0].isdigit():
        return i
    passes: set[int] = set()
    for piece in numbers.split(","):
        low, _, high = piece.partition("-")
        if low.isdigit():
            passes.update(range(int(low), int(high if high.isdigit() else low) + 1))
    first = start + i if at is None else at
    items.append(Item(ENDING, first, start + i + len(numbers), frozenset(passes)))
    return i + len(numbers)


def _body_items(text: str, tokens: list[Token], body: int, end: int) -> list[Item] | None:
    """Music and bar features of the body ``text[body:end]``; None for several voices."""
    items: list[Item] = []
    music_from = body
    first_music = None  # where abc2midi puts its "||" before the first line of music
    for token in _bars_joined(tokens):
        if token.start < body or token.start >= end:
            continue
        piece = text[token.start : token.end]
        kind = token.kind
        if kind == "barline" and "&" in piece:
            return None
        if (kind == "field_key" and piece[0] == "V") or (
            kind == "inline_field" and piece.startswith("[V:")
        ):
            return None
        if kind in ("note", "rest", "chord_bracket") and first_music is None:
            first_music = text.rfind("\n", 0, token.start) + 1
        if kind == "field_key" and piece[0] == "P" and _label(_line_rest(text, token.end, end)):
            rest = _line_rest(text, token.end, end)
            found = [Item(PART, token.start, token.end + len(rest), label=_label(rest))]
        elif kind == "inline_field" and piece.startswith("[P:") and _label(piece[3:]):
            found = [Item(PART, token.start, token.end, label=_label(piece[3:]))]
        elif kind == "barline" and _bar_items(piece, token.start):
            found = _bar_items(piece, token.start)
        else:
            continue
        items.append(Item("music", music_from, found[0].start))
        items.extend(found)
        music_from = found[-1].end
    items.append(Item("music", music_from, end))
    at = body if first_music is None else max(first_music, body)
    _insert_at(items, Item(DOUBLE, at, at))
    return items


def _bars_joined(tokens: list[Token]) -> list[Token]:
    """The tokens with touching bar-line tokens made one, as abc2midi reads characters on:
    the lexer splits ``[|]:|`` into ``[|]:`` and ``|``, where abc2midi reads an end repeat."""
    out: list[Token] = []
    for token in tokens:
        touching = out and out[-1].kind == "barline" and out[-1].end == token.start
        if token.kind == "barline" and touching:
            out[-1] = Token("barline", out[-1].start, token.end)
            continue
        out.append(token)
    return out


def _line_rest(text: str, start: int, end: int) -> str:
    stop = text.find("\n", start, end)
    return text[start : end if stop < 0 else stop]


def _label(value: str) -> str:
    value = value.strip()
    return value[0] if value and "A" <= value[0] <= "Z" else ""


def _insert_at(items: list[Item], new: Item) -> int:
    """Insert a zero-width item at its text position (splitting music there); returns its index."""
    for i, item in enumerate(items):
        if item.kind == "music" and item.start <= new.start < item.end:
            after = Item("music", new.start, item.end)
            item.end = new.start
            items[i + 1 : i + 1] = [new, after]
            return i + 1
        if item.start >= new.start and item.kind != "music":
            items.insert(i, new)
            return i
    items.append(new)
    return len(items) - 1


def _assume_start_repeats(items: list[Item], with_parts: bool) -> None:
    """abc2midi's ``scan_for_missing_repeats``: the first end repeat of the music (of each part,
    with a play order) without a start repeat before it gets one at the start."""
    start = next(i for i, it in enumerate(items) if it.kind == DOUBLE and it.start == it.end)
    found = False
    add: list[int] = []
    for i, item in enumerate(items):
        if item.kind == PART and with_parts:
            found, start = False, i
        elif item.kind == START:
            found = True
        elif item.kind in (END, BOTH) and not found:
            add.append(start)
            found = True
    for i in reversed(add):
        at = items[i].end
        items.insert(i + 1, Item(START, at, at))


def _fix_repeats(items: list[Item]) -> None:
    """abc2midi's ``fixreps`` (tunes without a play order): a later end repeat with no start
    repeat goes back to the last double bar or end repeat, which becomes a start repeat."""
    point: int | None = None
    expect = False
    endings = 0
    for i, item in enumerate(items):
        kind = item.kind
        if kind == DOUBLE:
            point = i
        elif kind == START:
            if expect:
                item.kind = BOTH  # a second |: after a |: closes the first
            expect = True
        elif kind == END:
            if not expect and endings < 1:
                _place_start(items, point)
            expect, point = False, i
        elif kind == ENDING:
            if endings == 0 and not expect:
                _place_start(items, point)
            endings += 1
        elif kind == BOTH:
            if not expect:
                _place_start(items, point)
            expect = True


def _place_start(items: list[Item], point: int | None) -> None:
    if point is None:
        return
    item = items[point]
    if item.kind in (SINGLE, DOUBLE):
        item.kind = START
    elif item.kind == END:
        item.kind = BOTH


@dataclass(slots=True)
class _Player:
    """abc2midi's ``writetrack`` state for repeats, endings and parts."""

    items: list[Item]
    order: str | None  # the play order, None without a header P:
    starts: dict[str, int]  # part letter -> index of its label
    passes: int = 1
    max_passes: int = 2
    expect: bool = False
    saved: int = -1  # where an end repeat goes back to (playing resumes after it)
    next_part: int = 0

    def run(self) -> list[int]:
        played: list[int] = []
        j = 0
        steps = 0
        while j < len(self.items):
            steps += 1
            if steps > 100 * len(self.items):  # never expected; a safety net against a loop
                break
            played.append(j)
            j = self.step(j) + 1
        return played

    def step(self, j: int) -> int:
        """Act on ``items[j]``; returns the index after which playing goes on."""
        kind = self.items[j].kind
        if kind == START:
            self.saved, self.expect, self.passes, self.max_passes = j, True, 1, 2
        elif kind == END:
            first_time = self.passes == 1 and self.expect
            if first_time or 1 < self.passes < self.max_passes:
                self.passes += 1
                self.expect = False
                return self.saved
        elif kind == BOTH:
            if self.passes > 1:  # back here after the repeat: now a start repeat
                self.expect, self.saved, self.passes, self.max_passes = True, j, 1, 2
            elif not self.expect:  # no start repeat before it: it only starts one
                self.expect, self.saved = True, j
            else:
                self.passes += 1
                return self.saved
        elif kind == ENDING:
            return self.ending(j)
        elif kind == PART and self.order is not None:
            return self.part_break()
        return j

    def ending(self, j: int) -> int:
        number = self.passes if self.expect or self.passes > 1 else 1
        if number in self.items[j].passes:
            self.max_passes = self.passes + 1 if self.max_passes < 4 else self.max_passes
            return j
        j += 1
        while j < len(self.items) and self.items[j].kind not in _SKIP_ENDING_TO:
            j += 1
        if j < len(self.items) and self.items[j].kind == PART:
            j -= 1
        return j  # the bar line that ends the skipped ending is skipped too, as in abc2midi

    def part_break(self) -> int:
        assert self.order is not None
        while self.next_part < len(self.order) and self.order[self.next_part] not in self.starts:
            self.next_part += 1  # a part that is not written: abc2midi skips it
        if self.next_part >= len(self.order):
            return len(self.items)
        label = self.order[self.next_part]
        self.next_part += 1
        return self.starts[label]


@dataclass(frozen=True, slots=True)
class Playing:
    """A tune body's items in playing order; the body is ``text[body:end]``."""

    body: int
    end: int
    items: list[Item]


def play_order(
    text: str, tokens: list[Token] | None = None, *, one_voice: bool = True
) -> Playing | None:
    """The first tune's body items (music and bar lines) in the order abc2midi plays them.

    Music items are stretches of the text between bar lines; the caller writes them out in
    this order, with a plain bar line for each bar line passed. Returns None for a text
    without a ``K:`` line, with ``V:`` fields in its body or with voice overlays: give each
    voice's music (:func:`voice_bodies`) on its own, with ``one_voice`` False when the tune
    has several (abc2midi then assumes fewer start repeats).
    """
    tokens = lex(text) if tokens is None else tokens
    body = _body_start(text)
    if body is None:
        return None
    end = _body_end(text, body)
    items = _body_items(text, tokens, body, end)
    if items is None:
        return None
    order = _header_order(text[:body])
    starts: dict[str, int] = {}
    if order is not None:
        if len(order) == 1 and not any(i.kind == PART and i.label == order for i in items):
            _insert_at(items, Item(PART, body, body, label=order))  # a header P: used as a label
        items.append(Item(PART, end, end))  # abc2midi's part break at the end of the music
    _assume_start_repeats(items, order is not None)
    if order is None and one_voice:
        _fix_repeats(items)
    else:
        starts = {item.label: i for i, item in enumerate(items) if item.kind == PART and item.label}
    _mark_notes(items, tokens)
    played = _Player(items, order, starts).run()
    return Playing(body, end, [items[i] for i in played])


def _mark_notes(items: list[Item], tokens: list[Token]) -> None:
    """Set ``has_notes`` on the music items that hold a note, chord or rest."""
    at = [t.start for t in tokens if t.kind in ("note", "rest", "chord_bracket")]
    for item in items:
        if item.kind == "music":
            i = bisect_left(at, item.start)
            item.has_notes = i < len(at) and at[i] < item.end


def voice_bodies(
    text: str, tokens: list[Token] | None = None
) -> tuple[int, int, list[tuple[str, list[tuple[int, int]]]]] | None:
    """Each voice's stretches of the body, for a tune with ``V:`` fields in its body.

    Returns the body's start and end and, per voice in order of appearance, its name and the
    text spans of its music (the ``V:`` fields left out; music before the first one is voice
    1's, as in abc2midi); None without a ``K:`` line or ``V:`` fields in the body.
    """
    tokens = lex(text) if tokens is None else tokens
    body = _body_start(text)
    if body is None:
        return None
    end = _body_end(text, body)
    spans: dict[str, list[tuple[int, int]]] = {}
    voice, start = "1", body
    found = False
    for token in tokens:
        if not body <= token.start < end:
            continue
        piece = text[token.start : token.end]
        if token.kind == "field_key" and piece[0] == "V":
            stop = text.find("\n", token.start, end)
            field_end = end if stop < 0 else stop + 1
            name = _voice_name(text[token.end : field_end])
        elif token.kind == "inline_field" and piece.startswith("[V:"):
            field_end = token.end
            name = _voice_name(piece[3:].rstrip("]"))
        else:
            continue
        spans.setdefault(voice, []).append((start, token.start))
        voice, start, found = name, field_end, True
    spans.setdefault(voice, []).append((start, end))
    if not found:
        return None
    return body, end, [(name, s) for name, s in spans.items() if any(a < b for a, b in s)]


def _voice_name(value: str) -> str:
    words = value.split("%", 1)[0].split()
    return words[0] if words else "1"


def _body_start(text: str) -> int | None:
    match = re.search(r"^K:.*$", text, re.MULTILINE)
    return None if match is None else min(match.end() + 1, len(text))


def _body_end(text: str, body: int) -> int:
    """Where the tune body ends: at a blank line (the end of the tune) or the end of the text."""
    match = re.compile(r"\n[ \t\r]*(?:\n|$)").search(text, max(body - 1, 0))
    return len(text) if match is None else match.start() + 1


def _header_order(header: str) -> str | None:
    match = re.search(r"^P:(.*)$", header, re.MULTILINE)
    if match is None:
        return None
    order = part_order(match.group(1))
    return order or None
