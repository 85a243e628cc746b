"""`workbench activations CKPT FILE --out acts.npz`: the file it writes and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.activations import Activations
from models.checkpoint import Checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, folk_tunes) -> tuple[Path, CharRNN, CharTokenizer]:
    tokenizer = CharTokenizer.fit(folk_tunes)
    cfg = RunConfig(model=ModelConfig(arch="lstm", hidden=16, layers=2, embedding=8, dropout=0))
    torch.manual_seed(0)
    model = CharRNN(cfg.model, len(tokenizer)).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(
        path, Checkpoint(config=cfg, tokenizer=tokenizer, state_dict=model.state_dict())
    )
    return path, model, tokenizer


@pytest.fixture(scope="module")
def abc_file(tmp_path_factory, folk_tunes) -> Path:
    path = tmp_path_factory.mktemp("abc") / "three.abc"
    path.write_text("\n\n".join(folk_tunes[:3]) + "\n", encoding="utf-8")
    return path


def test_writes_every_layer_and_the_text_of_the_chosen_tune(
    tmp_path, checkpoint, abc_file, folk_tunes, capsys
):
    ckpt, model, tokenizer = checkpoint
    out = tmp_path / "acts.npz"
    assert main(["activations", str(ckpt), str(abc_file), "--out", str(out), "--tune", "2"]) == 0
    assert str(out) in capsys.readouterr().out
    with np.load(out, allow_pickle=False) as raw:
        keys = set(raw.files)
    assert {"layer0.hidden", "layer0.cell", "layer1.hidden", "layer1.cell", "probs"} <= keys
    acts = Activations.load_npz(out)
    assert acts.text == folk_tunes[1]
    assert acts.vocab == tokenizer.vocab
    assert acts["layer1.hidden"].shape == (len(folk_tunes[1]), 16)
    # The file holds what the model computes: its top layer over <start> + the tune.
    ids = torch.as_tensor(tokenizer.encode(folk_tunes[1], start=True)).unsqueeze(0)
    with torch.no_grad():
        logits, _, top = model(ids, return_hidden=True)
    np.testing.assert_allclose(acts["layer1.hidden"], top[0, 1:].numpy(), atol=1e-6)
    np.testing.assert_allclose(acts["probs"], torch.softmax(logits[0, 1:], -1).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing file", "missing.abc"),
        ("tune out of range", "out of range"),
        ("bad checkpoint", "broken.pt"),
        ("no tunes", "empty.abc"),
    ],
)
def test_one_line_errors_name_the_problem(tmp_path, checkpoint, abc_file, capsys, case, expected):
    ckpt, _, _ = checkpoint
    file, extra = abc_file, []
    if case == "missing file":
        file = tmp_path / "missing.abc"
    elif case == "tune out of range":
        extra = ["--tune", "9"]
    elif case == "bad checkpoint":
        ckpt = tmp_path / "broken.pt"
        ckpt.write_bytes(b"garbage")
    else:
        file = tmp_path / "empty.abc"
        file.write_text("just words, no tune\n", encoding="utf-8")
    out = tmp_path / "acts.npz"
    assert main(["activations", str(ckpt), str(file), "--out", str(out), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench: error:") and expected in err[0]
    assert not out.exists()
