"""Self-describing checkpoints, written atomically and loaded without executing code.

A checkpoint is a dict of plain types and tensors:
`{format, format_version, config, vocab, state_dict, step, epoch, metrics, trainer?}`, and for
a MIDI event model `tokenizer`: `{kind: "events", vocab, settings}`, the event vocabulary and the
encoding's settings as plain data (format version 2, so an older workbench refuses it rather
than read its events as characters). Char checkpoints stay version 1.
`trainer` (optimizer, RNG and data position, carried recurrent state) is present in `last.pt`
so a run can resume exactly; `best.pt` omits it. Loading uses `torch.load(weights_only=True)`,
which refuses pickled code.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from models.config import RunConfig
from models.errors import CheckpointError
from models.networks import CharRNN, build_network
from models.tokenizer import CharTokenizer, EventTokenizer, Tokenizer, tokenizer_from_dict

FORMAT = "composition-workbench/char-rnn"
FORMAT_VERSION = 2
#: What a char model's checkpoint is written as: readable by every earlier version.
CHAR_FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    config: RunConfig
    tokenizer: Tokenizer
    state_dict: dict[str, torch.Tensor]
    step: int = 0
    epoch: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] | None = None
    path: Path | None = None

    def build_model(self, device: torch.device | str = "cpu") -> CharRNN:
        """The network with these weights, in eval mode, on `device`."""
        where = self.path or "checkpoint"
        try:
            # Shapes first, on the meta device (no memory): a damaged configuration (hidden
            # 100000) must not make the app allocate gigabytes its weights do not hold.
            with torch.device("meta"):
                skeleton = build_network(self.config.model, len(self.tokenizer))
        except (RuntimeError, TypeError, ValueError, OverflowError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CheckpointError(f"{where}: cannot build its network ({reason})") from None
        for name, wanted in skeleton.state_dict().items():
            found = self.state_dict.get(name)
            if isinstance(found, torch.Tensor) and found.shape == wanted.shape:
                continue
            if isinstance(found, torch.Tensor):
                found = f"is {tuple(found.shape)} in the file, {tuple(wanted.shape)} in the network"
            else:
                found = "is missing" if found is None else "is not a tensor"
            raise CheckpointError(
                f"{where}: weights do not match its configuration ({name} {found})"
            )
        model = build_network(self.config.model, len(self.tokenizer))
        try:
            model.load_state_dict(self.state_dict)
        except (RuntimeError, TypeError, AttributeError) as exc:  # a value that is no tensor
            first = str(exc).strip().splitlines() or [type(exc).__name__]
            detail = first[1].strip() if len(first) > 1 else first[0]
            raise CheckpointError(
                f"{where}: weights do not match its configuration ({detail})"
            ) from None
        return model.to(device).eval()

    def describe(self) -> str:
        m = self.config.model
        kind = f"{m.arch.upper()} {m.layers}x{m.hidden}"
        unit = "" if isinstance(self.tokenizer, CharTokenizer) else f" {self.tokenizer.unit}s"
        return f"{kind}, vocabulary {len(self.tokenizer)}{unit}, step {self.step}"


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> None:
    """Write `ckpt` to `path` atomically (a temp file in the same folder, then rename)."""
    path = Path(path)
    events = isinstance(ckpt.tokenizer, EventTokenizer)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if events else CHAR_FORMAT_VERSION,
        "config": ckpt.config.to_dict(),
        "vocab": list(ckpt.tokenizer.vocab),
        "unknown": ckpt.tokenizer.unknown,
        "state_dict": {k: v.detach().cpu() for k, v in ckpt.state_dict.items()},
        "step": int(ckpt.step),
        "epoch": int(ckpt.epoch),
        "metrics": dict(ckpt.metrics),
    }
    if events:
        payload["tokenizer"] = ckpt.tokenizer.to_dict()
    if ckpt.trainer is not None:
        payload["trainer"] = ckpt.trainer
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk (ENOSPC), a folder gone read-only...
        Path(tmp).unlink(missing_ok=True)
        # The rename never happened: the checkpoint that was there is still whole.
        kept = f"the previous {path.name} is unchanged" if path.is_file() else "none written"
        reason = f"{exc.strerror or exc}; checkpoint not saved, {kept}"
        raise OSError(exc.errno, reason, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(run_dir: str | Path) -> list[Path]:
    """Delete the temp files a killed writer of `run_dir` left: a checkpoint's
    (`.last.pt.XXXX.tmp`, from save_checkpoint), the run marker's (`.running.json.PID.tmp`) and
    the run's settings' (`config.json.tmp`, from the trainer's start).

    Called by the run's writer as it starts, when no other process may write the folder: each
    such file is a write that never reached its rename, and a run killed and resumed many times
    would otherwise collect one (a whole checkpoint's size) per kill. Returns what it removed.
    """
    removed = []
    for pattern in (".*.pt.*.tmp", ".running.json.*.tmp", "config.json.tmp"):
        for path in Path(run_dir).glob(pattern):
            try:
                path.unlink()
            except OSError:  # gone already, or not ours to delete: harmless either way
                continue
            removed.append(path)
    return removed


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint, or raise CheckpointError with a one-line reason naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        raw = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if "weights_only" in reason or "Unsupported global" in str(exc):
            reason = "it holds Python objects or code, which are never loaded"
        raise CheckpointError(f"{path}: not a safe workbench checkpoint ({reason})") from None
    except Exception:
        # Garbage reaches torch's legacy unpickler, which fails with whatever it trips over
        # (KeyError, RuntimeError, EOFError, BadZipFile, ...): all mean the same to the user.
        raise CheckpointError(
            f"{path}: not a readable checkpoint (corrupt, truncated or not a PyTorch file)"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Composition Workbench char-RNN checkpoint")
    version = raw.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path}: damaged checkpoint (no format version)")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {version!r} is newer than this version understands "
            f"({FORMAT_VERSION}); update Composition Workbench"
        )
    try:
        for key, kind in (("config", dict), ("state_dict", dict), ("vocab", list)):
            if not isinstance(raw.get(key), kind):
                raise TypeError(f"{key!r} is missing or not a {kind.__name__}")
        config = RunConfig.from_dict(raw["config"])
        config.validate()
        if isinstance(raw.get("tokenizer"), dict):
            tokenizer = tokenizer_from_dict(raw["tokenizer"])
        else:
            tokenizer = CharTokenizer(raw["vocab"], unknown=raw.get("unknown", "unk"))
        return Checkpoint(
            config=config,
            tokenizer=tokenizer,
            state_dict=raw["state_dict"],
            step=int(raw.get("step", 0)),
            epoch=int(raw.get("epoch", 0)),
            metrics=dict(raw.get("metrics", {})),
            trainer=raw.get("trainer"),
            path=path,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({exc})") from None


def load_model(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[CharRNN, Tokenizer, Checkpoint]:
    """Load a checkpoint and build its network on `device` (eval mode)."""
    ckpt = load_checkpoint(path)
    return ckpt.build_model(device), ckpt.tokenizer, ckpt
