"""The tune's text with each character's background coloured by one neuron's activation.

The classic char-rnn picture. Painted by hand on a monospace grid rather than built as rich text:
a QTextEdit takes tens of milliseconds to lay out 2,000 coloured spans, and a click must redraw
within a frame. The backgrounds are one small image (a pixel per character cell) drawn scaled
to the grid, and each line's text is one drawText call (characters on dark cells, drawn white,
are a second pass), so a repaint costs a few dozen calls however long the tune. The grid also
makes hit-testing exact: drag to select a span (the search input), click a character, hover for
its value. A newline gets its own cell (a return sign) at the end of its line because its state
is as real as any other character's.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from workbench.neurons.export import coloured_text_html, diverging_rgb, text_colour_for

MARGIN = 4
_NEWLINE_MARK = "\u21b5"
_SELECTION = QColor(255, 200, 0)


class NeuronTextView(QWidget):
    """Put it in a QScrollArea (it sizes itself to the text)."""

    char_clicked = Signal(int)  # position
    char_hovered = Signal(int)  # position, -1 off the text
    span_selected = Signal(int, int)  # [start, end), after a drag

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.text = ""
        self.values = np.zeros(0, dtype=np.float32)
        self.backgrounds = np.zeros((0, 3), dtype=np.uint8)
        self.title = ""
        self._line = np.zeros(0, dtype=np.int32)
        self._col = np.zeros(0, dtype=np.int32)
        self._grid: dict[tuple[int, int], int] = {}
        self._cells = QImage()  # (lines x columns) background colours, one pixel a cell
        self._cells_buffer = np.zeros((1, 1), dtype=np.uint32)  # the pixels QImage points at
        self._dark_lines: list[str] = []  # each line, characters on light cells only
        self._light_chars: list[int] = []  # positions drawn white (on dark cells)
        self._white_text = np.zeros(0, dtype=bool)
        self._marked: int | None = None
        self._selection: tuple[int, int] | None = None
        self._drag_from: int | None = None
        self._update_metrics()

    # -- data ---------------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        self.text = text
        lines = np.zeros(len(text), dtype=np.int32)
        cols = np.zeros(len(text), dtype=np.int32)
        line = col = 0
        for i, ch in enumerate(text):
            lines[i], cols[i] = line, col
            if ch == "\n":
                line, col = line + 1, 0
            else:
                col += 1
        self._line, self._col = lines, cols
        self._grid = {
            (int(ln), int(c)): i for i, (ln, c) in enumerate(zip(lines, cols, strict=True))
        }
        self._selection = None
        self._marked = None
        self.set_values(np.zeros(len(text), dtype=np.float32))
        self._update_metrics()

    def set_values(self, values: np.ndarray, title: str = "", limit: float | None = None) -> None:
        """One value per character; colours scale to ±max|value| unless `limit` is given."""
        if len(values) != len(self.text):
            raise ValueError(f"{len(values)} values for {len(self.text)} characters")
        self.values = np.asarray(values, dtype=np.float32)
        self.title = title
        self.backgrounds = diverging_rgb(self.values.astype(np.float64), limit)
        self._white_text = text_colour_for(self.backgrounds)
        rows = int(self._line[-1]) + 1 if len(self.text) else 1
        cols = int(self._col.max()) + 1 if len(self.text) else 1
        base = self.palette().base().color().rgb()
        cells = np.full((rows, cols), base, dtype=np.uint32)
        rgb = self.backgrounds.astype(np.uint32)
        cells[self._line, self._col] = 0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        self._cells_buffer = cells
        self._cells = QImage(cells.data, cols, rows, cols * 4, QImage.Format.Format_RGB32)
        light = np.flatnonzero(self._white_text).tolist()
        self._light_chars = light
        dark = list(self.text.replace("\n", _NEWLINE_MARK))
        for i in light:
            dark[i] = " "
        starts = np.flatnonzero(self._col == 0).tolist()
        ends = [*starts[1:], len(self.text)]
        self._dark_lines = ["".join(dark[a:b]) for a, b in zip(starts, ends, strict=True)]
        self.update()

    def mark(self, position: int | None) -> None:
        """Outline one character (the selected column of the heatmap)."""
        self._marked = position
        self.update()

    def selection(self) -> tuple[int, int] | None:
        return self._selection

    def set_selection(self, start: int, end: int) -> None:
        start, end = max(0, start), min(len(self.text), end)
        self._selection = (start, end) if end > start else None
        self.update()

    def to_html(self) -> str:
        return coloured_text_html(self.text, self.values, self.title)

    # -- geometry -----------------------------------------------------------------------------

    def _update_metrics(self) -> None:
        fm = self.fontMetrics()
        self._cw = max(1, fm.horizontalAdvance("M"))
        self._lh = fm.height() + 2
        self._ascent = fm.ascent() + 1
        self.updateGeometry()
        self.resize(self.sizeHint())

    def sizeHint(self) -> QSize:
        lines = int(self._line[-1]) + 1 if len(self.text) else 1
        cols = int(self._col.max()) + 2 if len(self.text) else 20
        return QSize(2 * MARGIN + cols * self._cw, 2 * MARGIN + lines * self._lh)

    def cell_rect(self, position: int) -> QRect:
        x = MARGIN + int(self._col[position]) * self._cw
        y = MARGIN + int(self._line[position]) * self._lh
        return QRect(x, y, self._cw, self._lh)

    def position_at(self, point: QPoint) -> int:
        """The character under `point`, or -1."""
        col = (point.x() - MARGIN) // self._cw
        line = (point.y() - MARGIN) // self._lh
        if point.x() < MARGIN or point.y() < MARGIN:
            return -1
        return self._grid.get((line, col), -1)

    # -- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().base())
        if not self.text:
            return
        painter.setFont(self.font())
        rows, cols = self._cells.height(), self._cells.width()
        painter.drawImage(QRect(MARGIN, MARGIN, cols * self._cw, rows * self._lh), self._cells)
        top = max(0, (event.rect().top() - MARGIN) // self._lh)
        bottom = min(len(self._dark_lines) - 1, (event.rect().bottom() - MARGIN) // self._lh)
        painter.setPen(QColor(0, 0, 0))
        for line in range(top, bottom + 1):
            y = MARGIN + line * self._lh + self._ascent
            painter.drawText(MARGIN, y, self._dark_lines[line])
        painter.setPen(QColor(255, 255, 255))
        for i in self._light_chars:
            if top <= self._line[i] <= bottom:
                rect = self.cell_rect(i)
                shown = _NEWLINE_MARK if self.text[i] == "\n" else self.text[i]
                painter.drawText(rect.x(), rect.y() + self._ascent, shown)
        if self._selection is not None:
            for i in range(*self._selection):
                rect = self.cell_rect(i)
                painter.fillRect(rect.adjusted(0, rect.height() - 3, 0, 0), _SELECTION)
        if self._marked is not None and 0 <= self._marked < len(self.text):
            painter.setPen(QColor(0, 0, 0))
            painter.drawRect(self.cell_rect(self._marked).adjusted(0, 0, -1, -1))

    # -- mouse --------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = self.position_at(event.position().toPoint())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self.position_at(event.position().toPoint())
        self.char_hovered.emit(pos)
        if (
            self._drag_from is not None
            and self._drag_from >= 0
            and pos >= 0
            and pos != self._drag_from
        ):
            lo, hi = sorted((self._drag_from, pos))
            self.set_selection(lo, hi + 1)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._drag_from is None:
            return
        start, self._drag_from = self._drag_from, None
        pos = self.position_at(event.position().toPoint())
        if start < 0 or pos < 0:
            return
        if pos == start:
            self._selection = None
            self.update()
            self.char_clicked.emit(pos)
        else:
            lo, hi = sorted((start, pos))
            self.set_selection(lo, hi + 1)
            self.span_selected.emit(lo, hi + 1)

    def leaveEvent(self, event) -> None:
        self.char_hovered.emit(-1)
        super().leaveEvent(event)
