"""CharTokenizer: ids of the specials, round trips on real tunes, unknown characters, growth."""

from __future__ import annotations

import numpy as np
import pytest

from models.tokenizer import END, SPECIALS, START, UNK, CharTokenizer


def test_specials_are_ids_0_1_2_and_single_tokens(folk_tokenizer: CharTokenizer) -> None:
    tok = folk_tokenizer
    assert tok.vocab[:3] == [START, END, UNK]
    assert (tok.start_id, tok.end_id, tok.unk_id) == (0, 1, 2)
    ids = tok.encode_tune("ab")
    assert ids.tolist() == [0, tok.vocab.index("a"), tok.vocab.index("b"), 1]
    assert ids.dtype == np.int64
    # The names of the specials are not spelled out character by character.
    assert tok.decode(ids, specials=True) == "<start>ab<end>"
    assert tok.decode(ids) == "ab"


def test_fit_vocabulary_is_sorted_characters_of_the_corpus(folk_texts: list[str]) -> None:
    tok = CharTokenizer.fit(folk_texts)
    chars = sorted(set("".join(folk_texts)))
    assert tok.vocab == [*SPECIALS, *chars]
    assert len(tok) == len(chars) + 3
    rare = CharTokenizer.fit(folk_texts, min_count=50)
    counts = {c: "".join(folk_texts).count(c) for c in chars}
    assert rare.vocab[3:] == [c for c in chars if counts[c] >= 50]
    assert len(rare) < len(tok)


def test_round_trip_of_every_real_tune(
    folk_texts: list[str], folk_tokenizer: CharTokenizer
) -> None:
    for text in folk_texts:
        ids = folk_tokenizer.encode_tune(text)
        assert len(ids) == len(text) + 2
        assert ids[0] == 0 and ids[-1] == 1
        assert 2 not in ids[1:-1].tolist()  # nothing unknown in its own corpus
        assert folk_tokenizer.decode(ids) == text
        assert folk_tokenizer.decode(folk_tokenizer.encode(text)) == text


def test_unknown_policy_unk(folk_tokenizer: CharTokenizer) -> None:
    tok = CharTokenizer(folk_tokenizer.vocab, unknown="unk")
    assert "Ω" not in tok.vocab
    ids = tok.encode("aΩb")
    assert ids.tolist() == [tok.vocab.index("a"), 2, tok.vocab.index("b")]
    assert tok.decode(ids) == "ab"
    assert tok.decode(ids, specials=True) == "a<unk>b"
    assert tok.unknown_chars(["aΩb", "€"]) == {"Ω", "€"}


def test_unknown_policy_skip(folk_tokenizer: CharTokenizer) -> None:
    tok = CharTokenizer(folk_tokenizer.vocab, unknown="skip")
    assert tok.encode("aΩb", start=True, end=True).tolist() == [
        0,
        tok.vocab.index("a"),
        tok.vocab.index("b"),
        1,
    ]


def test_unknown_policy_error(folk_tokenizer: CharTokenizer) -> None:
    tok = CharTokenizer(folk_tokenizer.vocab, unknown="error")
    with pytest.raises(KeyError, match="Ω"):
        tok.encode("aΩb")
    assert tok.decode(tok.encode("ab")) == "ab"


def test_unknown_policy_must_be_known() -> None:
    with pytest.raises(ValueError, match="policy"):
        CharTokenizer([*SPECIALS, "a"], unknown="ignore")


def test_extended_keeps_old_ids_and_appends_sorted_new_chars(
    folk_texts: list[str], folk_tokenizer: CharTokenizer
) -> None:
    old = CharTokenizer.fit(folk_texts[:5])
    new = old.extended(folk_texts)
    assert new.vocab[: len(old)] == old.vocab
    added = new.vocab[len(old) :]
    assert added == sorted(set("".join(folk_texts)) - set(old.vocab))
    assert added  # the first five tunes do not use every character of the corpus
    assert set(new.vocab) == set(folk_tokenizer.vocab)
    for text in folk_texts[:5]:
        assert new.encode(text).tolist() == old.encode(text).tolist()
    # Nothing new: the same vocabulary.
    assert old.extended(folk_texts[:5]) == old
    grown = folk_tokenizer.extended(["Ωa€"])
    assert grown.vocab == [*folk_tokenizer.vocab, *sorted("Ω€")]


@pytest.mark.parametrize(
    "vocab",
    [
        [*SPECIALS, "a", "b", "a"],  # duplicate character
        [*SPECIALS, "a", START],  # a special twice
        ["a", "b", "c"],  # no specials
        [END, START, UNK, "a"],  # specials in the wrong order
        [START, END, "a"],  # <unk> missing
        [],
    ],
)
def test_bad_vocabularies_are_refused(vocab: list[str]) -> None:
    with pytest.raises(ValueError):
        CharTokenizer(vocab)


def test_equality_is_by_vocabulary() -> None:
    a = CharTokenizer([*SPECIALS, "a", "b"])
    assert a == CharTokenizer([*SPECIALS, "a", "b"], unknown="skip")
    assert a != CharTokenizer([*SPECIALS, "b", "a"])
    assert hash(a) == hash(CharTokenizer([*SPECIALS, "a", "b"]))
