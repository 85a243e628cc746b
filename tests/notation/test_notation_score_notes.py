"""Pairing the notes written in ABC with the elements verovio draws (the score's follow-along).

The render tests run verovio for real in its child process, on real corpus tunes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from workbench.corpus import load
from workbench.notation._render_worker import SVG_NS, drawn_notes
from workbench.notation.render import ScoreRenderer
from workbench.notation.score_notes import note_elements
from workbench.notation.written_notes import written_notes

SCALE = "X:1\nT:Scale\nM:4/4\nL:1/8\nK:C\nC D E F G A B c|[CEG]2 z2 {g}f2 x2|\n"


@pytest.fixture(scope="module")
def renderer():
    with ScoreRenderer() as r:
        yield r


def _svg_x(page: str, element: str) -> float:
    """The x of the first glyph (`<use transform="translate(x, y) ...">`) inside the element."""
    root = ET.fromstring(page)
    node = next(n for n in root.iter() if n.get("id") == element)
    use = next(node.iter(f"{{{SVG_NS}}}use"))
    match = re.search(r"translate\(([-\d.]+)", use.get("transform", ""))
    assert match, use.attrib
    return float(match.group(1))


def test_drawn_notes_are_the_written_notes_in_order(renderer):
    result = renderer.render(SCALE)
    assert result.ok
    kinds = [kind for kind, _page, _id in result.notes]
    assert kinds == ["note"] * 8 + ["chord", "rest", "note", "note", "rest"]
    pairs = note_elements(SCALE, result.notes)
    written = written_notes(SCALE)
    assert list(pairs) == [(start, end) for _kind, start, end in written]
    assert [SCALE[s:e] for s, e in pairs][:9] == ["C", "D", "E", "F", "G", "A", "B", "c", "[CEG]2"]
    # Each pair is the drawn note at that place: left to right along the staff, and a chord's
    # notes are not entries of their own.
    page = result.pages[0]
    xs = [_svg_x(page, element) for _page, element in list(pairs.values())[:8]]
    assert xs == sorted(xs) and len(set(xs)) == 8


def test_notes_after_the_last_bar_line_are_left_out_by_verovio_and_the_rest_pair(renderer):
    abc = "X:1\nT:t\nM:4/4\nL:1/8\nK:A\nd2d2 | dd2d | =fdd2\n"  # Essen-style: no final bar
    result = renderer.render(abc)
    assert len(result.notes) == 5  # verovio 6.4 drops "=fdd2"
    pairs = note_elements(abc, result.notes)
    assert [abc[s:e] for s, e in pairs] == ["d2", "d2", "d", "d2", "d"]


@pytest.mark.parametrize(
    "collection",
    ["corpus:oneills1850", "corpus:essenFolksong", "corpus:ryansMammoth", "corpus:airdsAirs"],
)
def test_real_tunes_pair_note_for_note(renderer, collection):
    tunes = load([collection]).tunes[:40:4]
    for tune in tunes:
        result = renderer.render(tune.text)
        assert result.ok, tune.title
        pairs = note_elements(tune.text, result.notes)
        assert pairs, (
            f"{tune.title}: {len(written_notes(tune.text))} written, {len(result.notes)} drawn"
        )
        assert len(set(pairs.values())) == len(pairs)  # one drawn element per written note


def test_pairing_is_refused_rather_than_wrong():
    abc = "X:1\nK:C\nC D z E|\n"
    drawn = [("note", 0, "a"), ("note", 0, "b"), ("rest", 0, "c"), ("note", 0, "d")]
    assert len(note_elements(abc, drawn)) == 4
    assert note_elements(abc, drawn[:3]) == {}  # a note before the last bar line is missing
    assert note_elements(abc, [*drawn, ("note", 0, "e")]) == {}  # one drawn too many
    swapped = [drawn[0], drawn[2], drawn[1], drawn[3]]
    assert note_elements(abc, swapped) == {}  # a rest against a note
    two_voices = "X:1\nK:C\nV:1\nC D z E|\nV:2\nC D z E|\n"
    assert note_elements(two_voices, drawn + drawn) == {}
    one_voice = "X:1\nV:1\nK:C\nC D z E|\n"
    assert len(note_elements(one_voice, drawn)) == 4


def test_drawn_notes_skip_chord_members_and_read_every_rest_kind():
    svg = (
        f'<svg xmlns="{SVG_NS}"><g class="measure"><g class="layer">'
        '<g id="n1" class="note"><g id="h" class="notehead"/></g>'
        '<g class="beam"><g id="c1" class="chord"><g id="c1a" class="note"/>'
        '<g id="c1b" class="note"/></g></g>'
        '<g id="r1" class="rest"/><g id="s1" class="space"/></g></g>'
        '<g id="m1" class="mRest"/><g id="m2" class="multiRest"/></svg>'
    )
    assert drawn_notes(ET.fromstring(svg)) == [
        ("note", "n1"),
        ("chord", "c1"),
        ("rest", "r1"),
        ("rest", "s1"),
        ("rest", "m1"),
        ("rest", "m2"),
    ]
