"""Model and training configuration, and the named recipes.

Configs are plain dataclasses that round-trip through JSON (`config.json` of a run, the `config`
entry of a checkpoint). Unknown keys in a stored config are ignored so older runs stay readable.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

#: "lstm-dense" and "conv-lstm" are the MIDI reports' networks (models/report_networks.py):
#: report 004's LSTM stack with BatchNorm and a Dense-256 head, report 002's Conv1D before LSTMs.
ARCHS = ("rnn", "lstm", "gru", "lstm-dense", "conv-lstm")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("constant", "cosine", "plateau", "step")
BATCHING = ("lanes", "walk")
#: The epoch limit of a run with neither an epoch limit nor a time budget.
AUTO_EPOCHS = 30
#: Automatic evaluation spacing under a time budget: this many evaluations over the budget.
EVALS_PER_BUDGET = 40
#: Fine-tuning (`--init`, the Training pane's Fine-tune) starts from a trained network: a lower
#: peak learning rate and a longer warm-up than from scratch keep the first steps from undoing
#: it (benchmarks/fine_tune.py).
FINE_TUNE_LR = 1e-3
FINE_TUNE_WARMUP = 100


@dataclass
class ModelConfig:
    """Shape of a character-level recurrent network."""

    arch: str = "lstm"
    hidden: int = 512
    layers: int = 1
    # 0 means one-hot input (the reports' choice); otherwise a learned embedding of this size.
    embedding: int = 64
    # Dropout between recurrent layers and before the output layer. 0.5 (with AdamW's weight
    # decay 0.1) beat 0.25 with Adam by 0.02-0.04 nats/char in 15 CPU-minutes on collections of
    # 800-2,000 tunes, and lost 0.025 on Essen's 8,500 (benchmarks/README.md).
    dropout: float = 0.5
    # The reports' MIDI input: each id divided by the vocabulary size, one number per step
    # (their Classical-Piano-Composer ancestor). Only the report architectures read it; it
    # overrides `embedding`.
    scalar_input: bool = False

    def validate(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}, not {self.arch!r}")
        if self.hidden < 1 or self.layers < 1 or self.embedding < 0:
            raise ValueError("hidden and layers must be >= 1 and embedding >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout}")
        if self.scalar_input and self.arch not in REPORT_ARCHS:
            raise ValueError(f"scalar input is for the report architectures ({REPORT_ARCHS})")


#: The architectures built by models/report_networks.py rather than CharRNN.
REPORT_ARCHS = ("lstm-dense", "conv-lstm")


@dataclass
class TrainConfig:
    """Everything that decides how a run trains, apart from the data itself."""

    optimizer: str = "adamw"
    lr: float = 3e-3
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 0.1
    schedule: str = "cosine"
    # Steps of linear warm-up at the start of the schedule.
    warmup_steps: int = 20
    # Final learning rate of the cosine schedule, as a fraction of `lr`.
    min_lr_ratio: float = 0.05
    # Plateau/step schedules multiply the learning rate by this.
    lr_decay: float = 0.5
    # 0 disables gradient clipping.
    grad_clip: float = 1.0
    # 32 x 64 measured best in the first minutes on 2 CPU cores (more updates per second;
    # benchmarks/quality.py), still large enough for the fused kernels to run near peak.
    batch_size: int = 32
    seq_len: int = 64
    # "lanes": each epoch shuffles tunes into `batch_size` contiguous streams (TBPTT, state
    # carried). "walk": the reports' in-order walk, shuffled once, state reset every batch.
    batching: str = "lanes"
    # The epoch limit; the cosine schedule spans it (or the time budget, if that ends first).
    # 0 = automatic: no limit when a time budget is set (the budget ends the run and the
    # schedule decays towards its end), else AUTO_EPOCHS.
    epochs: int = 0
    # Seconds of training (evaluations included); 0 means no limit.
    time_budget: float = 0.0
    # Early stopping: stop after this many evaluations in which the smoothed validation loss
    # (the mean of the last `smooth_evals` evaluations) did not beat its best by `min_delta`
    # nats/char; 0 disables. Smoothing keeps one noisy evaluation from ending a run that is
    # still improving; a run that overfits still stops.
    patience: int = 5
    smooth_evals: int = 3
    min_delta: float = 0.001
    # Evaluate every N optimisation steps; `eval_unit="epochs"` reads it as epochs. 0 = automatic:
    # EVALS_PER_BUDGET times over a time budget, else twice an epoch (10-500 steps apart).
    eval_every: int = 0
    eval_unit: str = "steps"
    val_fraction: float = 0.1
    seed: int = 1234
    device: str = "auto"
    # Mixed precision on CUDA ("auto" = on when the device is CUDA).
    amp: str = "auto"
    # How many characters the sample shown at each evaluation has (0 = none).
    sample_chars: int = 300
    # Threads torch may use on the CPU (0 = torch's default).
    threads: int = 0

    def validate(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.batching not in BATCHING:
            raise ValueError(f"batching must be one of {', '.join(BATCHING)}")
        if self.eval_unit not in ("steps", "epochs"):
            raise ValueError("eval unit must be 'steps' or 'epochs'")
        if self.lr <= 0 or self.batch_size < 1 or self.seq_len < 1:
            raise ValueError("lr, batch size and sequence length must be positive")
        if self.epochs < 0:
            raise ValueError("epochs must be positive (or 0 for automatic)")
        if self.smooth_evals < 1 or self.min_delta < 0:
            raise ValueError("smoothing must be >= 1 evaluation and min delta >= 0")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"validation fraction must be in (0, 1), not {self.val_fraction}")

    def epoch_limit(self) -> int | None:
        """The epochs a run may take: None when only the time budget limits it."""
        if self.epochs:
            return self.epochs
        return None if self.time_budget > 0 else AUTO_EPOCHS


@dataclass
class RunConfig:
    """What `config.json` of a run holds."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    recipe: str = "default"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        return cls(
            model=_from_dict(ModelConfig, data.get("model", {})),
            train=_from_dict(TrainConfig, data.get("train", {})),
            recipe=str(data.get("recipe", "custom")),
        )

    def validate(self) -> None:
        self.model.validate()
        self.train.validate()


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    """`cls` from stored settings (unknown keys ignored); TypeError naming the setting when a
    value is not of its default's type, so a damaged or hand-edited file fails here, in words,
    rather than deep inside torch (`"hidden": []`)."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} settings must be an object, not {type(data).__name__}")
    defaults = cls()
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            _check_type(f.name, data[f.name], getattr(defaults, f.name))
            values[f.name] = data[f.name]
    return cls(**values)


def _check_type(name: str, value: Any, default: Any) -> None:
    kind = type(default)
    if isinstance(value, bool) and kind is not bool:
        ok = False  # JSON's true is no number
    elif kind is float:
        ok = isinstance(value, int | float)  # JSON writes 1.0 as 1 in hand-made files
    else:
        ok = isinstance(value, kind)
    if not ok:
        plain = isinstance(value, int | float | str | None)
        shown = repr(value)[:40] if plain else f"a {type(value).__name__}"  # one short line
        raise TypeError(f"setting {name!r} must be a {kind.__name__}, not {shown}")


# What every reports-* recipe trains with: the reports' Keras fits (constant learning rate, no
# warm-up, clipping or weight decay, an in-order walk, one evaluation per epoch, early stopping
# after two rises of the raw validation loss). Each recipe adds its optimizer, rate and batch.
_REPORTS_TRAIN: dict[str, Any] = {
    "weight_decay": 0.0,
    "schedule": "constant",
    "warmup_steps": 0,
    "grad_clip": 0.0,
    "batching": "walk",
    "patience": 2,
    "smooth_evals": 1,
    "min_delta": 0.0,
    "eval_unit": "epochs",
    "eval_every": 1,
}

# Named recipes: overrides on top of the defaults. "default" is the recommended one (measured in
# benchmarks/quality.py); the others rebuild the student reports' setups for comparison.
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "default": {"model": {}, "train": {}},
    "reports-gru": {
        # Report 000's final model: one-hot input, GRU-100, SGD-Nesterov 0.01/0.9, batch 15 x 25,
        # in-order walk, early stop after validation loss rose two checks in a row.
        "model": {"arch": "gru", "hidden": 100, "layers": 1, "embedding": 0, "dropout": 0.0},
        "train": {
            **_REPORTS_TRAIN,
            "optimizer": "sgd",
            "lr": 0.01,
            "momentum": 0.9,
            "nesterov": True,
            "batch_size": 15,
            "seq_len": 25,
        },
    },
    "reports-lstm": {
        # Report 003: one-hot LSTM-100 with Adam.
        "model": {"arch": "lstm", "hidden": 100, "layers": 1, "embedding": 0, "dropout": 0.0},
        "train": {
            **_REPORTS_TRAIN,
            "optimizer": "adam",
            "lr": 1e-3,
            "batch_size": 15,
            "seq_len": 25,
        },
    },
    "reports-rnn": {
        # Report 001: SimpleRNN-100 (tanh) with RMSprop.
        "model": {"arch": "rnn", "hidden": 100, "layers": 1, "embedding": 0, "dropout": 0.0},
        "train": {
            **_REPORTS_TRAIN,
            "optimizer": "rmsprop",
            "lr": 1e-3,
            "batch_size": 15,
            "seq_len": 25,
        },
    },
    "reports-004-midi": {
        # Report 004 (MIDI notes and chords): the id / vocabulary size as input, 3 x LSTM-512,
        # BatchNorm, Dropout, Dense-256 (ReLU), Dropout, softmax; Keras' RMSprop (lr 1e-3),
        # batch 128 of windows of 100 with the state reset for each. Its ancestor's recurrent
        # dropout of 0.3 is not in the report (nor in torch's fused LSTM); 0.3 is its Dropout.
        "model": {
            "arch": "lstm-dense",
            "hidden": 512,
            "layers": 3,
            "embedding": 0,
            "dropout": 0.3,
            "scalar_input": True,
        },
        "train": {
            **_REPORTS_TRAIN,
            "optimizer": "rmsprop",
            "lr": 1e-3,
            "batch_size": 128,
            "seq_len": 100,
        },
    },
    "reports-002-midi": {
        # Report 002's best model ("Model 1"): Conv1D (256 filters, kernel 3), 2 x LSTM-256,
        # Dropout, softmax, on windows of 100. The report names neither optimizer nor batch
        # size: Keras' Adam defaults and report 004's batch of 128 stand in. "Dropout with
        # high keep-probability produced the best results": 0.2.
        "model": {
            "arch": "conv-lstm",
            "hidden": 256,
            "layers": 2,
            "embedding": 0,
            "dropout": 0.2,
            "scalar_input": True,
        },
        "train": {
            **_REPORTS_TRAIN,
            "optimizer": "adam",
            "lr": 1e-3,
            "batch_size": 128,
            "seq_len": 100,
        },
    },
}


def fine_tune_model(initial: ModelConfig, dropout: float | None = None) -> ModelConfig:
    """The network of a fine-tune: the initial model's shape (its weights are loaded), with
    `dropout` or else the default recipe's. Fine-tuning the shipped model (dropout 0.25) on a
    collection of 650 tunes reached 1.023 nats/char with dropout 0.5 and 1.049 with its own
    0.25 (benchmarks/README.md): a small collection needs the regularisation more."""
    model = copy.deepcopy(initial)
    model.dropout = ModelConfig().dropout if dropout is None else dropout
    return model


def fine_tune_defaults(train: TrainConfig, lr_given: bool, warmup_given: bool) -> None:
    """Apply the fine-tuning learning rate and warm-up where the user set neither."""
    if not lr_given:
        train.lr = FINE_TUNE_LR
    if not warmup_given:
        train.warmup_steps = max(train.warmup_steps, FINE_TUNE_WARMUP)


def recipe(name: str) -> RunConfig:
    """The run configuration of a named recipe, or of a recipe file (`*.json`).

    A recipe file holds `{"model": {...}, "train": {...}}` overrides on top of the defaults, the
    same shape as `config.json` of a run (so a run's config can serve as a recipe).
    """
    if name.endswith(".json"):
        return _recipe_file(name)
    try:
        spec = RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r} (known: {', '.join(RECIPES)})") from None
    cfg = RunConfig(
        model=_from_dict(ModelConfig, spec["model"]),
        train=_from_dict(TrainConfig, spec["train"]),
        recipe=name,
    )
    return cfg


def _recipe_file(path: str) -> RunConfig:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the recipe file ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON recipe ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k, {}), dict) for k in ("model", "train")
    ):
        raise ValueError(f"{path}: a recipe is an object with 'model' and 'train' objects")
    try:
        cfg = RunConfig.from_dict(data)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    cfg.recipe = os.path.basename(path)
    return cfg
