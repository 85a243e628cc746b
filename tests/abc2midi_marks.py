"""The skip marker of the tests that check against abc2midi (an independent tool: apt abcmidi)."""

from __future__ import annotations

import pytest

from workbench.notation.abc2midi import abc2midi_path

needs_abc2midi = pytest.mark.skipif(
    abc2midi_path() is None, reason="abc2midi is not installed (apt install abcmidi)"
)
