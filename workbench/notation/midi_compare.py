"""An independent check of the app's MIDI: the notes it plays, next to abc2midi's for the same tune.

The app turns ABC into MIDI through music21 (:mod:`workbench.notation.convert`). Its faults are
heard, not seen: a grace note that never stops, a note swallowed by a tie, a repeat that goes
back to the wrong bar. abc2midi (apt ``abcmidi``) is the reference ABC-to-MIDI converter and
shares no code with music21, so where the two agree the app is very likely right, and where
they differ one of them has a bug or reads the ABC standard (2.1) differently; a person decides.

* :func:`played_notes` reads a standard MIDI file into the notes a listener hears (onset and
  length in quarter notes, so the files' tempos and tick resolutions do not matter);
* :func:`pairing_faults` counts what cannot be played cleanly: notes that never end, note-offs
  with nothing sounding, notes of no length;
* :func:`abc2midi_bytes` runs abc2midi on one tune and keeps the written melody: no chord-symbol
  accompaniment, and none of its own performance of ornaments, staccato, fermatas, chord
  strumming or hornpipe swing, none of which the app plays either;
* :func:`compare` lines up two such files and names the first difference.

Tolerances, in quarter notes. abc2midi (480 ticks a quarter) starts every note one tick (1/480)
late and ends it on time, so its notes are one tick short; music21 (10080 ticks) is exact. On
298 corpus tunes whose pitches agree, 99.5 % of 19,800 notes differed by exactly that tick in
onset and length; every other difference was 59 ticks or more (a real one: a broken rhythm
played differently, say). Both :data:`ONSET_TOLERANCE` and :data:`DURATION_TOLERANCE` are
therefore 1/48 (10 ticks), well above the tick and well below the shortest real difference
and the shortest note (a grace note of 1/64 is 3/48 of a quarter).

Nothing here imports Qt or music21; only mido, which the app already uses for MIDI.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import mido

from workbench.notation.abc2midi import Abc2MidiMissing, abc2midi_path

ONSET_TOLERANCE = 1 / 48
DURATION_TOLERANCE = 1 / 48

# abc2midi labels each track with a text event; these carry its own accompaniment (guitar-chord
# "oom-pah" from chord symbols, %%MIDI drum patterns, %%MIDI drone bagpipe drones), which is
# not in the written melody and which the app does not play. "note track" and
# "notes/lyric track" hold the tune's voices and are kept.
_ACCOMPANIMENT_TRACKS = frozenset({"gchord track", "drum track", "drone track"})

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class Abc2MidiFailed(RuntimeError):
    """abc2midi wrote no usable MIDI for a tune (timed out, wrote nothing or no notes)."""


@dataclass(frozen=True, slots=True)
class PlayedNote:
    """One sounding note: start and length in quarter notes (ticks / ticks per beat)."""

    onset: float
    duration: float
    pitch: int
    channel: int


@dataclass(frozen=True, slots=True)
class PairingFaults:
    """How often a MIDI file breaks "each note-on is matched by a later note-off".

    ``hanging``: note-ons no note-off ever follows; a note-off written at the same tick but
    *before* its note-on (how music21 writes a zero-length note) counts here, as the note-on
    after it then never ends. ``orphan_offs``: note-offs when that pitch was not sounding on that
    channel (the early note-off just described is one). ``zero_length``: a note-on with its
    note-off at the same tick, after it (silent, but harmless).
    """

    hanging: int = 0
    orphan_offs: int = 0
    zero_length: int = 0

    @property
    def ok(self) -> bool:
        return not (self.hanging or self.orphan_offs or self.zero_length)


@dataclass(frozen=True, slots=True)
class _Paired:
    """Notes read from a file before conversion to quarter notes (all times in ticks)."""

    ticks_per_beat: int
    end_tick: int  # the file's last tick: where a note that never ends stops being heard
    notes: list[tuple[int, int | None, int, int]]  # (on, off or None if hanging, channel, pitch)
    orphan_offs: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """How the app's notes stand against abc2midi's (see :func:`compare`)."""

    app_notes: int
    reference_notes: int
    same_pitches: bool  # same count and the same pitch in every position
    onsets_agree: bool  # same count and every onset within the tolerance
    durations_agree: bool  # same count and every length within the tolerance
    kinds: list[str] = field(default_factory=list)  # "note count", "pitch", "onset", "duration"
    first_difference: str = ""  # e.g. "note 37: app E5 at 12.5 q (0.5 q), abc2midi F#5 ..."

    @property
    def same_count(self) -> bool:
        return self.app_notes == self.reference_notes

    @property
    def agree(self) -> bool:
        return not self.kinds


# -- reading MIDI ----------------------------------------------------------------------------


def _note_events(song: mido.MidiFile) -> tuple[list[tuple[int, bool, int, int]], int]:
    """(tick, is_on, channel, pitch) of every note message in time order, and the last tick.

    mido's merge keeps the order of messages at the same tick within a track, and that order
    matters: an off written before the on at one tick is not the same note as after it.
    """
    events = []
    tick = 0
    for message in mido.merge_tracks(song.tracks):
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            events.append((tick, True, message.channel, message.note))
        elif message.type in ("note_on", "note_off"):  # note_on with velocity 0 is an off
            events.append((tick, False, message.channel, message.note))
    return events, tick


def _pair(data: bytes) -> _Paired:
    """Pair each note-on with the next note-off of its channel and pitch, first on first off."""
    song = mido.MidiFile(file=io.BytesIO(data))
    events, end_tick = _note_events(song)
    sounding: dict[tuple[int, int], deque[int]] = defaultdict(deque)
    notes: list[tuple[int, int | None, int, int]] = []
    orphans = 0
    for tick, is_on, channel, pitch in events:
        key = (channel, pitch)
        if is_on:
            sounding[key].append(tick)
        elif sounding[key]:
            notes.append((sounding[key].popleft(), tick, channel, pitch))
        else:
            orphans += 1
    for (channel, pitch), onsets in sounding.items():
        notes.extend((on, None, channel, pitch) for on in onsets)
    notes.sort(key=lambda n: (n[0], n[3], n[2]))
    return _Paired(song.ticks_per_beat, end_tick, notes, orphans)


def played_notes(data: bytes) -> list[PlayedNote]:
    """The notes a MIDI file plays, ordered by onset, then pitch, then channel.

    A note that never gets its note-off is heard to the end of the file, so it is listed with
    that length; :func:`pairing_faults` reports it as hanging.
    """
    paired = _pair(data)
    tpb = paired.ticks_per_beat
    return [
        PlayedNote(on / tpb, ((paired.end_tick if off is None else off) - on) / tpb, pitch, ch)
        for on, off, ch, pitch in paired.notes
    ]


def pairing_faults(data: bytes) -> PairingFaults:
    """Count hanging notes, orphan note-offs and zero-length notes (see :class:`PairingFaults`)."""
    paired = _pair(data)
    return PairingFaults(
        hanging=sum(off is None for _, off, _, _ in paired.notes),
        orphan_offs=paired.orphan_offs,
        zero_length=sum(off == on for on, off, _, _ in paired.notes),
    )


# -- abc2midi ---------------------------------------------------------------------------------


def _melody_only(data: bytes) -> bytes:
    """abc2midi's MIDI without its accompaniment tracks (see :data:`_ACCOMPANIMENT_TRACKS`)."""
    song = mido.MidiFile(file=io.BytesIO(data))
    song.tracks = [t for t in song.tracks if _track_label(t) not in _ACCOMPANIMENT_TRACKS]
    out = io.BytesIO()
    song.save(file=out)
    return out.getvalue()


def _track_label(track: Iterable[mido.Message]) -> str:
    return next((m.text for m in track if m.type == "text"), "")


# abc2midi performs these decorations, which the notation leaves to the player and the app does
# not perform: `~` and `R` (rolls) and `T`/`!trill!` become runs of short notes, `.` (staccato)
# and `!breath!` halve the note. (Fermatas, `H`/`!fermata!`, which double it, are off through
# -NFER.) Measured one by one on abc2midi 4.84: the other decorations, `!staccato!` and `!roll!`
# among them, change nothing it plays.
_PERFORMED_SIGNS = frozenset("~TR")
_PERFORMED_DECORATIONS = frozenset({"!trill!", "!breath!"})
_INLINE_FIELD = re.compile(r"\[[A-Za-z]:[^\]]*\]?")
_DECORATION = re.compile(r'![^!|"\s]+!')  # as the lexer reads one: no space, bar or quote
_FIELD_LINE = re.compile(r"^[A-Za-z+]:")


def _plain_music_line(line: str) -> str:
    """A line of music without the decorations abc2midi performs (see above).

    Chord symbols and annotations ("..."), inline fields ([K:D]) and comments are copied
    untouched; a dot is a staccato mark unless a bar line follows it (`.|`, a dotted bar line);
    `H` before `[|` is written `!fermata!`, which abc2midi reads as the standard does.
    """
    out: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "%":
            out.append(line[i:])
            break
        if c == '"':
            end = line.find(c, i + 1)
            end = len(line) if end < 0 else end + 1
            out.append(line[i:end])
            i = end
            continue
        decoration = _DECORATION.match(line, i)
        if decoration:  # a "!" that opens no decoration (`!d>cB>A G2`) is a character alone
            if decoration.group() not in _PERFORMED_DECORATIONS:
                out.append(decoration.group())
            i = decoration.end()
            continue
        field = _INLINE_FIELD.match(line, i)
        if field:
            out.append(field.group())
            i = field.end()
            continue
        if c == "H" and line.startswith("[|", i + 1):
            # abc2midi reads `H[|]` (a fermata on a thick-thin bar line, 44 of Ryan's tunes) as
            # a fermata on a chord `[` that never closes, and plays the rest of the tune as one
            # chord ("Chord already finished"); the long form leaves it a bar line.
            out.append("!fermata!")
        elif c not in _PERFORMED_SIGNS and not (c == "." and not line.startswith("|", i + 1)):
            out.append(c)
        i += 1
    return "".join(out)


def _for_abc2midi(abc: str, plain: bool) -> str:
    """The tune as abc2midi should read it to play the notation and nothing more.

    * an ``X:`` line is added if there is none: abc2midi reads nothing before one as music;
    * ``%%MIDI chordattack 0`` follows it: by default abc2midi strums chords, each note of
      ``[GBd]`` starting 10 ticks (1/48 q) after the one before, past the onset tolerance;
    * ``R:`` lines are dropped: with ``R:hornpipe`` abc2midi swings every pair of quavers 2:1
      (and plays ``>`` and even ``<`` that way), a performance habit the notation does not ask
      for. ``R:`` changes nothing else in abc2midi's playing (its stress models need ``-BF``);
    * with ``plain``, the decorations abc2midi performs are removed from the music lines.
    """
    lines = [line for line in abc.split("\n") if not line.startswith("R:")]
    at = next((i for i, line in enumerate(lines) if line.startswith("X:")), None)
    if at is None:
        lines, at = ["X:1", *lines], 0
    lines.insert(at + 1, "%%MIDI chordattack 0")  # in the header: it applies to every voice
    if plain:
        body = next((i + 1 for i, line in enumerate(lines) if line.startswith("K:")), len(lines))
        lines[body:] = [
            line if _FIELD_LINE.match(line) else _plain_music_line(line) for line in lines[body:]
        ]
    return "\n".join(lines)


def abc2midi_bytes(abc: str, timeout: float = 20, *, plain: bool = True) -> bytes:
    """abc2midi's MIDI file for the first tune in ``abc``, melody only.

    Chord symbols are not played (``-NGUI``, as the app's melody is what is compared); a
    tune's own ``%%MIDI drum``/``drone`` lines still make tracks, which are dropped here.
    With ``plain`` (the default) abc2midi plays the notation without its own performance of
    ornaments, staccato and fermatas (:func:`_for_abc2midi`); chords are never strummed and
    hornpipes never swung. abc2midi's messages are silenced (``-silent``): it writes a file
    even for a tune it complains about. Raises :class:`Abc2MidiMissing` without abc2midi and
    :class:`Abc2MidiFailed` when no MIDI file with notes comes out.
    """
    exe = abc2midi_path()
    if exe is None:
        raise Abc2MidiMissing("abc2midi is not installed (Debian/Ubuntu: apt install abcmidi)")
    abc = _for_abc2midi(abc, plain)
    options = ["-NGUI", "-silent", *(["-NFER"] if plain else [])]
    with tempfile.TemporaryDirectory(prefix="wb-abc2midi-") as tmp:
        src, out = os.path.join(tmp, "tune.abc"), os.path.join(tmp, "tune.mid")
        with open(src, "w", encoding="utf-8") as f:
            f.write(abc if abc.endswith("\n") else abc + "\n")
        try:
            subprocess.run(
                [exe, src, "-o", out, *options], capture_output=True, timeout=timeout, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            raise Abc2MidiFailed(f"abc2midi took over {timeout:g} s") from None
        if not os.path.exists(out):
            raise Abc2MidiFailed("abc2midi wrote no MIDI file")
        with open(out, "rb") as f:
            data = _melody_only(f.read())
    if not played_notes(data):
        raise Abc2MidiFailed("abc2midi's MIDI has no notes")
    return data


# -- comparing --------------------------------------------------------------------------------


def note_name(pitch: int) -> str:
    """MIDI pitch as a name with octave, sharps only: 60 -> C4, 78 -> F#5."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


# Notes starting within this of each other (in quarter notes) are one chord, put in pitch order.
# abc2midi starts every note one tick (1/480 q) late, so a chord must allow for that; it must not
# take in a short grace note and the note after it (a 1/48 q grace note ran into the onset
# tolerance and was ordered by pitch, not time: a "difference" in a generated tune).
CHORD_SPREAD = 1 / 120


def _in_onset_order(notes: list[PlayedNote], spread: float = CHORD_SPREAD) -> list[PlayedNote]:
    """Notes by onset, and by pitch among notes that start together (a chord).

    "Together" is within ``spread`` of the first note of the group, not equal onsets:
    abc2midi's one-tick lateness must not reorder a chord against the app's copy of it.
    """
    ordered: list[PlayedNote] = []
    group: list[PlayedNote] = []
    for note in sorted(notes, key=lambda n: n.onset):
        if group and note.onset - group[0].onset > spread:
            ordered.extend(sorted(group, key=lambda n: n.pitch))
            group = []
        group.append(note)
    ordered.extend(sorted(group, key=lambda n: n.pitch))
    return ordered


def _describe(note: PlayedNote | None) -> str:
    if note is None:
        return "nothing"
    return f"{note_name(note.pitch)} at {note.onset:g} q ({note.duration:.3g} q)"


def _first_difference(
    app: list[PlayedNote], ref: list[PlayedNote], tolerance: float, duration_tolerance: float
) -> str:
    for i in range(max(len(app), len(ref))):
        a = app[i] if i < len(app) else None
        r = ref[i] if i < len(ref) else None
        if (
            a is None
            or r is None
            or a.pitch != r.pitch
            or abs(a.onset - r.onset) > tolerance
            or abs(a.duration - r.duration) > duration_tolerance
        ):
            return f"note {i + 1}: app {_describe(a)}, abc2midi {_describe(r)}"
    return ""


def compare(
    app: bytes,
    reference: bytes,
    tolerance: float = ONSET_TOLERANCE,
    duration_tolerance: float = DURATION_TOLERANCE,
) -> Comparison:
    """Compare the notes of two MIDI files position by position, ignoring channels and tempo.

    Both note lists are put in onset order (pitch order within a chord). With different note
    counts only "note count" is reported: position by position, everything after an extra
    note would differ. With equal counts each of "pitch", "onset" (beyond ``tolerance``) and
    "duration" (beyond ``duration_tolerance``) is reported where any position differs.
    """
    a = _in_onset_order(played_notes(app))
    r = _in_onset_order(played_notes(reference))
    same_count = len(a) == len(r)
    pitches = same_count and all(x.pitch == y.pitch for x, y in zip(a, r, strict=True))
    onsets = same_count and all(
        abs(x.onset - y.onset) <= tolerance for x, y in zip(a, r, strict=True)
    )
    durations = same_count and all(
        abs(x.duration - y.duration) <= duration_tolerance for x, y in zip(a, r, strict=True)
    )
    if same_count:
        flags = (("pitch", pitches), ("onset", onsets), ("duration", durations))
        kinds = [name for name, fine in flags if not fine]
    else:
        kinds = ["note count"]
    return Comparison(
        app_notes=len(a),
        reference_notes=len(r),
        same_pitches=pitches,
        onsets_agree=onsets,
        durations_agree=durations,
        kinds=kinds,
        first_difference=_first_difference(a, r, tolerance, duration_tolerance) if kinds else "",
    )
