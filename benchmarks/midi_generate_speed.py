"""MIDI generation speed: 500 events from the default event model, sampled and written as .mid.

    .venv/bin/python benchmarks/midi_generate_speed.py [--checkpoint runs/x/best.pt]
        [--events 500] [--encoding remi]

Target (issue 13): 500 events in <= 1 s on the CPU. Without a checkpoint it samples from a freshly
initialised default model (the char models' LSTM, `recipe("default")`) over the encoding's whole
MidiTok vocabulary: speed does not depend on the weights. Every piece is exactly --events long,
as the app makes them (the model's `<end>` waits for the length: `min_chars`). Also times the
report presets' networks (no fast one-step path: they step through torch's fused LSTM) and
decoding the events to a .mid file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import torch

from models.checkpoint import load_checkpoint
from models.config import recipe
from models.networks import build_network
from models.sample import SamplingParams, sample
from models.tokenizer import SPECIALS, EventTokenizer
from workbench.midi_data import make_settings, write_midi


def timed(model, tok, events: int, repeats: int) -> tuple[float, str]:
    params = SamplingParams(temperature=1.0, max_chars=events, min_chars=events, seed=1)
    sample(model, tok, "", 1, SamplingParams(max_chars=20, seed=0))  # warm-up
    times = []
    text = ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        text = sample(model, tok, "", 1, params)[0]
        times.append(time.perf_counter() - t0)
        assert len(text.split()) == events
    return statistics.median(times), text


def fresh_model(name: str, tok: EventTokenizer):
    torch.manual_seed(0)
    return build_network(recipe(name).model, len(tok)).eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint")
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--encoding", default="remi")
    args = ap.parse_args()
    if args.checkpoint:
        ckpt = load_checkpoint(args.checkpoint)
        models = {ckpt.describe(): ckpt.build_model()}
        tok = ckpt.tokenizer
    else:
        settings = make_settings(args.encoding)
        vocab = settings.get("miditok", {}).get("_vocab_base", {})
        miditok_specials = {"PAD_None", "BOS_None", "EOS_None", "MASK_None"}
        names = [n for n in sorted(vocab, key=vocab.get) if n not in miditok_specials]
        tok = EventTokenizer([*SPECIALS, *names], settings)
        models = {
            f"default ({recipe('default').model.arch} 1x512)": fresh_model("default", tok),
            "reports-004-midi (lstm-dense 3x512)": fresh_model("reports-004-midi", tok),
            "reports-002-midi (conv-lstm 2x256)": fresh_model("reports-002-midi", tok),
        }
    print(f"torch {torch.__version__}, vocabulary {len(tok)} events")
    for name, model in models.items():
        seconds, text = timed(model, tok, args.events, 5)
        print(
            f"RESULT {name}: {args.events} events in {seconds:.3f} s "
            f"({args.events / seconds:,.0f} events/s)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        # The first decode of a process rebuilds the MidiTok tokenizer from the stored settings.
        for when in ("first", "again"):
            t0 = time.perf_counter()
            rendered = write_midi(tok.settings, text, Path(tmp, "piece.mid"))
            print(
                f"RESULT decode + write .mid ({when}): {time.perf_counter() - t0:.3f} s "
                f"({rendered.notes} notes)"
            )


if __name__ == "__main__":
    main()
