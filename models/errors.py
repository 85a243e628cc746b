"""Exceptions the engine raises for problems a user can fix (bad file, wrong device, ...).

Their messages are one line that names the file or setting and the problem; the CLI prints them
as they are and the GUI shows them in a message box. Anything else escaping is a bug.
"""


class EngineError(Exception):
    """Base class of the engine's user-facing errors."""


class DataError(EngineError):
    """The training or evaluation data cannot be used (empty, too short, ...)."""


class CheckpointError(EngineError):
    """A checkpoint is missing, corrupt, or does not fit the model or data it is used with."""


class DeviceError(EngineError):
    """The requested device (e.g. CUDA) is not available."""
