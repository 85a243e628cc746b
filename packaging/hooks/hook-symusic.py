"""PyInstaller hook for symusic: its abc2midi/midi2abc programs.

`symusic.factory` refuses to import unless `symusic/bin/abc2midi` and `midi2abc` exist beside
it (it points its ABC conversions at them). Collected as binaries, so they stay executable.
"""

from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

_, package_dir = get_package_paths("symusic")
binaries = [
    (str(path), "symusic/bin")
    for path in sorted((Path(package_dir) / "bin").iterdir())
    if path.is_file()
]
