"""Training on several processes: torchrun, DistributedDataParallel and what the ranks agree on.

`torchrun --nproc-per-node N -m workbench train ...` starts N copies of the command. Each finds
its place in the environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK) and joins the process
group: gloo on the CPU, NCCL on CUDA with one GPU per process. Without torchrun the world is one
process, `World()`, and every method here is a no-op, so the trainer has a single code path.

What the ranks of a run share (docs/distributed.md says it for users):
- The global batch. `--batch-size` is the whole step's batch; rank r trains lanes
  `rows(batch)` of it, dealt exactly as one process deals them (models/data.py), so the ranks'
  shares of a step together are the single process's batch, and DistributedDataParallel's mean
  of their gradients is its gradient (the trainer scales each rank's loss by the world size).
- The decisions. One all-gather of a few numbers per step (`agree`) gives every rank any rank's
  stop or save request and the slowest rank's clock, so the time budget, the learning-rate
  schedule (cosine follows the clock), evaluation times and Ctrl-C/SIGTERM end all ranks at the
  same step. It travels on a gloo group even when NCCL carries the gradients: a flag costs no GPU
  synchronisation.
- The validation result. Each rank evaluates a length-balanced share of the validation tunes and
  the sums of loss, hits and counts are all-reduced (`evaluate`): every rank holds the same
  number and takes the same early-stopping decision.
- The checkpoint. Rank 0 (the writer) alone writes the run directory; a resumable checkpoint
  gathers the recurrent state of every rank's lanes and every rank's RNG, so a run resumes
  exactly on the same number of processes, and on any other number with the same data position
  and state (only dropout's random masks differ).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from models.device import resolve_device
from models.errors import DataError, DeviceError
from models.evaluate import EvalResult

#: What torchrun (and any launcher speaking its env:// protocol) sets in each process.
TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def launched_by_torchrun(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return all(name in env for name in TORCHRUN_VARS)


@dataclass
class Agreement:
    """What every rank leaves `World.agree` with."""

    stop: bool = False
    save: bool = False
    elapsed: float = 0.0
    totals: list[float] = field(default_factory=list)


#: The longest a rank waits for the others before it leaves the process group (World.close).
CLOSE_WAIT = timedelta(seconds=60)


@dataclass
class World:
    """This process's place among the training processes; `World()` is a single process."""

    size: int = 1
    rank: int = 0
    local_rank: int = 0
    #: "gloo" or "nccl"; None for a single process (no process group).
    backend: str | None = None
    #: The group that carries the small CPU-side agreements (gloo, see the module docstring).
    control: Any = field(default=None, repr=False)

    @property
    def writer(self) -> bool:
        """Whether this process writes the run directory, prints progress and samples."""
        return self.rank == 0

    # -- placement ---------------------------------------------------------------------------

    def place(self, device: torch.device) -> torch.device:
        """The device this rank trains on: under NCCL, the GPU of its local rank."""
        if self.size > 1 and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def rows(self, batch: int) -> range:
        """This rank's lanes of a global batch of `batch`: contiguous, sizes differing by one at
        most."""
        if batch < self.size:
            raise DataError(
                f"a batch of {batch} cannot be shared by {self.size} processes: use a batch size "
                f"of at least {self.size}"
            )
        return range(self.rank * batch // self.size, (self.rank + 1) * batch // self.size)

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to train through: DistributedDataParallel (which starts every rank from
        rank 0's weights and averages gradients in backward), or `model` itself in one process.
        Checkpoints always save `model`, so their keys carry no `module.` prefix."""
        if self.size == 1:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def seed(self, seed: int, step: int = 0) -> None:
        """Give ranks other than 0 their own random stream (dropout masks), derived from the
        run's seed; rank 0 keeps the stream of a single process."""
        if self.rank > 0:
            entropy = np.random.SeedSequence([seed, self.rank, step]).generate_state(1)[0]
            torch.manual_seed(int(entropy))

    # -- agreeing ----------------------------------------------------------------------------

    def agree(
        self, stop: bool, save: bool, elapsed: float, totals: Sequence[float] = ()
    ) -> Agreement:
        """Every rank leaves with the same answer: any rank's stop or save request, the largest
        elapsed time, and `totals` summed over the ranks. One all-gather of a few numbers."""
        if self.size == 1:
            return Agreement(stop, save, elapsed, [float(v) for v in totals])
        mine = torch.tensor([float(stop), float(save), elapsed, *totals], dtype=torch.float64)
        parts = [torch.empty_like(mine) for _ in range(self.size)]
        dist.all_gather(parts, mine, group=self.control)
        table = torch.stack(parts)  # (world, 3 + len(totals))
        return Agreement(
            stop=bool(table[:, 0].any()),
            save=bool(table[:, 1].any()),
            elapsed=float(table[:, 2].max()),
            totals=table[:, 3:].sum(0).tolist(),
        )

    def sum(self, values: Sequence[float]) -> list[float]:
        """`values` summed over the ranks (float64, on the control group)."""
        if self.size == 1:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.control)
        return t.tolist()

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's `obj` (picklable: CPU tensors, numbers, strings), in rank order."""
        if self.size == 1:
            return [obj]
        parts: list[Any] = [None] * self.size
        dist.all_gather_object(parts, obj, group=self.control)
        return parts

    def check_same(self, what: str, value: str) -> None:
        """Refuse to train when the ranks read different data (a node that sees other files):
        their gradients would describe different problems."""
        values = self.gather(value)
        for rank, other in enumerate(values):
            if other != values[0]:
                raise DataError(
                    f"process {rank} of {self.size} has other {what} than process 0 "
                    f"({other} vs {values[0]}): every node must read the same data"
                )

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier(group=self.control)

    @contextlib.contextmanager
    def writer_first(self) -> Iterator[None]:
        """Run the block on rank 0 before the others: what it caches (a converted corpus), the
        others then read instead of writing the same files at the same time."""
        if not self.writer:
            self.barrier()
        yield
        if self.writer:
            self.barrier()

    # -- validation --------------------------------------------------------------------------

    def eval_share(self, tunes: Sequence[np.ndarray]) -> list[np.ndarray]:
        """This rank's validation tunes: dealt longest first, in turn, so every rank holds about
        the same number of characters. The shares are disjoint and cover all tunes."""
        if self.size == 1:
            return list(tunes)
        order = sorted(range(len(tunes)), key=lambda i: (-len(tunes[i]), i))
        return [tunes[i] for i in order[self.rank :: self.size]]

    def combine(self, mine: EvalResult) -> EvalResult:
        """The evaluation of all ranks' shares (`eval_share`) from this rank's: the sums of
        loss, hits and counts all-reduced, so every rank returns the same result."""
        if self.size == 1:
            return mine
        n = mine.chars
        loss_sum, hits, count = self.sum(
            [mine.loss_nats_per_char * n, mine.accuracy * n, n] if n else [0.0, 0.0, 0.0]
        )
        if count == 0:
            return EvalResult(float("nan"), float("nan"), 0)
        return EvalResult(loss_sum / count, round(hits) / count, int(count))

    # -- recurrent state across ranks ----------------------------------------------------------

    def gather_lanes(self, state: list[Tensor] | None) -> list[Tensor] | None:
        """The state of every lane of the global batch (lanes on dim 1), from each rank's share."""
        if self.size == 1 or state is None:
            return state
        parts = self.gather([s.detach().cpu() for s in state])
        return [torch.cat([p[i] for p in parts], dim=1) for i in range(len(state))]

    def my_lanes(self, state: list[Tensor] | None, batch: int) -> list[Tensor] | None:
        """This rank's share of a global batch's state (as saved by any number of ranks)."""
        if self.size == 1 or state is None:
            return state
        rows = self.rows(batch)
        return [s[:, rows.start : rows.stop] for s in state]

    def close(self, together: bool = False) -> None:
        """Leave the process group. `together`, for a run that ended normally: first wait for
        the other ranks (at most CLOSE_WAIT), so that no rank tears its connections down while
        another still writes its last checkpoint. Once, under load, gloo aborted the writing
        rank at exit ("terminate called without an active exception") after the other had
        left. The wait is bounded, so a rank that ended some other way holds no one for long."""
        if self.size > 1 and dist.is_initialized():
            if together:
                with contextlib.suppress(RuntimeError):  # a rank that never came: leave anyway
                    dist.monitored_barrier(group=self.control, timeout=CLOSE_WAIT)
            dist.destroy_process_group()


def init_world(device: str = "auto", env: Mapping[str, str] | None = None) -> World:
    """Join the process group when torchrun started this process; else a world of one.

    `device` is the run's device setting: CUDA means NCCL and the GPU of this process's local
    rank, anything else gloo on the CPU.
    """
    env = os.environ if env is None else env
    if not launched_by_torchrun(env):
        return World()
    size, rank, local = (int(env[name]) for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"))
    if size == 1:
        return World()
    if resolve_device(device).type == "cuda":
        if local >= torch.cuda.device_count():
            raise DeviceError(
                f"process {rank} (local rank {local}) has no GPU: this node has "
                f"{torch.cuda.device_count()}; start at most that many processes per node"
            )
        torch.cuda.set_device(local)
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    control = dist.new_group(backend="gloo") if backend == "nccl" else dist.group.WORLD
    return World(size, rank, local, backend, control)
