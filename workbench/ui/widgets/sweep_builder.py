"""The sweep builder: pick one knob of a base configuration, type its values, see the runs planned.

The dialog only plans: `runs()` gives `(name, RunConfig)` pairs (see `workbench.sweep`) that the
training pane queues with `enqueue(...)`. Parsing happens on every keystroke so mistakes show
inline, next to the field, and OK stays disabled until the plan is valid.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from models.config import RunConfig
from workbench.sweep import SWEEPABLE, build_sweep, format_value, get_value, parse_values


def _suggestion(knob: str, base: RunConfig) -> str:
    """Example values for the placeholder: the choices, or around the base value."""
    spec = SWEEPABLE[knob]
    if spec.choices:
        return ", ".join(spec.choices)
    value = get_value(base, knob)
    if spec.kind is int:
        if knob == "seed":
            return ", ".join(str(value + i) for i in range(3))
        return ", ".join(str(v) for v in (max(1, value // 2), value, value * 2))
    if value > 0:
        return ", ".join(format_value(v) for v in (value / 3, value, value * 3))
    return "0, 0.1, 0.3"


class SweepBuilderDialog(QDialog):
    """Plans a sweep of one knob over typed values; `runs()` holds the plan after accept."""

    def __init__(self, base: RunConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SweepBuilderDialog")
        self.setWindowTitle("Build a sweep")
        self._base = base
        self._runs: list[tuple[str, RunConfig]] = []

        self.knob_combo = QComboBox()
        for name, spec in SWEEPABLE.items():
            self.knob_combo.addItem(f"{name} — {spec.help}", name)
        self.base_label = QLabel()
        self.values_edit = QLineEdit()
        self.values_edit.setClearButtonEnabled(True)
        self.prefix_edit = QLineEdit("sweep")
        self.prefix_edit.setToolTip("Run names are PREFIX-KNOB-VALUE, e.g. sweep-hidden-256")
        self.error_label = QLabel()
        self.error_label.setObjectName("sweep_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.plan_list = QListWidget()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Queue runs")

        form = QFormLayout()
        form.addRow("Vary", self.knob_combo)
        form.addRow("Base value", self.base_label)
        form.addRow("Values", self.values_edit)
        form.addRow("", self.error_label)
        form.addRow("Name prefix", self.prefix_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Planned runs (everything else as in the current settings):"))
        layout.addWidget(self.plan_list, 1)
        layout.addWidget(self.buttons)

        self.knob_combo.currentIndexChanged.connect(self._on_knob_combo_changed)
        self.values_edit.textChanged.connect(self._on_values_edit_changed)
        self.prefix_edit.textChanged.connect(self._on_values_edit_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._on_knob_combo_changed(0)

    # -- public API --------------------------------------------------------------------------

    def knob(self) -> str:
        return self.knob_combo.currentData()

    def set_knob(self, name: str) -> None:
        self.knob_combo.setCurrentIndex(self.knob_combo.findData(name))

    def runs(self) -> list[tuple[str, RunConfig]]:
        """The planned `(name, config)` pairs; empty while the input is invalid."""
        return list(self._runs)

    def ok_enabled(self) -> bool:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()

    # -- slots -------------------------------------------------------------------------------

    def _on_knob_combo_changed(self, _index: int) -> None:
        knob = self.knob()
        self.base_label.setText(format_value(get_value(self._base, knob)))
        self.values_edit.setPlaceholderText(_suggestion(knob, self._base))
        self._replan()

    def _on_values_edit_changed(self, _text: str) -> None:
        self._replan()

    # -- planning ----------------------------------------------------------------------------

    def _replan(self) -> None:
        knob = self.knob()
        self.plan_list.clear()
        self._runs = []
        error = ""
        text = self.values_edit.text()
        # Nothing typed yet is not a mistake: no red text, OK simply waits.
        if text.strip():
            try:
                values = parse_values(knob, text)
                self._runs = build_sweep(self._base, knob, values, self.prefix_edit.text())
            except ValueError as exc:
                error = str(exc)
        for name, cfg in self._runs:
            self.plan_list.addItem(f"{name}    {knob} = {format_value(get_value(cfg, knob))}")
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self._runs))
