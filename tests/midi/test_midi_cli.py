"""`workbench train | evaluate | generate` on MIDI: a folder of MIDI files trains an event model,
evaluate reports nats per event, and generate writes .mid files with real durations, in a fresh
process that has neither the training data nor the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import symusic
from tiny import TINY_CLI_ARGS as TINY

from models.checkpoint import load_checkpoint
from workbench.cli import main
from workbench.midi_data import codec_for

CHORALES_FOR_CLI = 6


@pytest.fixture(scope="module")
def midi_run(tmp_path_factory, chorale_files) -> tuple[Path, Path]:
    data = tmp_path_factory.mktemp("data") / "my midi"
    data.mkdir()
    for path in chorale_files[:CHORALES_FOR_CLI]:
        shutil.copy(path, data / path.name)
    out = tmp_path_factory.mktemp("runs") / "run"
    args = ["train", str(data), "--out", str(out), *TINY, "--epochs", "6", "--eval-every", "20"]
    assert main([*args, "--quiet", "--threads", "1"]) == 0
    return data, out


def test_train_on_a_midi_folder(midi_run, capsys) -> None:
    _, out = midi_run
    for name in ("best.pt", "last.pt", "config.json", "metrics.jsonl"):
        assert (out / name).is_file()
    assert any(p.suffix == ".txt" for p in (out / "samples").iterdir())
    config = json.loads((out / "config.json").read_text())
    assert config["tokenizer"]["settings"]["encoding"] == "remi"
    assert config["data"]["train_tunes"] + config["data"]["val_tunes"] == CHORALES_FOR_CLI


def test_evaluate_reports_nats_per_event(midi_run, capsys) -> None:
    data, out = midi_run
    capsys.readouterr()
    assert main(["evaluate", str(out / "best.pt"), str(data)]) == 0
    assert "nats/event" in capsys.readouterr().out
    assert main(["evaluate", str(out / "best.pt"), str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pieces"] == CHORALES_FOR_CLI and result["unit"] == "event"
    assert 0 < result["loss_nats_per_event"] < 6


def test_generate_in_a_fresh_process_without_the_data(midi_run, tmp_path) -> None:
    data, out = midi_run
    # Nothing of the data is left to read: the run folder is copied, the data deleted, and the
    # child gets an empty cache.
    ckpt = tmp_path / "model.pt"
    shutil.copy(out / "best.pt", ckpt)
    moved = tmp_path / "gone"
    shutil.move(str(data), moved)
    try:
        env = {**os.environ, "WORKBENCH_CACHE_DIR": str(tmp_path / "empty-cache")}
        cmd = [sys.executable, "-m", "workbench", "generate", str(ckpt), "--out"]
        cmd += [str(tmp_path / "gen"), "--events", "300", "--num", "2", "--seed", "5"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    finally:
        shutil.move(str(moved), data)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    written = sorted((tmp_path / "gen").glob("*.mid"))
    assert [p.name for p in written] == ["piece_001.mid", "piece_002.mid"]
    durations = set()
    for path in written:
        score = symusic.Score(str(path))
        notes = [n for t in score.tracks for n in t.notes]
        events = path.with_suffix(".events.txt").read_text().split()
        assert 0 < len(notes) <= sum(e.startswith("Pitch_") for e in events)
        # Each note lasts what its Duration event says (Duration_<beats>.<ticks>.<per beat>).
        named = {_beats(e) for e in events if e.startswith("Duration_")}
        tpq = score.ticks_per_quarter
        assert {n.duration / tpq for n in notes} <= named
        durations |= {n.duration for n in notes}
    assert len(durations) >= 2  # real durations, not the reports' one fixed step
    assert not any((tmp_path / "empty-cache").rglob("*.mid"))


def _beats(duration_event: str) -> float:
    beats, ticks, per_beat = (int(x) for x in duration_event.split("_")[1].split("."))
    return beats + ticks / per_beat


def test_generate_from_a_midi_prompt_with_argmax(midi_run, mido_file, tmp_path, capsys) -> None:
    _, out = midi_run
    args = ["generate", str(out / "best.pt"), "--out", str(tmp_path), "--events", "40"]
    args += ["--prompt-midi", str(mido_file), "--prompt-events", "12", "--argmax"]
    assert main(args) == 0
    text = (tmp_path / "piece_001.events.txt").read_text().split()
    settings = load_checkpoint(out / "best.pt").tokenizer.settings
    assert text[:12] == codec_for(settings).encode_file(mido_file)[:12]
    assert main([*args, "--out", str(tmp_path / "again")]) == 0
    again = (tmp_path / "again" / "piece_001.events.txt").read_text().split()
    assert again == text  # argmax: no randomness


def test_midi_options_and_kinds_are_checked(midi_run, tmp_path, capsys) -> None:
    _, out = midi_run
    abc = tmp_path / "t.abc"
    abc.write_text("X:1\nT:a\nK:C\nCDEF|GABc|\n\nX:2\nT:b\nK:C\ncBAG|FEDC|\n")
    assert main(["train", str(abc), "--out", str(tmp_path / "r"), "--encoding", "tsd"]) == 2
    assert "for MIDI data" in capsys.readouterr().err
    assert main(["evaluate", str(out / "best.pt"), str(abc)]) == 2
    assert "cannot read ABC" in capsys.readouterr().err
    gen = ["generate", str(out / "best.pt"), "--out", str(tmp_path / "g"), "--prompt", "X:1"]
    assert main(gen) == 2
    assert "--prompt-midi" in capsys.readouterr().err
