"""Reading run directories back: the run history and the curves of past runs (Qt-free).

A run is a directory with `config.json` and `metrics.jsonl` (written by `models.train`);
runs are compared by reading these, so a restarted app shows every past run and its curves.
A run that some process is writing now (this app, the CLI, a synced cluster job) says so in its
running.json (`models.run_marker`): `RunInfo.running`.
"""

from __future__ import annotations

import io
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


class _LogTail:
    """Where the last read of a run's metrics.jsonl stopped, and what was folded from it.

    Run history rescans every few seconds while a run trains; reading its whole log each time
    parsed the file again and again (600 times, 20 million events, in a 30-minute soak), and
    the heaps of short-lived dicts left the app's memory 15 % larger. With a tail, a rescan
    reads only the lines appended since, unless the file was replaced or truncated. A subclass
    says what is folded: `_restart()` starts again from nothing, `_add(event)` takes one event.
    """

    def __init__(self) -> None:
        self.identity: tuple[int, int] | None = None
        self.offset = 0
        self.head = b""
        self._restart()

    def _restart(self) -> None:
        raise NotImplementedError

    def _add(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    def _read(self, path: Path) -> dict[str, Any] | None:
        """Fold in the whole lines `path` gained; return the event of a last line without its
        newline yet (being written, or a file that ends without one), which read_metrics
        counts, without taking it as read. OSError when the file cannot be read."""
        with open_regular(path) as fh:
            st = os.fstat(fh.fileno())
            identity = (st.st_dev, st.st_ino)
            if identity != self.identity or st.st_size < self.offset or not self._same_head(fh):
                self.identity, self.offset, self.head = identity, 0, b""
                self._restart()
            fh.seek(self.offset)
            data = fh.read()
        if self.offset == 0:
            self.head = data[:_HEAD_BYTES]
        end = data.rfind(b"\n") + 1
        # Line by line, at b"\n" only (as read_metrics splits, not splitlines()): one split of
        # a 60 MB log would hold the GIL for ~60 ms while Run history reads it on a worker.
        for line in io.BytesIO(data[:end]):
            if (event := parse_event_line(line)) is not None:
                self._add(event)
        self.offset += end
        return parse_event_line(data[end:])

    def _same_head(self, fh) -> bool:
        if not self.head:
            return True
        fh.seek(0)
        return fh.read(len(self.head)) == self.head


class MetricsTail(_LogTail):
    """A run's summary (`read_run`), read on from where the last read stopped."""

    summary: _Summary

    def _restart(self) -> None:
        self.summary = _Summary()

    def _add(self, event: dict[str, Any]) -> None:
        self.summary.add(event)

    def read(self, path: Path) -> _Summary:
        """The summary of `path` now (OSError when it cannot be read)."""
        if (event := self._read(path)) is not None:
            summary = replace(self.summary)
            summary.add(event)
            return summary
        return self.summary


class CurvesTail(_LogTail):
    """A run's curves (`read_curves`), read on from where the last read stopped: Run history
    redraws a checked run that is training at every rescan."""

    columns: _Columns

    def _restart(self) -> None:
        self.columns = _Columns()

    def _add(self, event: dict[str, Any]) -> None:
        self.columns.add(event)

    def read(self, path: Path) -> Curves:
        """The curves of `path` now (OSError when it cannot be read)."""
        last = self._read(path)  # first: a replaced file starts new columns
        return self.columns.curves(last)


def read_run_config(path: str | Path) -> RunInfo | None:
    """A run directory's config.json as a RunInfo with nothing read from its metrics (what
    Run history shows of a run while its long log is read on a worker), or None if it is not
    a run."""
    path = Path(path)
    try:
        config = json.loads(read_text_regular(path / "config.json"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(config, dict):
        return None
    return RunInfo(path=path, config=config)


def read_run(path: str | Path, tail: MetricsTail | None = None) -> RunInfo | None:
    """The summary of one run directory, or None if it is not one. With `tail` (kept by the
    caller between calls for the same run), only what metrics.jsonl gained since is read."""
    info = read_run_config(path)
    if info is None:
        return None
    metrics = info.path / "metrics.jsonl"
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


#: The step events' fields plotted, and the evaluation events'.
_STEP_FIELDS = ("epoch", "loss", "accuracy", "chars_per_sec", "lr")
_EVAL_FIELDS = ("epoch", "val_loss", "val_accuracy")


class _Series:
    """One kind of event's points (the step, then the plotted numbers), in step order, as
    arrays that grow with the log: a rescan of a long training run converts only the rows it
    gained (a 400,000-step run's arrays took 0.35 s to rebuild from scratch at each rescan)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: list[tuple[float, ...]] = []  # (step, *values) in the log's order
        self.index: dict[int, int] = {}  # step -> its row (a repeated step is replaced)
        self.ordered = True  # rows in increasing step order (a normal log); else sort
        self._arrays: list[np.ndarray] = [np.zeros(0) for _ in range(1 + width)]
        self._built = 0  # rows already in `_arrays`
        self._stale = False  # a row already in `_arrays` was replaced

    def put(self, step: int, values: tuple[float, ...]) -> None:
        row = (float(step), *values)
        at = self.index.get(step)
        if at is not None:  # a resumed run logs some steps again: the latest counts
            self.rows[at] = row
            self._stale = self._stale or at < self._built
            return
        if self.rows and step < self.rows[-1][0]:
            self.ordered = False
        self.index[step] = len(self.rows)
        self.rows.append(row)

    def arrays(self, extra: tuple[int, tuple[float, ...]] | None = None) -> list[np.ndarray]:
        """The step column, then one per value; with `extra` (a point not yet taken as read)
        counted as well, without keeping it."""
        if extra is not None:
            copy = _Series(self.width)
            copy.rows, copy.index, copy.ordered = list(self.rows), dict(self.index), self.ordered
            copy._arrays, copy._built, copy._stale = self._arrays, self._built, self._stale
            copy.put(*extra)
            return copy.arrays()
        if not self.ordered:
            return _columns(sorted(self.rows), self.width)
        if self._stale:
            self._arrays, self._built, self._stale = _columns(self.rows, self.width), 0, False
            self._built = len(self.rows)
        elif self._built < len(self.rows):
            new = _columns(self.rows[self._built :], self.width)
            self._arrays = [np.concatenate(pair) for pair in zip(self._arrays, new, strict=True)]
            self._built = len(self.rows)
        return self._arrays


_BLOCK_ROWS = 16_384


def _columns(rows: list[tuple[float, ...]], width: int) -> list[np.ndarray]:
    """`rows` as one contiguous array per column (plots take no strided views)."""
    if not rows:
        return [np.zeros(0) for _ in range(1 + width)]
    # In blocks: one np.array over a 400,000-step log's rows holds the GIL for ~0.2 s, and
    # Run history converts on a worker thread while the GUI thread waits for the GIL.
    table = np.concatenate(
        [np.array(rows[i : i + _BLOCK_ROWS], dtype=float) for i in range(0, len(rows), _BLOCK_ROWS)]
    )
    return [np.ascontiguousarray(column) for column in table.T]


class _Columns:
    """The numbers of a run's curves by step, built event by event. Only the plotted numbers
    are kept (not the events: a long run has hundreds of thousands of them)."""

    def __init__(self) -> None:
        self.steps = _Series(len(_STEP_FIELDS))
        self.evals = _Series(len(_EVAL_FIELDS))
        self.unit = "char"

    def _point(self, event: dict[str, Any]) -> tuple[_Series, int, tuple[float, ...]] | None:
        """Where `event` goes: (series, step, values), or None (not a point)."""
        kind = event.get("event")
        if (step := _number(event.get("step"))) is None:
            return None  # a damaged line: no step to plot it at
        if kind == "step":
            return self.steps, int(step), _values(event, _STEP_FIELDS)
        if kind == "eval" and event.get("val_loss") is not None:
            return self.evals, int(step), _values(event, _EVAL_FIELDS)
        return None

    def add(self, event: dict[str, Any]) -> None:
        if event.get("event") == "start":
            self.unit = str(event.get("unit", self.unit))
        elif (point := self._point(event)) is not None:
            series, step, values = point
            series.put(step, values)

    def curves(self, last: dict[str, Any] | None = None) -> Curves:
        """The arrays, with `last` (an event not yet taken as read) counted as well."""
        unit, point = self.unit, None
        if last is not None:
            if last.get("event") == "start":
                unit = str(last.get("unit", unit))
            point = self._point(last)
        series, extra = (point[0], point[1:]) if point is not None else (None, None)
        steps = self.steps.arrays(extra if series is self.steps else None)
        evals = self.evals.arrays(extra if series is self.evals else None)
        step, epoch, loss, accuracy, chars_per_sec, lr = steps
        eval_step, eval_epoch, val_loss, val_accuracy = evals
        return Curves(
            step=step,
            epoch=epoch,
            loss=loss,
            accuracy=accuracy,
            chars_per_sec=chars_per_sec,
            lr=lr,
            eval_step=eval_step,
            eval_epoch=eval_epoch,
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            unit=unit,
        )


def _values(event: dict[str, Any], fields: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(np.nan if (v := _number(event.get(f))) is None else v for f in fields)


def read_curves(path: str | Path, tail: CurvesTail | None = None) -> Curves:
    """A run's step and evaluation series from its metrics.jsonl (a resumed run's repeated
    steps keep their latest values). With `tail` (kept by the caller between calls for the
    same run), only what metrics.jsonl gained since is read."""
    metrics = Path(path) / "metrics.jsonl"
    if tail is not None:
        return tail.read(metrics)
    columns = _Columns()
    for event in read_metrics(metrics):
        columns.add(event)
    return columns.curves()
