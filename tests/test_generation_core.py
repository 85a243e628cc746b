"""The generation pane's Qt-free helpers: prompt headers, the model list, descriptions, export.

Real data: music21's miscFolk tunes; exports are re-read with mido and the corpus loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny import tiny_run_config

from models.checkpoint import Checkpoint
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.corpus import load
from workbench.corpus.stats import tune_key, tune_meter
from workbench.generation import (
    KEYS,
    METERS,
    GeneratedTune,
    build_prompt,
    describe_checkpoint,
    export_generated,
    header_field,
    list_models,
    parse_problem,
    plan_prompt,
    set_header_fields,
    with_title,
)


@pytest.fixture(scope="module")
def folk() -> list[str]:
    return [t.text for t in load(["corpus:miscFolk"]).tunes]


def header_lines(text: str) -> list[str]:
    lines = text.split("\n")
    out = []
    for line in lines:
        out.append(line)
        if line.startswith("K:"):
            break
    return out


def test_empty_prompt_gets_a_bare_header() -> None:
    assert build_prompt("") == ""
    assert build_prompt("", key="G") == "X:1\nK:G\n"
    assert build_prompt("", key="Dm", meter="6/8") == "X:1\nM:6/8\nK:Dm\n"
    assert build_prompt("", meter="3/4") == "X:1\nM:3/4\n"


def test_fields_are_replaced_in_place_and_k_stays_last() -> None:
    prompt = "X:3\nT:Reel\nM:4/4\nL:1/8\nK:D\n|:ABcd efge|"
    out = build_prompt(prompt, key="ADor", meter="2/2")
    assert out == "X:3\nT:Reel\nM:2/2\nL:1/8\nK:ADor\n|:ABcd efge|"
    # A missing M: goes before K:, never after it.
    out = build_prompt("X:1\nT:Jig\nK:G\nGAB|", meter="6/8")
    assert out == "X:1\nT:Jig\nM:6/8\nK:G\nGAB|"


def test_header_without_key_gets_one_before_the_body() -> None:
    out = build_prompt("T:Air\nL:1/8\nABcd|", key="Em", meter="3/4")
    assert out == "X:1\nT:Air\nL:1/8\nM:3/4\nK:Em\nABcd|"


def test_inline_fields_in_the_body_are_left_alone() -> None:
    prompt = "X:1\nM:4/4\nK:G\nGABc|\nK:D\nM:3/4\ndefg|"
    out = build_prompt(prompt, key="C", meter="2/4")
    assert out == "X:1\nM:2/4\nK:C\nGABc|\nK:D\nM:3/4\ndefg|"


def test_keep_and_keep_is_prepare_prompt() -> None:
    assert build_prompt("K:G") == "X:1\nK:G\n"
    assert set_header_fields("X:1\nK:G\nabc") == "X:1\nK:G\nabc"


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, 184),
    key=st.sampled_from((None, *KEYS)),
    meter=st.sampled_from((None, *METERS)),
)
def test_real_tunes_take_the_chosen_key_and_meter(folk, index, key, meter) -> None:
    tune = folk[index]
    out = build_prompt(tune, key=key, meter=meter)
    header = header_lines(out)
    assert header[-1].startswith("K:"), "K: must close the header"
    assert sum(line.startswith("K:") for line in header) == 1
    assert sum(line.startswith("M:") for line in header) <= 1
    if key is not None:
        assert header[-1] == f"K:{key}"
    else:
        assert tune_key(out) == tune_key(tune)
    if meter is not None:
        assert f"M:{meter}" in header
    else:
        assert tune_meter(out) == tune_meter(tune)
    # The body is untouched.
    body = tune.split("\n")[len(header_lines(tune)) :]
    assert out.split("\n")[len(header) :] == body


def fake_run(root: Path, name: str, loss: float, files: tuple[str, ...]) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    events = [
        {"event": "step", "step": 10, "epoch": 0.5, "loss": 2.0},
        {"event": "eval", "step": 10, "val_loss": loss, "val_accuracy": 0.4},
        {"event": "end", "reason": "epochs", "step": 10},
    ]
    text = "".join(json.dumps(e) + "\n" for e in events)
    (run / "metrics.jsonl").write_text(text, encoding="utf-8")
    for f in files:
        (run / f).write_bytes(b"")
    return run


def test_list_models_offers_default_then_each_runs_checkpoints(tmp_path: Path) -> None:
    fake_run(tmp_path, "old", 2.5, ("best.pt", "last.pt"))
    new = fake_run(tmp_path, "new", 1.25, ("best.pt",))
    (tmp_path / "not-a-run").mkdir()
    default = tmp_path / "default.pt"
    entries = list_models(tmp_path, default)
    assert entries[0].path == default and entries[0].kind == "default"
    paths = [e.path for e in entries[1:]]
    assert set(paths) == {
        tmp_path / "old" / "best.pt",
        tmp_path / "old" / "last.pt",
        new / "best.pt",
    }
    label = next(e.label for e in entries if e.path == new / "best.pt")
    assert "new" in label and "1.250" in label
    assert list_models(tmp_path / "missing", None) == []


def test_describe_checkpoint_names_arch_size_vocab_and_loss(folk) -> None:
    tok = CharTokenizer.fit(folk)
    cfg = tiny_run_config()
    model = CharRNN(cfg.model, len(tok))
    ckpt = Checkpoint(cfg, tok, model.state_dict(), step=42, metrics={"best_val_loss": 1.5})
    text = describe_checkpoint(ckpt)
    params = sum(p.numel() for p in model.parameters())
    assert text.startswith("LSTM 1x32")
    assert f"vocabulary {len(tok)}" in text
    assert "step 42" in text and "val loss 1.500" in text
    assert f"{params / 1e3:.0f}k parameters" in text
    ckpt.metrics = {}
    assert "val loss" not in describe_checkpoint(ckpt)
    assert torch.is_tensor(next(iter(ckpt.state_dict.values())))


def test_summary_and_title_of_real_and_untitled_tunes(folk) -> None:
    tune = GeneratedTune.make(folk[0], seed=7, index=2)
    assert tune.title == tune.summary.title and tune.title
    assert tune.summary.key and tune.summary.meter
    assert tune.summary.bars > 4
    untitled = GeneratedTune.make("X:1\nM:4/4\nK:G\nGABc|dedB|", seed=9, index=0)
    assert untitled.title == "Untitled (seed 9, #1)"
    assert GeneratedTune.make("X:1\nK:G\n").summary.bars == 0


def test_parse_problem_accepts_real_tunes(folk) -> None:
    assert parse_problem(folk[3]) == ""


def test_export_midi_and_tunebook_reread(tmp_path: Path, folk) -> None:
    texts = folk[:3]
    summary = export_generated(texts, tmp_path / "mid", "mid")
    assert summary.problems == [] and len(summary.written) == 3
    for path in summary.written:
        midi = mido.MidiFile(path)
        notes = [m for t in midi.tracks for m in t if m.type == "note_on" and m.velocity]
        assert len(notes) > 10
    assert "Exported 3 of 3 tunes (3 files)" in summary.text()

    book = export_generated(texts, tmp_path / "book.abc", "tunebook")
    assert book.written == [tmp_path / "book.abc"]
    back = load([str(tmp_path / "book.abc")]).tunes
    assert len(back) == 3
    for original, reread in zip(texts, back, strict=True):
        assert original.split("\n")[1:] == reread.text.strip("\n").split("\n")[1:]


def test_export_names_the_tunes_that_fail(tmp_path: Path, folk) -> None:
    texts = [folk[0], "X:1\nT:Silence\nM:4/4\nK:C\n"]
    summary = export_generated(texts, tmp_path, "musicxml")
    assert len(summary.written) == 1
    assert len(summary.problems) == 1 and "Silence" in summary.problems[0]
    assert "Failed:" in summary.text() and "Silence" in summary.text()


def test_export_wav_renders_audible_tunes(tmp_path: Path, folk) -> None:
    import wave

    import numpy as np

    summary = export_generated([folk[0], "X:1\nT:Silence\nM:4/4\nK:C\n"], tmp_path, "wav")
    assert len(summary.written) == 1 and len(summary.problems) == 1
    assert "Silence" in summary.problems[0]
    with wave.open(str(summary.written[0])) as f:
        rate, frames = f.getframerate(), f.readframes(f.getnframes())
        channels = f.getnchannels()
    audio = np.frombuffer(frames, "<i2").reshape(-1, channels)[:, 0].astype(float)
    assert len(audio) > rate * 5  # a whole tune, not a blip
    window = audio[: rate * 4]
    spectrum = np.abs(np.fft.rfft(window))[1:]
    peak_hz = np.fft.rfftfreq(len(window), 1 / rate)[1:][np.argmax(spectrum)]
    assert 100 < peak_hz < 2000  # the melody's register, not DC or noise
    assert not list(tmp_path.glob(".*.part"))


def test_plan_prompt_fills_only_missing_fields_and_names_the_conflicts() -> None:
    tune = "X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\n|:ABcd efge|"
    assert header_field(tune, "M") == "4/4" and header_field(tune, "K") == "D"
    assert header_field("|:ABcd|", "M") is None
    assert header_field("X:1\nK:G\nM:3/4\nabc|", "M") is None  # a body field, not the header's
    # The tune's own fields win; each differing choice gets a note.
    text, notes = plan_prompt(tune, key="G", meter="6/8")
    assert text == tune
    assert notes == [
        "Key G not applied: the prompt has K:D",
        "Meter 6/8 not applied: the prompt has M:4/4",
    ]
    assert plan_prompt(tune, key="D", meter="4/4") == (tune, [])  # the same: nothing to say
    # A missing field is filled; a bare selection takes both.
    text, notes = plan_prompt("X:1\nT:Jig\nK:G\nGAB|", key="D", meter="6/8")
    assert text == "X:1\nT:Jig\nM:6/8\nK:G\nGAB|" and notes == [
        "Key D not applied: the prompt has K:G"
    ]
    assert plan_prompt("GABc|", key="G", meter="6/8") == ("X:1\nM:6/8\nK:G\nGABc|", [])


def test_with_title_adds_a_t_line_only_when_the_header_has_none() -> None:
    assert with_title("X:1\nM:4/4\nK:C\nCDEF|", "Untitled (seed 7, #1)") == (
        "X:1\nT:Untitled (seed 7, #1)\nM:4/4\nK:C\nCDEF|"
    )
    assert with_title("X:1\nT:The Kesh\nK:G\nGAB|", "Other") == "X:1\nT:The Kesh\nK:G\nGAB|"
    assert with_title("K:G\nGAB|\nT:Part two\n", "New") == "T:New\nK:G\nGAB|\nT:Part two\n"
    tune = GeneratedTune.make("X:1\nK:C\nCDEF|", seed=3, index=1)
    assert tune.export_text == "X:1\nT:Untitled (seed 3, #2)\nK:C\nCDEF|"
