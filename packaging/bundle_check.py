"""Checks that need the frozen interpreter itself: `workbench --bundle-check DIR` (build.sh).

What the CLI's own commands cannot show from outside the bundle:

1. the GUI's training path: a `TrainingJob` spawns the trainer as a child process of the frozen
   executable (spawn context, queues whose semaphores multiprocessing's resource tracker, another
   child, cleans up), trains a few steps on a built-in corpus, saves when told to and stops;
2. music21 finds its corpus in the bundle (`corpus:bach-chorales` parses a chorale through
   `music21.corpus`, which locates its folder from its own source path);
3. the shipped model is in the bundle and loads.

Each check prints one line; the exit status is the number of checks that failed. Also runs from
a checkout (`.venv/bin/python packaging/bundle_check.py DIR`), to tell a packaging fault from a
code fault.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not getattr(sys, "frozen", False):
    sys.path.insert(0, str(ROOT))


def check_shipped_model(work: Path) -> str:
    from models.checkpoint import load_checkpoint
    from models.pretrained import default_checkpoint

    path = default_checkpoint()
    if path is None:
        raise AssertionError("the shipped model (models/pretrained/default.pt) is missing")
    ckpt = load_checkpoint(path)
    return f"{path.name}: {ckpt.config.model.arch} {ckpt.config.model.hidden}, step {ckpt.step}"


def check_training_child(work: Path) -> str:
    from models.checkpoint import load_checkpoint
    from models.config import ModelConfig, RunConfig, TrainConfig
    from workbench.training_job import JobSpec, TrainingJob

    train = TrainConfig(
        batch_size=8, seq_len=32, epochs=50, eval_every=5, patience=0, device="cpu", threads=1
    )
    config = RunConfig(model=ModelConfig(hidden=32, embedding=16, dropout=0.0), train=train)
    run = work / "run"
    job = TrainingJob(JobSpec(data=["corpus:miscFolk"], run_dir=str(run), config=config.to_dict()))
    job.start()
    events: list[dict] = []
    deadline = time.monotonic() + 120
    stopping = False
    while time.monotonic() < deadline and not job.ended:
        events += job.poll()
        if not stopping and any(e["event"] == "eval" for e in events):
            job.stop()
            stopping = True
        time.sleep(0.05)
    job.wait()
    kinds = [e["event"] for e in events]
    if job.error:
        raise AssertionError(f"the trainer failed: {job.error}")
    if "end" not in kinds:
        job.kill()
        raise AssertionError(f"no end event in 120 s; got {kinds[-10:]}")
    last = load_checkpoint(run / "last.pt")
    steps = kinds.count("step")
    return f"spawned trainer: {steps} steps, stopped, last.pt at step {last.step}"


def check_music21_corpus(work: Path) -> str:
    os.environ["WORKBENCH_CACHE_DIR"] = str(work / "cache")
    from workbench.midi_data.chorales import chorale_midi_files

    files, failed = chorale_midi_files(limit=1)
    if failed or not files or files[0].stat().st_size == 0:
        raise AssertionError(f"music21 could not convert a chorale: {failed}")
    return f"music21 corpus: {files[0].name} ({files[0].stat().st_size} bytes of MIDI)"


CHECKS: dict[str, Callable[[Path], str]] = {
    "shipped model": check_shipped_model,
    "training child": check_training_child,
    "music21 corpus": check_music21_corpus,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: workbench --bundle-check WORK_DIR", file=sys.stderr)
        return 2
    work = Path(argv[0])
    work.mkdir(parents=True, exist_ok=True)
    failures = 0
    for name, check in CHECKS.items():
        t0 = time.perf_counter()
        try:
            detail = check(work)
        except Exception:
            failures += 1
            print(f"FAIL {name}:\n{traceback.format_exc()}", flush=True)
            continue
        print(f"ok   {name} ({time.perf_counter() - t0:.1f} s): {detail}", flush=True)
    return failures


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    raise SystemExit(main(sys.argv[1:]))
