"""Turning the bytes of a data file into clean text.

Tune files come from all over the web: UTF-8 with or without a BOM, Latin-1/cp1252,
files glued together from both, Windows and old-Mac line endings, stray control
characters. The model is trained on characters, so every odd character that slips
through becomes part of its vocabulary; this module makes the text uniform:

* :func:`read_text` reads a file with a size limit and decodes it;
* :func:`decode_bytes` decodes bytes (UTF-8, with a per-byte cp1252/Latin-1 fallback);
* :func:`normalise_text` fixes line endings, control characters and Unicode form.

Failures are raised as :class:`UnreadableFile`, whose message is ready to show in a
:class:`~workbench.corpus.tune.Problem`.
"""

from __future__ import annotations

import codecs
import os
import stat
import unicodedata
from pathlib import Path

#: Files larger than this are refused: a tune collection is a few MiB at most, so a
#: bigger file is almost surely something else, and reading it would stall the GUI.
MAX_FILE_BYTES = 64 * 1024 * 1024

#: How much of the start of a file is inspected to tell text from binary.
BINARY_SNIFF_BYTES = 64 * 1024

#: Share of control bytes above which a NUL-free file is still called binary.
#: Random data has about 10 %; real text, even a messy one, well under 1 %.
BINARY_CONTROL_SHARE = 0.05

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# Bytes that plain text may contain: printable ASCII, everything >= 0x80 (UTF-8 or
# Latin-1), and the whitespace-like controls BEL, BS, TAB, LF, FF, CR, ESC.
_TEXT_BYTES = bytes({7, 8, 9, 10, 12, 13, 27} | set(range(0x20, 0x100)) - {0x7F})

_FALLBACK_ERRORS = "workbench-cp1252-fallback"


class UnreadableFile(Exception):
    """A file cannot be used as text; the message says why (e.g. "empty file").

    ``reason`` is a short code for programs: "too-large", "os-error", "empty",
    "binary" or "encoding".
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode bytes that are not valid UTF-8 as cp1252.

    Latin-1 bytes are almost never valid UTF-8, so decoding UTF-8 first and falling
    back per invalid sequence gives the right answer for pure UTF-8 files, pure
    cp1252/Latin-1 files, and tunebooks concatenated from both.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    # cp1252 leaves five bytes undefined; Latin-1 maps those to C1 controls, which
    # normalise_text() then drops.
    text = "".join(_decode_byte_cp1252(byte) for byte in bad)
    return text, error.end


def _decode_byte_cp1252(byte: int) -> str:
    try:
        return bytes((byte,)).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


def looks_binary(data: bytes) -> bool:
    """Tell whether ``data`` (the start of a file is enough) is binary rather than text."""
    sample = data[:BINARY_SNIFF_BYTES]
    if not sample:
        return False
    if b"\0" in sample:
        return True
    controls = len(sample.translate(None, _TEXT_BYTES))
    return controls / len(sample) > BINARY_CONTROL_SHARE


def decode_bytes(data: bytes) -> str:
    """Decode the bytes of a text file to a ``str`` (not yet normalised).

    UTF-8 (a BOM is dropped) is tried first; bytes that are not valid UTF-8 are read as
    cp1252, or Latin-1 where cp1252 has no character. UTF-16 is accepted when it starts
    with a BOM. Raises :class:`UnreadableFile` for binary data.
    """
    if data.startswith(_UTF16_BOMS):
        # Checked before the binary test: UTF-16 text is full of NUL bytes.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"invalid UTF-16 text ({error.reason})", "encoding") from None
    if looks_binary(data):
        raise UnreadableFile("binary file, not text", "binary")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors=_FALLBACK_ERRORS)


def _build_control_table() -> dict[int, str | None]:
    """Translation table: TAB becomes a space, other control characters vanish."""
    table: dict[int, str | None] = dict.fromkeys(code for code in range(0x20) if code != 0x0A)
    table[0x09] = " "
    table[0x7F] = None
    table.update(dict.fromkeys(range(0x80, 0xA0)))  # C1 controls
    # A BOM in the middle of a text is a leftover of concatenating files.
    table[0xFEFF] = None
    return table


_CONTROL_TABLE = _build_control_table()


def normalise_text(text: str) -> str:
    """Make ``text`` uniform: LF line endings, no control characters, Unicode NFC.

    CRLF and lone CR become LF, TAB becomes a space, all other C0 controls, DEL, C1
    controls and BOMs are dropped, and the result is NFC-normalised (so "é" is always
    one character, whichever way the file wrote it).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_CONTROL_TABLE)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def _format_size(size: int) -> str:
    """``1536`` -> ``"1.5 KiB"``; whole numbers lose their decimals (``"64 MiB"``)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def read_text(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read, decode and normalise the text file at ``path``.

    Raises :class:`UnreadableFile` when the file is too large, empty, binary, not a regular
    file (a folder, a FIFO) or cannot be read (the message never repeats the path: callers put
    it in a Problem's source).
    """
    path = Path(path)
    try:
        info = path.stat()
        # A pipe or device would block the read (forever, for a FIFO nobody writes to).
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile("a folder, not a file", "os-error")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile("not a regular file (a pipe, socket or device)", "os-error")
        size = info.st_size
        # Checked before reading so a stray disk image never gets loaded into memory.
        if size > max_bytes:
            raise UnreadableFile(
                f"file too large ({_format_size(size)} > {_format_size(max_bytes)})",
                "too-large",
            )
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"cannot read file ({error.strerror or error})", "os-error") from None
    if len(data) > max_bytes:  # the file grew between stat() and read
        raise UnreadableFile(
            f"file too large ({_format_size(len(data))} > {_format_size(max_bytes)})",
            "too-large",
        )
    text = normalise_text(decode_bytes(data))
    # A file of nothing but whitespace, a BOM or control characters is empty too.
    if not text.strip():
        raise UnreadableFile("empty file", "empty")
    return text
