"""The `workbench` command line on real tunes: train, resume, fine-tune, evaluate, generate,
corpus, and one-line errors for bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny import TINY_CLI_ARGS as TINY

from models.checkpoint import load_checkpoint
from models.train import read_metrics
from workbench.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The real console entry point in a child process (exit codes, no tracebacks)."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_help_documents_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "generate", "corpus", "gui"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in (
        "--arch",
        "--hidden",
        "--layers",
        "--dropout",
        "--optimizer",
        "--lr",
        "--batch-size",
        "--seq-len",
        "--epochs",
        "--time-budget",
        "--patience",
        "--eval-every",
        "--device",
        "--init",
        "--seed",
        "--recipe",
        "--resume",
    ):
        assert flag in out


def test_corpus_list_names_the_collections(capsys):
    assert main(["corpus", "list", "--json"]) == 0
    infos = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert set(infos) >= {
        "oneills1850",
        "ryansMammoth",
        "airdsAirs",
        "essenFolksong",
        "miscFolk",
        "folk",
    }
    assert infos["ryansMammoth"]["tunes"] == 1059
    assert infos["folk"]["tunes"] == sum(infos[n]["tunes"] for n in infos if n != "folk")


def test_corpus_export_round_trips(tmp_path, capsys, folk_tunes):
    out = tmp_path / "misc.abc"
    assert main(["corpus", "export", "miscFolk", str(out)]) == 0
    assert "wrote 185 tunes" in capsys.readouterr().out
    assert main(["corpus", "stats", str(out), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["tunes"] == len(folk_tunes) == 185


def test_train_writes_a_complete_run(trained_run):
    for name in ("config.json", "metrics.jsonl", "best.pt", "last.pt"):
        assert (trained_run / name).is_file(), name
    assert list((trained_run / "samples").glob("*.abc"))
    events = read_metrics(trained_run / "metrics.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    steps = [e for e in events if e["event"] == "step"]
    evals = [e for e in events if e["event"] == "eval"]
    assert len(evals) >= 2
    assert steps[-1]["loss"] < steps[0]["loss"]
    assert events[-1]["reason"] == "epochs"
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"]["hidden"] == 32
    assert config["data"]["train_tunes"] + config["data"]["val_tunes"] == 40


def test_resume_continues_from_last_step(tmp_path, trained_run, start_end_file, capsys):
    run = tmp_path / "run"
    import shutil

    shutil.copytree(trained_run, run)
    before = load_checkpoint(run / "last.pt").step
    assert (
        main(
            ["train", str(start_end_file), "--out", str(run), "--resume", "--epochs", "3", "--json"]
        )
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert lines[0]["event"] == "start" and lines[0]["resumed"] and lines[0]["step"] == before
    first_step = next(e for e in lines if e["event"] == "step")
    assert first_step["step"] == before + 1
    assert load_checkpoint(run / "last.pt").step > before


def test_existing_run_needs_resume_or_force(trained_run, start_end_file, capsys):
    assert main(["train", str(start_end_file), "--out", str(trained_run), *TINY]) == 2
    assert "--resume" in capsys.readouterr().err


def test_fine_tune_extends_the_vocabulary(tmp_path, trained_run, folk_tunes, capsys):
    new = tmp_path / "new.abc"
    # Real tunes plus a character the first model never saw.
    new.write_text("\n\n".join(t.replace("T:", "T:ψ ", 1) for t in folk_tunes[40:70]) + "\n")
    out = tmp_path / "ft"
    assert (
        main(
            [
                "train",
                str(new),
                "--out",
                str(out),
                "--init",
                str(trained_run / "best.pt"),
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "--seq-len",
                "32",
                "--dropout",
                "0.4",
                "--quiet",
            ]
        )
        == 0
    )
    base = load_checkpoint(trained_run / "best.pt").tokenizer.vocab
    tuned = load_checkpoint(out / "last.pt")
    assert tuned.tokenizer.vocab[: len(base)] == base
    assert "ψ" in tuned.tokenizer.vocab[len(base) :]
    # The initial model's shape, with the dropout asked for (it changes no weight).
    assert tuned.config.model.hidden == 32
    assert tuned.config.model.dropout == 0.4
    capsys.readouterr()
    # A shape option that differs from the initial model's is refused, naming both.
    args = [
        "train",
        str(new),
        "--out",
        str(tmp_path / "ft2"),
        "--init",
        str(trained_run / "best.pt"),
    ]
    assert main([*args, "--hidden", "48", "--epochs", "1", "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "1x32" in err and "1x48" in err


def test_evaluate_json(trained_run, start_end_file, folk_tunes, capsys):
    assert main(["evaluate", str(trained_run / "best.pt"), str(start_end_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"loss_nats_per_char", "accuracy", "chars"}
    # Each tune of n characters is n + 1 predictions (<start> ... <end>).
    assert result["chars"] == sum(len(t) + 1 for t in folk_tunes[:40])
    assert 0.5 < result["loss_nats_per_char"] < math.log(100)
    assert 0.0 < result["accuracy"] < 1.0
    assert result["bits_per_char"] == pytest.approx(result["loss_nats_per_char"] / math.log(2))


def test_generate_writes_one_file_per_tune_reproducibly(tmp_path, trained_run):
    args = [
        "generate",
        str(trained_run / "best.pt"),
        "--num",
        "3",
        "--seed",
        "5",
        "--max-chars",
        "120",
        "--prompt",
        "M:6/8\nK:G",
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    files = sorted((tmp_path / "a").glob("*.abc"))
    assert len(files) == 3
    for f in files:
        text = f.read_text()
        assert text.startswith("X:1\nM:6/8\nK:G\n")
        assert text == (tmp_path / "b" / f.name).read_text()
    assert len({f.read_text() for f in files}) > 1


def test_generate_without_the_ending_rules_samples_other_tunes(tmp_path, trained_run):
    args = ["generate", str(trained_run / "best.pt"), "--num", "4", "--seed", "5"]
    args += ["--max-chars", "400", "--prompt", "M:4/4\nL:1/8\nK:G"]
    assert main([*args, "--out", str(tmp_path / "rules")]) == 0
    assert main([*args, "--no-end-on-tonic", "--out", str(tmp_path / "free")]) == 0
    ruled = [f.read_text() for f in sorted((tmp_path / "rules").glob("*.abc"))]
    free = [f.read_text() for f in sorted((tmp_path / "free").glob("*.abc"))]
    assert len(ruled) == len(free) == 4 and ruled != free


# -- bad input: one line naming the file, exit 1 (2 for usage), no traceback ----------------


def _one_line_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], proc.stderr


def test_missing_data_file(tmp_path):
    missing = tmp_path / "nope.abc"
    _one_line_error(run_cli("train", str(missing), "--out", str(tmp_path / "r")), 1, str(missing))


def test_unknown_corpus():
    _one_line_error(run_cli("corpus", "stats", "corpus:nosuch"), 1, "nosuch")


def test_corrupt_and_foreign_checkpoints(tmp_path, start_end_file, trained_run):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes((trained_run / "best.pt").read_bytes()[:5000])
    _one_line_error(run_cli("evaluate", str(corrupt), str(start_end_file)), 1, str(corrupt))
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    _one_line_error(run_cli("generate", str(text), "--out", str(tmp_path / "g")), 1, str(text))


def test_resume_with_other_architecture(tmp_path, trained_run, start_end_file):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    proc = run_cli("train", str(start_end_file), "--out", str(run), "--resume", "--arch", "gru")
    _one_line_error(proc, 1, "last.pt", "GRU")


def test_gpu_requested_where_there_is_none(tmp_path, trained_run, start_end_file):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    proc = run_cli(
        "evaluate", str(trained_run / "best.pt"), str(start_end_file), "--device", "cuda"
    )
    _one_line_error(proc, 1, "cuda")


def test_only_bad_files_is_an_error(tmp_path):
    empty = tmp_path / "empty.abc"
    empty.write_bytes(b"")
    binary = tmp_path / "noise.abc"
    binary.write_bytes(bytes(range(256)) * 20)
    proc = run_cli("train", str(empty), str(binary), "--out", str(tmp_path / "r"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert str(empty) in proc.stderr and str(binary) in proc.stderr
    assert "no usable tunes" in proc.stderr


def test_usage_errors_exit_2(tmp_path, trained_run):
    proc = run_cli(
        "generate", str(trained_run / "best.pt"), "--out", str(tmp_path), "--temperature", "0"
    )
    _one_line_error(proc, 2, "temperature")


def test_partially_bad_corpus_still_trains(tmp_path, folk_tunes):
    data = tmp_path / "data"
    data.mkdir()
    body = "".join(f"<start>\n{t}\n<end>\n" for t in folk_tunes[:30])
    (data / "good.txt").write_text(body + "<start>\nX:99\nT:Unfinished\nK:D\nabc|\n")
    (data / "latin1.abc").write_bytes("X:1\nT:Caf\xe9\nK:G\nGAB|\n".encode("latin-1"))
    (data / "broken.abc").write_bytes(b"\x00\x01\x02garbage" * 50)
    proc = run_cli(
        "train", str(data), "--out", str(tmp_path / "r"), *TINY, "--epochs", "1", "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    assert "broken.abc" in proc.stderr
    assert "<start>" in proc.stderr or "unterminated" in proc.stderr.lower()
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    # 30 good tunes plus the Latin-1 one; the unterminated and the binary file are skipped.
    assert config["data"]["train_tunes"] + config["data"]["val_tunes"] == 31
    assert "é" in config["vocab"]


@pytest.mark.parametrize("recipe", ["reports-gru", "reports-rnn"])
def test_report_recipes_run(tmp_path, start_end_file, recipe):
    out = tmp_path / recipe
    assert (
        main(
            [
                "train",
                str(start_end_file),
                "--out",
                str(out),
                "--recipe",
                recipe,
                "--epochs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    ckpt = load_checkpoint(Path(out) / "last.pt")
    assert ckpt.config.model.hidden == 100
    assert ckpt.config.model.embedding == 0
    assert ckpt.config.train.batch_size == 15 and ckpt.config.train.seq_len == 25


def test_force_starts_over_without_the_old_run(tmp_path, trained_run, start_end_file):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    old_steps = load_checkpoint(run / "last.pt").step
    # --epochs 1 with evaluation only at the end: the old best.pt must not survive until then.
    args = [
        "train",
        str(start_end_file),
        "--out",
        str(run),
        *TINY,
        "--epochs",
        "1",
        "--force",
        "--eval-every",
        "1e",
        "--quiet",
    ]
    assert main(args) == 0
    events = read_metrics(run / "metrics.jsonl")
    assert events[0]["event"] == "start" and events[0]["step"] == 0
    assert sum(e["event"] == "start" for e in events) == 1
    assert load_checkpoint(run / "best.pt").step < old_steps
    # Only the new run's samples: one per evaluation it made.
    evals = [e["step"] for e in events if e["event"] == "eval"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        f"step{s:07d}.abc" for s in evals
    ]
