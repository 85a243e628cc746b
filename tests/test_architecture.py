"""The project's structural promises: the engine is Qt-free, checked two ways."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Imports every Qt-free module and runs a CLI command with PySide6/pyqtgraph made unimportable,
# as on a server that never installed the GUI extras.
_WITHOUT_QT = r"""
import importlib.abc, sys

class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "pyqtgraph", "superqt", "shiboken6"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, NoQt())
import pkgutil, models, workbench.corpus, workbench.notation, workbench.neurons, workbench.playback
import workbench.midi_data
for pkg in (models, workbench.corpus, workbench.notation, workbench.neurons, workbench.playback,
            workbench.midi_data):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
import workbench.cli, workbench.generation, workbench.session, workbench.sweep
sys.exit(workbench.cli.main(["corpus", "stats", "corpus:miscFolk", "--json"]))
"""


def test_engine_and_cli_run_without_qt():
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_QT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stderr
    assert '"tunes": 185' in proc.stdout


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e .[dev])")
    proc = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_the_window_starts_without_torch_or_music21():
    """torch (~2 s) and music21 (~1 s) load on worker threads, never on the start-up path."""
    code = (
        "import sys, workbench.ui.main_window, workbench.app; "
        "print(sorted(m for m in ('torch', 'music21', 'verovio') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
