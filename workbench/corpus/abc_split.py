"""Splitting the text of an ABC file (a "tunebook") into single tunes.

We split by hand instead of letting music21 parse the file: we need each tune's line
position and a separate error report per bad tune, and music21's ABC handler gives
neither; it also parses every tune fully into a score, at 70-105 ms per tune, which
would make a 13,000-tune corpus take minutes instead of a fraction of a second. The
model only needs the tune's text, so a line-based split following the ABC standard is
all we need:

* a tune starts at an ``X:`` line and ends at the next blank line (whitespace-only
  lines count as blank), the next ``X:`` line or the end of the file;
* free text and comments between tunes are ignored;
* inside a tune, whole-line comments (``%...``, including ``%%`` directives) are
  dropped: they are typesetting/playback noise the model should not learn;
* a tune must have a ``K:`` field followed by at least one line of music.

The input is text already cleaned by :func:`workbench.corpus.text.normalise_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workbench.corpus.tune import Problem, Tune

# An information field line such as "T:Title" or "w: lyrics" ("+:" continues a field).
_FIELD_LINE = re.compile(r"[A-Za-z+]:")

NO_TUNES_MESSAGE = "no tunes found (no X: or K: field)"


def is_comment(line: str) -> bool:
    """Tell whether ``line`` is a whole-line comment or ``%%`` directive."""
    return line.lstrip().startswith("%")


def clean_tune_lines(lines: Iterable[str]) -> list[str]:
    """Drop comment and blank lines and strip trailing whitespace from the rest.

    Blank lines go too: in ABC a blank line ends a tune, so a tune that kept one could
    not be written to a tunebook and read back as the same tune.
    """
    stripped = (line.rstrip() for line in lines)
    return [line for line in stripped if line and not is_comment(line)]


def describe_tune(lines: list[str]) -> str:
    """A short name for a tune in messages: ``tune X:12 "Title"`` (parts as available)."""
    reference = title = ""
    for line in lines:
        if not reference and line.startswith("X:"):
            reference = line[2:].strip()
        elif not title and line.startswith("T:"):
            title = line[2:].strip()
    name = f"tune X:{reference}" if reference else "tune"
    return f'{name} "{title}"' if title else name


def check_tune(lines: list[str]) -> str | None:
    """Return why the cleaned tune ``lines`` are not a usable tune, or None if they are."""
    key_at = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if key_at is None:
        return "has no K: field"
    if not any(not _FIELD_LINE.match(line) for line in lines[key_at + 1 :]):
        return "has no music after its K: field"
    return None


def _paragraphs_with_x(lines: list[str]) -> Iterable[tuple[int, list[str]]]:
    """Yield ``(first line number, raw lines)`` for each tune that starts at ``X:``."""
    start = 0  # 1-based line number of the tune being collected, 0 when outside one
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("X:"):
            if start:
                yield start, body
            start, body = number, [line]
        elif start:
            if line.strip():
                body.append(line)
            else:
                yield start, body
                start, body = 0, []
    if start:
        yield start, body


def _headerless_tune(lines: list[str]) -> tuple[int, list[str]] | None:
    """Find the single tune of a file that has no ``X:`` line, if it has a ``K:`` line.

    The tune runs from the start of the paragraph holding the first ``K:`` line (so a
    description before it is left out) to the end of the file; it gets ``X:1``.
    """
    key_at = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if key_at is None:
        return None
    start = key_at
    while start > 0 and lines[start - 1].strip():
        start -= 1
    return start + 1, ["X:1", *lines[start:]]


def split_abc(text: str, source: str) -> tuple[list[Tune], list[Problem]]:
    """Split the normalised ``text`` of an ABC file into tunes.

    Returns the good tunes (``index`` counts only those) and one :class:`Problem` per
    skipped tune, or a single problem when the file holds no tune at all.
    """
    lines = text.split("\n")
    if any(line.startswith("X:") for line in lines):
        candidates = list(_paragraphs_with_x(lines))
    else:
        headerless = _headerless_tune(lines)
        if headerless is None:
            return [], [Problem(source, NO_TUNES_MESSAGE)]
        candidates = [headerless]

    tunes: list[Tune] = []
    problems: list[Problem] = []
    for line_number, raw in candidates:
        cleaned = clean_tune_lines(raw)
        reason = check_tune(cleaned)
        if reason is None:
            tunes.append(Tune("\n".join(cleaned), source, len(tunes), line_number))
        else:
            message = f"{describe_tune(cleaned)} {reason}; skipped"
            problems.append(Problem(source, message, line_number))
    return tunes, problems


def count_tunes(text: str) -> int:
    """Count the ``X:`` lines of an ABC text: a fast estimate of its number of tunes."""
    return len(re.findall(r"^X:", text, flags=re.MULTILINE))
