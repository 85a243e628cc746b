"""Which drawn element of the engraved score is a given note written in the ABC.

The score follows playback with this: playback says which characters of the ABC wrote the
note sounding now (:class:`workbench.session.NoteHighlight`), and the score view needs the SVG
element verovio drew for it. verovio's timemap would give times per element, but verovio 6.4
kills its process computing it for many tunes with repeats, and playback already knows the
characters. So the i-th note, chord or rest written in the text is paired with the i-th one
drawn (:attr:`workbench.notation.render.RenderResult.notes`, document order).

verovio 6.4 leaves out the notes after a tune's last bar line (Essen tunes often end without
one), so those may be missing from the drawn list: they get no highlight, and the rest pair.
Otherwise the pairing is all or nothing: when the counts differ, or a written rest meets a drawn
note, verovio read the tune differently from our lexer and there is no safe way to line the rest
up, so the score gets no highlights rather than wrong ones (the editor still follows). A tune
with two or more voices (``V:``) is refused for the same reason: verovio draws voices staff by
staff.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from workbench.notation.abc_lexer import lex
from workbench.notation.written_notes import written_notes

_VOICE = re.compile(r"(?:^V:|\[V:)\s*([^\s\]]+)", re.MULTILINE)


def _compatible(written: str, drawn: str) -> bool:
    # A one-note chord `[G]` is a note to our lexer but may be a chord to verovio.
    return (written == "rest") == (drawn == "rest")


def note_elements(
    abc: str, drawn: Sequence[tuple[str, int, str]]
) -> dict[tuple[int, int], tuple[int, str]]:
    """``{(start, end) of a written note: (page index, SVG element id)}``, or ``{}``.

    ``drawn`` is a render's ``notes``: ``(kind, page index, element id)`` in document order.
    """
    if len(set(_VOICE.findall(abc))) > 1:
        return {}
    written = written_notes(abc)
    if len(drawn) < len(written):
        bars = [t.end for t in lex(abc) if t.kind == "barline"]
        if bars and written[len(drawn)][1] >= bars[-1]:
            written = written[: len(drawn)]  # what verovio left out after the last bar line
    if not written or len(written) != len(drawn):
        return {}
    pairs: dict[tuple[int, int], tuple[int, str]] = {}
    for (kind, start, end), (drawn_kind, page, element) in zip(written, drawn, strict=True):
        if not _compatible(kind, drawn_kind):
            return {}
        pairs[(start, end)] = (page, element)
    return pairs
