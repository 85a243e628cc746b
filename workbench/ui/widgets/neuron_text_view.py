"""The tune's text with each character's background coloured by one neuron's activation.

The classic char-rnn picture; for an event model, the piece's events as labels (`C4 ♩ @2½`),
one bar a line, each label's background coloured by its event's activation (`set_tokens`).

Painted by hand on a monospace grid rather than built as rich text: a QTextEdit takes tens of
milliseconds to lay out 2,000 coloured spans, and a click must redraw within a frame. The
backgrounds are one small image (a pixel per character cell) drawn scaled to the grid, and each
line's text is one drawText call (characters on dark cells, drawn white, are a second pass; event
labels are one call each), so a repaint costs a few dozen calls however long the tune. The grid also
makes hit-testing exact: drag to select a span (the search input), click a character, hover for
its value. A newline gets its own cell (a return sign) at the end of its line because its state
is as real as any other character's.

Positions in signals and methods are *units*: characters of the text, or events (then the
grid's characters map to the event whose label they belong to; the spaces and line breaks
between labels belong to none and keep the background colour).
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

    char_clicked = Signal(int)  # position (unit)
    char_hovered = Signal(int)  # position (unit), -1 off the text
    span_selected = Signal(int, int)  # [start, end) units, after a drag

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.text = ""  # what is drawn: the text, or the event labels laid out
        self.values = np.zeros(0, dtype=np.float32)  # one per unit
        self.backgrounds = np.zeros((0, 3), dtype=np.uint8)  # one per drawn character
        self.title = ""
        self.tokens: list[str] | None = None  # the labels, in event mode
        self._owner = np.zeros(0, dtype=np.int64)  # drawn character -> unit (-1: none)
        self._first = np.zeros(0, dtype=np.int64)  # unit -> its first drawn character
        self._last = np.zeros(0, dtype=np.int64)  # unit -> its last drawn character
        self._shown_values = np.zeros(0, dtype=np.float32)  # one per drawn character
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
        """Show `text`, one unit per character."""
        self.tokens = None
        n = len(text)
        self._owner = self._first = self._last = np.arange(n, dtype=np.int64)
        self._layout(text)

    def set_tokens(self, labels: list[str], line_breaks: list[int] | tuple = ()) -> None:
        """Show one unit per label, separated by spaces, a new line before each of
        `line_breaks` (unit indices)."""
        breaks = set(line_breaks)
        parts: list[str] = []
        owner: list[int] = []
        first = np.zeros(len(labels), dtype=np.int64)
        for i, label in enumerate(labels):
            if i:
                parts.append("\n" if i in breaks else " ")
                owner.append(-1)
            first[i] = len(owner)
            parts.append(label)
            owner.extend([i] * len(label))
        self.tokens = list(labels)
        self._owner = np.asarray(owner, dtype=np.int64)
        self._first = first
        self._last = first + np.fromiter(map(len, labels), dtype=np.int64, count=len(labels)) - 1
        self._layout("".join(parts))

    @property
    def units(self) -> int:
        """How many units (characters or events) are shown."""
        return len(self._first)

    def _layout(self, text: str) -> None:
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
        self.set_values(np.zeros(self.units, dtype=np.float32))
        self._update_metrics()

    def set_values(self, values: np.ndarray, title: str = "", limit: float | None = None) -> None:
        """One value per unit; colours scale to ±max|value| unless `limit` is given."""
        if len(values) != self.units:
            noun = "characters" if self.tokens is None else "events"
            raise ValueError(f"{len(values)} values for {self.units} {noun}")
        self.values = np.asarray(values, dtype=np.float32)
        self.title = title
        owned = self._owner >= 0
        shown = np.full(len(self.text), np.nan, dtype=np.float32)
        shown[owned] = self.values[self._owner[owned]]
        self._shown_values = shown
        self.backgrounds = diverging_rgb(shown.astype(np.float64), limit)
        self._white_text = text_colour_for(self.backgrounds) & owned
        rows = int(self._line[-1]) + 1 if len(self.text) else 1
        cols = int(self._col.max()) + 1 if len(self.text) else 1
        base = self.palette().base().color().rgb()
        cells = np.full((rows, cols), base, dtype=np.uint32)
        rgb = self.backgrounds[owned].astype(np.uint32)
        cells[self._line[owned], self._col[owned]] = (
            0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        )
        self._cells_buffer = cells
        self._cells = QImage(cells.data, cols, rows, cols * 4, QImage.Format.Format_RGB32)
        light = np.flatnonzero(self._white_text).tolist()
        self._light_chars = light
        # Event labels are drawn whole (paintEvent); a text's newline shows as a return sign.
        newline = _NEWLINE_MARK if self.tokens is None else " "
        dark = list(self.text.replace("\n", newline))
        for i in light:
            dark[i] = " "
        starts = np.flatnonzero(self._col == 0).tolist()
        ends = [*starts[1:], len(self.text)]
        self._dark_lines = ["".join(dark[a:b]) for a, b in zip(starts, ends, strict=True)]
        self.update()

    def mark(self, position: int | None) -> None:
        """Outline one unit (the selected column of the heatmap)."""
        self._marked = position
        self.update()

    def selection(self) -> tuple[int, int] | None:
        return self._selection

    def set_selection(self, start: int, end: int) -> None:
        start, end = max(0, start), min(self.units, end)
        self._selection = (start, end) if end > start else None
        self.update()

    def to_html(self) -> str:
        """The coloured text (or event labels) as a standalone page."""
        return coloured_text_html(self.text, self._shown_values, self.title)

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
        """The rectangle of a unit: one character's cell, or an event label's cells."""
        first, last = int(self._first[position]), int(self._last[position])
        x = MARGIN + int(self._col[first]) * self._cw
        y = MARGIN + int(self._line[first]) * self._lh
        return QRect(x, y, self._cw * (last - first + 1), self._lh)

    def position_at(self, point: QPoint) -> int:
        """The unit under `point`, or -1."""
        col = (point.x() - MARGIN) // self._cw
        line = (point.y() - MARGIN) // self._lh
        if point.x() < MARGIN or point.y() < MARGIN:
            return -1
        drawn = self._grid.get((line, col), -1)
        return int(self._owner[drawn]) if drawn >= 0 else -1

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
        if self.tokens is None:
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
        else:
            # Each label at its own cells: a note glyph from a fallback font is not as wide
            # as a monospace cell, so a whole line drawn at once would drift off its colours.
            black, white = QColor(0, 0, 0), QColor(255, 255, 255)
            for unit, label in enumerate(self.tokens):
                first = int(self._first[unit])
                if top <= self._line[first] <= bottom:
                    rect = self.cell_rect(unit)
                    painter.setPen(white if self._white_text[first] else black)
                    painter.drawText(rect.x(), rect.y() + self._ascent, label)
        if self._selection is not None:
            for i in range(*self._selection):
                rect = self.cell_rect(i)
                painter.fillRect(rect.adjusted(0, rect.height() - 3, 0, 0), _SELECTION)
        if self._marked is not None and 0 <= self._marked < self.units:
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
