"""Generating a piece of a given length in seconds (Qt-free; the CLI and the GUI share it).

An event model writes events, and how many seconds an event adds depends on the encoding and
on what the model chose (a `Bar` in REMI moves time on by a bar, a `Pitch` not at all). So the
length is read where it is defined: from the rendered piece (`render`: events -> symusic
Score -> seconds, at the tempo the piece plays at). :class:`SecondsLimit` is a sampling
constraint (`models.sample.sample(..., constraint=...)`) that keeps `<end>` out until a piece
reaches the length and then ends it; :func:`trim_to_seconds` cuts a piece back to the first
event at which it reached the length. Typical use::

    limit = SecondsLimit(tokenizer, 30.0)
    texts = sample(model, tokenizer, prompt, num, params, constraint=limit)
    texts = [trim_to_seconds(tokenizer.settings, t, 30.0) for t in texts]

Rendering a piece of n events takes time proportional to n, so the constraint does not render
after every event: from the seconds and events so far it estimates how many more events the
length needs and looks again after half of them (about log2(n) renders a piece, then one per
event for the last few).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workbench.midi_data.encodings import DecodeError, events_of, text_of
from workbench.midi_data.render import render

#: Events a second of music may take, at most, when only a length in seconds is asked for:
#: piano music in REMI/TSD/MIDI-like runs at ~45 events a second (Joplin's Maple Leaf Rag at
#: 120 bpm), so 200 leaves room for dense music and still ends a piece that never gets there.
EVENTS_PER_SECOND_CAP = 200


def events_cap(seconds: float) -> int:
    """The event cap of a piece asked for by length alone (at least 2,000 events)."""
    return max(2000, math.ceil(EVENTS_PER_SECOND_CAP * seconds))


def rendered_seconds(settings: dict[str, Any], text: str) -> float:
    """How long the events of `text` play, in seconds (0 when they are not music yet)."""
    try:
        return render(settings, text).seconds
    except DecodeError:
        return 0.0


def trim_to_seconds(settings: dict[str, Any], text: str, seconds: float) -> str:
    """`text` up to the first event at which it plays for `seconds` (all of it if never).

    Binary search over prefixes: a longer prefix never plays for less time (adding events adds
    notes or moves later ones on), so the first prefix that reaches the length is well defined.
    """
    events = events_of(text)
    if rendered_seconds(settings, text) < seconds:
        return text
    lo, hi = 0, len(events)  # the prefix of hi events reaches it; that of lo does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rendered_seconds(settings, text_of(events[:mid])) >= seconds:
            hi = mid
        else:
            lo = mid
    return text_of(events[:hi])


class SecondsLimit:
    """A sampling constraint: no `<end>` before a piece plays for `seconds`, then `<end>`.

    `tokenizer` is the model's EventTokenizer (its `settings` say how to render, its `end_id`
    which logit ends a piece). One instance serves one `sample` call (it keeps per-piece
    state); `reached[i]` says whether piece i got there (False when the event cap came first).
    """

    def __init__(
        self, tokenizer: Any, seconds: float, settings: dict[str, Any] | None = None
    ) -> None:
        if not seconds > 0:
            raise ValueError(f"the length must be more than 0 seconds, not {seconds}")
        # `settings`: the model's with another tempo (a prompt's), as the pieces will play.
        self.settings = tokenizer.settings if settings is None else settings
        self.end_id = int(tokenizer.end_id)
        self.seconds = float(seconds)
        self.reached: list[bool] = []
        self._next_check: list[int] = []
        self.renders = 0

    def _seconds(self, text: str) -> float:
        self.renders += 1
        return rendered_seconds(self.settings, text)

    def __call__(self, logits: Any, texts: Sequence[str]) -> Any:
        """(B, V) logits -> (B, V), given each piece's text so far (prompt included)."""
        if not self.reached:
            self.reached = [False] * len(texts)
            self._next_check = [0] * len(texts)
        for b in range(len(texts)):
            if not self.reached[b]:
                text = texts[b]
                count = text.count(" ")  # events so far: each is followed by one space
                if count >= self._next_check[b]:
                    played = self._seconds(text)
                    if played >= self.seconds:
                        self.reached[b] = True
                    else:
                        self._next_check[b] = count + self._events_to_wait(count, played)
            if self.reached[b]:
                logits[b] = -math.inf
                logits[b, self.end_id] = 0.0
            else:
                logits[b, self.end_id] = -math.inf
        return logits

    def _events_to_wait(self, count: int, played: float) -> int:
        """Half the events the length still needs at the rate so far (at least 1)."""
        if played <= 0 or count == 0:
            return 8  # nothing sounds yet: no rate to go by
        needed = (self.seconds - played) * count / played
        return max(1, int(needed / 2))
