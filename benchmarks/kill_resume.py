"""SIGKILL the trainer at random moments, checkpoint writes included; after each kill every
checkpoint must load, metrics.jsonl must read, and the run must resume where it was.

One continuous run of `workbench train` (a small GRU on music21's 185 miscFolk tunes, a
checkpoint every 3 steps) is killed and resumed again and again, so resume-after-kill chains
are tried too. Each kill is one of:

  startup  a random moment after launch, often before the trainer has logged anything
           (imports, reading the data, writing config.json, opening metrics.jsonl);
  write    as soon as a checkpoint's temporary file (`.last.pt.*.tmp`, `.best.pt.*.tmp`)
           appears, i.e. while torch.save or fsync is writing it. It counts as a kill during a
           checkpoint write only when the temporary file is still there after the kill: proof
           that the process died mid-write;
  random   a random moment up to 2 s after the trainer logged its start.

After each kill: every `*.pt` in the run directory loads (`models.checkpoint.load_checkpoint`)
and builds its network, last.pt carries its trainer state, `metrics.jsonl` reads
(`models.metrics_log.read_metrics`) and holds no torn line, and the run restarts with
`workbench train ... --resume`; its start event must say resumed at last.pt's step. (A kill
before the first last.pt leaves nothing to resume: the run starts over with --force.) At the
end, every step the chain trained twice (logged, killed before the next checkpoint, trained
again after the resume) must have logged the same loss both times, and after a last resume
that stops cleanly (SIGTERM) no temporary file may be left in the run directory.

    .venv/bin/python benchmarks/kill_resume.py                 # 100 kills, seed 0
    .venv/bin/python benchmarks/kill_resume.py --kills 20 --seed 3 --max-minutes 3

Exits 1 when a target is missed: an unloadable checkpoint, a failed resume, a replayed step
with another loss, a torn metrics line, a temporary file left at the end, or no kill landing
inside a checkpoint write (with 10 or more kills).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.checkpoint import load_checkpoint
from models.errors import CheckpointError
from models.metrics_log import read_metrics

# A small, fast model that checkpoints every 3 steps, for far more epochs than the chain needs
# (patience 0: it never stops early), on one thread as a user's CPU run would be.
TRAIN_ARGS = [
    "--arch", "gru", "--hidden", "32", "--layers", "1", "--embedding", "16",
    "--batch-size", "4", "--seq-len", "32", "--eval-every", "3", "--epochs", "200",
    "--patience", "0", "--val-fraction", "0.05", "--seed", "1", "--device", "cpu",
    "--threads", "1",
]  # fmt: skip
MODES = {"startup": 0.15, "write": 0.45, "random": 0.4}
START_TIMEOUT_S = 120.0  # launch to start event, on a loaded two-core machine
WRITE_WAIT_S = 20.0  # at most this long watching for a checkpoint write before killing anyway
TEMP_SUFFIX = ".tmp"


@dataclass
class Report:
    kills: int = 0
    by_mode: dict[str, int] = field(default_factory=dict)
    in_write: int = 0  # a checkpoint's temp file was still there after the kill
    before_first_checkpoint: int = 0  # nothing to resume: started over
    resume_launches: int = 0  # launches with --resume (some killed again before starting)
    resumes_verified: int = 0  # their start event said resumed, at last.pt's step
    failed_resumes: int = 0
    checkpoints_checked: int = 0
    unloadable: int = 0
    metrics_reads: int = 0
    metrics_unreadable: int = 0
    torn_lines: int = 0
    replayed_steps: int = 0
    replay_mismatches: int = 0
    max_temp_files: int = 0  # most temp files seen in the run directory after a kill
    temp_files_left: int = 0  # after the final clean stop
    last_step: int = 0
    problems: list[str] = field(default_factory=list)

    def missed(self) -> list[str]:
        misses = []
        names = ("unloadable", "failed_resumes", "replay_mismatches", "torn_lines")
        for name in (*names, "metrics_unreadable"):
            if getattr(self, name):
                misses.append(f"{name} = {getattr(self, name)} (must be 0)")
        if self.temp_files_left:
            misses.append(f"temp_files_left = {self.temp_files_left} (must be 0)")
        if self.kills >= 10 and self.in_write == 0:
            misses.append("no kill landed inside a checkpoint write")
        return misses


class Trainer:
    """One `workbench train --json` child; its stdout events arrive on a queue."""

    def __init__(self, data: Path, run_dir: Path, extra: list[str], log_dir: Path) -> None:
        cmd = [sys.executable, "-m", "workbench", "train", str(data), "--out", str(run_dir)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
        self.stderr_path = log_dir / "trainer.err"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [*cmd, *extra, "--json"], stdout=subprocess.PIPE, stderr=err, env=env
            )
        self.launched = time.monotonic()
        self.events: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                try:
                    self.events.put(json.loads(line))
                except ValueError:
                    continue
        self.events.put(None)

    def wait_start(self, timeout: float) -> dict | None:
        """The start event, or None if the process ended (or timed out) without one."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event is None:
                return None
            if event.get("event") == "start":
                return event
        return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def error_text(self) -> str:
        text = self.stderr_path.read_text(errors="replace").strip().splitlines()
        return text[-1] if text else f"exit status {self.proc.returncode}"


def temp_files(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if p.name.endswith(TEMP_SUFFIX))


def checkpoint_temps(run_dir: Path) -> list[Path]:
    """Temp files of save_checkpoint (`.last.pt.XXXX.tmp`)."""
    return [p for p in temp_files(run_dir) if ".pt." in p.name]


def wait_for_checkpoint_write(run_dir: Path, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll until a checkpoint temp file exists (the trainer is inside save_checkpoint)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with os.scandir(run_dir) as entries:
                if any(e.name.endswith(".tmp") and ".pt." in e.name for e in entries):
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.0002)
    return False


def check_run_dir(run_dir: Path, report: Report) -> int | None:
    """Load every checkpoint and read the metrics; returns last.pt's step (None: no last.pt)."""
    last_step = None
    for path in sorted(run_dir.glob("*.pt")):
        report.checkpoints_checked += 1
        try:
            ckpt = load_checkpoint(path)
            ckpt.build_model()
            if path.name == "last.pt":
                if ckpt.trainer is None:
                    raise CheckpointError(f"{path}: no trainer state")
                last_step = ckpt.step
        except CheckpointError as exc:
            report.unloadable += 1
            report.problems.append(f"kill {report.kills}: unloadable: {exc}")
    metrics = run_dir / "metrics.jsonl"
    if metrics.exists():
        try:
            read_metrics(metrics)  # skips a torn line; raises only on a file it cannot read
        except Exception as exc:  # any failure to read the log is the finding
            report.metrics_unreadable += 1
            report.problems.append(f"kill {report.kills}: metrics.jsonl: {exc!r}")
            return last_step
        report.metrics_reads += 1
        torn = 0
        for line in metrics.read_bytes().splitlines():
            try:
                json.loads(line)
            except ValueError:
                torn += 1
        if torn:
            report.torn_lines += torn
            report.problems.append(f"kill {report.kills}: {torn} torn line(s) in metrics.jsonl")
    return last_step


def compare_replays(run_dir: Path, report: Report) -> None:
    """Every step logged more than once (trained, killed before the next checkpoint, trained
    again after the resume) must carry the same loss and learning rate each time."""
    first: dict[int, dict] = {}
    for event in read_metrics(run_dir / "metrics.jsonl"):
        if event.get("event") != "step":
            continue
        seen = first.setdefault(event["step"], event)
        if seen is event:
            continue
        report.replayed_steps += 1
        if (seen["loss"], seen["lr"]) != (event["loss"], event["lr"]):
            report.replay_mismatches += 1
            report.problems.append(
                f"step {event['step']}: loss {seen['loss']!r} then {event['loss']!r} after a resume"
            )


def kill_resume_loop(
    data: Path,
    work: Path,
    kills: int,
    seed: int,
    train_args: list[str] = TRAIN_ARGS,
    modes: dict[str, float] = MODES,
    max_seconds: float = float("inf"),
    log=print,
) -> Report:
    """Kill the trainer `kills` times (fewer if `max_seconds` runs out) and resume it after
    each; then resume once more, stop it cleanly and compare the replayed steps."""
    rng = random.Random(seed)
    run_dir = work / "run"
    work.mkdir(parents=True, exist_ok=True)
    report = Report()
    began = time.monotonic()
    startup_s = 3.0  # refined from the launches seen
    extra = [*train_args, "--force"]
    resume_step: int | None = None
    while report.kills < kills and time.monotonic() - began < max_seconds:
        # Names, not a count: a temp file an earlier kill left must not count for this one.
        temps_before = set(checkpoint_temps(run_dir)) if run_dir.is_dir() else set()
        trainer = Trainer(data, run_dir, extra, work)
        mode = rng.choices(list(modes), weights=list(modes.values()))[0]
        expected = None if "--force" in extra else resume_step
        if mode == "startup":
            # Part of the launch only: a kill later than the start event is the other modes'.
            time.sleep(rng.uniform(0, startup_s))
            start = None
        else:
            start = trainer.wait_start(START_TIMEOUT_S)
            if start is not None:
                startup_s = 0.8 * startup_s + 0.2 * (time.monotonic() - trainer.launched)
        if start is None and trainer.proc.poll() is not None:
            report.failed_resumes += 1
            report.problems.append(f"launch {report.kills + 1}: {trainer.error_text()}")
            trainer.kill()
            break
        resumed_where = start is not None and start.get("resumed") and start["step"] == expected
        if resumed_where:
            report.resumes_verified += 1
        elif start is not None and expected is not None:
            report.failed_resumes += 1
            report.problems.append(
                f"kill {report.kills + 1}: resumed at step {start.get('step')}, "
                f"last.pt held step {expected}"
            )
        if mode == "write":
            # Let a few saves go by so the kills spread over the run's checkpoints.
            for _ in range(rng.randint(0, 3)):
                wait_for_checkpoint_write(run_dir, trainer.proc, WRITE_WAIT_S)
                time.sleep(0.01)
            wait_for_checkpoint_write(run_dir, trainer.proc, WRITE_WAIT_S)
        elif mode == "random":
            time.sleep(rng.uniform(0, 2.0))
        trainer.kill()
        report.kills += 1
        report.by_mode[mode] = report.by_mode.get(mode, 0) + 1
        if trainer.proc.returncode != -signal.SIGKILL:
            report.problems.append(
                f"kill {report.kills}: trainer had exited ({trainer.error_text()})"
            )
        temps = temp_files(run_dir) if run_dir.is_dir() else []
        report.max_temp_files = max(report.max_temp_files, len(temps))
        if run_dir.is_dir() and set(checkpoint_temps(run_dir)) - temps_before:
            report.in_write += 1
        resume_step = check_run_dir(run_dir, report) if run_dir.is_dir() else None
        if resume_step is None:
            report.before_first_checkpoint += 1
            extra = [*train_args, "--force"]
        else:
            report.resume_launches += 1
            report.last_step = max(report.last_step, resume_step)
            extra = [*train_args, "--resume"]
        if report.kills % 10 == 0 or report.kills == kills:
            log(
                f"  {report.kills} kills ({report.in_write} in a checkpoint write), "
                f"last.pt at step {report.last_step}, "
                f"{time.monotonic() - began:.0f} s",
                flush=True,
            )
    # A last resume that stops cleanly: SIGTERM stops after the step with a resumable
    # checkpoint, and nothing the kills left behind may remain.
    final = Trainer(data, run_dir, extra, work)
    start = final.wait_start(START_TIMEOUT_S)
    if start is None or (extra[-1] == "--resume" and start.get("step") != resume_step):
        report.failed_resumes += 1
        report.problems.append(f"final resume: {final.error_text() if start is None else start}")
        final.kill()
    else:
        if extra[-1] == "--resume":
            report.resumes_verified += 1
        final.proc.send_signal(signal.SIGTERM)
        if final.proc.wait(timeout=START_TIMEOUT_S) != 0:
            report.problems.append(f"clean stop: {final.error_text()}")
        check_run_dir(run_dir, report)
    report.temp_files_left = len(temp_files(run_dir))
    compare_replays(run_dir, report)
    return report


def write_corpus(path: Path) -> Path:
    """music21's 185 miscFolk tunes as one ABC file (read once: launches stay quick)."""
    from workbench.corpus import load

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tunes = [t.text for t in load(["corpus:miscFolk"]).tunes]
        path.write_text("\n\n".join(tunes) + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    parser.add_argument(
        "--max-minutes", type=float, default=10.0, help="stop killing after this long"
    )
    parser.add_argument("--work", type=Path, default=Path("runs/bench-kill-resume"))
    args = parser.parse_args()
    work = args.work / f"seed{args.seed}"
    if (work / "run").exists():
        import shutil

        shutil.rmtree(work / "run")
    data = write_corpus(args.work / "miscFolk.abc")
    print(f"data: {data} (music21 miscFolk, 185 tunes); run directory {work / 'run'}")
    print(f"trainer: workbench train DATA {' '.join(TRAIN_ARGS)} --json")
    began = time.monotonic()
    r = kill_resume_loop(data, work, args.kills, args.seed, max_seconds=60 * args.max_minutes)
    elapsed = time.monotonic() - began
    modes = ", ".join(f"{k} {v}" for k, v in sorted(r.by_mode.items()))
    print(f"kills: {r.kills} of {args.kills} asked ({modes}) in {elapsed:.0f} s, seed {args.seed}")
    print(f"kills during a checkpoint write (temp file left by the kill): {r.in_write}")
    print(f"kills before the first checkpoint (run started over): {r.before_first_checkpoint}")
    print(f"checkpoint loads checked: {r.checkpoints_checked}; unloadable: {r.unloadable}")
    print(
        f"resume launches: {r.resume_launches} (the final one included); "
        f"start event at last.pt's step: {r.resumes_verified} "
        "(the rest were killed again before starting); "
        f"failed resumes: {r.failed_resumes}"
    )
    print(
        f"metrics.jsonl reads: {r.metrics_reads}; unreadable: {r.metrics_unreadable}; "
        f"torn lines: {r.torn_lines}"
    )
    print(
        f"steps trained twice across a kill: {r.replayed_steps}; "
        f"with another loss or lr: {r.replay_mismatches}"
    )
    print(
        f"temp files: at most {r.max_temp_files} after a kill; "
        f"left after the final resume and clean stop: {r.temp_files_left}"
    )
    print(f"run reached step {r.last_step}")
    for problem in r.problems[:20]:
        print(f"  problem: {problem}")
    misses = r.missed()
    for miss in misses:
        print(f"TARGET MISSED: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
