"""The dataset pane's view of loaded MIDI: statistics in events and pieces, and the pieces.

The figures come from :func:`workbench.midi_data.stats.midi_stats` (computed on the loader's
thread): pieces, events, files, the median piece length, the event vocabulary and the
encoding, with three charts (events per piece, event kinds, pitch classes). The piece table
filters as you type; selecting a piece shows its events laid out by bar (REMI) or in rows, and
Play sends its MIDI file to the Playback pane.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QFontDatabase, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.midi_data.reader import MidiLoadResult, Piece
from workbench.midi_data.stats import MidiStats, event_kind, preview_text
from workbench.ui.widgets.bar_chart import BarChartWidget, HistogramWidget

COLUMNS = ("Piece", "Events", "Source")
PIECE, EVENTS, SOURCE = range(len(COLUMNS))
_PIECE_ROLE = Qt.ItemDataRole.UserRole + 1


class MidiDatasetView(QWidget):
    """Statistics and pieces of a MIDI dataset; ``play_requested(Piece)`` asks to hear one."""

    play_requested = Signal(object)  # Piece

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pieces: list[Piece] = []
        self._shown: Piece | None = None

        stats_box = QGroupBox("Statistics")
        form = QFormLayout()
        self.pieces_label, self.events_label = QLabel(), QLabel()
        self.files_label, self.median_label = QLabel(), QLabel()
        self.encoding_label, self.vocab_size_label = QLabel(), QLabel()
        self.vocab_label = QLabel()
        self.vocab_label.setWordWrap(True)
        self.vocab_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Pieces", self.pieces_label)
        form.addRow("Events", self.events_label)
        form.addRow("Files", self.files_label)
        form.addRow("Median length", self.median_label)
        form.addRow("Encoding", self.encoding_label)
        form.addRow("Vocabulary", self.vocab_size_label)
        form.addRow(self.vocab_label)
        self.length_histogram = HistogramWidget("events per piece", "pieces")
        self.kind_chart = BarChartWidget("event kind", "events")
        self.pitch_chart = BarChartWidget("pitch class", "events")
        self.charts = QTabWidget()
        self.charts.addTab(self.length_histogram, "Lengths")
        self.charts.addTab(self.kind_chart, "Event kinds")
        self.charts.addTab(self.pitch_chart, "Pitch classes")
        stats_layout = QHBoxLayout(stats_box)
        stats_layout.addLayout(form, 1)
        stats_layout.addWidget(self.charts, 2)

        pieces_box = QGroupBox("Pieces")
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or source")
        self.filter_edit.setClearButtonEnabled(True)
        self.shown_label = QLabel()
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # any column
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # load order
        header = self.table.horizontalHeader()
        # The piece's name whole; its source (a long path) takes the room left, elided.
        header.setSectionResizeMode(PIECE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(EVENTS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SOURCE, QHeaderView.ResizeMode.Stretch)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setPlaceholderText("Select a piece to read its events.")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the piece's MIDI file in the Playback pane")
        self.play_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.shown_label)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(self.preview)
        preview_layout.addWidget(self.play_button, 0, Qt.AlignmentFlag.AlignRight)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(preview_box)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        pieces_layout = QVBoxLayout(pieces_box)
        pieces_layout.addLayout(top)
        pieces_layout.addWidget(split)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(stats_box)
        splitter.addWidget(pieces_box)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.table.doubleClicked.connect(lambda _index: self._on_play_clicked())
        self.play_button.clicked.connect(self._on_play_clicked)

    # -- contents ------------------------------------------------------------------------

    def show_dataset(self, result: MidiLoadResult, stats: MidiStats) -> None:
        """Show `result`'s pieces and their statistics `stats`."""
        self.pieces_label.setText(f"{stats.pieces:,}")
        self.events_label.setText(f"{stats.events:,}")
        self.files_label.setText(f"{stats.files:,}")
        self.median_label.setText(f"{stats.median_length:,} events")
        self.encoding_label.setText(stats.encoding)
        self.vocab_size_label.setText(f"{len(stats.vocabulary):,} distinct events")
        # Distinct events per kind ("Pitch 50, Duration 14, ..."): the whole list of a timed
        # encoding is ~100 names, too many to read; it is the tooltip.
        per_kind = Counter(event_kind(e) for e in stats.vocabulary)
        self.vocab_label.setText(", ".join(f"{k} {n}" for k, n in per_kind.most_common()))
        self.vocab_label.setToolTip(" ".join(stats.vocabulary))
        self.length_histogram.set_values(stats.lengths)
        self.kind_chart.set_counts(list(stats.kinds.items())[:12])
        self.pitch_chart.set_counts(list(stats.pitch_classes.items()))

        self._pieces = list(result.pieces)
        self.model.removeRows(0, self.model.rowCount())
        for order, piece in enumerate(self._pieces):
            cells = [QStandardItem(piece.name), QStandardItem(f"{piece.events:,}")]
            cells.append(QStandardItem(piece.source))
            # Sort keys: load order for the name column's ties, numbers as numbers.
            cells[PIECE].setData(piece.name.lower(), Qt.ItemDataRole.UserRole)
            cells[EVENTS].setData(piece.events, Qt.ItemDataRole.UserRole)
            cells[SOURCE].setData(piece.source.lower(), Qt.ItemDataRole.UserRole)
            cells[PIECE].setData(order, _PIECE_ROLE)
            cells[SOURCE].setToolTip(piece.source)
            self.model.appendRow(cells)
        self._show_piece(None)
        self._update_shown_label()

    def pieces_shown(self) -> int:
        return self.proxy.rowCount()

    def piece_at(self, row: int) -> Piece:
        """The piece in row `row` of the table as shown (filtered and sorted)."""
        source_row = self.proxy.mapToSource(self.proxy.index(row, PIECE)).row()
        return self._pieces[self.model.item(source_row, PIECE).data(_PIECE_ROLE)]

    def shown_piece(self) -> Piece | None:
        return self._shown

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    # -- events --------------------------------------------------------------------------

    def _on_filter_text_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_shown_label()

    def _update_shown_label(self) -> None:
        self.shown_label.setText(f"{self.proxy.rowCount():,} of {len(self._pieces):,}")

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_piece(self.piece_at(current.row()) if current.isValid() else None)

    def _show_piece(self, piece: Piece | None) -> None:
        self._shown = piece
        if piece is None:
            self.preview.setPlainText("")
        else:
            head = f"{piece.source}: {piece.events:,} events"
            self.preview.setPlainText(f"{head}\n\n{preview_text(piece.text)}")
        self.play_button.setEnabled(piece is not None and bool(piece.path))

    def _on_play_clicked(self) -> None:
        if self._shown is not None and self._shown.path and Path(self._shown.path).is_file():
            self.play_requested.emit(self._shown)
