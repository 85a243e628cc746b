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
from typing import TYPE_CHECKING

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
    """Architecture, size, vocabulary and validation loss (when known) in one line."""
    m = ckpt.config.model
    params = sum(int(t.numel()) for t in ckpt.state_dict.values())
    text = (
        f"{m.arch.upper()} {m.layers}x{m.hidden}, {_count(params)} parameters, "
        f"vocabulary {len(ckpt.tokenizer)}, step {ckpt.step}"
    )
    loss = ckpt.metrics.get("best_val_loss") or ckpt.metrics.get("val_loss")
    if isinstance(loss, int | float):
        text += f", val loss {loss:.3f}"
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


def export_choices() -> tuple[ExportFormatChoice, ...]:
    return EXPORT_CHOICES + ((WAV_CHOICE,) if wav_export_available() else ())


@dataclass
class ExportSummary:
    """What an export wrote and which tunes failed, and why."""

    fmt: str
    destination: Path
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tunes: int = 0
    per_tune: list[Path | None] = field(default_factory=list)  # each tune's file; None: failed

    def text(self) -> str:
        files = len(self.written)
        done = self.tunes - len(self.problems)
        where = self.written[0] if files == 1 else self.destination
        plural = "s" if files != 1 else ""
        head = f"Exported {done} of {self.tunes} tunes ({files} file{plural}) to {where}"
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
