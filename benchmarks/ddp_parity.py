"""Two CPU ranks under torchrun vs one process: the same optimizer steps, the same held-out loss?

    .venv/bin/python benchmarks/ddp_parity.py [--data corpus:airdsAirs] [--epochs 2]
        [--hidden 256] [--batch-size 32] [--out runs/bench-ddp] [-- EXTRA TRAIN OPTIONS]

Trains the default recipe (dropout 0.5, AdamW, cosine) with `workbench train` twice on the same
tune-level split (10 % held out, seed 1234), one after the other so each has the machine:
once in one process on one thread, once as `torchrun --standalone --nproc-per-node 2 -m
workbench train` with one thread per rank. `--batch-size` is the global batch in both: each
rank trains half of its lanes (16 of 32), DDP averages the two halves' gradients, and the epoch
limit gives both runs the same number of optimizer steps. Dropout draws different masks on two
ranks, so the runs are not identical; the target is a held-out loss within 0.05 nats/char.

Prints, for each run: the files of its run directory, its steps and wall time, and the held-out
loss and accuracy of its final weights (`last.pt`) measured by `workbench evaluate`; then the
difference. Exits 1 when the run directories differ in kind or the difference exceeds 0.05.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import load_split

from models.train import read_metrics
from workbench.corpus.loader import export_abc

WORKBENCH = [sys.executable, "-m", "workbench"]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
TARGET = 0.05


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="corpus:airdsAirs")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32, help="the global batch")
    ap.add_argument("--out", default="runs/bench-ddp")
    ap.add_argument("extra", nargs="*", help="more `workbench train` options (after --)")
    args = ap.parse_args()

    _, val_texts = load_split(args.data)
    out = Path(args.out)
    common = [args.data, "--epochs", str(args.epochs), "--hidden", str(args.hidden)]
    common += ["--batch-size", str(args.batch_size), "--patience", "0", "--device", "cpu"]
    common += ["--force", "--quiet", *args.extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = {
        "1 process": [*WORKBENCH, "train", *common, "--threads", "1"],
        "2 ranks": [*TORCHRUN, "2", "-m", "workbench", "train", *common],
    }
    walls = {}
    for name, cmd in runs.items():
        run_dir = out / name.replace(" ", "-")
        t0 = time.perf_counter()
        done = subprocess.run(
            [*cmd, "--out", str(run_dir)], capture_output=True, text=True, env=env
        )
        walls[name] = time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"{name}: failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")

    files, results, steps = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        held_out = Path(tmp) / "held-out.abc"
        export_abc(val_texts, held_out)
        for name in runs:
            run_dir = out / name.replace(" ", "-")
            files[name] = sorted(p.name for p in run_dir.iterdir() if not p.name.startswith("."))
            events = read_metrics(run_dir / "metrics.jsonl")
            end = events[-1]
            start = events[0]
            steps[name] = end["step"]
            cmd = [*WORKBENCH, "evaluate", str(run_dir / "last.pt"), str(held_out), "--json"]
            done = subprocess.run(
                [*cmd, "--device", "cpu"], capture_output=True, text=True, check=True, env=env
            )
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{name:9s}: {end['step']} steps of {start['chars_per_step']} chars "
                f"({start.get('world_size', 1)} process(es)), ended: {end['reason']}, "
                f"wall {walls[name]:.0f} s; held-out {results[name]['loss_nats_per_char']:.4f} "
                f"nats/char, accuracy {100 * results[name]['accuracy']:.1f} %; "
                f"run dir: {', '.join(files[name])}",
                flush=True,
            )
    a, b = (results[n]["loss_nats_per_char"] for n in runs)
    same_kind = files["1 process"] == files["2 ranks"]
    same_steps = len(set(steps.values())) == 1
    print(f"held-out: {len(val_texts)} tunes of {args.data}")
    print(f"run directories of the same kind: {same_kind}; same optimizer steps: {same_steps}")
    print(f"difference (2 ranks - 1 process): {b - a:+.4f} nats/char (target: within {TARGET})")
    if not same_kind or not same_steps or abs(b - a) > TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
