"""ABC syntax highlighting for a QTextDocument, driven by the Qt-free line lexer.

:class:`AbcHighlighter` asks :func:`workbench.notation.abc_lexer.lex_line` for the tokens of
each line and gives every token kind its own character format. Whether the tune body has
started (after ``K:``) depends on the lines above, so it is carried from block to block in
Qt's block state: editing a header line re-highlights the lines below only when that changes.

Two colour sets, one for light and one for dark palettes (Fusion follows the system scheme,
see :func:`workbench.app.apply_theme`); the highlighter picks by the lightness of the palette's
Base colour and :meth:`AbcHighlighter.set_palette` switches when the palette changes.
"""

from __future__ import annotations

from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

from workbench.notation.abc_lexer import lex_line

# Block states: Qt starts every block at -1 ("unknown"), which counts as "in the header".
_STATE_HEADER = 0
_STATE_BODY = 1

# kind: (light-palette colour, dark-palette colour, bold, italic). Every kind gets a colour of
# its own so a glance tells a decoration from a chord symbol; the light set keeps a contrast
# ratio of at least ~4.5 on white, the dark set on Fusion's dark Base (#2d2d2d-ish).
KIND_STYLES: dict[str, tuple[str, str, bool, bool]] = {
    "field_key": ("#1d4ed8", "#7aa2ff", True, False),
    "field_value": ("#0f766e", "#5eead4", False, False),
    "comment": ("#6b7280", "#9ca3af", False, True),
    "barline": ("#a21caf", "#f0abfc", True, False),
    "note": ("#1e293b", "#e2e8f0", False, False),
    "accidental": ("#c2410c", "#fdba74", False, False),
    "length": ("#92400e", "#fcd34d", False, False),
    "rest": ("#475569", "#94a3b8", False, False),
    "chord_symbol": ("#15803d", "#86efac", False, False),
    "decoration": ("#7c3aed", "#c4b5fd", False, False),
    "chord_bracket": ("#0e7490", "#67e8f9", True, False),
    "grace": ("#be185d", "#f9a8d4", False, False),
    "tuplet": ("#b45309", "#fbbf24", True, False),
    "slur": ("#4d7c0f", "#bef264", False, False),
    "tie": ("#0369a1", "#7dd3fc", True, False),
    "broken_rhythm": ("#9333ea", "#d8b4fe", True, False),
    "inline_field": ("#1e40af", "#93c5fd", False, True),
    "lyrics": ("#9d174d", "#fbcfe8", False, True),
    "line_continuation": ("#57534e", "#d6d3d1", True, False),
    "error": ("#dc2626", "#f87171", False, False),
}


def is_dark(palette: QPalette) -> bool:
    """True when the palette draws text on a dark background."""
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def build_formats(dark: bool) -> dict[str, QTextCharFormat]:
    """One character format per token kind for a light or dark palette."""
    formats: dict[str, QTextCharFormat] = {}
    for kind, (light_colour, dark_colour, bold, italic) in KIND_STYLES.items():
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(dark_colour if dark else light_colour))
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        if italic:
            fmt.setFontItalic(True)
        if kind == "error":
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor(dark_colour if dark else light_colour))
        formats[kind] = fmt
    return formats


def _utf16_offsets(line: str) -> list[int] | None:
    """Map str indices of ``line`` to UTF-16 positions, or None when they are the same.

    Qt counts positions in UTF-16 code units, Python in code points; they differ only after
    a character outside the Basic Multilingual Plane (rare in ABC, but an emoji in a title
    must not shift the colours of everything after it).
    """
    if line.isascii() or all(ord(ch) <= 0xFFFF for ch in line):
        return None
    offsets = [0]
    for ch in line:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offsets


class AbcHighlighter(QSyntaxHighlighter):
    """Colours ABC text in ``document`` by token kind."""

    def __init__(self, document: QTextDocument, palette: QPalette | None = None) -> None:
        super().__init__(document)
        self._dark = is_dark(palette) if palette is not None else False
        self.formats = build_formats(self._dark)

    @property
    def dark(self) -> bool:
        return self._dark

    def set_palette(self, palette: QPalette) -> None:
        """Switch colour sets if the palette went light <-> dark, and re-highlight."""
        dark = is_dark(palette)
        if dark != self._dark:
            self._dark = dark
            self.formats = build_formats(dark)
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        in_body = self.previousBlockState() == _STATE_BODY
        tokens, in_body_after = lex_line(text, in_body)
        offsets = _utf16_offsets(text)
        for token in tokens:
            fmt = self.formats.get(token.kind)
            if fmt is None or token.end <= token.start:
                continue
            start, end = token.start, token.end
            if offsets is not None:
                start, end = offsets[start], offsets[min(end, len(text))]
            self.setFormat(start, end - start, fmt)
        self.setCurrentBlockState(_STATE_BODY if in_body_after else _STATE_HEADER)
