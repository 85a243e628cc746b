"""A run's metrics.jsonl: appending events while training, reading them back.

Kept free of torch so the GUI can list runs and replay curves without importing it (start-up
time), and so a torn last line from a crash never makes a run unreadable.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

Event = dict[str, Any]


class MetricsLog:
    """Appends events to RUN_DIR/metrics.jsonl, one line each, flushed per line."""

    def __init__(self, run_dir: Path | None) -> None:
        self.fh = None
        if run_dir is not None:
            self.fh = open(run_dir / "metrics.jsonl", "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, event: Event) -> Event:
        if self.fh is not None:
            # JSON has no Infinity/NaN (a best loss before the first evaluation): write null.
            clean = {k: _finite_or_none(v) for k, v in event.items()}
            self.fh.write(json.dumps(clean, ensure_ascii=False) + "\n")
        return event

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_metrics(path: str | Path) -> list[Event]:
    """Events of a run's metrics.jsonl; a torn last line (crash mid-write) is skipped."""
    events = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events
