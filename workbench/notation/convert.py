"""ABC tunes to music21 scores, standard MIDI files and MusicXML, and batch export of tunes.

Conversions go through music21 (its ABC reader, MIDI and MusicXML writers), with two repairs:

* music21's ABC reader can put the *same* TimeSignature object into two measures (around a
  repeat with a pickup); its MIDI writer then fails with "... already found in this Stream"
  (13% of O'Neill's and 24% of the Essen tunes). :func:`abc_to_score` replaces every repeat of an
  object with a deep copy, after which those tunes export.
* music21 cannot write MIDI for a tune whose repeats it cannot expand ("badly formed
  repeats"); such a tune is written with its repeats made plain bar lines (played once).
* music21 refuses notes when a tune has neither ``L:`` nor ``M:``; the ABC standard says the
  unit note length is then 1/8, so an ``L:1/8`` line is added before ``K:``.

Parsing costs 70-105 ms per tune on a quiet machine (more under load): run it on a worker
thread in the GUI. Nothing here imports Qt. Files are written atomically (a temporary file in
the same folder, then renamed), so a failed export never leaves half a file behind.
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

if TYPE_CHECKING:  # music21 takes ~1 s to import: only the functions that need it import it.
    from music21 import stream

ExportFormat = Literal["abc", "tunebook", "mid", "musicxml"]
EXPORT_FORMATS: tuple[str, ...] = ("abc", "tunebook", "mid", "musicxml")
_SUFFIX = {"abc": ".abc", "tunebook": ".abc", "mid": ".mid", "musicxml": ".musicxml"}

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


def _with_unit_length(abc: str) -> str:
    """Add ``L:1/8`` before ``K:`` when the header has neither ``L:`` nor ``M:`` (ABC default)."""
    lines = abc.split("\n")
    key_at = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if key_at is None or any(line.startswith(("L:", "M:")) for line in lines[:key_at]):
        return abc  # not a tune per the standard, or it has its own unit length
    lines.insert(key_at, "L:1/8")
    return "\n".join(lines)


def _tuplets_counting_graces(abc: str) -> str:
    """Rewrite each tuplet that holds grace notes so that music21 reads it as the standard says.

    ABC counts only real notes (a chord or rest as one) toward a tuplet's ``r`` notes; music21
    counts grace notes too, so in ``(3{g}ABc`` it makes A, B and the grace the triplet and plays
    ``c`` a full eighth (the bar then runs over). Raising ``r`` by the graces inside the tuplet
    (``(3::4{g}ABc``, ``q`` left to its default) gives music21 the same notes as abc2midi.
    """
    from workbench.notation.abc_lexer import lex

    tokens = lex(abc)
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        if token.kind != "tuplet":
            continue
        p, q, r = [*abc[token.start + 1 : token.end].split(":"), "", ""][:3]
        if not p.isdigit():
            continue
        wanted = int(r) if r.isdigit() else int(p)
        graces = _graces_within(abc, tokens[i + 1 :], wanted)
        if graces:
            edits.append((token.start, token.end, f"({p}:{q}:{wanted + graces}"))
    for start, end, text in reversed(edits):
        abc = abc[:start] + text + abc[end:]
    return abc


def _graces_within(abc: str, tokens: Sequence, wanted: int) -> int:
    """Grace notes among the tokens until ``wanted`` notes, chords or rests have passed."""
    counted = graces = 0
    in_grace = in_chord = False
    for token in tokens:
        if counted >= wanted:
            break
        text = abc[token.start : token.end]
        if token.kind == "grace":
            in_grace = text.startswith("{")
        elif token.kind == "chord_bracket":
            in_chord = text.startswith("[")
            counted += not in_chord  # a chord counts once, at its closing bracket
        elif token.kind == "note":
            if in_grace:
                graces += 1
            elif not in_chord:
                counted += 1
        elif token.kind == "rest":
            counted += 1
        elif token.kind in ("barline", "tuplet"):
            break
    return graces


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


def parse_abc(abc: str) -> stream.Score:
    """music21's reading of one ABC tune, without the repairs of :func:`abc_to_score`."""
    from music21 import converter
    from music21 import stream as m21stream

    if not abc.strip():
        raise ConversionError("the tune is empty")
    try:
        parsed = converter.parse(_tuplets_counting_graces(_with_unit_length(abc)), format="abc")
    except Exception as exc:  # music21 raises many types for bad ABC; all mean the same here
        raise ConversionError(f"music21 could not read the ABC: {_one_line(exc)}") from None
    if isinstance(parsed, m21stream.Opus):  # a text with several X: tunes: the first one
        scores = list(parsed.scores)
        if not scores:
            raise ConversionError("the text holds no tune")
        parsed = scores[0]
    return parsed


def abc_to_score(abc: str) -> stream.Score:
    """Parse one ABC tune into a music21 Score that exports to MIDI and MusicXML.

    A text holding several tunes gives its first. Raises :class:`ConversionError` for ABC
    music21 cannot read or a tune without notes.
    """
    score = parse_abc(abc)
    if not any(True for _ in score.recurse().notes):
        raise ConversionError("the tune has no notes")
    _copy_shared_objects(score)
    return score


# -- MIDI and MusicXML ---------------------------------------------------------------------


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
# default, 4), taken from the start of the note it ornaments; the ABC standard leaves the timing
# to the player. The graces before one note never take more than half of it.
GRACE_DIVIDER = 4
_GRACE_SHARE_MAX = 0.5


def realize_grace_notes(score: stream.Stream) -> int:
    """Give every grace note a sounding length, in place, so that it can be played.

    music21 keeps grace notes at zero length, and its MIDI writer then puts each one's note-off
    before its note-on at the same tick: the note never ends (it sounds to the end of the file).
    Here each group of grace notes gets :data:`GRACE_DIVIDER`-th of its written length, taken
    from the start of the note it ornaments (which then starts later and is shorter), as abc2midi
    plays them. A grace group with no note after it in its bar is removed. Returns the grace
    notes changed. music21 has no such transformation, hence this one.
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
    # Inside a tuplet the graces shrink with the note they ornament, as abc2midi plays them.
    main_written = duration_module.convertTypeToQuarterLength(
        main.duration.type, main.duration.dots
    )
    scale = float(main.quarterLength) / main_written if main_written else 1.0
    lengths = [w * scale / GRACE_DIVIDER for w in written]
    total = sum(lengths)
    room = float(main.quarterLength) * _GRACE_SHARE_MAX
    if main.isRest or room <= 0:
        for grace in graces:
            container.remove(grace)
        return 0
    if total > room:
        lengths = [x * room / total for x in lengths]
        total = room
    start = float(main.offset)
    for grace, length in zip(graces, lengths, strict=True):
        grace.duration = duration_module.Duration(length)
        container.setElementOffset(grace, start)
        start += length
    main.quarterLength = float(main.quarterLength) - total
    container.setElementOffset(main, start)
    return len(graces)


def score_to_midi_bytes(score: stream.Score, *, tempo_bpm: float | None = None) -> bytes:
    """A standard MIDI file of a score made by :func:`abc_to_score`.

    The score is changed in place: its grace notes get time (:func:`realize_grace_notes`), so
    offsets read from it afterwards (the player's follow-along cues) match what plays.
    """
    from music21 import midi

    if tempo_bpm is not None:
        if not tempo_bpm > 0:
            raise ConversionError(f"tempo must be positive, not {tempo_bpm}")
        _set_tempo(score, tempo_bpm)
    realize_grace_notes(score)
    try:
        return midi.translate.streamToMidiFile(score).writestr()
    except Exception as exc:
        problem = exc
    if "repeat" in str(problem).lower():
        # "cannot expand Stream: badly formed repeats" (1 in 200 O'Neill tunes): music21
        # plays repeats by expanding them; without them the tune still plays, once through.
        _drop_repeats(score)
        try:
            return midi.translate.streamToMidiFile(score).writestr()
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
    """One ABC tune as the bytes of a standard MIDI file (repeats written once, as notated).

    ``tempo_bpm`` (quarter notes per minute) overrides the tune's ``Q:``; without either,
    music21 plays 120 quarter notes per minute.
    """
    return score_to_midi_bytes(abc_to_score(abc), tempo_bpm=tempo_bpm)


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
        if name.lower() in taken or not (folder / name).exists():
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
