"""An ABC text editor: line-number gutter, monospace font, problem underlines, follow-along.

:class:`AbcCodeEditor` is a QPlainTextEdit with

* a gutter showing line numbers (the usual Qt "code editor" arrangement: a child widget in the
  left viewport margin, repainted on ``updateRequest``);
* validation problems drawn as wavy underlines (red for errors, orange for warnings) through
  ``extraSelections``, so they never enter the undo stack or the document's formats, with the
  message as the tooltip over the underlined characters;
* a follow-along range (the note sounding now) drawn as a background selection, kept in view
  without moving the user's cursor;
* extra actions appended to the standard context menu;
* ``focused``, emitted when the user turns to it (focus comes in, not back from a popup).

Positions from Python (str indices) are converted to Qt's UTF-16 positions here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QFontDatabase,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

ERROR_COLOUR = QColor("#dc2626")
WARNING_COLOUR = QColor("#ea8c00")
# Translucent so the syntax colours of the note stay readable under it on either palette.
PLAYBACK_COLOUR = QColor(255, 200, 0, 110)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Qt's position unit)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class ProblemMark:
    """A problem placed in the document: [start, end) in Qt positions, and its message."""

    start: int
    end: int
    message: str
    severity: str


class _LineNumberArea(QWidget):
    def __init__(self, editor: AbcCodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.line_number_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_line_numbers(event)


class AbcCodeEditor(QPlainTextEdit):
    """The text widget of the editor pane."""

    focused = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AbcCodeEditor")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        self._gutter = _LineNumberArea(self)
        self._problem_marks: list[ProblemMark] = []
        self._playback: tuple[int, int] | None = None
        self.context_actions: list[QAction] = []
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        # The current line's number is bold: repaint the gutter when the cursor changes line.
        self.cursorPositionChanged.connect(self._gutter.update)
        self._update_gutter_width()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if event.reason() != Qt.FocusReason.PopupFocusReason:
            self.focused.emit()

    # -- line numbers ------------------------------------------------------------------------

    def line_number_width(self) -> int:
        digits = max(2, len(str(max(1, self.blockCount()))))
        return 10 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_gutter_width(self, _count: int = 0) -> None:
        self.setViewportMargins(self.line_number_width(), 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._update_gutter_width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QRect(cr.left(), cr.top(), self.line_number_width(), cr.height()))

    def paint_line_numbers(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        current = self.textCursor().blockNumber()
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        width = self._gutter.width() - 5
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                font = painter.font()
                font.setBold(number == current)
                painter.setFont(font)
                painter.drawText(
                    0, top, width, height, Qt.AlignmentFlag.AlignRight, str(number + 1)
                )
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    # -- positions ---------------------------------------------------------------------------

    def position_of(self, line: int, column: int) -> int:
        """Qt position of 1-based ``line`` and 0-based str ``column`` (clamped to the text)."""
        document = self.document()
        block = document.findBlockByNumber(max(0, min(line - 1, document.blockCount() - 1)))
        text = block.text()
        column = max(0, min(column, len(text)))
        return block.position() + utf16_len(text[:column])

    def go_to(self, line: int, column: int = 0) -> None:
        """Put the cursor at ``line``/``column``, scroll it into view and focus the editor."""
        cursor = self.textCursor()
        cursor.setPosition(self.position_of(line, column))
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- problems ----------------------------------------------------------------------------

    def set_problems(self, problems: Sequence[object]) -> None:
        """Underline ``problems`` (objects with line, column, end_column, message, severity)."""
        marks = []
        document = self.document()
        for problem in problems:
            line = int(problem.line)  # type: ignore[attr-defined]
            column = int(problem.column)  # type: ignore[attr-defined]
            end_column = int(problem.end_column)  # type: ignore[attr-defined]
            block = document.findBlockByNumber(max(0, min(line - 1, document.blockCount() - 1)))
            text = block.text()
            length = len(text)
            if length == 0:
                # Nothing to underline on an empty line: mark its end (the line break).
                start = end = block.position()
                end = start + 1 if block.next().isValid() else start
            else:
                # A problem at or past the end of the line ("missing ]") marks its last character.
                column = max(0, min(column, length - 1))
                end_column = max(column + 1, min(end_column, length))
                start = block.position() + utf16_len(text[:column])
                end = block.position() + utf16_len(text[:end_column])
            marks.append(
                ProblemMark(start, end, str(problem.message), str(problem.severity))  # type: ignore[attr-defined]
            )
        self._problem_marks = marks
        self._refresh_selections()

    def problem_marks(self) -> list[ProblemMark]:
        return list(self._problem_marks)

    def problems_at(self, position: int) -> list[ProblemMark]:
        """The problems whose underline covers Qt position ``position``."""
        return [m for m in self._problem_marks if m.start <= position < max(m.end, m.start + 1)]

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            position = self.cursorForPosition(event.pos()).position()
            # cursorForPosition rounds to the nearest gap; the character under the mouse is the
            # one starting there or the one just before.
            marks = self.problems_at(position) or self.problems_at(position - 1)
            if marks:
                QToolTip.showText(event.globalPos(), "\n".join(m.message for m in marks), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    # -- follow-along ------------------------------------------------------------------------

    def set_playback_range(self, span: tuple[int, int] | None) -> None:
        """Highlight Qt positions [start, end) as the note playing now; None clears it."""
        self._playback = span
        self._refresh_selections()
        if span is not None:
            self._ensure_visible(span[0])

    def playback_range(self) -> tuple[int, int] | None:
        return self._playback

    def _ensure_visible(self, position: int) -> None:
        # Scroll without moving the user's cursor (which would change their selection).
        cursor = QTextCursor(self.document())
        cursor.setPosition(min(position, self.document().characterCount() - 1))
        rect = self.cursorRect(cursor)
        viewport = self.viewport().rect()
        if viewport.contains(rect):
            return
        # The vertical scroll bar counts layout lines (blocks, with wrapping off).
        line = cursor.block().firstLineNumber()
        visible_lines = max(1, viewport.height() // max(1, self.fontMetrics().height()))
        self.verticalScrollBar().setValue(max(0, line - visible_lines // 2))
        if rect.left() < 0 or rect.right() > viewport.width():
            bar = self.horizontalScrollBar()
            bar.setValue(max(0, bar.value() + rect.center().x() - viewport.width() // 2))

    # -- selections --------------------------------------------------------------------------

    def _refresh_selections(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        if self._playback is not None:
            start, end = self._playback
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            limit = self.document().characterCount() - 1
            cursor.setPosition(max(0, min(start, limit)))
            cursor.setPosition(max(0, min(end, limit)), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setBackground(PLAYBACK_COLOUR)
            fmt.setProperty(QTextFormat.Property.UserProperty, "playback")
            selection.format = fmt
            selections.append(selection)
        limit = self.document().characterCount() - 1
        for mark in self._problem_marks:
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            cursor.setPosition(min(mark.start, limit))
            cursor.setPosition(min(mark.end, limit), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(ERROR_COLOUR if mark.severity == "error" else WARNING_COLOUR)
            fmt.setToolTip(mark.message)
            fmt.setProperty(QTextFormat.Property.UserProperty, "problem")
            selection.format = fmt
            selections.append(selection)
        self.setExtraSelections(selections)

    # -- context menu ------------------------------------------------------------------------

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu(event.pos())
        if self.context_actions:
            menu.addSeparator()
            for action in self.context_actions:
                menu.addAction(action)
        menu.exec(event.globalPos())
        menu.deleteLater()
