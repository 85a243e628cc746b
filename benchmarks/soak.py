"""Soak: the real main window, offscreen, training, generating, playing and capturing for N minutes.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/soak.py [--minutes 30]
        [--corpus corpus:miscFolk] [--hidden 64] [--gen-every 60] [--model PATH]

This process is the application: it builds the :class:`~workbench.ui.main_window.MainWindow`
with its real panes (settings and runs in a temporary folder) and drives it through the panes'
public methods and buttons, as the UI tests do:

* the dataset pane loads ``--corpus``; the training pane's Start trains a small LSTM
  (``--hidden``) in the trainer child process for the whole run, its plots updating live (a run
  that ends early is started again);
* every ``--gen-every`` seconds the generation pane's Generate samples 3 tunes from the model it
  has loaded (the shipped one unless ``--model``); the first tune is opened in the editor
  (validation and verovio engraving in its worker process), played by the playback pane to the
  built-in synth (there is no sound device here: the pane's silent fallback, the piano roll and
  player run as usual) and captured in the neuron viewer.

Measured: the resident memory (VmRSS) of this process after warm-up (10 % of the run, at least one
full cycle of activities) and at the end, target growth <= 10 %. The target applies to the memory
the app holds: RSS read right after ``malloc_trim(0)``, which hands back to the system the free
memory glibc's allocator keeps at the peak of transient work (a 4-minute ``--trace`` run: +74 MiB of
RSS, 57 MiB of it returned by ``malloc_trim``). What stays is not live objects (that run: Python's
and numpy's live allocations +4 MiB, 1.5 MiB of it the plots' columns; the window's QObjects and
scene items flat) but grows with the training steps received, about 1.1 KiB a step, and falls to
about 0.4 KiB a step under ``PYTHONMALLOC=malloc`` (+2.4 % instead of +12 %): most likely pymalloc
arenas kept resident by a few survivors among the per-step short-lived objects (fragmentation, not a
leak; not proven). The raw RSS growth is printed beside it. Also measured: the lateness of a 10 ms
precise QTimer on the GUI thread, target p99 <= 30 ms; the threads of this process and its child
processes (recursively) when idle before training starts and again after every task has ended,
target equal (the long-lived workers the app keeps, such as the engraver and its standby, exist at
both points because the warm-up cycle starts them). The load average is printed at the start and the
end: on a loaded machine the timer's lateness reflects the scheduler as much as the app. Exits 1
when a target is missed or an activity never ran.

``--trace`` looks for where memory goes (it slows the GUI thread, so its timer figures are not
comparable): from the warm-up snapshot on, ``tracemalloc`` records Python's allocations; every
minute a line gives RSS, the bytes tracemalloc holds, Python's live objects, the window's
QObjects and the graphics items of its scenes; at the end the 20 call sites whose live
allocations grew most and the Python types whose counts grew most.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

RSS_GROWTH_LIMIT = 0.10
LATENESS_P99_LIMIT_MS = 30.0
TIMER_MS = 10


def rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def trimmed_rss_mib() -> float:
    """RSS after glibc's ``malloc_trim(0)`` has returned its free memory: what the app holds.
    Plain RSS where there is no glibc."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def thread_names() -> list[str]:
    """Python's names for its threads, plus a count of the threads Python does not know."""
    import threading

    named = sorted(t.name for t in threading.enumerate())
    return [*named, f"+{thread_count() - len(named)} native"]


def _process_names() -> dict[int, str]:
    """multiprocessing's names of the child processes it started (diagnostics only: a private
    registry, read without the reaping that ``active_children()`` would do)."""
    import multiprocessing.process

    children = getattr(multiprocessing.process, "_children", set())
    return {p.pid: p.name for p in list(children) if p.pid is not None}


def child_processes() -> list[tuple[int, str]]:
    """(pid, label) of every descendant of this process, from /proc; an exited child not yet
    reaped (a zombie: it holds no memory, only its exit status) is labelled so."""
    parents: dict[int, list[int]] = {}
    labels: dict[int, str] = {}
    known = _process_names()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        pid = int(entry)
        parents.setdefault(int(ppid), []).append(pid)
        labels[pid] = known.get(pid, name) + (" (exited, not reaped)" if state == "Z" else "")
    found, todo = [], [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append((child, labels[child]))
            todo.append(child)
    return sorted(found)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Counts:
    generations: int = 0
    plays: int = 0
    captures: int = 0
    renders: int = 0
    renders_skipped: int = 0  # the editor's tune under the cursor was empty or unchanged
    training_runs: int = 0
    training_steps: int = 0
    plot_points: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    rss_mib: float
    threads: int
    children: list[tuple[int, str]]
    names: list[str]

    def line(self) -> str:
        kids = ", ".join(name for _, name in self.children) or "none"
        return (
            f"RSS {self.rss_mib:.1f} MiB, {self.threads} threads, "
            f"{len(self.children)} child processes ({kids}); threads: {', '.join(self.names)}"
        )


def snapshot() -> Snapshot:
    return Snapshot(rss_mib(), thread_count(), child_processes(), thread_names())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--corpus", default="corpus:miscFolk")
    ap.add_argument("--hidden", type=int, default=64, help="the trained LSTM's size")
    ap.add_argument("--gen-every", type=float, default=60.0, help="seconds between generations")
    ap.add_argument("--gen-chars", type=int, default=300, help="characters per generated tune")
    ap.add_argument("--model", type=Path, default=None, help="the model to generate with")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="no warm-up training run (the smoke test): the idle baseline then lacks what an "
        "ended run leaves behind, so the thread count may read one more at the end",
    )
    ap.add_argument(
        "--baseline-s", type=float, default=10.0, help="seconds of the bare timer, first"
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="trace Python allocations and object counts after warm-up (see above; slower)",
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        return Soak(args, Path(tmp)).run()


class Soak:
    """One soak run: builds the window, warms up, loops, ends the tasks, reports."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        self.args = args
        self.app = QApplication.instance() or QApplication(["soak"])
        from workbench.ui.lifetimes import collect_on_gui_thread

        collect_on_gui_thread()  # as workbench.app.main does
        self.settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        self.runs_root = tmp / "runs"
        self.counts = Counts()
        # Samples in C arrays, not lists of Python floats, so that the measurement adds no
        # Python objects (100 a second) to the heap it measures.
        self.lateness_ms = array("d")
        # Lateness while a cycle runs (generate, engrave, play, capture) and between cycles
        # (training and its plots only), to tell which work delays the GUI thread.
        self.phase = "between cycles"
        self.by_phase: dict[str, array] = {}

    # -- driving the event loop ----------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Run the GUI's event loop for ``seconds`` (the timer and the panes keep working)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def wait_until(self, condition, timeout: float, what: str | None) -> bool:
        """Pump events until ``condition()``; False after ``timeout`` (a problem unless
        ``what`` is None)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                if what is not None:
                    self.counts.problems.append(f"timed out after {timeout:g} s waiting for {what}")
                return False
            self.pump(0.05)
        return True

    # -- the 10 ms timer -----------------------------------------------------------------------

    def start_timer(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._last_tick = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TIMER_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last_tick is not None and self._measuring:
            late = max(0.0, (now - self._last_tick) * 1000 - TIMER_MS)
            self.lateness_ms.append(late)
            self.by_phase.setdefault(self.phase, array("d")).append(late)
        self._last_tick = now

    # -- the activities ------------------------------------------------------------------------

    def build_window(self) -> None:
        from workbench.session import Session
        from workbench.ui.main_window import MainWindow

        self.window = MainWindow(Session(), settings=self.settings, runs_root=self.runs_root)
        self.window.show()
        w = self.window
        w.dataset_pane.add_sources([self.args.corpus])
        w.dataset_pane.load()
        self.wait_until(lambda: w.session.dataset is not None, 120, "the dataset to load")
        if self.args.model is not None:
            w.session.checkpoint = self.args.model
        gen = w.generation_pane
        gen.num_spin.setValue(3)
        gen.length_spin.setValue(self.args.gen_chars)
        gen.random_seed_check.setChecked(True)
        self.window.neurons_pane.captured.connect(self._on_captured)
        w.playback_pane.tune_loaded.connect(self._on_tune_loaded)
        w.training_pane.driver.events_received.connect(self._on_training_events)

    def _on_captured(self) -> None:
        self.counts.captures += 1

    def _on_training_events(self, events) -> None:
        self.counts.training_steps += sum(e.get("event") == "step" for e in events)

    def _on_tune_loaded(self, _tune) -> None:
        self.counts.plays += 1

    def generation_ready(self) -> bool:
        gen = self.window.generation_pane
        return gen.generate_button.isEnabled() and not gen.is_running()

    def cycle(self) -> None:
        """Generate; open the first tune in the editor, play it, capture its neurons."""
        self.phase = "during a cycle"
        try:
            self._cycle()
        finally:
            self.phase = "between cycles"

    def _cycle(self) -> None:
        from workbench.session import PlayRequest

        w = self.window
        gen = w.generation_pane
        if not self.wait_until(self.generation_ready, 120, "the generation pane to be ready"):
            return
        outcomes = []
        gen.generation_finished.connect(outcomes.append)
        gen.generate_button.click()
        ok = self.wait_until(lambda: outcomes and not gen.is_running(), 300, "a generation")
        gen.generation_finished.disconnect(outcomes.append)
        if not ok:
            return
        self.counts.generations += 1
        tune = outcomes[0].texts[0]
        # The editor validates and engraves it (the engraver is a child process).
        score = w.editor_pane.score_view
        score.rendered.connect(self._on_render_answer)
        score.render_failed.connect(self._on_render_answer)
        renders, shown = self.counts.renders, score.abc()
        w.session.prompt = tune
        # The editor hands the score the tune under the cursor after a pause; one that is
        # empty or the same as before needs no engraving (and gets no answer).
        if self.wait_until(lambda: score.abc() != shown, 10, None) and score.abc().strip():
            self.wait_until(lambda: self.counts.renders > renders, 60, "a score render")
        else:
            self.counts.renders_skipped += 1
        score.rendered.disconnect(self._on_render_answer)
        score.render_failed.disconnect(self._on_render_answer)
        plays = self.counts.plays
        w.session.request_play(PlayRequest("soak", abc=tune))
        # A tune music21 cannot convert is reported in the pane; that is still one play request.
        self.wait_until(
            lambda: self.counts.plays > plays or not w.playback_pane.is_converting(),
            120,
            "the tune to convert",
        )
        captures = self.counts.captures
        w.session.request_inspect(tune)
        self.wait_until(lambda: self.counts.captures > captures, 120, "a neuron capture")
        self.pump(2.0)  # let it play a little before the next activity
        w.playback_pane.stop()

    def _on_render_answer(self, *_args) -> None:
        self.counts.renders += 1  # pages or a message: either way the engraver answered

    def start_training(self) -> None:
        from models.config import ModelConfig, RunConfig, TrainConfig

        pane = self.window.training_pane
        config = RunConfig(
            model=ModelConfig(arch="lstm", hidden=self.args.hidden, embedding=16, dropout=0.0),
            train=TrainConfig(
                batch_size=8,
                seq_len=64,
                epochs=100_000,
                patience=0,  # no early stop: the run lasts the whole soak
                eval_every=50,
                sample_chars=100,
                device="cpu",
                threads=1,
            ),
            recipe="soak",
        )
        pane.form.set_config(config)
        click(pane.start_button)
        if pane.is_training():
            self.counts.training_runs += 1
        else:
            self.counts.problems.append(f"training did not start: {pane.error_label.text()}")

    def plot_points(self) -> int:
        curve = self.window.training_pane.plots.loss_curve
        x = curve.getData()[0]
        return 0 if x is None else len(x)

    # -- --trace -------------------------------------------------------------------------------

    def trace_counts(self) -> str:
        """One line of counts: RSS, tracemalloc's bytes, Python objects, QObjects, scene items."""
        import gc
        import tracemalloc

        from PySide6.QtCore import QObject
        from PySide6.QtWidgets import QApplication, QGraphicsView

        views = self.window.findChildren(QGraphicsView)
        items = sum(len(v.scene().items()) for v in views if v.scene() is not None)
        traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else 0
        return (
            f"RSS {rss_mib():.1f} MiB, traced {traced:.1f} MiB, {len(gc.get_objects())} Python "
            f"objects, {len(self.window.findChildren(QObject))} QObjects in the window, "
            f"{len(QApplication.allWidgets())} widgets, {items} items in {len(views)} scenes"
        )

    def trace_start(self) -> None:
        import gc
        import tracemalloc
        from collections import Counter

        gc.collect()
        self._types_at_warm = Counter(type(o).__qualname__ for o in gc.get_objects())
        tracemalloc.start(12)
        self._trace_at_warm = tracemalloc.take_snapshot()
        print(f"  trace at warm-up: {self.trace_counts()}", flush=True)

    def trace_report(self) -> None:
        import gc
        import tracemalloc
        from collections import Counter

        gc.collect()
        print(f"  trace at the end: {self.trace_counts()}", flush=True)
        end = tracemalloc.take_snapshot()
        ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
        stats = end.filter_traces(ignore).compare_to(
            self._trace_at_warm.filter_traces(ignore), "traceback"
        )
        stats.sort(key=lambda st: st.size_diff, reverse=True)
        total = sum(st.size_diff for st in stats)
        print(f"Python allocations since warm-up, net {total / 2**20:+.2f} MiB; top 20:")
        for st in stats[:20]:
            print(f"  {st.size_diff / 1024:+9.1f} KiB in {st.count_diff:+d} blocks, allocated at")
            for frame in list(st.traceback)[-4:]:
                print(f"      {frame.filename}:{frame.lineno}")
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        types.subtract(self._types_at_warm)
        grown = [(n, d) for n, d in types.most_common(20) if d > 0]
        print(
            "Python objects by type, growth since warm-up: "
            + ", ".join(f"{n} {d:+d}" for n, d in grown)
        )
        tracemalloc.stop()

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> int:
        total_s = self.args.minutes * 60
        print(f"load average at the start: {load_average()} ({os.cpu_count()} CPUs)", flush=True)
        self._measuring = True
        self.start_timer()
        # The same timer before the window exists: what the machine's load alone costs it.
        self.pump(self.args.baseline_s)
        base = self.lateness_ms or [0.0]
        self.baseline = base
        self.by_phase = {}
        print(
            f"10 ms timer, bare process ({self.args.baseline_s:g} s, before the window): median "
            f"{statistics.median(base):.1f} ms, p99 {percentile(base, 0.99):.1f} ms late",
            flush=True,
        )
        self.lateness_ms = array("d")
        self._measuring = False
        t_start = time.monotonic()
        self.build_window()
        # Warm-up cycle: every activity once, so the long-lived workers (engraver and standby,
        # model loader, validation thread...) exist before the idle baseline is taken.
        self.cycle()
        # ...and one short training run, started and stopped, so that whatever an ended run
        # leaves behind (its command queue's feeder thread) is in the baseline too: a leak per
        # run then shows as one more at the end.
        if not self.args.quick:
            self.start_training()
            self.wait_until(lambda: self.counts.training_steps > 0, 300, "the first step")
            self.stop_training()
        self.counts.training_runs = 0
        self.counts.training_steps = 0
        self.pump(1.0)
        idle_start = snapshot()
        self.baseline_children = len(idle_start.children)
        print(f"idle, before training:   {idle_start.line()}", flush=True)
        print(f"set-up and warm-up cycle took {time.monotonic() - t_start:.0f} s", flush=True)

        self.start_training()
        self._measuring = True
        t0 = time.monotonic()
        warm_at = t0 + max(0.1 * total_s, 1.0)
        warm: Snapshot | None = None
        next_gen = t0 + min(self.args.gen_every, total_s / 2)
        rss_samples: list[tuple[float, float]] = []
        while time.monotonic() - t0 < total_s:
            now = time.monotonic()
            if now >= next_gen:
                self.cycle()
                next_gen = max(next_gen + self.args.gen_every, time.monotonic() + 1)
            if warm is None and time.monotonic() >= warm_at and self.counts.generations:
                warm = snapshot()
                print(f"after warm-up ({time.monotonic() - t0:.0f} s): {warm.line()}", flush=True)
                self.warm_held = trimmed_rss_mib()
                print(f"  held after malloc_trim: {self.warm_held:.1f} MiB", flush=True)
                if self.args.trace:
                    self.trace_start()
                    next_trace = time.monotonic() + 60
            if warm is not None and self.args.trace and time.monotonic() >= next_trace:
                print(
                    f"  trace at {time.monotonic() - t0:.0f} s: {self.trace_counts()}", flush=True
                )
                next_trace += 60
            if not self.window.training_pane.is_training():
                # The run ended (a failure or its limits): the soak keeps a run going.
                self.start_training()
            rss_samples.append((time.monotonic() - t0, rss_mib()))
            self.pump(1.0)
        self.counts.plot_points = self.plot_points()
        self._measuring = False
        busy_end = snapshot()
        print(f"end of the run, busy:    {busy_end.line()}", flush=True)
        self.end_held = trimmed_rss_mib()
        print(f"  held after malloc_trim: {self.end_held:.1f} MiB", flush=True)
        if self.args.trace and warm is not None:
            self.trace_report()
        self.end_tasks()
        idle_end = snapshot()
        print(f"idle, tasks ended:       {idle_end.line()}", flush=True)
        if warm is None:
            warm = busy_end
            self.warm_held = self.end_held
            self.counts.problems.append("no warm-up snapshot: the run was shorter than a cycle")
        return self.report(idle_start, warm, busy_end, idle_end, rss_samples)

    def stop_training(self) -> None:
        """Stop as the Stop button does; wait for the end event and the trainer's exit."""
        pane = self.window.training_pane
        if pane.is_training():
            click(pane.stop_button)
            self.wait_until(lambda: not pane.is_training(), 180, "training to stop")
        job = pane.driver.job
        process = getattr(job, "_process", None)  # the trainer exits after its end event
        t0 = time.monotonic()
        self.wait_until(
            lambda: process is None or process.exitcode is not None, 60, "the trainer to exit"
        )
        print(f"  training stopped; trainer exited {time.monotonic() - t0:.1f} s after", flush=True)

    def end_tasks(self) -> None:
        """Stop training, let every worker finish, and wait for the trainer process to exit."""
        w = self.window
        self.stop_training()
        w.playback_pane.stop()
        self.wait_until(self.generation_ready, 60, "generation to end")
        self.wait_until(lambda: not w.neurons_pane.worker.is_running(), 60, "a capture to end")
        # Processes and threads end asynchronously after their work: give them a moment.
        names = {name for _, name in snapshot().children}
        self.pump(3.0 if names else 1.0)

    def report(self, idle_start, warm, busy_end, idle_end, rss_samples) -> int:
        c = self.counts
        late = self.lateness_ms or [0.0]
        raw_growth = busy_end.rss_mib / warm.rss_mib - 1 if warm.rss_mib else 0.0
        growth = self.end_held / self.warm_held - 1 if self.warm_held else 0.0
        p99 = percentile(late, 0.99)
        print(f"\nload average at the end: {load_average()}")
        print(
            f"activities: {c.training_runs} training run(s), {c.training_steps} steps, "
            f"{c.plot_points} loss points plotted, "
            f"{c.generations} generations, {c.renders} score renders "
            f"({c.renders_skipped} not needed), {c.plays} tunes played, "
            f"{c.captures} neuron captures"
        )
        print(
            f"10 ms timer lateness: median {statistics.median(late):.1f} ms, "
            f"p90 {percentile(late, 0.9):.1f} ms, p99 {p99:.1f} ms, max {max(late):.1f} ms "
            f"(n={len(self.lateness_ms)}); target p99 <= {LATENESS_P99_LIMIT_MS:g} ms"
        )
        for phase, values in sorted(self.by_phase.items()):
            print(
                f"  {phase}: median {statistics.median(values):.1f} ms, "
                f"p99 {percentile(values, 0.99):.1f} ms (n={len(values)})"
            )
        base = self.baseline
        print(
            f"  the bare timer before the window: median {statistics.median(base):.1f} ms, "
            f"p99 {percentile(base, 0.99):.1f} ms (n={len(base)})"
        )
        print(
            f"memory held (RSS after malloc_trim) after warm-up {self.warm_held:.1f} MiB -> end "
            f"{self.end_held:.1f} MiB: {100 * growth:+.1f} % "
            f"(target <= +{100 * RSS_GROWTH_LIMIT:.0f} %)"
        )
        print(
            f"raw RSS after warm-up {warm.rss_mib:.1f} MiB -> end {busy_end.rss_mib:.1f} MiB: "
            f"{100 * raw_growth:+.1f} % (allocator's free memory included); "
            f"peak {max(r for _, r in rss_samples):.1f} MiB; after the tasks ended "
            f"{idle_end.rss_mib:.1f} MiB"
        )
        if len(rss_samples) >= 4:
            half = len(rss_samples) // 2
            print(
                f"RSS median, first half {statistics.median(r for _, r in rss_samples[:half]):.1f}"
                f" MiB, second half {statistics.median(r for _, r in rss_samples[half:]):.1f} MiB"
            )
        print(
            f"threads: idle before training {idle_start.threads}, during {busy_end.threads}, "
            f"idle after {idle_end.threads}"
        )
        print(
            f"child processes: idle before training {len(idle_start.children)}, during "
            f"{len(busy_end.children)}, idle after {len(idle_end.children)}"
        )
        missed = list(c.problems)
        if growth > RSS_GROWTH_LIMIT:
            missed.append(f"memory held grew {100 * growth:.1f} %")
        if p99 > LATENESS_P99_LIMIT_MS:
            missed.append(f"timer lateness p99 {p99:.1f} ms")
        if idle_end.threads > idle_start.threads:
            missed.append(f"threads {idle_start.threads} -> {idle_end.threads}")
        if len(idle_end.children) > len(idle_start.children):
            missed.append(f"child processes {idle_start.children} -> {idle_end.children}")
        for name, n in (
            ("training run", c.training_runs),
            ("plotted loss point", c.plot_points),
            ("generation", c.generations),
            ("score render", c.renders),
            ("play", c.plays),
            ("neuron capture", c.captures),
        ):
            if n < 1:
                missed.append(f"no {name}")
        print("RESULT:", "targets met" if not missed else "MISSED: " + "; ".join(missed))
        # Nothing here is worth keeping: close without the "unsaved tunes" questions.
        self.window.editor_pane.confirm_close = lambda: True
        self.window.generation_pane.confirm_close = lambda: True
        self.window.close()
        self.timer.stop()
        self.pump(0.5)
        return 1 if missed else 0


def click(button) -> None:
    """A left click on ``button``, as the user (and the UI tests) give it."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


if __name__ == "__main__":
    sys.exit(main())
