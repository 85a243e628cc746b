"""Fine-tuning vs training from scratch: held-out loss after the same wall-clock time.

    .venv/bin/python benchmarks/fine_tune.py [--data corpus:ryansMammoth] [--minutes 15]
        [--init models/pretrained/default.pt] [--lr 1e-3] [--out runs/bench-fine-tune]

Both runs use the CLI (`workbench train`), the same tune-level split of DATA (10 % held out,
seed 1234) and one CPU thread each, and run side by side so they see the same machine. The
fine-tune starts from the shipped default model (its architecture, vocabulary grown as needed)
with a lower peak learning rate; the baseline trains the default recipe from random weights.
Prints each run's best held-out loss (nats/char) and accuracy, re-measured with
`workbench evaluate` on the held-out tunes.

ryansMammoth is the default DATA because the shipped model never saw it (see
models/pretrained/MODEL_CARD.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import load_split

from models.pretrained import default_checkpoint
from workbench.corpus.loader import export_abc

WORKBENCH = [sys.executable, "-m", "workbench"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="corpus:ryansMammoth")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--init", default=None, help="default: the shipped model")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of the fine-tune")
    ap.add_argument("--out", default="runs/bench-fine-tune")
    args = ap.parse_args()

    init = args.init or default_checkpoint()
    if init is None:
        sys.exit("no shipped default model: pass --init CKPT")
    _, val_texts = load_split(args.data)
    out = Path(args.out)
    budget = str(args.minutes * 60)
    common = [args.data, "--time-budget", budget, "--threads", "1", "--patience", "0"]
    common += ["--quiet", "--force", "--device", "cpu"]
    tune_from = ["--init", str(init), "--lr", str(args.lr)]
    runs = {
        "fine-tune": [*common, "--out", str(out / "fine-tune"), *tune_from],
        "scratch": [*common, "--out", str(out / "scratch")],
    }
    procs = {
        name: subprocess.Popen([*WORKBENCH, "train", *cli], stdout=subprocess.PIPE, text=True)
        for name, cli in runs.items()
    }
    for name, proc in procs.items():
        output, _ = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"{name} run failed (exit {proc.returncode}): {output.strip()[-500:]}")
        print(f"{name}: {output.strip().splitlines()[-1]}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        held_out = Path(tmp) / "held-out.abc"
        export_abc(val_texts, held_out)
        print(f"held-out: {len(val_texts)} tunes of {args.data}, after {args.minutes:g} min each")
        for name in runs:
            cmd = [*WORKBENCH, "evaluate", str(out / name / "best.pt"), str(held_out)]
            done = subprocess.run(
                [*cmd, "--json", "--device", "cpu"],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"  {name:9s}  {result['loss_nats_per_char']:.3f} nats/char  "
                f"accuracy {100 * result['accuracy']:.1f} %",
                flush=True,
            )


if __name__ == "__main__":
    main()
