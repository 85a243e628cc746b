"""Checkpoints' smaller promises: pickled code stays refused whatever torch's environment says,
fields a file lacks take their defaults, every refusal names the file and the cause in one
line, temp files are named so that a resumed run can clear them, and a failed write reports
what it left. Found by mutation testing (benchmarks/mutation.py)."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest
import torch

import models.checkpoint as checkpoint_module
from models.checkpoint import (
    FORMAT,
    Checkpoint,
    load_checkpoint,
    load_model,
    remove_stale_temps,
    save_checkpoint,
)
from models.config import ModelConfig, RunConfig
from models.errors import CheckpointError
from models.networks import CharRNN
from models.tokenizer import SPECIALS, CharTokenizer, EventTokenizer

TOKENIZER = CharTokenizer([*SPECIALS, *"abcdefg"])  # 10 tokens
CONFIG = RunConfig(model=ModelConfig(arch="lstm", hidden=16, layers=1, embedding=8, dropout=0.0))


def small(tokenizer=TOKENIZER, **extra) -> Checkpoint:
    torch.manual_seed(0)
    return Checkpoint(
        CONFIG, tokenizer, CharRNN(CONFIG.model, len(tokenizer)).state_dict(), **extra
    )


def raw_file(tmp_path: Path, **changes) -> Path:
    """A checkpoint written by hand: what save_checkpoint writes, with `changes` (None: drop)."""
    ckpt = small()
    data = {
        "format": FORMAT,
        "format_version": 1,
        "config": ckpt.config.to_dict(),
        "vocab": list(ckpt.tokenizer.vocab),
        "unknown": "unk",
        "state_dict": ckpt.state_dict,
        "step": 3,
        "epoch": 1,
        "metrics": {"best_val_loss": 2.0},
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    path = tmp_path / "hand.pt"
    torch.save(data, path)
    return path


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, **kwargs)
    return str(info.value)


class RunsCode:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch '{self.target}'",))


def test_pickled_code_is_refused_even_when_the_environment_asks_torch_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # torch lets this variable turn weights_only off, but only where the caller did not set it.
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "x": RunsCode(target)}, path)
    message = error_of(path)
    assert not target.exists()
    assert message == (
        f"{path}: not a safe workbench checkpoint "
        "(it holds Python objects or code, which are never loaded)"
    )
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps(os.system, protocol=2))
    assert "Python objects or code" in error_of(plain)


def test_fields_a_file_lacks_take_their_defaults(tmp_path: Path) -> None:
    back = load_checkpoint(raw_file(tmp_path, step=None, epoch=None, metrics=None, unknown=None))
    assert (back.step, back.epoch, back.metrics) == (0, 0, {})
    assert back.tokenizer.unknown == "unk" and back.trainer is None
    full = load_checkpoint(raw_file(tmp_path))
    assert (full.step, full.epoch, full.metrics) == (3, 1, {"best_val_loss": 2.0})


def test_map_location_and_device_are_honoured(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    save_checkpoint(path, small())
    meta = load_checkpoint(path, map_location="meta")
    assert {t.device.type for t in meta.state_dict.values()} == {"meta"}
    ckpt = load_checkpoint(path)
    assert {t.device.type for t in ckpt.state_dict.values()} == {"cpu"}
    model = ckpt.build_model()  # the default device is the CPU
    assert {p.device.type for p in model.parameters()} == {"cpu"} and not model.training
    assert {p.device.type for p in ckpt.build_model("meta").parameters()} == {"meta"}
    model, tokenizer, again = load_model(path, device="meta")
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert tokenizer == TOKENIZER and again.path == path


@pytest.mark.parametrize("version", ["2", True, 1.0, None])
def test_a_format_version_that_is_no_integer_is_damage(tmp_path: Path, version) -> None:
    path = raw_file(tmp_path, format_version=version) if version is not None else None
    if path is None:
        path = raw_file(tmp_path, format_version=None)
    assert error_of(path) == f"{path}: damaged checkpoint (no format version)"


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    path = raw_file(tmp_path, vocab=None)
    assert error_of(path) == f"{path}: damaged checkpoint ('vocab' is missing or not a list)"
    path = raw_file(tmp_path, state_dict=[1])
    assert error_of(path) == f"{path}: damaged checkpoint ('state_dict' is missing or not a dict)"


def test_weights_that_do_not_match_name_the_tensor_and_the_shapes(tmp_path: Path) -> None:
    good = small()
    # Another vocabulary: the embedding (the first tensor) is 10 x 8 in the file, 5 x 8 here.
    other = Checkpoint(CONFIG, CharTokenizer([*SPECIALS, "a", "b"]), good.state_dict)
    with pytest.raises(CheckpointError) as info:
        other.build_model()
    assert str(info.value) == (
        "checkpoint: weights do not match its configuration "
        "(embed.weight is (10, 8) in the file, (5, 8) in the network)"
    )
    # The first tensors fit, a later one is missing, or is no tensor.
    missing = {k: v for k, v in good.state_dict.items() if k != "head.bias"}
    with pytest.raises(CheckpointError) as info:
        Checkpoint(CONFIG, TOKENIZER, missing, path=tmp_path / "m.pt").build_model()
    assert str(info.value) == (
        f"{tmp_path / 'm.pt'}: weights do not match its configuration (head.bias is missing)"
    )
    not_tensor = {**good.state_dict, "head.bias": [0.0] * 10}
    with pytest.raises(CheckpointError) as info:
        Checkpoint(CONFIG, TOKENIZER, not_tensor).build_model()
    assert str(info.value).endswith("(head.bias is not a tensor)")
    # Every tensor fits but there is one more: torch's second line says which.
    extra = {**good.state_dict, "spare": torch.zeros(2)}
    with pytest.raises(CheckpointError) as info:
        Checkpoint(CONFIG, TOKENIZER, extra).build_model()
    assert str(info.value) == (
        "checkpoint: weights do not match its configuration "
        """(Unexpected key(s) in state_dict: "spare".)"""
    )


def test_a_network_that_cannot_be_built_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = RunConfig(model=ModelConfig(arch="lstm", hidden=16, layers=1, embedding=8))
    bad.model.hidden = -3  # past validation, as a damaged file that skipped it would be
    with pytest.raises(CheckpointError) as info:
        Checkpoint(bad, TOKENIZER, {}).build_model()
    assert str(info.value) == (
        "checkpoint: cannot build its network (hidden and layers must be >= 1 and embedding >= 0)"
    )

    def silent(*args, **kwargs):
        raise ValueError

    # An exception without a message is named by its type.
    monkeypatch.setattr(checkpoint_module, "build_network", silent)
    with pytest.raises(CheckpointError) as info:
        small().build_model()
    assert str(info.value) == "checkpoint: cannot build its network (ValueError)"


def test_describe_names_event_units() -> None:
    events = EventTokenizer([*SPECIALS, "Bar_None", "Pitch_60"])
    assert small(events, step=7).describe() == "LSTM 1x16, vocabulary 5 events, step 7"
    assert small(step=2).describe() == "LSTM 1x16, vocabulary 10, step 2"


def test_saving_makes_missing_folders_and_a_hidden_temp_beside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs" / "a" / "last.pt"
    renamed = []
    real_replace = os.replace

    def replace(src, dst):
        renamed.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    save_checkpoint(path, small(step=5))
    assert load_checkpoint(path).step == 5
    [(src, dst)] = renamed
    # Same folder (an atomic rename), and the name a resumed run looks for: `.last.pt.*.tmp`.
    assert dst == path and src.parent == path.parent
    assert src.name.startswith(".last.pt.") and src.name.endswith(".tmp")
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]


def full_disk(path: Path, monkeypatch: pytest.MonkeyPatch, vanish: bool = False) -> None:
    """torch.save runs out of space half-way; with `vanish` the temp file is gone by then
    (its folder's content removed under the writer)."""

    def dying_save(obj, fh, *args, **kwargs):
        fh.write(b"PK\x03\x04 half")
        if vanish:
            for p in path.parent.glob(".*.tmp"):
                p.unlink()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", dying_save)


@pytest.mark.parametrize("vanish", [False, True])
def test_a_full_disk_says_what_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vanish: bool
) -> None:
    path = tmp_path / "last.pt"
    with monkeypatch.context() as m:
        full_disk(path, m, vanish)
        with pytest.raises(OSError) as info:
            save_checkpoint(path, small())
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert info.value.strerror == "No space left on device; checkpoint not saved, none written"
    assert list(tmp_path.iterdir()) == []
    save_checkpoint(path, small(step=1))
    with monkeypatch.context() as m:
        full_disk(path, m, vanish)
        with pytest.raises(OSError) as info:
            save_checkpoint(path, small(step=2))
    assert info.value.strerror == (
        "No space left on device; checkpoint not saved, the previous last.pt is unchanged"
    )
    assert isinstance(info.value.__cause__, OSError)
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert load_checkpoint(path).step == 1


@pytest.mark.parametrize("vanish", [False, True])
def test_an_error_that_is_no_os_error_leaves_no_temp_file_and_passes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vanish: bool
) -> None:
    path = tmp_path / "best.pt"

    def interrupted_save(obj, fh, *args, **kwargs):
        fh.write(b"PK")
        if vanish:
            for p in tmp_path.glob(".*.tmp"):
                p.unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, small())
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_of_killed_writes_are_removed_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real temp file left by a write that died before its rename.
    with monkeypatch.context() as m:
        m.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt))
        m.setattr(Path, "unlink", lambda self, missing_ok=False: None)  # as if killed there
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(tmp_path / "last.pt", small())
    [left] = tmp_path.iterdir()
    marker = tmp_path / ".running.json.4242.tmp"
    marker.write_text("{}")
    config = tmp_path / "config.json.tmp"  # the trainer's, killed before its rename
    config.write_text("{")
    keep = ["last.pt", "notes.tmp", ".running.json", "best.pt.tmp", ".config.json.1.tmp"]
    for name in keep:
        (tmp_path / name).write_text("x")
    (tmp_path / ".busy.pt.1.tmp").mkdir()  # cannot be unlinked: skipped, not reported
    removed = remove_stale_temps(str(tmp_path))
    assert sorted(removed) == sorted([left, marker, config])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*keep, ".busy.pt.1.tmp"])
    assert remove_stale_temps(tmp_path) == []


def test_a_stale_temp_that_cannot_be_deleted_does_not_keep_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whichever temp the folder lists first is refused (as a file of another user would be;
    # root ignores permission bits, so the refusal is made here): the others still go.
    names = [f".last.pt.{i}.tmp" for i in range(4)] + [f".running.json.{i}.tmp" for i in range(3)]
    for name in names:
        (tmp_path / name).write_text("x")
    refused: list[Path] = []
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if not refused or self in refused:
            refused.append(self)
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    removed = remove_stale_temps(tmp_path)
    [kept] = set(refused)
    assert sorted(removed) == sorted(tmp_path / n for n in names if tmp_path / n != kept)
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]
