"""The run history: a table of every run under a folder, and their curves overlaid for comparison.

Each row is one run directory (`config.json` + `metrics.jsonl`, see `workbench.runs`). Checking
rows overlays their curves in one plot, one colour per run, the legend naming each run and the
settings in which the checked runs differ (what a sweep varied). Double-clicking a row asks for
the run to be replayed (`run_activated`); the training pane does that. "Follow" (the selected run)
and "Open run directory…" (any folder: one synced from a cluster) ask for a run to be followed
live (`follow_requested`). A run that another process is writing now (the CLI, a synced cluster
job: see `models.run_marker`) shows as "running", re-checked at every rescan.

A log of more than a few MB that has not been read yet (a long GPU run's) is read on a worker
thread (`workbench.ui.workers.run_reader`); its row says "reading…" until then.

The folder is rescanned on a "Refresh" click, when a QFileSystemWatcher sees runs appear or
vanish, and on a timer while the widget is visible (a running run's steps and best loss change
inside its own directory, which the watcher on the root does not report).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.runs import (
    Curves,
    CurvesTail,
    MetricsTail,
    RunInfo,
    is_running,
    read_curves,
    read_run,
    read_run_config,
)
from workbench.sweep import differing_knobs, knob_label
from workbench.ui.widgets.scrolling import AdaptiveSplitter
from workbench.ui.workers.run_reader import BACKGROUND_BYTES, ReadJob, RunReader, unread_bytes

# key -> (combo text, y attribute of Curves, x attribute for steps, x attribute for epochs)
METRICS: dict[str, tuple[str, str, str, str]] = {
    "val_loss": ("Validation loss", "val_loss", "eval_step", "eval_epoch"),
    "val_accuracy": ("Validation accuracy", "val_accuracy", "eval_step", "eval_epoch"),
    "loss": ("Training loss", "loss", "step", "epoch"),
    "accuracy": ("Training accuracy", "accuracy", "step", "epoch"),
}
X_AXES = {"steps": "Steps", "epochs": "Epochs"}
COLUMNS = (
    "Run",
    "Model",
    "Optimizer / lr",
    "Batch",
    "Dropout",
    "Steps",
    "Best val loss",
    "Best val acc",
    "Status",
    "Updated",
)
COL_RUN, COL_LOSS, COL_UPDATED = 0, 6, 9
_STATUS = {
    "epochs": "finished",
    "early_stop": "early stop",
    "stopped": "stopped",
    "time": "time budget",
    "incomplete": "incomplete",
    "reading": "reading…",
    "unreadable": "log unreadable",
}
_PATH_ROLE = Qt.ItemDataRole.UserRole
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1
# Rescan at most this often while visible; slower when a scan is slow (a long run's metrics
# re-read), so polling never takes more than ~5% of the GUI thread.
POLL_MS = 3000
_POLL_LOAD = 20
# A file's identity for the caches: appending to metrics.jsonl changes both.
Stamp = tuple[int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _placeholder(path: Path, metrics: Stamp) -> RunInfo | None:
    """A run's row while its long log is read on the worker: its config, "reading…", and the
    time of its log's `metrics` stamp."""
    info = read_run_config(path)
    if info is not None:
        info.status = "reading"
        info.modified = metrics[0] / 1e9 if metrics is not None else 0.0
    return info


class _SortItem(QTableWidgetItem):
    """A cell that sorts by its value (numbers as numbers, missing values last)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if a is None or b is None:
            return a is not None and b is None
        try:
            return a < b
        except TypeError:  # a config missing a setting: compare as text rather than fail
            return str(a) < str(b)


class RunHistoryWidget(QWidget):
    """Every run under `runs_root` in a table; checked runs' curves overlaid in one plot."""

    run_activated = Signal(object)  # Path of the double-clicked run
    runs_checked = Signal(object)  # list[Path] of the checked runs, in check order
    follow_requested = Signal(object)  # Path of a run directory to follow live

    def __init__(self, runs_root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RunHistoryWidget")
        self._root = Path(runs_root)
        self._runs: dict[Path, RunInfo] = {}
        # Caches keyed by path and checked against the files' (mtime, size) stamps: a finished
        # 100k-step run's metrics are parsed once, not at every rescan or metric switch.
        self._run_cache: dict[Path, tuple[tuple[Stamp, Stamp], RunInfo]] = {}
        self._tails: dict[Path, MetricsTail] = {}  # where each run's metrics.jsonl was read to
        self._curve_cache: dict[Path, tuple[Stamp, Curves]] = {}
        # Where each checked run's curves were read to: a training run's are read on, not again.
        self._curve_tails: dict[Path, CurvesTail] = {}
        self._signature: tuple | None = None  # None: refill the table at the next scan
        # Checked runs in check order, each with a colour index kept while it stays checked.
        self._checked: dict[Path, int] = {}
        self._items: dict[Path, pg.PlotDataItem] = {}
        self._plotted: dict[Path, Stamp] = {}
        self._active: Path | None = None
        # Long logs are read on a worker (`run_reader`); these runs' summaries or curves are
        # on their way, and their tails belong to the worker until they come back.
        self._reader = RunReader(self)
        self._reading: set[tuple[str, Path]] = set()

        self.root_label = QLabel()
        self.root_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long runs folder wraps (at any character: a path has few spaces) rather than
        # widening the pane past its dock.
        self.root_label.setWordWrap(True)
        self.metric_combo = QComboBox()
        for key, (text, *_rest) in METRICS.items():
            self.metric_combo.addItem(text, key)
        self.x_axis_combo = QComboBox()
        for key, text in X_AXES.items():
            self.x_axis_combo.addItem(text, key)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Rescan the runs folder")
        self.follow_button = QPushButton("Follow")
        self.follow_button.setToolTip(
            "Follow the selected run live in the Training pane (a run the CLI or another "
            "process is writing)"
        )
        self.follow_button.setEnabled(False)
        self.open_dir_button = QPushButton("Open run directory…")
        self.open_dir_button.setToolTip(
            "Follow any run directory live in the Training pane (e.g. a folder synced from a "
            "cluster)"
        )

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.table.sortItems(COL_UPDATED, Qt.SortOrder.DescendingOrder)

        self.plot_widget = pg.PlotWidget()
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        self.plot_item.addLegend(offset=(-10, 10))
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText("Select a run to see its config.json")

        # Two rows: in one, the folder, the plot choices and the buttons needed 836 px, more
        # than the research tabs' column on a 1366-px screen.
        bar = QHBoxLayout()
        bar.addWidget(self.root_label, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.follow_button)
        bar.addWidget(self.open_dir_button)
        choices = QHBoxLayout()
        choices.addWidget(QLabel("Show"))
        choices.addWidget(self.metric_combo)
        choices.addWidget(QLabel("against"))
        choices.addWidget(self.x_axis_combo)
        choices.addStretch(1)
        lower = AdaptiveSplitter()
        lower.addWidget(self.plot_widget)
        lower.addWidget(self.details)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(choices)
        layout.addWidget(split, 1)

        self._watcher = QFileSystemWatcher(self)
        # Several changes arrive together (mkdir, config.json, metrics.jsonl): rescan once.
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._poll = QTimer(self, singleShot=True, interval=POLL_MS)

        self.refresh_button.clicked.connect(self._on_refresh_button_clicked)
        self.follow_button.clicked.connect(self._on_follow_button_clicked)
        self.open_dir_button.clicked.connect(self._on_open_dir_button_clicked)
        self.metric_combo.currentIndexChanged.connect(self._on_metric_combo_changed)
        self.x_axis_combo.currentIndexChanged.connect(self._on_metric_combo_changed)
        self.table.itemChanged.connect(self._on_table_item_changed)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self._watcher.directoryChanged.connect(self._on_watcher_changed)
        self._debounce.timeout.connect(self.refresh)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._reader.read.connect(self._on_reader_read)

        self.set_runs_root(self._root)

    # -- public API --------------------------------------------------------------------------

    @property
    def runs_root(self) -> Path:
        return self._root

    def set_runs_root(self, path: str | Path) -> None:
        """Show the runs under another folder (checked runs outside it are unchecked)."""
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        self._root = Path(path)
        # Zero-width spaces after the separators let the path wrap there.
        shown = str(self._root).replace("/", "/\u200b")
        self.root_label.setText(f"Runs in {shown}")
        self.root_label.setToolTip(str(self._root))
        self._signature = None
        self.refresh()

    def refresh(self) -> None:
        """Rescan the folder: new runs appear, deleted ones go, changed ones update."""
        started = time.perf_counter()
        root = str(self._root)
        if self._root.is_dir() and root not in self._watcher.directories():
            self._watcher.addPath(root)
        runs = self._scan()
        self._runs = {info.path: info for info in runs}
        signature = tuple((info.path, self._run_cache[info.path][0], info.running) for info in runs)
        if signature != self._signature:
            self._signature = signature
            self._fill_table(runs)
        gone = [p for p in self._checked if p not in self._runs]
        for path in gone:
            del self._checked[path]
        # Re-plot only when a checked run's metrics grew or went: re-adding 100k-point curves
        # at every poll would cost more than the scan.
        changed = any(_stamp(p / "metrics.jsonl") != self._plotted.get(p) for p in self._checked)
        if gone or changed:
            self._redraw()
        if gone:
            self.runs_checked.emit(self.checked_runs())
        self._schedule_poll(time.perf_counter() - started)

    def runs(self) -> list[RunInfo]:
        """The runs in table order."""
        return [self._runs[p] for p in self._row_paths() if p in self._runs]

    def checked_runs(self) -> list[Path]:
        return list(self._checked)

    def selected_run(self) -> Path | None:
        """The run whose row is selected (the window saves it and selects it again)."""
        return self._current_path()

    def select_run(self, path: Path) -> bool:
        """Select `path`'s row; False when no row shows that run."""
        for row, listed in enumerate(self._row_paths()):
            if listed == Path(path):
                self.table.selectRow(row)
                return True
        return False

    def set_checked(self, paths: list[Path]) -> None:
        """Check exactly these runs (e.g. the runs of a sweep that just finished)."""
        wanted = [Path(p) for p in paths if Path(p) in self._runs]
        self._checked = {p: self._checked[p] for p in wanted if p in self._checked}
        for path in wanted:
            self._checked.setdefault(path, self._free_colour())
        self._sync_check_boxes()
        self._redraw()
        self.runs_checked.emit(self.checked_runs())

    # Not `metric()`: that name is QPaintDevice's virtual, which Qt calls while painting.
    def current_metric(self) -> str:
        return self.metric_combo.currentData()

    def set_metric(self, key: str) -> None:
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(key))

    def set_x_axis(self, key: str) -> None:
        self.x_axis_combo.setCurrentIndex(self.x_axis_combo.findData(key))

    def set_active_run(self, path: Path | None) -> None:
        """Mark the run the training pane is writing now (shown as "training")."""
        self._active = Path(path) if path is not None else None
        self._signature = None
        self.refresh()

    def plotted_curves(self) -> dict[Path, pg.PlotDataItem]:
        """The plot items of the checked runs, by run path."""
        return dict(self._items)

    def is_reading(self) -> bool:
        """Whether a long log is being read in the background (its row says "reading…")."""
        return bool(self._reading)

    def shutdown(self) -> None:
        """Stop reading logs (the window is closing)."""
        self._reader.shutdown()

    # -- Qt virtuals -------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._poll.stop()

    # -- scanning ----------------------------------------------------------------------------

    def _scan(self) -> list[RunInfo]:
        """The run directories under the root, newest first, re-reading only changed ones."""
        fresh: dict[Path, tuple[tuple[Stamp, Stamp], RunInfo]] = {}
        try:
            children = [p for p in self._root.iterdir() if p.is_dir()]
        except OSError:
            children = []
        for path in children:
            key = (_stamp(path / "config.json"), _stamp(path / "metrics.jsonl"))
            if key[0] is None:
                continue  # not a run, or one whose config.json is not written yet
            cached = self._run_cache.get(path)
            if cached is not None and cached[0] == key:
                info = cached[1]
            elif ("run", path) in self._reading:  # shown as before until the worker answers
                info = cached[1] if cached is not None else _placeholder(path, key[1])
                key = cached[0] if cached is not None else (None, None)
            else:  # read on from where the last scan stopped (a training run's log grows)
                tail = self._tails.setdefault(path, MetricsTail())
                if unread_bytes(key[1], tail) > BACKGROUND_BYTES:
                    info = _placeholder(path, key[1])
                    if info is not None:  # listed now, its numbers when the worker has them
                        self._read_later(ReadJob("run", path, tail, key))
                    key = (None, None)  # not a stamp: the next scan looks again
                else:
                    info = read_run(path, tail)
            if info is not None:
                info.running = is_running(info)  # a killed trainer changes none of its files
                fresh[path] = (key, info)
        self._run_cache = fresh
        self._tails = {p: t for p, t in self._tails.items() if p in fresh}
        self._curve_cache = {p: c for p, c in self._curve_cache.items() if p in fresh}
        self._curve_tails = {p: t for p, t in self._curve_tails.items() if p in fresh}
        return sorted((info for _, info in fresh.values()), key=lambda r: -r.modified)

    def _curves(self, path: Path) -> Curves:
        stamp = _stamp(path / "metrics.jsonl")
        cached = self._curve_cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if ("curves", path) in self._reading:  # the worker answers with a redraw
            return cached[1] if cached is not None else Curves()
        tail = self._curve_tails.setdefault(path, CurvesTail())
        if unread_bytes(stamp, tail) > BACKGROUND_BYTES:
            self._read_later(ReadJob("curves", path, tail, stamp))
            return cached[1] if cached is not None else Curves()
        try:
            curves = read_curves(path, tail) if stamp is not None else Curves()
        except (OSError, ValueError, KeyError):
            curves = Curves()
        self._curve_cache[path] = (stamp, curves)
        return curves

    def _read_later(self, job: ReadJob) -> None:
        self._reading.add((job.kind, job.path))
        self._reader.submit(job)

    def _on_reader_read(self, job: ReadJob, result: object) -> None:
        """A long log's summary or curves, read on the worker: show them."""
        self._reading.discard((job.kind, job.path))
        # A failed read (result None) is kept under its stamp too, with a fresh tail for the
        # next try: asking again at once would fail again, at every rescan.
        if job.kind == "curves":
            # Kept only while the run is still listed and its tail still the one read.
            if self._curve_tails.get(job.path) is job.tail:
                self._curve_cache[job.path] = (job.stamp, result or Curves())  # type: ignore[assignment]
                if result is None:
                    self._curve_tails[job.path] = CurvesTail()
                if job.path in self._checked:
                    self._redraw()
            return
        if self._tails.get(job.path) is not job.tail:
            return  # the run went, or the folder changed, while it was read
        info = result if isinstance(result, RunInfo) else _placeholder(job.path, job.stamp[1])  # type: ignore[index]
        if info is not None:
            if result is None:
                info.status = "unreadable"
                self._tails[job.path] = MetricsTail()
            # Under the stamp seen when it was queued: a log that grew since is read on from
            # the tail at the next scan.
            self._run_cache[job.path] = (job.stamp, info)  # type: ignore[assignment]
        self.refresh()

    def _schedule_poll(self, took: float) -> None:
        if self.isVisible():
            self._poll.start(max(POLL_MS, int(took * 1000 * _POLL_LOAD)))

    # -- the table ---------------------------------------------------------------------------

    def _fill_table(self, runs: list[RunInfo]) -> None:
        selected = self._current_path()
        scroll = self.table.verticalScrollBar().value()
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(runs))
        for row, info in enumerate(runs):
            for col, (text, key) in enumerate(self._cells(info)):
                item = _SortItem(text)
                item.setData(_SORT_ROLE, key)
                item.setData(_PATH_ROLE, str(info.path))
                if col == COL_RUN:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setToolTip(f"{info.path}\n{info.summary()}")
                elif col != COL_LOSS:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        self._sync_check_boxes()
        self.table.setSortingEnabled(True)
        if selected is not None:
            for row, path in enumerate(self._row_paths()):
                if path == selected:
                    self.table.selectRow(row)
        self.table.blockSignals(False)
        self.table.verticalScrollBar().setValue(scroll)
        self._on_table_selection_changed()

    def _cells(self, info: RunInfo) -> list[tuple[str, Any]]:
        """(text, sort key) of each column for one run."""
        m, t = info.config.get("model", {}), info.config.get("train", {})
        emb = m.get("embedding")
        inputs = f"emb {emb}" if emb else "one-hot"
        model = f"{str(m.get('arch', '?')).upper()} {m.get('layers', '?')}x{m.get('hidden', '?')}"
        loss, acc = info.best_val_loss, info.best_val_accuracy
        status = _STATUS.get(info.status, info.status)
        if info.running:
            status = "running"
        if info.path == self._active:
            status = "training"
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.modified))
        return [
            (info.name, info.name.lower()),
            (f"{model}, {inputs}", (str(m.get("arch")), m.get("layers"), m.get("hidden"))),
            (f"{t.get('optimizer', '?')} {t.get('lr', '?')}", (t.get("optimizer"), t.get("lr"))),
            (f"{t.get('batch_size', '?')} x {t.get('seq_len', '?')}", t.get("batch_size")),
            (str(m.get("dropout", "?")), m.get("dropout")),
            (str(info.steps), info.steps),
            ("" if loss is None else f"{loss:.4f}", loss),
            ("" if acc is None else f"{acc:.1%}", acc),
            (status, status),
            (stamp if info.modified else "", info.modified),
        ]

    def _row_paths(self) -> list[Path]:
        rows = (self.table.item(r, COL_RUN) for r in range(self.table.rowCount()))
        return [Path(item.data(_PATH_ROLE)) for item in rows if item is not None]

    def _current_path(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), COL_RUN)
        return Path(item.data(_PATH_ROLE)) if item is not None else None

    def _sync_check_boxes(self) -> None:
        blocked = self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            item = self.table.item(row, COL_RUN)
            on = Path(item.data(_PATH_ROLE)) in self._checked
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            if on:
                item.setForeground(pg.mkColor(self._colour(Path(item.data(_PATH_ROLE)))))
            else:
                item.setData(Qt.ItemDataRole.ForegroundRole, None)
        self.table.blockSignals(blocked)

    def _free_colour(self) -> int:
        used = set(self._checked.values())
        return next(i for i in range(len(used) + 1) if i not in used)

    def _colour(self, path: Path):
        # 9 hues x 2 brightnesses: 18 runs before a colour repeats. Stepping 4 hues (160
        # degrees) at a time keeps the first few runs' colours far apart (red, cyan, ...).
        index = self._checked[path]
        hue = (index * 4) % 9 + 9 * (index // 9)
        return pg.intColor(hue, hues=9, values=2, minValue=170)

    # -- the plot ----------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Put one curve per checked run in the plot, re-reading only curves that changed."""
        key = self.current_metric()
        text, y_attr, x_step, x_epoch = METRICS[key]
        x_attr = x_step if self.x_axis_combo.currentData() == "steps" else x_epoch
        configs = [self._runs[p].config for p in self._checked]
        differ = differing_knobs(configs)[:3]
        for item in self._items.values():
            self.plot_item.removeItem(item)
        self._items = {}
        self._plotted = {}
        is_eval = key.startswith("val_")
        for path in self._checked:
            curves = self._curves(path)
            x = np.asarray(getattr(curves, x_attr), dtype=float)
            y = np.asarray(getattr(curves, y_attr), dtype=float)
            colour = self._colour(path)
            label = path.name
            if differ:
                label += f" ({knob_label(self._runs[path].config, differ)})"
            options: dict[str, Any] = {"pen": pg.mkPen(colour, width=2 if is_eval else 1)}
            if is_eval:
                # Evaluations are few: mark each one so single points show.
                options.update(symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None)
            item = self.plot_item.plot(x, y, name=label, connect="finite", **options)
            # Training curves can hold 100k points: draw at most ~ one point per pixel.
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            self._items[path] = item
            # A run whose curves are still being read is redrawn when they come.
            cached = self._curve_cache.get(path)
            self._plotted[path] = cached[0] if cached else _stamp(path / "metrics.jsonl")
        self.plot_item.setLabel("left", text)
        self.plot_item.setLabel("bottom", X_AXES[self.x_axis_combo.currentData()].lower())

    # -- slots -------------------------------------------------------------------------------

    def _on_refresh_button_clicked(self) -> None:
        self.refresh()

    def _on_watcher_changed(self, _path: str) -> None:
        self._debounce.start()

    def _on_poll_timeout(self) -> None:
        self.refresh()

    def _on_follow_button_clicked(self) -> None:
        path = self._current_path()
        if path is not None:
            self.follow_requested.emit(path)

    def _on_open_dir_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Follow a run directory", str(self._root))
        if folder:
            self.follow_requested.emit(Path(folder))

    def _on_metric_combo_changed(self, _index: int) -> None:
        self._redraw()

    def _on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != COL_RUN:
            return
        path = Path(item.data(_PATH_ROLE))
        on = item.checkState() == Qt.CheckState.Checked
        if on == (path in self._checked):
            return
        if on:
            self._checked[path] = self._free_colour()
        else:
            del self._checked[path]
        self._sync_check_boxes()
        self._redraw()
        self.runs_checked.emit(self.checked_runs())

    def _on_table_cell_double_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, COL_RUN)
        if item is not None:
            self.run_activated.emit(Path(item.data(_PATH_ROLE)))

    def _on_table_selection_changed(self) -> None:
        path = self._current_path()
        info = self._runs.get(path) if path is not None else None
        self.details.setPlainText(_config_text(info) if info is not None else "")
        self.follow_button.setEnabled(info is not None)


def _config_text(info: RunInfo) -> str:
    """config.json for reading: indented, with the vocabulary on one line, not one per char."""
    config = dict(info.config)
    vocab = config.pop("vocab", None)
    text = f"{info.path}\n\n{json.dumps(config, indent=2, ensure_ascii=False)}"
    if vocab is not None:
        text += f"\n\nvocab ({len(vocab)}): {json.dumps(''.join(map(str, vocab)))}"
    return text
