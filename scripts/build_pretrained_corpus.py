"""Write the training tunes of the shipped default model (models/pretrained/) to one tunebook.

The default model learns from music21's folk collections, with two choices made here:
- `ryansMammoth` is left out entirely, so fine-tuning can be measured on ~1,100 tunes the
  model has never seen (issue 7's fine-tuning target);
- Jack Campin's layout hints in airdsAirs (`I: :: ::`, `I: ||`), which no ABC program reads
  (abc2midi calls each an error), are removed from the header;
- tunes on which abc2midi reports an `Error` are left out (18 % of corpus:folk: unmatched ties,
  fingering digits in the body, unknown `I:` fields, broken-rhythm mismatches), so the model
  learns notation other tools accept. The list of what was dropped and why is printed.

Usage: python scripts/build_pretrained_corpus.py OUT.abc
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

from workbench.corpus import load
from workbench.corpus.loader import export_abc
from workbench.notation.abc2midi import check_tunes

# `I:` lines made only of bar-line and bracket symbols: layout hints for one editor.
_LAYOUT_HINT = re.compile(r"^I:[\s:|\[\]()0-9]*$", re.MULTILINE)

COLLECTIONS = ["corpus:oneills1850", "corpus:airdsAirs", "corpus:essenFolksong", "corpus:miscFolk"]


def sorted_tunes() -> tuple[list[str], list[str], collections.Counter[str]]:
    """(kept, dropped, why): the collections' tunes without layout hints, split by whether
    abc2midi reports an error, and the commonest first error line of the dropped ones."""
    result = load(COLLECTIONS)
    tunes = [_LAYOUT_HINT.sub("", t.text).replace("\n\n", "\n") for t in result.tunes]
    reports = check_tunes(tunes)
    kept = [t for t, r in zip(tunes, reports, strict=True) if r.ok]
    dropped = [t for t, r in zip(tunes, reports, strict=True) if not r.ok]
    reasons: collections.Counter[str] = collections.Counter()
    for r in reports:
        if not r.ok:
            reasons[r.errors[0].split(" : ", 1)[-1][:60]] += 1
    return kept, dropped, reasons


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    kept, dropped, reasons = sorted_tunes()
    tunes = kept + dropped
    n = export_abc(kept, Path(argv[0]))
    print(f"{len(tunes)} tunes read, {n} kept, {len(tunes) - n} dropped for abc2midi errors")
    for reason, count in reasons.most_common(12):
        print(f"  {count:5d}  {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
