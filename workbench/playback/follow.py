"""Follow-along cues: which characters of the ABC text wrote the note sounding at each moment.

Each note, chord and rest of a score made by :func:`workbench.notation.convert.abc_to_score`
carries the characters of the tune that wrote it (``editorial.source_span``, set when music21
read the tune, before MIDI export removed anything): music21 reads a repaired text, with the
repeats written out in playing order for playback (``played``), and each of its characters is
traced back to the tune's own (:mod:`workbench.notation.music21_text`). A cue places a played
element in time by its score offset (quarter notes) through the MIDI file's tempo map, so
whatever tempo the conversion chose the cues stay on the notes. Limits:

* repeats: a bar played a second time highlights the same characters. A score that still holds
  repeats (music21 could not read the written-out form) has them expanded the way its MIDI
  export does, each copy keeping its characters; when music21 cannot expand them, the cues
  follow the written order once;
* one voice: a multi-voice tune (``V:``) gets no cues (music21 orders voices part by part);
* where music21's reading and the text disagree, elements carry no characters: they get no
  cue rather than a wrong one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from music21 import stream

    from workbench.playback.events import Cue, Tune


def abc_cues(abc: str, score: stream.Score, tune: Tune) -> list[Cue]:
    """Cues for ``tune`` converted from ``score`` (music21's reading of ``abc``)."""
    from workbench.playback.events import Cue

    if len(score.parts) > 1:
        return []
    part = score.parts[0] if score.parts else score
    try:
        played = list(part.expandRepeats().flatten().notesAndRests)
    except Exception:  # music21 raises several kinds on badly formed repeats
        played = list(part.flatten().notesAndRests)
    cues: list[Cue] = []
    for element in played:
        span = element.editorial.get("source_span")
        if span is None or element.duration.quarterLength == 0:  # nothing sounds: no cue
            continue
        cues.append(Cue(tune.quarters_to_seconds(float(element.offset)), span[0], span[1]))
    cues.sort(key=lambda c: c.time)
    return cues
