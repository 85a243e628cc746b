"""The trainer: a plain generator that trains a recurrent network and yields metric events.

`train(...)` knows nothing of Qt or of where its events go: the CLI prints them, the GUI's
trainer process forwards them through a queue. It writes a run directory as it goes:

    RUN_DIR/config.json      the run configuration, data sizes, vocabulary
    RUN_DIR/metrics.jsonl    one JSON object per step, evaluation and start/end (append-only)
    RUN_DIR/best.pt          the weights with the best validation loss so far
    RUN_DIR/last.pt          everything needed to resume exactly (written at each evaluation)
    RUN_DIR/samples/         a short sample at each evaluation (.abc, or .events.txt for MIDI)
    RUN_DIR/running.json     who writes the run, while it trains (models/run_marker.py)

It trains on texts: ABC tunes for a char model, or MIDI pieces as event texts (see
models/tokenizer.py) for an event model, whose tokenizer the caller passes in. The metric names
say "chars" for historical reasons (`val_chars`, `chars_per_sec`): they count tokens, and the
start event's `unit` says which ("char" or "event").

A run is deterministic for its seed on a given device unless it stops on the clock. Resuming
from `last.pt` continues the data order, recurrent state, optimizer, learning-rate schedule and
RNG where they were, so the loss curve is the one an uninterrupted run draws.

Under torchrun the same loop runs in every process of a `World` (models/distributed.py): each
trains its lanes of the global batch through DistributedDataParallel, the ranks agree each step
on stopping and the clock and share validation, and rank 0 alone writes the run directory.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from models.checkpoint import Checkpoint, remove_stale_temps, save_checkpoint
from models.config import EVALS_PER_BUDGET, ModelConfig, RunConfig
from models.data import IGNORE, Batch, make_batches, split_tunes
from models.device import describe_device, resolve_device
from models.distributed import Agreement, World
from models.errors import CheckpointError, DataError
from models.evaluate import evaluate
from models.metrics_log import Event, MetricsLog, read_metrics
from models.networks import State, build_network, count_parameters
from models.sample import SamplingParams, sample
from models.tokenizer import CharTokenizer, Tokenizer

# Settings that decide which batch comes next: a resumed run must keep them.
_POSITION_KEYS = ("batch_size", "seq_len", "batching", "seed", "val_fraction")

# Steps per "step" event on a GPU: the event's numbers are read back from the device, which
# waits for the queued work to finish, so reading them every step would stall the pipeline.
# On the CPU, reading a number costs nothing and every step has its event.
ACCELERATOR_LOG_EVERY = 10


@dataclass
class Control:
    """Requests from outside the loop (the GUI, a signal handler), checked between steps."""

    stop: Callable[[], bool] = field(default=lambda: False)
    save_now: Callable[[], bool] = field(default=lambda: False)


def data_fingerprint(texts: Sequence[str]) -> str:
    """A short hash of the training tunes, to refuse resuming on different data."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def make_optimizer(model: torch.nn.Module, cfg: RunConfig) -> torch.optim.Optimizer:
    t = cfg.train
    params = list(model.parameters())
    # On CUDA, the fused kernels: one launch per step, and they take GradScaler's scale and
    # inf flag as device tensors, where an unfused optimizer makes the scaler read the flag
    # back to the host every step. The CPU keeps torch's default (and its numbers).
    fused = {"fused": True} if params and params[0].device.type == "cuda" else {}
    if t.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=t.lr,
            momentum=t.momentum,
            nesterov=t.nesterov and t.momentum > 0,
            weight_decay=t.weight_decay,
            **fused,
        )
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay, **fused)
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay or 0.01, **fused)
    if t.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=t.lr, momentum=0.0, weight_decay=t.weight_decay)
    return torch.optim.Adagrad(params, lr=t.lr, weight_decay=t.weight_decay)


class LearningRate:
    """The learning-rate schedule: warm-up, then constant, cosine, step or plateau decay.

    Cosine follows training progress, the larger of steps done / steps planned and time used /
    time budget, so a run limited by the clock still ends at its low learning rate.
    """

    def __init__(self, cfg: RunConfig, total_steps: int) -> None:
        self.t = cfg.train
        self.total_steps = total_steps
        self.scale = 1.0  # decays of the plateau schedule so far

    def at(self, step: int, elapsed: float) -> float:
        t = self.t
        warm = min(1.0, (step + 1) / t.warmup_steps) if t.warmup_steps else 1.0
        if t.schedule == "cosine":
            progress = self._progress(step, elapsed)
            floor = t.min_lr_ratio
            factor = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
        elif t.schedule == "step":
            # A tenth of the planned steps per decay.
            factor = t.lr_decay ** int(10 * self._progress(step, elapsed))
        else:
            factor = self.scale
        return t.lr * warm * factor

    def _progress(self, step: int, elapsed: float) -> float:
        """How far the run is, 0-1: the further of steps and time. With no epoch limit
        (total_steps 0) the time budget alone says."""
        progress = step / self.total_steps if self.total_steps else 0.0
        if self.t.time_budget > 0:
            progress = max(progress, elapsed / self.t.time_budget)
        return min(1.0, progress)

    def on_eval(self, improved: bool) -> None:
        if self.t.schedule == "plateau" and not improved:
            self.scale *= self.t.lr_decay


def _detach(state: State | None) -> State | None:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _reset_lanes(state: State | None, reset: torch.Tensor) -> State | None:
    """Zero the state of the lanes where `reset` (B,) is True; detach it from the last step.

    `reset` is the batch's CPU tensor: deciding on it reads nothing back from the device."""
    if state is None or bool(reset.all()):
        return None
    if not bool(reset.any()):
        return _detach(state)
    first = state[0] if isinstance(state, tuple) else state
    keep = (~reset).to(first.device, first.dtype, non_blocking=True)[None, :, None]
    if isinstance(state, tuple):
        return tuple(s.detach() * keep for s in state)
    return state.detach() * keep


def _state_to_list(state: State | None) -> list[torch.Tensor] | None:
    if state is None:
        return None
    return [s.detach().cpu() for s in (state if isinstance(state, tuple) else (state,))]


def _state_from_list(items: list[torch.Tensor] | None, device: torch.device) -> State | None:
    if not items:
        return None
    tensors = [t.to(device) for t in items]
    # (h, c) of an LSTM, (h, c, previous inputs) of report 002's Conv1D-LSTM, or h alone.
    return tuple(tensors) if len(tensors) > 1 else tensors[0]


class Trainer:
    """One training run. Build it, then iterate `run()` for events."""

    def __init__(
        self,
        cfg: RunConfig,
        train_texts: Sequence[str],
        val_texts: Sequence[str],
        run_dir: str | Path | None = None,
        init: Checkpoint | None = None,
        resume: Checkpoint | None = None,
        control: Control | None = None,
        tokenizer: Tokenizer | None = None,
        world: World | None = None,
        log_every: int = 0,
    ) -> None:
        """`tokenizer`: the vocabulary of a fresh run (an EventTokenizer fitted on the MIDI
        pieces); by default a CharTokenizer fitted on `train_texts`. A resumed run keeps its
        own and a fine-tune extends its initial model's; either must be of the same kind.
        `world`: this process's place under torchrun (default: a single process).
        `log_every`: steps per "step" event, whose loss, accuracy and chars/s are those of
        all its steps (0: every step on the CPU, ACCELERATOR_LOG_EVERY on a GPU)."""
        cfg.validate()
        if not train_texts:
            raise DataError("no training tunes")
        if not val_texts:
            raise DataError("no validation tunes")
        self.cfg = cfg
        self.control = control or Control()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.world = world or World()
        self.device = self.world.place(resolve_device(cfg.train.device))
        t = cfg.train
        if t.threads:
            torch.set_num_threads(t.threads)
        torch.manual_seed(t.seed)
        self.fingerprint = data_fingerprint(train_texts)

        # Vocabulary: a resumed run keeps its own; fine-tuning extends the initial model's with
        # the new data's characters; a fresh run learns it from the training tunes.
        for ckpt in (resume, init):
            if ckpt is not None:
                _check_same_kind(ckpt, tokenizer)
        if resume is not None:
            self._check_resumable(resume)
            self.tokenizer: Tokenizer = resume.tokenizer
        elif init is not None:
            self.tokenizer = init.tokenizer.extended(train_texts)
        else:
            self.tokenizer = tokenizer or CharTokenizer.fit(train_texts)

        self.model = build_network(cfg.model, len(self.tokenizer))
        if init is not None:
            self._load_init(init)
        self.model.to(self.device)
        if resume is not None:
            self.model.load_state_dict(resume.state_dict)
        # Several processes must train on the same data with the same vocabulary.
        self.world.check_same("data", f"{self.fingerprint}/{len(self.tokenizer)}")
        # What trains (DDP under torchrun); `self.model` is what evaluates, samples and saves.
        self.net = self.world.wrap(self.model, self.device)
        self.world.seed(t.seed)

        self.train_ids = [self.tokenizer.encode_tune(s) for s in train_texts]
        self.val_ids = [self.tokenizer.encode_tune(s) for s in val_texts]
        self.batches = make_batches(
            t.batching,
            self.train_ids,
            t.batch_size,
            t.seq_len,
            t.seed,
            self.world.rows(t.batch_size),
        )
        self.steps_per_epoch = self.batches.steps_per_epoch
        self.epoch_limit = t.epoch_limit()
        # 0: no epoch limit, the time budget ends the run.
        self.total_steps = self.steps_per_epoch * (self.epoch_limit or 0)
        self.optimizer = make_optimizer(self.model, cfg)
        self.schedule = LearningRate(cfg, self.total_steps)

        self.amp_dtype = _amp_dtype(self.device, t.amp)
        self.use_amp = self.amp_dtype is not None
        # float16 needs loss scaling (its gradients underflow); bfloat16 has float32's range.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.log_every = log_every or (1 if self.device.type == "cpu" else ACCELERATOR_LOG_EVERY)
        # The steps since the last "step" event: their summed loss and correct predictions
        # stay on the device (adding to them reads nothing back); the host counts the rest.
        wide = torch.float32 if self.device.type == "mps" else torch.float64
        self._loss_sum = torch.zeros((), dtype=wide, device=self.device)
        self._hits = torch.zeros((), dtype=torch.int64, device=self.device)
        self._pending = 0  # steps
        self._pending_chars = 0  # real targets of the global batch
        self._my_chars = 0  # real targets of this rank's lanes
        self._my_seconds = 0.0  # this rank's time in those steps
        self._pending_lr = 0.0
        self._pending_epoch = 0.0

        self.step = 0
        self.epoch = 0
        self.epoch_step = 0
        self.elapsed = 0.0
        self.best_val = math.inf
        # Early stopping judges the smoothed curve: the mean of the latest evaluations.
        self.recent_vals: list[float] = []
        self.best_smooth = math.inf
        self.evals_since_best = 0
        self.next_eval_time = 0.0
        # Real and padded target positions since the epoch began (the trainer's log shows the
        # padding share per epoch), and the smallest real share of one step.
        self.epoch_real = 0
        self.epoch_positions = 0
        self.epoch_min_real = 1.0
        self.state: State | None = None
        self.last_eval: Event | None = None
        # Why the run stopped on a loss that is no longer finite (None while it is).
        self.diverged: str | None = None
        self.resumed_from = 0
        # Under torchrun: the stop and save requests every rank agreed on (see _agree).
        self.agreed = Agreement()
        if resume is not None:
            self._restore(resume)

    # -- set-up helpers --------------------------------------------------------------------

    def _check_resumable(self, ckpt: Checkpoint) -> None:
        where = ckpt.path or "checkpoint"
        if ckpt.trainer is None:
            raise CheckpointError(f"{where}: has no trainer state to resume from (use last.pt)")
        if ckpt.config.model != self.cfg.model:
            raise CheckpointError(
                f"{where}: was trained as {_model_text(ckpt.config)}, this run asks for "
                f"{_model_text(self.cfg)}; drop the model options to resume, or use --init"
            )
        saved, now = ckpt.config.train, self.cfg.train
        changed = [k for k in _POSITION_KEYS if getattr(saved, k) != getattr(now, k)]
        if changed:
            raise CheckpointError(
                f"{where}: the run's position in its data depends on {', '.join(changed)}, "
                "which differ now; resume with the run's own values, or fine-tune with --init"
            )
        if ckpt.trainer.get("fingerprint") != self.fingerprint:
            raise CheckpointError(
                f"{where}: the training data differs from the run's; "
                "resume with the same data and split, or fine-tune with --init"
            )

    def _load_init(self, init: Checkpoint) -> None:
        if _shape(init.config.model) != _shape(self.cfg.model):
            raise CheckpointError(
                f"{init.path or 'checkpoint'}: is {_model_text(init.config)} but this run asks "
                f"for {_model_text(self.cfg)}; fine-tuning keeps the architecture (drop the "
                "model options)"
            )
        base = init.build_model()
        base.grow_vocab(len(self.tokenizer))
        self.model.load_state_dict(base.state_dict())

    def _restore(self, ckpt: Checkpoint) -> None:
        tr = ckpt.trainer or {}
        saved = tr["optimizer"]
        # The kernel (fused or not) is this device's choice, not the saving run's: the state
        # loads as this optimizer's (a fused one keeps its step counts on the GPU).
        groups = [
            {**g, "fused": mine.get("fused")}
            for g, mine in zip(saved["param_groups"], self.optimizer.param_groups, strict=False)
        ]
        self.optimizer.load_state_dict({**saved, "param_groups": groups})
        self.step = ckpt.step
        self.resumed_from = ckpt.step
        self.epoch = int(tr["epoch"])
        self.epoch_step = int(tr["epoch_step"])
        self.elapsed = float(tr["elapsed"])
        self.best_val = float(tr["best_val"])
        self.evals_since_best = int(tr["evals_since_best"])
        self.recent_vals = [float(v) for v in tr.get("recent_vals", [])]
        self.best_smooth = float(tr.get("best_smooth", self.best_val))
        self.next_eval_time = float(tr.get("next_eval_time", 0.0))
        self.schedule.scale = float(tr["lr_scale"])
        # The state of every lane of the global batch, whatever number of processes saved it.
        lanes = self.world.my_lanes(tr.get("state"), self.cfg.train.batch_size)
        self.state = _state_from_list(lanes, self.device)
        # Each rank's own random stream when the same number of processes saved it; else rank 0
        # continues the saved one and the others start streams of their own.
        ranks = tr.get("ranks") or []
        rng = ranks[self.world.rank] if len(ranks) == self.world.size else tr
        torch.set_rng_state(rng["torch_rng"])
        if self.device.type == "cuda" and rng.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(rng["cuda_rng"], self.device)
        if len(ranks) != self.world.size:
            self.world.seed(self.cfg.train.seed, self.step)
        if tr.get("scaler"):
            self.scaler.load_state_dict(tr["scaler"])

    # -- checkpoints and metrics -----------------------------------------------------------

    def checkpoint(self, with_trainer: bool) -> Checkpoint:
        """The run as a checkpoint. Under torchrun every rank must call it (`with_trainer`
        gathers the lanes' state and the ranks' RNG); rank 0's holds the whole."""
        trainer = None
        if with_trainer:
            rng = {
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device)
                if self.device.type == "cuda"
                else None,
            }
            trainer = {
                "optimizer": self.optimizer.state_dict(),
                "epoch": self.epoch,
                "epoch_step": self.epoch_step,
                "elapsed": self.elapsed,
                "best_val": self.best_val,
                "evals_since_best": self.evals_since_best,
                "recent_vals": list(self.recent_vals),
                "best_smooth": self.best_smooth,
                "next_eval_time": self.next_eval_time,
                "lr_scale": self.schedule.scale,
                "state": self.world.gather_lanes(_state_to_list(self.state)),
                **rng,
                "scaler": self.scaler.state_dict() if self.use_amp else {},
                "fingerprint": self.fingerprint,
            }
            if self.world.size > 1:
                trainer["ranks"] = self.world.gather(rng)
        metrics = {"best_val_loss": self.best_val, "elapsed": self.elapsed}
        if self.last_eval:
            metrics.update(
                val_loss=self.last_eval["val_loss"], val_accuracy=self.last_eval["val_accuracy"]
            )
        return Checkpoint(
            config=self.cfg,
            tokenizer=self.tokenizer,
            state_dict=self.model.state_dict(),
            step=self.step,
            epoch=self.epoch,
            metrics=metrics,
            trainer=trainer,
        )

    def _save(self, name: str, with_trainer: bool) -> Event | None:
        if self.run_dir is None:
            return None
        ckpt = self.checkpoint(with_trainer)
        if not self.world.writer:
            return None
        path = self.run_dir / name
        save_checkpoint(path, ckpt)
        return {"event": "checkpoint", "path": str(path), "step": self.step}

    def _write_config(self) -> None:
        assert self.run_dir is not None
        self.run_dir.mkdir(parents=True, exist_ok=True)
        info = self.cfg.to_dict()
        info["data"] = {
            "train_tunes": len(self.train_ids),
            "val_tunes": len(self.val_ids),
            "train_chars": int(sum(len(t) for t in self.train_ids)),
            "val_chars": int(sum(len(t) for t in self.val_ids)),
            "fingerprint": self.fingerprint,
        }
        info["vocab"] = self.tokenizer.vocab
        info["tokenizer"] = {k: v for k, v in self.tokenizer.to_dict().items() if k != "vocab"}
        info["parameters"] = count_parameters(self.model)
        tmp = self.run_dir / "config.json.tmp"
        tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(self.run_dir / "config.json")

    # -- the loop --------------------------------------------------------------------------

    def _eval_due(self, epoch_ended: bool) -> bool:
        t = self.cfg.train
        if t.eval_unit == "epochs":
            # Called after the epoch counter moved on: self.epoch epochs are complete.
            return epoch_ended and self.epoch % max(1, t.eval_every or 1) == 0
        if not t.eval_every and t.time_budget > 0:
            # Evaluations spread evenly over the budget, whatever the collection's size: early
            # stopping's patience is then a share of the budget, not a few seconds of it.
            if self.elapsed >= self.next_eval_time and self.step >= 10:
                self.next_eval_time = self.elapsed + t.time_budget / EVALS_PER_BUDGET
                return True
            return False
        every = t.eval_every or max(10, min(500, self.steps_per_epoch // 2))
        return self.step % every == 0

    def _evaluate(self) -> Event:
        # Under torchrun each rank reads its share of the tunes; all get the same result.
        share = self.world.eval_share(self.val_ids)
        result = self.world.combine(evaluate(self.model, share, self.device))
        t = self.cfg.train
        improved = result.loss_nats_per_char < self.best_val
        if improved:
            self.best_val = result.loss_nats_per_char
        self.recent_vals = [*self.recent_vals, result.loss_nats_per_char][-t.smooth_evals :]
        smooth = sum(self.recent_vals) / len(self.recent_vals)
        # Judged only once the window is full: one lucky first evaluation would otherwise set
        # a best that the noisy ones after it cannot beat.
        if len(self.recent_vals) == t.smooth_evals:
            if smooth < self.best_smooth - t.min_delta:
                self.best_smooth = smooth
                self.evals_since_best = 0
            else:
                self.evals_since_best += 1
        self.schedule.on_eval(improved)
        event: Event = {
            "event": "eval",
            "step": self.step,
            "epoch": self.epoch_progress,
            "val_loss": result.loss_nats_per_char,
            "val_bits": result.bits_per_char,
            "val_accuracy": result.accuracy,
            "val_chars": result.chars,
            "best_val_loss": self.best_val,
            "smoothed_val_loss": smooth,
            "improved": improved,
            "elapsed": self.elapsed,
        }
        if self.cfg.train.sample_chars and self.world.writer:
            event["sample"] = self._sample()
        self.last_eval = event
        return event

    def _sample(self) -> str:
        # A dedicated generator: sampling must not disturb the training RNG (resume = same run).
        params = SamplingParams(
            temperature=0.8, max_chars=self.cfg.train.sample_chars, seed=self.step
        )
        return sample(self.model, self.tokenizer, "", 1, params)[0]

    def _train_step(self, batch: Batch) -> int:
        """One optimisation step; returns the number of real targets in this rank's lanes.

        The step's summed loss and correct predictions are added to device-side sums that
        `_flush` reads back for the next "step" event: nothing in a step waits for the device
        (the real targets are counted on the batch's CPU copy).

        The loss is summed over the real targets and divided by the batch's positions, not by
        its real targets, so a step moves the weights in proportion to what it holds: a batch
        with a tenth real targets moves them a tenth as far as a full one, not as far.
        """
        t = self.cfg.train
        cuda = self.device.type == "cuda"
        inputs, targets = batch.inputs, batch.targets
        n = int((targets != IGNORE).sum())
        if cuda:
            # Page-locked copies go up asynchronously; from pageable memory the copy would
            # wait for the host to stage it.
            inputs, targets = inputs.pin_memory(), targets.pin_memory()
        x = inputs.to(self.device, non_blocking=True)
        y = targets.to(self.device, non_blocking=True)
        state = _reset_lanes(self.state, batch.reset)
        amp = torch.autocast("cuda", dtype=self.amp_dtype) if self.use_amp else nullcontext()
        with amp:
            logits, new_state = self.net(x, state)  # (B, T, V)
            total = F.cross_entropy(
                logits.float().reshape(-1, logits.shape[-1]),
                y.reshape(-1),
                ignore_index=IGNORE,
                reduction="sum",
            )
            # Over the global batch's positions: DDP averages the ranks' gradients, so the
            # world size brings their mean back to the gradient of one process's whole batch.
            loss = total * self.world.size / (t.batch_size * y.shape[1])
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if t.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.state = _detach(new_state) if self.batches.carries_state else None
        with torch.no_grad():
            self._loss_sum += total.detach()
            self._hits += ((logits.argmax(-1) == y) & (y != IGNORE)).sum()
        return n

    def _flush(self, log: MetricsLog) -> Iterator[Event]:
        """Write the "step" event of the steps since the last one (nothing if none), reading
        their sums back from the device; returns False when the loss is no longer finite.

        Called every `log_every` steps and before anything that must know the loss is still
        finite (an epoch's end, an evaluation, a checkpoint, the end). Under torchrun every
        rank calls it at the same steps: the sums go through one all-reduce."""
        if not self._pending:
            return True
        t0 = time.perf_counter()
        loss_sum, hits = float(self._loss_sum), int(self._hits)  # waits for the device
        self._my_seconds += time.perf_counter() - t0
        self._loss_sum.zero_()
        self._hits.zero_()
        rate = self._my_chars / max(self._my_seconds, 1e-9)
        if self.world.size > 1:
            # The global batch's sums, and the ranks' rates added (each trains its lanes).
            loss_sum, hits, rate = self.world.sum([loss_sum, hits, rate])
        n, steps = max(self._pending_chars, 1), self._pending
        self._pending = self._pending_chars = self._my_chars = 0
        self._my_seconds = 0.0
        # The loss reported is per real character, comparable with evaluation.
        loss = loss_sum / n
        yield log.write(
            {
                "event": "step",
                "step": self.step,
                "epoch": self._pending_epoch,
                "loss": loss,
                "accuracy": hits / n,
                "lr": self._pending_lr,
                "chars_per_sec": rate,
                "elapsed": self.elapsed,
            }
        )
        if math.isfinite(loss):
            return True
        # Diverged (a learning rate too high): stop before these weights reach a checkpoint,
        # so last.pt and best.pt keep the last good ones.
        where = f"step {self.step}" if steps == 1 else f"steps {self.step - steps + 1}-{self.step}"
        self.diverged = f"the training loss became {loss} at {where}"
        return False

    def run(self) -> Iterator[Event]:
        """Train until the epoch limit, the time budget, early stopping or a stop request."""
        t = self.cfg.train
        if self.run_dir is not None and self.world.writer:
            # What a killed run left half-written: nobody else writes this folder now.
            remove_stale_temps(self.run_dir)
            self._write_config()
        log = MetricsLog(self.run_dir if self.world.writer else None)
        try:
            yield log.write(
                {
                    "event": "start",
                    "step": self.step,
                    "resumed": self.resumed_from > 0,
                    "device": describe_device(self.device),
                    "parameters": count_parameters(self.model),
                    "vocab_size": len(self.tokenizer),
                    # What one token is: "char" or "event" (the metric names say chars).
                    "unit": self.tokenizer.unit,
                    "steps_per_epoch": self.steps_per_epoch,
                    "total_steps": self.total_steps,
                    "train_tunes": len(self.train_ids),
                    "val_tunes": len(self.val_ids),
                    "chars_per_step": t.batch_size * t.seq_len,
                    # Processes training together (torchrun); the batch above is all of theirs.
                    "world_size": self.world.size,
                    # Share of the training positions that are padding, over an epoch.
                    "padding": float(self.batches.padding),
                }
            )
            reason = yield from self._loop(log)
            if reason != "diverged" and not (yield from self._flush(log)):
                reason = "diverged"
            evaluated_now = self.last_eval is not None and self.last_eval["step"] == self.step
            if reason == "epochs" and not evaluated_now:
                yield from self._eval_and_save(log)
            yield log.write(
                {
                    "event": "end",
                    "reason": reason,
                    "step": self.step,
                    "epoch": self.epoch_progress,
                    "best_val_loss": self.best_val,
                    "elapsed": self.elapsed,
                    **({"message": self._diverged_message()} if self.diverged else {}),
                }
            )
        finally:
            log.close()

    def _diverged_message(self) -> str:
        kept = self.run_dir is not None and (self.run_dir / "last.pt").is_file()
        return (
            f"{self.diverged}: training stopped; "
            + ("last.pt and best.pt keep the last good weights" if kept else "no checkpoint kept")
            + " (lower the learning rate, or clip gradients)"
        )

    def _loop(self, log: MetricsLog) -> Iterator[Event]:
        """The epochs and steps; returns why it stopped."""
        t = self.cfg.train
        self.model.train()
        self._set_lr()
        clock = time.perf_counter()
        while self.epoch_limit is None or self.epoch < self.epoch_limit:
            ended = False
            for batch in self.batches.epoch(self.epoch, self.epoch_step):
                t0 = time.perf_counter()
                n_chars = self._train_step(batch)
                # No wait for the device here: on a GPU this clock runs a few queued steps ahead
                # of the work, and catches up whenever `_flush` reads the sums back.
                now = time.perf_counter()
                self.elapsed += now - clock
                clock = now
                self.step += 1
                self.epoch_step += 1
                self._my_chars += n_chars
                self._my_seconds += now - t0
                positions = batch.targets.numel()
                if self.world.size > 1:
                    # The global batch's counts (and every rank's requests and clock agreed):
                    # host numbers only, so agreeing each step waits for no device.
                    n_chars, positions = self._agree(n_chars, positions)
                self._count_positions(n_chars, positions)
                self._pending += 1
                self._pending_chars += int(n_chars)
                self._pending_lr = self.optimizer.param_groups[0]["lr"]
                self._pending_epoch = self.epoch_progress
                if self._pending >= self.log_every and not (yield from self._flush(log)):
                    return "diverged"
                epoch_ended = ended = batch.last
                if epoch_ended:
                    if not (yield from self._flush(log)):
                        return "diverged"
                    yield log.write(self._epoch_event())
                    self._next_epoch()
                stop = self._stop_reason()
                evaluated = bool(stop) or self._eval_due(epoch_ended)
                save = not evaluated and self._save_requested()
                # The loss must be known to be finite before weights are evaluated or saved.
                if (evaluated or save) and not (yield from self._flush(log)):
                    return "diverged"
                if evaluated:
                    yield from self._eval_and_save(log)
                    if self.diverged:
                        return "diverged"
                    if stop is None and self.evals_since_best >= t.patience > 0:
                        stop = "early_stop"
                elif save:
                    yield from self._emit(self._save("last.pt", True), log)
                self._set_lr()
                # Time spent evaluating and saving counts towards the budget too.
                now = time.perf_counter()
                self.elapsed += now - clock
                clock = now
                if evaluated and stop is None:
                    # The budget ran out (or a stop came) during that evaluation: it and its
                    # last.pt are final, so end now rather than take a step and evaluate again.
                    if self.world.size > 1:
                        self._agree()
                    stop = self._stop_reason()
                if stop:
                    return stop
            if not ended:
                # Resumed from a checkpoint taken at this epoch's very end.
                self._next_epoch()
        return "epochs"

    def _epoch_event(self) -> Event:
        """The epoch just ended: how much of what it trained on was padding."""
        positions = max(self.epoch_positions, 1)
        return {
            "event": "epoch",
            "epoch": self.epoch + 1,
            "step": self.step,
            "padding": 1.0 - self.epoch_real / positions,
            "min_real_share": self.epoch_min_real,
        }

    @property
    def epoch_progress(self) -> float:
        """Epochs done, fractional; an epoch running past the nominal length shows x.99."""
        return self.epoch + min(self.epoch_step / self.steps_per_epoch, 0.99)

    def _next_epoch(self) -> None:
        # The lanes run on across an epoch's end (mid-tune, state and all): no reset here.
        self.epoch += 1
        self.epoch_step = 0
        self.epoch_real = self.epoch_positions = 0
        self.epoch_min_real = 1.0

    def _set_lr(self) -> None:
        lr = self.schedule.at(self.step, self.elapsed)
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    def _agree(self, *totals: float) -> list[float]:
        """Under torchrun: one all-gather makes every rank decide alike at this step (any
        rank's stop or save request, the slowest rank's clock); returns `totals` summed over
        the ranks."""
        self.agreed = self.world.agree(
            self.control.stop(), self.control.save_now(), self.elapsed, totals
        )
        self.elapsed = self.agreed.elapsed
        return self.agreed.totals

    def _count_positions(self, n_real: float, positions: float) -> None:
        self.epoch_real += int(n_real)
        self.epoch_positions += int(positions)
        self.epoch_min_real = min(self.epoch_min_real, n_real / max(positions, 1))

    def _save_requested(self) -> bool:
        return self.agreed.save if self.world.size > 1 else self.control.save_now()

    def _stop_reason(self) -> str | None:
        t = self.cfg.train
        # Under torchrun, the request every rank agreed on at this step (a signal that reaches
        # one rank a moment after the others must not split their decisions).
        if self.agreed.stop if self.world.size > 1 else self.control.stop():
            return "stopped"
        if t.time_budget > 0 and self.elapsed >= t.time_budget:
            return "time"
        return None

    def _eval_and_save(self, log: MetricsLog) -> Iterator[Event]:
        event = self._evaluate()
        yield log.write(event)
        if not math.isfinite(event["val_loss"]):
            # The weights are no longer finite: best.pt and last.pt stay as they are.
            self.diverged = f"the validation loss became {event['val_loss']} at step {self.step}"
            return
        if event["improved"]:
            yield from self._emit(self._save("best.pt", False), log)
        yield from self._emit(self._save("last.pt", True), log)
        if self.run_dir is not None and event.get("sample"):
            samples = self.run_dir / "samples"
            samples.mkdir(exist_ok=True)
            name = f"step{self.step:07d}{self.tokenizer.sample_suffix}"
            (samples / name).write_text(event["sample"], encoding="utf-8")

    @staticmethod
    def _emit(event: Event | None, log: MetricsLog) -> Iterator[Event]:
        if event is not None:
            yield log.write(event)


def _amp_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast type of a run on `device`: None (float32) off CUDA or with amp "off".

    "auto"/"on"/"fp16" give float16, with loss scaling. Under autocast torch runs cuDNN's RNN
    kernels in float16 whatever the autocast type (aten/src/ATen/cudnn/AutocastRNN.cpp casts
    them to half), so "bf16" changes only the embedding and output layers and leaves the
    recurrence's gradients unscaled: it is there to try, not the default."""
    if device.type != "cuda":
        return None
    if amp in ("auto", "on", "fp16"):
        return torch.float16
    if amp == "bf16" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def _shape(m: ModelConfig) -> tuple[str, int, int, int, bool]:
    """What decides a model's weights: a fine-tune may change anything else (dropout)."""
    return (m.arch, m.layers, m.hidden, m.embedding, m.scalar_input)


def _check_same_kind(ckpt: Checkpoint, tokenizer: Tokenizer | None) -> None:
    """A run continues (or fine-tunes) a model only on data tokenized the same way
    (`tokenizer` None: the texts are characters)."""
    mine = ckpt.tokenizer
    where = ckpt.path or "checkpoint"
    kind, unit = (tokenizer.kind, tokenizer.unit) if tokenizer else ("chars", "char")
    if mine.kind != kind:
        raise CheckpointError(f"{where}: is a model of {mine.unit}s, but the data is {unit}s")
    if tokenizer is not None and getattr(mine, "settings", None) != getattr(
        tokenizer, "settings", None
    ):
        raise CheckpointError(
            f"{where}: its events were encoded with other settings than this data's; "
            "read the data with the checkpoint's encoding"
        )


def _model_text(cfg: RunConfig) -> str:
    m = cfg.model
    inp = f"embedding {m.embedding}" if m.embedding else "one-hot"
    return f"{m.arch.upper()} {m.layers}x{m.hidden} ({inp})"


def train(
    cfg: RunConfig,
    train_texts: Sequence[str],
    val_texts: Sequence[str],
    run_dir: str | Path | None = None,
    init: Checkpoint | None = None,
    resume: Checkpoint | None = None,
    control: Control | None = None,
    tokenizer: Tokenizer | None = None,
) -> Iterator[Event]:
    """Train and yield events (see module docstring); a thin wrapper over `Trainer.run`."""
    return Trainer(cfg, train_texts, val_texts, run_dir, init, resume, control, tokenizer).run()


def split_texts(
    texts: Sequence[str], val_fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """The seeded split by item (tune or piece, never a window of one) as two lists of texts."""
    tr, va = split_tunes(len(texts), val_fraction, seed)
    return [texts[i] for i in tr], [texts[i] for i in va]


__all__ = ["Control", "Event", "Trainer", "read_metrics", "split_texts", "train"]
