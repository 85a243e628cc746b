"""The engraved score of the tune being edited: zoom, pages, export, render errors shown in place.

:class:`ScoreView` takes ABC text with :meth:`ScoreView.set_abc`, waits for typing to pause
(150 ms), and has a :class:`~workbench.ui.workers.notation_worker.RenderWorker` engrave it in
verovio's child process; only the newest request is rendered and shown. The SVG pages are drawn
with QSvgRenderer on a white sheet inside a scroll area, so zooming redraws vectors instead of
scaling a bitmap. A failed render (bad ABC, verovio crashed, timeout) shows its message above
the last good score, which stays on screen greyed out.

Export writes the current page as SVG (verovio's text) or PNG, or every page as a PDF.

Follow-along: :meth:`ScoreView.show_playback_note` marks the drawn note that the given
characters of the ABC wrote (paired by :func:`workbench.notation.score_notes.note_elements`),
turning the page and scrolling to it. The mark is a translucent box painted over the note, so
following playback costs a repaint, never a new render.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QObject,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPageSize, QPainter, QPaintEvent, QPdfWriter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.notation.convert import safe_stem, tune_title
from workbench.notation.score_notes import note_elements
from workbench.ui.workers.notation_worker import RenderWorker

# A pause this long means typing stopped; engraving (~120-150 ms) plus painting (~40 ms) then
# land the score within the 300 ms target. Shorter would start renders between keystrokes.
DEBOUNCE_MS = 100
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.1, 8.0
PNG_WIDTH = 2000  # pixels across an exported page
EXPORT_FILTER = "SVG image (*.svg);;PNG image (*.png);;PDF document (*.pdf)"
PLAYBACK_COLOUR = QColor(245, 158, 11, 110)  # amber, translucent: the note stays readable
PLAYBACK_MARGIN = 3.0  # pixels around the note's box


class _ScoreCanvas(QWidget):
    """Paints one SVG page on white at the view's zoom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.renderer: QSvgRenderer | None = None
        self.stale = False
        self.zoom = 1.0
        self.playback_box: QRectF | None = None  # the playing note, in the SVG's viewBox units

    def page_size(self) -> QSize:
        if self.renderer is None:
            return QSize(0, 0)
        size = self.renderer.defaultSize()
        return QSize(
            max(1, round(size.width() * self.zoom)), max(1, round(size.height() * self.zoom))
        )

    def sizeHint(self) -> QSize:
        return self.page_size()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.renderer is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))  # a score is black on paper, any theme
        if self.stale:
            painter.setOpacity(0.3)
        self.renderer.render(painter, QRectF(self.rect()))
        box = self.widget_box()
        if box is not None and not self.stale:
            painter.setOpacity(1.0)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PLAYBACK_COLOUR)
            painter.drawRoundedRect(box, 3.0, 3.0)
        painter.end()

    def widget_box(self) -> QRectF | None:
        """The playing note's box in this widget's pixels (None when there is none)."""
        if self.renderer is None or self.playback_box is None:
            return None
        view = self.renderer.viewBoxF()
        if view.width() <= 0 or view.height() <= 0:
            return None
        sx, sy = self.width() / view.width(), self.height() / view.height()
        box = self.playback_box
        return QRectF(
            (box.x() - view.x()) * sx,
            (box.y() - view.y()) * sy,
            box.width() * sx,
            box.height() * sy,
        ).adjusted(-PLAYBACK_MARGIN, -PLAYBACK_MARGIN, PLAYBACK_MARGIN, PLAYBACK_MARGIN)


class ScoreView(QWidget):
    """Shows the engraved score of the ABC given to :meth:`set_abc`.

    ``rendered()`` fires when a new score is on screen, ``render_failed(str)`` when a render
    failed (the message is shown in the view). Call :meth:`shutdown` before the app quits.
    """

    rendered = Signal()
    render_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.setObjectName("ScoreView")
        self._abc = ""  # the ABC last asked for
        self._shown_abc: str | None = None  # the ABC of the score on screen
        self._pages: list[str] = []
        self._renderers: list[QSvgRenderer] = []
        self._page = 0
        self._fit_width = True
        self._error = ""
        # (start, end) of a note in the shown ABC -> (page, SVG element id); see score_notes.
        self._note_elements: dict[tuple[int, int], tuple[int, str]] = {}
        self._playback_note: tuple[int, str] | None = None  # (page, element id) marked now

        self.worker = RenderWorker(self)
        self.worker.finished_job.connect(self._on_rendered)
        self.worker.failed_job.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.render_now)

        self.canvas = _ScoreCanvas()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setWidgetResizable(False)
        # Always on: a bar that came and went with the fitted page's height would change the
        # width to fit and make the page jump between two sizes.
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        # Fit width follows the viewport, which is resized after this widget when shown.
        self.scroll.viewport().installEventFilter(self)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setStyleSheet("color: #dc2626;")
        self.message_label.hide()
        self.placeholder = QLabel("No tune to show.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)

        self.zoom_out_button = self._tool_button("−", "Zoom out", self.zoom_out)
        self.zoom_in_button = self._tool_button("+", "Zoom in", self.zoom_in)
        self.fit_button = self._tool_button("Fit", "Fit the page width", self.fit_width)
        self.previous_button = self._tool_button("◀", "Previous page", self.previous_page)
        self.next_button = self._tool_button("▶", "Next page", self.next_page)
        self.page_label = QLabel()
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Export the score as SVG, PNG or PDF")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for label, suffix in (("SVG (this page)…", ".svg"), ("PNG (this page)…", ".png")):
            menu.addAction(label, lambda s=suffix: self.export_dialog(s))
        menu.addAction("PDF (all pages)…", lambda: self.export_dialog(".pdf"))
        self.export_button.setMenu(menu)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for widget in (self.zoom_out_button, self.zoom_in_button, self.fit_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.previous_button, self.page_label, self.next_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.message_label)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.scroll, 1)
        self._update_widgets()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _tool_button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- input -------------------------------------------------------------------------------

    def set_abc(self, abc: str) -> None:
        """Show ``abc`` once typing pauses (the debounce restarts on every call)."""
        if abc == self._abc:
            return
        self._abc = abc
        self._timer.start()

    def abc(self) -> str:
        return self._abc

    def render_now(self) -> None:
        """Render the last ABC given now, without waiting for the debounce."""
        self._timer.stop()
        if not self._abc.strip():
            self.worker.cancel()
            self._set_pages([], None)
            self._set_error("")
            return
        if self._abc == self._shown_abc and not self._error:
            self.worker.cancel()  # an answer for some other text may still be on its way
            return
        self.worker.submit(self._abc)

    def warm_up(self) -> None:
        """Start the render thread (and its child process) before the first tune arrives."""
        self.worker.start()

    def shutdown(self) -> None:
        """Stop rendering and end the worker thread and verovio's process."""
        self._timer.stop()
        self.worker.shutdown()

    # -- results -----------------------------------------------------------------------------

    def _on_rendered(self, _job: int, result: object) -> None:
        error = getattr(result, "error", None)
        pages = list(getattr(result, "pages", []) or [])
        if error or not pages:
            self._on_failed(_job, error or "verovio produced no pages")
            return
        renderers = [QSvgRenderer(QByteArray(page.encode("utf-8"))) for page in pages]
        if not all(r.isValid() for r in renderers):
            self._on_failed(_job, "the score's SVG could not be drawn")
            return
        self._playback_note = None
        self._set_pages(pages, renderers)
        self._shown_abc = self._abc
        self._note_elements = note_elements(self._abc, getattr(result, "notes", None) or [])
        self._set_error("")
        self.rendered.emit()

    def _on_failed(self, _job: int, message: str) -> None:
        self._set_error(message)
        self.render_failed.emit(message)

    def _set_pages(self, pages: list[str], renderers: list[QSvgRenderer] | None) -> None:
        self._pages = pages
        self._renderers = renderers or []
        if not pages:
            self._shown_abc = None
            self._note_elements = {}
            self._playback_note = None
        self._page = min(self._page, max(0, len(pages) - 1))
        self._show_page()

    def _set_error(self, message: str) -> None:
        self._error = message
        self.message_label.setText(f"Cannot engrave this tune: {message}" if message else "")
        self.message_label.setVisible(bool(message))
        self.canvas.stale = bool(message)
        self.canvas.update()
        self._update_widgets()

    # -- state -------------------------------------------------------------------------------

    @property
    def pages(self) -> list[str]:
        """The SVG text of each page of the score on screen."""
        return list(self._pages)

    @property
    def page_index(self) -> int:
        return self._page

    @property
    def zoom(self) -> float:
        return self.canvas.zoom

    def error_message(self) -> str:
        """The last render failure's message, "" when the score on screen is current."""
        return self._error

    # -- follow-along ------------------------------------------------------------------------

    def show_playback_note(self, abc: str | None, start: int = 0, end: int = 0) -> bool:
        """Mark the note that characters [start, end) of ``abc`` wrote; None clears the mark.

        Returns whether a note is marked: not when ``abc`` is not the tune on screen, or its
        notes could not be paired with the drawing (then the score simply does not follow).
        """
        target = None
        if abc is not None and abc == self._shown_abc:
            target = self._note_elements.get((start, end))
        if target == self._playback_note:
            return target is not None
        self._playback_note = target
        if target is not None and target[0] != self._page:
            self.set_page(target[0])  # also places the mark, through _show_page
        else:
            self._place_playback_mark()
        return target is not None

    def playback_note(self) -> tuple[int, str] | None:
        """(page index, SVG element id) of the note marked as playing, or None."""
        return self._playback_note

    def _place_playback_mark(self) -> None:
        renderer = self.canvas.renderer
        box = None
        if renderer is not None and self._playback_note is not None:
            page, element = self._playback_note
            if page == self._page and renderer.elementExists(element):
                bounds = renderer.transformForElement(element).mapRect(
                    renderer.boundsOnElement(element)
                )
                if bounds.width() > 0 and bounds.height() > 0:  # an invisible rest has none
                    box = bounds
        self.canvas.playback_box = box
        self.canvas.update()
        widget_box = self.canvas.widget_box()
        if widget_box is not None:
            centre = widget_box.center()
            margin_x = min(200, self.scroll.viewport().width() // 3)
            margin_y = min(200, self.scroll.viewport().height() // 3)
            self.scroll.ensureVisible(round(centre.x()), round(centre.y()), margin_x, margin_y)

    # -- pages and zoom ----------------------------------------------------------------------

    def set_page(self, index: int) -> None:
        if self._pages:
            self._page = max(0, min(index, len(self._pages) - 1))
            self._show_page()

    def next_page(self) -> None:
        self.set_page(self._page + 1)

    def previous_page(self) -> None:
        self.set_page(self._page - 1)

    def set_zoom(self, zoom: float) -> None:
        self._fit_width = False
        self._apply_zoom(zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.canvas.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.canvas.zoom / ZOOM_STEP)

    def fit_width(self) -> None:
        """Scale the page to the view's width, and keep doing so as the view resizes."""
        self._fit_width = True
        self._apply_fit()

    def _apply_fit(self) -> None:
        if self.canvas.renderer is None:
            return
        width = self.canvas.renderer.defaultSize().width()
        available = self.scroll.viewport().width() - 4
        if width > 0 and available > 0:
            self._apply_zoom(available / width)

    def _apply_zoom(self, zoom: float) -> None:
        self.canvas.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self.canvas.resize(self.canvas.page_size())
        self.canvas.update()

    def _show_page(self) -> None:
        self.canvas.renderer = self._renderers[self._page] if self._renderers else None
        self._update_widgets()
        if self._fit_width:
            self._apply_fit()
        else:
            self._apply_zoom(self.canvas.zoom)
        self._place_playback_mark()

    def _update_widgets(self) -> None:
        count = len(self._pages)
        has_score = count > 0
        self.placeholder.setVisible(not has_score and not self._error)
        self.scroll.setVisible(has_score)
        self.page_label.setText(f"page {self._page + 1} of {count}" if has_score else "")
        self.previous_button.setEnabled(self._page > 0)
        self.next_button.setEnabled(self._page + 1 < count)
        for widget in (self.zoom_in_button, self.zoom_out_button, self.fit_button):
            widget.setEnabled(has_score)
        self.export_button.setEnabled(has_score)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self._fit_width:
            self._apply_fit()
        return super().eventFilter(watched, event)

    # -- export ------------------------------------------------------------------------------

    def export(self, path: str | Path) -> None:
        """Write the score to ``path``: .svg/.png the current page, .pdf all pages.

        Raises ValueError for another suffix or when there is no score, OSError when the file
        cannot be written.
        """
        path = Path(path)
        if not self._pages:
            raise ValueError("there is no score to export")
        suffix = path.suffix.lower()
        if suffix == ".svg":
            path.write_text(self._pages[self._page], encoding="utf-8")
        elif suffix == ".png":
            renderer = self._renderers[self._page]
            size = renderer.defaultSize()
            scale = PNG_WIDTH / max(1, size.width())
            image = QImage(
                PNG_WIDTH, max(1, round(size.height() * scale)), QImage.Format.Format_ARGB32
            )
            image.fill(QColor("white"))
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(image.rect()))
            painter.end()
            if not image.save(str(path), "PNG"):
                raise OSError(f"cannot write {path.name}")
        elif suffix == ".pdf":
            self._export_pdf(path)
        else:
            raise ValueError(f"cannot export to {suffix or 'a file without a suffix'}")

    def _export_pdf(self, path: Path) -> None:
        writer = QPdfWriter(str(path))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setResolution(300)
        writer.setTitle("Score")
        painter = QPainter()
        if not painter.begin(writer):
            raise OSError(f"cannot write {path.name}")
        try:
            for index, renderer in enumerate(self._renderers):
                if index:
                    writer.newPage()
                target = QRectF(painter.viewport())
                size = renderer.defaultSize()
                # Fit the page into the paper, keeping its proportions.
                scale = min(target.width() / size.width(), target.height() / size.height())
                renderer.render(painter, QRectF(0, 0, size.width() * scale, size.height() * scale))
        finally:
            painter.end()

    def export_dialog(self, suffix: str = ".svg") -> None:
        """Ask for a file name and export; failures are shown in a message box."""
        selected = {".svg": "SVG image (*.svg)", ".png": "PNG image (*.png)"}.get(
            suffix, "PDF document (*.pdf)"
        )
        stem = safe_stem(tune_title(self._shown_abc or ""), "score")  # The_Kesh.svg
        name, _filter = QFileDialog.getSaveFileName(
            self, "Export score", stem + suffix, EXPORT_FILTER, selected
        )
        if not name:
            return
        if not Path(name).suffix:
            name += suffix
        try:
            self.export(name)
        except (OSError, ValueError) as error:
            QMessageBox.warning(self, "Export score", f"Cannot export {Path(name).name}: {error}")
