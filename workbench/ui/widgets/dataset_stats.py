"""A view of :class:`~workbench.corpus.DatasetStats`: sizes, vocabulary and three charts.

The figures sit in a form on the left; the tune-length histogram and the meter and key
breakdowns (the most common few, the rest as "other") share a tab widget on the right, which
keeps the view small enough for a dock.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QTabWidget, QWidget

from workbench.corpus import DatasetStats
from workbench.corpus.stats import top_counts
from workbench.ui.widgets.bar_chart import BarChartWidget, HistogramWidget

#: Bars per meter/key chart before the rest becomes "other".
TOP_CATEGORIES = 12


def visible_vocabulary(vocabulary: str) -> str:
    """The vocabulary with space and newline made visible (``␣``, ``⏎``)."""
    return vocabulary.replace(" ", "␣").replace("\n", "⏎")


class DatasetStatsWidget(QWidget):
    """Shows one dataset's statistics; ``show_stats`` replaces what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout()
        self.tunes_label, self.chars_label = QLabel(), QLabel()
        self.files_label, self.median_label = QLabel(), QLabel()
        self.vocab_size_label = QLabel()
        self.vocab_label = QLabel()
        self.vocab_label.setWordWrap(True)
        self.vocab_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.vocab_label.setTextFormat(Qt.TextFormat.PlainText)
        self.vocab_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Tunes", self.tunes_label)
        form.addRow("Characters", self.chars_label)
        form.addRow("Files", self.files_label)
        form.addRow("Median length", self.median_label)
        form.addRow("Vocabulary", self.vocab_size_label)
        form.addRow(self.vocab_label)

        self.length_histogram = HistogramWidget("characters per tune")
        self.meter_chart = BarChartWidget("meter")
        self.key_chart = BarChartWidget("key")
        self.charts = QTabWidget()
        self.charts.addTab(self.length_histogram, "Lengths")
        self.charts.addTab(self.meter_chart, "Meters")
        self.charts.addTab(self.key_chart, "Keys")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form, 1)
        layout.addWidget(self.charts, 2)

    def show_stats(self, stats: DatasetStats, files: int) -> None:
        """Show ``stats`` of a dataset read from ``files`` files."""
        self.tunes_label.setText(f"{stats.tunes:,}")
        self.chars_label.setText(f"{stats.characters:,}")
        self.files_label.setText(f"{files:,}")
        # The same median as `workbench corpus stats` (the upper one of an even count).
        median = int(np.sort(stats.lengths)[stats.tunes // 2]) if stats.tunes else 0
        self.median_label.setText(f"{median:,} characters")
        self.vocab_size_label.setText(f"{len(stats.vocabulary)} characters")
        self.vocab_label.setText(visible_vocabulary(stats.vocabulary))
        self.vocab_label.setToolTip(repr(stats.vocabulary))
        self.length_histogram.set_values(stats.lengths)
        self.meter_chart.set_counts(top_counts(stats.meters, TOP_CATEGORIES))
        self.key_chart.set_counts(top_counts(stats.keys, TOP_CATEGORIES))
