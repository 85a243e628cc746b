"""Test-wide set-up: Qt runs offscreen, and torch uses one CPU thread.

One thread because the suite runs beside other processes (pytest-qt's app, child processes of
the CLI tests): OpenMP threads that outnumber the free cores turn each small matmul of a tiny
test model into a scheduler wait (measured: 0.2 ms -> 6 ms on a 2-core machine).
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

torch.set_num_threads(1)
