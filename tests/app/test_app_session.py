"""The session's `play_choice` (headless): what Play plays follows the user's latest choice."""

from __future__ import annotations

from workbench.session import PlayRequest, Session

RESULT = PlayRequest("Result", abc="X:1\nT:Result\nK:D\nDEFG|")
TUNE = "X:1\nT:Edited\nK:G\nGABc|"


def test_play_choice_follows_the_latest_choice():
    session = Session()
    changes: list[PlayRequest | None] = []
    session.play_choice_changed.connect(changes.append)
    assert session.play_choice is None

    session.choose_result(RESULT)
    assert session.play_choice == RESULT
    session.editor_tune = TUNE  # typed or sent to the editor: the newer choice
    editor = PlayRequest("Edited", abc=TUNE)
    assert session.play_choice == editor
    session.choose_result(RESULT)  # the result selected (clicked) again
    assert session.play_choice == RESULT
    session.choose_editor_tune()  # clicked into the editor
    assert session.play_choice == editor
    assert changes == [RESULT, editor, RESULT, editor]


def test_play_choice_falls_back_to_whichever_tune_there_is():
    session = Session()
    session.editor_tune = "X:1\nK:C\nCDE|"
    session.choose_result(RESULT)
    session.choose_result(None)  # the selection was cleared: the editor's tune
    assert session.play_choice == PlayRequest("Untitled tune", abc="X:1\nK:C\nCDE|")
    session.editor_tune = ""
    assert session.play_choice is None
    session.choose_result(RESULT)
    session.choose_editor_tune()  # an empty editor: the result is all there is
    assert session.play_choice == RESULT
