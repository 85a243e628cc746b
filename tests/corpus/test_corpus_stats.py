"""Dataset statistics: counts on the real music21 corpora, key/meter normalisation, top-N."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.corpus import LoadResult, Tune, dataset_stats, load
from workbench.corpus.stats import (
    normalise_key,
    normalise_meter,
    top_counts,
    tune_key,
    tune_meter,
)


@pytest.fixture(scope="module")
def misc_folk() -> LoadResult:
    return load(["corpus:miscFolk"])


def _tune(text: str) -> Tune:
    return Tune(text, "test.abc", 0, 1)


def test_oneills_is_mostly_g_and_d_in_jig_and_reel_time(oneills):
    stats = dataset_stats(oneills.tunes)
    assert stats.tunes == 2009
    assert stats.characters == oneills.chars == 775_393
    assert len(stats.vocabulary) == 93
    assert stats.meters == {
        "6/8": 663,
        "2/2": 562,  # written C|
        "4/4": 241,  # 212 written C and 29 written 4/4
        "2/4": 227,
        "3/4": 218,
        "9/8": 86,
        "3/8": 8,
        "12/8": 2,
        "5/4": 1,
        "6/4": 1,
    }
    assert list(stats.keys.items())[:6] == [
        ("G", 752),
        ("D", 546),
        ("A", 222),
        ("Em", 87),
        ("Gm", 86),
        ("Am", 85),
    ]
    # "Dmix", "DMix" and the modes' other spellings count together.
    assert stats.keys["Dmix"] == 14
    assert stats.keys["Ador"] == 6
    assert sum(stats.keys.values()) == sum(stats.meters.values()) == 2009


def test_misc_folk_keys_spelt_out_in_words_are_normalised(misc_folk):
    stats = dataset_stats(misc_folk.tunes)
    assert stats.tunes == 185
    assert stats.characters == 64_289
    assert len(stats.vocabulary) == 91
    assert stats.meters == {
        "2/4": 48,
        "6/8": 45,
        "4/4": 39,
        "3/4": 24,
        "9/8": 17,
        "2/2": 6,
        "6/4": 3,
        "3/2": 2,
        "9/4": 1,
    }
    # The file writes "G Minor", "A Minor", "F Mixolydian", "G Dorian", ...
    assert stats.keys == {
        "G": 103,
        "D": 47,
        "C": 6,
        "Gm": 6,
        "Am": 4,
        "Eb": 4,
        "Bb": 3,
        "Dm": 2,
        "Em": 2,
        "Ab": 1,
        "Bm": 1,
        "Cm": 1,
        "F": 1,
        "F#m": 1,
        "Fmix": 1,
        "Gdor": 1,
        "Gmix": 1,
    }


def test_ryans_key_comments_are_ignored(ryans):
    stats = dataset_stats(ryans.tunes)
    assert stats.tunes == 1059
    # Two tunes write "K:Dmix % ..." and one "K:Glyd % Two sharps in the book".
    assert stats.keys["Dmix"] == 10
    assert stats.keys["Glyd"] == 4
    assert not any("%" in key or " " in key for key in stats.keys)
    assert stats.meters == {"2/4": 463, "2/2": 301, "6/8": 200, "4/4": 53, "9/8": 41, "12/8": 1}


def test_per_tune_values_follow_input_order(misc_folk):
    tunes = misc_folk.tunes[:20]
    stats = dataset_stats(tunes)
    assert stats.lengths.dtype == np.int64
    assert stats.lengths.tolist() == [len(t.text) for t in tunes]
    assert list(stats.tune_keys) == [tune_key(t.text) for t in tunes]
    assert list(stats.tune_meters) == [tune_meter(t.text) for t in tunes]
    assert stats.vocabulary == "".join(sorted({c for t in tunes for c in t.text}))


def test_crafted_tunes():
    tunes = [
        _tune("X:1\nT:One\nM:C|\nL:1/8\nK:A Dorian\nABcd|\nM:3/4\nabc|"),
        _tune("X:2\nT:No meter\nK:Gmin clef=bass\nGABc|"),
        _tune("X:3\nT:Body field\nK:D\nM:6/8\nDEF|"),  # an M: after K: is a change, not the header
        _tune("X:4\nM: 6 / 8 % jig\nK: em\nEFG|"),
    ]
    stats = dataset_stats(tunes)
    assert stats.tune_meters == ("2/2", "none", "none", "6/8")
    assert stats.tune_keys == ("Ador", "Gm", "D", "Em")
    assert stats.meters == {"none": 2, "2/2": 1, "6/8": 1}
    # Equal counts are listed by label, not in the order the tunes came.
    assert list(stats.keys.items()) == [("Ador", 1), ("D", 1), ("Em", 1), ("Gm", 1)]
    assert stats.characters == sum(len(t.text) for t in tunes)


def test_no_tunes():
    stats = dataset_stats([])
    assert (stats.tunes, stats.characters, stats.vocabulary) == (0, 0, "")
    assert stats.lengths.shape == (0,)
    assert stats.meters == stats.keys == {}


def test_tune_without_key_field():
    # <start>/<end> files may hold tunes with no K: line at all.
    assert tune_key("T:Loose\nabc|") == "none"
    assert tune_meter("T:Loose\nM:3/4\nabc|") == "3/4"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("G", "G"),
        ("Gm", "Gm"),
        ("G Minor", "Gm"),
        ("gmin", "Gm"),
        ("E Aeolian", "Em"),
        ("A Dorian", "Ador"),
        ("ADor", "Ador"),
        ("Adorian", "Ador"),
        ("AMix", "Amix"),
        ("D Mixolydian % hexatonic", "Dmix"),
        ("Bb", "Bb"),
        ("bb", "Bb"),
        ("Ebmaj", "Eb"),
        ("C Ionian", "C"),
        ("D Major", "D"),
        ("F# Minor", "F#m"),
        ("Bphr", "Bphr"),
        ("Bloc", "Bloc"),
        ("Glydian", "Glyd"),
        ("G clef=treble", "G"),
        ("G bass", "G"),  # a clef, not G flat
        ("Gm clef=bass middle=d", "Gm"),
        ("D exp _b ^f", "D"),
        ("  A  ", "A"),
        ("HP", "Hp"),
        ("Hp", "Hp"),
        ("", "none"),
        ("none", "none"),
        ("clef=bass", "none"),
        ("treble", "none"),
        ("H", "H"),
        ("middle=d", "none"),
        ("transpose=-2", "none"),
        ("octave=1 clef=bass", "none"),
        ("Gm % minor % really", "Gm"),  # a comment runs from the first % to the line end
        ("Gmi", "G"),  # "mi" is neither "m" nor a three-letter mode: the mode was left out
    ],
)
def test_normalise_key(value, expected):
    assert normalise_key(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("C", "4/4"),
        ("C|", "2/2"),
        ("c", "4/4"),
        ("6/8", "6/8"),
        (" 6 / 8 ", "6/8"),
        ("9/8 % Aird bars it in 6/8", "9/8"),
        ("", "none"),
        ("none", "none"),
        ("None", "none"),
        ("6/8 % jig % or slide", "6/8"),
        ("FREI4/4", "FREI4/4"),
        ("3/4+2/4", "3/4+2/4"),
    ],
)
def test_normalise_meter(value, expected):
    assert normalise_meter(value) == expected


def test_top_counts_puts_the_rest_in_other():
    counts = {"a": 5, "b": 3, "c": 3, "d": 1, "e": 1}
    assert top_counts(counts, 2) == [("a", 5), ("b", 3), ("other", 5)]
    assert top_counts(counts, 5) == [("a", 5), ("b", 3), ("c", 3), ("d", 1), ("e", 1)]
    assert top_counts({}, 3) == []
    assert sum(n for _, n in top_counts(counts, 1)) == sum(counts.values())


def test_vocabulary_holds_only_characters_of_the_tunes():
    # Two <start>/<end> tunes with no X: line: no "X" may appear from joining them.
    tunes = [_tune("T:a\nK:D\nab|"), _tune("K:G\ng2|")]
    assert dataset_stats(tunes).vocabulary == "".join(sorted(set("T:a\nK:D\nab|K:G\ng2|")))
    assert "X" not in dataset_stats(tunes).vocabulary


def test_top_counts_breaks_ties_by_label_and_keeps_twelve_by_default():
    counts = {"x": 1, "b": 3, "a": 3, "z": 5}
    assert top_counts(counts) == [("z", 5), ("a", 3), ("b", 3), ("x", 1)]
    many = {f"k{number:02d}": 20 - number for number in range(14)}
    assert top_counts(many) == [(f"k{number:02d}", 20 - number) for number in range(12)] + [
        ("other", 8 + 7)
    ]
