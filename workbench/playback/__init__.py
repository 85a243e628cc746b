"""Playback (Qt-free): note events, the player, outputs (synth, MIDI ports), WAV export.

See :mod:`workbench.playback.player` for the player, :mod:`~workbench.playback.synth` for the
built-in synth, :mod:`~workbench.playback.wav` for audio export. The Qt audio sink and the
transport bar live in ``workbench.ui``.
"""

from workbench.playback.events import (
    Cue,
    NoteEvent,
    PlaybackError,
    Tune,
    tune_from_abc,
    tune_from_midi,
)
from workbench.playback.player import Player, State

__all__ = [
    "Cue",
    "NoteEvent",
    "PlaybackError",
    "Player",
    "State",
    "Tune",
    "tune_from_abc",
    "tune_from_midi",
]
