"""Reading values back from the user's settings file without trusting it.

QSettings' INI format hands every value back as text (or a list, or a QByteArray), and the file
can be hand-edited, half-written by a crash or synced from another machine. A number that does
not parse, is not finite, or does not fit the widget it goes into must not stop the window from
opening, nor make the other settings fall back to their defaults: each reader returns the
default for a value it cannot use and clamps a number into the range its widget accepts (a
QSpinBox raises OverflowError for Python ints beyond 32 bits).
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

from PySide6.QtCore import QSettings

from workbench.atomic_files import write_bytes_atomically

#: The range of a QSpinBox's int (C++ int, 32 bits).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:  # a list, a QByteArray, None: not a number
        return None
    return number if math.isfinite(number) else None


def read_int(
    settings: QSettings, key: str, default: int, low: int = INT_MIN, high: int = INT_MAX
) -> int:
    """The integer stored at `key`, clamped to [low, high]; `default` when it is not one."""
    number = _number(settings.value(key, default))
    if number is None or number != int(number):
        return default
    return max(low, min(high, int(number)))


def read_float(
    settings: QSettings, key: str, default: float, low: float = -math.inf, high: float = math.inf
) -> float:
    """The finite number stored at `key`, clamped to [low, high]; `default` when it is not one."""
    number = _number(settings.value(key, default))
    if number is None:
        return default
    return max(low, min(high, number))


def read_bool(settings: QSettings, key: str, default: bool) -> bool:
    """A boolean as the INI format stores it ("true"/"false"); `default` for anything else."""
    value = settings.value(key, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return default


def read_string(settings: QSettings, key: str, default: str = "") -> str:
    """Text stored at `key`; `default` for a list or bytes, which no text field holds."""
    value = settings.value(key, default)
    if value is None:
        return default
    return value if isinstance(value, str) else default


# -- values that would run code ----------------------------------------------------------------

# Qt's INI escapes (`\x41`, octal `\101`) are undone before a value is read, so `@Variant(` may be
# spelled with them; undo them the same way before looking.
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{1,4})|\\([0-7]{1,3})")


def _unescaped(text: str) -> str:
    return _ESCAPE.sub(
        lambda m: chr(int(m.group(1), 16) if m.group(1) else int(m.group(2), 8)), text
    )


def drop_stored_objects(settings: QSettings) -> int:
    """Remove every `@Variant(...)` value from the INI file behind `settings`; return how many.

    PySide6 unpickles a `@Variant(PySide::PyObjectWrapper ...)` value when `QSettings.value()`
    reads it, so a crafted settings file would run code (found by tests/ui/test_ui_no_network.py).
    The app never writes such values (numbers, text, lists and `@ByteArray` geometry only), so
    the lines that hold one are dropped before anything is read, and the file is read again.
    Call it before the first `value()` of a session.
    """
    if settings.format() != QSettings.Format.IniFormat and not sys.platform.startswith("linux"):
        return 0  # the Windows registry and macOS plists hold no INI text to clean
    path = Path(settings.fileName())
    try:
        raw = path.read_bytes()
    except OSError:
        return 0  # no file yet (a first start), or unreadable: QSettings reads nothing either
    lines = raw.decode("utf-8", errors="replace").splitlines(keepends=True)
    kept: list[str] = []
    dropped = 0
    entry: list[str] = []
    for line in lines:
        entry.append(line)
        # A value that ends in a backslash goes on on the next line (Qt's INI continuation).
        if line.rstrip("\r\n").endswith("\\") and not line.rstrip("\r\n").endswith("\\\\"):
            continue
        if "@variant(" in _unescaped("".join(entry)).lower():
            dropped += 1
        else:
            kept.extend(entry)
        entry = []
    kept.extend(entry)
    if dropped:
        write_bytes_atomically(path, "".join(kept).encode("utf-8"))
        settings.sync()  # read the cleaned file instead of the cached one
    return dropped
