"""EventTokenizer: events as tokens with the char tokenizer's interface, settings as plain data,
and checkpoints of event models (format 2) beside char ones (still format 1)."""

from __future__ import annotations

import pytest
import torch

from models.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import CharRNN
from models.tokenizer import (
    SPECIALS,
    CharTokenizer,
    EventTokenizer,
    tokenizer_from_dict,
)

SETTINGS = {"encoding": "remi", "version": 1, "miditok": {"config": {"pitch_range": [21, 109]}}}
PIECES = ["Bar_None Position_0 Pitch_60 Duration_1.0.8 ", "Bar_None Position_8 Pitch_9 "]


def test_events_are_tokens_and_texts_concatenate() -> None:
    tok = EventTokenizer.fit(PIECES, SETTINGS)
    assert tok.vocab[:3] == list(SPECIALS)
    # Natural order: Pitch_9 before Pitch_60, Position_0 before Position_8.
    assert tok.vocab[3:] == [
        "Bar_None",
        "Duration_1.0.8",
        "Pitch_9",
        "Pitch_60",
        "Position_0",
        "Position_8",
    ]
    ids = tok.encode_tune(PIECES[0])
    assert ids[0] == tok.start_id and ids[-1] == tok.end_id and len(ids) == 6
    assert tok.decode(ids) == PIECES[0]
    assert tok.decode(ids, specials=True).split()[0] == "<start>"
    # A prompt plus what the sampler adds is still a text of events.
    assert tok.decode(tok.encode(PIECES[0] + tok.decode(ids))) == PIECES[0] * 2
    assert (tok.kind, tok.unit, tok.sample_suffix) == ("events", "event", ".events.txt")


def test_unknown_events_and_growth() -> None:
    tok = EventTokenizer.fit(PIECES, SETTINGS)
    assert tok.encode("Pitch_61 Pitch_60 ").tolist() == [tok.unk_id, tok.vocab.index("Pitch_60")]
    assert tok.unknown_chars(["Pitch_61 Bar_None "]) == {"Pitch_61"}
    grown = tok.extended(["Pitch_61 Pitch_100 Bar_None "])
    assert grown.vocab == [*tok.vocab, "Pitch_61", "Pitch_100"]
    assert grown.settings == tok.settings
    with pytest.raises(KeyError, match="event 'Pitch_61'"):
        EventTokenizer(tok.vocab, SETTINGS, unknown="error").encode("Pitch_61 ")


def test_settings_are_copied_and_compared() -> None:
    settings = {"encoding": "tsd", "nested": {"a": [1, 2]}}
    tok = EventTokenizer.fit(PIECES, settings)
    settings["nested"]["a"].append(3)
    assert tok.settings["nested"]["a"] == [1, 2]
    assert tok != EventTokenizer(tok.vocab, {"encoding": "remi"})
    assert tok != CharTokenizer([*SPECIALS, "a"])
    back = tokenizer_from_dict(tok.to_dict())
    assert isinstance(back, EventTokenizer) and back == tok


@pytest.mark.parametrize("bad", [[*SPECIALS, "two words"], [*SPECIALS, ""]])
def test_event_names_hold_no_spaces(bad) -> None:
    with pytest.raises(ValueError, match="event name"):
        EventTokenizer(bad)


def test_tokenizer_from_dict_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        tokenizer_from_dict({"kind": "pixels", "vocab": list(SPECIALS)})
    with pytest.raises(ValueError, match="vocabulary"):
        tokenizer_from_dict({"kind": "events", "vocab": "abc"})
    assert isinstance(tokenizer_from_dict({"vocab": [*SPECIALS, "a"]}), CharTokenizer)


def test_event_checkpoints_are_format_2_and_char_ones_stay_format_1(tmp_path) -> None:
    cfg = RunConfig(model=ModelConfig(hidden=16, embedding=8, dropout=0.0))
    for tok, version in ((EventTokenizer.fit(PIECES, SETTINGS), 2), (CharTokenizer.fit(["ab"]), 1)):
        model = CharRNN(cfg.model, len(tok))
        path = tmp_path / f"{tok.kind}.pt"
        save_checkpoint(path, Checkpoint(cfg, tok, model.state_dict()))
        raw = torch.load(path, weights_only=True)
        assert raw["format_version"] == version
        assert ("tokenizer" in raw) == (version == 2)
        back = load_checkpoint(path)
        assert type(back.tokenizer) is type(tok) and back.tokenizer == tok
