"""Helpers of the player's test files (their `rig` fixture is in tests/playback/conftest.py):
a two-note tune and the messages a recording output got."""

from __future__ import annotations

from workbench.playback.events import NoteEvent, tune_from_notes
from workbench.playback.outputs import RecordingOutput


def two_notes():
    return tune_from_notes([NoteEvent(0.0, 0.5, 60, 100), NoteEvent(0.5, 1.0, 62, 80)])


def sent(out: RecordingOutput) -> list[tuple[float, str]]:
    """What the output got, as (time rounded to the microsecond, message text)."""
    return [(round(t, 6), str(m)) for t, m in out.sent]
