"""A tune's shape as music21 reads it: the note it ends on, its bars and its sections (Qt-free).

Used to compare generated tunes with real ones (`benchmarks/musicality.py`): whether a tune ends
on the tonic of its key, how many bars it has, and how its sections (the stretches between
repeat or section bar lines: `|:`, `:|`, `::`, `||`, `|]`) fall, since a dance tune is mostly
two repeated 8-bar parts. Everything is read from music21's score (its ABC reader, key and
measures), not from the workbench's own bar scanner, so it is an independent judge of what the
decoder produces. One tune costs a music21 parse (~100 ms): use a process pool for many.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.notation.convert import parse_abc

# Bar lines that end a section, by music21's `Barline.type`.
_SECTION_END_TYPES = frozenset({"double", "final", "light-light", "light-heavy", "heavy-light"})


@dataclass(frozen=True)
class TuneShape:
    """`tonic` and `final` are pitch classes (0 = C); `final` is the last sounding note's (the
    lowest of a final chord), None for a tune without notes. `bars` counts full bars (a pickup
    and the short bar that completes it make one). `sections` holds the bars of each section in
    order; `repeated` counts the sections closed by a repeat sign."""

    tonic: int | None
    final: int | None
    bars: int
    sections: tuple[int, ...]
    repeated: int

    @property
    def ends_on_tonic(self) -> bool:
        return self.final is not None and self.final == self.tonic


def tune_shape(abc: str) -> TuneShape:
    """Read one ABC tune's shape; raises `ConversionError` when music21 cannot read it."""
    from music21 import bar, key, meter, spanner

    score = parse_abc(abc)
    part = score.parts[0] if score.parts else score
    sig = score.recurse().getElementsByClass(key.KeySignature).first()
    tonic = None
    if isinstance(sig, key.Key):
        tonic = sig.tonic.pitchClass
    elif sig is not None:  # a key signature without a mode: its major key
        tonic = sig.asKey("major").tonic.pitchClass
    notes = [n for n in part.flatten().notes if not n.duration.isGrace]
    final = None
    if notes:
        last = max(notes, key=lambda n: n.offset)
        final = min(last.pitches, key=lambda p: p.ps).pitchClass
    ts = score.recurse().getElementsByClass(meter.TimeSignature).first()
    bar_ql = float(ts.barDuration.quarterLength) if ts is not None else 4.0
    measures = list(part.getElementsByClass("Measure"))
    if not measures:  # music21 made no measures (a one-bar tune): the part is one section
        total = float(part.duration.quarterLength)
        bars = max(1, round(total / bar_ql)) if notes else 0
        return TuneShape(tonic, final, bars, (bars,) if bars else (), 0)
    # A second (third...) ending replaces the first: its bars are not more bars of the tune.
    later_endings = {
        id(m)
        for bracket in score.recurse().getElementsByClass(spanner.RepeatBracket)
        if str(bracket.number).strip() not in ("", "1")
        for m in bracket.getSpannedElements()
    }
    sections: list[int] = []
    repeated = 0
    length = 0.0
    for i, measure in enumerate(measures):
        if id(measure) in later_endings:
            continue
        left = measure.leftBarline
        if isinstance(left, bar.Repeat) and left.direction == "start" and length:
            sections.append(round(length / bar_ql))
            length = 0.0
        length += float(measure.duration.quarterLength)
        right = measure.rightBarline
        closes_repeat = isinstance(right, bar.Repeat) and right.direction == "end"
        if closes_repeat or (right is not None and right.type in _SECTION_END_TYPES):
            sections.append(round(length / bar_ql))
            repeated += closes_repeat
            length = 0.0
        elif i == len(measures) - 1 and length:
            sections.append(round(length / bar_ql))
    sections = [s for s in sections if s > 0]
    return TuneShape(tonic, final, sum(sections), tuple(sections), repeated)
