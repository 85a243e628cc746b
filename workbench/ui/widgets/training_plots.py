"""Live training curves: loss, accuracy, speed and learning rate against steps or epochs.

Events are appended to growable numpy columns as they arrive (the training pane drains its
process every ~40 ms); the curves are redrawn on their own ~500 ms timer and only when data
changed, so a fast trainer cannot flood the GUI with repaints. Each curve downsamples to the
view ('peak' keeps spikes visible) and clips to the visible x range: 100,000 steps stay smooth.
The titles name what a token is, from the run's start event: nats per char, or per event for
a MIDI model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.runs import Curves

# Each redraw repaints all four (x-linked) plots, ~13 ms in software rendering: twice a second
# keeps the curves live without stealing the GUI thread (benchmarks/ui_latency.py).
REDRAW_MS = 500
STEP_COLUMNS = ("step", "epoch", "loss", "accuracy", "chars_per_sec", "lr")
EVAL_COLUMNS = ("step", "epoch", "val_loss", "val_accuracy")
TRAIN_PEN = pg.mkPen("#1f77b4", width=1)
VAL_PEN = pg.mkPen("#ff7f0e", width=2)


def _number(value: Any) -> float:
    return float(value) if value is not None else math.nan


class _Columns:
    """Float columns of one length that grow by doubling (amortised O(1) appends)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._index = {n: i for i, n in enumerate(names)}
        self._data = np.empty((len(names), 1024))  # (columns, capacity): columns contiguous
        self.size = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[self._index[name], : self.size]

    def extend(self, rows: np.ndarray) -> None:
        """Append rows (n, columns). Steps at or before the last one replace the tail: a
        resumed run restarts from its checkpoint, which may be older than the last step shown."""
        if len(rows) == 0:
            return
        steps = self["step"]
        if self.size and rows[0, 0] <= steps[-1]:
            self.size = int(np.searchsorted(steps, rows[0, 0], side="left"))
        need = self.size + len(rows)
        if need > self._data.shape[1]:
            grown = np.empty((len(self.names), max(need, 2 * self._data.shape[1])))
            grown[:, : self.size] = self._data[:, : self.size]
            self._data = grown
        self._data[:, self.size : need] = rows.T
        self.size = need

    def replace(self, arrays: dict[str, np.ndarray]) -> None:
        self.size = 0
        n = min((len(a) for a in arrays.values()), default=0)
        rows = np.column_stack([np.asarray(arrays[c], dtype=float)[:n] for c in self.names])
        self.extend(rows.reshape(n, len(self.names)))

    def clear(self) -> None:
        self.size = 0


class TrainingPlotsWidget(QWidget):
    """Four linked plots of a run's curves, fed by `append(events)` or `load(curves)`."""

    x_axis_changed = Signal(str)  # "steps" or "epochs"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingPlotsWidget")
        self.steps = _Columns(STEP_COLUMNS)
        self.evals = _Columns(EVAL_COLUMNS)
        self._dirty = False

        bar = QHBoxLayout()
        bar.addWidget(QLabel("x axis"))
        self.x_combo = QComboBox()
        self.x_combo.setObjectName("x_axis_combo")
        self.x_combo.addItem("Steps", "steps")
        self.x_combo.addItem("Epochs", "epochs")
        self.x_combo.currentIndexChanged.connect(self._on_x_combo_changed)
        bar.addWidget(self.x_combo)
        self.log_check = QCheckBox("Log loss")
        self.log_check.setObjectName("log_loss_check")
        self.log_check.toggled.connect(self.set_log_loss)
        bar.addWidget(self.log_check)
        bar.addStretch(1)

        self.graphics = pg.GraphicsLayoutWidget()
        self.loss_plot = self._add_plot(0, 0, "Loss (nats/char)")
        self.accuracy_plot = self._add_plot(0, 1, "Accuracy")
        self.speed_plot = self._add_plot(1, 0, "Characters per second")
        self.lr_plot = self._add_plot(1, 1, "Learning rate")
        for plot in (self.accuracy_plot, self.speed_plot, self.lr_plot):
            plot.setXLink(self.loss_plot)
        for plot in (self.speed_plot, self.lr_plot):
            plot.setLabel("bottom", "step")
        # The top row shares the bottom row's x axis; its own would only cost paint time.
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.hideAxis("bottom")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.accuracy_plot.addLegend(offset=(-10, -10))
        self.loss_curve = self._add_curve(self.loss_plot, TRAIN_PEN, "training")
        self.val_loss_curve = self._add_curve(self.loss_plot, VAL_PEN, "validation", symbol=True)
        self.accuracy_curve = self._add_curve(self.accuracy_plot, TRAIN_PEN, "training")
        self.val_accuracy_curve = self._add_curve(
            self.accuracy_plot, VAL_PEN, "validation", symbol=True
        )
        self.speed_curve = self._add_curve(self.speed_plot, TRAIN_PEN)
        self.lr_curve = self._add_curve(self.lr_plot, TRAIN_PEN)
        self.unit = "char"

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)

    def _add_plot(self, row: int, col: int, title: str) -> pg.PlotItem:
        # No grid: pyqtgraph draws it through the axes, which doubled the repaint time
        # (31 ms -> 17 ms for the four plots, measured offscreen).
        return self.graphics.addPlot(row=row, col=col, title=title)

    @staticmethod
    def _add_curve(
        plot: pg.PlotItem, pen: Any, name: str | None = None, symbol: bool = False
    ) -> pg.PlotDataItem:
        kwargs = {"symbol": "o", "symbolSize": 5, "symbolBrush": pen.color()} if symbol else {}
        curve = plot.plot(pen=pen, name=name, **kwargs)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        return curve

    # -- data ------------------------------------------------------------------------------

    def append(self, events: list[dict[str, Any]]) -> None:
        """Add the step and evaluation events among `events`; other kinds are ignored."""
        steps = [
            [_number(e.get(c)) for c in STEP_COLUMNS] for e in events if e.get("event") == "step"
        ]
        evals = [
            [_number(e.get(c)) for c in EVAL_COLUMNS]
            for e in events
            if e.get("event") == "eval" and e.get("val_loss") is not None
        ]
        if steps:
            self.steps.extend(np.array(steps, dtype=float))
        if evals:
            self.evals.extend(np.array(evals, dtype=float))
        if steps or evals:
            self._mark_dirty()
        for event in events:
            if event.get("event") == "start" and event.get("unit"):
                self.set_unit(str(event["unit"]))

    def set_unit(self, unit: str) -> None:
        """Name the token the curves count: "char", or "event" for a MIDI model."""
        self.unit = unit
        self.loss_plot.setTitle(f"Loss (nats/{unit})")
        self.speed_plot.setTitle(f"{'Events' if unit == 'event' else 'Characters'} per second")

    def load(self, curves: Curves) -> None:
        """Show a stored run (`workbench.runs.read_curves`) in place of what is shown."""
        self.steps.replace({c: getattr(curves, c) for c in STEP_COLUMNS})
        self.evals.replace(
            {
                "step": curves.eval_step,
                "epoch": curves.eval_epoch,
                "val_loss": curves.val_loss,
                "val_accuracy": curves.val_accuracy,
            }
        )
        self.set_unit(curves.unit)
        self.redraw()
        self._auto_range()

    def clear(self) -> None:
        self.steps.clear()
        self.evals.clear()
        self.redraw()
        self._auto_range()

    # -- view options ----------------------------------------------------------------------

    def x_axis(self) -> str:
        return self.x_combo.currentData()

    def set_x_axis(self, axis: str) -> None:
        self.x_combo.setCurrentIndex(self.x_combo.findData(axis))

    def set_log_loss(self, on: bool) -> None:
        self.log_check.setChecked(on)
        self.loss_plot.setLogMode(x=False, y=on)

    # -- drawing ---------------------------------------------------------------------------

    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # pyqtgraph picks the downsampling factor from the view's pixel width but recomputes it
        # only when the data or the x range change: data set while hidden (a replay) would
        # otherwise be drawn point by point after the first show.
        if self.steps.size:
            self._mark_dirty()

    def _on_redraw_timer_timeout(self) -> None:
        if self._dirty:
            self.redraw()
        else:
            self._redraw_timer.stop()  # idle: wake up again on the next append

    def redraw(self) -> None:
        """Push the columns into the curves now (the timer does this when data changed)."""
        self._dirty = False
        key = "step" if self.x_axis() == "steps" else "epoch"
        x, ex = self.steps[key], self.evals[key]
        self.loss_curve.setData(x, self.steps["loss"])
        self.accuracy_curve.setData(x, self.steps["accuracy"])
        self.speed_curve.setData(x, self.steps["chars_per_sec"])
        self.lr_curve.setData(x, self.steps["lr"])
        for curve, y in (
            (self.val_loss_curve, self.evals["val_loss"]),
            (self.val_accuracy_curve, self.evals["val_accuracy"]),
        ):
            # Symbols only where there is a number: pyqtgraph's scatter warns on all-NaN data
            # (a damaged or hand-edited run's evaluations without accuracy).
            keep = np.isfinite(y)
            curve.setData(ex[keep], y[keep])

    def _auto_range(self) -> None:
        for plot in (self.loss_plot, self.accuracy_plot, self.speed_plot, self.lr_plot):
            plot.enableAutoRange()

    def _on_x_combo_changed(self, _index: int) -> None:
        for plot in (self.speed_plot, self.lr_plot):
            plot.setLabel("bottom", "step" if self.x_axis() == "steps" else "epoch")
        self.redraw()
        self._auto_range()
        self.x_axis_changed.emit(self.x_axis())
