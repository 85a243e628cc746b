"""Decoding and normalising the text of data files."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from workbench.corpus.text import (
    MAX_FILE_BYTES,
    UnreadableFile,
    decode_bytes,
    looks_binary,
    normalise_text,
    read_text,
)


def test_utf8_with_and_without_bom() -> None:
    assert decode_bytes("T:Mädchen\n".encode()) == "T:Mädchen\n"
    assert decode_bytes(codecs.BOM_UTF8 + "T:Mädchen\n".encode()) == "T:Mädchen\n"


def test_latin1_and_cp1252_fallback() -> None:
    assert decode_bytes("T:Café\n".encode("latin-1")) == "T:Café\n"
    # 0x92 is a right single quote in cp1252 (a C1 control in Latin-1).
    assert decode_bytes(b"T:O\x92Neill\n") == "T:O\u2019Neill\n"
    # 0x81 is undefined in cp1252: it decodes as Latin-1 and normalisation drops it.
    assert normalise_text(decode_bytes(b"T:a\x81b\xe9\n")) == "T:abé\n"


def test_mixed_utf8_and_latin1_file() -> None:
    data = "T:Mädchen\n".encode() + "T:Café\n".encode("latin-1")
    assert decode_bytes(data) == "T:Mädchen\nT:Café\n"


def test_utf16_with_bom() -> None:
    assert decode_bytes("X:1\nT:Été\n".encode("utf-16")) == "X:1\nT:Été\n"


def test_binary_detection() -> None:
    assert looks_binary(b"abc\0def")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary(b"X:1\r\nT:Tab\there\r\nK:D\r\n")
    assert not looks_binary("Grüße\n".encode("latin-1"))
    with pytest.raises(UnreadableFile, match="binary file, not text"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")


def test_line_endings_tabs_and_controls() -> None:
    assert normalise_text("a\r\nb\rc\n") == "a\nb\nc\n"
    assert normalise_text("a\tb") == "a b"
    assert normalise_text("a\x00b\x07c\x1bd\x7fe\x85f\x9fg") == "abcdefg"
    assert normalise_text("a\ufeffb\x0c") == "ab"


def test_nfc() -> None:
    decomposed = "Cafe\u0301"
    assert normalise_text(decomposed) == "Caf\u00e9"


def test_read_text(tmp_path: Path) -> None:
    path = tmp_path / "t.abc"
    path.write_bytes(b"\xef\xbb\xbfX:1\r\nT:Caf\xc3\xa9\r\nK:D\r\n")
    assert read_text(path) == "X:1\nT:Café\nK:D\n"


@pytest.mark.parametrize("content", [b"", b"  \n\r\n", codecs.BOM_UTF8])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.abc"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=r"^empty file$") as caught:
        read_text(path)
    assert caught.value.reason == "empty"


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.abc"
    with path.open("wb") as stream:  # sparse: takes no disk space and is never read
        stream.truncate(MAX_FILE_BYTES + 1024 * 1024)
    with pytest.raises(UnreadableFile) as caught:
        read_text(path)
    assert str(caught.value) == "file too large (65 MiB > 64 MiB)"
    assert caught.value.reason == "too-large"


def test_small_limit(tmp_path: Path) -> None:
    path = tmp_path / "t.abc"
    path.write_bytes(b"X:1\n" * 512)
    with pytest.raises(UnreadableFile, match=r"file too large \(2 KiB > 1 KiB\)"):
        read_text(path, max_bytes=1024)


def test_missing_or_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read file") as caught:
        read_text(tmp_path / "nope.abc")
    assert caught.value.reason == "os-error"
    if os.name == "posix" and os.geteuid() != 0:
        locked = tmp_path / "locked.abc"
        locked.write_text("X:1\n")
        locked.chmod(0)
        with pytest.raises(UnreadableFile, match="Permission denied"):
            read_text(locked)
