"""Two generated tunes side by side: their text, their summary and (when available) their score.

The score comes from `workbench.ui.widgets.score_view.ScoreView` when that widget exists in
this build; without it the dialog shows the text and summaries only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.generation import GeneratedTune


def describe(tune: GeneratedTune) -> str:
    """One line of what the results list knows about `tune`."""
    s = tune.summary
    fit = "bars fit" if s.bars_fit else f"{len(s.misfit_bars)} bars do not fit"
    parse = (
        "parse check pending"
        if tune.parse_error is None
        else ("parses" if tune.parse_error == "" else "does not parse")
    )
    return (
        f"K:{s.key or '?'}  M:{s.meter or '?'}  {s.bars} bars · {fit} · {parse}"
        f" · seed {tune.seed} #{tune.index + 1}, T={tune.temperature:.2f}"
    )


def _score_view(text: str) -> QWidget | None:
    """An engraved score of `text`, or None in a build without the score view."""
    try:
        from workbench.ui.widgets.score_view import ScoreView
    except ImportError:
        return None
    view = ScoreView()
    view.set_abc(text)
    view.render_now()
    return view


class CompareDialog(QDialog):
    def __init__(self, left: GeneratedTune, right: GeneratedTune, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare: {left.title} / {right.title}")
        self.resize(1100, 700)
        self.tunes = (left, right)
        self.text_views: list[QPlainTextEdit] = []
        self.score_views: list[QWidget] = []
        self._shut_down = False
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for tune in self.tunes:
            splitter.addWidget(self._column(tune))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)

    def done(self, result: int) -> None:
        # Each score view owns a render thread and a verovio child process: end them, once
        # (a ScoreView's shutdown after its thread has gone raises).
        if not self._shut_down:
            self._shut_down = True
            for view in self.score_views:
                view.shutdown()  # type: ignore[attr-defined]
        super().done(result)

    def _column(self, tune: GeneratedTune) -> QWidget:
        column = QWidget()
        layout = QVBoxLayout(column)
        title = QLabel(f"<b>{_escape(tune.title)}</b>")
        info = QLabel(describe(tune))
        info.setWordWrap(True)
        if tune.parse_error:
            info.setToolTip(tune.parse_error)
        text = QPlainTextEdit(tune.text)
        text.setReadOnly(True)
        text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text_views.append(text)
        layout.addWidget(title)
        layout.addWidget(info)
        inner = QSplitter(Qt.Orientation.Vertical)
        inner.addWidget(text)
        score = _score_view(tune.text)
        if score is not None:
            self.score_views.append(score)
            inner.addWidget(score)
        layout.addWidget(inner, 1)
        return column


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
