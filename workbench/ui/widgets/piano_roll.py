"""A piano roll of the playing tune: a rectangle per note (time × pitch) and a moving playhead.

A dashed marker can stand at a moment of the tune: the generation pane marks where a generated
piece's prompt ends and the model's own music begins.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from workbench.playback.events import Tune


class PianoRollWidget(pg.PlotWidget):
    """Notes as bars (x = seconds, y = MIDI pitch); :meth:`set_position` moves the playhead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumHeight(120)
        self.setMenuEnabled(False)
        self.setLabel("bottom", "time", units="s")
        self.setLabel("left", "pitch (MIDI)")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.notes = pg.BarGraphItem(
            x0=[], y0=[], width=[], height=[], brush=(70, 110, 180), pen=None
        )
        self.current = pg.BarGraphItem(
            x0=[], y0=[], width=[], height=[], brush=(230, 120, 30), pen=None
        )
        self.addItem(self.notes)
        self.addItem(self.current)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen((200, 30, 30), width=2))
        self.addItem(self.playhead)
        self.marker = pg.InfiniteLine(
            pos=0.0,
            angle=90,
            pen=pg.mkPen((120, 120, 120), width=1, style=Qt.PenStyle.DashLine),
            label="prompt",
            labelOpts={"position": 0.92, "color": (90, 90, 90)},
        )
        self.marker.hide()
        self.addItem(self.marker)
        self._starts = np.zeros(0)
        self._ends = np.zeros(0)
        self._pitches = np.zeros(0)

    def set_tune(self, tune: Tune | None) -> None:
        notes = tune.notes if tune else []
        self._starts = np.array([n.start for n in notes], float)
        self._ends = np.array([n.end for n in notes], float)
        self._pitches = np.array([n.pitch for n in notes], float)
        self.notes.setOpts(
            x0=self._starts, y0=self._pitches - 0.4, width=self._ends - self._starts, height=0.8
        )
        self.current.setOpts(x0=[], y0=[], width=[], height=[])
        if notes:
            self.setXRange(0, max(self._ends.max(), 1.0), padding=0.02)
            self.setYRange(self._pitches.min() - 2, self._pitches.max() + 2, padding=0)
        self.set_position(0.0)

    def set_marker(self, seconds: float | None, label: str = "prompt") -> None:
        """A dashed line at `seconds`, labelled; None removes it."""
        self.marker.setVisible(seconds is not None)
        if seconds is not None:
            self.marker.setValue(seconds)
            self.marker.label.setFormat(label)

    def set_position(self, seconds: float) -> None:
        self.playhead.setValue(seconds)
        on = (self._starts <= seconds) & (seconds < self._ends)
        self.current.setOpts(
            x0=self._starts[on],
            y0=self._pitches[on] - 0.4,
            width=self._ends[on] - self._starts[on],
            height=0.8,
        )

    @property
    def note_count(self) -> int:
        return len(self._starts)
