"""Fuzzing checkpoints: damaged files give `CheckpointError` (models/errors.py) and nothing else.

The material is real: `best.pt` and `last.pt` (with its optimizer and RNG state) written by the
real trainer (`fuzzing.real_run`), and a REMI event model's checkpoint (format version 2, its
MidiTok settings inside). They are damaged two ways:

* as bytes: bits flipped, ranges dropped or duplicated, garbage inserted, the file cut short
  (a full disk, a copy interrupted, a bad sector);
* as content: the payload loaded and one field (config, vocabulary, tokenizer settings, step,
  weights) replaced with any plain value, then saved again (a hand-edited or foreign file).

`load_checkpoint` promises a `Checkpoint` or `CheckpointError` naming the file; a checkpoint that
loads then builds its network or raises `CheckpointError` ("weights do not match").
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
import torch
from fuzzing import Material, event_checkpoint, fuzz_case, fuzz_settings, mutated_bytes, real_run
from hypothesis import given
from hypothesis import strategies as st

from models.checkpoint import Checkpoint, load_checkpoint
from models.errors import CheckpointError

FILES = {
    "best.pt": (real_run() / "best.pt").read_bytes(),
    "last.pt": (real_run() / "last.pt").read_bytes(),
    "events.pt": event_checkpoint().read_bytes(),
}


def _load_and_build(path: Path) -> Checkpoint | None:
    """Load `path` and build its network; None when it is refused with CheckpointError."""
    try:
        ckpt = load_checkpoint(path)
        ckpt.build_model()
    except CheckpointError as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message, message
        return None
    return ckpt


@fuzz_settings(0.5)
@given(mutated_bytes(Material("real checkpoints", FILES.values()), max_edits=4))
@fuzz_case
def test_damaged_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.pt")
        path.write_bytes(data)
        _load_and_build(path)


@fuzz_settings(0.25)
@given(st.sampled_from(sorted(FILES)), st.integers(0, 2**20))
@fuzz_case
def test_truncated(name: str, keep: int) -> None:
    """Cut anywhere (a disk that filled up mid-write, without the atomic rename)."""
    data = FILES[name]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, name)
        path.write_bytes(data[: keep % len(data)])
        assert _load_and_build(path) is None


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
tensor = st.builds(
    lambda shape, dtype: torch.zeros(shape, dtype=dtype),
    st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([torch.float32, torch.int64, torch.bool]),
)


def _paths(value, prefix=()):
    """The path of keys to every value inside nested dicts, for picking what to damage (a list,
    such as the vocabulary, is replaced whole)."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))


PAYLOADS = {
    name: torch.load(path, weights_only=True)
    for name, path in (("best.pt", real_run() / "best.pt"), ("events.pt", event_checkpoint()))
}
# Damage within the header fields: the weights themselves are fuzzed as bytes above.
TARGETS = {
    name: [p for p in _paths(payload) if p and (p[0] != "state_dict" or len(p) <= 2)]
    for name, payload in PAYLOADS.items()
}


@st.composite
def damaged_payload(draw) -> dict:
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    payload = copy.deepcopy(PAYLOADS[name])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(TARGETS[name]))
        parent = payload
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
            if parent is None or isinstance(parent, list):
                break  # an earlier edit replaced a container on this path (lists: see below)
        if not isinstance(parent, dict):
            continue
        if draw(st.integers(0, 4)) == 0:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(st.one_of(plain, tensor))
    return payload


@fuzz_settings(0.5)
@given(damaged_payload())
@fuzz_case
def test_damaged_content(payload: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.pt")
        torch.save(payload, path)
        _load_and_build(path)


# -- regressions: the smallest damaged checkpoints the fuzzing found ----------------------------


def _saved(tmp_path: Path, edit) -> Path:
    payload = torch.load(real_run() / "best.pt", weights_only=True)
    edit(payload)
    path = tmp_path / "edited.pt"
    torch.save(payload, path)
    return path


def _refused(load, *args) -> str:
    with pytest.raises(CheckpointError) as info:
        load(*args)
    return str(info.value)


def test_a_setting_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    """Found by fuzzing: `"dropout": <empty tensor>` in the config raised RuntimeError ("Boolean
    value of Tensor with no values is ambiguous") out of load_checkpoint."""
    path = _saved(tmp_path, lambda p: p["config"]["model"].update(dropout=torch.zeros(0)))
    expected = "damaged checkpoint (setting 'dropout' must be a float, not a Tensor)"
    assert _refused(load_checkpoint, path) == f"{path}: {expected}"
    path = _saved(tmp_path, lambda p: p["config"]["train"].update(lr=True))
    assert "setting 'lr' must be a float, not True" in _refused(load_checkpoint, path)


def test_a_format_version_that_is_no_number(tmp_path: Path) -> None:
    """Found by fuzzing: a tensor as `format_version` gave a message of many lines."""
    path = _saved(tmp_path, lambda p: p.update(format_version=torch.zeros(3, 1)))
    assert _refused(load_checkpoint, path) == f"{path}: damaged checkpoint (no format version)"


@pytest.mark.parametrize("hidden", [30_000, 10**6, 2**62])
def test_a_huge_network_is_refused_before_it_is_built(tmp_path: Path, hidden: int) -> None:
    """Found while fuzzing the config's numbers: `"hidden": 30000` in the config of a 24-unit
    model's checkpoint made build_model allocate the 14 GB network before finding that its
    weights do not fit (with less memory: RuntimeError from torch's allocator, out of
    build_model), and 2**62 raised TypeError. The shapes are now compared on the meta device
    first, which allocates nothing."""
    path = _saved(tmp_path, lambda p: p["config"]["model"].update(hidden=hidden))
    message = _refused(load_checkpoint(path).build_model)
    assert message.startswith(str(path))
    assert "weights do not match" in message or "cannot build its network" in message
