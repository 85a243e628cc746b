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

from PySide6.QtCore import QSettings

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


def read_text(settings: QSettings, key: str, default: str = "") -> str:
    """Text stored at `key`; `default` for a list or bytes, which no text field holds."""
    value = settings.value(key, default)
    if value is None:
        return default
    return value if isinstance(value, str) else default
