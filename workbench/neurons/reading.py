"""How the neuron viewer reads a capture, chosen once from its kind (Qt-free).

A capture of ABC text has one row per character; a capture of an event model one row per event.
Everything the viewer shows that depends on which (the heatmap's column labels, the hover and
click readouts, where the text view breaks lines, the next-token list, the probes) comes from a
`Reading`, so the pane never asks "which kind is this?" (ARCHITECTURE.md, "Views follow the
kind, once"). `reading_for(acts)` picks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.activation_store import Activations
from workbench.neurons.probes import PROBES, Probe, Ranking, run_probe

_SHOWN = {"\n": "\u21b5", " ": "\u2423", "\t": "\u21e5"}
#: The text view starts a new line of events at each bar, and also after this many characters.
EVENT_LINE_CHARS = 96


def shown_char(ch: str) -> str:
    """A character as a label: newline, space and tab made visible."""
    return _SHOWN.get(ch, ch)


@dataclass
class Reading:
    """What one capture looks like in the viewer; `kind` is "chars" or "events"."""

    kind: str
    labels: list[str]  # one per row: what the heatmap column and the text cell show
    unit_noun: str  # "character" or "event"
    probes: dict[str, Probe]
    line_breaks: list[int] = field(default_factory=list)  # events that start a text line

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self, i: int) -> str:
        """A row for a readout: `'A' at 12`."""
        return f"{self.labels[i]!r} at {i}"

    def span_text(self, start: int, end: int, limit: int = 24) -> str:
        """Rows [start, end) shown compactly, for a search result's title."""
        shown = self.join(self.labels[start:end])
        return shown if len(shown) <= limit else shown[:limit] + "…"

    @staticmethod
    def join(labels: list[str]) -> str:
        return "".join(labels)

    def vocab_label(self, token: str, at: int) -> str:
        """A vocabulary entry as the next-token list shows it (`at`: the row it follows)."""
        return shown_char(token)

    def rank(self, name: str, matrix: np.ndarray) -> Ranking:
        """Units of `matrix` (rows, units) ranked by the probe `name` (ProbeError if it cannot)."""
        raise NotImplementedError


@dataclass
class CharReading(Reading):
    text: str = ""

    def rank(self, name: str, matrix: np.ndarray) -> Ranking:
        return run_probe(name, self.text, matrix)


@dataclass
class EventReading(Reading):
    timeline: Any = None  # workbench.midi_data.timeline.Timeline
    settings: dict = field(default_factory=dict)

    def describe(self, i: int) -> str:
        from workbench.midi_data.labels import describe_event

        return describe_event(self.timeline, i, self.labels[i])

    @staticmethod
    def join(labels: list[str]) -> str:
        return " ".join(labels)

    def vocab_label(self, token: str, at: int) -> str:
        from workbench.midi_data.labels import label_event

        return label_event(token, self.settings, self.timeline.beat[at])

    def rank(self, name: str, matrix: np.ndarray) -> Ranking:
        from workbench.neurons.event_probes import rank_event_probe

        return rank_event_probe(name, self.timeline, matrix)


def reading_for(acts: Activations) -> Reading:
    """The reading of a capture: characters of ABC text, or events of a MIDI encoding."""
    if acts.kind != "events":
        labels = [shown_char(ch) for ch in acts.text]
        return CharReading("chars", labels, "character", PROBES, text=acts.text)
    # Imported here: the music side's readers are needed only for event captures.
    from workbench.midi_data.labels import event_labels
    from workbench.midi_data.timeline import read_timeline
    from workbench.neurons.event_probes import EVENT_PROBES

    events = acts.tokens
    timeline = read_timeline(events, acts.settings)
    labels = event_labels(events, acts.settings, timeline)
    breaks = []
    width = 0
    for i, label in enumerate(labels):
        new_bar = i > 0 and timeline.bar[i] != timeline.bar[i - 1]
        if i > 0 and (new_bar or width + len(label) > EVENT_LINE_CHARS):
            breaks.append(i)
            width = 0
        width += len(label) + 1
    return EventReading(
        "events",
        labels,
        "event",
        EVENT_PROBES,
        line_breaks=breaks,
        timeline=timeline,
        settings=acts.settings,
    )
