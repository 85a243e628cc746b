"""One rank of a two-process gloo world, for the tests of `World.close(together=True)`.

Run as `python close_rank.py MODE WAIT_S` with torchrun's variables (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR, MASTER_PORT) set. It joins the world through `init_world`, then:

- MODE "late": rank 1 sleeps WAIT_S before it closes together; rank 0 closes together at once
  (with the module's own CLOSE_WAIT).
- MODE "absent": rank 1 never closes: it sleeps WAIT_S and leaves without a word; rank 0 closes
  together with CLOSE_WAIT set to 2 seconds.

Each rank prints, by the system clock (`time.time()`, shared by the processes): rank 1 when it
`arrived` at its close or `left` without one, rank 0 when its close `started` and `ended`; and
whether the process group is still initialised after the close.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

import torch.distributed as dist

from models import distributed


def main(mode: str, wait: float) -> None:
    world = distributed.init_world("cpu")
    if mode == "absent":
        distributed.CLOSE_WAIT = timedelta(seconds=2)
    if world.rank == 1:
        time.sleep(wait)
        if mode == "absent":
            print(f"left {time.time()}", flush=True)
            os._exit(0)  # no close, no goodbye: as a rank that crashed would
        print(f"arrived {time.time()}", flush=True)
    print(f"started {time.time()}", flush=True)
    world.close(together=True)
    print(f"ended {time.time()}", flush=True)
    print(f"initialised {dist.is_initialized()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
