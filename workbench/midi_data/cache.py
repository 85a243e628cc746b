"""Where converted data is kept between runs: the user's cache folder.

Two things are slow to make and never change for the same input, so they are made once:
music21's Bach chorales converted from MusicXML to MIDI, and the reports' notes-and-chords
encoding of a MIDI file (music21 takes seconds a file). `WORKBENCH_CACHE_DIR` overrides the
folder (the tests point it at a temporary one).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "composition-workbench"
CACHE_ENV = "WORKBENCH_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    """The cache folder (or a sub-folder of it), created if missing."""
    base = os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir(APP_NAME)
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
