"""Musical probes over ABC text and the ranking of neurons against them (Qt-free).

A probe turns a tune's text into one target value per character. Targets follow the convention
of `models.activations`: value `i` describes the state *after reading* `text[i]` (so "inside a
chord symbol" is true from the opening quote up to the character before the closing one).
Binary targets are 0/1; continuous ones (position in the bar) are floats; NaN marks characters
a probe says nothing about (the header, for position in the bar), which rankings leave out.

Ranking. A binary target ranks units by Cohen's d: (mean inside - mean outside) / pooled
standard deviation, a scale-free separation that, unlike AUC, costs one pass over the
(T, units) matrix. A continuous target ranks by Pearson correlation. Both keep their sign (a
unit that is *low* inside a chord is as informative) and order by absolute value.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# A header field line: a letter, a colon (X:, T:, M:, K:, ...).
_FIELD = re.compile(r"^[A-Za-z]:")
# Bar lines, longest first: |], [|, ||, :|:, :|, |:, ::, | (a `|1`/`:|2` ending keeps its digit
# out: the digit starts the bar).
_BAR = re.compile(r"\[\||\|\]|\|\||:\|:|:\||\|:|::|\|")

MIN_GROUP = 2  # fewest characters on each side of a binary target for a meaningful ranking


def body_start(text: str) -> int:
    """Index of the first body character: after the `K:` line (or the last leading field line)."""
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        # Field lines, and comments or blank lines among them, belong to the header.
        if not (_FIELD.match(stripped) or stripped.startswith("%") or not stripped):
            break
        pos += len(line)
        if stripped.startswith("K:"):
            break
    return pos


def header_mask(text: str) -> np.ndarray:
    """1 on the header (field lines through `K:`), 0 in the body."""
    target = np.zeros(len(text), dtype=np.float32)
    target[: body_start(text)] = 1.0
    return target


def _body_bars(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the bar lines in the body, skipping chord symbols and comments."""
    start = body_start(text)
    spans = []
    for m in _BAR.finditer(text, start):
        if _in_quotes_or_comment(text, m.start()):
            continue
        spans.append((m.start(), m.end()))
    return spans


def _in_quotes_or_comment(text: str, index: int) -> bool:
    line_start = text.rfind("\n", 0, index) + 1
    before = text[line_start:index]
    return before.count('"') % 2 == 1 or "%" in before


def chord_mask(text: str) -> np.ndarray:
    """1 from an opening `"` of a body chord symbol to the character before its closing `"`."""
    target = np.zeros(len(text), dtype=np.float32)
    inside = False
    for i in range(body_start(text), len(text)):
        ch = text[i]
        if ch == '"':
            inside = not inside
        elif ch == "\n":
            inside = False  # an unclosed quote ends with its line, as abc2midi reads it
        target[i] = 1.0 if inside else 0.0
    return target


def after_bar_mask(text: str) -> np.ndarray:
    """1 on the last character of each body bar line: the state just after reading it."""
    target = np.zeros(len(text), dtype=np.float32)
    for _, end in _body_bars(text):
        target[end - 1] = 1.0
    return target


def line_start_mask(text: str) -> np.ndarray:
    """1 on each newline: the state from which the next line's first character is predicted."""
    return np.fromiter((ch == "\n" for ch in text), dtype=np.float32, count=len(text))


def repeat_mask(text: str) -> np.ndarray:
    """1 inside repeated sections of the body: from `|:` (or a section start, when a `:|` has
    no opening) through the `:|` that closes it."""
    target = np.zeros(len(text), dtype=np.float32)
    section = body_start(text)  # where an implicit repeat would begin
    open_at: int | None = None
    for start, end in _body_bars(text):
        token = text[start:end]
        closes = token.startswith(":")
        opens = token.endswith(":")
        if closes:
            begin = open_at if open_at is not None else section
            target[begin:end] = 1.0
            open_at = None
        if opens:
            open_at = start
        if closes or token in ("||", "|]", "[|"):
            section = end
    if open_at is not None:  # an unclosed |: runs to the end
        target[open_at:] = 1.0
    return target


def bar_position(text: str) -> np.ndarray:
    """Fraction of the way through the bar (0 at its first character, < 1 at its last), for
    body characters between two bar lines; NaN elsewhere."""
    target = np.full(len(text), np.nan, dtype=np.float32)
    start = body_start(text)
    # The body's start counts as a bar line, so a tune with no opening bar line keeps bar 1.
    bars = [(start, start), *_body_bars(text)]
    for (_, prev_end), (next_start, _) in itertools.pairwise(bars):
        segment = text[prev_end:next_start]
        core = segment.strip("\n")
        if not core or "\n" in core:
            continue  # empty, or a bar broken over lines: no clean position to give
        first = prev_end + len(segment) - len(segment.lstrip("\n"))
        target[first : first + len(core)] = np.arange(len(core), dtype=np.float32) / len(core)
    return target


def span_mask(length: int, start: int, end: int) -> np.ndarray:
    """1 on characters [start, end) of a text of `length` characters (a selected span)."""
    target = np.zeros(length, dtype=np.float32)
    target[max(0, start) : max(0, min(end, length))] = 1.0
    return target


@dataclass(frozen=True)
class Probe:
    name: str
    label: str
    # text -> targets here; a Timeline -> targets for the event probes (event_probes.py)
    target: Callable[[Any], np.ndarray]
    binary: bool = True


PROBES: dict[str, Probe] = {
    p.name: p
    for p in (
        Probe("header", "Inside the header (vs the body)", header_mask),
        Probe("bar_position", "Position within the bar", bar_position, binary=False),
        Probe("chord", 'Inside a "…" chord symbol', chord_mask),
        Probe("after_bar", "Right after a bar line", after_bar_mask),
        Probe("line_start", "Start of a line (after a newline)", line_start_mask),
        Probe("repeat", "Inside a repeat |: … :|", repeat_mask),
    )
}


@dataclass(frozen=True)
class Ranking:
    """Units ordered best first; `scores[u]` is unit u's signed score (d or r)."""

    order: np.ndarray  # (U,) unit indices, best first
    scores: np.ndarray  # (U,) float
    method: str  # "cohen_d" or "pearson_r"

    def top(self, n: int) -> list[tuple[int, float]]:
        return [(int(u), float(self.scores[u])) for u in self.order[:n]]


class ProbeError(ValueError):
    """A target that cannot rank anything (all one class, too few characters)."""


def _check(acts: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if acts.ndim != 2 or target.shape != (acts.shape[0],):
        raise ProbeError(f"target of {target.shape} does not fit activations {acts.shape}")
    keep = ~np.isnan(target)
    return acts[keep].astype(np.float64, copy=False), target[keep].astype(np.float64)


def cohen_d(acts: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per unit (mean where target is 1 - mean where 0) / pooled std; (T, U), (T,) -> (U,)."""
    x, y = _check(acts, target)
    inside = y > 0.5
    n1, n0 = int(inside.sum()), int((~inside).sum())
    if n1 < MIN_GROUP or n0 < MIN_GROUP:
        raise ProbeError(f"need at least {MIN_GROUP} characters on each side ({n1} vs {n0})")
    a, b = x[inside], x[~inside]
    var = ((n1 - 1) * a.var(axis=0, ddof=1) + (n0 - 1) * b.var(axis=0, ddof=1)) / (n1 + n0 - 2)
    diff = a.mean(axis=0) - b.mean(axis=0)
    # A unit constant over the text separates nothing: score 0, not inf/NaN.
    return np.where(var > 1e-12, diff / np.sqrt(np.maximum(var, 1e-12)), 0.0)


def pearson_r(acts: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per unit correlation with the target; (T, U), (T,) -> (U,); 0 for constant units."""
    x, y = _check(acts, target)
    if x.shape[0] < 3 or np.ptp(y) == 0:
        raise ProbeError("the target needs at least 3 characters and must vary")
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    denom = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())
    return np.where(denom > 1e-12, (yc @ xc) / np.maximum(denom, 1e-12), 0.0)


def rank_neurons(acts: np.ndarray, target: np.ndarray, binary: bool | None = None) -> Ranking:
    """Units of `acts` (T, U) ranked by how well they track `target` (T,), best first."""
    if binary is None:
        values = target[~np.isnan(target)]
        binary = bool(np.isin(values, (0.0, 1.0)).all())
    scores = cohen_d(acts, target) if binary else pearson_r(acts, target)
    order = np.argsort(-np.abs(scores), kind="stable")
    return Ranking(order=order, scores=scores, method="cohen_d" if binary else "pearson_r")


def run_probe(name: str, text: str, acts: np.ndarray) -> Ranking:
    """Rank the units of `acts` for the built-in probe `name` over `text`."""
    probe = PROBES[name]
    return rank_neurons(acts, probe.target(text), binary=probe.binary)


def sort_units(
    acts: np.ndarray, by: str = "index", reference: np.ndarray | None = None
) -> np.ndarray:
    """Display order of the units of `acts` (T, U).

    `index`: as stored; `variance`: most variable over the text first; `correlation`: most
    correlated (by absolute value) with `reference` (T,) first, e.g. a selected neuron's
    activations or a selected span's 0/1 mask.
    """
    units = acts.shape[1]
    if by == "index":
        return np.arange(units)
    if by == "variance":
        return np.argsort(-acts.var(axis=0), kind="stable")
    if by == "correlation":
        if reference is None:
            raise ProbeError("sorting by correlation needs a selected neuron or span")
        return np.argsort(-np.abs(pearson_r(acts, reference)), kind="stable")
    raise ValueError(f"unknown sort {by!r}")
