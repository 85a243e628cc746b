"""Preparing ABC text as a generation prompt.

The models learned tunes exactly as the corpus loader writes them: each starts with an `X:` line,
header fields one per line. A prompt is turned into that shape so it conditions the model the
way a real tune's opening does (a bare `K:G` prompt would otherwise look like nothing it has seen).
"""

from __future__ import annotations

import re

_FIELD = re.compile(r"^[A-Za-z]:")


def prepare_prompt(text: str) -> str:
    """Normalise line endings; add `X:1` if the prompt has no `X:` line; end header lines.

    A prompt whose last line is a complete header field (`K:G`, `M:6/8`) gets its newline,
    since a musician writing `K:G` means the key G, not the start of `K:Gm`.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ""
    text = text.lstrip("\n")
    if not text.startswith("X:"):
        text = "X:1\n" + text
    last = text.rsplit("\n", 1)[-1]
    if last and _FIELD.match(last):
        text += "\n"
    return text
