"""The ABC editor pane, driven through its real widgets, threads and session.

Validation runs on the pane's worker thread and the score in verovio's child process, as in the
application; tests wait for their signals. Message boxes and the tune picker are patched so no
dialog blocks.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QHelpEvent,
    QKeySequence,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMessageBox, QToolTip

from workbench.corpus import load
from workbench.notation.abc_lexer import lex_line
from workbench.session import NoteHighlight, PlayRequest, Session
from workbench.ui.panes import editor_pane
from workbench.ui.panes.editor_pane import EditorPane, TunePickerDialog, tune_spans
from workbench.ui.widgets.abc_code_editor import utf16_len
from workbench.ui.widgets.abc_highlighter import KIND_STYLES

TIMEOUT_MS = 15_000
TUNEBOOK = (
    "% a tunebook\n\n"
    "X:1\nT:First Reel\nM:C|\nL:1/8\nK:G\nGABc dedB|dedB dedB|\n\n"
    "X:2\nT:Second Jig\nM:6/8\nL:1/8\nK:Em\nEFG B2e|dBA B2A|\n\n"
    "X:3\nT:Third Air\nM:3/4\nL:1/4\nK:D\nD2 F|A3|]\n"
)


@pytest.fixture(scope="module")
def corpus_tune() -> str:
    """A real tune with fields, bars, repeats, accidentals, tuplets, decorations, broken rhythm."""
    tunes = load(["corpus:ryansMammoth"]).tunes
    return next(t.text for t in tunes if "ACROBAT" in t.title)


@pytest.fixture
def session() -> Session:
    return Session()


@pytest.fixture
def pane(qtbot, session, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    widget = EditorPane(session, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


@pytest.fixture
def boxes(monkeypatch) -> dict[str, list[str]]:
    """Records message boxes instead of showing them; ``question`` answers from a list."""
    shown: dict[str, list[str]] = {"warning": [], "question": []}
    answers: list[QMessageBox.StandardButton] = []

    def warning(_parent, _title, text, *_args):
        shown["warning"].append(text)
        return QMessageBox.StandardButton.Ok

    def question(_parent, _title, text, *_args):
        shown["question"].append(text)
        return answers.pop(0) if answers else QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "warning", warning)
    monkeypatch.setattr(QMessageBox, "question", question)
    shown["answers"] = answers  # type: ignore[assignment]
    return shown


def _type_lines(qtbot, pane: EditorPane, lines: list[str]) -> None:
    for line in lines:
        qtbot.keyClicks(pane.editor, line)
        qtbot.keyClick(pane.editor, Qt.Key.Key_Return)


def _colour_by_char(block) -> list[str | None]:
    colours: list[str | None] = [None] * utf16_len(block.text())  # Qt's positions: UTF-16
    for fmt_range in block.layout().formats():
        colour = fmt_range.format.foreground().color().name()
        for i in range(fmt_range.start, fmt_range.start + fmt_range.length):
            colours[i] = colour
    return colours


def test_highlighter_colours_each_token_of_a_real_tune(qtbot, pane, session, corpus_tune):
    session.prompt = corpus_tune
    assert pane.text() == corpus_tune
    styles = {
        kind: style[0 if not pane.highlighter.dark else 1] for kind, style in KIND_STYLES.items()
    }
    assert len(set(styles.values())) == len(styles)  # every kind has its own colour
    kinds_seen: set[str] = set()
    block = pane.editor.document().firstBlock()
    in_body = False
    while block.isValid():
        line = block.text()
        tokens, in_body = lex_line(line, in_body)
        expected: list[str | None] = [None] * len(line)
        for token in tokens:
            kinds_seen.add(token.kind)
            for i in range(token.start, token.end):
                expected[i] = styles[token.kind].lower()
        assert _colour_by_char(block) == expected, line
        block = block.next()
    assert {
        "field_key",
        "field_value",
        "barline",
        "note",
        "accidental",
        "tuplet",
        "broken_rhythm",
        "decoration",
        "slur",
        "line_continuation",
    } <= kinds_seen
    # Spot checks against the text itself: "K:" is a bold field key, "|" a bar line.
    key_block = next(b for b in _blocks(pane) if b.text().startswith("K:"))
    first = key_block.layout().formats()[0]
    assert (first.start, first.length) == (0, 2)
    assert first.format.fontWeight() > 400
    body = key_block.next().next()
    bar_at = body.text().index("|")
    assert _colour_by_char(body)[bar_at] == styles["barline"].lower()


def _blocks(pane: EditorPane):
    block = pane.editor.document().firstBlock()
    while block.isValid():
        yield block
        block = block.next()


def test_typed_problem_is_listed_underlined_and_explained(qtbot, pane):
    pane.editor.setFocus()
    with qtbot.waitSignal(pane.problems_updated, timeout=TIMEOUT_MS):
        _type_lines(qtbot, pane, ["X:1", "T:Typed", "M:4/4", "L:1/4", "K:G", 'GA "Am B|c4|]'])
    qtbot.waitUntil(lambda: any(p.line == 6 for p in pane.problems()), timeout=TIMEOUT_MS)
    problems = pane.problems()
    quote = next(p for p in problems if p.line == 6)
    assert quote.column == 3 and quote.severity == "error"
    assert pane.status_label.text() == f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    assert pane.problem_list.count() == len(problems)
    item = next(
        pane.problem_list.item(i)
        for i in range(pane.problem_list.count())
        if pane.problem_list.item(i).text().startswith("6:4")
    )
    assert quote.message in item.text()

    # The underline sits on line 6, column 3 (the unclosed quote).
    position = pane.editor.position_of(6, 3)
    underlines = [
        s
        for s in pane.editor.extraSelections()
        if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    ]
    assert any(s.cursor.selectionStart() == position for s in underlines)

    # Hovering the underlined character shows the message as a tooltip.
    cursor = QTextCursor(pane.editor.document())
    cursor.setPosition(position)
    rect = pane.editor.cursorRect(cursor)
    local = QPoint(rect.left() + 2, rect.center().y())
    viewport = pane.editor.viewport()
    QApplication.sendEvent(
        viewport, QHelpEvent(QEvent.Type.ToolTip, local, viewport.mapToGlobal(local))
    )
    assert quote.message in QToolTip.text()

    # Clicking the listed problem moves the cursor there.
    pane.editor.moveCursor(QTextCursor.MoveOperation.Start)
    pane.problem_list.itemClicked.emit(item)
    assert pane.editor.textCursor().position() == position

    # Closing the quote makes the tune valid again.
    pane.editor.setTextCursor(_cursor_at(pane, pane.editor.position_of(6, 6)))
    with qtbot.waitSignal(pane.problems_updated, timeout=TIMEOUT_MS):
        qtbot.keyClicks(pane.editor, '"')
    qtbot.waitUntil(lambda: pane.status_label.text() == "Valid", timeout=TIMEOUT_MS)
    assert pane.problem_list.count() == 0
    assert not [
        s
        for s in pane.editor.extraSelections()
        if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    ]


def _cursor_at(pane: EditorPane, position: int) -> QTextCursor:
    cursor = pane.editor.textCursor()
    cursor.setPosition(position)
    return cursor


def test_tunebook_opens_the_picked_tune(qtbot, pane, tmp_path, monkeypatch, boxes):
    path = tmp_path / "book.abc"
    path.write_text(TUNEBOOK, encoding="utf-8")
    listed: list[list[str]] = []

    def pick_second(dialog: TunePickerDialog) -> int:
        listed.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        dialog.list.setCurrentRow(1)
        dialog._choose(dialog.list.currentRow())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(TunePickerDialog, "exec", pick_second)
    assert pane.open_path(path)
    assert listed == [["X:1  First Reel", "X:2  Second Jig", "X:3  Third Air"]]
    assert pane.text().startswith("X:2\nT:Second Jig\n")
    assert "First Reel" not in pane.text()
    # One tune of a file is a new document: saving it must not overwrite the tunebook.
    assert pane.path is None and pane.document_title() == "Untitled (from book.abc)"

    def whole_file(dialog: TunePickerDialog) -> int:
        dialog._choose(editor_pane.WHOLE_FILE)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(TunePickerDialog, "exec", whole_file)
    assert pane.open_path(path)
    assert pane.text() == TUNEBOOK and pane.path == path
    assert pane.recent_files()[0] == str(path.resolve())


def test_unreadable_files_give_a_message_and_keep_the_document(
    qtbot, pane, session, tmp_path, boxes
):
    session.prompt = TUNEBOOK
    binary = tmp_path / "noise.abc"
    binary.write_bytes(bytes(range(256)) * 8)
    assert not pane.open_path(binary, confirm=False)
    assert boxes["warning"] and "noise.abc" in boxes["warning"][-1]
    assert "binary" in boxes["warning"][-1]
    assert pane.text() == TUNEBOOK

    assert not pane.open_path(tmp_path / "missing.abc", confirm=False)
    assert "missing.abc" in boxes["warning"][-1]
    assert pane.text() == TUNEBOOK


def test_unsaved_changes_are_asked_about(qtbot, pane, session, tmp_path, boxes, monkeypatch):
    other = tmp_path / "other.abc"
    other.write_text("X:1\nT:Other\nK:D\nDEF|\n", encoding="utf-8")
    session.prompt = TUNEBOOK
    assert pane.is_modified()
    assert not pane.open_path(other)  # the recorder answers Cancel
    assert boxes["question"] and pane.text() == TUNEBOOK
    boxes["answers"].append(QMessageBox.StandardButton.Discard)
    assert pane.open_path(other)
    assert pane.text() == "X:1\nT:Other\nK:D\nDEF|\n" and not pane.is_modified()

    # Save (answer) writes the document first.
    _type_lines(qtbot, pane, ["% edited"])
    saved = tmp_path / "saved.abc"
    monkeypatch.setattr(
        "workbench.ui.panes.editor_pane.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(saved), ""),
    )
    pane.path = None
    boxes["answers"].append(QMessageBox.StandardButton.Save)
    assert pane.new_document()
    assert saved.read_text(encoding="utf-8").startswith("% edited")
    assert pane.text() == ""


def test_save_and_reopen_from_recent_files(qtbot, pane, session, tmp_path, boxes):
    session.prompt = "X:1\nT:Kept\nK:G\nGABc|"
    target = tmp_path / "kept.abc"
    assert pane.save_as(target)
    assert target.read_text(encoding="utf-8") == "X:1\nT:Kept\nK:G\nGABc|\n"
    assert pane.document_title() == "kept.abc" and not pane.is_modified()
    assert pane.recent_files() == [str(target.resolve())]
    assert pane.new_document()
    pane.recent_menu.aboutToShow.emit()
    actions = [a for a in pane.recent_menu.actions() if a.data()]
    assert [a.text() for a in actions] == ["kept.abc"]
    actions[0].trigger()
    assert pane.text() == "X:1\nT:Kept\nK:G\nGABc|\n" and pane.path == target


def test_session_prompt_loads_undoably(qtbot, pane, session):
    qtbot.keyClicks(pane.editor, "X:1")
    session.prompt = TUNEBOOK
    assert pane.text() == TUNEBOOK and pane.is_modified()
    assert pane.document_title() == "Untitled*"
    pane.undo_action.trigger()
    assert pane.text() == "X:1"


def test_editor_tune_and_selection_follow_the_cursor(qtbot, pane, session):
    session.prompt = TUNEBOOK
    spans = tune_spans(TUNEBOOK)
    assert len(spans) == 3
    second = TUNEBOOK[spans[1][0] : spans[1][1]]
    assert second.startswith("X:2") and second.endswith("dBA B2A|")
    qtbot.waitUntil(lambda: session.editor_tune.startswith("X:1"), timeout=TIMEOUT_MS)
    pane.editor.setTextCursor(_cursor_at(pane, spans[1][0] + 5))
    qtbot.waitUntil(lambda: session.editor_tune == second, timeout=TIMEOUT_MS)
    assert pane.current_tune() == second
    cursor = _cursor_at(pane, spans[1][0])
    cursor.setPosition(spans[1][0] + 8, QTextCursor.MoveMode.KeepAnchor)
    pane.editor.setTextCursor(cursor)
    assert session.editor_selection == "X:2\nT:Se"


def test_play_and_inspect_send_the_tune_under_the_cursor(qtbot, pane, session):
    plays: list[PlayRequest] = []
    inspects: list[str] = []
    session.play_requested.connect(plays.append)
    session.inspect_requested.connect(inspects.append)
    session.prompt = TUNEBOOK
    start, end = tune_spans(TUNEBOOK)[2]
    pane.editor.setTextCursor(_cursor_at(pane, start + 2))
    pane.play_action.trigger()
    assert plays == [PlayRequest("Third Air", abc=TUNEBOOK[start:end])]
    pane.editor.setFocus()
    qtbot.keyClick(pane.editor, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert len(plays) == 2
    assert pane.inspect_action in pane.editor.context_actions
    pane.inspect_action.trigger()
    assert inspects == [TUNEBOOK[start:end]]
    # With no tune the actions are off.
    pane.set_text("")
    assert not pane.play_action.isEnabled() and not pane.inspect_action.isEnabled()


def test_follow_along_highlights_the_playing_note(qtbot, pane, session):
    session.prompt = TUNEBOOK
    start, end = tune_spans(TUNEBOOK)[1]
    tune = TUNEBOOK[start:end]
    note = tune.index("B2e")
    session.highlight_note(NoteHighlight(tune, note, note + 2))
    assert pane.editor.playback_range() == (start + note, start + note + 2)
    backgrounds = [
        s
        for s in pane.editor.extraSelections()
        if s.format.background().style() != Qt.BrushStyle.NoBrush
    ]
    assert len(backgrounds) == 1
    assert backgrounds[0].cursor.selectedText() == "B2"
    session.highlight_note(NoteHighlight("X:9\nK:C\nC|", 0, 1))  # not in this document
    assert pane.editor.playback_range() is None
    session.highlight_note(NoteHighlight(tune, note, note + 2))
    session.highlight_note(None)
    assert pane.editor.playback_range() is None


def test_follow_along_marks_the_note_in_the_score_too(qtbot, pane, session):
    tune = "X:1\nT:Follow\nM:4/4\nL:1/8\nK:D\nD E F G A B c d|\n"
    with qtbot.waitSignal(pane.score_view.rendered, timeout=20_000):
        session.prompt = tune
    note = tune.index("A B")
    session.highlight_note(NoteHighlight(pane.current_tune(), note, note + 1))
    page, element = pane.score_view.playback_note()
    assert page == 0 and f'id="{element}"' in pane.score_view.pages[0]
    assert pane.score_view.canvas.widget_box() is not None
    session.highlight_note(None)
    assert pane.score_view.playback_note() is None


def test_find_and_replace(qtbot, pane):
    pane.set_text("abc ABC abc |")
    pane.editor.setFocus()
    pane.editor.moveCursor(QTextCursor.MoveOperation.Start)
    qtbot.keyClick(pane.editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = pane.find_bar
    assert bar.isVisible() and not bar.replace_edit.isVisible()
    qtbot.keyClicks(bar.find_edit, "abc")
    qtbot.mouseClick(bar.next_button, Qt.MouseButton.LeftButton)
    assert pane.editor.textCursor().selectionStart() == 0
    bar.find_next()
    assert pane.editor.textCursor().selectionStart() == 4  # case-insensitive: "ABC"
    bar.case_check.setChecked(True)
    bar.find_next()
    assert pane.editor.textCursor().selectionStart() == 8
    bar.find_next()  # wraps around
    assert pane.editor.textCursor().selectionStart() == 0
    bar.find_previous()
    assert pane.editor.textCursor().selectionStart() == 8

    qtbot.keyClick(pane.editor, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert bar.replace_edit.isVisible()
    bar.replace_edit.setText("G2")
    assert bar.replace_all() == 2
    assert pane.text() == "G2 ABC G2 |"
    pane.editor.undo()  # one step takes the whole replacement back
    assert pane.text() == "abc ABC abc |"
    bar.case_check.setChecked(False)
    pane.editor.moveCursor(QTextCursor.MoveOperation.Start)
    assert bar.replace()
    assert pane.text() == "G2 ABC abc |"
    bar.find_edit.setText("zzz")
    assert not bar.find_next() and bar.status_label.text() == "Not found"
    qtbot.keyClick(bar.find_edit, Qt.Key.Key_Escape)
    assert not bar.isVisible()


def test_score_view_shows_the_tune_being_edited(qtbot, pane, session):
    with qtbot.waitSignal(pane.score_view.rendered, timeout=TIMEOUT_MS):
        session.prompt = TUNEBOOK
    assert "First Reel" in pane.score_view.pages[0]
    start, _end = tune_spans(TUNEBOOK)[2]
    with qtbot.waitSignal(pane.score_view.rendered, timeout=TIMEOUT_MS):
        pane.editor.setTextCursor(_cursor_at(pane, start))
    assert "Third Air" in pane.score_view.pages[0]


def test_pane_shortcuts_win_over_the_window_while_editing(qtbot, session, tmp_path, monkeypatch):
    # The main window has its own Ctrl+O (open tunes for the dataset); in the editor, the
    # editor's Open must fire, not neither (an ambiguous shortcut fires nothing).
    window = QMainWindow()
    qtbot.addWidget(window)
    window_opens: list[bool] = []
    window_open = QAction("Open tunes", window)
    window_open.setShortcut(QKeySequence(QKeySequence.StandardKey.Open))
    window_open.triggered.connect(lambda: window_opens.append(True))
    window.addAction(window_open)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    pane = EditorPane(session, settings=settings)
    window.setCentralWidget(pane)
    window.show()
    qtbot.waitExposed(window)
    dialogs: list[str] = []
    monkeypatch.setattr(
        "workbench.ui.panes.editor_pane.QFileDialog.getOpenFileName",
        lambda *a, **k: (dialogs.append("open"), ("", ""))[1],
    )
    pane.editor.setFocus()
    qtbot.keyClick(pane.editor, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert dialogs == ["open"] and window_opens == []
    assert pane.text() == ""  # the key did not type an "o" either
    pane.shutdown()


def test_dark_palette_switches_colours(qtbot, pane, session):
    session.prompt = "X:1\nK:G\nGABc|"
    light = _colour_by_char(pane.editor.document().findBlockByNumber(2))
    dark = QPalette(pane.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    pane.setPalette(dark)
    assert pane.highlighter.dark
    now = _colour_by_char(pane.editor.document().findBlockByNumber(2))
    assert now[0] == KIND_STYLES["note"][1] and now[-1] == KIND_STYLES["barline"][1]
    assert now != light


def test_follow_along_scrolls_the_note_into_view(qtbot, pane, session):
    tune = "X:1\nT:Long\nM:4/4\nL:1/4\nK:G\n" + "GABc|\n" * 200 + "defg|]"
    session.prompt = tune
    pane.editor.moveCursor(QTextCursor.MoveOperation.Start)
    note = tune.index("defg")
    session.highlight_note(NoteHighlight(tune, note, note + 1))
    cursor = _cursor_at(pane, note)
    assert pane.editor.viewport().rect().contains(pane.editor.cursorRect(cursor))
    assert pane.editor.textCursor().position() == 0  # the user's cursor stayed put


def test_characters_beyond_the_bmp_do_not_shift_positions(qtbot, pane, session):
    # Qt counts UTF-16 units, Python code points: a fiddle emoji is 2 units but 1 character.
    text = "X:1\nT:\U0001f3bb Fiddle\nK:G\nGABc|\n\nX:2\nT:Two\nK:D\nDEF|"
    session.prompt = text
    title = pane.editor.document().findBlockByNumber(1)
    colours = _colour_by_char(title)
    assert len(colours) == len("T:") + 2 + len(" Fiddle")  # the block counts UTF-16 units
    assert colours[-1] == colours[2] == KIND_STYLES["field_value"][0]
    second_at = text.index("X:2")
    pane.editor.setTextCursor(_cursor_at(pane, second_at + 1 + 2))  # +1: the emoji's 2nd unit
    assert pane.current_tune() == "X:2\nT:Two\nK:D\nDEF|"
    tune = pane.current_tune()
    session.highlight_note(NoteHighlight(tune, tune.index("E"), tune.index("E") + 1))
    selection = next(
        s
        for s in pane.editor.extraSelections()
        if s.format.background().style() != Qt.BrushStyle.NoBrush
    )
    assert selection.cursor.selectedText() == "E"


def test_body_state_flows_down_the_document(qtbot, pane, session):
    # "E:|" is the note E and an end repeat in a tune body, but an E: field in a header.
    session.prompt = "X:1\nT:State\nK:G\nE:|"
    line = pane.editor.document().findBlockByNumber(3)
    light = {kind: style[0] for kind, style in KIND_STYLES.items()}
    assert _colour_by_char(line) == [light["note"], light["barline"], light["barline"]]
    # Turning the K: line into a comment puts the line back in the header: re-highlighted.
    cursor = _cursor_at(pane, pane.editor.position_of(3, 0))
    cursor.insertText("%")
    line = pane.editor.document().findBlockByNumber(3)
    assert _colour_by_char(line)[:2] == [light["field_key"]] * 2


# -- export named from the title; the document across sessions (issue 12) -------------------

KESH = "X:1\nT:The Kesh\nM:6/8\nL:1/8\nK:G\nGAG GAB|ABA ABd|edd gdd|edB dBA|\n"


def test_export_proposes_the_title_and_remembers_the_folder(
    qtbot, pane, session, tmp_path, boxes, monkeypatch
):
    import mido

    session.prompt = KESH
    qtbot.waitUntil(lambda: pane.export_action.isEnabled())
    out = tmp_path / "exports"
    out.mkdir()
    proposed = []

    def save_dialog(_parent, _caption, start, *_args, **_kwargs):
        proposed.append(start)
        return str(out / editor_pane.Path(start).name), ""

    monkeypatch.setattr(editor_pane.QFileDialog, "getSaveFileName", save_dialog)
    with qtbot.waitSignal(pane.export_finished, timeout=60_000) as blocker:
        pane.export_action.trigger()
    assert editor_pane.Path(proposed[0]).name == "The_Kesh.mid"
    assert blocker.args[0] == out / "The_Kesh.mid"
    assert sum(m.type == "note_on" for m in mido.MidiFile(out / "The_Kesh.mid")) == 24
    assert "Exported The_Kesh.mid" in pane.status_label.text()
    # The next export (and Save as) starts in that folder.
    pane.export_action.trigger()
    assert pane.wait_export()
    assert editor_pane.Path(proposed[1]) == out / "The_Kesh.mid"
    assert not boxes["question"]  # the dialog itself confirms replacing the file it shows


def test_export_to_a_name_typed_without_suffix_asks_before_replacing(
    qtbot, pane, session, tmp_path, boxes, monkeypatch
):
    session.prompt = KESH
    qtbot.waitUntil(lambda: pane.export_action.isEnabled())
    target = tmp_path / "The_Kesh.mid"
    target.write_bytes(b"an earlier export")
    # "The_Kesh" typed, MIDI chosen: the dialog never saw The_Kesh.mid, so the pane asks.
    monkeypatch.setattr(
        editor_pane.QFileDialog,
        "getSaveFileName",
        lambda *a, **k: (str(tmp_path / "The_Kesh"), editor_pane.EXPORT_FILTERS[0]),
    )
    boxes["answers"].append(QMessageBox.StandardButton.No)
    assert pane.export_dialog() is None
    assert pane.wait_export()
    assert len(boxes["question"]) == 1 and "The_Kesh.mid already exists" in boxes["question"][0]
    assert target.read_bytes() == b"an earlier export"
    boxes["answers"].append(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(pane.export_finished, timeout=60_000):
        assert pane.export_dialog() == target
    assert target.read_bytes().startswith(b"MThd")


def test_the_document_comes_back_in_a_new_pane(qtbot, pane, session, tmp_path, boxes):
    settings = pane.settings
    # An unsaved tune (sent from elsewhere, then edited), with the cursor in its second line.
    session.prompt = TUNEBOOK
    pane.editor.moveCursor(QTextCursor.MoveOperation.End)
    _type_lines(qtbot, pane, ["% more"])
    cursor_at = pane.editor.textCursor().position()
    pane.shutdown()  # as when the application quits
    again = EditorPane(Session(), settings=settings)
    qtbot.addWidget(again)
    assert again.text() == TUNEBOOK + "% more\n"
    assert again.is_modified() and again.document_title() == "Untitled*"
    assert again.editor.textCursor().position() == cursor_at
    qtbot.waitUntil(lambda: again.session.editor_tune.startswith("X:3"), timeout=5_000)
    # A saved file is read back from disk (it may have changed since).
    saved = tmp_path / "book.abc"
    assert again.save_as(saved)
    again.shutdown()
    saved.write_text(KESH, encoding="utf-8")
    third = EditorPane(Session(), settings=settings)
    qtbot.addWidget(third)
    assert third.text() == KESH and third.path == saved and not third.is_modified()
    # Changes discarded on closing are not brought back: the file as saved is.
    _type_lines(qtbot, third, ["% throw away"])
    boxes["answers"].append(QMessageBox.StandardButton.Discard)
    assert third.confirm_close()
    third.shutdown()
    fourth = EditorPane(Session(), settings=settings)
    qtbot.addWidget(fourth)
    assert fourth.text() == KESH and not fourth.is_modified()
    fourth.shutdown()


def test_the_score_clears_its_playback_mark_when_playback_stops(qtbot, pane, session):
    from workbench.playback.clock import ManualClock
    from workbench.playback.outputs import RecordingOutput
    from workbench.playback.player import State
    from workbench.ui.panes.playback_pane import PlaybackPane

    clock = ManualClock()
    playback = PlaybackPane(session, clock=clock, output=RecordingOutput(clock.now))
    qtbot.addWidget(playback)
    try:
        tune = "X:1\nT:Follow\nM:4/4\nL:1/4\nQ:1/4=120\nK:D\nDEFG|ABcd|]\n"
        with qtbot.waitSignal(pane.score_view.rendered, timeout=20_000):
            session.prompt = tune
        qtbot.waitUntil(lambda: pane.play_action.isEnabled())
        pane.play_action.trigger()
        qtbot.waitUntil(lambda: playback.player.state is State.PLAYING, timeout=10_000)
        clock.advance(1.2)
        qtbot.waitUntil(lambda: pane.score_view.playback_note() is not None, timeout=5_000)
        assert pane.score_view.canvas.playback_box is not None
        playback.stop_button.click()
        qtbot.waitUntil(lambda: pane.score_view.playback_note() is None, timeout=5_000)
        assert pane.score_view.canvas.playback_box is None
        assert pane.editor.playback_range() is None
    finally:
        playback.shutdown()
