"""The list of generated tunes: summary, validity badges, actions and export.

Each row shows a tune's title, key, meter, bar count and two badges: whether its bars fit the
meter (`tune_info`, fast, computed when the row is added) and whether music21 parses it
(`parses_in_music21`, ~100 ms a tune, checked on a worker thread and filled in when ready).
Selecting a row shows its text and makes it what the Playback bar's Play plays
(`session.choose_result`). The actions talk to the rest of the app through the session:
Send to editor sets `session.prompt`, Play asks for playback, Inspect opens the neuron viewer.

Keeping: the star (★, "Keep") marks the tunes the musician picks, for "Kept tunes" exports
and "Discard all not kept". The list itself lives only as long as the window, so a tune is
*saved* once it is safe outside it: exported to a file or sent to the editor (which keeps its
document across sessions). The Saved column says where, a label counts them, and quitting asks
about the tunes not saved, starred or not (the pane's `confirm_close`).

A MIDI event model's pieces (`GeneratedPiece`) share the list: their row shows the meter and
bars of their MIDI, the key music21 hears, and whether the events decoded to notes and music21
reads the MIDI (checked on the worker, as a tune's parse is); their text is their events, laid
out by bar. Play plays their MIDI; Send to editor and Compare are for ABC tunes and say so; the
export formats offered are those that suit what the list holds (a piece exports as MIDI,
MusicXML through music21, or WAV).

Exports run on a worker thread and end with a summary of what was written and what failed.
One tune goes through a save dialog proposing its title as the file name; several go into a
folder under their titles, and files already there are replaced only when the user says so
(`workbench.ui.export_dialogs`). An untitled tune's export carries the title the list shows.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.generation import (
    ExportSummary,
    GeneratedPiece,
    GeneratedTune,
    PieceCheck,
    check_piece,
    export_choices,
    export_results,
    parse_problem,
    result_export_names,
)
from workbench.midi_data.stats import preview_text
from workbench.session import PlayRequest, Session
from workbench.ui.export_dialogs import ask_folder, ask_save_path, names_in_folder
from workbench.ui.widgets.compare_dialog import CompareDialog
from workbench.ui.workers.generation_worker import TaskRunner

COL_KEEP, COL_TITLE, COL_KEY, COL_METER, COL_BARS, COL_VALID, COL_SAVED = range(7)
HEADERS = ("★", "Title", "Key", "Meter", "Bars", "Valid", "Saved")
SCOPES = (("selected", "Selected tunes"), ("kept", "Kept tunes"), ("all", "All tunes"))
FILTERS = {
    "abc": "ABC files (*.abc)",
    "tunebook": "ABC files (*.abc)",
    "mid": "MIDI files (*.mid)",
    "musicxml": "MusicXML files (*.musicxml)",
    "wav": "WAV audio (*.wav)",
}
_UID = Qt.ItemDataRole.UserRole


def _check_parse(text: str) -> str:
    """ "" when music21 reads `text`, else its one-line reason (worker thread)."""
    from workbench.notation.tune_info import parses_in_music21

    return parses_in_music21(text) or ""


#: Why the ABC-only actions are disabled for a MIDI piece.
ABC_ONLY = "For ABC tunes only: a MIDI piece has no ABC text"
Generated = GeneratedTune | GeneratedPiece


def piece_badge(piece: GeneratedPiece) -> tuple[str, str]:
    """The validity column of a MIDI piece: its events decode to notes; music21 reads it."""
    if piece.midi:
        notes = "✓ notes"
        notes_tip = f"{piece.notes} notes, {piece.seconds:.1f} s, {piece.events} events"
    else:
        notes, notes_tip = "✗ notes", f"no MIDI: {piece.decode_error}"
    if piece.parse_error is None:
        parse, parse_tip = "… parse", "music21 check running"
    elif piece.parse_error == "":
        parse, parse_tip = "✓ parse", "music21 reads its MIDI (MusicXML export works)"
    else:
        parse, parse_tip = "✗ parse", f"music21: {piece.parse_error}"
    return f"{notes} · {parse}", f"{notes_tip}\n{parse_tip}"


def play_request(tune: Generated) -> PlayRequest | None:
    """What Play plays for a result: a tune's ABC, a piece's MIDI (None: it has no notes)."""
    if tune.kind == "events":
        return PlayRequest(tune.title, midi=tune.midi) if tune.midi else None
    return PlayRequest(tune.title, abc=tune.text)


def badge(tune: Generated) -> tuple[str, str]:
    """The validity column's text and tooltip for `tune` (or a MIDI piece)."""
    if tune.kind == "events":
        return piece_badge(tune)
    s = tune.summary
    if s.bars_fit:
        bars, bars_tip = "✓ bars", "every bar fits the meter"
    else:
        shown = ", ".join(str(b) for b in s.misfit_bars[:8])
        bars, bars_tip = "✗ bars", f"bars that do not fit the meter: {shown}"
    if tune.parse_error is None:
        parse, parse_tip = "… parse", "music21 check running"
    elif tune.parse_error == "":
        parse, parse_tip = "✓ parse", "music21 reads it"
    else:
        parse, parse_tip = "✗ parse", f"music21: {tune.parse_error}"
    return f"{bars} · {parse}", f"{bars_tip}\n{parse_tip}"


class GenerationResults(QWidget):
    """Generated tunes, newest last; keeps, discards, compares, sends and exports them."""

    export_finished = Signal(object)  # ExportSummary
    export_failed = Signal(str)
    parse_checked = Signal(int)  # uid of the tune whose music21 check just finished
    sent_to_editor = Signal(object)  # the GeneratedTune, just before the editor gets it

    def __init__(
        self, session: Session, parent: QWidget | None = None, settings: QSettings | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings if settings is not None else QSettings()
        self._renamed: list[tuple[str, str]] = []  # (name, free name) for the next export
        self._tunes: dict[int, GeneratedTune] = {}
        self._items: dict[int, QTreeWidgetItem] = {}
        # What the loaded model writes: the formats offered while the list is empty.
        self._model_kind = "chars"
        self._checker = TaskRunner(self)
        self._exporter = TaskRunner(self)
        self.compare_dialog: CompareDialog | None = None
        self.last_export: ExportSummary | None = None

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(HEADERS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        for col in (COL_KEEP, COL_KEY, COL_METER, COL_BARS, COL_VALID, COL_SAVED):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text_view.setPlaceholderText("Select a tune to read it")

        self.send_button = QPushButton("Send to editor")
        self.play_button = QPushButton("Play")
        self.inspect_button = QPushButton("Inspect neurons")
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("Select two tunes to compare them side by side")
        self.keep_button = QPushButton("Keep ★")
        self.keep_button.setToolTip("Keep or un-keep the selected tunes")
        self.discard_button = QPushButton("Discard")
        self.discard_unkept_button = QPushButton("Discard all not kept")
        self.scope_combo = QComboBox()
        for key, label in SCOPES:
            self.scope_combo.addItem(label, key)
        self.format_combo = QComboBox()
        for choice in export_choices({"chars"}):
            self.format_combo.addItem(choice.label, choice.fmt)
        self.export_button = QPushButton("Export…")
        self.saved_label = QLabel()
        self.saved_label.setToolTip(
            "A tune is saved once exported or sent to the editor; quitting asks about the rest"
        )
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Two rows: in one, the buttons needed 716 px, more than a 1366-px screen's column.
        actions = QHBoxLayout()
        for button in (self.send_button, self.play_button, self.inspect_button):
            actions.addWidget(button)
        actions.addStretch(1)
        keeping = QHBoxLayout()
        for button in (
            self.compare_button,
            self.keep_button,
            self.discard_button,
            self.discard_unkept_button,
        ):
            keeping.addWidget(button)
        keeping.addStretch(1)
        keeping.addWidget(self.saved_label)
        export_row = QHBoxLayout()
        export_row.addWidget(QLabel("Export"))
        export_row.addWidget(self.scope_combo)
        export_row.addWidget(QLabel("as"))
        export_row.addWidget(self.format_combo)
        export_row.addWidget(self.export_button)
        export_row.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.text_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addLayout(keeping)
        layout.addLayout(export_row)
        layout.addWidget(self.status_label)

        self.tree.itemSelectionChanged.connect(self._on_tree_selection_changed)
        # A click on the selected tune (after working in the editor) chooses it to play again.
        self.tree.itemPressed.connect(lambda _item, _column: self._choose_to_play())
        self.send_button.clicked.connect(self._on_send_clicked)
        self.play_button.clicked.connect(self._on_play_clicked)
        self.inspect_button.clicked.connect(self._on_inspect_clicked)
        self.compare_button.clicked.connect(self.compare_selected)
        self.keep_button.clicked.connect(self._on_keep_clicked)
        self.discard_button.clicked.connect(self.discard_selected)
        self.discard_unkept_button.clicked.connect(self.discard_unkept)
        self.export_button.clicked.connect(self._on_export_clicked)
        self._exporter.idle.connect(self._update_buttons)
        self._update_buttons()
        self._update_saved_label()

    # -- contents ----------------------------------------------------------------------------

    def tunes(self) -> list[GeneratedTune]:
        """Every tune in the list, in list order."""
        order = [self.tree.topLevelItem(i).data(COL_KEEP, _UID) for i in range(self.count())]
        return [self._tunes[uid] for uid in order]

    def count(self) -> int:
        return self.tree.topLevelItemCount()

    def selected_tunes(self) -> list[GeneratedTune]:
        rows = sorted(self.tree.indexOfTopLevelItem(item) for item in self.tree.selectedItems())
        return [self._tunes[self.tree.topLevelItem(r).data(COL_KEEP, _UID)] for r in rows]

    def add_tunes(self, tunes: list[Generated]) -> None:
        """Append `tunes` (or MIDI pieces) and queue their music21 checks."""
        for tune in tunes:
            self._tunes[tune.uid] = tune
            item = QTreeWidgetItem()
            item.setData(COL_KEEP, _UID, tune.uid)
            self._items[tune.uid] = item
            self._fill(item, tune)
            self.tree.addTopLevelItem(item)
            if tune.kind == "events":
                self._checker.submit(
                    lambda midi=tune.midi: check_piece(midi),
                    lambda check, uid=tune.uid: self._on_piece_checked(uid, check),
                    lambda message, uid=tune.uid: self._on_piece_checked(uid, PieceCheck(message)),
                )
            else:
                self._checker.submit(
                    lambda text=tune.text: parse_problem(text),
                    lambda error, uid=tune.uid: self._on_parse_checked(uid, error),
                    lambda message, uid=tune.uid: self._on_parse_checked(uid, message),
                )
        self._update_buttons()
        self._update_saved_label()
        self._update_formats()

    def set_model_kind(self, kind: str) -> None:
        """The loaded model writes `kind` ("chars" or "events"): an empty list offers its
        formats, so the Export row does not show ABC formats beside a MIDI model."""
        self._model_kind = kind
        self._update_formats()

    def _update_formats(self) -> None:
        """Offer the export formats that suit what the list holds (a piece has no ABC), or
        with nothing listed, what the loaded model writes."""
        kinds = {t.kind for t in self._tunes.values()} or {self._model_kind}
        choices = export_choices(kinds)
        wanted = [c.fmt for c in choices]
        if wanted == [self.format_combo.itemData(i) for i in range(self.format_combo.count())]:
            return
        current = self.format_combo.currentData()
        self.format_combo.blockSignals(True)
        self.format_combo.clear()
        for choice in choices:
            self.format_combo.addItem(choice.label, choice.fmt)
        index = self.format_combo.findData(current)
        self.format_combo.setCurrentIndex(
            index if index >= 0 else self.format_combo.findData("mid")
        )
        self.format_combo.blockSignals(False)

    def unsaved(self) -> list[GeneratedTune]:
        """The tunes neither exported nor sent to the editor, in list order: quitting loses
        them."""
        return [t for t in self.tunes() if not t.saved_to]

    def mark_saved(self, tune: GeneratedTune, where: str) -> None:
        """Note that `tune` is safe outside the list: "exported to …", "sent to the editor"."""
        tune.saved_to = where
        if tune.uid in self._items:
            self._fill(self._items[tune.uid], tune)
        self._update_saved_label()

    def _update_saved_label(self) -> None:
        saved = sum(bool(t.saved_to) for t in self._tunes.values())
        self.saved_label.setText(f"{saved} of {len(self._tunes)} saved" if self._tunes else "")

    def select(self, rows: list[int]) -> None:
        self.tree.clearSelection()
        if rows:
            # NoUpdate: making an item current must not replace the selection with it alone.
            no_update = QItemSelectionModel.SelectionFlag.NoUpdate
            self.tree.setCurrentItem(self.tree.topLevelItem(rows[-1]), 0, no_update)
        for r in rows:
            self.tree.topLevelItem(r).setSelected(True)

    def pause_checks(self, paused: bool) -> None:
        """Hold the music21 checks back (while sampling: they would compete for the GIL)."""
        self._checker.set_paused(paused)

    def wait_checks(self, timeout_ms: int = 60_000) -> bool:
        """Block until the queued music21 checks are done (tests, benchmarks)."""
        return self._checker.wait_idle(timeout_ms)

    def _fill(self, item: QTreeWidgetItem, tune: Generated) -> None:
        item.setText(COL_KEEP, "★" if tune.kept else "")
        if tune.saved_to.startswith("exported"):
            item.setText(COL_SAVED, "file")
        else:
            item.setText(COL_SAVED, "editor" if tune.saved_to else "")
        item.setToolTip(
            COL_SAVED,
            tune.saved_to.capitalize() or "Not saved yet: export it or send it to the editor",
        )
        item.setText(COL_TITLE, tune.title)
        if tune.kind == "events":
            item.setText(COL_KEY, tune.key)
            item.setToolTip(COL_KEY, "The key music21 hears in it" if tune.key else "")
            item.setText(COL_METER, tune.meter)
            item.setText(COL_BARS, str(tune.bars))
        else:
            s = tune.summary
            item.setText(COL_KEY, s.key)
            item.setText(COL_METER, s.meter)
            item.setText(COL_BARS, str(s.bars))
        text, tip = badge(tune)
        item.setText(COL_VALID, text)
        item.setToolTip(COL_VALID, tip)
        item.setToolTip(COL_TITLE, f"seed {tune.seed}, variation {tune.index + 1}")

    def _on_piece_checked(self, uid: int, check: PieceCheck) -> None:
        piece = self._tunes.get(uid)
        if piece is None:  # discarded while it was checked
            return
        piece.parse_error, piece.key = check.error, check.key
        self._fill(self._items[uid], piece)
        self.parse_checked.emit(uid)

    def _on_parse_checked(self, uid: int, error: str) -> None:
        tune = self._tunes.get(uid)
        if tune is None:  # discarded while it was checked
            return
        tune.parse_error = error
        self._fill(self._items[uid], tune)
        self.parse_checked.emit(uid)

    # -- actions -----------------------------------------------------------------------------

    def _current(self) -> GeneratedTune | None:
        selected = self.selected_tunes()
        return selected[0] if len(selected) == 1 else None

    def _update_buttons(self) -> None:
        selected = self.selected_tunes()
        one = len(selected) == 1
        pieces = any(t.kind == "events" for t in selected)
        for button in (self.send_button, self.play_button, self.inspect_button):
            button.setEnabled(one)
        if one and selected[0].kind == "events" and not selected[0].midi:
            self.play_button.setEnabled(False)  # its events hold no notes
        # Send and Compare work on ABC text (the editor, two scores): not for a MIDI piece.
        self.send_button.setEnabled(one and not pieces)
        self.send_button.setToolTip(ABC_ONLY if pieces else "")
        self.compare_button.setEnabled(len(selected) == 2 and not pieces)
        self.compare_button.setToolTip(
            ABC_ONLY if pieces else "Select two tunes to compare them side by side"
        )
        self.keep_button.setEnabled(bool(selected))
        self.discard_button.setEnabled(bool(selected))
        self.discard_unkept_button.setEnabled(any(not t.kept for t in self._tunes.values()))
        self.export_button.setEnabled(bool(self._tunes) and not self._exporter.is_busy())

    def _on_tree_selection_changed(self) -> None:
        tune = self._current()
        if tune is not None and tune.kind == "events":
            self.text_view.setPlainText(preview_text(tune.text))
        else:
            self.text_view.setPlainText(tune.text if tune else "")
        self._update_buttons()
        self._choose_to_play()

    def _choose_to_play(self) -> None:
        """The selected tune (one) is what the transport's Play plays: `session.play_choice`."""
        tune = self._current()
        self.session.choose_result(play_request(tune) if tune else None)

    def _on_send_clicked(self) -> None:
        if (tune := self._current()) is not None:
            if not tune.saved_to.startswith("exported"):
                self.mark_saved(tune, "sent to the editor")
            self.sent_to_editor.emit(tune)
            self.session.prompt = tune.text

    def _on_play_clicked(self) -> None:
        tune = self._current()
        if tune is not None and (request := play_request(tune)) is not None:
            self.session.request_play(request)

    def _on_inspect_clicked(self) -> None:
        if (tune := self._current()) is not None:
            self.session.request_inspect(tune.text)

    def compare_selected(self) -> CompareDialog | None:
        selected = self.selected_tunes()
        if len(selected) != 2:
            return None
        if self.compare_dialog is not None:
            self.compare_dialog.done(0)
        self.compare_dialog = CompareDialog(selected[0], selected[1], self)
        self.compare_dialog.show()
        return self.compare_dialog

    def _on_keep_clicked(self) -> None:
        selected = self.selected_tunes()
        # Like a star toggle: keep them all unless all are kept already.
        keep = not all(t.kept for t in selected)
        for tune in selected:
            self.set_kept(tune, keep)

    def set_kept(self, tune: GeneratedTune, kept: bool = True) -> None:
        tune.kept = kept
        self._fill(self._items[tune.uid], tune)
        self._update_buttons()

    def discard(self, tunes: list[GeneratedTune]) -> None:
        for tune in tunes:
            item = self._items.pop(tune.uid, None)
            self._tunes.pop(tune.uid, None)
            if item is not None:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self._update_buttons()
        self._update_saved_label()
        self._update_formats()

    def discard_selected(self) -> None:
        self.discard(self.selected_tunes())

    def discard_unkept(self) -> None:
        self.discard([t for t in self._tunes.values() if not t.kept])

    # -- export ------------------------------------------------------------------------------

    def scope_tunes(self, scope: str) -> list[GeneratedTune]:
        if scope == "selected":
            return self.selected_tunes()
        if scope == "kept":
            return [t for t in self.tunes() if t.kept]
        return self.tunes()

    def export(
        self,
        tunes: list[GeneratedTune],
        destination: Path,
        fmt: str,
        names: list[str] | None = None,
    ) -> bool:
        """Export `tunes` to `destination` on a worker thread; False if there is nothing to do.

        A folder export writes `names` (one per tune; by default from their titles) and
        replaces files of those names: the dialogs (`_on_export_clicked`) ask first.
        `export_finished(ExportSummary)` or `export_failed(message)` follows; each tune
        exported is then saved.
        """
        if not tunes:
            self.status_label.setText("Nothing to export: no tunes in that choice.")
            return False
        exporting, renamed = list(tunes), self._renamed  # renamed: set by the dialogs
        self._renamed = []
        noun = "pieces" if all(t.kind == "events" for t in tunes) else "tunes"
        self.status_label.setText(f"Exporting {len(exporting)} {noun}…")
        # An untitled tune's export carries the title shown; a piece exports its MIDI.
        self._exporter.submit(
            lambda: export_results(exporting, Path(destination), fmt, names),
            lambda summary: self._on_exported(summary, exporting, renamed),
            self._on_export_failed,
        )
        self._update_buttons()
        return True

    def wait_export(self, timeout_ms: int = 60_000) -> bool:
        return self._exporter.wait_idle(timeout_ms)

    def _on_export_clicked(self) -> None:
        tunes = self.scope_tunes(self.scope_combo.currentData())
        if not tunes:
            self.status_label.setText("Nothing to export: no tunes in that choice.")
            return
        fmt = self.format_combo.currentData()
        choice = next(c for c in export_choices() if c.fmt == fmt)
        self._renamed = []
        if choice.to_file or len(tunes) == 1:
            # One file: a save dialog proposing the tune's title (it asks before replacing).
            title = tunes[0].title if len(tunes) == 1 else "tunes"
            caption = "Export tunebook" if choice.to_file else f"Export as {choice.label}"
            path, _ = ask_save_path(
                self, self.settings, caption, title, choice.suffix, FILTERS.get(fmt, "")
            )
            if path is None:
                return
            if choice.to_file:
                self.export(tunes, path, fmt)
            else:
                self.export(tunes, path.parent, fmt, [path.name])
            return
        folder = ask_folder(
            self, self.settings, f"Export {len(tunes)} tunes as {choice.label} into"
        )
        if folder is None:
            return
        names, self._renamed = names_in_folder(self, folder, result_export_names(tunes, fmt))
        if names is None:
            self.status_label.setText("Export cancelled: nothing written.")
            return
        self.export(tunes, folder, fmt, names)

    def _on_exported(
        self,
        summary: ExportSummary,
        tunes: list[GeneratedTune],
        renamed: list[tuple[str, str]],
    ) -> None:
        self.last_export = summary
        for tune, path in zip(tunes, summary.per_tune, strict=False):
            if path is not None:
                self.mark_saved(tune, f"exported to {path}")
        text = summary.text()
        if renamed:
            text += "\nThe files already there were kept; the new ones are " + ", ".join(
                f"{new} (not {old})" for old, new in renamed
            )
        self.status_label.setText(text)
        self._update_buttons()
        self.export_finished.emit(summary)

    def _on_export_failed(self, message: str) -> None:
        self.status_label.setText(f"Export failed: {message}")
        self._update_buttons()
        self.export_failed.emit(message)

    def shutdown(self) -> None:
        """Stop the background checks and wait for a running export (before the app quits)."""
        if self.compare_dialog is not None:
            self.compare_dialog.done(0)  # ends its score views' render processes
            self.compare_dialog = None
        self._checker.shutdown()
        self._exporter.shutdown()
