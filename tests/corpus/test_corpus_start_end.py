"""Splitting ``<start>``/``<end>`` files into tunes."""

from __future__ import annotations

from workbench.corpus.start_end import has_start_markers, split_start_end

GOOD = """\
Generated tunes, epoch 3
<start>
X:1
T:One
K:D
abc|
<end>
between the tunes
  <start>  \n\
% comment

T:No X line
K:G
g|
 <end>
"""


def test_splits_between_markers() -> None:
    tunes, problems = split_start_end(GOOD, "gen.txt")
    assert problems == []
    assert [tune.text for tune in tunes] == [
        "X:1\nT:One\nK:D\nabc|",
        "T:No X line\nK:G\ng|",  # no X: invented
    ]
    assert [(tune.index, tune.line) for tune in tunes] == [(0, 3), (1, 12)]
    assert tunes[1].reference == ""


def test_start_without_end_before_next_start() -> None:
    text = "<start>\nX:1\nK:D\na|\n<start>\nX:2\nK:D\nb|\n<end>\n"
    tunes, problems = split_start_end(text, "gen.txt")
    assert [tune.text for tune in tunes] == ["X:2\nK:D\nb|"]
    assert [str(problem) for problem in problems] == [
        "gen.txt:1: <start> has no matching <end> before the next <start> at line 5; tune skipped"
    ]


def test_start_without_end_at_end_of_file() -> None:
    text = "<start>\nX:1\nK:D\na|\n<end>\n<start>\nX:2\nK:D\n"
    tunes, problems = split_start_end(text, "gen.txt")
    assert len(tunes) == 1
    assert problems[0].line == 6
    assert "before the end of the file" in problems[0].message


def test_stray_end_and_empty_tune() -> None:
    text = "<end>\n<start>\n% nothing\n<end>\n<start>\nX:1\nK:D\na|\n<end>\n"
    tunes, problems = split_start_end(text, "gen.txt")
    assert len(tunes) == 1
    assert [(problem.line, problem.message.split(";")[0]) for problem in problems] == [
        (1, "<end> without a <start> before it"),
        (2, "empty tune between <start> and <end> (line 4)"),
    ]


def test_has_start_markers() -> None:
    assert has_start_markers(GOOD)
    assert has_start_markers("x\n\t<start> \ny")
    assert not has_start_markers("X:1\nT:about <start> tokens\nK:D\n")
    assert not has_start_markers("X:1\nK:D\n")


def test_every_tune_and_problem_names_its_file() -> None:
    text = "<end>\n<start>\n\n<end>\n<start>\nX:1\nK:D\na|\n<end>\n<start>\nX:2\n"
    tunes, problems = split_start_end(text, "runs/gen.txt")
    assert [tune.source for tune in tunes] == ["runs/gen.txt"]
    assert [str(problem) for problem in problems] == [
        "runs/gen.txt:1: <end> without a <start> before it; ignored",
        "runs/gen.txt:2: empty tune between <start> and <end> (line 4); skipped",
        "runs/gen.txt:10: <start> has no matching <end> before the end of the file; tune skipped",
    ]


def test_file_without_markers_is_one_problem() -> None:
    tunes, problems = split_start_end("X:1\nK:D\nabc|\n", "plain.txt")
    assert tunes == []
    assert [str(problem) for problem in problems] == ["plain.txt: no tunes found (no <start> line)"]
    # A file whose only block was refused already says why: no extra "no tunes" problem.
    tunes, problems = split_start_end("<start>\nX:1\n", "cut.txt")
    assert tunes == [] and len(problems) == 1 and problems[0].line == 1
