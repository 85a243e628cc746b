"""What a list of tunes shows of each: title, key, meter, bar count, bars that fit (Qt-free).

`tune_info` is fast (no music21: the header through `workbench.corpus.stats`, the bars through
`workbench.notation.meter.bar_lengths`; ~1-2 ms for a 600-character tune). `parses_in_music21`
asks music21's ABC reader, which takes ~100 ms a tune: call it off the GUI thread (or in a
process pool for many tunes).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from workbench.corpus.stats import tune_key, tune_meter
from workbench.notation.meter import bar_lengths


@dataclass
class TuneInfo:
    """A tune's summary. `meter` and `key` are normalised (`4/4` for `C`, `Ador`, `none`);
    `bars` counts the bars with notes; `misfit_bars` are the numbers (from 1) of the bars that
    do not fit the meter (`bar_lengths`' rules: pickups and section-end bars may be short)."""

    title: str
    key: str
    meter: str
    bars: int
    bars_fit: bool
    misfit_bars: list[int] = field(default_factory=list)


def tune_title(text: str) -> str:
    """The first `T:` field's value ("" when the tune has none)."""
    for line in text.split("\n"):
        if line.startswith("T:"):
            return line[2:].strip()
        if line.startswith("K:"):
            break
    return ""


def tune_info(text: str) -> TuneInfo:
    """Title, key, meter and the bar check of the ABC tune `text`."""
    bars = bar_lengths(text)
    misfits = [bar.index + 1 for bar in bars if not bar.fits]
    return TuneInfo(
        title=tune_title(text),
        key=tune_key(text),
        meter=tune_meter(text),
        bars=len(bars),
        bars_fit=not misfits,
        misfit_bars=misfits,
    )


def parses_in_music21(text: str) -> str | None:
    """None when music21's ABC reader turns `text` into a score with notes, else why not.

    Slow (~100 ms a tune): for a worker thread or a process pool.
    """
    try:
        from music21 import converter, stream
    except ImportError as exc:  # pragma: no cover - music21 is a dependency
        return f"music21 is not installed ({exc})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = converter.parse(text, format="abc")
            if isinstance(parsed, stream.Opus):
                scores = list(parsed.scores)
                parsed = scores[0] if scores else None
            if parsed is None:
                return "no tune found"
            if not parsed.flatten().notes:
                return "no notes"
    except Exception as exc:  # music21 raises many kinds on malformed ABC
        message = str(exc).strip().split("\n", 1)[0]
        return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return None
