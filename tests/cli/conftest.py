"""Fixtures for the CLI tests: small real tune files and one tiny trained run."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny import TINY_CLI_ARGS as TINY

from workbench.cli import main
from workbench.corpus import load


@pytest.fixture(scope="session")
def folk_tunes() -> list[str]:
    return [t.text for t in load(["corpus:miscFolk"]).tunes]


@pytest.fixture(scope="session")
def start_end_file(tmp_path_factory, folk_tunes) -> Path:
    """40 real tunes in the reports' <start>/<end> format, CRLF line endings."""
    path = tmp_path_factory.mktemp("data") / "tunes.txt"
    body = "".join(f"<start>\n{t}\n<end>\n" for t in folk_tunes[:40])
    path.write_bytes(body.replace("\n", "\r\n").encode("utf-8"))
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, start_end_file) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    args = [
        "train",
        str(start_end_file),
        "--out",
        str(out),
        *TINY,
        "--epochs",
        "2",
        "--eval-every",
        "10",
        "--quiet",
    ]
    assert main(args) == 0
    return out
