"""`workbench activations CKPT FILE --out acts.npz` for a MIDI event model: FILE is a MIDI file
(encoded with the checkpoint's own settings) or a generated piece's .events.txt; `--probes`
prints the units that track each music probe; the wrong kind of input is a one-line error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from event_pieces import write_event_checkpoint, write_piece

from models.activations import Activations
from models.checkpoint import Checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.cli import main
from workbench.midi_data import codec_for, make_settings
from workbench.midi_data.encodings import text_of
from workbench.midi_data.timeline import read_timeline
from workbench.neurons.event_probes import EVENT_PROBES, rank_event_probe


@pytest.fixture(scope="module")
def piece(tmp_path_factory) -> Path:
    return write_piece(tmp_path_factory.mktemp("midi") / "known.mid")


@pytest.fixture(scope="module")
def event_ckpt(tmp_path_factory, piece) -> tuple[Path, dict, list[str]]:
    # A TSD model: the file must be read with the checkpoint's encoding, not the default REMI.
    settings = make_settings("tsd")
    events = codec_for(settings).encode_file(piece)
    path = tmp_path_factory.mktemp("ckpt") / "events.pt"
    write_event_checkpoint(path, [text_of(events)], settings, hidden=10)
    return path, settings, events


def test_a_midi_file_through_an_event_model(tmp_path, event_ckpt, piece, capsys):
    ckpt, settings, events = event_ckpt
    out = tmp_path / "acts.npz"
    argv = ["activations", str(ckpt), str(piece), "--out", str(out), "--probes", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"wrote {out}: {len(events)} events;")
    acts = Activations.load_npz(out)
    assert acts.kind == "events" and acts.tokens == events and acts.settings == settings
    assert acts["layer1.cell"].shape == (len(events), 10)
    # One line per probe, naming its three best units as the pane's probe table does.
    lines = {line.split(":")[0]: line for line in printed[1:]}
    assert set(lines) == {p.label for p in EVENT_PROBES.values()}
    keys = acts.state_keys()
    matrix = np.concatenate([acts[k] for k in keys], axis=1)
    names = [f"{k} #{u}" for k in keys for u in range(acts[k].shape[1])]
    ranking = rank_event_probe("chord", read_timeline(events, settings), matrix)
    unit, score = ranking.top(1)[0]
    assert (
        lines[EVENT_PROBES["chord"].label]
        .split(": ")[1]
        .startswith(f"{names[unit]} d={score:+.2f}, ")
    )
    assert lines[EVENT_PROBES["chord"].label].count(" d=") == 3


def test_a_generated_pieces_event_text(tmp_path, event_ckpt, capsys):
    ckpt, _, events = event_ckpt
    text = tmp_path / "piece_001.events.txt"
    text.write_text(" ".join(events[:12]) + " NotAnEvent_1\n", encoding="utf-8")
    out = tmp_path / "acts.npz"
    assert main(["activations", str(ckpt), str(text), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "events the model never saw count as <unk>: 'NotAnEvent_1'" in captured.err
    assert len(Activations.load_npz(out)) == 13


@pytest.fixture(scope="module")
def char_ckpt(tmp_path_factory) -> Path:
    tokenizer = CharTokenizer.fit(["X:1\nK:C\nCDEF|\n"])
    cfg = RunConfig(model=ModelConfig(arch="gru", hidden=8, layers=1, embedding=4, dropout=0))
    path = tmp_path_factory.mktemp("ckpt") / "chars.pt"
    model = CharRNN(cfg.model, len(tokenizer))
    save_checkpoint(
        path, Checkpoint(config=cfg, tokenizer=tokenizer, state_dict=model.state_dict())
    )
    return path


@pytest.mark.parametrize(
    ("case", "status", "expected"),
    [
        ("abc to an event model", 2, "is a MIDI event model; it cannot read ABC text"),
        ("midi to a char model", 2, "is a character (ABC) model; it cannot read MIDI"),
        ("broken midi", 1, "broken.mid: truncated or damaged MIDI file"),
        ("tune of a piece", 2, "--tune picks a tune of an ABC file"),
    ],
)
def test_wrong_input_is_one_line(
    tmp_path, event_ckpt, char_ckpt, piece, capsys, case, status, expected
):
    ckpt, file, extra = event_ckpt[0], piece, []
    if case == "abc to an event model":
        file = tmp_path / "tune.abc"
        file.write_text("X:1\nK:C\nCDEF|\n", encoding="utf-8")
    elif case == "midi to a char model":
        ckpt = char_ckpt
    elif case == "broken midi":
        file = tmp_path / "broken.mid"
        file.write_bytes(piece.read_bytes()[:60])
    else:
        extra = ["--tune", "2"]
    out = tmp_path / "acts.npz"
    assert main(["activations", str(ckpt), str(file), "--out", str(out), *extra]) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("workbench: error:") and expected in err[-1]
    assert not out.exists()
