"""Training on collections of different shapes: the default recipe, N minutes each.

    .venv/bin/python benchmarks/robust_training.py [--minutes 15] [--threads 1]
        [--collections longtail,ryansMammoth,oneills1850,airdsAirs,essenFolksong]
        [--out runs/bench-robust] [--parallel 1] [--summarise] [-- EXTRA TRAIN OPTIONS]

Runs `workbench train DATA --time-budget ... --val-fraction 0.2` (the user's command, in its own
process) on each collection and prints one row per run, read back from its `metrics.jsonl`:

- tunes, and the tune lengths (median and longest) of the collection;
- held-out loss (nats/char) and accuracy of the best evaluation;
- seconds (of the run's own clock) until the held-out loss first passed 1.8 nats/char;
- why the run ended and the share of the budget it used;
- `worst`: after the first epoch, how far any evaluation rose above the best before it (the
  starved-lanes fault made this 1.2 nats/char every other evaluation);
- the padding share per epoch and the real share of the emptiest step.

`longtail` is `scripts/build_long_tailed.py`'s collection (written into --out): Ryan's tunes
with medleys up to ~4,600 characters and fragments. `unseen` is the same shape made of the tunes
of the shipped model's own collections that it never trained on (`--source unseen`), for
measuring fine-tuning where the notation is the shipped model's. Options after `--` go to every
`workbench train` (`-- --dropout 0.5` compares a recipe change). `--summarise` only reads the
runs already in --out. Runs sharing the machine slow each other: give --parallel only when there
are cores to spare, and say so with the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "longtail,ryansMammoth,oneills1850,airdsAirs,essenFolksong"


# Long-tailed <start>/<end> collections written by scripts/build_long_tailed.py, by --source.
BUILT = {"longtail": "ryans", "unseen": "unseen"}


def data_spec(name: str, out: Path) -> str:
    if name not in BUILT:
        return f"corpus:{name}"
    path = out / f"{name}.txt"
    if not path.exists():
        script = str(ROOT / "scripts" / "build_long_tailed.py")
        subprocess.run([sys.executable, script, str(path), "--source", BUILT[name]], check=True)
    return str(path)


def train(name: str, args: argparse.Namespace, extra: list[str]) -> None:
    run_dir = args.out / name
    cmd = [
        str(ROOT / ".venv" / "bin" / "workbench"),
        "train",
        data_spec(name, args.out),
        "--out",
        str(run_dir),
        "--force",
        "--time-budget",
        str(args.minutes * 60),
        "--threads",
        str(args.threads),
        "--val-fraction",
        "0.2",
        "--quiet",
        *extra,
    ]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def summarise(name: str, run_dir: Path, budget: float) -> str:
    events = [json.loads(line) for line in (run_dir / "metrics.jsonl").open(encoding="utf-8")]
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    evals = [e for e in events if e["event"] == "eval"]
    ends = [e for e in events if e["event"] == "end"]
    epochs = [e for e in events if e["event"] == "epoch"]
    best = min(evals, key=lambda e: e["val_loss"])
    worst, best_so_far = 0.0, float("inf")
    for e in evals:
        if e["epoch"] >= 1:
            worst = max(worst, e["val_loss"] - best_so_far)
        best_so_far = min(best_so_far, e["val_loss"])
    passed = next((e["elapsed"] for e in evals if e["val_loss"] <= 1.8), None)
    end = ends[-1] if ends else {"reason": "running", "elapsed": evals[-1]["elapsed"]}
    data = config["data"]
    tunes = data["train_tunes"] + data["val_tunes"]
    pad = (
        f"{min(e['padding'] for e in epochs):.1%}-{max(e['padding'] for e in epochs):.1%}, "
        f"{min(e['min_real_share'] for e in epochs):.0%}"
        if epochs
        else "-"
    )
    lengths = _lengths(run_dir)
    return (
        f"| {name} | {tunes} | {lengths} | {best['val_loss']:.3f} | {best['val_accuracy']:.1%} "
        f"| {'-' if passed is None else f'{passed:.0f}'} | {end['reason']}, "
        f"{end['elapsed'] / budget:.0%} | {worst:+.3f} | {pad} |"
    )


def _lengths(run_dir: Path) -> str:
    spec = run_dir / "lengths.json"
    if spec.exists():
        lengths = json.loads(spec.read_text(encoding="utf-8"))
        return f"{statistics.median(lengths):.0f} / {max(lengths)}"
    return "-"


def record_lengths(name: str, out: Path) -> None:
    from workbench.corpus import load

    lengths = [len(t.text) for t in load([data_spec(name, out)]).tunes]
    (out / name).mkdir(parents=True, exist_ok=True)
    (out / name / "lengths.json").write_text(json.dumps(lengths), encoding="utf-8")


def main() -> None:
    argv = sys.argv[1:]
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--collections", default=DEFAULT)
    ap.add_argument("--out", type=Path, default=Path("runs/bench-robust"))
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--summarise", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for n in args.collections.split(",") if n.strip()]
    t0 = time.perf_counter()
    if not args.summarise:

        def one(name: str) -> None:
            record_lengths(name, args.out)
            train(name, args, extra)

        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            list(pool.map(one, names))
        print(f"all runs: {time.perf_counter() - t0:.0f} s", flush=True)
    print(
        "| collection | tunes | length median / max | held-out loss | accuracy "
        "| s to 1.8 | end, budget used | worst rise after epoch 1 | padding, emptiest step |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        if (args.out / name / "metrics.jsonl").exists():
            print(summarise(name, args.out / name, args.minutes * 60))


if __name__ == "__main__":
    main()
