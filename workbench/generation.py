"""What the generation pane needs that knows no Qt: prompt headers, the model list, descriptions.

The pane writes the key and meter the musician picks into the prompt's header (`K:` last, as ABC
requires) where the prompt has none of its own (`plan_prompt`), offers every checkpoint it can
find (the shipped model, each run's `best.pt` and `last.pt`), describes a loaded checkpoint in
one line, and names and exports generated tunes. All of it runs headless, so it is tested
without a window.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.notation.prompt import prepare_prompt
from workbench.notation.tune_info import TuneInfo, parses_in_music21, tune_info
from workbench.runs import list_runs

if TYPE_CHECKING:
    from models.checkpoint import Checkpoint

# The keys offered in the dropdown: the common major keys, then the modes folk tunes use most
# (Dorian, Mixolydian, minor), as ABC spells them.
KEYS: tuple[str, ...] = (
    "C",
    "G",
    "D",
    "A",
    "E",
    "F",
    "Bb",
    "Eb",
    "Am",
    "Em",
    "Bm",
    "Dm",
    "Gm",
    "F#m",
    "ADor",
    "EDor",
    "DDor",
    "GDor",
    "AMix",
    "DMix",
    "GMix",
)
METERS: tuple[str, ...] = ("4/4", "C", "C|", "2/4", "3/4", "6/8", "9/8", "12/8", "2/2", "3/2")

_FIELD_LINE = re.compile(r"^[A-Za-z]:")


def set_header_fields(prompt: str, key: str | None = None, meter: str | None = None) -> str:
    """`prompt` with its header's `M:` and/or `K:` set (None keeps what is there).

    Existing fields are replaced in place; a missing `M:` goes before `K:`, and a missing `K:`
    closes the header, since in ABC the `K:` field ends it. Inline fields in the tune body are
    left alone. An empty prompt with a key or meter becomes a bare header.
    """
    if key is None and meter is None:
        return prepare_prompt(prompt)
    text = prepare_prompt(prompt) or "X:1\n"
    lines = text.split("\n")
    # The header: field lines from the top, up to and including the first K: line.
    end = 0
    k_index: int | None = None
    while end < len(lines) and _FIELD_LINE.match(lines[end]):
        if lines[end].startswith("K:"):
            k_index = end
            end += 1
            break
        end += 1
    header, body = lines[:end], lines[end:]
    if meter is not None:
        m_index = next((i for i, line in enumerate(header) if line.startswith("M:")), None)
        if m_index is not None:
            header[m_index] = f"M:{meter}"
        else:
            at = k_index if k_index is not None else len(header)
            header.insert(at, f"M:{meter}")
            if k_index is not None:
                k_index += 1
    if key is not None:
        if k_index is not None:
            header[k_index] = f"K:{key}"
        else:
            header.append(f"K:{key}")
    out = "\n".join(header + body)
    return out if body else out + "\n"


def build_prompt(source: str, key: str | None = None, meter: str | None = None) -> str:
    """The prompt sampling will continue: `source` (a tune, a selection, or "") prepared as the
    model saw tunes in training, with the chosen key and meter written into its header."""
    return set_header_fields(source, key=key, meter=meter)


def header_field(text: str, letter: str) -> str | None:
    """The value of the first `letter:` field in `text`'s header (its field lines from the top,
    up to and including `K:`), or None when the header has none."""
    for line in prepare_prompt(text).split("\n"):
        if not _FIELD_LINE.match(line):
            break
        if line.startswith(f"{letter}:"):
            return line[2:].strip()
        if line.startswith("K:"):
            break
    return None


def plan_prompt(
    source: str, key: str | None = None, meter: str | None = None
) -> tuple[str, list[str]]:
    """The prompt from `source`, with the chosen key and meter written only where its header
    has no `K:` / `M:` of its own, and a note for each choice left out because the source's
    own field differs (the tune being edited wins; the musician is told)."""
    notes = []
    own_key, own_meter = header_field(source, "K"), header_field(source, "M")
    if own_key is not None and key is not None:
        if own_key != key:
            notes.append(f"Key {key} not applied: the prompt has K:{own_key}")
        key = None
    if own_meter is not None and meter is not None:
        if own_meter != meter:
            notes.append(f"Meter {meter} not applied: the prompt has M:{own_meter}")
        meter = None
    return build_prompt(source, key=key, meter=meter), notes


@dataclass(frozen=True)
class ModelEntry:
    """One checkpoint the model chooser offers."""

    label: str
    path: Path
    kind: str  # "default", "run" or "file"


def list_models(runs_root: Path | None, default: Path | None = None) -> list[ModelEntry]:
    """The shipped model (if present), then each run's best.pt and last.pt, newest run first."""
    entries: list[ModelEntry] = []
    if default is not None:
        entries.append(ModelEntry(f"Shipped model ({default.name})", default, "default"))
    if runs_root is not None:
        for run in list_runs(runs_root):
            loss = f", val loss {run.best_val_loss:.3f}" if run.best_val_loss is not None else ""
            for name in ("best.pt", "last.pt"):
                path = run.path / name
                if path.is_file():
                    what = f"best{loss}" if name == "best.pt" else f"last, step {run.steps}"
                    entries.append(ModelEntry(f"{run.name}: {what}", path, "run"))
    return entries


def describe_checkpoint(ckpt: Checkpoint) -> str:
    """Architecture, size, vocabulary and validation loss (when known) in one line; an event
    model's says its encoding and unit (`vocabulary 63 REMI events`, `nats/event`)."""
    m = ckpt.config.model
    params = sum(int(t.numel()) for t in ckpt.state_dict.values())
    tok = ckpt.tokenizer
    vocabulary = f"vocabulary {len(tok)}"
    if tok.kind == "events":
        from workbench.midi_data import describe

        vocabulary += f" {describe(tok.settings)} events"
    text = f"{m.arch.upper()} {m.layers}x{m.hidden}, {_count(params)} parameters, {vocabulary}"
    text += f", step {ckpt.step}"
    loss = ckpt.metrics.get("best_val_loss") or ckpt.metrics.get("val_loss")
    if isinstance(loss, int | float):
        text += f", val loss {loss:.3f}"
        if tok.kind == "events":
            text += " nats/event"
    return text


def _count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 1000:
        return f"{n / 1e3:.0f}k"
    return str(n)


_ids = itertools.count(1)


def parse_problem(text: str) -> str:
    """ "" when music21 reads `text`, else why not, in one line (slow: worker thread only)."""
    return parses_in_music21(text) or ""


@dataclass
class GeneratedTune:
    """One sampled tune and how it was made, as the results list keeps it."""

    kind: ClassVar[str] = "chars"  # what the results list, playback and export follow

    text: str
    prompt: str = ""
    seed: int | None = None
    index: int = 0  # its place in the batch sampled with `seed`
    temperature: float = 1.0
    model: str = ""
    summary: TuneInfo = field(default_factory=lambda: TuneInfo("", "", "", 0, True))
    kept: bool = False
    # Where it is safe outside the results list: "" (nowhere yet), "exported to PATH" or
    # "sent to the editor".
    saved_to: str = ""
    # music21's verdict: None until checked, then "" (parses) or the error message.
    parse_error: str | None = None
    uid: int = field(default_factory=lambda: next(_ids))

    @classmethod
    def make(cls, text: str, **fields) -> GeneratedTune:
        return cls(text=text, summary=tune_info(text), **fields)

    @property
    def title(self) -> str:
        if self.summary.title:
            return self.summary.title
        return f"Untitled (seed {self.seed}, #{self.index + 1})"

    @property
    def export_text(self) -> str:
        """The text an export writes: the tune, with a `T:` line holding its title if it has
        none (so a file and the tune inside it carry the name the results list shows)."""
        return with_title(self.text, self.title)


def with_title(text: str, title: str) -> str:
    """`text` with a `T:title` line after its `X:` line (at the top without one), unless its
    header (the lines up to `K:`) has a `T:` line already."""
    lines = text.split("\n")
    for line in lines:
        if line.startswith("T:"):
            return text
        if line.startswith("K:"):
            break
    at = 1 if lines and lines[0].startswith("X:") else 0
    return "\n".join([*lines[:at], f"T:{title}", *lines[at:]])


@dataclass
class GeneratedPiece:
    """One sampled piece of a MIDI event model: its events, their MIDI, and how it was made.

    The same bookkeeping as :class:`GeneratedTune` (kept, saved, checked), so the results list
    holds both; what it shows and plays follows `kind`. `midi` is empty when the events do not
    decode to music (`decode_error` says why).
    """

    kind: ClassVar[str] = "events"

    text: str  # the events, the prompt's included, as the event tokenizer writes them
    settings: dict[str, Any] = field(default_factory=dict)  # the model's encoding
    midi: bytes = b""
    notes: int = 0
    seconds: float = 0.0
    bars: int = 0
    meter: str = ""
    decode_error: str = ""
    prompt: str = ""
    seed: int | None = None
    index: int = 0
    temperature: float = 1.0
    model: str = ""
    kept: bool = False
    saved_to: str = ""
    # music21's verdict on the MIDI: None until checked, then "" (reads it) or the reason.
    parse_error: str | None = None
    key: str = ""  # music21's estimate, once checked
    uid: int = field(default_factory=lambda: next(_ids))

    @classmethod
    def make(cls, text: str, settings: dict[str, Any], **fields: Any) -> GeneratedPiece:
        """Render `text` (events) to MIDI with the model's encoding `settings`."""
        from workbench.midi_data import DecodeError, midi_bytes, render

        piece = cls(text=text, settings=settings, **fields)
        try:
            rendered = render(settings, text)
        except DecodeError as exc:
            piece.decode_error = str(exc)
            return piece
        piece.notes, piece.seconds = rendered.notes, rendered.seconds
        piece.bars, piece.meter = _bars_and_meter(rendered.score)
        if rendered.notes:
            piece.midi = midi_bytes(rendered)
        else:
            piece.decode_error = "the events hold no notes"
        return piece

    @property
    def title(self) -> str:
        return f"Piece (seed {self.seed}, #{self.index + 1})"

    @property
    def events(self) -> int:
        """How many events it has, the prompt's included."""
        return len(self.text.split())

    @property
    def export_text(self) -> str:
        return self.text


def _bars_and_meter(score: Any) -> tuple[int, str]:
    """Bars (by the first time signature, 4/4 without one) and the meter (`""`: none given)."""
    tpq = score.ticks_per_quarter
    signatures = score.time_signatures
    num, den = (signatures[0].numerator, signatures[0].denominator) if len(signatures) else (4, 4)
    per_bar = max(1, round(tpq * 4 * num / den))
    end = score.end() if score.note_num() else 0
    bars = -(-int(end) // per_bar)
    return bars, f"{num}/{den}" if len(signatures) else ""


def piece_tune(settings: dict[str, Any], text: str, title: str = "") -> Any:
    """The notes of an event text (complete or still streaming), in seconds, as a playback
    `Tune` for the piano roll; no notes when the events do not decode (yet)."""
    from workbench.midi_data import DecodeError, render
    from workbench.playback.events import NoteEvent, Tune

    try:
        rendered = render(settings, text)
    except DecodeError:
        return Tune([], title=title)
    timed = rendered.score.to("second")
    notes = [
        NoteEvent(float(n.time), float(n.time + n.duration), int(n.pitch), int(n.velocity) or 1)
        for track in timed.tracks
        for n in track.notes
    ]
    return Tune(notes, title=title)


@dataclass(frozen=True)
class PieceCheck:
    """music21's reading of a generated piece's MIDI: "" or why it failed, and its key."""

    error: str
    key: str = ""


def check_piece(midi: bytes) -> PieceCheck:
    """Whether music21 reads the MIDI (as a MusicXML export will), and the key it hears
    (slow: ~10-100 ms; worker thread only)."""
    if not midi:
        return PieceCheck("no MIDI: the events hold no notes")
    try:
        score = _music21_score(midi)
        key = score.analyze("key")
    except Exception as exc:  # music21 fails in many ways on odd input
        return PieceCheck(f"music21 cannot read it ({_first_line(exc)})")
    return PieceCheck("", f"{key.tonic.name} {key.mode}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _music21_score(midi: bytes) -> Any:
    from music21 import converter

    return converter.parse(midi, format="midi")


def piece_musicxml_bytes(piece: GeneratedPiece) -> bytes:
    """The piece as MusicXML: its MIDI read (and quantised) by music21, titled as listed, on one
    staff of chords (notes tied where they are held past another onset or a bar line).

    Written from the notes' places in time, not from the measures music21's MIDI reader makes:
    those hold loose notes beside voices, and measures overfull with notes held past the bar
    line, which the MusicXML writer turns into a file that music21 reads back with notes at
    other times (and warns on). Of 19 chorales and 20 pieces of a trained model, 13 and 4 came
    back from such a file as the MIDI reads; written from the notes' places, all of them do.
    """
    from music21 import metadata

    from workbench.notation.convert import ConversionError, score_to_musicxml_bytes

    if not piece.midi:
        raise ConversionError(piece.decode_error or "the piece has no notes")
    try:
        score = _music21_score(piece.midi)
    except Exception as exc:  # music21 fails in many ways on odd input
        raise ConversionError(f"music21 cannot read its MIDI ({_first_line(exc)})") from None
    try:
        chords = _chords_in_time(score)
    except Exception as exc:
        raise ConversionError(f"music21 cannot notate its MIDI ({_first_line(exc)})") from None
    chords.metadata = metadata.Metadata()
    chords.metadata.title = piece.title
    return score_to_musicxml_bytes(chords)


def _chords_in_time(score: Any) -> Any:
    """One part of chords at the score's absolute offsets, with its time signatures and tempo
    marks (a rendered piece has no key signature); the writer makes the measures and ties."""
    from music21 import stream

    flat = score.flatten()
    part = stream.Part()
    for mark in flat.getElementsByClass(["TimeSignature", "MetronomeMark"]):
        part.insert(mark.offset, mark)
    for element in flat.chordify().notesAndRests:
        part.insert(element.offset, element)
    return stream.Score([part])


# -- export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormatChoice:
    fmt: str  # a format of workbench.notation.convert.export_tunes, or "wav"
    label: str
    to_file: bool  # True: one file is chosen (a tunebook); False: a folder
    suffix: str = ""  # of the files written


EXPORT_CHOICES: tuple[ExportFormatChoice, ...] = (
    ExportFormatChoice("abc", "ABC, one file per tune", False, ".abc"),
    ExportFormatChoice("tunebook", "ABC tunebook (one file)", True, ".abc"),
    ExportFormatChoice("mid", "MIDI (.mid)", False, ".mid"),
    ExportFormatChoice("musicxml", "MusicXML (.musicxml)", False, ".musicxml"),
)


WAV_CHOICE = ExportFormatChoice("wav", "WAV audio (.wav)", False, ".wav")


def wav_export_available() -> bool:
    """Whether this build can render tunes to WAV (the playback side's synth)."""
    return importlib.util.find_spec("workbench.playback.wav") is not None


#: The formats a generated MIDI piece exports to (it has no ABC).
PIECE_FORMATS = ("mid", "musicxml", "wav")


def export_choices(kinds: set[str] | None = None) -> tuple[ExportFormatChoice, ...]:
    """The export formats: all of them, or those that suit a list holding items of `kinds`
    ("chars" tunes, "events" pieces)."""
    choices = EXPORT_CHOICES + ((WAV_CHOICE,) if wav_export_available() else ())
    if kinds is None or "chars" in kinds or not kinds:
        return choices
    return tuple(c for c in choices if c.fmt in PIECE_FORMATS)


@dataclass
class ExportSummary:
    """What an export wrote and which tunes failed, and why."""

    fmt: str
    destination: Path
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tunes: int = 0
    per_tune: list[Path | None] = field(default_factory=list)  # each tune's file; None: failed
    noun: str = "tunes"  # what was exported: "tunes", "pieces", "tunes and pieces"

    def text(self) -> str:
        files = len(self.written)
        done = self.tunes - len(self.problems)
        where = self.written[0] if files == 1 else self.destination
        plural = "s" if files != 1 else ""
        head = f"Exported {done} of {self.tunes} {self.noun} ({files} file{plural}) to {where}"
        if not self.problems:
            return head
        return head + "\nFailed:\n" + "\n".join(f"  {p}" for p in self.problems)


def export_names(texts: list[str], fmt: str) -> list[str]:
    """The file names a folder export of `texts` as `fmt` writes, from the tunes' titles."""
    from workbench.notation.convert import export_file_names

    suffix = next(c.suffix for c in (*EXPORT_CHOICES, WAV_CHOICE) if c.fmt == fmt)
    return export_file_names(texts, suffix)


def export_generated(
    texts: list[str], destination: Path, fmt: str, names: list[str] | None = None
) -> ExportSummary:
    """Export `texts` as `fmt` (slow: music21 or the synth; call it off the GUI thread).

    A folder export writes `names` (one per tune) or, without them, :func:`export_names`.
    """
    from workbench.notation.convert import export_tunes

    summary = ExportSummary(fmt=fmt, destination=Path(destination), tunes=len(texts))
    if fmt == "wav":
        entries = _export_wav(texts, Path(destination), names or export_names(texts, fmt))
    else:
        entries = export_tunes(texts, destination, fmt, names)  # type: ignore[arg-type]
    for entry in entries:
        if isinstance(entry, Path):
            if entry not in summary.written:
                summary.written.append(entry)
            summary.per_tune.append(entry)
        else:
            summary.problems.append(str(entry))
            summary.per_tune.append(None)
    return summary


def _export_wav(texts: list[str], folder: Path, names: list[str]) -> list[Path | str]:
    """Each tune rendered by the playback synth to FOLDER/NAME (names from export_names); a
    problem string for each tune that fails. (convert.export_tunes covers the music21
    formats; audio is playback's.)"""
    from workbench.notation.convert import describe
    from workbench.playback.events import PlaybackError
    from workbench.playback.synth import SynthUnavailable
    from workbench.playback.wav import render_abc_to_wav

    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path | str] = []
    for i, (text, name) in enumerate(zip(texts, names, strict=True)):
        path = folder / name
        # Rendered beside the target and renamed, so a failure leaves no half-written file.
        partial = folder / f".{name}.part"
        try:
            render_abc_to_wav(text, partial)
            os.replace(partial, path)
        except (PlaybackError, SynthUnavailable, OSError) as error:
            partial.unlink(missing_ok=True)
            out.append(f"{describe(text, i)}: {error}")
        else:
            out.append(path)
    return out


# -- export of lists that hold MIDI pieces ---------------------------------------------------

Generated = GeneratedTune | GeneratedPiece


def result_export_names(items: list[Generated], fmt: str) -> list[str]:
    """The file names a folder export of `items` writes: from titles, unique in the batch.

    Tunes alone are named exactly as :func:`export_names` names them.
    """
    if all(item.kind == "chars" for item in items):
        return export_names([t.export_text for t in items], fmt)
    from workbench.notation.convert import safe_stem, tune_title

    suffix = next(c.suffix for c in (*EXPORT_CHOICES, WAV_CHOICE) if c.fmt == fmt)
    width = max(3, len(str(len(items))))
    taken: set[str] = set()
    names = []
    for i, item in enumerate(items, 1):
        title = item.title if item.kind == "events" else tune_title(item.export_text)
        stem = safe_stem(title, f"{'piece' if item.kind == 'events' else 'tune'}_{i:0{width}d}")
        name, n = stem, 2
        while name.lower() in taken:
            name, n = f"{stem}-{n}", n + 1
        taken.add(name.lower())
        names.append(name + suffix)
    return names


def export_pieces(
    pieces: list[GeneratedPiece], folder: Path, fmt: str, names: list[str]
) -> list[Path | str]:
    """Each piece written as `fmt` ("mid", "musicxml", "wav") to FOLDER/NAME: its file, or a
    problem string naming it (slow for MusicXML and WAV: call it off the GUI thread)."""
    from workbench.atomic_files import write_bytes_atomically
    from workbench.notation.convert import ConversionError

    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path | str] = []
    for piece, name in zip(pieces, names, strict=True):
        path = folder / name
        try:
            if fmt not in PIECE_FORMATS:
                raise ConversionError("a MIDI piece has no ABC: export it as MIDI or MusicXML")
            if not piece.midi:
                raise ConversionError(piece.decode_error or "the piece has no notes")
            if fmt == "mid":
                write_bytes_atomically(path, piece.midi)
            elif fmt == "musicxml":
                write_bytes_atomically(path, piece_musicxml_bytes(piece))
            else:
                _piece_wav(piece, folder, name)
        except ConversionError as error:
            out.append(f"{piece.title}: {error}")
        except OSError as error:
            out.append(f"{piece.title}: {path}: {error.strerror or error}")
        else:
            out.append(path)
    return out


def _piece_wav(piece: GeneratedPiece, folder: Path, name: str) -> None:
    from workbench.notation.convert import ConversionError
    from workbench.playback.events import PlaybackError
    from workbench.playback.synth import SynthUnavailable
    from workbench.playback.wav import render_wav

    # Rendered beside the target and renamed, so a failure leaves no half-written file.
    partial = folder / f".{name}.part"
    try:
        render_wav(piece.midi, partial)
        os.replace(partial, folder / name)
    except (PlaybackError, SynthUnavailable) as error:
        partial.unlink(missing_ok=True)
        raise ConversionError(str(error)) from None


def export_results(
    items: list[Generated], destination: Path, fmt: str, names: list[str] | None = None
) -> ExportSummary:
    """Export a results list's tunes and pieces, each the way its kind exports, in order.

    Tunes alone go exactly through :func:`export_generated`. With pieces, a folder export
    writes `names` (default :func:`result_export_names`); an ABC format gives each piece a
    problem, since a piece has no ABC.
    """
    kinds = {item.kind for item in items}
    if kinds <= {"chars"}:
        return export_generated([t.export_text for t in items], destination, fmt, names)
    destination = Path(destination)
    summary = ExportSummary(
        fmt=fmt,
        destination=destination,
        tunes=len(items),
        noun="pieces" if kinds == {"events"} else "tunes and pieces",
    )
    tunes = [i for i, item in enumerate(items) if item.kind == "chars"]
    pieces = [i for i, item in enumerate(items) if item.kind == "events"]
    entries: dict[int, Path | str] = {}
    if fmt == "tunebook":
        if tunes:
            part = export_generated([items[i].export_text for i in tunes], destination, fmt)
            entries.update(zip(tunes, _entries(part), strict=True))
        for i in pieces:
            entries[i] = f"{items[i].title}: a MIDI piece has no ABC to put in a tunebook"
    else:
        names = names or result_export_names(items, fmt)
        if tunes:
            part = export_generated(
                [items[i].export_text for i in tunes],
                destination,
                fmt,
                [names[i] for i in tunes],
            )
            entries.update(zip(tunes, _entries(part), strict=True))
        written = export_pieces(
            [items[i] for i in pieces],  # type: ignore[misc]
            destination,
            fmt,
            [names[i] for i in pieces],
        )
        entries.update(zip(pieces, written, strict=True))
    for i in range(len(items)):
        entry = entries[i]
        if isinstance(entry, Path):
            if entry not in summary.written:
                summary.written.append(entry)
            summary.per_tune.append(entry)
        else:
            summary.problems.append(str(entry))
            summary.per_tune.append(None)
    return summary


def _entries(summary: ExportSummary) -> list[Path | str]:
    """Each tune's file (or its problem) of an export_generated summary, in order."""
    problems = iter(summary.problems)
    return [path if path is not None else next(problems) for path in summary.per_tune]


# -- prompts of event models -----------------------------------------------------------------


def event_prompt(
    settings: dict[str, Any],
    events: int,
    *,
    piece: Any = None,
    data_settings: dict[str, Any] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> tuple[str, str]:
    """An event model's prompt and what it is in words: the first `events` events of a loaded
    `piece` (a `midi_data.Piece` read with `data_settings`) or of the MIDI file `path`,
    encoded with the model's `settings`; neither gives the empty prompt.

    DataError naming the file when it cannot be used (slow for the notes-and-chords encoding
    of a file not read before: call it off the GUI thread).
    """
    from models.errors import DataError
    from workbench.midi_data import MidiFileProblem, prompt_from_midi, prompt_from_piece

    try:
        if piece is not None:
            what = piece.name
            text = prompt_from_piece(settings, piece, data_settings or {}, events)
        elif path is not None:
            what = Path(path).name
            text = prompt_from_midi(settings, path, events)
        else:
            return "", "no prompt: the model begins a piece of its own"
    except MidiFileProblem as exc:
        raise DataError(f"{piece.source if piece is not None else path}: {exc}") from None
    count = len(text.split())
    return text, f"the first {count} event{'s' if count != 1 else ''} of {what}"
