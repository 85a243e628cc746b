"""Tokenizers' smaller promises: the unknown-token policy travels everywhere (fit, extended,
to_dict and back), hashes follow the vocabulary, ids are int64 even for an empty text, and the
refusals say what is wrong. Found by mutation testing (benchmarks/mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.tokenizer import SPECIALS, CharTokenizer, EventTokenizer, tokenizer_from_dict


def test_ids_are_int64_also_for_an_empty_text() -> None:
    # numpy makes an empty list float64 unless told otherwise; an index tensor must be int64.
    for tok in (CharTokenizer([*SPECIALS, "a"]), EventTokenizer([*SPECIALS, "Bar_None"])):
        assert tok.encode("").dtype == np.int64
        assert tok.encode("").tolist() == []
        assert tok.encode_tune("").tolist() == [0, 1]


@pytest.mark.parametrize("policy", ["skip", "error"])
def test_the_unknown_policy_survives_fit_extended_and_to_dict(policy: str) -> None:
    chars = CharTokenizer.fit(["abc"], unknown=policy)
    events = EventTokenizer.fit(["Bar_None Pitch_60 "], {"encoding": "remi"}, unknown=policy)
    for tok in (chars, events):
        assert tok.unknown == policy
        grown = tok.extended(["Ω" if tok is chars else "Pitch_61 "])
        assert grown.unknown == policy
        data = tok.to_dict()
        assert data["unknown"] == policy
        back = tokenizer_from_dict(data)
        assert type(back) is type(tok) and back.unknown == policy
    # "skip" drops what it does not know, also after a round trip through plain data.
    if policy == "skip":
        back = tokenizer_from_dict(chars.to_dict())
        assert back.encode("aΩb").tolist() == [3, 4]


def test_to_dict_is_plain_data_of_its_own() -> None:
    tok = EventTokenizer([*SPECIALS, "Bar_None"], {"miditok": {"pitch_range": [21, 109]}})
    data = tok.to_dict()
    assert data == {
        "kind": "events",
        "vocab": [*SPECIALS, "Bar_None"],
        "unknown": "unk",
        "settings": {"miditok": {"pitch_range": [21, 109]}},
    }
    data["settings"]["miditok"]["pitch_range"].append(0)
    data["vocab"].append("Pitch_60")
    assert tok.settings == {"miditok": {"pitch_range": [21, 109]}}
    assert tok.vocab == [*SPECIALS, "Bar_None"]
    assert CharTokenizer([*SPECIALS, "a"]).to_dict() == {
        "kind": "chars",
        "vocab": [*SPECIALS, "a"],
        "unknown": "unk",
    }


def test_an_event_tokenizer_without_settings_has_empty_ones() -> None:
    back = tokenizer_from_dict({"kind": "events", "vocab": [*SPECIALS, "Bar_None"]})
    assert isinstance(back, EventTokenizer)
    assert back.settings == {} and back.unknown == "unk"


def test_hashes_follow_the_vocabulary() -> None:
    a, b = [*SPECIALS, "a", "b"], [*SPECIALS, "b", "a"]
    assert len({hash(CharTokenizer(a)), hash(CharTokenizer(b))}) == 2
    assert hash(EventTokenizer(a)) == hash(EventTokenizer(a, {"x": 1}))
    assert len({hash(EventTokenizer(a)), hash(EventTokenizer(b))}) == 2
    assert len({CharTokenizer(a), CharTokenizer(a, unknown="skip"), CharTokenizer(b)}) == 2


def test_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ValueError) as info:
        CharTokenizer(["a", "b", "c"])
    assert str(info.value) == "vocabulary must begin with ('<start>', '<end>', '<unk>')"
    with pytest.raises(ValueError) as info:
        CharTokenizer([*SPECIALS, "a", "a"])
    assert str(info.value) == "vocabulary has duplicate entries"
    with pytest.raises(ValueError) as info:
        tokenizer_from_dict({"kind": "pixels", "vocab": list(SPECIALS)})
    assert str(info.value) == "unknown tokenizer kind 'pixels' (known: chars, events)"
    # A list that holds something other than strings, and a string instead of a list.
    for vocab in ([*SPECIALS, 5], "abc", None):
        with pytest.raises(ValueError) as info:
            tokenizer_from_dict({"kind": "chars", "vocab": vocab})
        assert str(info.value) == "the tokenizer's vocabulary is missing or not a list of strings"
    with pytest.raises(ValueError) as info:
        tokenizer_from_dict({"kind": "events", "vocab": list(SPECIALS), "settings": [1]})
    assert str(info.value) == "the event tokenizer's settings are not a dict"
