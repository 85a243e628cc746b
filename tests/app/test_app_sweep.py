"""Sweeps: parsing typed values, planning runs from a base config, labelling differences."""

from __future__ import annotations

import dataclasses
import re

import pytest

from models.config import ModelConfig, RunConfig, TrainConfig
from workbench.sweep import (
    SWEEPABLE,
    build_sweep,
    differing_knobs,
    get_value,
    knob_label,
    parse_values,
)


def test_sweepable_covers_the_brief_and_exists_in_the_config():
    assert set(SWEEPABLE) == {
        "arch",
        "hidden",
        "layers",
        "embedding",
        "dropout",
        "optimizer",
        "lr",
        "batch_size",
        "seq_len",
        "weight_decay",
        "grad_clip",
        "schedule",
        "seed",
        "momentum",
    }
    base = RunConfig()
    for name, knob in SWEEPABLE.items():
        assert isinstance(get_value(base, name), knob.kind)


@pytest.mark.parametrize(
    ("knob", "text", "expected"),
    [
        ("hidden", "128, 256,512", [128, 256, 512]),
        ("hidden", " 64 ,", [64]),
        ("lr", "1e-3, 0.003", [0.001, 0.003]),
        ("dropout", "0, 0.5", [0.0, 0.5]),
        ("arch", "LSTM, gru", ["lstm", "gru"]),
        ("optimizer", "sgd,adamw", ["sgd", "adamw"]),
        ("seed", "1, 2, 3", [1, 2, 3]),
    ],
)
def test_parse_values_types(knob, text, expected):
    values = parse_values(knob, text)
    assert values == expected
    assert all(type(v) is type(e) for v, e in zip(values, expected, strict=True))


@pytest.mark.parametrize(
    ("knob", "text", "message"),
    [
        ("hidden", "128, 12x", "hidden: '12x' is not an integer"),
        ("hidden", "1.5", "hidden: '1.5' is not an integer"),
        ("hidden", "0", "hidden: 0 must be >= 1"),
        ("lr", "fast", "lr: 'fast' is not a number"),
        ("lr", "0", "lr: 0.0 must be > 0"),
        ("lr", "nan", "lr: 'nan' is not a finite number"),
        ("dropout", "1", "dropout: 1.0 must be in [0, 1)"),
        ("arch", "transformer", "arch: 'transformer' is not one of rnn, lstm, gru"),
        ("hidden", "", "hidden: type one or more values"),
        ("hidden", "64,,128", "hidden: value 2 is empty"),
        ("hidden", "64, 64", "hidden: 64 is listed twice"),
        ("epochs", "1", "'epochs' cannot be swept"),
    ],
)
def test_parse_values_errors(knob, text, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        parse_values(knob, text)


def test_build_sweep_copies_base_and_changes_one_knob():
    base = RunConfig(model=ModelConfig(hidden=32), train=TrainConfig(lr=0.01), recipe="x")
    runs = build_sweep(base, "hidden", [64, 128], "sweep")
    assert [name for name, _ in runs] == ["sweep-hidden-64", "sweep-hidden-128"]
    for (_, cfg), hidden in zip(runs, [64, 128], strict=True):
        assert cfg.model.hidden == hidden
        assert dataclasses.replace(cfg.model, hidden=32) == base.model
        assert cfg.train == base.train and cfg.recipe == "x"
        assert cfg.train is not base.train  # deep copies: editing one run leaves base alone
    assert base.model.hidden == 32


def test_build_sweep_names_floats_and_validates():
    runs = build_sweep(RunConfig(), "lr", [1e-3, 1e-5], "lr-test")
    assert [n for n, _ in runs] == ["lr-test-lr-0.001", "lr-test-lr-1e-05"]
    with pytest.raises(ValueError, match="hidden: 0 must be >= 1"):
        build_sweep(RunConfig(), "hidden", [64, 0])
    with pytest.raises(ValueError, match="not an integer"):
        build_sweep(RunConfig(), "hidden", [1.5])
    with pytest.raises(ValueError, match="name prefix"):
        build_sweep(RunConfig(), "hidden", [64], "bad/name")
    with pytest.raises(ValueError, match="no values"):
        build_sweep(RunConfig(), "hidden", [])
    # A knob that passes its own check can still break the whole config's validation.
    bad_base = RunConfig(train=TrainConfig(epochs=-1))
    with pytest.raises(ValueError, match=r"hidden = 64: .*epochs"):
        build_sweep(bad_base, "hidden", [64])


def test_differing_knobs_and_labels():
    a = RunConfig(model=ModelConfig(hidden=64)).to_dict()
    b = RunConfig(model=ModelConfig(hidden=128), train=TrainConfig(lr=0.01)).to_dict()
    assert differing_knobs([a]) == []
    assert differing_knobs([a, a]) == []
    assert differing_knobs([a, b]) == ["hidden", "lr"]
    assert knob_label(b, ["hidden", "lr"]) == "hidden 128, lr 0.01"
