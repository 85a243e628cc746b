"""The Generation pane's sampling knobs: temperature, top-k, top-p, argmax, length, variations,
seed and meter-aware decoding, kept in QSettings under `generation/`.

One group box that knows what the knobs mean (`sampling_params`, the seed to use next) and how
they follow the model's kind: the length is in characters for an ABC model and in events for a
MIDI event model, each remembered on its own, and meter-aware decoding is for ABC only. An ABC
tune ends where the model ends it (the length caps it); an event piece runs to its length
unless "may end sooner" is ticked, as a length in seconds does in the CLI. The
pane lays it out and starts the sampling.
"""

from __future__ import annotations

import random

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)

from workbench.generation_defaults import DEFAULT_EVENTS, DEFAULT_MAX_CHARS
from workbench.ui.settings_values import read_bool, read_float, read_int

TEMP_STEP = 0.05
TEMP_MIN, TEMP_MAX = 0.1, 2.0
MAX_SEED = 2**31 - 1
#: The length's setting and default, in characters (ABC) and in events (MIDI), as `workbench
#: generate`'s.
_LENGTHS = {"chars": ("max_chars", DEFAULT_MAX_CHARS), "events": ("max_events", DEFAULT_EVENTS)}
#: What an event model cannot use, said where the control is disabled or hidden.
ABC_ONLY = "For ABC models only: this model writes MIDI events"
_GROUP = "generation/"


def slider_to_temperature(value: int) -> float:
    return round(value * TEMP_STEP, 2)


def temperature_to_slider(temperature: float) -> int:
    return round(temperature / TEMP_STEP)


class SamplingKnobs(QGroupBox):
    """The knobs; `changed` after the user changes any of them (they are saved by then)."""

    changed = Signal()

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__("Sampling", parent)
        self.settings = settings
        self._kind = "chars"
        self.temp_slider = QSlider(Qt.Orientation.Horizontal)
        self.temp_slider.setRange(temperature_to_slider(TEMP_MIN), temperature_to_slider(TEMP_MAX))
        self.temp_slider.setSingleStep(1)
        self.temp_slider.setPageStep(4)
        self.temp_label = QLabel()
        self.temp_label.setMinimumWidth(40)
        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(0, 1000)
        self.top_k_spin.setSpecialValueText("off")
        self.top_p_spin = QDoubleSpinBox()
        self.top_p_spin.setRange(0.05, 1.0)
        self.top_p_spin.setSingleStep(0.05)
        self.top_p_spin.setDecimals(2)
        self.top_p_spin.setToolTip("Nucleus sampling; 1.00 = off")
        self.length_spin = QSpinBox()
        self.length_spin.setRange(1, 100_000)
        self.length_spin.setSingleStep(100)
        self.length_spin.setSuffix(" chars")
        self.num_spin = QSpinBox()
        self.num_spin.setRange(1, 64)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.random_seed_check = QCheckBox("random")
        self.seed_used_label = QLabel()
        self.seed_used_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meter_aware_check = QCheckBox("Meter-aware (bars always fit M:/L:)")
        self.end_early_check = QCheckBox("may end sooner")
        self.end_early_check.setToolTip(
            "Let the model end a piece before the length, where it learnt that pieces end "
            "(unticked, each piece runs to the length)"
        )
        self.argmax_check = QCheckBox("Argmax")
        self.argmax_check.setToolTip(
            "Always the most likely next token, the MIDI reports' mode (temperature, top-k and "
            "top-p do not apply; every variation is the same)"
        )
        self._lay_out()
        self._restore()
        self.set_kind("chars")
        self.temp_slider.valueChanged.connect(self._on_temp_slider_changed)
        self.random_seed_check.toggled.connect(self._on_random_seed_toggled)
        self.argmax_check.toggled.connect(self._on_argmax_toggled)
        for signal in (
            self.top_k_spin.valueChanged,
            self.top_p_spin.valueChanged,
            self.length_spin.valueChanged,
            self.num_spin.valueChanged,
            self.seed_spin.valueChanged,
            self.meter_aware_check.toggled,
            self.end_early_check.toggled,
        ):
            signal.connect(self._on_changed)

    def _lay_out(self) -> None:
        knobs = QFormLayout(self)
        temp_row = QHBoxLayout()
        temp_row.addWidget(self.temp_slider, 1)
        temp_row.addWidget(self.temp_label)
        knobs.addRow("Temperature", temp_row)
        kp_row = QHBoxLayout()
        kp_row.addWidget(self.top_k_spin)
        kp_row.addWidget(QLabel("Top-p"))
        kp_row.addWidget(self.top_p_spin)
        kp_row.addWidget(self.argmax_check)
        kp_row.addStretch(1)
        knobs.addRow("Top-k", kp_row)
        len_row = QHBoxLayout()
        len_row.addWidget(self.length_spin)
        len_row.addWidget(self.end_early_check)
        len_row.addWidget(QLabel("Variations"))
        len_row.addWidget(self.num_spin)
        len_row.addStretch(1)
        knobs.addRow("Length", len_row)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin)
        seed_row.addWidget(self.random_seed_check)
        seed_row.addWidget(self.seed_used_label, 1)
        knobs.addRow("Seed", seed_row)
        knobs.addRow("", self.meter_aware_check)

    # -- what the knobs say ----------------------------------------------------------------

    def temperature(self) -> float:
        return slider_to_temperature(self.temp_slider.value())

    def sampling_params(self, seed: int):  # -> models.sample.SamplingParams
        # torch is already imported here: Generate is enabled only once a model has loaded.
        from models.sample import SamplingParams

        argmax = self.argmax_check.isChecked()
        length = self.length_spin.value()
        # An ABC tune ends where the model ends it (the length only caps it); an event piece
        # runs to the length unless the model may end it sooner (see `set_kind`).
        runs_to_length = self._kind == "events" and not self.end_early_check.isChecked()
        return SamplingParams(
            temperature=self.temperature(),
            # Argmax is top-k 1: the most likely token, whatever the temperature.
            top_k=1 if argmax else self.top_k_spin.value(),
            top_p=1.0 if argmax else self.top_p_spin.value(),
            max_chars=length,
            seed=seed,
            min_chars=length if runs_to_length else 0,
        )

    def next_seed(self) -> int:
        """The seed for the next generation (a new one when "random" is ticked), shown."""
        if self.random_seed_check.isChecked():
            seed = random.randrange(MAX_SEED)
            # Shown in the (disabled) spin box too: untick "random" to sample the same again.
            self.seed_spin.blockSignals(True)
            self.seed_spin.setValue(seed)
            self.seed_spin.blockSignals(False)
        else:
            seed = self.seed_spin.value()
        self.seed_used_label.setText(f"used: {seed}")
        return seed

    def set_kind(self, kind: str) -> None:
        """Follow a model that writes `kind` ("chars" or "events"): the length's unit and
        remembered value, and meter-aware decoding (ABC only)."""
        if kind != self._kind:
            self.save()  # the length of the kind we leave
        self._kind = kind
        events = kind == "events"
        self.meter_aware_check.setEnabled(not events)
        self.meter_aware_check.setToolTip(
            ABC_ONLY
            if events
            else "While sampling, mask notes that would overfill the bar and force a bar line "
            "when it is full; end only on the key's tonic after 8 bars"
        )
        self.length_spin.setSuffix(" events" if events else " chars")
        self.length_spin.setToolTip(
            "Each piece's length (the model's own end waits for it unless it may end sooner)"
            if events
            else "The most characters a tune may take; it ends at its own end before that"
        )
        self.end_early_check.setVisible(events)
        self.length_spin.blockSignals(True)
        try:
            key, default = _LENGTHS[kind]
            top = self.length_spin.maximum()
            self.length_spin.setValue(read_int(self.settings, _GROUP + key, default, 1, top))
        finally:
            self.length_spin.blockSignals(False)

    # -- settings --------------------------------------------------------------------------

    def _restore(self) -> None:
        s, g = self.settings, _GROUP
        # Each value on its own: one the file spoils keeps its default, not the others'.
        temperature = read_float(s, g + "temperature", 1.0, TEMP_MIN, TEMP_MAX)
        self.temp_slider.setValue(temperature_to_slider(temperature))
        self.top_k_spin.setValue(read_int(s, g + "top_k", 0, 0, self.top_k_spin.maximum()))
        self.top_p_spin.setValue(read_float(s, g + "top_p", 1.0, 0.05, 1.0))
        self.length_spin.setValue(read_int(s, g + "max_chars", DEFAULT_MAX_CHARS, 1, 100_000))
        self.num_spin.setValue(read_int(s, g + "variations", 4, 1, self.num_spin.maximum()))
        self.seed_spin.setValue(read_int(s, g + "seed", 1234, 0, MAX_SEED))
        self.random_seed_check.setChecked(read_bool(s, g + "random_seed", True))
        self.meter_aware_check.setChecked(read_bool(s, g + "meter_aware", True))
        self.argmax_check.setChecked(read_bool(s, g + "argmax", False))
        self.end_early_check.setChecked(read_bool(s, g + "end_early", False))
        self.seed_spin.setEnabled(not self.random_seed_check.isChecked())
        self.temp_label.setText(f"{self.temperature():.2f}")
        self._enable_knobs()

    def save(self) -> None:
        s = self.settings
        s.beginGroup(_GROUP.rstrip("/"))
        s.setValue("temperature", self.temperature())
        s.setValue("top_k", self.top_k_spin.value())
        s.setValue("top_p", self.top_p_spin.value())
        # The length in characters for ABC models, in events for event models.
        s.setValue("max_chars" if self._kind == "chars" else "max_events", self.length_spin.value())
        s.setValue("argmax", self.argmax_check.isChecked())
        s.setValue("end_early", self.end_early_check.isChecked())
        s.setValue("variations", self.num_spin.value())
        s.setValue("seed", self.seed_spin.value())
        s.setValue("random_seed", self.random_seed_check.isChecked())
        s.setValue("meter_aware", self.meter_aware_check.isChecked())
        s.endGroup()

    # -- reacting --------------------------------------------------------------------------

    def _on_changed(self) -> None:
        self.save()
        self.changed.emit()

    def _on_temp_slider_changed(self, value: int) -> None:
        self.temp_label.setText(f"{slider_to_temperature(value):.2f}")
        self._on_changed()

    def _on_random_seed_toggled(self, checked: bool) -> None:
        self.seed_spin.setEnabled(not checked)
        self._on_changed()

    def _on_argmax_toggled(self, _checked: bool) -> None:
        self._enable_knobs()
        self._on_changed()

    def _enable_knobs(self) -> None:
        free = not self.argmax_check.isChecked()
        for knob in (self.temp_slider, self.top_k_spin, self.top_p_spin):
            knob.setEnabled(free)
