"""The corpus data types (workbench.corpus.tune): tune fields, problems, load results."""

from __future__ import annotations

import pytest
from music21 import abcFormat

from workbench.corpus import CorpusError, LoadCancelled, LoadResult, Problem, Tune, load


def _music21_fields(text: str) -> dict[str, str]:
    """The first X: and T: values of an ABC tune as music21's own ABC tokenizer reads them."""
    handler = abcFormat.ABCHandler()
    handler.process(text)
    found: dict[str, str] = {}
    for token in handler.tokens:
        if isinstance(token, abcFormat.ABCMetadata) and token.tag in ("X", "T"):
            found.setdefault(token.tag, token.data)
    return found


def test_title_and_reference_agree_with_music21(oneills: LoadResult) -> None:
    # O'Neill's writes "X: 300" and "T: Title" with a space, and 379 tunes carry a second
    # (Irish) title: music21 must see the same first title and reference number as we do.
    two_titles = [tune for tune in oneills.tunes if tune.text.count("\nT:") > 1][:25]
    sample = oneills.tunes[:25] + two_titles
    assert len(two_titles) == 25
    for tune in sample:
        fields = _music21_fields(tune.text)
        assert tune.title == fields["T"], tune.location
        assert tune.reference == fields["X"], tune.location
    assert oneills.tunes[0].title == "The Enchanted Valley"
    assert oneills.tunes[0].reference == "1"


def test_title_and_reference_of_crafted_tunes() -> None:
    tune = Tune("X:12\nT:  Spaced  Title\nT:Second\nK:D\nT:in body\nabc|", "f.abc", 0, 1)
    assert tune.title == "Spaced  Title"  # stripped, inner spacing kept
    assert tune.reference == "12"
    # Only a field at a line start counts, and a missing field gives "".
    bare = Tune("K:D\nabc T:not a field|\nXT:no", "f.abc", 0, 1)
    assert bare.title == ""
    assert bare.reference == ""
    # "T:" itself with nothing after it is an empty title, not the next field's value.
    assert Tune("X:1\nT:\nT:Later\nK:D\na|", "f", 0, 1).title == ""


def test_location() -> None:
    assert Tune("X:1", "corpus:ryansMammoth/a.abc", 3, 57).location == (
        "corpus:ryansMammoth/a.abc:57"
    )


def test_problem_text_with_and_without_line() -> None:
    assert str(Problem("book.abc", "empty file")) == "book.abc: empty file"
    assert Problem("book.abc", "empty file").line is None
    assert str(Problem("book.abc", "bad tune", 12)) == "book.abc:12: bad tune"
    # Line 0 is still a line (a falsy number must not drop it).
    assert str(Problem("book.abc", "bad tune", 0)) == "book.abc:0: bad tune"


def test_load_result_counts_and_extend() -> None:
    empty = LoadResult()
    assert (empty.tunes, empty.problems, empty.files) == ([], [], [])
    assert (empty.chars, empty.sources) == (0, 0)
    # Each result owns its lists: filling one leaves a fresh one empty.
    empty.files.append("x")
    assert LoadResult().files == []

    first = LoadResult([Tune("X:1\nK:D\nab|", "a", 0, 1)], [], ["a"])
    second = LoadResult(
        [Tune("X:2\nK:G\ng|", "b", 0, 1), Tune("X:3\nK:A\na2|", "b", 1, 5)],
        [Problem("c", "empty file")],
        ["b", "c"],
    )
    first.extend(second)
    assert [tune.reference for tune in first.tunes] == ["1", "2", "3"]
    assert first.problems == [Problem("c", "empty file")]
    assert first.files == ["a", "b", "c"]
    assert first.chars == 11 + 10 + 11
    assert first.sources == 3
    # extend copies: the other result is unchanged.
    assert len(second.tunes) == 2 and second.files == ["b", "c"]


def test_summary_counts_and_plurals() -> None:
    tune = Tune("X:1\nK:D\nab|", "a", 0, 1)
    one = LoadResult([tune], [Problem("a", "odd")], ["a"])
    assert one.summary() == "1 tune (11 chars) from 1 file, 1 problem"
    assert LoadResult().summary() == "0 tunes (0 chars) from 0 files, 0 problems"
    many = LoadResult([tune] * 2, [Problem("a", "odd")] * 2, ["a", "b"])
    assert many.summary() == "2 tunes (22 chars) from 2 files, 2 problems"


def _grouped(number: int) -> str:
    """``1234567`` -> ``"1,234,567"``, built digit by digit (not with the ``:,`` format)."""
    digits = str(number)
    groups = [digits[max(0, end - 3) : end] for end in range(len(digits), 0, -3)]
    return ",".join(reversed(groups))


def test_summary_of_a_real_corpus_uses_thousands_separators(ryans: LoadResult) -> None:
    tunes, chars = len(ryans.tunes), sum(len(tune.text) for tune in ryans.tunes)
    files, problems = len(ryans.files), len(ryans.problems)
    assert tunes > 1000 and chars > 100_000 and files > 1
    assert ryans.summary() == (
        f"{_grouped(tunes)} tunes ({_grouped(chars)} chars) from {_grouped(files)} files, "
        f"{_grouped(problems)} problem{'' if problems == 1 else 's'}"
    )


def test_errors() -> None:
    error = CorpusError("unknown corpus 'x'")
    assert isinstance(error, Exception) and str(error) == "unknown corpus 'x'"
    partial = LoadResult(files=["a"])
    with pytest.raises(LoadCancelled, match=r"^loading cancelled$") as caught:
        load(["corpus:ryansMammoth"], should_stop=lambda: True)
    assert caught.value.partial.tunes == []
    assert LoadCancelled(partial).partial is partial
    assert str(LoadCancelled(partial)) == "loading cancelled"
