"""A short real training run on Bach chorales beats the bigram baseline on the same split, and
its checkpoint describes itself: events, encoding settings, plain data under weights_only."""

from __future__ import annotations

import json
import math

import pytest
import torch

from models.baseline import bigram_baseline
from models.checkpoint import load_checkpoint
from models.config import ModelConfig, RunConfig, TrainConfig
from models.tokenizer import EventTokenizer
from models.train import Trainer, split_texts
from workbench.midi_data import load_midi, make_settings

BUDGET_S = 15.0

pytestmark = pytest.mark.slow  # a real training run of 15 s


@pytest.fixture(scope="module")
def chorale_run(tmp_path_factory, chorale_folder):
    settings = make_settings("remi")
    texts = load_midi([chorale_folder], settings).texts
    train, val = split_texts(texts, 0.2, seed=3)
    tokenizer = EventTokenizer.fit(train, settings)
    cfg = RunConfig(
        model=ModelConfig(arch="lstm", hidden=128, embedding=32, dropout=0.1),
        train=TrainConfig(
            batch_size=8,
            seq_len=64,
            lr=5e-3,
            warmup_steps=5,
            time_budget=BUDGET_S,
            eval_every=25,
            patience=0,
            sample_chars=50,
            threads=1,
            device="cpu",
            seed=3,
        ),
        recipe="test",
    )
    out = tmp_path_factory.mktemp("runs") / "chorales"
    events = list(Trainer(cfg, train, val, out, tokenizer=tokenizer).run())
    return texts, train, val, tokenizer, events, out


def test_pieces_are_split_whole(chorale_run) -> None:
    texts, train, val, *_ = chorale_run
    assert len(val) == 2 and len(train) == len(texts) - 2
    assert set(train).isdisjoint(val)
    assert sorted(train + val) == sorted(texts)  # every piece whole on one side


def test_a_short_run_beats_the_bigram_baseline(chorale_run) -> None:
    _, train, val, tokenizer, events, _ = chorale_run
    start, end = events[0], events[-1]
    # The time budget ended it (the trainer's own clock, not this machine's load).
    assert end["reason"] == "time" and end["elapsed"] >= BUDGET_S
    assert start["unit"] == "event" and start["vocab_size"] == len(tokenizer)
    bigram = bigram_baseline(
        [tokenizer.encode_tune(t) for t in train],
        [tokenizer.encode_tune(t) for t in val],
        len(tokenizer),
    )
    best = end["best_val_loss"]
    print(f"\nchorales: network {best:.3f} vs bigram {bigram.loss_nats:.3f} nats/event")
    assert math.isfinite(best)
    assert best < 0.9 * bigram.loss_nats


def test_the_run_writes_event_samples_and_a_self_describing_checkpoint(chorale_run) -> None:
    _, _, _, tokenizer, _, out = chorale_run
    samples = sorted((out / "samples").iterdir())
    assert samples and all(p.name.endswith(".events.txt") for p in samples)
    assert all(e in tokenizer.vocab for e in samples[-1].read_text().split())
    config = json.loads((out / "config.json").read_text())
    assert config["tokenizer"]["kind"] == "events"
    assert config["tokenizer"]["settings"]["encoding"] == "remi"

    raw = torch.load(out / "best.pt", weights_only=True)
    assert raw["format_version"] == 2
    stored = raw["tokenizer"]
    assert stored["kind"] == "events" and stored["vocab"] == tokenizer.vocab
    # Plain data: JSON holds it unchanged.
    assert json.loads(json.dumps(stored)) == stored
    ckpt = load_checkpoint(out / "best.pt")
    assert ckpt.tokenizer == tokenizer
    assert "events" in ckpt.describe()


def test_resume_and_fine_tune_keep_the_encoding(chorale_run, tmp_path) -> None:
    _, train, val, tokenizer, _, out = chorale_run
    last = load_checkpoint(out / "last.pt")
    cfg = last.config
    cfg.train.time_budget = 0
    cfg.train.epochs = 1
    # Fine-tuning on the same pieces read with another encoding is refused, naming why.
    other = EventTokenizer.fit(train, make_settings("tsd"))
    from models.errors import CheckpointError

    with pytest.raises(CheckpointError, match="other settings"):
        Trainer(cfg, train, val, tmp_path / "ft", init=last, tokenizer=other)
    with pytest.raises(CheckpointError, match="model of events"):
        Trainer(cfg, ["X:1\nK:C\nCDE|\n"] * 3, ["X:1\nK:C\nEDC|\n"], tmp_path / "c", init=last)
    trainer = Trainer(cfg, train[:3], val, tmp_path / "ft", init=last, tokenizer=tokenizer)
    assert trainer.tokenizer.settings == tokenizer.settings
    assert trainer.tokenizer.vocab[: len(tokenizer)] == tokenizer.vocab
