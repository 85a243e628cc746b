"""Run configurations, the named recipes, and device selection."""

from __future__ import annotations

import json

import pytest
import torch

from models.config import (
    FINE_TUNE_LR,
    FINE_TUNE_WARMUP,
    RECIPES,
    ModelConfig,
    RunConfig,
    TrainConfig,
    fine_tune_defaults,
    fine_tune_model,
    recipe,
)
from models.device import describe_device, resolve_device
from models.errors import DeviceError


def test_reports_gru_recipe() -> None:
    cfg = recipe("reports-gru")
    assert cfg.recipe == "reports-gru"
    m, t = cfg.model, cfg.train
    assert (m.arch, m.hidden, m.layers, m.embedding, m.dropout) == ("gru", 100, 1, 0, 0.0)
    assert (t.optimizer, t.lr, t.momentum, t.nesterov) == ("sgd", 0.01, 0.9, True)
    assert (t.batch_size, t.seq_len, t.batching) == (15, 25, "walk")
    assert (t.schedule, t.warmup_steps, t.grad_clip) == ("constant", 0, 0.0)
    assert (t.patience, t.eval_unit, t.eval_every) == (2, "epochs", 1)
    cfg.validate()


def test_every_recipe_is_valid_and_default_is_the_defaults() -> None:
    assert recipe("default").model == ModelConfig()
    assert recipe("default").train == TrainConfig()
    for name in RECIPES:
        cfg = recipe(name)
        cfg.validate()
        assert cfg.recipe == name
    assert recipe("reports-lstm").model.arch == "lstm"
    assert recipe("reports-rnn").train.optimizer == "rmsprop"
    # A recipe is a fresh object each time.
    a = recipe("reports-gru")
    a.train.lr = 1.0
    assert recipe("reports-gru").train.lr == 0.01


def test_unknown_recipe() -> None:
    with pytest.raises(ValueError, match="unknown recipe 'nope'"):
        recipe("nope")


def test_run_config_round_trip_through_json() -> None:
    cfg = RunConfig(
        model=ModelConfig(arch="rnn", hidden=77, layers=3, embedding=0, dropout=0.5),
        train=TrainConfig(optimizer="rmsprop", lr=0.123, batching="walk", time_budget=9.5),
        recipe="mine",
    )
    back = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg
    assert back.to_dict() == cfg.to_dict()


def test_unknown_keys_are_ignored_and_missing_ones_defaulted() -> None:
    data = recipe("reports-gru").to_dict()
    data["model"]["attention"] = True
    data["train"]["warp_drive"] = 9
    data["extra"] = {"a": 1}
    back = RunConfig.from_dict(data)
    assert back == recipe("reports-gru")
    assert RunConfig.from_dict({}) == RunConfig(recipe="custom")
    partial = RunConfig.from_dict({"model": {"hidden": 8}, "train": {"lr": 0.5}})
    assert partial.model == ModelConfig(hidden=8)
    assert partial.train == TrainConfig(lr=0.5)


@pytest.mark.parametrize(
    ("section", "changes"),
    [
        ("model", {"arch": "transformer"}),
        ("model", {"hidden": 0}),
        ("model", {"embedding": -1}),
        ("model", {"dropout": 1.0}),
        ("train", {"optimizer": "lbfgs"}),
        ("train", {"schedule": "linear"}),
        ("train", {"batching": "random"}),
        ("train", {"eval_unit": "minutes"}),
        ("train", {"lr": 0.0}),
        ("train", {"epochs": -1}),
        ("train", {"smooth_evals": 0}),
        ("train", {"min_delta": -0.1}),
        ("train", {"val_fraction": 1.0}),
    ],
)
def test_invalid_configs(section: str, changes: dict) -> None:
    data = RunConfig().to_dict()
    data[section].update(changes)
    with pytest.raises(ValueError):
        RunConfig.from_dict(data).validate()


def test_resolve_cpu_and_auto() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("").type == expected
    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")
    assert describe_device(torch.device("cpu")).startswith("CPU (")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu(name: str) -> None:
    with pytest.raises(DeviceError, match="no CUDA"):
        resolve_device(name)


@pytest.mark.parametrize("name", ["tpu", "mps", "gpu", "cpu:0"])
def test_unknown_devices(name: str) -> None:
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device(name)


def test_a_recipe_file_overrides_the_defaults(tmp_path):
    path = tmp_path / "my-recipe.json"
    path.write_text(json.dumps({"model": {"hidden": 96}, "train": {"lr": 0.001}}))
    cfg = recipe(str(path))
    assert cfg.model.hidden == 96 and cfg.train.lr == 0.001
    assert cfg.model.arch == "lstm" and cfg.train.batch_size == TrainConfig().batch_size
    assert cfg.recipe == "my-recipe.json"


def test_the_shipped_recipe_file_is_valid():
    from pathlib import Path

    cfg = recipe(str(Path(__file__).parents[2] / "models" / "pretrained" / "recipe.json"))
    cfg.validate()
    assert cfg.train.time_budget > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{not json", "not a JSON recipe"), ('{"model": 3}', "a recipe is")],
)
def test_a_bad_recipe_file_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        recipe(str(path))
    assert str(path) in str(info.value)


def test_fine_tuning_keeps_the_shape_and_takes_the_recipes_regularisation():
    shipped = ModelConfig(arch="gru", hidden=96, layers=2, embedding=16, dropout=0.25)
    model = fine_tune_model(shipped)
    assert (model.arch, model.hidden, model.layers, model.embedding) == ("gru", 96, 2, 16)
    assert model.dropout == ModelConfig().dropout != shipped.dropout
    assert fine_tune_model(shipped, 0.1).dropout == 0.1
    assert shipped.dropout == 0.25  # the checkpoint's config is not changed
    train = TrainConfig()
    fine_tune_defaults(train, lr_given=False, warmup_given=False)
    assert (train.lr, train.warmup_steps) == (FINE_TUNE_LR, FINE_TUNE_WARMUP)
    given = TrainConfig(lr=5e-4, warmup_steps=7)
    fine_tune_defaults(given, lr_given=True, warmup_given=True)
    assert (given.lr, given.warmup_steps) == (5e-4, 7)
