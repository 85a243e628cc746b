"""Crash isolation at scale: hostile tunes through the app's validation, engraving and MIDI paths.

    .venv/bin/python benchmarks/crash_isolation.py [--num 1000] [--seed 1] [--temperature 2.0]
        [--model models/pretrained/default.pt] [--prompt "X:1\\n"] [--timeout 10]

Samples ``--num`` tunes at ``--temperature`` from the shipped model (what the generation pane
does: :func:`models.sample.sample`, then :func:`workbench.notation.provenance.drop_provenance`)
and sends each one down the three paths the GUI sends a tune down:

* validation: :func:`workbench.notation.validate.validate_abc`, what the editor's
  ``ValidationWorker`` runs on its thread;
* engraving: :class:`workbench.notation.render.ScoreRenderer`, the verovio child process behind
  the score view's ``RenderWorker`` (which only calls ``render(abc, scale=40)`` on it), with the
  same crash/timeout handling and standby worker the app has;
* MIDI conversion: :func:`workbench.playback.events.tune_from_abc`, what the playback pane's
  converter thread runs (its documented failure is ``PlaybackError``).

It counts the outcomes by kind, checks after every engraver crash or timeout that the renderer
replaced its worker (a new, live process id and one more restart) and that a known-good tune
still engraves at the end, and prints the table. It exits 1 when this process saw an exception
that escaped one of the three paths (the app would have shown "unexpected error"), when a crash
was not followed by a restart, or when the renderer stopped working; reaching the end at all is
the proof that this process, which holds the renderer as the app does, never died.

Keep this module's top level free of torch (imported inside functions): the engraver is a
spawned process, and spawn re-imports the main script's top-level imports in every worker.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "pretrained" / "default.pt"
#: What the score view asks of its RenderWorker (``RenderWorker(scale=40)``).
SCALE = 40
#: A tune that engraves: proves the renderer still works after everything else.
GOOD_TUNE = "X:1\nT:Check\nM:6/8\nL:1/8\nK:D\nA|dfa afd|gbg faf|edc d2:|\n"
#: A stray ``]`` in the body: verovio 6.4 dies of SIGSEGV on it (tests/notation keeps it too).
STRAY_BRACKET = "X:1\nT:Stray\nM:4/4\nL:1/8\nK:G\nABcd ] efga|\n"
#: A tune's MIDI conversion may take this long before it counts as hung (the app has no limit:
#: its converter is a daemon thread; a hang would leave the pane "converting" forever).
CONVERT_LIMIT_S = 30.0


def kind_of(message: str) -> str:
    """A message with its particulars (quoted text, numbers, names of notes) taken out, so
    the same failure on different tunes counts as one kind."""
    text = message.splitlines()[0] if message else ""
    text = re.sub(r"\([^()]*\)", "(…)", text)  # exit codes, signal names, positions
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", text)
    text = re.sub(r"(?<![A-Za-z\d])\d+(?:[./]\d+)*", "N", text)
    text = re.sub(r"(?<=: ).*", "…", text, count=1) if len(text) > 70 else text
    return text[:90]


#: The validator's messages (workbench/notation/validate.py), by kind: the first that matches.
_VALIDATION_KINDS = [
    (re.compile(p), label)
    for p, label in (
        (r"^M:.* is not a meter", "M: value is not a meter"),
        (r"^L:.* is not a note length", "L: value is not a note length"),
        (r"^Q:.* is not a tempo", "Q: value is not a tempo"),
        (r"^X:.* must be the tune's number", "X: value is not a number"),
        (r"^K: is empty", "K: is empty"),
        (r"^K:.*: H is not a key letter", "K: German H"),
        (r"^K:.* is not a key;", "K: value is not a key"),
        (r"^K:.*write the keynote as a capital", "K: keynote in lower case"),
        (r"^K:.* is not a mode;", "K: unknown mode"),
        (r"^K:.* is not an accidental", "K: bad accidental"),
        (r"^.: is not an ABC field", "unknown field letter"),
        (r"^.: belongs in the header", "header field in the body"),
        (r"^the inline field .* has no closing", "inline field not closed"),
        (r"is a symbol letter that no U: field defines", "undefined symbol letter"),
        (r"starts a decoration like .* but is never closed", "decoration not closed"),
        (r"is a note length with no note before it", "note length without a note"),
        (r"^the accidental .* must stand right before a note", "accidental without a note"),
        (r"is reserved in ABC", "reserved character"),
        (r"is not ABC music$", "characters that are not ABC music"),
    )
]


def validation_kind(message: str) -> str:
    for pattern, label in _VALIDATION_KINDS:
        if pattern.search(message):
            return label
    return kind_of(message)


@dataclass
class Tally:
    """Outcomes of the tunes checked so far, by path and kind."""

    tunes: int = 0
    validation: Counter = field(default_factory=Counter)  # tune-level: clean / has errors...
    validation_problems: Counter = field(default_factory=Counter)  # every error, by kind
    render: Counter = field(default_factory=Counter)
    midi: Counter = field(default_factory=Counter)
    crashes: int = 0  # engraver processes that died or hung
    restarts_seen: int = 0  # of them, followed by a fresh live worker
    unhandled: list[str] = field(default_factory=list)  # exceptions that escaped a path
    seconds: Counter = field(default_factory=Counter)  # time spent per path
    slowest: dict[str, float] = field(default_factory=dict)

    def timed(self, path: str, seconds: float) -> None:
        self.seconds[path] += seconds
        self.slowest[path] = max(self.slowest.get(path, 0.0), seconds)


def validate_one(text: str, tally: Tally) -> None:
    from workbench.notation.validate import validate_abc

    t0 = time.perf_counter()
    try:
        problems = validate_abc(text)
    except Exception as error:  # validate_abc documents no exception: this is a bug
        tally.unhandled.append(f"validation: {type(error).__name__}: {error}")
        tally.validation["raised (bug)"] += 1
        return
    finally:
        tally.timed("validation", time.perf_counter() - t0)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        tally.validation["has errors"] += 1
    elif problems:
        tally.validation["warnings only"] += 1
    else:
        tally.validation["clean"] += 1
    for problem in errors:
        tally.validation_problems[validation_kind(problem.message)] += 1


def render_one(text: str, renderer, tally: Tally, timeout: float) -> None:
    restarts, pid = renderer.restarts, renderer.worker_pid
    t0 = time.perf_counter()
    try:
        result = renderer.render(text, scale=SCALE, timeout=timeout)
    except Exception as error:  # render() promises never to raise for bad ABC
        tally.unhandled.append(f"render: {type(error).__name__}: {error}")
        tally.render["raised (bug)"] += 1
        return
    finally:
        tally.timed("render", time.perf_counter() - t0)
    if result.ok:
        tally.render["ok"] += 1
        return
    error = result.error or "no pages and no message"
    if "crashed" in error or "longer than" in error:
        kind = "worker crash: " + (re.search(r"\((.*?)\)", error).group(1) if "(" in error else "?")
        if "longer than" in error:
            kind = "worker timeout (killed)"
        tally.crashes += 1
        new_pid = renderer.worker_pid
        # The renderer must have put a fresh, live process in place of the one that died.
        if renderer.restarts == restarts + 1 and new_pid not in (None, pid) and _alive(new_pid):
            tally.restarts_seen += 1
        else:
            tally.unhandled.append(
                f"render: crash not followed by a restart (restarts {restarts} -> "
                f"{renderer.restarts}, pid {pid} -> {new_pid})"
            )
        tally.render[kind] += 1
    else:
        tally.render[kind_of(error)] += 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def convert_one(text: str, tally: Tally) -> None:
    """MIDI conversion as the playback pane runs it: on a daemon thread, PlaybackError shown."""
    from workbench.playback.events import PlaybackError, tune_from_abc

    outcome: list[str] = []

    def convert() -> None:
        try:
            tune = tune_from_abc(text, "sampled")
        except PlaybackError as error:
            outcome.append(kind_of(str(error)))
        except Exception as error:  # the pane shows these too, but they are not documented
            outcome.append(f"UNDOCUMENTED {type(error).__name__}")
            tally.unhandled.append(f"midi: {type(error).__name__}: {error}")
        else:
            outcome.append("ok" if tune.notes else "ok, but no notes")

    t0 = time.perf_counter()
    thread = threading.Thread(target=convert, name="playback-convert", daemon=True)
    thread.start()
    thread.join(CONVERT_LIMIT_S)
    tally.timed("midi", time.perf_counter() - t0)
    if thread.is_alive():
        tally.midi[f"hung > {CONVERT_LIMIT_S:g} s"] += 1
        tally.unhandled.append(f"midi: conversion hung on {text[:200]!r}")
    else:
        tally.midi[outcome[0]] += 1


def check_tunes(texts, renderer, *, timeout: float = 10.0, progress: bool = False) -> Tally:
    """Send every tune through validation, engraving (``renderer``: a ScoreRenderer) and MIDI
    conversion; then check that ``renderer`` still engraves a good tune."""
    tally = Tally()
    t0 = time.perf_counter()
    for i, text in enumerate(texts, 1):
        tally.tunes += 1
        validate_one(text, tally)
        render_one(text, renderer, tally, timeout)
        convert_one(text, tally)
        if progress and (i % 50 == 0 or i == len(texts)):
            print(
                f"  {i}/{len(texts)} tunes, {time.perf_counter() - t0:.0f} s, "
                f"{tally.crashes} engraver crashes",
                flush=True,
            )
    final = renderer.render(GOOD_TUNE, scale=SCALE, timeout=timeout)
    if not final.ok:
        tally.unhandled.append(f"render: a good tune failed at the end: {final.error}")
    return tally


def sample_tunes(model_path: Path, num: int, seed: int, temperature: float, prompt: str):
    """``num`` tunes as the generation pane samples them (then drops provenance lines)."""
    import torch

    from models.checkpoint import load_checkpoint
    from models.sample import SamplingParams, sample
    from workbench.notation.provenance import drop_provenance

    torch.set_num_threads(1)
    ckpt = load_checkpoint(model_path)
    model = ckpt.build_model("cpu")
    texts: list[str] = []
    batch = 50
    for start in range(0, num, batch):
        n = min(batch, num - start)
        params = SamplingParams(temperature=temperature, seed=seed + start)
        texts += sample(model, ckpt.tokenizer, prompt, n, params, device="cpu")
    return [drop_provenance(t, prompt) for t in texts]


def print_table(tally: Tally, seconds: float) -> None:
    n = tally.tunes

    def section(title: str, counts: Counter, total: int | None = n) -> None:
        print(f"\n{title}")
        for kind, count in counts.most_common():
            share = f"{100 * count / total:5.1f} %" if total else ""
            print(f"  {count:6d}  {share}  {kind}")

    print(f"\n{n} tunes in {seconds:.0f} s")
    section("validation (per tune)", tally.validation)
    section("validation errors by kind (all errors of all tunes)", tally.validation_problems, None)
    section("score rendering (verovio worker process)", tally.render)
    section("MIDI conversion (music21, playback pane's path)", tally.midi)
    print(
        f"\nengraver crashes/timeouts: {tally.crashes}; followed by a fresh live worker: "
        f"{tally.restarts_seen}"
    )
    for path in ("validation", "render", "midi"):
        if n:
            print(
                f"time in {path}: mean {1000 * tally.seconds[path] / n:.0f} ms/tune, "
                f"slowest {tally.slowest.get(path, 0) * 1000:.0f} ms"
            )
    print(f"benchmark process {os.getpid()} alive at the end (it holds the renderer, as the app)")
    print(
        f"exceptions that escaped a path (the app would show 'unexpected error'): "
        f"{len(tally.unhandled)}"
    )
    for line in tally.unhandled[:20]:
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--prompt", default="X:1\n", help="the prompt (default: a new tune's X:)")
    ap.add_argument("--timeout", type=float, default=10.0, help="engraving limit, as the app's")
    args = ap.parse_args(argv)

    from workbench.notation.render import ScoreRenderer

    prompt = args.prompt.replace("\\n", "\n")
    t0 = time.perf_counter()
    texts = sample_tunes(args.model, args.num, args.seed, args.temperature, prompt)
    print(
        f"sampled {len(texts)} tunes at T={args.temperature:g} from {args.model.name} "
        f"(seed {args.seed}, prompt {prompt!r}) in {time.perf_counter() - t0:.0f} s; "
        f"median length {sorted(map(len, texts))[len(texts) // 2]} chars",
        flush=True,
    )
    t0 = time.perf_counter()
    with ScoreRenderer() as renderer:
        tally = check_tunes(texts, renderer, timeout=args.timeout, progress=True)
    print_table(tally, time.perf_counter() - t0)
    failed = bool(tally.unhandled) or tally.restarts_seen != tally.crashes
    print("RESULT:", "FAIL" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
