"""Small pyqtgraph charts for counts: labelled bars and a histogram.

Both keep the numbers they draw (``labels``/``heights``, ``edges``/``counts``) so code and tests
can read what is shown without looking at pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

_BAR_BRUSH = (70, 130, 180, 200)  # steel blue, a little transparent over the grid

#: Most bins a histogram gets: more would be thinner than a pixel in a dock.
MAX_HISTOGRAM_BINS = 60


def _quiet_plot(plot: pg.PlotWidget, x_label: str, y_label: str) -> None:
    """A static chart: no mouse zoom/pan and no context menu to get lost in."""
    plot.setBackground("w")
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.showGrid(x=False, y=True, alpha=0.3)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)


class BarChartWidget(pg.PlotWidget):
    """Vertical bars, one per label, with the labels as ticks under them."""

    def __init__(
        self, x_label: str = "", y_label: str = "tunes", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        _quiet_plot(self, x_label, y_label)
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=_BAR_BRUSH)
        self.addItem(self._bars)
        self.labels: list[str] = []
        self.heights = np.zeros(0, dtype=np.int64)

    def set_counts(self, items: Sequence[tuple[str, int]]) -> None:
        """Show ``(label, count)`` pairs as bars, left to right; an empty sequence clears."""
        self.labels = [label for label, _ in items]
        self.heights = np.array([count for _, count in items], dtype=np.int64)
        x = np.arange(len(items))
        self._bars.setOpts(x=x, height=self.heights, width=0.8)
        self.getAxis("bottom").setTicks([list(enumerate(self.labels))])
        if len(items):
            self.setXRange(-0.6, len(items) - 0.4, padding=0)
            self.setYRange(0, max(1, int(self.heights.max())) * 1.05, padding=0)


class HistogramWidget(pg.PlotWidget):
    """A histogram of values drawn as a filled step curve."""

    def __init__(
        self, x_label: str = "", y_label: str = "tunes", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        _quiet_plot(self, x_label, y_label)
        self._curve = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=_BAR_BRUSH, pen="k")
        self.addItem(self._curve)
        self.edges = np.zeros(0)
        self.counts = np.zeros(0, dtype=np.int64)

    def set_values(self, values: np.ndarray) -> None:
        """Bin ``values`` (numpy's automatic bin width, at most MAX_HISTOGRAM_BINS bins)."""
        values = np.asarray(values)
        if values.size == 0:
            self.edges, self.counts = np.zeros(0), np.zeros(0, dtype=np.int64)
            self._curve.setData([], [])
            return
        edges = np.histogram_bin_edges(values, bins="auto")
        if len(edges) - 1 > MAX_HISTOGRAM_BINS:
            edges = np.histogram_bin_edges(values, bins=MAX_HISTOGRAM_BINS)
        counts, edges = np.histogram(values, bins=edges)
        self.edges, self.counts = edges, counts.astype(np.int64)
        self._curve.setData(edges, self.counts, stepMode="center", fillLevel=0)
