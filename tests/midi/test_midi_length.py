"""A length in seconds for generated pieces (workbench/midi_data/length.py and
`workbench generate CKPT --seconds S`): pieces end at the first event at which they play for S
seconds, read from the rendered MIDI, never earlier."""

from __future__ import annotations

from pathlib import Path

import pytest
import symusic
import torch

from models.checkpoint import Checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import build_network
from models.sample import SamplingParams, sample
from models.tokenizer import EventTokenizer
from workbench.cli import main
from workbench.midi_data import codec_for, make_settings
from workbench.midi_data.encodings import events_of, text_of
from workbench.midi_data.length import SecondsLimit, rendered_seconds, trim_to_seconds


@pytest.fixture(scope="module")
def chorale_texts(chorale_files) -> tuple[dict, list[str]]:
    settings = make_settings("remi")
    codec = codec_for(settings)
    return settings, [text_of(codec.encode_file(p)) for p in chorale_files[:4]]


def untrained(tokenizer: EventTokenizer, end_bias: float) -> torch.nn.Module:
    """A small untrained LSTM whose `<end>` logit is pushed up (ends at once) or down."""
    torch.manual_seed(0)
    model = build_network(ModelConfig(hidden=32, embedding=16, dropout=0.0), len(tokenizer))
    with torch.no_grad():
        model.head.bias[tokenizer.end_id] = end_bias
    return model.eval()


def untrained_checkpoint(chorale_texts, path: Path, end_bias: float) -> Path:
    """`untrained`'s model saved as a checkpoint, for `workbench generate`."""
    settings, texts = chorale_texts
    tok = EventTokenizer.fit(texts, settings)
    cfg = RunConfig(model=ModelConfig(hidden=32, embedding=16, dropout=0.0))
    model = untrained(tok, end_bias=end_bias)
    save_checkpoint(path, Checkpoint(config=cfg, tokenizer=tok, state_dict=model.state_dict()))
    return path


def test_trim_keeps_the_events_up_to_the_first_that_reaches_the_length(chorale_texts) -> None:
    settings, texts = chorale_texts
    text = texts[0]
    whole = rendered_seconds(settings, text)
    assert whole > 20  # a real chorale at 120 bpm
    trimmed = trim_to_seconds(settings, text, 10.0)
    events = events_of(trimmed)
    assert text.startswith(trimmed)
    assert rendered_seconds(settings, trimmed) >= 10.0
    assert rendered_seconds(settings, text_of(events[:-1])) < 10.0
    # Agrees with rendering every prefix in turn.
    all_events = events_of(text)
    first = next(
        k
        for k in range(len(all_events) + 1)
        if rendered_seconds(settings, text_of(all_events[:k])) >= 10.0
    )
    assert len(events) == first
    # A piece shorter than the length stays whole.
    assert trim_to_seconds(settings, text, whole + 1) == text


def test_the_limit_keeps_a_piece_going_until_the_length(chorale_texts) -> None:
    settings, texts = chorale_texts
    tok = EventTokenizer.fit(texts, settings)
    model = untrained(tok, end_bias=50.0)  # left alone, it ends every piece at once
    params = SamplingParams(max_chars=3000, seed=3)
    assert sample(model, tok, "", 2, params) == ["", ""]
    limit = SecondsLimit(tok, 6.0)
    pieces = sample(model, tok, "", 2, params, constraint=limit)
    assert limit.reached == [True, True]
    for text in pieces:
        played = rendered_seconds(settings, text)
        assert played >= 6.0
        trimmed = trim_to_seconds(settings, text, 6.0)
        # It stopped a few events after the first that reached the length (it renders now and
        # then, so it may look a little late); trimming takes those back.
        assert len(events_of(text)) - len(events_of(trimmed)) <= 10
        assert rendered_seconds(settings, text_of(events_of(trimmed)[:-1])) < 6.0
    # Rendered now and then, not after every event.
    events = sum(len(events_of(t)) for t in pieces)
    assert limit.renders < events / 4


def test_the_limit_ends_a_piece_that_would_run_on(chorale_texts) -> None:
    settings, texts = chorale_texts
    tok = EventTokenizer.fit(texts, settings)
    model = untrained(tok, end_bias=-1e9)  # never ends by itself
    params = SamplingParams(max_chars=5000, seed=4)
    prompt = text_of(events_of(texts[1])[:40])
    limit = SecondsLimit(tok, 4.0)
    (piece,) = sample(model, tok, prompt, 1, params, constraint=limit)
    assert piece.startswith(prompt)
    assert rendered_seconds(settings, piece) >= 4.0
    assert len(events_of(piece)) < 5000
    with pytest.raises(ValueError, match="more than 0 seconds"):
        SecondsLimit(tok, 0)


def test_generate_seconds_writes_pieces_of_that_length(chorale_texts, tmp_path: Path) -> None:
    settings, _ = chorale_texts
    ckpt = untrained_checkpoint(chorale_texts, tmp_path / "model.pt", end_bias=0.0)
    out = tmp_path / "gen"
    args = ["generate", str(ckpt), "--out", str(out), "--seconds", "5", "--num", "2"]
    assert main([*args, "--seed", "9", "--device", "cpu"]) == 0
    written = sorted(out.glob("*.mid"))
    assert len(written) == 2
    for path in written:
        played = symusic.Score(str(path)).to("second").end()
        assert played >= 5.0
        events = events_of(path.with_suffix(".events.txt").read_text())
        assert rendered_seconds(settings, text_of(events[:-1])) < 5.0


def test_seconds_is_for_midi_models(tmp_path: Path, capsys) -> None:
    # No checkpoint: the shipped default model, a character (ABC) model.
    assert main(["generate", "--out", str(tmp_path), "--seconds", "5"]) == 2
    assert "--seconds is for MIDI models" in capsys.readouterr().err


def test_generate_events_runs_each_piece_to_its_length_unless_it_may_end_early(
    chorale_texts, tmp_path: Path, capsys
) -> None:
    """`--events N` is a length, as `--seconds` is: a model that would end every piece within
    a few events (<end> pushed up) still writes N; `--end-early` gives it its end back."""
    ckpt = untrained_checkpoint(chorale_texts, tmp_path / "model.pt", end_bias=6.0)
    args = ["generate", str(ckpt), "--events", "120", "--num", "3", "--seed", "9"]
    assert main([*args, "--out", str(tmp_path / "full"), "--device", "cpu"]) == 0
    full = sorted((tmp_path / "full").glob("*.events.txt"))
    assert [len(events_of(p.read_text())) for p in full] == [120, 120, 120]
    status = main([*args, "--out", str(tmp_path / "free"), "--end-early", "--device", "cpu"])
    free = [len(events_of(p.read_text())) for p in (tmp_path / "free").glob("*.events.txt")]
    assert len(free) == 3 and max(free) < 120  # its own end came first, in every piece
    # A piece that ended before any note is "not music": no .mid, and the status says so.
    written = len(list((tmp_path / "free").glob("*.mid")))
    assert status == (0 if written == 3 else 1)
    capsys.readouterr()
    # A character model takes no --end-early (its tunes always end where it ends them).
    assert main(["generate", "--out", str(tmp_path / "abc"), "--end-early"]) == 2
    assert "--end-early is for MIDI models" in capsys.readouterr().err


def test_generate_without_a_length_writes_what_the_generation_pane_would(
    chorale_texts, tmp_path: Path
) -> None:
    """One default for both front ends: `workbench generate` with no --events writes pieces of
    the Generation pane's default length; --max-chars, the older spelling, still sets it."""
    from workbench.generation_defaults import DEFAULT_EVENTS
    from workbench.ui.widgets import sampling_knobs

    assert sampling_knobs._LENGTHS["events"][1] == DEFAULT_EVENTS == 500
    ckpt = untrained_checkpoint(chorale_texts, tmp_path / "model.pt", end_bias=6.0)
    args = ["generate", str(ckpt), "--num", "2", "--seed", "4", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path / "default")]) == 0
    written = sorted((tmp_path / "default").glob("*.events.txt"))
    assert [len(events_of(p.read_text())) for p in written] == [500, 500]
    assert main([*args, "--out", str(tmp_path / "old"), "--max-chars", "70"]) == 0
    written = sorted((tmp_path / "old").glob("*.events.txt"))
    assert [len(events_of(p.read_text())) for p in written] == [70, 70]
