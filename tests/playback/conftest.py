"""The player under test with a recording output and a jump-ahead clock: exact MIDI messages at
exact clock times, in zero wall time (shared by the player's test files)."""

from __future__ import annotations

import pytest

from workbench.playback.clock import JumpClock
from workbench.playback.outputs import RecordingOutput
from workbench.playback.player import Player


@pytest.fixture
def rig():
    clock = JumpClock()
    out = RecordingOutput(clock.now)
    player = Player(out, clock)
    yield clock, out, player
    player.close()
