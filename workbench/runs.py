"""Reading run directories back: the run history and the curves of past runs (Qt-free).

A run is a directory with `config.json` and `metrics.jsonl` (written by `models.train`);
runs are compared by reading these, so a restarted app shows every past run and its curves.
A run that some process is writing now (this app, the CLI, a synced cluster job) says so in its
running.json (`models.run_marker`): `RunInfo.running`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from models.metrics_log import parse_event_line, read_metrics
from models.regular_files import open_regular, read_text_regular
from models.run_marker import run_liveness


def default_runs_root() -> Path:
    """Where the app keeps its runs unless the user picks another folder."""
    return Path(platformdirs.user_data_dir("composition-workbench")) / "runs"


@dataclass
class RunInfo:
    path: Path
    config: dict[str, Any]
    best_val_loss: float | None = None
    best_val_accuracy: float | None = None
    steps: int = 0
    status: str = "unknown"  # running/finished reason, or "incomplete"
    modified: float = 0.0
    running: bool = False  # an incomplete run that a live process is writing now

    @property
    def name(self) -> str:
        return self.path.name

    def summary(self) -> str:
        # A hand-edited or damaged config.json may hold anything: what is not a section is none.
        m, t = (s if isinstance(s := self.config.get(k), dict) else {} for k in ("model", "train"))
        return (
            f"{str(m.get('arch', '?')).upper()} {m.get('layers', '?')}x{m.get('hidden', '?')}, "
            f"{t.get('optimizer', '?')} lr {t.get('lr', '?')}, batch {t.get('batch_size', '?')}"
            f" x {t.get('seq_len', '?')}, dropout {m.get('dropout', '?')}"
        )


@dataclass
class Curves:
    """A run's metrics as arrays, ready to plot."""

    step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    epoch: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    chars_per_sec: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lr: np.ndarray = field(default_factory=lambda: np.zeros(0))
    eval_step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    eval_epoch: np.ndarray = field(default_factory=lambda: np.zeros(0))
    val_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    val_accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit: str = "char"  # what one token is: "char", or "event" for a MIDI model


@dataclass
class _Summary:
    """What the run list shows of a metrics.jsonl: the last step, the best evaluation, how it
    ended. Built event by event, so that it can grow with the file."""

    steps: int = 0
    best_val_loss: float | None = None
    best_val_accuracy: float | None = None
    status: str = "incomplete"

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "step":
            self.steps = max(self.steps, int(_number(event.get("step")) or 0))
        elif kind == "eval":
            # Damaged or hand-edited lines may hold anything: only numbers count.
            loss = _number(event.get("val_loss"))
            if loss is not None and (self.best_val_loss is None or loss < self.best_val_loss):
                self.best_val_loss = loss
                self.best_val_accuracy = _number(event.get("val_accuracy"))
        elif kind == "start":
            self.status = "incomplete"
        elif kind == "end":
            self.status = str(event.get("reason", "finished"))


#: The first bytes of a metrics.jsonl: a file replaced by another (a run started again in the
#: same folder) starts differently even when it has grown past the old one's length.
_HEAD_BYTES = 256


@dataclass
class MetricsTail:
    """Where the last read of a run's metrics.jsonl stopped, and its summary so far.

    Run history rescans every few seconds while a run trains; reading its whole log each time
    parsed the file again and again (600 times, 20 million events, in a 30-minute soak), and
    the heaps of short-lived dicts left the app's memory 15 % larger. With a tail, a rescan
    reads only the lines appended since, unless the file was replaced or truncated.
    """

    identity: tuple[int, int] | None = None
    offset: int = 0
    head: bytes = b""
    summary: _Summary = field(default_factory=_Summary)

    def read(self, path: Path) -> _Summary:
        """The summary of `path` now (OSError when it cannot be read)."""
        with open_regular(path) as fh:
            st = os.fstat(fh.fileno())
            identity = (st.st_dev, st.st_ino)
            if identity != self.identity or st.st_size < self.offset or not self._same_head(fh):
                self.identity, self.offset, self.head = identity, 0, b""
                self.summary = _Summary()
            fh.seek(self.offset)
            data = fh.read()
        if self.offset == 0:
            self.head = data[:_HEAD_BYTES]
        end = data.rfind(b"\n") + 1
        for line in data[:end].split(b"\n"):  # as read_metrics splits, not splitlines()
            if (event := parse_event_line(line)) is not None:
                self.summary.add(event)
        self.offset += end
        # A last line without its newline yet (being written, or a file that ends without
        # one) counts as read_metrics counts it, without being taken as read.
        if (event := parse_event_line(data[end:])) is not None:
            summary = replace(self.summary)
            summary.add(event)
            return summary
        return self.summary

    def _same_head(self, fh) -> bool:
        if not self.head:
            return True
        fh.seek(0)
        return fh.read(len(self.head)) == self.head


def read_run(path: str | Path, tail: MetricsTail | None = None) -> RunInfo | None:
    """The summary of one run directory, or None if it is not one. With `tail` (kept by the
    caller between calls for the same run), only what metrics.jsonl gained since is read."""
    path = Path(path)
    try:
        config = json.loads(read_text_regular(path / "config.json"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(config, dict):
        return None
    info = RunInfo(path=path, config=config)
    metrics = path / "metrics.jsonl"
    try:
        info.modified = metrics.stat().st_mtime
        summary = (tail if tail is not None else MetricsTail()).read(metrics)
    except OSError:
        return info
    info.steps = summary.steps
    info.best_val_loss = summary.best_val_loss
    info.best_val_accuracy = summary.best_val_accuracy
    info.status = summary.status
    info.running = is_running(info)
    return info


def _number(value: Any) -> float | None:
    """`value` as a finite float if it is a JSON number (not a bool), else None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def is_running(info: RunInfo) -> bool:
    """Whether a process is writing this run now: it has not logged its end, and its
    running.json names a live process (or, synced from elsewhere, a fresh heartbeat). Not
    cached by callers: a killed trainer changes no file of its run."""
    return info.status == "incomplete" and run_liveness(info.path).running


def list_runs(root: str | Path) -> list[RunInfo]:
    """Every run directory directly under `root`, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [info for p in root.iterdir() if p.is_dir() and (info := read_run(p)) is not None]
    return sorted(runs, key=lambda r: r.modified, reverse=True)


def read_curves(path: str | Path) -> Curves:
    """A run's step and evaluation series from its metrics.jsonl (a resumed run's repeated
    steps keep their latest values)."""
    steps: dict[int, dict[str, Any]] = {}
    evals: dict[int, dict[str, Any]] = {}
    unit = "char"
    for event in read_metrics(Path(path) / "metrics.jsonl"):
        kind = event.get("event")
        if kind == "start":
            unit = str(event.get("unit", unit))
        elif (step := _number(event.get("step"))) is None:
            continue  # a damaged line: no step to plot it at
        elif kind == "step":
            steps[int(step)] = event
        elif kind == "eval" and event.get("val_loss") is not None:
            evals[int(step)] = event

    def col(rows: dict[int, dict[str, Any]], key: str) -> np.ndarray:
        values = (_number(rows[k].get(key)) for k in sorted(rows))
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    return Curves(
        step=col(steps, "step"),
        epoch=col(steps, "epoch"),
        loss=col(steps, "loss"),
        accuracy=col(steps, "accuracy"),
        chars_per_sec=col(steps, "chars_per_sec"),
        lr=col(steps, "lr"),
        eval_step=col(evals, "step"),
        eval_epoch=col(evals, "epoch"),
        val_loss=col(evals, "val_loss"),
        val_accuracy=col(evals, "val_accuracy"),
        unit=unit,
    )
