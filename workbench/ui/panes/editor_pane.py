"""The ABC editor pane: highlighted text, live validation, the engraved score, files, and actions.

:class:`EditorPane` holds an :class:`~workbench.ui.widgets.abc_code_editor.AbcCodeEditor` (line
numbers, problem underlines, follow-along highlight) coloured by an
:class:`~workbench.ui.widgets.abc_highlighter.AbcHighlighter`, a find/replace bar, the list of
problems, and a :class:`~workbench.ui.widgets.score_view.ScoreView` of the tune under the cursor.

A document may hold several tunes (a tunebook); "the tune" is the one under the cursor (a tune
runs from its ``X:`` line to a blank line or the next ``X:``). It is what gets engraved, played,
inspected and published as ``session.editor_tune``. Validation runs on every tune of the
document on a worker thread 250 ms after typing stops; only the newest answer is shown.

Session wiring: ``prompt_changed`` loads its text as a new, unsaved (and undoable) document;
``editor_tune`` and ``editor_selection`` follow the editor; Play and Inspect call
``request_play`` / ``request_inspect``; ``playback_highlight`` marks the note being played.
Clicking into the text calls ``choose_editor_tune``: Playback's Play then plays its tune.

Export… writes the tune under the cursor as MIDI, MusicXML or ABC through a save dialog that
proposes its title as the file name (``workbench.ui.export_dialogs``), on a worker thread.
The document (text, file, cursor) is kept in QSettings when the pane shuts down and comes back
in the next session, unsaved changes included, unless the user chose to discard them on
closing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.atomic_files import write_bytes_atomically, write_text_atomically
from workbench.corpus import Tune, split_abc
from workbench.corpus.text import UnreadableFile, read_text
from workbench.session import NoteHighlight, PlayRequest, Session
from workbench.ui.export_dialogs import ask_save_path, file_stem, last_folder
from workbench.ui.lifetimes import connect_session
from workbench.ui.settings_values import read_int
from workbench.ui.widgets.abc_code_editor import AbcCodeEditor, utf16_len
from workbench.ui.widgets.abc_highlighter import AbcHighlighter
from workbench.ui.widgets.find_replace import FindReplaceBar
from workbench.ui.widgets.score_view import ScoreView
from workbench.ui.workers.generation_worker import TaskRunner
from workbench.ui.workers.notation_worker import ValidationWorker

VALIDATE_DEBOUNCE_MS = 250
TUNE_DEBOUNCE_MS = 250
MAX_RECENT = 10
RECENT_KEY = "editor/recent_files"
FILE_FILTER = "ABC files (*.abc);;Text files (*.txt);;All files (*)"
EXPORT_FILTERS = ("MIDI file (*.mid)", "MusicXML file (*.musicxml)", "ABC file (*.abc)")
#: The document kept across sessions (QSettings group).
DOCUMENT_KEY = "editor/document"
#: Above this many tunes only the tune under the cursor is validated as you type.
MAX_VALIDATED_TUNES = 100
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
#: Returned by :func:`choose_tune` when the user wants the whole file, not one tune.
WHOLE_FILE = -1


def tune_spans(text: str) -> list[tuple[int, int]]:
    """The ``[start, end)`` str spans of the tunes in ``text``.

    With ``X:`` lines, a tune runs from an ``X:`` line to the line before the next blank line or
    ``X:`` line (free text between tunes belongs to none). Without any, the whole text (less
    surrounding blank lines) is one tune, so a half-typed tune without ``X:`` is still one.
    The span leaves out the tune's final line break.
    """
    lines = text.split("\n")
    spans: list[tuple[int, int]] = []
    if any(line.startswith("X:") for line in lines):
        offset = 0
        start: int | None = None
        end = 0
        for line in lines:
            if line.startswith("X:"):
                if start is not None:
                    spans.append((start, end))
                start = offset
            elif start is not None and not line.strip():
                spans.append((start, end))
                start = None
            end = offset + len(line)
            offset += len(line) + 1
        if start is not None:
            spans.append((start, end))
        return spans
    stripped = text.strip("\n ")
    if not stripped:
        return []
    start = text.index(stripped[0])
    start = text.rfind("\n", 0, start) + 1  # keep the first line's leading spaces
    return [(start, len(text.rstrip("\n ")))]


def _write_export(tune: str, path: Path) -> Path:
    """Write one tune as the file ``path`` asks for by its suffix (worker thread: music21)."""
    from workbench.notation.convert import write_midi, write_musicxml

    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi"):
        return write_midi(tune, path)
    if suffix in (".musicxml", ".xml"):
        return write_musicxml(tune, path)
    return write_bytes_atomically(path, (tune.strip("\n") + "\n").encode("utf-8"))


def _recent_name(path: Path) -> str:
    """How the recent-files list names `path`: resolved, or absolute when it cannot be (a
    symbolic link that loops makes resolve() raise)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def tune_title(tune: str) -> str:
    """The first ``T:`` field of ``tune``, or "Untitled tune"."""
    for line in tune.split("\n"):
        if line.startswith("T:") and line[2:].strip():
            return line[2:].strip()
    return "Untitled tune"


class TunePickerDialog(QDialog):
    """Lists the tunes of a tunebook (``X:`` and ``T:``) to open one, or the whole file."""

    def __init__(self, file_name: str, tunes: list[Tune], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open a tune from {file_name}")
        self.choice: int | None = None
        self.list = QListWidget()
        for tune in tunes:
            self.list.addItem(f"X:{tune.reference or '?'}  {tune.title or '(untitled)'}")
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._choose(self.list.currentRow()))
        buttons = QDialogButtonBox()
        open_button = buttons.addButton("Open tune", QDialogButtonBox.ButtonRole.AcceptRole)
        whole_button = QPushButton("Open whole file")
        buttons.addButton(whole_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        open_button.clicked.connect(lambda: self._choose(self.list.currentRow()))
        whole_button.clicked.connect(lambda: self._choose(WHOLE_FILE))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{file_name} holds {len(tunes)} tunes."))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def _choose(self, index: int) -> None:
        self.choice = index
        self.accept()


def choose_tune(parent: QWidget, file_name: str, tunes: list[Tune]) -> int | None:
    """Ask which tune to open: its index, :data:`WHOLE_FILE`, or None when cancelled."""
    dialog = TunePickerDialog(file_name, tunes, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.choice
    finally:
        dialog.deleteLater()


class _ShortcutFilter(QObject):
    """Lets the pane's shortcuts win over the main window's while the editor has focus.

    The window has its own Ctrl+O (open tunes for the dataset); two active shortcuts on one key
    are ambiguous and neither fires. Accepting ShortcutOverride makes Qt deliver the key to
    the focused widget, where this filter triggers the pane's action.
    """

    def __init__(self, actions: list[QAction], parent: QObject) -> None:
        super().__init__(parent)
        self._actions = actions

    def _action_for(self, event: QKeyEvent) -> QAction | None:
        pressed = QKeySequence(event.keyCombination())
        for action in self._actions:
            if action.isEnabled() and any(
                shortcut.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch
                for shortcut in action.shortcuts()
            ):
                return action
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if self._action_for(event) is not None:
                event.accept()
                return True
        elif event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            action = self._action_for(event)
            if action is not None:
                action.trigger()
                return True
        return False


class EditorPane(QWidget):
    """Edits ABC text, shows its problems and its score, and talks to the session.

    ``title_changed(str)`` carries a title for the dock ("name.abc*", "Untitled"). Call
    :meth:`confirm_close` before closing the window (it asks about unsaved changes) and
    :meth:`shutdown` before the application exits (it also runs on ``aboutToQuit``).
    """

    title_changed = Signal(str)
    problems_updated = Signal(object)  # list of AbcProblem for the whole document
    export_finished = Signal(object)  # the Path written
    export_failed = Signal(str)

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("EditorPane")
        self.session = session
        self.settings = settings if settings is not None else QSettings()
        self.path: Path | None = None
        self.origin = ""  # "from tunes.abc" when the document is one tune picked from a file
        self._spans: list[tuple[int, int]] = []
        self._text = ""
        self._astral = False  # whether the text has characters beyond U+FFFF
        self._tune_index = -1
        self._current_tune = ""
        self._problems: list[object] = []
        self._discarded_at_close = False
        self._exporter = TaskRunner(self)

        self.editor = AbcCodeEditor()
        self.highlighter = AbcHighlighter(self.editor.document(), self.editor.palette())
        self.find_bar = FindReplaceBar(self.editor)
        self.score_view = ScoreView()
        self.problem_list = QListWidget()
        self.problem_list.setObjectName("ProblemList")
        self.status_label = QLabel("No tune")
        self.validator = ValidationWorker(self)
        self.validator.finished_job.connect(self._on_validated)
        self.validator.failed_job.connect(self._on_validation_failed)

        self._validate_timer = self._single_shot(VALIDATE_DEBOUNCE_MS, self.validate_now)
        self._tune_timer = self._single_shot(TUNE_DEBOUNCE_MS, self._publish_tune)

        self._build_actions()
        self._build_layout()

        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.cursorPositionChanged.connect(self._on_cursor_moved)
        self.editor.selectionChanged.connect(self._on_selection_changed)
        self.editor.document().modificationChanged.connect(lambda _m: self._emit_title())
        self.problem_list.itemActivated.connect(self._on_problem_activated)
        self.problem_list.itemClicked.connect(self._on_problem_activated)
        # Clicking into the editor makes its tune what the Playback bar's Play plays.
        self.editor.focused.connect(session.choose_editor_tune)

        connect_session(
            self,
            [
                (session.prompt_changed, self._on_session_prompt),
                (session.playback_highlight, self._on_session_highlight),
            ],
        )
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.restore_document()
        self._update_actions()

    def _single_shot(self, interval: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval)
        timer.timeout.connect(slot)
        return timer

    # -- building ----------------------------------------------------------------------------

    def _action(
        self, text: str, slot: Callable[[], object], shortcut=None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            native = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip = f"{tip or text} ({native})"
        action.setToolTip(tip or text)
        return action

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.new_action = self._action("New", self.new_document, keys.New, "New tune")
        self.open_action = self._action("Open…", self.open_dialog, keys.Open, "Open an ABC file")
        self.save_action = self._action("Save", self.save, keys.Save)
        self.save_as_action = self._action("Save as…", self.save_as, keys.SaveAs)
        self.undo_action = self._action("Undo", self.editor.undo, tip="Undo (Ctrl+Z)")
        self.redo_action = self._action("Redo", self.editor.redo, tip="Redo (Ctrl+Shift+Z)")
        self.find_action = self._action("Find", self.find_bar.show_find, "Ctrl+F")
        self.replace_action = self._action("Replace", self.find_bar.show_replace, "Ctrl+H")
        self.play_action = self._action("Play", self.play, "Ctrl+P", "Play the tune")
        self.inspect_action = self._action(
            "Inspect neurons", self.inspect, tip="Run the tune through the model's neuron viewer"
        )
        self.export_action = self._action(
            "Export…", self.export_dialog, tip="Export the tune as MIDI, MusicXML or ABC"
        )
        self.editor.undoAvailable.connect(self.undo_action.setEnabled)
        self.editor.redoAvailable.connect(self.redo_action.setEnabled)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.editor.context_actions = [self.play_action, self.inspect_action, self.export_action]
        self.recent_menu = QMenu("Recent files", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._shortcut_actions = [
            self.new_action,
            self.open_action,
            self.save_action,
            self.save_as_action,
            self.find_action,
            self.replace_action,
            self.play_action,
        ]

    def _build_layout(self) -> None:
        toolbar = QToolBar()
        toolbar.setObjectName("EditorToolbar")
        for action in (self.new_action, self.open_action):
            toolbar.addAction(action)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setToolTip("Open a recent file")
        self.recent_button.setMenu(self.recent_menu)
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        toolbar.addWidget(self.recent_button)
        for action in (self.save_action, self.save_as_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for action in (self.undo_action, self.redo_action, self.find_action, self.replace_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.play_action)
        toolbar.addAction(self.inspect_action)
        toolbar.addAction(self.export_action)
        self.file_label = QLabel()
        toolbar.addSeparator()
        toolbar.addWidget(self.file_label)

        text_side = QWidget()
        text_layout = QVBoxLayout(text_side)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addWidget(self.editor, 1)
        text_layout.addWidget(self.find_bar)
        problems_side = QWidget()
        problems_layout = QVBoxLayout(problems_side)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(self.status_label)
        problems_layout.addWidget(self.problem_list)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(text_side)
        left.addWidget(problems_side)
        left.setStretchFactor(0, 4)
        left.setStretchFactor(1, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.score_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.splitter, 1)

        shortcut_filter = _ShortcutFilter(self._shortcut_actions, self)
        for widget in (
            self.editor,
            self.problem_list,
            self.find_bar.find_edit,
            self.find_bar.replace_edit,
        ):
            widget.installEventFilter(shortcut_filter)
        self._emit_title()

    # -- document ----------------------------------------------------------------------------

    def text(self) -> str:
        return self.editor.toPlainText()

    def current_tune(self) -> str:
        """The tune under the cursor ("" when the document has none)."""
        return self._current_tune

    def is_modified(self) -> bool:
        return self.editor.document().isModified()

    def document_title(self) -> str:
        if self.path is not None:
            name = self.path.name
        elif self.origin:
            name = f"Untitled ({self.origin})"
        else:
            name = "Untitled"
        return name + ("*" if self.is_modified() else "")

    def _emit_title(self) -> None:
        title = self.document_title()
        self.file_label.setText(title)
        self.file_label.setToolTip(str(self.path) if self.path else "")
        self.title_changed.emit(title)

    def set_text(self, text: str, *, undoable: bool = True) -> None:
        """Replace the whole document; undoable (one step) unless ``undoable`` is False."""
        if undoable:
            cursor = self.editor.textCursor()
            cursor.beginEditBlock()
            cursor.select(cursor.SelectionType.Document)
            cursor.insertText(text)
            cursor.endEditBlock()
            cursor.movePosition(cursor.MoveOperation.Start)
            self.editor.setTextCursor(cursor)
        else:
            self.editor.setPlainText(text)
        self.editor.set_playback_range(None)

    def new_document(self) -> bool:
        if not self.confirm_discard():
            return False
        self.editor.setPlainText("")
        self._set_path(None)
        return True

    def _set_path(self, path: Path | None, origin: str = "") -> None:
        self.path = path
        self.origin = origin
        self.editor.document().setModified(False)
        self._emit_title()

    # -- session -----------------------------------------------------------------------------

    def _on_session_prompt(self, text: str) -> None:
        # A tune from elsewhere (a corpus, a generation) becomes a new, unsaved document. The
        # replacement is undoable, so whatever was being edited is one Ctrl+Z away.
        self.set_text(text, undoable=True)
        self.path = None
        self.origin = ""
        self.editor.document().setModified(True)
        self._emit_title()

    def _on_session_highlight(self, highlight: object) -> None:
        if not isinstance(highlight, NoteHighlight):
            self.editor.set_playback_range(None)
            self.score_view.show_playback_note(None)
            return
        self.score_view.show_playback_note(highlight.abc, highlight.start, highlight.end)
        for start, end in self._ordered_spans():
            if self._text[start:end] == highlight.abc:
                prefix = self._text[: start + highlight.start]
                note = self._text[start + highlight.start : start + highlight.end]
                begin = utf16_len(prefix)
                self.editor.set_playback_range((begin, begin + utf16_len(note)))
                return
        self.editor.set_playback_range(None)

    def _ordered_spans(self) -> list[tuple[int, int]]:
        """The tune spans, the one under the cursor first."""
        if 0 <= self._tune_index < len(self._spans):
            current = self._spans[self._tune_index]
            return [current, *(s for s in self._spans if s != current)]
        return list(self._spans)

    def play(self) -> None:
        tune = self._current_tune
        if tune.strip():
            self.session.request_play(PlayRequest(tune_title(tune), abc=tune))

    def inspect(self) -> None:
        tune = self._current_tune
        if tune.strip():
            self.session.request_inspect(tune)

    def _publish_tune(self) -> None:
        self.session.editor_tune = self._current_tune

    def _on_selection_changed(self) -> None:
        # Qt writes line breaks in a selection as U+2029.
        selected = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        self.session.editor_selection = selected

    # -- tracking the tune -------------------------------------------------------------------

    def _on_text_changed(self) -> None:
        self._text = self.editor.toPlainText()
        self._astral = _ASTRAL.search(self._text) is not None
        self._spans = tune_spans(self._text)
        self.editor.set_playback_range(None)
        self._update_current_tune(force=True)
        self._validate_timer.start()

    def _on_cursor_moved(self) -> None:
        self._update_current_tune(force=False)

    def _cursor_str_position(self) -> int:
        position = self.editor.textCursor().position()
        if not self._astral:
            return position
        # Qt positions count UTF-16 units, in which a character beyond U+FFFF counts twice.
        units = 0
        for index, ch in enumerate(self._text):
            if units >= position:
                return index
            units += 2 if ord(ch) > 0xFFFF else 1
        return len(self._text)

    def _tune_index_at(self, position: int) -> int:
        index = -1
        for i, (start, end) in enumerate(self._spans):
            if start <= position <= end:
                return i
            if start <= position:
                index = i  # between tunes: the one above
        return index if index >= 0 else (0 if self._spans else -1)

    def _update_current_tune(self, force: bool) -> None:
        index = self._tune_index_at(self._cursor_str_position())
        if not force and index == self._tune_index:
            return
        self._tune_index = index
        if index < 0:
            tune = ""
        else:
            start, end = self._spans[index]
            tune = self._text[start:end]
        if tune != self._current_tune:
            self._current_tune = tune
            self.score_view.set_abc(tune)
            self._tune_timer.start()
            self._update_actions()

    def _update_actions(self) -> None:
        has_tune = bool(self._current_tune.strip())
        self.play_action.setEnabled(has_tune)
        self.inspect_action.setEnabled(has_tune)
        self.export_action.setEnabled(has_tune)

    # -- validation --------------------------------------------------------------------------

    def validate_now(self) -> None:
        """Validate the document's tunes now (normally 250 ms after typing stops)."""
        self._validate_timer.stop()
        text = self._text
        spans = self._spans
        if len(spans) > MAX_VALIDATED_TUNES and 0 <= self._tune_index < len(spans):
            spans = [spans[self._tune_index]]
        payload = [(text.count("\n", 0, start) + 1, text[start:end]) for start, end in spans]
        if not payload:
            self.validator.cancel()
            self._show_problems([])
            return
        self.validator.submit(payload)

    def problems(self) -> list[object]:
        """The problems on show (AbcProblem, lines counted in the whole document)."""
        return list(self._problems)

    def _on_validated(self, _job: int, problems: object) -> None:
        self._show_problems(list(problems))  # type: ignore[call-overload]

    def _on_validation_failed(self, _job: int, message: str) -> None:
        self.status_label.setText(f"Validation failed: {message}")

    def _show_problems(self, problems: list[object]) -> None:
        self._problems = problems
        self.editor.set_problems(problems)
        self.problem_list.clear()
        for problem in problems:
            line, column = problem.line, problem.column  # type: ignore[attr-defined]
            severity = problem.severity  # type: ignore[attr-defined]
            item = QListWidgetItem(
                f"{line}:{column + 1}  {severity}: {problem.message}"  # type: ignore[attr-defined]
            )
            item.setData(Qt.ItemDataRole.UserRole, (line, column))
            item.setForeground(QColor("#dc2626" if severity == "error" else "#c27400"))
            self.problem_list.addItem(item)
        if not self._spans:
            status = "No tune"
        elif not problems:
            status = "Valid"
        else:
            status = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        self.status_label.setText(status)
        self.problems_updated.emit(problems)

    def _on_problem_activated(self, item: QListWidgetItem) -> None:
        line, column = item.data(Qt.ItemDataRole.UserRole)
        self.editor.go_to(line, column)

    # -- files -------------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Ask about unsaved changes; True when it is fine to replace the document."""
        if not self.is_modified() or not self.text().strip():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.document_title().rstrip('*')}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def confirm_close(self) -> bool:
        """Call from the window's closeEvent: False means the user cancelled."""
        ok = self.confirm_discard()
        # Discarded: the next session opens the document as last saved, not these changes.
        self._discarded_at_close = ok and self.is_modified() and bool(self.text().strip())
        return ok

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        start = str(self.path.parent) if self.path else ""
        name, _filter = QFileDialog.getOpenFileName(self, "Open ABC file", start, FILE_FILTER)
        if name:
            self.open_path(name, confirm=False)

    def open_path(self, path: str | os.PathLike[str], *, confirm: bool = True) -> bool:
        """Open an ABC file; a tunebook asks which tune. False when nothing was opened."""
        if confirm and not self.confirm_discard():
            return False
        path = Path(path)
        try:
            text = read_text(path)
        except UnreadableFile as error:
            QMessageBox.warning(self, "Open ABC file", f"Cannot open {path.name}: {error}.")
            if error.reason == "os-error" and not path.exists():
                self._forget_recent(path)
            return False
        tunes, _problems = split_abc(text, str(path))
        if len(tunes) > 1:
            choice = choose_tune(self, path.name, tunes)
            if choice is None:
                return False
            if choice != WHOLE_FILE:
                tune = tunes[choice]
                self.set_text(tune.text + "\n", undoable=False)
                self._set_path(None, origin=f"from {path.name}")
                self._remember_recent(path)
                return True
        self.set_text(text, undoable=False)
        self._set_path(path)
        self._remember_recent(path)
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self, path: str | os.PathLike[str] | None = None) -> bool:
        if path is None:
            if self.path:
                start = str(self.path)
            else:  # named from the tune's title, in the folder of the last export
                stem = file_stem(tune_title(self._current_tune), "tune")
                start = str(last_folder(self.settings) / f"{stem}.abc")
            name, _filter = QFileDialog.getSaveFileName(self, "Save ABC file", start, FILE_FILTER)
            if not name:
                return False
            path = name if Path(name).suffix else name + ".abc"
        return self._write(Path(path))

    def _write(self, path: Path) -> bool:
        text = self.text()
        if text and not text.endswith("\n"):
            text += "\n"
        try:
            write_text_atomically(path, text)  # a failed save never truncates the file
        except OSError as error:
            QMessageBox.warning(
                self, "Save ABC file", f"Cannot save {path.name}: {error.strerror or error}."
            )
            return False
        self._set_path(path)
        self._remember_recent(path)
        return True

    # -- export ------------------------------------------------------------------------------

    def export_dialog(self) -> Path | None:
        """Ask where to export the tune under the cursor (proposing its title) and export it
        there; the file written is announced by ``export_finished``. None when cancelled."""
        tune = self._current_tune
        if not tune.strip():
            return None
        path, _filter = ask_save_path(
            self,
            self.settings,
            "Export tune",
            tune_title(tune),
            ".mid",
            ";;".join(EXPORT_FILTERS),
            EXPORT_FILTERS[0],
        )
        if path is not None:
            self.export_tune(path)
        return path

    def export_tune(self, path: str | os.PathLike[str], tune: str | None = None) -> None:
        """Write ``tune`` (the one under the cursor) to ``path`` on a worker thread, as MIDI,
        MusicXML or ABC by its suffix."""
        text = self._current_tune if tune is None else tune
        target = Path(path)
        self.status_label.setText(f"Exporting {target.name}…")
        self._exporter.submit(
            lambda: _write_export(text, target), self._on_exported, self._on_export_failed
        )

    def wait_export(self, timeout_ms: int = 60_000) -> bool:
        return self._exporter.wait_idle(timeout_ms)

    def _on_exported(self, path: object) -> None:
        self.status_label.setText(f"Exported {Path(str(path)).name}")
        self.export_finished.emit(path)

    def _on_export_failed(self, message: str) -> None:
        self.status_label.setText(f"Export failed: {message}")
        QMessageBox.warning(self, "Export tune", f"Cannot export the tune: {message}")
        self.export_failed.emit(message)

    # -- the document across sessions --------------------------------------------------------

    def save_document_state(self) -> None:
        """Keep the document in QSettings for the next session (called by :meth:`shutdown`)."""
        s = self.settings
        s.beginGroup(DOCUMENT_KEY)
        discarded = self._discarded_at_close
        s.setValue("path", str(self.path) if self.path else "")
        s.setValue("origin", "" if discarded else self.origin)
        s.setValue("text", "" if discarded else self.text())
        s.setValue("modified", False if discarded else self.is_modified())
        s.setValue("cursor", 0 if discarded else self.editor.textCursor().position())
        s.endGroup()
        s.sync()

    def restore_document(self) -> bool:
        """Reopen the document of the last session; False when there was none.

        A file-backed document without unsaved changes is read from its file (it may have
        changed since); otherwise the text kept is restored, unsaved changes marked as such.
        """
        s = self.settings
        s.beginGroup(DOCUMENT_KEY)
        try:
            path = str(s.value("path", "") or "")
            origin = str(s.value("origin", "") or "")
            text = str(s.value("text", "") or "")
            modified = str(s.value("modified", False)).lower() in ("true", "1")
            cursor = read_int(s, "cursor", 0, 0)
        except (TypeError, ValueError):
            return False
        finally:
            s.endGroup()
        file = Path(path) if path else None
        if file is not None and not modified:
            try:
                text = read_text(file)
            except UnreadableFile:
                file = None  # gone: what was kept of it, as an unsaved document
                modified = bool(text.strip())
        if not text:
            return False
        self.set_text(text, undoable=False)
        self._set_path(file, origin)
        self.editor.document().setModified(modified)
        self._emit_title()
        cursor_at = self.editor.textCursor()
        cursor_at.setPosition(max(0, min(cursor, self.editor.document().characterCount() - 1)))
        self.editor.setTextCursor(cursor_at)
        return True

    # -- recent files ------------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in value or []]

    def _remember_recent(self, path: Path) -> None:
        name = _recent_name(path)
        files = [name, *(f for f in self.recent_files() if f != name)][:MAX_RECENT]
        self.settings.setValue(RECENT_KEY, files)

    def _forget_recent(self, path: Path) -> None:
        name = _recent_name(path)
        self.settings.setValue(RECENT_KEY, [f for f in self.recent_files() if f != name])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
            return
        for name in files:
            action = self.recent_menu.addAction(Path(name).name)
            action.setToolTip(name)
            action.setData(name)
            action.triggered.connect(lambda _checked=False, n=name: self.open_path(n))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list", lambda: self.settings.setValue(RECENT_KEY, []))

    # -- life cycle --------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            # The pane hears of a new palette before its children do: read its own.
            self.highlighter.set_palette(self.palette())
        super().changeEvent(event)

    def shutdown(self) -> None:
        """Keep the document for the next session and stop the validation, export and render
        threads; call before the application exits."""
        self.save_document_state()
        self._exporter.shutdown()
        self._validate_timer.stop()
        self._tune_timer.stop()
        self.validator.shutdown()
        self.score_view.shutdown()
