"""The notes, chords and rests written in an ABC tune, with the characters that wrote each.

Follow-along pairs this written order with other orderings of the same music: music21's score
(:mod:`workbench.playback.follow`, for playback cues) and verovio's drawn elements
(:mod:`workbench.notation.score_notes`, for highlighting the note in the score).
"""

from __future__ import annotations

from workbench.notation.abc_lexer import lex


def written_notes(abc: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each note, chord and rest in the text, in order.

    Kinds are "note", "chord" (from its ``[`` to its ``]`` and length) and "rest"; a grace
    note is a "note" too (music21 keeps it, with no duration).
    """
    found: list[tuple[str, int, int]] = []
    chord_start: int | None = None
    chord_notes = 0
    tokens = lex(abc)
    for i, token in enumerate(tokens):
        text = abc[token.start : token.end]
        if token.kind == "chord_bracket" and text.startswith("["):
            chord_start, chord_notes = token.start, 0
        elif token.kind == "chord_bracket" and chord_start is not None:
            end = token.end
            if i + 1 < len(tokens) and tokens[i + 1].kind == "length":
                end = tokens[i + 1].end
            found.append(("chord" if chord_notes > 1 else "note", chord_start, end))
            chord_start = None
        elif token.kind == "note" and chord_start is not None:
            chord_notes += 1
        elif token.kind in ("note", "rest"):
            end = token.end
            if i + 1 < len(tokens) and tokens[i + 1].kind == "length":
                end = tokens[i + 1].end
            start = token.start
            if i > 0 and tokens[i - 1].kind == "accidental" and tokens[i - 1].end == start:
                start = tokens[i - 1].start
            found.append((token.kind, start, end))
    return found
