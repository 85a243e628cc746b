"""A tune's shape read through music21: final note against the key's tonic, bars, sections."""

from __future__ import annotations

import pytest

from workbench.corpus import load
from workbench.notation.convert import ConversionError
from workbench.notation.tune_shape import tune_shape


def _tune(body: str, key: str = "G", meter: str = "4/4") -> str:
    return f"X:1\nM:{meter}\nL:1/8\nK:{key}\n{body}\n"


def test_two_repeated_eight_bar_parts_ending_on_the_tonic():
    a = "|:" + "GABc d2B2|" * 7 + "A2F2 G4:|\n"
    b = "|:" + "d2g2 g2fg|" * 7 + "a2f2 g4:|\n"
    shape = tune_shape(_tune(a + b))
    assert shape.sections == (8, 8) and shape.bars == 16 and shape.repeated == 2
    assert shape.tonic == 7 and shape.final == 7 and shape.ends_on_tonic


def test_a_pickup_and_its_complement_make_one_bar():
    shape = tune_shape(_tune("D|" + "GABc d2B2|" * 3 + "A2F2 G3:|"))
    assert shape.bars == 4 and shape.sections == (4,)


def test_second_endings_replace_the_first():
    body = "|:" + "GABc d2B2|" * 5 + "GABc d2B2|1 A2F2 G4:|2 A2F2 G2z2|]"
    shape = tune_shape(_tune(body))
    assert shape.sections == (7,)
    assert shape.bars == sum(shape.sections) and shape.repeated == 1


@pytest.mark.parametrize(
    ("key", "last", "tonic", "ends"),
    [
        ("D", "d4", 2, True),
        ("Ador", "A4", 9, True),  # a mode's tonic, not its key signature's major
        ("Em", "B4", 4, False),  # the dominant
        ("F#m", "F4", 6, True),  # F is sharp in the key
        ("Bb", "[FB]4", 10, False),  # a chord's lowest note counts
        ("Bb", "[B,F]4", 10, True),
    ],
)
def test_final_note_against_the_keys_tonic(key, last, tonic, ends):
    shape = tune_shape(_tune(f"ABcd {last}|]", key=key))
    assert shape.tonic == tonic and shape.ends_on_tonic is ends


def test_a_grace_note_after_the_last_note_is_not_the_final():
    assert tune_shape(_tune("ABcd G4|]")).ends_on_tonic
    assert not tune_shape(_tune("ABcd {a}B4|]")).ends_on_tonic


def test_unreadable_abc_is_a_conversion_error():
    with pytest.raises(ConversionError):
        tune_shape("")


def test_real_dance_tunes_are_mostly_two_repeated_eight_bar_parts():
    tunes = [t.text for t in load(["corpus:oneills1850"]).tunes[:40]]
    shapes = [tune_shape(t) for t in tunes]
    # O'Neill's: nearly every tune ends on its tonic; two 8-bar parts are the commonest form.
    assert sum(s.ends_on_tonic for s in shapes) >= 36
    assert sum(s.sections == (8, 8) for s in shapes) >= 12
    assert all(s.bars == sum(s.sections) for s in shapes)
