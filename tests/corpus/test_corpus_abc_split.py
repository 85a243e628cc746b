"""Splitting ABC tunebook text into tunes."""

from __future__ import annotations

from workbench.corpus.abc_split import count_tunes, split_abc

TUNEBOOK = """\
% A tunebook header comment
This free text is ignored.

X:1
T:First
% a comment inside the tune
%%MIDI program 1
M:4/4
K:D
|:DFA dAF:|   \n\
X:2
T:Second
K:G
GAB c2d|
 \t
X: 3
T:Third
K:A
abc|
"""


def test_splits_at_x_and_blank_lines() -> None:
    tunes, problems = split_abc(TUNEBOOK, "book.abc")
    assert problems == []
    assert [tune.text for tune in tunes] == [
        "X:1\nT:First\nM:4/4\nK:D\n|:DFA dAF:|",
        "X:2\nT:Second\nK:G\nGAB c2d|",
        "X: 3\nT:Third\nK:A\nabc|",
    ]
    assert [(tune.index, tune.line) for tune in tunes] == [(0, 4), (1, 11), (2, 16)]
    assert all(tune.source == "book.abc" for tune in tunes)
    assert [tune.reference for tune in tunes] == ["1", "2", "3"]
    assert [tune.title for tune in tunes] == ["First", "Second", "Third"]


def test_text_after_blank_line_is_not_part_of_the_tune() -> None:
    text = "X:1\nT:A\nK:D\nabc|\n\nSome notes about the tune.\nK:G\n"
    tunes, problems = split_abc(text, "f.abc")
    assert [tune.text for tune in tunes] == ["X:1\nT:A\nK:D\nabc|"]
    assert problems == []


def test_tune_without_key_is_skipped_with_its_line() -> None:
    text = "X:1\nT:Good\nK:D\nabc|\n\nX:2\nT:No key\nabc|\n\nX:3\nT:Also good\nK:G\ng|\n"
    tunes, problems = split_abc(text, "f.abc")
    assert [tune.title for tune in tunes] == ["Good", "Also good"]
    assert [tune.index for tune in tunes] == [0, 1]
    assert len(problems) == 1
    assert str(problems[0]) == 'f.abc:6: tune X:2 "No key" has no K: field; skipped'


def test_tune_with_nothing_after_key_is_skipped() -> None:
    text = "X:7\nT:Header only\nK:D\n% just a comment\nW:words\n"
    tunes, problems = split_abc(text, "f.abc")
    assert tunes == []
    assert problems[0].line == 1
    assert problems[0].message == 'tune X:7 "Header only" has no music after its K: field; skipped'


def test_file_without_x_but_with_key_is_one_tune() -> None:
    text = "A tune I typed in.\n\nT:Untitled\nM:6/8\nK:Em\nEFG|\n\nB2A|\n"
    tunes, problems = split_abc(text, "f.abc")
    assert problems == []
    assert len(tunes) == 1
    assert tunes[0].text == "X:1\nT:Untitled\nM:6/8\nK:Em\nEFG|\nB2A|"
    assert tunes[0].line == 3


def test_no_tunes() -> None:
    tunes, problems = split_abc("Just some text.\nNo music here.\n", "notes.abc")
    assert tunes == []
    assert [str(problem) for problem in problems] == [
        "notes.abc: no tunes found (no X: or K: field)"
    ]


def test_count_tunes() -> None:
    assert count_tunes(TUNEBOOK) == 3
    assert count_tunes("no tunes\n") == 0


def test_headerless_tune_starting_on_the_first_line() -> None:
    # The header paragraph reaches back to line 1, and the file has no final newline.
    tunes, problems = split_abc("T:Untitled\nK:D\nabc|", "f.abc")
    assert problems == []
    assert [(tune.text, tune.line) for tune in tunes] == [("X:1\nT:Untitled\nK:D\nabc|", 1)]


def test_headerless_tune_with_a_two_line_header_after_free_text() -> None:
    tunes, problems = split_abc("Intro\n\nT:Air\nK:G\nGAB|\n", "f.abc")
    assert problems == []
    assert [(tune.text, tune.line) for tune in tunes] == [("X:1\nT:Air\nK:G\nGAB|", 3)]


def test_indented_comment_lines_are_dropped() -> None:
    tunes, _ = split_abc("X:1\nT:A\nK:D\n  % an indented remark\n\t%%MIDI program 1\nabc|\n", "f")
    assert [tune.text for tune in tunes] == ["X:1\nT:A\nK:D\nabc|"]


def test_music_before_the_key_field_does_not_count() -> None:
    tunes, problems = split_abc("X:4\nT:Upside down\nabc|\nK:D\n", "f.abc")
    assert tunes == []
    assert problems[0].message == 'tune X:4 "Upside down" has no music after its K: field; skipped'


def test_problem_names_use_only_the_parts_a_tune_has() -> None:
    text = "X:5\nM:4/4\nabc|\n\nX:\nT:Nameless\nB:book\nabc|\n\nX:\nabc|\n"
    tunes, problems = split_abc(text, "f.abc")
    assert tunes == []
    assert [problem.message for problem in problems] == [
        "tune X:5 has no K: field; skipped",
        'tune "Nameless" has no K: field; skipped',
        "tune has no K: field; skipped",
    ]
