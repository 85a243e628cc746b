"""Fixtures for the engine (`models/`) tests.

Real data: the 185 tunes of music21's miscFolk corpus, loaded once a session. Everything that
trains uses tiny networks and a few dozen tunes so the whole folder runs in well under a minute
on two CPU cores.

Torch runs single-threaded here: on a two-core machine shared with a training run, two intra-op
threads contend so badly that a tiny LSTM step takes 100x longer than with one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

from models.config import ModelConfig, RunConfig, TrainConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.corpus import load


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def folk_texts() -> list[str]:
    texts = [t.text for t in load(["corpus:miscFolk"]).tunes]
    assert len(texts) == 185
    return texts


@pytest.fixture(scope="session")
def folk_tokenizer(folk_texts: list[str]) -> CharTokenizer:
    return CharTokenizer.fit(folk_texts)


@pytest.fixture(scope="session")
def folk_ids(folk_texts: list[str], folk_tokenizer: CharTokenizer) -> list:
    return [folk_tokenizer.encode_tune(t) for t in folk_texts]


@pytest.fixture
def tiny_model(folk_tokenizer: CharTokenizer) -> Callable[..., CharRNN]:
    """`tiny_model(arch="gru", hidden=32, layers=1, embedding=16, seed=0)` in eval mode."""

    def make(
        arch: str = "gru", hidden: int = 32, layers: int = 1, embedding: int = 16, seed: int = 0
    ) -> CharRNN:
        torch.manual_seed(seed)
        cfg = ModelConfig(arch=arch, hidden=hidden, layers=layers, embedding=embedding, dropout=0)
        return CharRNN(cfg, len(folk_tokenizer)).eval()

    return make


@pytest.fixture
def tiny_cfg() -> Callable[..., RunConfig]:
    """A small, fast run configuration; keyword arguments override train (or model) fields."""

    model_fields = {"arch", "hidden", "layers", "embedding", "dropout"}

    def make(**overrides) -> RunConfig:
        model = {"arch": "lstm", "hidden": 32, "layers": 1, "embedding": 16, "dropout": 0.1}
        train = {
            "optimizer": "adam",
            "lr": 1e-2,
            "batch_size": 4,
            "seq_len": 32,
            "epochs": 1,
            "warmup_steps": 3,
            "eval_every": 1000,
            "patience": 0,
            "sample_chars": 0,
            "device": "cpu",
            "seed": 7,
        }
        for key, value in overrides.items():
            (model if key in model_fields else train)[key] = value
        return RunConfig(model=ModelConfig(**model), train=TrainConfig(**train), recipe="test")

    return make
