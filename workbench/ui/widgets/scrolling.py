"""Scroll areas that scroll only when they must.

:class:`PaneScrollArea` holds a pane in its dock: the pane fills the dock and scrolls only when
the dock is smaller than the pane's minimum size. QScrollArea's own resizing
(``widgetResizable``) gives a pane whose layout has height-for-width (any word-wrapped label)
its *preferred* height instead, so such a pane scrolled with room to spare and its last rows (a
piano roll, action buttons) were cut off.

:class:`VerticalScrollArea` holds a column of settings: as wide as the settings need (never a
horizontal scroll bar or a squeezed field), as short as the space left to it (a vertical scroll
bar then).

:class:`AdaptiveSplitter` holds a pane's two sides (settings | output): side by side when the
dock is wide enough for both, one above the other when it is not, so that a research pane
tabbed beside Generation in a 1366-px window's narrower column never scrolls sideways.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QWidget


class PaneScrollArea(QScrollArea):
    """Fills the viewport with its widget, never below the widget's minimum size."""

    def __init__(self, widget: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(widget)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.fit)
        widget.installEventFilter(self)

    def minimum_size(self) -> QSize:
        widget = self.widget()
        return widget.minimumSizeHint().expandedTo(widget.minimumSize())

    def fit(self) -> None:
        """Size the widget to the viewport, but not below its minimum size."""
        widget = self.widget()
        if widget is None:
            return
        minimum = self.minimum_size()
        room = self.maximumViewportSize()  # the viewport without scroll bars
        bar_w = self.verticalScrollBar().sizeHint().width()
        bar_h = self.horizontalScrollBar().sizeHint().height()
        wide = minimum.width() > room.width()
        tall = minimum.height() > room.height() - (bar_h if wide else 0)
        if tall and not wide:
            wide = minimum.width() > room.width() - bar_w
        width = max(minimum.width(), room.width() - (bar_w if tall else 0))
        height = max(minimum.height(), room.height() - (bar_h if wide else 0))
        if widget.size() != QSize(width, height):
            widget.resize(width, height)

    def sizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().sizeHint()
        return widget.sizeHint().expandedTo(self.minimum_size())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The widget's layout was redone (its minimum size may have changed): fit again.
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._refit.start()
        return super().eventFilter(watched, event)


class VerticalScrollArea(QScrollArea):
    """A column as wide as its widget's minimum width that scrolls vertically when short."""

    def __init__(
        self, widget: QWidget, parent: QWidget | None = None, *, minimum_height: int = 60
    ) -> None:
        super().__init__(parent)
        self._minimum_height = minimum_height
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(widget)
        widget.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().minimumSizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        width = widget.minimumSizeHint().expandedTo(widget.minimumSize()).width()
        return QSize(width + bar + 2 * self.frameWidth(), self._minimum_height)

    def sizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().sizeHint()
        hint = widget.sizeHint()
        return QSize(self.minimumSizeHint().width(), hint.height() + 2 * self.frameWidth())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The settings changed (a row shown or hidden): so may this column's minimum width.
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)


class AdaptiveSplitter(QSplitter):
    """A horizontal splitter that turns vertical when narrower than its parts side by side.

    Its minimum width is that of its widest part (the stacked arrangement), so the pane around
    it can be as narrow as the dock; its minimum height is that of the arrangement it has now.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)

    def _minimums(self) -> list[QSize]:
        return [
            w.minimumSizeHint().expandedTo(w.minimumSize())
            for w in (self.widget(i) for i in range(self.count()))
            if not w.isHidden()
        ]

    def side_by_side_width(self) -> int:
        """The narrowest this splitter can be with its parts side by side."""
        sizes = self._minimums()
        return sum(s.width() for s in sizes) + self.handleWidth() * max(0, len(sizes) - 1)

    def minimumSizeHint(self) -> QSize:
        sizes = self._minimums()
        if not sizes:
            return super().minimumSizeHint()
        handles = self.handleWidth() * (len(sizes) - 1)
        width = max(s.width() for s in sizes)
        if self.orientation() == Qt.Orientation.Horizontal:
            height = max(s.height() for s in sizes)
        else:
            height = sum(s.height() for s in sizes) + handles
        return QSize(width, height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        wide = event.size().width() >= self.side_by_side_width()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation != self.orientation():
            self.setOrientation(orientation)
            self.updateGeometry()  # the minimum height changed with the arrangement
        super().resizeEvent(event)
