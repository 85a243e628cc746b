"""The MIDI encodings: a MIDI file <-> a list of events, and the settings that say which.

- `remi` (the default), `tsd`, `midilike`: MidiTok's timed encodings, with real durations, time
  shifts and bars (REMI: `Bar`, `Position`, `Pitch`, `Duration`; TSD: `TimeShift` instead of
  positions; MIDI-like: `NoteOn`/`NoteOff`). Velocities are off by default: they add an event to
  every note, and most collections' velocities are either constant (notation exports) or a
  performer's, not the composition's (`velocities=True` keeps them).
- `notes-chords`: the MIDI reports' encoding, for comparison: through music21, every onset is
  one event, a single pitch by name (`E-4`) or a chord as the normal order of its pitch classes
  (`0.4.7`); no durations, no rests. All parts are read (chordified), not only the first.
  Decoded as the reports did: one event every half beat.

Settings are plain data (JSON-able), made once by `make_settings` and stored in every
checkpoint by the event tokenizer. A MidiTok tokenizer is rebuilt from its stored configuration
*and* vocabulary (`_vocab_base`), never from the data nor from the installed MidiTok's defaults:
MidiTok's vocabulary differs between its versions. Besides the encoding, settings hold `tempo`
(quarter notes per minute; None in new settings): the median tempo of the pieces the model was
trained on, which `load_midi` records and `render` gives generated pieces. The timed encodings
keep no tempo (MidiTok's `use_tempos` is off: most collections hold one tempo per piece, and
tempo events would cost an event every bar), so without it every piece would play at 120.

Every track but the drums is merged into one stream before encoding (piano and multi-track
files alike): the model learns the texture as a whole, and decoding gives one piano track.
A key struck twice at one onset (a unison doubling, or a model's slip) decodes to one note.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import symusic

from workbench.midi_data.cache import cache_dir

REMI, TSD, MIDILIKE, NOTES_CHORDS = "remi", "tsd", "midilike", "notes-chords"
#: Encoding name -> MidiTok tokenizer class name.
MIDITOK_CLASSES = {REMI: "REMI", TSD: "TSD", MIDILIKE: "MIDILike"}
ENCODINGS = (*MIDITOK_CLASSES, NOTES_CHORDS)
DEFAULT_ENCODING = REMI
#: Bumped when what an encoding produces for the same file changes (invalidates caches).
SETTINGS_VERSION = 1
#: The settings' key of the tempo generated pieces play at (see the module docstring).
TEMPO_KEY = "tempo"
#: MIDI's tempo when a file sets none (the standard's 500,000 microseconds per quarter).
DEFAULT_TEMPO = 120.0
#: Tempi (quarter notes per minute) taken from a file; others are a damaged file's.
TEMPO_RANGE = (10.0, 1000.0)
#: The reports' decoding: one event every half beat.
NOTES_CHORDS_STEP_BEATS = 0.5
#: The octave of a decoded chord's pitch classes (the reports' music21 default).
NOTES_CHORDS_OCTAVE = 4
MIDI_SUFFIXES = (".mid", ".midi", ".kar")


class MidiFileProblem(Exception):
    """One file cannot be used; the message says why, in a few words, without the path."""


class DecodeError(Exception):
    """Events that do not decode to music (the message says why)."""


# -- settings ------------------------------------------------------------------------------


def make_settings(encoding: str = DEFAULT_ENCODING, velocities: bool = False) -> dict[str, Any]:
    """The plain-data settings of an encoding, as stored in a checkpoint."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    if encoding == NOTES_CHORDS:
        return {
            "encoding": encoding,
            "version": SETTINGS_VERSION,
            "step_beats": NOTES_CHORDS_STEP_BEATS,
            "chord_octave": NOTES_CHORDS_OCTAVE,
            TEMPO_KEY: None,  # the data's, once loaded (reader.load_midi)
        }
    import miditok

    config = miditok.TokenizerConfig(use_velocities=velocities, use_time_signatures=True)
    tokenizer = getattr(miditok, MIDITOK_CLASSES[encoding])(config)
    stored = tokenizer.to_dict()
    # The whole vocabulary travels with the configuration (see the module docstring).
    stored["_vocab_base"] = dict(tokenizer.vocab)
    return {
        "encoding": encoding,
        "version": SETTINGS_VERSION,
        "merge_tracks": True,
        # A JSON round trip turns MidiTok's tuples into lists: plain data for torch.load.
        "miditok": json.loads(json.dumps(stored)),
        TEMPO_KEY: None,  # the data's, once loaded (reader.load_midi)
    }


def describe(settings: dict[str, Any]) -> str:
    """A short name for messages: `REMI`, `notes-chords`, `REMI with velocities`."""
    encoding = settings.get("encoding", "?")
    if encoding == NOTES_CHORDS:
        return encoding
    name = MIDITOK_CLASSES.get(encoding, encoding)
    config = settings.get("miditok", {}).get("config", {})
    return f"{name} with velocities" if config.get("use_velocities") else name


# -- reading a file ------------------------------------------------------------------------


def _clean_symusic_error(exc: Exception) -> str:
    text = str(exc).replace("MiniMidi:", "").replace(": iostream error", "").strip()
    return text.rstrip(".!") or type(exc).__name__


def read_score(path: str | os.PathLike[str]) -> symusic.Score:
    """A MIDI file as a symusic Score, or MidiFileProblem saying what is wrong with it."""
    path = Path(path)
    try:
        # Opening a FIFO would block until something writes to it: only regular files.
        if not stat.S_ISREG(path.stat().st_mode):
            raise MidiFileProblem("not a regular file (a folder, pipe or device)")
        with path.open("rb") as fh:
            head = fh.read(14)
    except OSError as exc:
        raise MidiFileProblem(f"cannot read the file ({exc.strerror or exc})") from None
    if not head:
        raise MidiFileProblem("empty file")
    if head[:4] == b"MThd" and len(head) >= 10 and int.from_bytes(head[8:10], "big") == 2:
        # Type 2 holds independent sequences (patterns), not one piece: no single timeline.
        raise MidiFileProblem("MIDI type 2 (independent sequences) is not supported")
    try:
        score = symusic.Score(str(path))
    except Exception as exc:  # symusic raises RuntimeError/ValueError with its reason
        reason = _clean_symusic_error(exc)
        if "chunk length" in reason or "remaining bytes" in reason or "Unexpected EOF" in reason:
            raise MidiFileProblem(f"truncated or damaged MIDI file ({reason})") from None
        raise MidiFileProblem(f"not a readable MIDI file ({reason})") from None
    if score.note_num() == 0:
        raise MidiFileProblem("no notes")
    if all(track.is_drum for track in score.tracks if len(track.notes)):
        raise MidiFileProblem("only drum tracks (drums are not modelled)")
    return score


def main_tempo(score: symusic.Score) -> float | None:
    """The tempo (quarter notes per minute) that holds for the longest time from the first tick
    to the last note's end, or None when the file sets none (it then plays at 120)."""
    # A damaged file's tempo can be anything a 24-bit field holds (up to 60,000,000 bpm, or a
    # division by zero): only a tempo a piece could be played at counts.
    tempos = sorted(
        (int(t.time), float(t.qpm))
        for t in score.tempos
        if math.isfinite(t.qpm) and TEMPO_RANGE[0] <= t.qpm <= TEMPO_RANGE[1]
    )
    if not tempos:
        return None
    end = max(int(score.end()), tempos[-1][0] + 1)
    held: dict[float, int] = {}
    for i, (time, qpm) in enumerate(tempos):
        # A tempo set before the first note also holds from tick 0.
        start = 0 if i == 0 else time
        until = tempos[i + 1][0] if i + 1 < len(tempos) else end
        held[round(qpm, 3)] = held.get(round(qpm, 3), 0) + max(0, until - start)
    return max(held, key=lambda q: (held[q], -q))


def merge_tracks(score: symusic.Score) -> symusic.Score:
    """Every non-drum track's notes in one piano track, with the tempos and time signatures.

    A pitch two tracks strike at the same tick (a unison doubling) stays twice in the stream,
    as the files hold it; the decoder makes it one note (`one_note_per_key`). Taking it out here
    was measured: models trained on streams without doublings wrote thinner textures (polyphony
    13-18 % below the held-out pieces' against 7-11 % with them, three runs each at one split;
    benchmarks/README.md). The notes keep symusic's order (onset, duration, pitch): chords
    written bottom-up (MidiTok's `remove_duplicated_notes` order) thinned them further.
    """
    out = symusic.Score(score.ticks_per_quarter)
    out.tempos = score.tempos.copy()
    out.time_signatures = score.time_signatures.copy()
    out.key_signatures = score.key_signatures.copy()
    track = symusic.Track(name="merged", program=0, is_drum=False)
    for source in score.tracks:
        if not source.is_drum:
            track.notes.extend(source.notes)
    track.notes.sort()
    out.tracks.append(track)
    return out


def one_note_per_key(notes: dict[str, np.ndarray]) -> Any:
    """symusic notes (as `NoteList.numpy()` arrays) with one note per onset and pitch, the
    longest, in symusic's order (onset, duration, pitch)."""
    longest_first = np.lexsort((-notes["duration"], notes["pitch"], notes["time"]))
    notes = {k: v[longest_first] for k, v in notes.items()}
    first = np.ones(len(longest_first), bool)
    first[1:] = (np.diff(notes["time"]) != 0) | (np.diff(notes["pitch"]) != 0)
    notes = {k: v[first] for k, v in notes.items()}
    order = np.lexsort((notes["pitch"], notes["duration"], notes["time"]))
    return symusic.Note.from_numpy(**{k: v[order] for k, v in notes.items()})


# -- codecs --------------------------------------------------------------------------------


class Codec(Protocol):
    """File -> events and events -> score, for one encoding's settings."""

    settings: dict[str, Any]

    def encode_file(self, path: str | os.PathLike[str]) -> list[str]: ...

    def encode_score(self, score: symusic.Score) -> list[str]: ...

    def decode(self, events: Sequence[str]) -> symusic.Score: ...


class MidiTokCodec:
    """REMI, TSD or MIDI-like through a MidiTok tokenizer rebuilt from stored settings."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.tokenizer = _rebuild_miditok(settings["miditok"])
        self._known = set(self.tokenizer.vocab)

    def encode_file(self, path: str | os.PathLike[str]) -> list[str]:
        return self.encode_score(read_score(path))

    def encode_score(self, score: symusic.Score) -> list[str]:
        if self.settings.get("merge_tracks", True):
            score = merge_tracks(score)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MidiTok warns about what preprocessing drops
                sequences = self.tokenizer.encode(score)
        except Exception as exc:  # MidiTok's own errors on unusual files
            raise MidiFileProblem(f"MidiTok cannot encode it ({exc})") from None
        if not isinstance(sequences, list):
            sequences = [sequences]
        events = [tok for seq in sequences for tok in seq.tokens]
        if not any(self._is_note(tok) for tok in events):
            raise MidiFileProblem("no notes in the encoding's pitch range")
        return events

    @staticmethod
    def _is_note(token: str) -> bool:
        return token.startswith(("Pitch_", "NoteOn_"))

    def decode(self, events: Sequence[str]) -> symusic.Score:
        from miditok import TokSequence

        # Specials (<start>, <end>) and anything this MidiTok does not know are not music.
        tokens = [tok for tok in events if tok in self._known]
        seq = TokSequence(tokens=tokens)
        try:
            self.tokenizer.complete_sequence(seq)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score = self.tokenizer.decode([seq])
        except Exception as exc:  # MidiTok's own errors on malformed sequences
            raise DecodeError(f"the events do not decode to MIDI ({exc})") from None
        for track in score.tracks:
            track.name = "generated"
            # A key written twice at one onset (a doubling the data held, or the model's own):
            # one note, the longer. The piece is for one piano, and two note-ons of one key
            # play as the synth pairs them: the app's own first on with first off, a synth
            # with one voice per key ending the longer at the shorter's note-off.
            if len(track.notes):
                track.notes = one_note_per_key(track.notes.numpy())
        return score


def _rebuild_miditok(stored: dict[str, Any]) -> Any:
    """A MidiTok tokenizer from `to_dict()` plus `_vocab_base`, through MidiTok's own loader.

    `params=` is MidiTok's documented way to load a saved tokenizer; with `_vocab_base` in the
    file it keeps that vocabulary instead of building its own.
    """
    import miditok

    cls = getattr(miditok, stored["tokenization"])
    fd, tmp = tempfile.mkstemp(suffix=".json", prefix="workbench-miditok-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stored, fh)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokenizer = cls(params=tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if "_vocab_base" in stored and dict(tokenizer.vocab) != stored["_vocab_base"]:
        raise ValueError("MidiTok did not keep the stored vocabulary")
    return tokenizer


_NOTE_NAME = re.compile(r"^([A-Ga-g])(#{1,2}|-{1,2})?(-?\d+)$")
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_name_to_midi(name: str) -> int | None:
    """music21's `nameWithOctave` (`E-4`, `F#5`, `C##3`) as a MIDI pitch, None if it is not one."""
    m = _NOTE_NAME.match(name)
    if not m:
        return None
    step, accidental, octave = m.groups()
    shift = (accidental or "").count("#") - (accidental or "").count("-")
    pitch = 12 * (int(octave) + 1) + _STEPS[step.upper()] + shift
    return pitch if 0 <= pitch <= 127 else None


class NotesChordsCodec:
    """The reports' encoding through music21, cached per file content after the first read."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def encode_file(self, path: str | os.PathLike[str]) -> list[str]:
        read_score(path)  # the same per-file checks as the timed encodings, in a millisecond
        data = Path(path).read_bytes()
        key = hashlib.sha256(data).hexdigest()[:32]
        cached = cache_dir("notes-chords", f"v{SETTINGS_VERSION}") / f"{key}.json"
        try:
            events = json.loads(cached.read_text(encoding="utf-8"))
            if isinstance(events, list):
                return events
        except (OSError, ValueError):
            pass
        events = self._music21_events(Path(path))
        if not events:
            raise MidiFileProblem("no notes music21 can read")
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(events), encoding="utf-8")
        tmp.replace(cached)
        return events

    def encode_score(self, score: symusic.Score) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "prompt.mid")
            score.dump_midi(str(path))
            return self.encode_file(path)

    @staticmethod
    def _music21_events(path: Path) -> list[str]:
        from music21 import chord, converter

        try:
            score = converter.parse(str(path), format="midi")
        except Exception as exc:  # music21 fails in many ways on odd files
            raise MidiFileProblem(f"music21 cannot read it ({exc})") from None
        events = []
        for element in score.chordify().recurse().notes:
            pitches = list(element.pitches)
            ties = [getattr(n.tie, "type", None) for n in getattr(element, "notes", [element])]
            if ties and all(t in ("continue", "stop") for t in ties):
                continue  # a held chord, not a new onset
            if isinstance(element, chord.Chord) and len({p.midi for p in pitches}) > 1:
                events.append(".".join(str(pc) for pc in element.normalOrder))
            elif pitches:
                events.append(pitches[0].nameWithOctave)
        return events

    def decode(self, events: Sequence[str]) -> symusic.Score:
        tpq = 480
        step = round(tpq * float(self.settings.get("step_beats", NOTES_CHORDS_STEP_BEATS)))
        octave = int(self.settings.get("chord_octave", NOTES_CHORDS_OCTAVE))
        score = symusic.Score(tpq)
        track = symusic.Track(name="generated", program=0, is_drum=False)
        time = 0
        for event in events:
            pitches: list[int] = []
            if re.fullmatch(r"\d+(\.\d+)*", event):
                pitches = [12 * (octave + 1) + int(pc) % 12 for pc in event.split(".")]
            elif (pitch := note_name_to_midi(event)) is not None:
                pitches = [pitch]
            else:
                continue  # a special or a name this encoding does not make
            for pitch in pitches:
                track.notes.append(symusic.Note(time, step, pitch, 90))
            time += step
        score.tracks.append(track)
        return score


@functools.lru_cache(maxsize=8)
def _codec_for_key(key: str) -> Codec:
    settings = json.loads(key)
    if settings.get("encoding") == NOTES_CHORDS:
        return NotesChordsCodec(settings)
    if settings.get("encoding") in MIDITOK_CLASSES and "miditok" in settings:
        return MidiTokCodec(settings)
    raise ValueError(f"unknown MIDI encoding settings ({settings.get('encoding')!r})")


def codec_for(settings: dict[str, Any]) -> Codec:
    """The codec of `settings` (built once per distinct encoding: the tempo does not count)."""
    if int(settings.get("version", 0)) > SETTINGS_VERSION:
        raise ValueError(
            f"the events were encoded by a newer workbench (settings version "
            f"{settings.get('version')}); update Composition Workbench"
        )
    encoding = {k: v for k, v in settings.items() if k != TEMPO_KEY}
    return _codec_for_key(json.dumps(encoding, sort_keys=True))


def events_of(text: str) -> list[str]:
    """The events of an event text (`"Bar_None Pitch_60 "` -> `["Bar_None", "Pitch_60"]`)."""
    return text.split()


def text_of(events: Sequence[str]) -> str:
    """The event text the event tokenizer reads: each event followed by one space."""
    return "".join(f"{event} " for event in events)
