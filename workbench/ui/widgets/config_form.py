"""The training-configuration form: every field of ModelConfig and TrainConfig, grouped.

The form is built from the dataclass fields, so a knob added to the engine shows up here (in
"Other", with a plain editor) until someone gives it a label and a range in `_FIELDS`. The
validation fraction and seed are not shown: they belong to the session's data split.

GPU names need torch, whose import takes seconds: the device list is filled in by a background
thread after the form is first shown, so it never delays the application's start-up.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from models.config import (
    ARCHS,
    BATCHING,
    OPTIMIZERS,
    RECIPES,
    SCHEDULES,
    ModelConfig,
    RunConfig,
    TrainConfig,
    recipe,
)

# Friendly names of the recipes; a recipe missing here is listed under its key.
RECIPE_NAMES = {
    "default": "Recommended default",
    "reports-gru": "Report: GRU-100, SGD-Nesterov, batch 15×25",
    "reports-rnn": "Report: SimpleRNN-100, RMSprop",
    "reports-lstm": "Report: LSTM-100, Adam",
    "reports-004-midi": "MIDI report 004: 3×LSTM-512 + BatchNorm + Dense-256, RMSprop",
    "reports-002-midi": "MIDI report 002: Conv1D + 2×LSTM-256, Adam",
}
CUSTOM = "custom"
# Set from the session's split, not from the form.
SESSION_FIELDS = ("val_fraction", "seed")
# Where a run trains, not how: changing these keeps the chosen preset.
MACHINE_FIELDS = ("device", "amp", "threads")


@dataclass(frozen=True)
class _Field:
    label: str
    group: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, text)
    lo: float = 0
    hi: float = 1_000_000
    decimals: int = 0  # > 0 for floats
    step: float = 1
    special: str = ""  # text shown at the minimum (0 = off/auto/...)
    suffix: str = ""
    scientific: bool = False
    tip: str = ""


_FIELDS: dict[str, _Field] = {
    "arch": _Field(
        "Architecture",
        "Model",
        (
            ("rnn", "SimpleRNN (tanh)"),
            ("lstm", "LSTM"),
            ("gru", "GRU"),
            ("lstm-dense", "LSTM stack + Dense (MIDI report 004)"),
            ("conv-lstm", "Conv1D + LSTM (MIDI report 002)"),
        ),
    ),
    "hidden": _Field("Hidden units", "Model", lo=1, hi=8192),
    "layers": _Field("Layers", "Model", lo=1, hi=16),
    "embedding": _Field(
        "Embedding",
        "Model",
        hi=4096,
        special="One-hot",
        tip="Size of a learned character (or event) embedding; one-hot input at 0",
    ),
    "dropout": _Field("Dropout", "Model", hi=0.95, decimals=2, step=0.05),
    "scalar_input": _Field(
        "Scalar input",
        "Model",
        tip="The MIDI reports' input: each event's id divided by the vocabulary size, one "
        "number a step (report architectures only; overrides the embedding)",
    ),
    "optimizer": _Field(
        "Optimizer",
        "Optimisation",
        (
            ("sgd", "SGD"),
            ("adam", "Adam"),
            ("adamw", "AdamW"),
            ("rmsprop", "RMSprop"),
            ("adagrad", "Adagrad"),
        ),
    ),
    "lr": _Field("Learning rate", "Optimisation", lo=1e-7, hi=10, scientific=True),
    "momentum": _Field("Momentum (SGD)", "Optimisation", hi=0.999, decimals=3, step=0.01),
    "nesterov": _Field("Nesterov (SGD)", "Optimisation"),
    "weight_decay": _Field("Weight decay", "Optimisation", hi=1, scientific=True),
    "schedule": _Field(
        "Schedule",
        "Optimisation",
        (
            ("constant", "Constant"),
            ("cosine", "Cosine"),
            ("plateau", "Decay on plateau"),
            ("step", "Step decay"),
        ),
    ),
    "warmup_steps": _Field("Warm-up steps", "Optimisation", special="None"),
    "min_lr_ratio": _Field("Final LR ratio (cosine)", "Optimisation", hi=1, decimals=3, step=0.01),
    "lr_decay": _Field(
        "LR decay factor",
        "Optimisation",
        lo=0.01,
        hi=1,
        decimals=3,
        step=0.05,
        tip="What the plateau and step schedules multiply the learning rate by",
    ),
    "grad_clip": _Field(
        "Gradient clip", "Optimisation", hi=1000, decimals=2, step=0.5, special="Off"
    ),
    "batch_size": _Field("Batch size", "Optimisation", lo=1, hi=4096),
    "seq_len": _Field("Sequence length", "Optimisation", lo=1, hi=4096),
    "batching": _Field(
        "Batching",
        "Optimisation",
        (("lanes", "Lanes (state carried)"), ("walk", "Walk (reports' in-order)")),
    ),
    "epochs": _Field(
        "Epochs",
        "Run",
        hi=100_000,
        special="Auto",
        tip="Auto: no limit with a time budget (the budget ends the run), else 30",
    ),
    "time_budget": _Field(
        "Time budget", "Run", hi=1e7, decimals=0, step=60, special="No limit", suffix=" s"
    ),
    "patience": _Field(
        "Patience",
        "Run",
        hi=1000,
        special="Off",
        tip="Stop after this many evaluations without a new best smoothed validation loss",
    ),
    "smooth_evals": _Field(
        "Smoothing (evaluations)",
        "Run",
        lo=1,
        hi=100,
        tip="Early stopping judges the mean validation loss of this many latest evaluations",
    ),
    "min_delta": _Field(
        "Minimum improvement",
        "Run",
        hi=10,
        decimals=4,
        step=0.001,
        tip="Nats per character (or event) the smoothed validation loss must improve by",
    ),
    "eval_every": _Field("Evaluate every", "Run", special="Auto"),
    "eval_unit": _Field("Evaluation unit", "Run", (("steps", "steps"), ("epochs", "epochs"))),
    "sample_chars": _Field(
        "Sample length",
        "Run",
        hi=100_000,
        special="None",
        tip="Characters (or events, for MIDI) of the sample shown at each evaluation",
    ),
    "device": _Field("Device", "Run", (("auto", "Auto (GPU if present)"), ("cpu", "CPU"))),
    "amp": _Field(
        "Mixed precision", "Run", (("auto", "Auto (on for CUDA)"), ("on", "On"), ("off", "Off"))
    ),
    "threads": _Field("CPU threads", "Run", hi=256, special="Default"),
}
GROUPS = ("Model", "Optimisation", "Run", "Other")
# Fields of the engine that share a row with the previous one.
_SAME_ROW = {"eval_unit": "eval_every"}

# The engine's own lists of choices stay authoritative: a value added there and not here still
# appears in the combo, under its key.
_ENGINE_CHOICES = {
    "arch": ARCHS,
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "batching": BATCHING,
}


class _ScientificSpinBox(QDoubleSpinBox):
    """A spin box for rates (3e-3): free-form text, and steps that double or halve."""

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # QDoubleSpinBox rounds values to `decimals`; rates need far more than the display shows.
        self.setDecimals(12)
        self.setRange(lo, hi)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            value = float(text)
        except ValueError:
            # "1e-" or "" may become a number while the user types.
            state = QValidator.State.Intermediate
        else:
            ok = self.minimum() <= value <= self.maximum()
            state = QValidator.State.Acceptable if ok else QValidator.State.Intermediate
        return state, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if value <= 0:
            value = max(self.minimum(), 1e-5) if steps > 0 else 0.0
        else:
            value *= 2.0**steps
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def _detect_gpus() -> list[str]:
    """Names of the CUDA GPUs torch sees (empty without CUDA or on any failure)."""
    try:
        import torch

        if not torch.cuda.is_available():
            return []
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver must not break the form
        return []


_gpu_lock = threading.Lock()
_gpu_names: list[list[str]] = []  # filled once per process by the detection thread
_gpu_thread: threading.Thread | None = None


def _start_gpu_detection() -> None:
    global _gpu_thread
    with _gpu_lock:
        if _gpu_thread is None:
            # The thread never touches Qt: the form polls for the result on its own timer.
            # Not a daemon: a daemon thread still importing torch when the interpreter shuts
            # down (the app quit within a second or two of start) crashed it with SIGSEGV.
            # Python joins this one before finalising, at most the rest of the import.
            _gpu_thread = threading.Thread(
                target=lambda: _gpu_names.append(_detect_gpus()), name="gpu-detect", daemon=False
            )
            _gpu_thread.start()


class ConfigForm(QWidget):
    """Presets, run name and one editor per configuration field."""

    config_edited = Signal()  # the user changed a field or chose a preset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ConfigForm")
        self.editors: dict[str, QWidget] = {}  # "model.hidden", "train.lr", ...
        self._recipe = "default"
        self._hidden: dict[str, Any] = {}  # session fields, kept for a faithful round trip
        self._filling = False
        self._gpus_shown = False

        layout = QVBoxLayout(self)
        top = QFormLayout()
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("preset_combo")
        for key in RECIPES:
            self.preset_combo.addItem(RECIPE_NAMES.get(key, key), key)
        self.preset_combo.addItem("Custom", CUSTOM)
        self.preset_combo.currentIndexChanged.connect(self._on_preset_combo_changed)
        top.addRow("Preset", self.preset_combo)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("run_name_edit")
        self.name_edit.setPlaceholderText("date, time and architecture")
        top.addRow("Run name", self.name_edit)
        layout.addLayout(top)

        forms: dict[str, QFormLayout] = {}
        for group in GROUPS:
            box = QGroupBox(group)
            box.setObjectName(f"{group.lower()}_group")
            forms[group] = QFormLayout(box)
            layout.addWidget(box)
        self._rows: dict[str, QHBoxLayout] = {}
        for section, cls in (("model", ModelConfig), ("train", TrainConfig)):
            defaults = cls()
            for f in dataclasses.fields(cls):
                if f.name not in SESSION_FIELDS:
                    self._add_editor(forms, section, f.name, getattr(defaults, f.name))
        for form in forms.values():
            form.parentWidget().setVisible(form.rowCount() > 0)
        layout.addStretch(1)

        self._gpu_timer = QTimer(self)
        self._gpu_timer.setInterval(100)
        self._gpu_timer.timeout.connect(self._on_gpu_timer_timeout)
        self.set_config(RunConfig())

    # -- building --------------------------------------------------------------------------

    def _add_editor(self, forms: dict[str, QFormLayout], section: str, name: str, default: Any):
        spec = _FIELDS.get(name) or _Field(name.replace("_", " ").capitalize(), "Other")
        editor = _make_editor(spec, name, default)
        editor.setObjectName(f"{section}_{name}")
        if spec.tip:
            editor.setToolTip(spec.tip)
        self.editors[f"{section}.{name}"] = editor
        _changed_signal(editor).connect(lambda *_, n=name: self._on_editor_changed(n))
        partner = _SAME_ROW.get(name)
        if partner in self._rows:
            # "Evaluate every [10] [steps]": one row for the number and its unit.
            self._rows[partner].addWidget(editor)
        elif name in _SAME_ROW.values():
            holder = QWidget()
            self._rows[name] = row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(editor, 1)
            forms[spec.group].addRow(spec.label, holder)
        else:
            forms[spec.group].addRow(spec.label, editor)

    # -- public API ------------------------------------------------------------------------

    def current_config(self) -> RunConfig:
        values: dict[str, dict[str, Any]] = {"model": {}, "train": dict(self._hidden)}
        for key, editor in self.editors.items():
            section, name = key.split(".")
            values[section][name] = _value(editor)
        return RunConfig(
            model=ModelConfig(**values["model"]),
            train=TrainConfig(**values["train"]),
            recipe=self._recipe,
        )

    def set_config(self, cfg: RunConfig) -> None:
        self._filling = True
        try:
            for section, part in (("model", cfg.model), ("train", cfg.train)):
                for f in dataclasses.fields(part):
                    value = getattr(part, f.name)
                    if f.name in SESSION_FIELDS:
                        self._hidden[f.name] = value
                    else:
                        _set_value(self.editors[f"{section}.{f.name}"], value)
            self._recipe = cfg.recipe
            index = self.preset_combo.findData(cfg.recipe if cfg.recipe in RECIPES else CUSTOM)
            self.preset_combo.setCurrentIndex(index)
        finally:
            self._filling = False

    def apply_preset(self, key: str) -> None:
        """Fill the form with a recipe, keeping the device, threads and session fields."""
        cfg = recipe(key)
        now = self.current_config()
        for name in (*MACHINE_FIELDS, *SESSION_FIELDS):
            setattr(cfg.train, name, getattr(now.train, name))
        self.set_config(cfg)

    def run_name(self) -> str:
        return self.name_edit.text().strip()

    def set_run_name(self, name: str) -> None:
        self.name_edit.setText(name)

    def set_gpus(self, names: list[str]) -> None:
        """One device entry per CUDA GPU, after Auto and CPU."""
        combo: QComboBox = self.editors["train.device"]
        current = combo.currentData()
        self._filling = True
        try:
            for i in reversed(range(combo.count())):
                if str(combo.itemData(i)).startswith("cuda"):
                    combo.removeItem(i)
            for i, name in enumerate(names):
                combo.addItem(f"GPU {i}: {name}", f"cuda:{i}")
            _set_value(combo, current)
        finally:
            self._filling = False

    # -- events ----------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._gpus_shown:
            self._gpus_shown = True
            # After this event: the window paints before torch starts importing.
            # The timer as context: if the form is deleted first, the call is dropped.
            QTimer.singleShot(0, self._gpu_timer, self._gpu_timer.start)
            QTimer.singleShot(0, _start_gpu_detection)

    def _on_gpu_timer_timeout(self) -> None:
        if _gpu_names:
            self._gpu_timer.stop()
            self.set_gpus(_gpu_names[0])

    def _on_preset_combo_changed(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        if self._filling or key == CUSTOM:
            return
        self.apply_preset(key)
        self.config_edited.emit()

    def _on_editor_changed(self, name: str) -> None:
        if self._filling:
            return
        if name not in MACHINE_FIELDS and self._recipe != CUSTOM:
            self._recipe = CUSTOM
            self._filling = True
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(CUSTOM))
            self._filling = False
        self.config_edited.emit()


# -- editors: one kind per field type --------------------------------------------------------


def _make_editor(spec: _Field, name: str, default: Any) -> QWidget:
    if spec.choices or name in _ENGINE_CHOICES or isinstance(default, str):
        combo = QComboBox()
        known = {v for v, _ in spec.choices}
        for value, text in spec.choices:
            combo.addItem(text, value)
        for value in _ENGINE_CHOICES.get(name, ()):
            if value not in known:
                combo.addItem(value, value)
        return combo
    if isinstance(default, bool):
        return QCheckBox()
    if isinstance(default, int):
        spin = QSpinBox()
        spin.setRange(int(spec.lo), int(min(spec.hi, 2**31 - 1)))
        spin.setSingleStep(int(spec.step))
    elif spec.scientific:
        spin = _ScientificSpinBox(spec.lo, spec.hi)
    else:
        spin = QDoubleSpinBox()
        spin.setDecimals(spec.decimals or 4)
        spin.setRange(spec.lo, spec.hi)
        spin.setSingleStep(spec.step)
    if spec.special:
        spin.setSpecialValueText(spec.special)
    if spec.suffix:
        spin.setSuffix(spec.suffix)
    return spin


def _changed_signal(editor: QWidget):
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    if isinstance(editor, QCheckBox):
        return editor.toggled
    return editor.valueChanged


def _value(editor: QWidget) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    return editor.value()


def _set_value(editor: QWidget, value: Any) -> None:
    if isinstance(editor, QComboBox):
        index = editor.findData(value)
        if index < 0:
            # A value this machine does not offer (cuda:1 on a laptop): keep it, marked.
            editor.addItem(f"{value} (not available here)", value)
            index = editor.count() - 1
        editor.setCurrentIndex(index)
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QSpinBox):
        editor.setValue(int(value))
    else:
        editor.setValue(float(value) if math.isfinite(float(value)) else 0.0)
