"""The neurons x tokens heatmap: a pyqtgraph ImageItem with a diverging colour bar.

Tokens (characters, or an event model's events) run along x (their labels, one per column, mark
the axis once zoomed in far enough to read them: fewer columns for longer labels), neurons
along y in the display order the pane chooses, row 0 at the top. pyqtgraph's ImageItem takes
the first array axis as x, so the image is the (T, units) matrix as captured, columns permuted
into display order. Hover and click report (token, row) cells; a crosshair marks the selected
cell. Zoom and pan are pyqtgraph's own (wheel, drag; right-click menu resets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QWidget

from workbench.neurons.export import NEGATIVE, POSITIVE, ZERO, symmetric_limit
from workbench.neurons.reading import shown_char

__all__ = ["HeatmapView", "diverging_colormap", "shown_char"]

# Ticks become labels once this few one-letter columns (fewer for longer labels) or rows are
# in view.
MAX_LABELLED_CHARS = 120
MAX_LABELLED_ROWS = 60


def diverging_colormap() -> pg.ColorMap:
    """Blue - white - red, the same scale as the coloured text and its HTML export."""
    return pg.ColorMap(pos=[0.0, 0.5, 1.0], color=[NEGATIVE, ZERO, POSITIVE])


class _CharAxis(pg.AxisItem):
    """Bottom axis: each column's label when zoomed in, positions otherwise."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.labels: Sequence[str] = []
        self.max_labelled = MAX_LABELLED_CHARS

    def set_labels(self, labels: Sequence[str]) -> None:
        self.labels = labels
        mean = sum(map(len, labels)) / len(labels) if len(labels) else 1.0
        # Room for the labels side by side: "C4 ♩" needs about four times a letter's width.
        self.max_labelled = max(8, int(MAX_LABELLED_CHARS / max(1.0, math.ceil(mean))))
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):
        if len(self.labels) and 0 < maxVal - minVal <= self.max_labelled:
            first, last = max(0, math.floor(minVal)), min(len(self.labels), math.ceil(maxVal))
            return [(1.0, [i + 0.5 for i in range(first, last)])]
        # A numbered level one column apart would be taken for labels (tickStrings): drop it;
        # it appears only just beyond the labelled width, where coarser ticks suffice.
        return [lv for lv in super().tickValues(minVal, maxVal, size) if lv[0] != 1.0]

    def tickStrings(self, values, scale, spacing):
        if spacing == 1.0 and len(self.labels):
            n = len(self.labels)
            return [self.labels[int(v)] if 0 <= int(v) < n else "" for v in values]
        return super().tickStrings(values, scale, spacing)


class _UnitAxis(pg.AxisItem):
    """Left axis: the unit shown on each row (rows are sorted), labelled when zoomed in."""

    def __init__(self) -> None:
        super().__init__("left")
        self.units = np.zeros(0, dtype=int)

    def tickValues(self, minVal, maxVal, size):
        if len(self.units) and 0 < maxVal - minVal <= MAX_LABELLED_ROWS:
            first, last = max(0, math.floor(minVal)), min(len(self.units), math.ceil(maxVal))
            return [(1.0, [i + 0.5 for i in range(first, last)])]
        return []

    def tickStrings(self, values, scale, spacing):
        return [str(self.units[int(v)]) if 0 <= int(v) < len(self.units) else "" for v in values]


class HeatmapView(pg.GraphicsLayoutWidget):
    """Shows a (T, units) matrix; emits the cell under the mouse and the cell clicked."""

    hovered = Signal(int, int)  # token position, display row; (-1, -1) off the image
    clicked = Signal(int, int)  # token position, display row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.char_axis = _CharAxis()
        self.unit_axis = _UnitAxis()
        self.plot = self.addPlot(axisItems={"bottom": self.char_axis, "left": self.unit_axis})
        self.plot.setLabel("bottom", "character")
        self.plot.setLabel("left", "neuron")
        self.plot.invertY(True)
        self.plot.setMenuEnabled(True)
        self.plot.hideButtons()
        # autoDownsample: with 2,000 characters in ~1,000 pixels, each repaint would scale the
        # full image; a mean-downsampled copy at screen resolution draws ~3x faster (measured
        # 10 -> 4 ms a full repaint) and, unlike nearest-pixel scaling, drops no column.
        self.image = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(-1.0, 1.0), colorMap=diverging_colormap(), interactive=False, width=15
        )
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        pen = pg.mkPen((20, 20, 20), width=1)
        self.col_line = pg.InfiniteLine(angle=90, pen=pen, movable=False)
        self.row_line = pg.InfiniteLine(angle=0, pen=pen, movable=False)
        for line in (self.col_line, self.row_line):
            line.setVisible(False)
            line.setZValue(10)
            self.plot.addItem(line, ignoreBounds=True)
        self.matrix = np.zeros((0, 0), dtype=np.float32)  # (T, rows) as displayed
        self.labels: Sequence[str] = []
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

    # -- data ---------------------------------------------------------------------------------

    def set_data(
        self,
        matrix: np.ndarray,
        labels: Sequence[str],
        units: np.ndarray,
        keep_view: bool = False,
        noun: str = "character",
    ) -> None:
        """`matrix` (T, rows) already in display order; `labels[t]` names column t (a shown
        character or an event's label, `noun` says which); `units[r]` the unit on row r."""
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if labels is not self.labels:
            self.labels = labels
            self.char_axis.set_labels(labels)
            self.plot.setLabel("bottom", noun)
        self.unit_axis.units = np.asarray(units)
        limit = symmetric_limit(self.matrix) if self.matrix.size else 1.0
        self.image.setImage(self.matrix, levels=(-limit, limit), autoLevels=False)
        self.colorbar.setLevels((-limit, limit))
        if not keep_view:
            self.plot.setRange(
                xRange=(0, max(1, self.matrix.shape[0])),
                yRange=(0, max(1, self.matrix.shape[1])),
                padding=0,
            )
        self.unit_axis.picture = None
        self.unit_axis.update()

    def set_cursor(self, col: int | None, row: int | None) -> None:
        """Mark the selected character column and neuron row (None hides a line)."""
        self.col_line.setVisible(col is not None)
        self.row_line.setVisible(row is not None)
        if col is not None:
            self.col_line.setValue(col + 0.5)
        if row is not None:
            self.row_line.setValue(row + 0.5)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if not self.matrix.size or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        col, row = math.floor(p.x()), math.floor(p.y())
        if 0 <= col < self.matrix.shape[0] and 0 <= row < self.matrix.shape[1]:
            return col, row
        return None

    def scene_pos_of(self, col: int, row: int) -> QPointF:
        """The scene point at the centre of a cell (for tests and tools that drive the view)."""
        return self.plot.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))

    def show_range(self, first_char: int, last_char: int) -> None:
        """Zoom the token axis to [first_char, last_char)."""
        self.plot.setXRange(first_char, last_char, padding=0)

    # -- mouse --------------------------------------------------------------------------------

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        self.hovered.emit(*(cell if cell is not None else (-1, -1)))

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.clicked.emit(*cell)
