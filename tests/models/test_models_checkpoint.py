"""Checkpoints: round trip, refusal of pickled code and of damaged files, atomic writes."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
import torch

from models.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    Checkpoint,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from models.config import ModelConfig, RunConfig, TrainConfig
from models.errors import CheckpointError
from models.networks import CharRNN
from models.tokenizer import CharTokenizer


def make_checkpoint(tokenizer: CharTokenizer, hidden: int = 32, **extra) -> Checkpoint:
    torch.manual_seed(0)
    cfg = RunConfig(
        model=ModelConfig(arch="lstm", hidden=hidden, layers=2, embedding=8, dropout=0.1),
        train=TrainConfig(lr=5e-3, batch_size=7, seed=42),
        recipe="custom",
    )
    model = CharRNN(cfg.model, len(tokenizer))
    return Checkpoint(cfg, tokenizer, model.state_dict(), **extra)


def payload(ckpt: Checkpoint) -> dict:
    """What save_checkpoint writes, for crafting variants of it."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": ckpt.config.to_dict(),
        "vocab": list(ckpt.tokenizer.vocab),
        "unknown": ckpt.tokenizer.unknown,
        "state_dict": dict(ckpt.state_dict),
        "step": 3,
        "epoch": 0,
        "metrics": {},
    }


def test_round_trip(tmp_path: Path, folk_tokenizer: CharTokenizer) -> None:
    tok = CharTokenizer(folk_tokenizer.vocab, unknown="skip")
    trainer = {"epoch": 2, "epoch_step": 5, "torch_rng": torch.get_rng_state(), "state": None}
    ckpt = make_checkpoint(
        tok, step=123, epoch=2, metrics={"best_val_loss": 1.5, "x": [1, 2]}, trainer=trainer
    )
    path = tmp_path / "sub" / "run.pt"
    save_checkpoint(path, ckpt)
    back = load_checkpoint(path)
    assert back.path == path
    assert back.config == ckpt.config
    assert back.config.recipe == "custom" and back.config.train.batch_size == 7
    assert back.tokenizer.vocab == tok.vocab
    assert back.tokenizer.unknown == "skip"
    assert (back.step, back.epoch) == (123, 2)
    assert back.metrics == {"best_val_loss": 1.5, "x": [1, 2]}
    assert back.trainer["epoch_step"] == 5
    assert torch.equal(back.trainer["torch_rng"], trainer["torch_rng"])
    assert back.state_dict.keys() == ckpt.state_dict.keys()
    for k, v in ckpt.state_dict.items():
        assert torch.equal(back.state_dict[k], v), k
    model, tokenizer, again = load_model(path)
    assert tokenizer == tok and not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, ckpt.state_dict[k])
    assert again.describe() == f"LSTM 2x32, vocabulary {len(tok)}, step 123"


def test_best_checkpoint_has_no_trainer(tmp_path: Path, folk_tokenizer: CharTokenizer) -> None:
    save_checkpoint(tmp_path / "best.pt", make_checkpoint(folk_tokenizer))
    assert load_checkpoint(tmp_path / "best.pt").trainer is None


class RunsCode:
    """Unpickling this would run a shell command that creates `target`."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.target))}",))


@pytest.mark.parametrize("where", ["top", "inside"])
def test_pickled_code_is_refused_and_never_runs(
    tmp_path: Path, folk_tokenizer: CharTokenizer, where: str
) -> None:
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if where == "top":
        torch.save(RunsCode(target), path)
    else:
        data = payload(make_checkpoint(folk_tokenizer))
        data["metrics"] = {"note": RunsCode(target)}
        torch.save(data, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert not target.exists()
    assert str(path) in str(info.value)
    assert "code" in str(info.value)
    assert "\n" not in str(info.value)


def expect_error(path: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    return message


def test_truncated_file(tmp_path: Path, folk_tokenizer: CharTokenizer) -> None:
    good = tmp_path / "good.pt"
    save_checkpoint(good, make_checkpoint(folk_tokenizer))
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 100):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(data[:cut])
        expect_error(path)


def test_random_bytes_and_empty_file(tmp_path: Path) -> None:
    noise = tmp_path / "noise.pt"
    noise.write_bytes(os.urandom(5000))
    expect_error(noise)
    text = tmp_path / "tune.abc"
    text.write_text("X:1\nT:Not a checkpoint\nK:G\nGABc|\n", encoding="utf-8")
    expect_error(text)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    expect_error(empty)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "no such" in expect_error(tmp_path / "absent.pt")
    expect_error(tmp_path)


@pytest.mark.parametrize(
    "obj",
    [
        {"weight": torch.zeros(3)},  # a bare state_dict
        torch.zeros(3),
        [1, 2, 3],
        {"format": "someone-else/model", "config": {}},
    ],
)
def test_torch_file_that_is_not_a_workbench_checkpoint(tmp_path: Path, obj) -> None:
    path = tmp_path / "other.pt"
    torch.save(obj, path)
    assert "not a Composition Workbench" in expect_error(path)


def test_newer_format_version(tmp_path: Path, folk_tokenizer: CharTokenizer) -> None:
    data = payload(make_checkpoint(folk_tokenizer))
    data["format_version"] = FORMAT_VERSION + 1
    path = tmp_path / "future.pt"
    torch.save(data, path)
    assert "newer" in expect_error(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("vocab", ["a", "b"], id="vocab-without-specials"),
        pytest.param("vocab", 5, id="vocab-not-a-list"),
        pytest.param("config", {"model": {"arch": "transformer"}}, id="config-unknown-arch"),
        pytest.param("state_dict", [1, 2], id="state_dict-not-a-dict"),
        # Found escaping as AttributeError / ValueError instead of CheckpointError:
        pytest.param("config", None, id="config-none"),
        pytest.param("config", ["model"], id="config-not-a-dict"),
        pytest.param("metrics", [1, 2], id="metrics-not-a-dict"),
        pytest.param("step", "seven", id="step-not-a-number"),
    ],
)
def test_damaged_fields_are_checkpoint_errors(
    tmp_path: Path, folk_tokenizer: CharTokenizer, field: str, value
) -> None:
    data = payload(make_checkpoint(folk_tokenizer))
    data[field] = value
    path = tmp_path / "damaged.pt"
    torch.save(data, path)
    expect_error(path)


def test_missing_field(tmp_path: Path, folk_tokenizer: CharTokenizer) -> None:
    data = payload(make_checkpoint(folk_tokenizer))
    del data["vocab"]
    path = tmp_path / "novocab.pt"
    torch.save(data, path)
    assert "damaged" in expect_error(path)


def test_weights_that_do_not_match_the_config(
    tmp_path: Path, folk_tokenizer: CharTokenizer
) -> None:
    small = make_checkpoint(folk_tokenizer, hidden=16)
    big = make_checkpoint(folk_tokenizer, hidden=32)
    path = tmp_path / "mismatch.pt"
    save_checkpoint(path, Checkpoint(big.config, big.tokenizer, small.state_dict))
    ckpt = load_checkpoint(path)  # readable, but its weights are another shape
    with pytest.raises(CheckpointError, match="do not match") as info:
        ckpt.build_model()
    assert str(path) in str(info.value)
    assert "do not match" in expect_error(path)
    # A vocabulary that disagrees with the weights.
    path2 = tmp_path / "vocab.pt"
    save_checkpoint(path2, Checkpoint(big.config, CharTokenizer.fit(["abc"]), big.state_dict))
    assert "do not match" in expect_error(path2)
    # A missing tensor.
    path3 = tmp_path / "missing.pt"
    partial = {k: v for k, v in big.state_dict.items() if k != "head.bias"}
    save_checkpoint(path3, Checkpoint(big.config, big.tokenizer, partial))
    assert "do not match" in expect_error(path3)


def test_write_is_atomic(
    tmp_path: Path, folk_tokenizer: CharTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "last.pt"
    first = make_checkpoint(folk_tokenizer, step=1)
    save_checkpoint(path, first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    # Saving again replaces the file.
    save_checkpoint(path, make_checkpoint(folk_tokenizer, step=2))
    assert load_checkpoint(path).step == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    # A write that dies half way leaves the previous file whole and no temp file behind.
    real_save = torch.save

    def dying_save(obj, fh, *args, **kwargs):
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, make_checkpoint(folk_tokenizer, step=3))
    monkeypatch.setattr(torch, "save", real_save)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    assert load_checkpoint(path).step == 2
