"""Checking ABC tunes with `abc2midi` (apt `abcmidi`), the reference ABC-to-MIDI converter.

abc2midi always exits 0; what it thinks of a tune is in its printed messages
(`Error in line-char L-C : ...`, `Warning in line-char ...`). A tune "passes" when no message
starts with `Error`. Tunes are checked one file each, several processes at a time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

_MESSAGE = re.compile(r"^(Error|Warning) in line-char (\d+)-(\d+) : (.*)$")


class Abc2MidiMissing(RuntimeError):
    """abc2midi is not installed."""


@dataclass
class Abc2MidiReport:
    """What abc2midi printed about one tune."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def abc2midi_path() -> str | None:
    return shutil.which("abc2midi")


def parse_output(output: str) -> Abc2MidiReport:
    report = Abc2MidiReport()
    for line in output.splitlines():
        if line.startswith("Error"):
            report.errors.append(line.strip())
        elif line.startswith("Warning"):
            report.warnings.append(line.strip())
    return report


def check_tune(text: str, timeout: float = 20.0) -> Abc2MidiReport:
    """Run abc2midi on one tune and collect its errors and warnings."""
    exe = abc2midi_path()
    if exe is None:
        raise Abc2MidiMissing("abc2midi is not installed (Debian/Ubuntu: apt install abcmidi)")
    with tempfile.TemporaryDirectory(prefix="wb-abc2midi-") as tmp:
        src = os.path.join(tmp, "tune.abc")
        with open(src, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        try:
            done = subprocess.run(
                [exe, src, "-o", os.path.join(tmp, "tune.mid")],
                capture_output=True,
                timeout=timeout,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return Abc2MidiReport(errors=[f"Error: abc2midi took over {timeout:g} s"])
    out = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    return parse_output(out)


def check_tunes(texts: Iterable[str], workers: int | None = None) -> list[Abc2MidiReport]:
    """Check many tunes; the order of the reports is the order of the texts."""
    texts = list(texts)
    workers = workers or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(check_tune, texts))
