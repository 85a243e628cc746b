"""Decoding and normalising the text of data files."""

from __future__ import annotations

import codecs
import os
import unicodedata
from pathlib import Path

import pytest

from workbench.corpus.text import (
    MAX_FILE_BYTES,
    UnreadableFile,
    _build_control_table,
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


def test_invalid_utf8_sequence_of_several_bytes_falls_back_byte_by_byte() -> None:
    # E2 82 starts a 3-byte UTF-8 sequence cut short by "A": one error spanning two bytes,
    # each read as its own cp1252 character (E2 is "â", 82 a low quote).
    assert decode_bytes(b"T:\xe2\x82A\n") == "T:\u00e2\u201aA\n"


def test_invalid_utf16() -> None:
    with pytest.raises(UnreadableFile, match=r"^invalid UTF-16 text \(truncated data\)$") as caught:
        decode_bytes(codecs.BOM_UTF16_LE + b"A")
    assert caught.value.reason == "encoding"


def test_binary_reason_and_message() -> None:
    with pytest.raises(UnreadableFile, match=r"^binary file, not text$") as caught:
        decode_bytes(bytes(range(1, 32)) * 4)
    assert caught.value.reason == "binary"


def test_binary_thresholds() -> None:
    text = b"X:1\nT:Air\nK:D\nabc|\n" * 20
    assert looks_binary(text + b"\0")  # one NUL is enough, however much text surrounds it
    assert not looks_binary(text + b"\x01")  # one stray control in 401 bytes is not
    # Exactly 5 % control bytes is still text; more is binary.
    assert not looks_binary(b"\x01" + b"a" * 19)
    assert looks_binary(b"\x01\x02" + b"a" * 19)
    assert not looks_binary(b"")


def test_control_table_drops_exactly_the_unicode_control_characters() -> None:
    # Oracle: Unicode's own category Cc (C0, DEL and C1), except LF kept and TAB made a
    # space, plus the BOM.
    controls = [code for code in range(0x110000) if unicodedata.category(chr(code)) == "Cc"]
    expected: dict[int, str | None] = dict.fromkeys(controls)
    del expected[0x0A]
    expected[0x09] = " "
    expected[0xFEFF] = None
    assert _build_control_table() == expected


def test_read_text_refuses_folders_and_pipes(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match=r"^a folder, not a file$") as caught:
        read_text(tmp_path)
    assert caught.value.reason == "os-error"
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.abc"
        os.mkfifo(fifo)
        message = r"^not a regular file \(a pipe, socket or device\)$"
        with pytest.raises(UnreadableFile, match=message) as caught:
            read_text(fifo)  # must not block waiting for a writer
        assert caught.value.reason == "os-error"


def test_missing_file_message_does_not_repeat_the_path(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read_text(tmp_path / "nope.abc")
    assert str(caught.value) == "cannot read file (No such file or directory)"


def test_size_limits_are_inclusive_and_sizes_formatted(tmp_path: Path) -> None:
    path = tmp_path / "t.abc"
    path.write_bytes(b"X:1\n" * 256)  # exactly 1 KiB
    assert read_text(path, max_bytes=1024) == "X:1\n" * 256
    path.write_bytes(b"X:1\n" * 384)  # 1.5 KiB
    with pytest.raises(UnreadableFile, match=r"^file too large \(1\.5 KiB > 1000 bytes\)$"):
        read_text(path, max_bytes=1000)


def test_huge_sparse_file_in_gib(tmp_path: Path) -> None:
    path = tmp_path / "disk.img"
    with path.open("wb") as stream:  # sparse: takes no disk space and is never read
        stream.truncate(3 << 29)  # 1.5 GiB
    with pytest.raises(UnreadableFile, match=r"^file too large \(1\.5 GiB > 64 MiB\)$"):
        read_text(path)


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux /proc")
def test_file_larger_than_its_stat_size() -> None:
    # /proc files report size 0 to stat() but read back text: the limit is checked again
    # on what was read (as for a file that grew between stat() and read).
    size = len(Path("/proc/version").read_bytes())
    assert read_text("/proc/version", max_bytes=size).startswith("Linux")
    with pytest.raises(UnreadableFile) as caught:
        read_text("/proc/version", max_bytes=size - 1)
    assert str(caught.value) == f"file too large ({size} bytes > {size - 1} bytes)"
    assert caught.value.reason == "too-large"
