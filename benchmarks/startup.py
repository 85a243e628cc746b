"""Start-up time of the app to a usable window: the PyInstaller bundle and the checkout's venv.

    .venv/bin/python benchmarks/startup.py [--repeats 5] [LAUNCHER ...]

Each LAUNCHER (default: `dist/Composition Workbench/workbench-gui` when it exists, and
`.venv/bin/workbench-gui`) is started with `--quit-after 0` under QT_QPA_PLATFORM=offscreen, in
a fresh home folder shared by its repeats (the first start writes settings, as a new user's
does); the time is from launching the process to its `window ready` line, printed at the event
loop's first turn after the main window is shown. The first start after a build also reads the
bundle from disk (cold); the median of the rest is the warm start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = (
    ROOT / "dist" / "Composition Workbench" / "workbench-gui",
    ROOT / ".venv" / "bin" / "workbench-gui",
)


def time_to_window(launcher: Path, home: Path, timeout: float = 120.0) -> float:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(launcher), "--quit-after", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    ready = None
    for line in proc.stdout:
        if line.strip() == "window ready":
            ready = time.perf_counter() - t0
            break
    rest, _ = proc.communicate(timeout=timeout)
    if ready is None or proc.returncode != 0:
        raise SystemExit(f"{launcher}: no window (exit status {proc.returncode}) {rest[-500:]}")
    return ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("launchers", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    launchers = args.launchers or [path for path in DEFAULTS if path.exists()]
    for launcher in launchers:
        with tempfile.TemporaryDirectory(prefix="wb-startup-") as home:
            times = [time_to_window(launcher, Path(home)) for _ in range(args.repeats)]
        warm = statistics.median(times[1:]) if len(times) > 1 else times[0]
        print(
            f"RESULT {launcher}: first start {times[0]:.2f} s, median of the next "
            f"{len(times) - 1} {warm:.2f} s (all: {', '.join(f'{t:.2f}' for t in times)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
