"""Dropping the provenance lines a model writes into a generated tune's header."""

from __future__ import annotations

import re

import pytest

from workbench.corpus import load
from workbench.notation.provenance import PROVENANCE_FIELDS, drop_provenance

_PROVENANCE_LINE = re.compile(rf"^[{PROVENANCE_FIELDS}]:", re.MULTILINE)


def _header_and_body(text: str) -> tuple[str, str]:
    head, sep, body = text.partition("\nK:")
    return head, sep + body


@pytest.mark.parametrize("collection", ["corpus:essenFolksong", "corpus:oneills1850"])
def test_real_headers_lose_their_provenance_and_keep_the_music(collection):
    tunes = [t.text for t in load([collection]).tunes[:200]]
    with_provenance = [t for t in tunes if _PROVENANCE_LINE.search(_header_and_body(t)[0])]
    assert len(with_provenance) > 50  # the collections carry it
    for text in with_provenance:
        clean = drop_provenance(text)
        head, body = _header_and_body(clean)
        assert not _PROVENANCE_LINE.search(head)
        assert body == _header_and_body(text)[1]  # the K: line and the body, untouched
        kept = [
            line
            for line in _header_and_body(text)[0].split("\n")
            if line[:2] in ("X:", "T:", "M:", "L:", "Q:")
        ]
        assert [
            line for line in head.split("\n") if line[:2] in ("X:", "T:", "M:", "L:", "Q:")
        ] == kept
        for line in head.split("\n"):
            if line.startswith("R:"):
                assert "," not in line and ";" not in line


def test_an_essen_header_and_a_genre_list():
    text = (
        "X:1\nT: Herzog Ernst\nN: A0004B\nO: Europa, Mitteleuropa, Deutschland\n"
        "R: Romanze, Ballade, Lied\nM: 4/4\nL: 1/8\nK: A\nN: in the body, kept\nd2d2 | dd2d |\n"
    )
    assert drop_provenance(text) == (
        "X:1\nT: Herzog Ernst\nR: Romanze\nM: 4/4\nL: 1/8\nK: A\nN: in the body, kept\n"
        "d2d2 | dd2d |\n"
    )


def test_the_prompt_is_the_users_and_stays():
    prompt = "X:1\nT:Mine\nO: Galway\nZ: me\n"
    text = prompt + "S: a book\nM:6/8\nK:G\nGAB|\n"
    assert drop_provenance(text, prompt) == prompt + "M:6/8\nK:G\nGAB|\n"
    # A text that does not start with the prompt is treated as all generated.
    assert drop_provenance("X:2\nO: x\nK:C\nC|\n", prompt) == "X:2\nK:C\nC|\n"


def test_a_line_still_being_written_is_judged_by_what_it_has():
    assert drop_provenance("X:1\nT:A\nO: Eur") == "X:1\nT:A\n"
    assert drop_provenance("X:1\nT:A\nR: Romanze, Bal") == "X:1\nT:A\nR: Romanze, Bal"
    assert drop_provenance("X:1\nT:A\nR: Romanze, Ballade\n") == "X:1\nT:A\nR: Romanze\n"
    assert drop_provenance("") == ""
