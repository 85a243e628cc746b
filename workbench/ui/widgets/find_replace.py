"""A find/replace bar for a QPlainTextEdit (Ctrl+F / Ctrl+H in the editor pane).

Find next/previous wrap around the document; "Replace" replaces the current match and moves to
the next; "Replace all" is one edit block, so a single undo takes it all back. Searches are
plain text (ABC is full of regex metacharacters: ``|``, ``[``, ``(``, ``^``), optionally
case-sensitive.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QWidget,
)


class FindReplaceBar(QWidget):
    """Searches ``editor``'s document; hidden until :meth:`show_find` or :meth:`show_replace`."""

    closed = Signal()

    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindReplaceBar")
        self._editor = editor
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Find")
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit = QLineEdit()
        self.replace_edit.setPlaceholderText("Replace with")
        self.case_check = QCheckBox("Match case")
        self.next_button = QPushButton("Next")
        self.previous_button = QPushButton("Previous")
        self.replace_button = QPushButton("Replace")
        self.replace_all_button = QPushButton("Replace all")
        self.status_label = QLabel()
        close_button = QToolButton()
        close_button.setText("✕")
        close_button.setToolTip("Close (Esc)")
        close_button.setAutoRaise(True)

        layout = QGridLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.find_edit, 0, 0)
        layout.addWidget(self.previous_button, 0, 1)
        layout.addWidget(self.next_button, 0, 2)
        layout.addWidget(self.case_check, 0, 3)
        layout.addWidget(self.status_label, 0, 4)
        layout.addWidget(close_button, 0, 5)
        layout.addWidget(self.replace_edit, 1, 0)
        layout.addWidget(self.replace_button, 1, 1)
        layout.addWidget(self.replace_all_button, 1, 2)
        layout.setColumnStretch(0, 1)

        self.find_edit.returnPressed.connect(self.find_next)
        self.find_edit.textChanged.connect(self._on_find_text_changed)
        self.replace_edit.returnPressed.connect(self.replace)
        self.next_button.clicked.connect(self.find_next)
        self.previous_button.clicked.connect(self.find_previous)
        self.replace_button.clicked.connect(self.replace)
        self.replace_all_button.clicked.connect(self.replace_all)
        close_button.clicked.connect(self.close_bar)
        self._set_replace_visible(False)
        self.hide()

    # -- showing -----------------------------------------------------------------------------

    def show_find(self) -> None:
        self._open(replace=False)

    def show_replace(self) -> None:
        self._open(replace=True)

    def _open(self, replace: bool) -> None:
        selected = self._editor.textCursor().selectedText()
        # A one-line selection is what the user wants to find; a multi-line one is not.
        if selected and "\u2029" not in selected:
            self.find_edit.setText(selected)
        self._set_replace_visible(replace)
        self.show()
        self.find_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.find_edit.selectAll()

    def _set_replace_visible(self, visible: bool) -> None:
        for widget in (self.replace_edit, self.replace_button, self.replace_all_button):
            widget.setVisible(visible)

    def close_bar(self) -> None:
        self.hide()
        self._editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        super().keyPressEvent(event)

    # -- searching ---------------------------------------------------------------------------

    def _flags(self, backward: bool = False) -> QTextDocument.FindFlag:
        flags = QTextDocument.FindFlag(0)
        if self.case_check.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        return flags

    def _find(self, backward: bool) -> bool:
        needle = self.find_edit.text()
        if not needle:
            self.status_label.setText("")
            return False
        document = self._editor.document()
        flags = self._flags(backward)
        found = document.find(needle, self._editor.textCursor(), flags)
        if found.isNull():
            # Wrap around: search again from the other end.
            start = QTextCursor(document)
            if backward:
                start.movePosition(QTextCursor.MoveOperation.End)
            found = document.find(needle, start, flags)
        if found.isNull():
            self.status_label.setText("Not found")
            return False
        self._editor.setTextCursor(found)
        self._editor.ensureCursorVisible()
        self.status_label.setText(f"{self.count_matches()} matches")
        return True

    def find_next(self) -> bool:
        """Select the next match after the cursor (wrapping); False when there is none."""
        return self._find(backward=False)

    def find_previous(self) -> bool:
        """Select the match before the cursor (wrapping); False when there is none."""
        return self._find(backward=True)

    def count_matches(self) -> int:
        needle = self.find_edit.text()
        if not needle:
            return 0
        text = self._editor.toPlainText()
        if not self.case_check.isChecked():
            needle, text = needle.casefold(), text.casefold()
        return text.count(needle)

    def _selection_matches(self) -> bool:
        selected = self._editor.textCursor().selectedText()
        needle = self.find_edit.text()
        if self.case_check.isChecked():
            return selected == needle
        return selected.casefold() == needle.casefold()

    def replace(self) -> bool:
        """Replace the selected match (finding one first if none is selected), then find next."""
        if not self.find_edit.text():
            return False
        if not self._selection_matches() and not self.find_next():
            return False
        cursor = self._editor.textCursor()
        cursor.insertText(self.replace_edit.text())
        self._editor.setTextCursor(cursor)
        self.find_next()
        return True

    def replace_all(self) -> int:
        """Replace every match as one undoable edit; returns how many were replaced."""
        needle = self.find_edit.text()
        if not needle:
            return 0
        document = self._editor.document()
        flags = self._flags()
        replacement = self.replace_edit.text()
        count = 0
        edit = QTextCursor(document)
        edit.beginEditBlock()
        found = document.find(needle, 0, flags)
        while not found.isNull():
            found.insertText(replacement)
            count += 1
            found = document.find(needle, found, flags)
        edit.endEditBlock()
        self.status_label.setText(f"Replaced {count}")
        return count

    def _on_find_text_changed(self, _text: str) -> None:
        self.status_label.setText("")
