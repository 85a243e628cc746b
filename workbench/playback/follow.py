"""Follow-along cues: which characters of the ABC text wrote the note sounding at each moment.

The i-th note, chord or rest written in the ABC text (tokens of
:func:`workbench.notation.abc_lexer.lex`; a ``[CEG]`` chord is one) is paired with the i-th
note, chord or rest of the music21 score in written order, and placed in time by its score
offset (quarter notes) through the MIDI file's tempo map, so whatever tempo the conversion chose
the cues stay on the notes. Limits:

* repeats: music21's MIDI export plays repeats out; the score's repeats are expanded the same
  way here and each played note is traced back (music21's ``derivation`` chain) to the written
  note, so the second time through highlights the same characters. When music21 cannot expand
  the repeats, the cues follow the written order once;
* one voice: a multi-voice tune (``V:``) gets no cues (music21 orders voices part by part);
* the pairing stops at the first element whose kind disagrees (a note token against a music21
  rest, say): no cues rather than wrong ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.notation.written_notes import written_notes

if TYPE_CHECKING:
    from music21 import stream

    from workbench.playback.events import Cue, Tune


def abc_cues(abc: str, score: stream.Score, tune: Tune) -> list[Cue]:
    """Cues for ``tune`` converted from ``score`` (music21's reading of ``abc``)."""
    from workbench.playback.events import Cue

    if len(score.parts) > 1:
        return []
    part = score.parts[0] if score.parts else score
    written = list(part.flatten().notesAndRests)
    spans: dict[int, tuple[int, int]] = {}  # id of a written music21 element -> its characters
    for (kind, start, end), element in zip(written_notes(abc), written, strict=False):
        if ("rest" if element.isRest else "chord" if element.isChord else "note") != kind:
            break
        spans[id(element)] = (start, end)
    try:
        played = list(part.expandRepeats().flatten().notesAndRests)
    except Exception:  # music21 raises several kinds on badly formed repeats
        played = written
    cues: list[Cue] = []
    for element in played:
        origin = element
        while origin is not None and id(origin) not in spans:
            origin = origin.derivation.origin
        if origin is None or element.duration.quarterLength == 0:  # nothing sounds: no cue
            continue
        start, end = spans[id(origin)]
        cues.append(Cue(tune.quarters_to_seconds(float(element.offset)), start, end))
    cues.sort(key=lambda c: c.time)
    return cues
