"""A run's metrics.jsonl: appending events while training, reading them back.

Kept free of torch so the GUI can list runs and replay curves without importing it (start-up
time), and so a torn last line from a crash never makes a run unreadable. While the log is open
it also holds RUN_DIR/running.json (`models.run_marker`), so other processes (the GUI's run
history, a follower on a synced folder) can tell the run is being written now.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from models.regular_files import open_regular
from models.run_marker import RunMarker

Event = dict[str, Any]


class MetricsLog:
    """Appends events to RUN_DIR/metrics.jsonl, one line each, flushed per line; marks the run
    as running until closed. A distributed run opens it on its writing rank only."""

    def __init__(self, run_dir: Path | None) -> None:
        self.fh = None
        self.marker: RunMarker | None = None
        if run_dir is not None:
            self.fh = open(run_dir / "metrics.jsonl", "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            self.marker = RunMarker(run_dir)

    def write(self, event: Event) -> Event:
        if self.fh is not None:
            # JSON has no Infinity/NaN (a best loss before the first evaluation): write null.
            clean = {k: _finite_or_none(v) for k, v in event.items()}
            self.fh.write(json.dumps(clean, ensure_ascii=False) + "\n")
        return event

    def close(self) -> None:
        if self.marker is not None:
            self.marker.close()
            self.marker = None
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_metrics(path: str | Path) -> list[Event]:
    """Events of a run's metrics.jsonl. A line that is no event is skipped: a torn last line
    (crash mid-write), garbage, bytes that are not UTF-8, JSON that is not an object."""
    with open_regular(path) as fh:
        return [event for line in fh if (event := parse_event_line(line)) is not None]


def parse_event_line(line: bytes) -> Event | None:
    """One metrics.jsonl line as an event, or None for what is no event (torn, garbage, not
    UTF-8, JSON that is not an object)."""
    try:
        event = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: absurdly nested garbage
        return None
    return event if isinstance(event, dict) else None
