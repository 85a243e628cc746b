"""Entry script of the PyInstaller bundle: one program, two executables.

`dist/Composition Workbench/` holds two executables built from this script (see
workbench.spec): `workbench-gui` opens the window, `workbench` is the command line; each picks
its mode from its own name. They share `_internal/` (torch, Qt, every library and data file);
each carries its own copy of the compiled Python modules (PyInstaller appends them to a onedir
executable: 53 MB each, 5 % of the bundle). A second executable, rather than a `cli` argument to
the GUI one, because Windows gives a windowed executable no console for the CLI's output, and
because the names match the `pip install` entry points (the .desktop file's
`Exec=workbench-gui` launches either).

`workbench --bundle-check DIR` runs packaging/bundle_check.py inside the bundle (build.sh).
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    # First of all: a spawned child (the trainer, the verovio renderer) and multiprocessing's
    # resource tracker run this same executable; freeze_support runs their work and exits.
    multiprocessing.freeze_support()
    name = Path(sys.executable).stem.lower()
    if name == "workbench":
        if sys.argv[1:2] == ["--bundle-check"]:
            from bundle_check import main as check

            return check(sys.argv[2:])
        from workbench.cli import main as cli

        return cli(sys.argv[1:])
    from workbench.app import main as gui

    return gui(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
