"""ABC tunes to music21 scores, standard MIDI files and MusicXML, and batch export of tunes.

Conversions go through music21 (its ABC reader, MIDI and MusicXML writers), with repairs where
music21 gets ABC wrong, measured against abc2midi (`workbench.notation.midi_compare`,
`benchmarks/midi_agreement.py`: 53-58 % of 300-tune samples played alike before them, 98-99 %
after):

* music21 reads a repaired text (`workbench.notation.music21_text`): ABC 2.1 declared so that
  accidentals carry through the bar, ``H`` fermatas, ``x``/``Z`` rests, annotations, ties between
  two pitches, broken rhythms past slurs, inline fields and more (see that module); for MIDI
  and playback (``played``) the text also has its repeats, endings and ``P:`` play order
  written out in the order abc2midi plays them (`workbench.notation.play_order`), where
  music21's own expansion went back to the top of the tune at a ``:|`` with no ``|:``;
* after parsing, a chord written in a grace group becomes a grace chord and grace notes written
  inside a tuplet are marked (music21 keeps neither); each note, chord and rest gets the
  characters of the tune that wrote it (``editorial.source_span``, for follow-along cues);
* music21's ABC reader can put the *same* TimeSignature object into two measures (around a
  repeat with a pickup); its MIDI writer then fails with "... already found in this Stream"
  (13% of O'Neill's and 24% of the Essen tunes). :func:`abc_to_score` replaces every repeat of an
  object with a deep copy, after which those tunes export;
* music21 keeps no tie on a chord (``[D2F2]-[D2F2]``, ``[D2-F2][DF]``, ``D2-[DF]``): they are
  put on the chords' notes from the text (:func:`_mark_chord_ties`), and the MIDI is written
  from a copy where each tied pitch is one held note, as abc2midi plays it
  (:func:`with_chord_ties_held`);
* before MIDI is written, chord symbols are removed (music21 wrote them as notes that never end)
  and grace notes get time (:func:`realize_grace_notes`);
* music21 cannot write MIDI for a written score whose repeats it cannot expand ("badly formed
  repeats"); such a tune is written with its repeats made plain bar lines (played once).

Parsing costs 70-105 ms per tune on a quiet machine (more under load; the text repairs ~2 ms):
run it on a worker thread in the GUI. Nothing here imports Qt. Files are written atomically (a
temporary file in the same folder, then renamed), so a failed export never leaves half a file
behind.
"""

from __future__ import annotations

import copy
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from workbench.atomic_files import write_bytes_atomically
from workbench.notation.validate import is_power_of_two

if TYPE_CHECKING:  # music21 takes ~1 s to import: only the functions that need it import it.
    from music21 import note, stream

    from workbench.notation.music21_text import SourcedText

ExportFormat = Literal["abc", "tunebook", "mid", "musicxml"]
EXPORT_FORMATS: tuple[str, ...] = ("abc", "tunebook", "mid", "musicxml")
_SUFFIX = {"abc": ".abc", "tunebook": ".abc", "mid": ".mid", "musicxml": ".musicxml"}

# An L: or M: field (header line or inline [L:...]) written as a fraction.
_UNIT_FIELD = re.compile(r"(?:^|\[)([LM]):\s*(\d+)\s*/\s*(\d+)", re.MULTILINE)
_MAX_MESSAGE = 200  # music21's messages can hold whole token dumps; keep one readable line
_MAX_STEM = 60
_AUTHOR_LOCK = threading.Lock()
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in "123456789"
}


class ConversionError(Exception):
    """A tune cannot be converted; the message names the problem in one line."""


@dataclass(frozen=True, slots=True)
class ExportProblem:
    """One tune of a batch that was not exported: which tune (``describe``) and why."""

    index: int  # 0-based position in the batch
    tune: str  # e.g. 'tune 3 "The Enchanted Valley"'
    reason: str

    def __str__(self) -> str:
        return f"{self.tune}: {self.reason}"


# -- reading ABC ---------------------------------------------------------------------------


def _field(text: str, key: str) -> str:
    prefix = key + ":"
    for line in text.split("\n"):
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


def tune_title(abc: str) -> str:
    """The first ``T:`` field of a tune, or ""."""
    return _field(abc, "T")


def describe(abc: str, index: int) -> str:
    """A short name for the tune at ``index`` (0-based) of a batch, for messages."""
    title = tune_title(abc)
    return f'tune {index + 1} "{title}"' if title else f"tune {index + 1}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _copy_shared_objects(score: stream.Stream) -> int:
    """Replace each repeat of an object that sits in two places with a deep copy.

    music21's ABC reader reuses one TimeSignature object for two measures; a music21 object
    must live in one place per stream hierarchy or the MIDI writer refuses it. Any element
    type is handled, although only TimeSignature has been seen. Returns the copies made.
    """
    from music21 import stream as m21stream

    seen: set[int] = set()
    copies = 0
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for element in list(container.elements):
            if isinstance(element, m21stream.Stream):
                continue
            if id(element) in seen:
                container.replace(element, copy.deepcopy(element))
                copies += 1
            else:
                seen.add(id(element))
    return copies


def parse_abc(abc: str, *, played: bool = False) -> stream.Score:
    """music21's reading of one ABC tune, without the repairs of :func:`abc_to_score`.

    music21 reads the text :func:`~workbench.notation.music21_text.music21_text` makes of the
    tune (its misreadings repaired); with ``played``, repeats and parts written out as abc2midi
    plays them, so the score holds no repeats (should music21 fail on that text, it reads the
    written form, and plays its repeats its own way). The text read is kept on the score
    (:func:`music21_source`); grace chords and grace notes in tuplets are repaired from it.
    """
    from workbench.notation.music21_text import music21_text

    if not abc.strip():
        raise ConversionError("the tune is empty")
    _check_unit_lengths(abc)
    if played:
        try:
            return _parse(music21_text(abc, played=True))
        except ConversionError:
            pass
    return _parse(music21_text(abc))


def _check_unit_lengths(abc: str) -> None:
    """Refuse an ``L:`` or ``M:`` whose denominator is not a power of two (``L:16/14``,
    ``M:3/14``).

    ABC allows no such length or meter (the validator calls it an error), and music21 spends
    minutes (found hung > 120 s by benchmarks/crash_isolation.py on tunes sampled at T = 2)
    choosing time signatures for the bars it makes: the playback pane would say "converting"
    for ever.
    """
    for match in _UNIT_FIELD.finditer(abc):
        field, numerator, denominator = match.group(1), match.group(2), int(match.group(3))
        if not is_power_of_two(denominator):
            example = "L:1/8 or L:1/16" if field == "L" else "M:6/8 or M:3/4"
            raise ConversionError(
                f"{field}:{numerator}/{denominator} is not a "
                f"{'note length' if field == 'L' else 'meter'} music21 can read; "
                f"write it like {example}"
            )


def _parse(source: SourcedText) -> stream.Score:
    from music21 import converter
    from music21 import stream as m21stream

    try:
        parsed = converter.parse(source.text, format="abc")
    except Exception as exc:  # music21 raises many types for bad ABC; all mean the same here
        raise ConversionError(f"music21 could not read the ABC: {_one_line(exc)}") from None
    if isinstance(parsed, m21stream.Opus):  # a text with several X: tunes: the first one
        scores = list(parsed.scores)
        if not scores:
            raise ConversionError("the text holds no tune")
        parsed = scores[0]
    parsed.editorial.music21_source = source
    _repair_graces(parsed, source.text)
    _mark_written_spans(parsed, source)
    _mark_chord_ties(parsed, source.text)
    return parsed


def _one_voice(score: stream.Score) -> stream.Stream | None:
    """The part of ``score`` that holds its notes and rests (the score itself when it has no
    parts), or None when two or more parts do: music21 orders their notes part by part, the
    text line by line. A voice declared but never written (``V:2`` with nothing after it) is
    an empty part and does not count."""
    parts = [p for p in score.parts if any(True for _ in p.recurse().notesAndRests)]
    if len(parts) > 1:
        return None
    return parts[0] if parts else score


def _mark_written_spans(score: stream.Score, source: SourcedText) -> None:
    """Give each note, chord and rest the characters of the tune that wrote it
    (``editorial.source_span``), for the player's follow-along cues.

    The i-th note, chord or rest music21 read is paired with the i-th in the text it read (a
    ``[CEG]`` chord is one), then traced back through the repairs to the tune's own text: a rest
    of a ``Z4`` written out points at ``Z4``, the notes of a repeat played again at the notes
    written once. Done here, before MIDI export removes anything; the pairing stops at the first
    kind that disagrees (a note against a rest), leaving the rest unmarked rather than wrong.
    A tune of several voices is not marked (music21 orders its notes part by part).
    """
    from music21 import harmony

    from workbench.notation.written_notes import written_notes

    part = _one_voice(score)
    if part is None:
        return
    elements = [e for e in part.recurse().notesAndRests if not isinstance(e, harmony.Harmony)]
    for (kind, start, end), element in zip(written_notes(source.text), elements, strict=False):
        if _written_kind(element) != kind:
            break
        element.editorial.source_span = source.source_span(start, end)


def _written_kind(element: note.GeneralNote) -> str:
    """The kind the text's reading gives the note, chord or rest music21 made of it: music21
    makes a one-note ``[G2]`` a Chord, which the text counts as a note (as abc2midi plays it)."""
    if element.isRest:
        return "rest"
    return "chord" if element.isChord and len(element.notes) > 1 else "note"


def _written_ties(text: str) -> list[tuple[str, tuple[bool, ...]]]:
    """(kind, ties) of each note, chord and rest in the text, in written order (as
    :func:`~workbench.notation.written_notes.written_notes` counts them): for a chord, whether
    each of its notes is tied onward (``[D2-F2]``: its own ``-``; ``[D2F2]-``: all of them);
    for a note or rest, one flag."""
    from workbench.notation.abc_lexer import lex

    tokens = lex(text)
    found: list[tuple[str, tuple[bool, ...]]] = []
    inner: list[bool] | None = None

    def tied_after(i: int) -> bool:
        j = i + 1
        if j < len(tokens) and tokens[j].kind == "length":
            j += 1
        return j < len(tokens) and tokens[j].kind == "tie"

    for i, token in enumerate(tokens):
        opening = text[token.start : token.end].startswith("[")
        if token.kind == "chord_bracket" and opening:
            inner = []
        elif token.kind == "chord_bracket" and inner is not None:
            whole = tied_after(i)
            flags = tuple(flag or whole for flag in inner)
            found.append(("chord" if len(flags) > 1 else "note", flags))
            inner = None
        elif token.kind == "note" and inner is not None:
            inner.append(False)
        elif token.kind == "tie" and inner:
            inner[-1] = True
        elif token.kind in ("note", "rest"):
            found.append((token.kind, (token.kind == "note" and tied_after(i),)))
    return found


def _mark_chord_ties(score: stream.Score, text: str) -> None:
    """Put the ties written on and into chords on the chords' notes, in place.

    music21's ABC reader keeps no tie on a chord (``[D2F2]-[D2F2]``, ``[D2-F2][DF]``), nor on a
    chord a note is tied into (``D2-[DF]``), nor on a note one chord note is tied into
    (``[D2-F2]D2``); the standard and abc2midi tie each such pitch to the same pitch in the
    next note or chord, a grace chord included (``[D2F2]-{[DF]}``: abc2midi holds D and F into
    it). Each note tied onward gets a "start" tie (or "continue"), each note a tie reaches a
    "stop" (music21's own ties on notes agree). The score's elements are paired with the
    text's as in :func:`_mark_written_spans` (one voice only; nothing is marked when the kinds
    disagree). :func:`score_to_midi_bytes` plays them.
    """
    from music21 import harmony, tie

    part = _one_voice(score)
    if part is None:
        return
    elements = [e for e in part.recurse().notesAndRests if not isinstance(e, harmony.Harmony)]
    written = _written_ties(text)
    if len(written) != len(elements):
        return
    for element, (kind, _) in zip(elements, written, strict=True):
        if _written_kind(element) != kind:
            return
    tied_in: set[int] = set()
    for element, (_, flags) in zip(elements, written, strict=True):
        members = [] if element.isRest else list(element.notes) if element.isChord else [element]
        if len(members) != len(flags):  # a rest, or a chord music21 read otherwise: ties end
            tied_in = set()
            continue
        for member, onward in zip(members, flags, strict=True):
            into = member.pitch.midi in tied_in
            if onward or into:
                member.tie = tie.Tie(
                    "continue" if onward and into else "start" if onward else "stop"
                )
        tied_in = {m.pitch.midi for m, on in zip(members, flags, strict=True) if on}


def music21_source(score: stream.Score) -> SourcedText | None:
    """The text music21 read for a score made here, with where each character came from in
    the tune (:class:`~workbench.notation.music21_text.SourcedText`); None for other scores."""
    return score.editorial.get("music21_source")


def _repair_graces(score: stream.Stream, text: str) -> None:
    """Make each chord written in a grace group a grace chord (music21 makes it a real chord,
    which then takes its full time), and mark each grace note written inside a tuplet
    (``editorial.in_tuplet``). The score's notes, chords and rests are paired with the text's
    in written order; when their counts differ, nothing is changed."""
    from music21 import harmony

    from workbench.notation.music21_text import grace_flags

    flags = grace_flags(text)
    elements = [e for e in score.recurse().notesAndRests if not isinstance(e, harmony.Harmony)]
    if len(flags) != len(elements) or any(
        grace and not (e.duration.isGrace or e.isChord)
        for e, (grace, _) in zip(elements, flags, strict=True)
    ):
        return  # music21 read another number of notes, or others as grace notes: pair none
    for element, (grace, in_tuplet) in zip(elements, flags, strict=True):
        if grace and not element.duration.isGrace and element.activeSite is not None:
            element = _made_grace(element)
        if grace:
            element.editorial.in_tuplet = in_tuplet


def _made_grace(element: note.GeneralNote) -> note.GeneralNote:
    """Replace a note or chord with its grace form, moving what follows it earlier by the time
    it took (in its bar, and the later bars of its part)."""
    site = element.activeSite
    length = float(element.quarterLength)
    at = float(element.offset)
    grace = element.getGrace()
    site.replace(element, grace)
    if length:
        site.shiftElements(-length, startOffset=at + length)
        part = site.activeSite
        if part is not None and site.isMeasure:
            later = [m for m in part.getElementsByClass("Measure") if m.offset > site.offset]
            for measure in later:
                part.setElementOffset(measure, float(measure.offset) - length)
    return grace


def abc_to_score(abc: str, *, played: bool = False) -> stream.Score:
    """Parse one ABC tune into a music21 Score that exports to MIDI and MusicXML.

    ``played``: repeats, endings and a ``P:`` play order written out in the order abc2midi
    plays them (see :mod:`workbench.notation.play_order`), for MIDI and playback; without it
    the score keeps the tune's written form (for MusicXML). A text holding several tunes gives
    its first. Raises :class:`ConversionError` for ABC music21 cannot read or a tune without
    notes.
    """
    score = parse_abc(abc, played=played)
    if not any(True for _ in score.recurse().notes):
        raise ConversionError("the tune has no notes")
    _copy_shared_objects(score)
    return score


# -- MIDI and MusicXML ---------------------------------------------------------------------


# A MIDI tempo is microseconds per quarter note in 24 bits: 16.8 s per quarter at the slowest.
SLOWEST_MIDI_TEMPO = 60_000_000 / 0xFFFFFF


def _set_tempo(score: stream.Score, tempo_bpm: float) -> None:
    """Replace the tune's tempo marks with one of ``tempo_bpm`` quarter notes per minute."""
    from music21 import tempo

    for mark in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
        mark.activeSite.remove(mark)
    for part in score.parts or [score]:
        measures = part.getElementsByClass("Measure")
        target = measures[0] if measures else part
        target.insert(0, tempo.MetronomeMark(number=tempo_bpm))


# abc2midi plays each grace note for a quarter of its written length (its `%%MIDI gracedivider`
# default, 4), taken from the start of the note (or rest) it ornaments; the ABC standard leaves
# the timing to the player. A group that would take all of that note is left out, as abc2midi
# does ("Grace sequence exceeds host note").
GRACE_DIVIDER = 4


def remove_chord_symbols(score: stream.Stream) -> int:
    """Remove music21's chord symbols (``"G"``, ``"Am"``, O'Neill's ``"f"``), in place.

    music21 keeps each as a zero-length chord on the melody's channel, which its MIDI writer
    turns into notes whose note-off comes before their note-on: they sound to the end of the
    file. The app plays the melody only (as abc2midi does without its accompaniment), so they
    go before MIDI is written; MusicXML, parsed on its own, keeps them. Returns the count.
    """
    from music21 import harmony

    symbols = list(score.recurse().getElementsByClass(harmony.Harmony))
    for symbol in symbols:
        symbol.activeSite.remove(symbol)
    return len(symbols)


def realize_grace_notes(score: stream.Stream) -> int:
    """Give every grace note a sounding length, in place, so that it can be played.

    music21 keeps grace notes at zero length, and its MIDI writer then puts each one's note-off
    before its note-on at the same tick: the note never ends (it sounds to the end of the file).
    Here each group of grace notes gets :data:`GRACE_DIVIDER`-th of its written length, taken
    from the start of the note or rest it ornaments (which then starts later and is shorter), as
    abc2midi plays them. A grace group with nothing after it in its bar, or as long as what
    follows it, is removed. Returns the grace notes changed. music21 has no such
    transformation, hence this one.
    """
    from music21 import duration

    changed = 0
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        pending: list = []
        for element in list(container.notesAndRests):
            if element.duration.isGrace:
                pending.append(element)
                continue
            if pending:
                changed += _steal_time(container, pending, element, duration)
                pending = []
        for grace in pending:  # nothing to ornament in this bar: leave it out of the playing
            container.remove(grace)
    return changed


def _steal_time(container: stream.Stream, graces: list, main, duration_module) -> int:
    written = [
        duration_module.convertTypeToQuarterLength(g.duration.type, g.duration.dots) for g in graces
    ]
    # Graces written inside a tuplet (`(3{g}ABc`) shrink with the note they ornament, as
    # abc2midi plays them; graces written before it (`{g}(3ABc`) do not. music21 keeps no sign
    # of which: parse_abc marks them from the text.
    main_written = duration_module.convertTypeToQuarterLength(
        main.duration.type, main.duration.dots
    )
    inside = graces[0].editorial.get("in_tuplet", False)
    scale = float(main.quarterLength) / main_written if main_written and inside else 1.0
    lengths = [w * scale / GRACE_DIVIDER for w in written]
    total = sum(lengths)
    if total >= float(main.quarterLength):  # no time left for the note: abc2midi drops graces
        for grace in graces:
            container.remove(grace)
        return 0
    start = float(main.offset)
    for grace, length in zip(graces, lengths, strict=True):
        grace.duration = duration_module.Duration(length)
        container.setElementOffset(grace, start)
        start += length
    main.quarterLength = float(main.quarterLength) - total
    container.setElementOffset(main, start)
    return len(graces)


def _has_chord_ties(part: stream.Stream) -> bool:
    return any(
        any(member.tie is not None for member in chord.notes)
        for chord in part.recurse().getElementsByClass("Chord")
    )


def with_chord_ties_held(score: stream.Score) -> stream.Score:
    """The score with each tie on or into a chord played as one held note: ``score`` itself
    when it has none, else a changed copy (so the score's own elements, which the player's
    cues follow, stay as written).

    music21's MIDI writer joins tied notes, and tied chords only when every pitch of one
    chord is tied to the same pitches of the next (its ``stripTies``); it gives all the notes
    of a chord one length. abc2midi, as the standard says, ties each pitch on its own: in
    ``[D2-F2][DF]`` D sounds 3 units and F is struck twice, ``[D2F2]-D`` holds D only. In the
    copy each tied pitch becomes one note from its first attack to the end of the last note
    or chord it is tied into (taken out of a chord when the chord's other notes end sooner),
    the later attacks of that pitch are removed, and the part's ties are cleared so that
    music21 joins nothing again. A part with ``&`` voices inside its bars is left to music21.
    """
    from music21 import stream as m21stream

    parts = list(score.parts) or [score]
    wanted = [
        i
        for i, part in enumerate(parts)
        if _has_chord_ties(part) and not part.recurse().getElementsByClass(m21stream.Voice)
    ]
    if not wanted:
        return score
    played = copy.deepcopy(score)
    played_parts = list(played.parts) or [played]
    for i in wanted:
        _hold_ties(played_parts[i])
    return played


class _Held:
    """A pitch sounding on through ties: the note or chord member that struck it, taken out
    of its chord (as a note of its own) the first time it is lengthened."""

    def __init__(self, element, member, container: stream.Stream, offset, start) -> None:
        self.element, self.member, self.container = element, member, container
        self.offset, self.start = offset, start  # in its bar, and in the part
        self.note = None if element.isChord else element

    def last_until(self, end) -> None:
        if self.note is None:  # the first lengthening: out of the chord, as a note of its own
            self.note = copy.deepcopy(self.member)
            self.note.duration = copy.deepcopy(self.element.duration)
            self.container.insert(self.offset, self.note)
            self.element.remove(self.member)
            if not self.element.notes:
                self.container.remove(self.element)
        self.note.quarterLength = end - self.start


def _hold_ties(part: stream.Stream) -> None:
    """Play each tie of ``part`` as one held note (see :func:`with_chord_ties_held`), in place."""
    from music21 import harmony

    elements = [
        (e, e.activeSite, e.offset, e.getOffsetInHierarchy(part))
        for e in part.recurse().notesAndRests
        if not isinstance(e, harmony.Harmony) and e.quarterLength > 0
    ]
    sounding: dict[int, _Held] = {}
    for element, container, offset, start in elements:
        if element.isRest:
            sounding = {}
            continue
        end = start + element.quarterLength
        members = list(element.notes) if element.isChord else [element]
        onward: dict[int, _Held] = {}
        for member in members:
            pitch = member.pitch.midi
            held = sounding.get(pitch)
            if held is not None:  # tied into: the earlier note lasts to here, no new attack
                held.last_until(end)
                if element.isChord:
                    element.remove(member)
                else:
                    container.remove(element)
            if member.tie is not None and member.tie.type in ("start", "continue"):
                onward[pitch] = held or _Held(element, member, container, offset, start)
        if element.isChord and not element.notes and element.activeSite is not None:
            container.remove(element)
        sounding = onward
    for element in part.recurse().notes:
        element.tie = None
        for member in element.notes if element.isChord else ():
            member.tie = None


def score_to_midi_bytes(score: stream.Score, *, tempo_bpm: float | None = None) -> bytes:
    """A standard MIDI file of a score made by :func:`abc_to_score`.

    The score is changed in place: its chord symbols go (:func:`remove_chord_symbols`) and its
    grace notes get time (:func:`realize_grace_notes`), so offsets read from it afterwards (the
    player's follow-along cues) match what plays. A score made with ``played`` holds no repeats;
    music21 plays the repeats of any other its own way.
    """
    from music21 import midi

    if tempo_bpm is not None:
        if not tempo_bpm > 0:
            raise ConversionError(f"tempo must be positive, not {tempo_bpm}")
        if tempo_bpm < SLOWEST_MIDI_TEMPO:  # music21 would write it wrapped round (3 -> 18.6)
            raise ConversionError(
                f"tempo {tempo_bpm} is slower than a MIDI file can hold "
                f"({SLOWEST_MIDI_TEMPO:.2f} quarter notes per minute)"
            )
        _set_tempo(score, tempo_bpm)
    remove_chord_symbols(score)
    realize_grace_notes(score)
    played = with_chord_ties_held(score)
    try:
        return midi.translate.streamToMidiFile(played).writestr()
    except Exception as exc:
        problem = exc
    if "repeat" in str(problem).lower():
        # "cannot expand Stream: badly formed repeats" (1 in 200 O'Neill tunes): music21
        # plays repeats by expanding them; without them the tune still plays, once through.
        _drop_repeats(played)
        try:
            return midi.translate.streamToMidiFile(played).writestr()
        except Exception:
            pass
    raise ConversionError(f"music21 could not write MIDI: {_one_line(problem)}")


def _drop_repeats(score: stream.Score) -> None:
    """Make repeat bar lines plain and remove endings and D.C./D.S. marks, in place."""
    from music21 import bar, repeat, spanner

    for measure in score.recurse().getElementsByClass("Measure"):
        for side in ("leftBarline", "rightBarline"):
            line = getattr(measure, side)
            if isinstance(line, bar.Repeat):
                setattr(measure, side, bar.Barline(line.type))
    marks = (repeat.RepeatExpression, spanner.RepeatBracket)
    for mark in list(score.recurse().getElementsByClass(marks)):
        mark.activeSite.remove(mark)


def abc_to_midi_bytes(abc: str, *, tempo_bpm: float | None = None) -> bytes:
    """One ABC tune as the bytes of a standard MIDI file, repeats and parts played as abc2midi
    plays them.

    ``tempo_bpm`` (quarter notes per minute) overrides the tune's ``Q:``; without either,
    music21 plays 120 quarter notes per minute.
    """
    return score_to_midi_bytes(abc_to_score(abc, played=True), tempo_bpm=tempo_bpm)


def score_to_musicxml_bytes(score: stream.Score) -> bytes:
    """MusicXML (UTF-8 bytes) of a score made by :func:`abc_to_score`."""
    from music21 import defaults
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        # music21 names "Music21" as the composer of a tune without one (a C: field);
        # notation programs would show it. The default is global, hence the lock.
        with _AUTHOR_LOCK:
            saved, defaults.author = defaults.author, ""
            try:
                return GeneralObjectExporter(score).parse()
            finally:
                defaults.author = saved
    except Exception as exc:
        raise ConversionError(f"music21 could not write MusicXML: {_one_line(exc)}") from None


def abc_to_musicxml_bytes(abc: str) -> bytes:
    """One ABC tune as MusicXML (UTF-8 bytes)."""
    return score_to_musicxml_bytes(abc_to_score(abc))


def write_midi(abc: str, path: str | os.PathLike[str], *, tempo_bpm: float | None = None) -> Path:
    """Convert one tune and write it as a standard MIDI file; returns the path."""
    return write_bytes_atomically(path, abc_to_midi_bytes(abc, tempo_bpm=tempo_bpm))


def write_musicxml(abc: str, path: str | os.PathLike[str]) -> Path:
    """Convert one tune and write it as MusicXML; returns the path."""
    return write_bytes_atomically(path, abc_to_musicxml_bytes(abc))


# -- batch export --------------------------------------------------------------------------


def safe_stem(title: str, fallback: str) -> str:
    """A file name stem from a title: ASCII letters, digits, ``-`` and ``_`` only.

    Accents are dropped (``Sí Bheag`` -> ``Si_Bheag``), other runs of characters become one
    ``_``, the length is capped, and names Windows reserves (``CON``, ``NUL``, ...) get a ``_``.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9-]+", "_", ascii_title).strip("_-")[:_MAX_STEM].rstrip("_-")
    if not stem:
        return fallback
    if stem.lower() in _WINDOWS_RESERVED:
        stem += "_"
    return stem


def export_file_names(texts: Sequence[str], suffix: str) -> list[str]:
    """One file name per tune, from its title, unique within the batch (case-insensitively).

    ``The Kesh`` gives ``The_Kesh.mid``, a second ``The Kesh`` ``The_Kesh-2.mid``, an untitled
    tune ``tune_003.mid`` (its place in the batch). :func:`export_tunes` writes these names.
    """
    width = max(3, len(str(len(texts))))
    taken: set[str] = set()
    names = []
    for i, text in enumerate(texts, 1):
        stem = safe_stem(tune_title(text), f"tune_{i:0{width}d}")
        name, n = stem, 2
        while name.lower() in taken:
            name, n = f"{stem}-{n}", n + 1
        taken.add(name.lower())
        names.append(name + suffix)
    return names


def renumber(text: str, number: int) -> str:
    """The tune with its ``X:`` line set to ``number`` (added at the top when missing)."""
    lines = text.strip("\n").split("\n")
    for i, line in enumerate(lines):
        if line.startswith("X:"):
            lines[i] = f"X:{number}"
            break
    else:
        lines.insert(0, f"X:{number}")
    return "\n".join(lines)


def _export_one(text: str, path: Path, fmt: str) -> None:
    if fmt == "abc":
        write_bytes_atomically(path, (text.strip("\n") + "\n").encode("utf-8"))
    elif fmt == "mid":
        write_midi(text, path)
    else:
        write_musicxml(text, path)


def free_names(folder: str | os.PathLike[str], names: Sequence[str]) -> list[str]:
    """``names`` with each one that is taken in ``folder`` replaced by a free one.

    ``The_Kesh.mid`` becomes ``The_Kesh-2.mid`` (or ``-3``, ...) when a file of that name
    exists; the new names stay unique among ``names`` (case-insensitively), so exporting with
    them replaces nothing.
    """
    folder = Path(folder)
    taken = {n.lower() for n in names if not (folder / n).exists()}
    out = []
    for name in names:
        # Only the file decides: a name can be in `taken` because an earlier name of the batch
        # was moved to it (`Kesh.abc` -> `Kesh-2.abc`) while a `kesh-2.abc` exists.
        if not (folder / name).exists():
            out.append(name)
            continue
        stem, suffix = os.path.splitext(name)
        n = 2
        while f"{stem}-{n}{suffix}".lower() in taken or (folder / f"{stem}-{n}{suffix}").exists():
            n += 1
        out.append(f"{stem}-{n}{suffix}")
        taken.add(out[-1].lower())
    return out


def export_tunes(
    texts: Sequence[str],
    destination: str | os.PathLike[str],
    fmt: ExportFormat,
    names: Sequence[str] | None = None,
) -> list[Path | ExportProblem]:
    """Export a batch of tunes; returns one entry per tune, in order: its file or its problem.

    ``fmt`` "abc", "mid" and "musicxml" write one file per tune into the folder
    ``destination`` (created if needed), named from the tune's title (``tune_001`` for an
    untitled one), unique within the batch (:func:`export_file_names`), or the file ``names``
    given (one per tune, e.g. from :func:`free_names`); an existing file of the same name is
    replaced, so a GUI asks first.
    "tunebook" writes all tunes into the one ``.abc`` file ``destination`` (or
    ``destination/tunes.abc`` when it is a folder), numbered ``X:1``, ``X:2``, ...; each
    tune's entry is then that file. A tune that fails (music21 cannot convert it, a file
    cannot be written) gets an :class:`ExportProblem` and the others are still exported.
    Raises ValueError for an unknown format and OSError when the folder cannot be made.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    destination = Path(destination)
    if fmt == "tunebook":
        return _export_tunebook(texts, destination)
    if names is None:
        names = export_file_names(texts, _SUFFIX[fmt])
    elif len(names) != len(texts):
        raise ValueError(f"{len(names)} file names for {len(texts)} tunes")
    destination.mkdir(parents=True, exist_ok=True)
    results: list[Path | ExportProblem] = []
    for i, (text, name) in enumerate(zip(texts, names, strict=True)):
        path = destination / name
        try:
            if not text.strip():
                raise ConversionError("the tune is empty")
            _export_one(text, path, fmt)
        except ConversionError as exc:
            results.append(ExportProblem(i, describe(text, i), str(exc)))
        except OSError as exc:
            results.append(ExportProblem(i, describe(text, i), f"{path}: {exc.strerror or exc}"))
        else:
            results.append(path)
    return results


def _export_tunebook(texts: Sequence[str], destination: Path) -> list[Path | ExportProblem]:
    from workbench.corpus import export_abc

    path = destination / "tunes.abc" if destination.is_dir() else destination
    results: list[Path | ExportProblem] = []
    kept: list[str] = []
    for i, text in enumerate(texts):
        if not text.strip():
            results.append(ExportProblem(i, describe(text, i), "the tune is empty"))
            continue
        kept.append(renumber(text, len(kept) + 1))
        results.append(path)
    if kept:
        try:
            export_abc(kept, path)
        except (OSError, ValueError) as exc:
            reason = f"{path}: {(exc.strerror if isinstance(exc, OSError) else None) or exc}"
            return [
                r
                if isinstance(r, ExportProblem)
                else ExportProblem(i, describe(texts[i], i), reason)
                for i, r in enumerate(results)
            ]
    return results
