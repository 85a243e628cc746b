"""Finding General MIDI soundfonts (.sf2/.sf3) where systems and music programs install them."""

from __future__ import annotations

import os
from pathlib import Path

SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
#: Environment variable naming a soundfont to prefer over any found.
ENV_VAR = "WORKBENCH_SOUNDFONT"

# Better-sounding General MIDI sets first; TimGM6mb (6 MB, Debian's default-GM) is the small one.
PREFERRED = (
    "FluidR3_GM",
    "MuseScore_General",
    "GeneralUser",
    "default-GM",
    "TimGM6mb",
)


def search_dirs() -> list[Path]:
    home = Path.home()
    data_home = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
    dirs = [
        data_home / "soundfonts",
        data_home / "sounds" / "sf2",
        home / ".soundfonts",
        home / "Documents" / "MuseScore4" / "SoundFonts",
        home / "Documents" / "MuseScore3" / "SoundFonts",
        Path("/usr/share/sounds/sf2"),
        Path("/usr/share/sounds/sf3"),
        Path("/usr/share/soundfonts"),
        Path("/usr/share/mscore-3.0/sound"),  # Debian's MuseScore packages
        Path("/usr/share/musescore/sound"),
        Path("/usr/local/share/soundfonts"),
        Path("/opt/homebrew/share/soundfonts"),
        Path("/Library/Audio/Sounds/Banks"),
        home / "Library" / "Audio" / "Sounds" / "Banks",
    ]
    if os.name == "nt":
        dirs.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "System32" / "drivers")
    return dirs


def find_soundfonts(dirs: list[Path] | None = None) -> list[Path]:
    """Soundfont files found, best first (duplicates through symlinks removed)."""
    found: dict[Path, Path] = {}
    for folder in search_dirs() if dirs is None else dirs:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for path in entries:
            if path.suffix.lower() in SOUNDFONT_SUFFIXES and path.is_file():
                found.setdefault(path.resolve(), path)

    def rank(path: Path) -> tuple[int, str]:
        for i, name in enumerate(PREFERRED):
            if name.lower() in path.name.lower():
                return i, path.name
        return len(PREFERRED), path.name

    return sorted(found.values(), key=rank)


def default_soundfont(dirs: list[Path] | None = None) -> Path | None:
    """$WORKBENCH_SOUNDFONT when it names a file, else the best one found, else None."""
    chosen = os.environ.get(ENV_VAR)
    if chosen and Path(chosen).is_file():
        return Path(chosen)
    fonts = find_soundfonts(dirs)
    return fonts[0] if fonts else None
