"""The FluidSynth and General MIDI soundfonts installed on this system, found without our code.

Tests of which engine plays use this as their oracle: the library by name, the soundfont files
by their RIFF/sfbk header in the folders where Debian (and most Linux distributions) install
them, and where scripts/setup.sh installs timgm6mb-soundfont.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
from pathlib import Path

import pytest

SYSTEM_DIRS = (
    Path("/usr/share/sounds/sf2"),
    Path("/usr/share/sounds/sf3"),
    Path("/usr/share/soundfonts"),
)


def _is_soundfont(path: Path) -> bool:
    """A RIFF file of form `sfbk` (the SoundFont 2 container; .sf3 uses it too)."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"sfbk"


def system_soundfonts() -> set[Path]:
    found = set()
    for folder in SYSTEM_DIRS:
        if folder.is_dir():
            found |= {p.resolve() for p in folder.iterdir() if _is_soundfont(p)}
    return found


def require_system_synth(monkeypatch: pytest.MonkeyPatch, home: Path) -> set[Path]:
    """The system's soundfonts, with the user's own folders (HOME -> `home`) and
    $WORKBENCH_SOUNDFONT out of the way, since they may rightly win over the system's.
    Skips only when FluidSynth or every soundfont is truly absent."""
    if importlib.util.find_spec("fluidsynth") is None or not ctypes.util.find_library("fluidsynth"):
        pytest.skip("FluidSynth is not installed (pip pyfluidsynth, apt libfluidsynth3)")
    fonts = system_soundfonts()
    if not fonts:
        pytest.skip(f"no General MIDI soundfont in {', '.join(map(str, SYSTEM_DIRS))}")
    monkeypatch.delenv("WORKBENCH_SOUNDFONT", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "share"))
    return fonts
