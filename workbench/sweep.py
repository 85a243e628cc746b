"""Hyper-parameter sweeps: one knob of a base configuration varied over a list of values (Qt-free).

The sweep builder dialog parses what the user types with `parse_values` and plans the runs with
`build_sweep`; the training pane trains the planned `(name, RunConfig)` pairs one after another.
The run history compares them afterwards, labelling each curve with `differing_knobs`.

    values = parse_values("hidden", "128, 256, 512")
    runs = build_sweep(base, "hidden", values, "sweep")   # sweep-hidden-128, ...
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from models.config import ARCHS, OPTIMIZERS, SCHEDULES, RunConfig

# Run names become directory names: keep them to characters every file system accepts.
_NAME_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Knob:
    """One setting a sweep may vary: where it lives in RunConfig, its type and its valid range."""

    name: str
    section: str  # "model" or "train"
    kind: type  # int, float or str
    help: str
    choices: tuple[str, ...] = ()
    # Returns an error text (the value's problem) or None; choices are checked separately.
    check: Callable[[Any], str | None] | None = None


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be >= {low:g}"


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be > 0"


def _fraction(v: Any) -> str | None:
    return None if 0.0 <= v < 1.0 else "must be in [0, 1)"


def _momentum(v: Any) -> str | None:
    return None if 0.0 <= v <= 1.0 else "must be in [0, 1]"


_KNOBS = (
    Knob("arch", "model", str, "recurrent cell", ARCHS),
    Knob("hidden", "model", int, "hidden units per layer", check=_at_least(1)),
    Knob("layers", "model", int, "recurrent layers", check=_at_least(1)),
    Knob("embedding", "model", int, "embedding size (0 = one-hot)", check=_at_least(0)),
    Knob("dropout", "model", float, "dropout", check=_fraction),
    Knob("optimizer", "train", str, "optimizer", OPTIMIZERS),
    Knob("lr", "train", float, "learning rate", check=_positive),
    Knob("batch_size", "train", int, "sequences per batch", check=_at_least(1)),
    Knob("seq_len", "train", int, "characters per sequence", check=_at_least(1)),
    Knob("weight_decay", "train", float, "weight decay", check=_at_least(0)),
    Knob("grad_clip", "train", float, "gradient clipping (0 = off)", check=_at_least(0)),
    Knob("schedule", "train", str, "learning-rate schedule", SCHEDULES),
    Knob("seed", "train", int, "random seed"),
    Knob("momentum", "train", float, "SGD momentum", check=_momentum),
)

# The knobs a sweep may vary, in the order the dialog lists them.
SWEEPABLE: dict[str, Knob] = {k.name: k for k in _KNOBS}

_KIND_TEXT = {int: "an integer", float: "a number", str: "a choice"}


def _knob(name: str) -> Knob:
    try:
        return SWEEPABLE[name]
    except KeyError:
        raise ValueError(
            f"{name!r} cannot be swept (choose one of {', '.join(SWEEPABLE)})"
        ) from None


def _parse_one(knob: Knob, item: str) -> Any:
    """One typed, range-checked value from its text."""
    if knob.kind is str:
        value = item.lower()
        if value not in knob.choices:
            raise ValueError(f"{knob.name}: {item!r} is not one of {', '.join(knob.choices)}")
        return value
    try:
        value = knob.kind(item)
    except ValueError:
        raise ValueError(f"{knob.name}: {item!r} is not {_KIND_TEXT[knob.kind]}") from None
    if knob.kind is float and not math.isfinite(value):
        raise ValueError(f"{knob.name}: {item!r} is not a finite number")
    _check_range(knob, value)
    return value


def _check_range(knob: Knob, value: Any) -> None:
    problem = knob.check(value) if knob.check is not None else None
    if problem:
        raise ValueError(f"{knob.name}: {format_value(value)} {problem}")


def parse_values(knob: str, text: str) -> list[Any]:
    """The comma-separated values of `text` for `knob`, typed and validated.

    Raises ValueError with a message naming the knob and the offending item, e.g.
    "hidden: '12x' is not an integer".
    """
    spec = _knob(knob)
    items = [item.strip() for item in text.split(",")]
    if items and not items[-1]:
        items.pop()  # a trailing comma while typing ("128, 256,") is not an error
    if not items or items == [""]:
        raise ValueError(f"{knob}: type one or more values separated by commas")
    values: list[Any] = []
    for position, item in enumerate(items, 1):
        if not item:
            raise ValueError(f"{knob}: value {position} is empty")
        value = _parse_one(spec, item)
        if value in values:
            raise ValueError(f"{knob}: {format_value(value)} is listed twice")
        values.append(value)
    return values


def format_value(value: Any) -> str:
    """A value as it appears in run names and labels (repr keeps floats distinct: 0.001, 1e-05)."""
    return repr(value) if isinstance(value, float) else str(value)


def get_value(cfg: RunConfig, knob: str) -> Any:
    """The current value of a sweepable knob in `cfg`."""
    spec = _knob(knob)
    return getattr(getattr(cfg, spec.section), knob)


def build_sweep(
    base: RunConfig, knob: str, values: Sequence[Any], name_prefix: str = "sweep"
) -> list[tuple[str, RunConfig]]:
    """One `(name, config)` per value: deep copies of `base` with `knob` set, each validated.

    Names look like "sweep-hidden-256". Raises ValueError for an unknown knob, a bad prefix,
    no values, a value of the wrong type, or a config that fails validation.
    """
    spec = _knob(knob)
    prefix = name_prefix.strip()
    if not _NAME_PREFIX.match(prefix):
        raise ValueError(
            f"name prefix {name_prefix!r} must start with a letter or digit and use only "
            "letters, digits, '.', '_' and '-'"
        )
    if not values:
        raise ValueError(f"{knob}: no values to sweep")
    runs: list[tuple[str, RunConfig]] = []
    seen: set[str] = set()
    for value in values:
        value = _coerce(spec, value)
        cfg = copy.deepcopy(base)
        setattr(getattr(cfg, spec.section), knob, value)
        try:
            cfg.validate()
        except ValueError as exc:
            raise ValueError(f"{knob} = {format_value(value)}: {exc}") from None
        name = f"{prefix}-{knob}-{format_value(value)}"
        if name in seen:
            raise ValueError(f"{knob}: {format_value(value)} is listed twice")
        seen.add(name)
        runs.append((name, cfg))
    return runs


def _coerce(spec: Knob, value: Any) -> Any:
    """A value given directly (not parsed from text) checked like a parsed one."""
    if isinstance(value, str):
        return _parse_one(spec, value.strip())
    # bool is an int subclass; a bool hidden size is a caller's bug, not a value.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or spec.kind is str:
        raise ValueError(f"{spec.name}: {value!r} is not {_KIND_TEXT[spec.kind]}")
    if spec.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{spec.name}: {value!r} is not an integer")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{spec.name}: {value!r} is not a finite number")
    _check_range(spec, value)
    return value


def differing_knobs(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The model/train settings whose values are not the same in every config (config.json
    dicts), sweepable knobs first; empty for fewer than two configs."""
    if len(configs) < 2:
        return []
    keys: list[tuple[str, str]] = [(k.section, k.name) for k in _KNOBS]
    for section in ("model", "train"):
        for cfg in configs:
            for key in cfg.get(section, {}):
                if (section, key) not in keys:
                    keys.append((section, key))
    return [
        key
        for section, key in keys
        if len({repr(c.get(section, {}).get(key)) for c in configs}) > 1
    ]


def knob_label(config: dict[str, Any], knobs: Sequence[str]) -> str:
    """The values of `knobs` in one config.json dict, e.g. "hidden 256, lr 0.001"."""
    parts = []
    for key in knobs:
        for section in ("model", "train"):
            if key in config.get(section, {}):
                parts.append(f"{key} {format_value(config[section][key])}")
                break
    return ", ".join(parts)


__all__ = [
    "SWEEPABLE",
    "Knob",
    "build_sweep",
    "differing_knobs",
    "format_value",
    "get_value",
    "knob_label",
    "parse_values",
]
