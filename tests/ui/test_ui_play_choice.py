"""What the Playback bar's Play plays: the user's latest choice of tune, driven through widgets.

The generation results, the editor and the transport bar share one session inside one window
(as in the main window, so Space is a window shortcut). The player sends its notes to a
recording output on a clock the test moves by hand: the tune the player holds and the notes it
sends are what Play played.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QWidget

from workbench.generation import GeneratedTune
from workbench.playback.clock import ManualClock
from workbench.playback.outputs import RecordingOutput
from workbench.playback.player import State
from workbench.session import PlayRequest, Session

TIMEOUT_MS = 15_000
RESULT = "X:1\nT:Result Reel\nM:4/4\nL:1/4\nQ:1/4=120\nK:D\nDEFG|ABcd|]"  # D E F# G ...
OTHER = "X:1\nT:Other Jig\nM:6/8\nL:1/8\nQ:3/8=120\nK:G\nGAB cde|]"  # G A B c ...
TYPED = ["X:1", "T:Typed Air", "M:3/4", "L:1/4", "Q:1/4=120", "K:C", "CEG|c3|]"]


@pytest.fixture(scope="module", autouse=True)
def music21_imported():
    """music21 imported on this thread first: a first import on the converter's thread, under
    pytest (which rewrites music21's test_*.py modules as they import), was seen to hang."""
    import music21  # noqa: F401


class Rig:
    def __init__(self, qtbot, tmp_path) -> None:
        from workbench.ui.panes.editor_pane import EditorPane
        from workbench.ui.panes.playback_pane import PlaybackPane
        from workbench.ui.widgets.generation_results import GenerationResults

        self.qtbot = qtbot
        self.session = Session()
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        self.results = GenerationResults(self.session, settings=settings)
        self.editor = EditorPane(self.session, settings=settings)
        self.clock = ManualClock()
        self.out = RecordingOutput(self.clock.now)
        self.playback = PlaybackPane(self.session, clock=self.clock, output=self.out)
        self.reports: list[str] = []
        self.playback.status_reported.connect(self.reports.append)
        self.window = QWidget()
        layout = QHBoxLayout(self.window)
        for pane in (self.results, self.editor, self.playback):
            layout.addWidget(pane)
        qtbot.addWidget(self.window)
        self.window.resize(1500, 700)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.activateWindow()  # Space is a window shortcut: the window must be active
        qtbot.waitUntil(self.window.isActiveWindow, timeout=3000)

    def click_result(self, row: int) -> None:
        tree = self.results.tree
        rect = tree.visualItemRect(tree.topLevelItem(row))
        self.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    def press_play(self) -> None:
        self.qtbot.mouseClick(self.playback.play_button, Qt.MouseButton.LeftButton)

    def wait_playing(self, abc: str) -> None:
        self.qtbot.waitUntil(
            lambda: (
                self.playback.player.state is State.PLAYING and self.playback.player.tune.abc == abc
            ),
            timeout=TIMEOUT_MS,
        )

    def pitches(self) -> list[int]:
        return [n.pitch for n in self.playback.player.tune.notes]

    def stop(self) -> None:
        self.qtbot.mouseClick(self.playback.stop_button, Qt.MouseButton.LeftButton)
        assert self.playback.player.state is State.STOPPED

    def shutdown(self) -> None:
        self.playback.shutdown()
        self.editor.shutdown()
        self.results.shutdown()


@pytest.fixture
def rig(qtbot, tmp_path):
    rig = Rig(qtbot, tmp_path)
    yield rig
    rig.shutdown()


def test_play_plays_the_selected_result_then_the_tune_typed_in_the_editor(qtbot, rig):
    rig.results.add_tunes(
        [GeneratedTune.make(RESULT, seed=1), GeneratedTune.make(OTHER, seed=1, index=1)]
    )
    rig.click_result(0)
    # Before Play, the transport names what it will play.
    assert "Result Reel" in rig.playback.title_label.text()
    rig.press_play()
    rig.wait_playing(RESULT)
    assert rig.pitches() == [62, 64, 66, 67, 69, 71, 73, 74]
    rig.clock.advance(0.6)
    qtbot.waitUntil(lambda: len([m for m in rig.out.messages if m.type == "note_on"]) >= 2)
    assert [m.note for m in rig.out.messages if m.type == "note_on"][:2] == [62, 64]
    rig.stop()

    # The user types a new tune into the editor: Play now plays it, not the result.
    rig.qtbot.mouseClick(rig.editor.editor.viewport(), Qt.MouseButton.LeftButton)
    for line in TYPED:
        qtbot.keyClicks(rig.editor.editor, line)
        qtbot.keyClick(rig.editor.editor, Qt.Key.Key_Return)
    typed = "\n".join(TYPED)
    qtbot.waitUntil(lambda: rig.session.editor_tune == typed, timeout=TIMEOUT_MS)
    rig.press_play()
    rig.wait_playing(typed)
    assert rig.pitches() == [60, 64, 67, 72]
    assert rig.playback.title_label.text() == "Typed Air"

    # Selecting a result again chooses it (Space, the window's shortcut, plays it) ...
    rig.press_play()  # pause the typed tune
    assert rig.playback.player.state is State.PAUSED
    rig.click_result(1)
    qtbot.keyClick(rig.results.tree, Qt.Key.Key_Space)
    rig.wait_playing(OTHER)
    rig.stop()
    # ... and clicking back into the editor chooses the editor's tune.
    rig.qtbot.mouseClick(rig.editor.editor.viewport(), Qt.MouseButton.LeftButton)
    assert rig.session.play_choice == PlayRequest("Typed Air", abc=typed)
    rig.press_play()
    rig.wait_playing(typed)


def test_after_a_result_played_the_tune_sent_to_the_editor_and_edited_plays(qtbot, rig):
    rig.results.add_tunes(
        [GeneratedTune.make(RESULT, seed=1), GeneratedTune.make(OTHER, seed=1, index=1)]
    )
    rig.click_result(0)
    rig.press_play()
    rig.wait_playing(RESULT)
    rig.stop()
    # The second result goes to the editor, where the user adds a bar at the end.
    rig.click_result(1)
    qtbot.mouseClick(rig.results.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rig.editor.text() == OTHER)
    rig.qtbot.mouseClick(rig.editor.editor.viewport(), Qt.MouseButton.LeftButton)
    rig.editor.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(rig.editor.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(rig.editor.editor, "fga|]")
    edited = OTHER + "\nfga|]"
    qtbot.waitUntil(lambda: rig.session.editor_tune == edited, timeout=TIMEOUT_MS)
    rig.press_play()
    rig.wait_playing(edited)
    assert rig.pitches() == [67, 69, 71, 72, 74, 76, 78, 79, 81]


def test_play_with_nothing_chosen_says_so(qtbot, rig):
    rig.press_play()
    assert rig.playback.player.state is State.STOPPED
    assert rig.reports and "Nothing to play" in rig.reports[-1]
    assert "Nothing to play" in rig.playback.status_label.text()
    assert "Nothing to play" in rig.playback.title_label.text()
    assert not rig.out.messages


def test_a_play_request_that_fails_says_so(qtbot, rig):
    rig.results.add_tunes(
        [
            GeneratedTune.make("X:1\nT:Broken\nL:1/0\nK:C\nCDE|", seed=1),
            GeneratedTune.make("X:1\nT:Silent\nM:4/4\nK:C\n", seed=1, index=1),
        ]
    )
    for row, title in ((0, "Broken"), (1, "Silent")):
        rig.click_result(row)
        rig.reports.clear()
        rig.press_play()
        qtbot.waitUntil(lambda: bool(rig.reports), timeout=TIMEOUT_MS)
        assert rig.reports[-1].startswith(f"Cannot play {title}:"), rig.reports
        assert rig.playback.status_label.text() == rig.reports[-1]
        assert rig.playback.title_label.text() == "Cannot play this tune"
        assert rig.playback.player.state is State.STOPPED
