"""The model chooser: the shipped model, every run's checkpoints, or any `.pt` file.

A combo box lists what `workbench.generation.list_models` finds (refreshed when the widget is
shown and on Refresh, since training adds runs while the app is open); Browse… adds any file.
Choosing an entry emits `model_chosen(Path)`; `set_current` follows a choice made elsewhere
(the training pane or run history set the session's checkpoint) without emitting.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from workbench.generation import ModelEntry, list_models

NONE_LABEL = "— choose a model —"


class ModelChooser(QWidget):
    model_chosen = Signal(object)  # Path

    def __init__(
        self,
        runs_root: Path | None,
        default_model: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runs_root = runs_root
        self._default = default_model
        # Files the user browsed to, kept in the list across refreshes.
        self._browsed: list[Path] = []
        self._current: Path | None = None
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(28)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Look for new runs and checkpoints")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Use any checkpoint (.pt) file")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.browse_button)
        self.combo.activated.connect(self._on_combo_activated)
        self.refresh_button.clicked.connect(self.refresh)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.refresh()

    def set_runs_root(self, root: Path | None) -> None:
        self._runs_root = root
        self.refresh()

    def entries(self) -> list[ModelEntry]:
        found = list_models(self._runs_root, self._default)
        known = {e.path for e in found}
        for path in self._browsed:
            if path not in known:
                found.append(ModelEntry(f"{path.name} ({path.parent})", path, "file"))
        return found

    def refresh(self) -> None:
        """Re-read the runs folder; the current choice stays selected."""
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(NONE_LABEL, None)
        for entry in self.entries():
            self.combo.addItem(entry.label, str(entry.path))
            self.combo.setItemData(
                self.combo.count() - 1, str(entry.path), Qt.ItemDataRole.ToolTipRole
            )
        self.combo.blockSignals(False)
        self._select(self._current)

    def current_path(self) -> Path | None:
        return self._current

    def set_current(self, path: Path | None) -> None:
        """Show `path` as the choice (adding it when it is not listed); emits nothing."""
        path = Path(path) if path is not None else None
        self._current = path
        if path is not None and self.combo.findData(str(path)) < 0:
            self._browsed.append(path)
            self.refresh()
            return
        self._select(path)

    def choose(self, path: Path) -> None:
        """Choose `path` as if the user picked it (adds it to the list)."""
        self.set_current(path)
        self.model_chosen.emit(Path(path))

    def _select(self, path: Path | None) -> None:
        index = self.combo.findData(str(path)) if path is not None else 0
        self.combo.setCurrentIndex(max(index, 0))

    def _on_combo_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data is None:
            return
        path = Path(data)
        self._current = path
        self.model_chosen.emit(path)

    def _on_browse_clicked(self) -> None:
        start = str(self._current.parent) if self._current else str(self._runs_root or "")
        name, _ = QFileDialog.getOpenFileName(
            self, "Choose a checkpoint", start, "Checkpoints (*.pt);;All files (*)"
        )
        if name:
            self.choose(Path(name))

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)
