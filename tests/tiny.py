"""Tiny training settings shared by the tests that really train (seconds, not minutes)."""

from __future__ import annotations

from models.config import ModelConfig, RunConfig, TrainConfig

# The same model as CLI options.
TINY_CLI_ARGS = ["--hidden", "32", "--embedding", "16", "--batch-size", "8", "--seq-len", "32"]


def tiny_run_config(**train) -> RunConfig:
    """A 32-unit LSTM on one thread that evaluates every 10 steps; `train` overrides."""
    settings = {
        "batch_size": 8,
        "seq_len": 32,
        "epochs": 50,
        "eval_every": 10,
        "patience": 0,
        "sample_chars": 40,
        "device": "cpu",
        "threads": 1,
        **train,
    }
    model = ModelConfig(hidden=32, embedding=16, dropout=0.0)
    return RunConfig(model=model, train=TrainConfig(**settings), recipe="test")
