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


#: Plain SGD with nothing that softens a step (no warm-up, schedule or dropout) and an
#: evaluation every 4 steps: with a huge learning rate and no clipping it overflows within a
#: few steps (the divergence tests), with lr 0.1 and clipping it trains calmly.
PLAIN_SGD = {
    "optimizer": "sgd",
    "warmup_steps": 0,
    "schedule": "constant",
    "eval_every": 4,
    "dropout": 0.0,
}
