"""Choosing the torch device: `auto` takes CUDA when present, else the CPU."""

from __future__ import annotations

import torch

from models.errors import DeviceError


def resolve_device(name: str = "auto") -> torch.device:
    """`auto`, `cpu`, `cuda` or `cuda:N` -> a usable torch.device, or DeviceError."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} requested but no CUDA GPU is available here")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
        return dev
    raise DeviceError(f"unknown device {name!r} (use auto, cpu, cuda or cuda:N)")


def describe_device(device: torch.device) -> str:
    """A human name for the device: the GPU's model, or the CPU with its thread count."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} ({device})"
    return f"CPU ({torch.get_num_threads()} threads)"
