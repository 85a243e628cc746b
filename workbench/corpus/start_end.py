"""The ``<start>``/``<end>`` text format used by the student reports' data sets.

Each tune sits between a line ``<start>`` and a line ``<end>`` (each marker alone on its
line, surrounding whitespace allowed); text outside the markers is ignored::

    <start>
    X:1
    T:Example
    K:D
    |:DFA dAF:|
    <end>

Tunes are cleaned like ABC tunes (comment and blank lines dropped, trailing whitespace
stripped) but otherwise kept as written: a tune without an ``X:`` line does not get
one, and no ``K:`` field is required, because the markers already say where a tune is.
A ``<start>`` without its ``<end>`` skips that one tune, with a :class:`Problem` naming
the line; the other tunes still load.
"""

from __future__ import annotations

from workbench.corpus.abc_split import clean_tune_lines, is_comment
from workbench.corpus.tune import Problem, Tune

START_MARKER = "<start>"
END_MARKER = "<end>"


def has_start_markers(text: str) -> bool:
    """Tell whether ``text`` holds a line that is exactly ``<start>`` (after stripping)."""
    if START_MARKER not in text:  # fast path: most ABC files never mention it
        return False
    return any(line.strip() == START_MARKER for line in text.split("\n"))


def _leading_skipped(lines: list[str]) -> int:
    """Count the blank and comment lines before the first line a tune keeps."""
    for skipped, line in enumerate(lines):
        if line.strip() and not is_comment(line):
            return skipped
    return len(lines)


def split_start_end(text: str, source: str) -> tuple[list[Tune], list[Problem]]:
    """Split the normalised ``text`` of a ``<start>``/``<end>`` file into tunes.

    Returns the tunes (``line`` is the file line of the tune's first kept line) and the
    problems: unclosed ``<start>``, stray ``<end>``, empty tunes.
    """
    tunes: list[Tune] = []
    problems: list[Problem] = []
    start = 0  # line number of the open <start>, 0 when outside a tune
    body: list[str] = []

    def close(end_line: int) -> None:
        cleaned = clean_tune_lines(body)
        if cleaned:
            first = start + 1 + _leading_skipped(body)
            tunes.append(Tune("\n".join(cleaned), source, len(tunes), first))
        else:
            message = f"empty tune between {START_MARKER} and {END_MARKER} (line {end_line})"
            problems.append(Problem(source, message + "; skipped", start))

    def unclosed(before: str) -> Problem:
        message = f"{START_MARKER} has no matching {END_MARKER} before {before}; tune skipped"
        return Problem(source, message, start)

    for number, line in enumerate(text.split("\n"), start=1):
        marker = line.strip()
        if marker == START_MARKER:
            if start:
                problems.append(unclosed(f"the next {START_MARKER} at line {number}"))
            start, body = number, []
        elif marker == END_MARKER:
            if start:
                close(number)
                start, body = 0, []
            else:
                message = f"{END_MARKER} without a {START_MARKER} before it; ignored"
                problems.append(Problem(source, message, number))
        elif start:
            body.append(line)
    if start:
        problems.append(unclosed("the end of the file"))
    if not tunes and not problems:
        problems.append(Problem(source, f"no tunes found (no {START_MARKER} line)"))
    return tunes, problems
