"""The torch side of Composition Workbench: tokenizers, data, networks, training, sampling.

Qt-free and application-free (an import-linter contract enforces it), so the CLI, the GUI's
trainer process, the tests and a cluster node all run exactly this code.
"""

from models.errors import CheckpointError, DataError, DeviceError, EngineError

__all__ = ["CheckpointError", "DataError", "DeviceError", "EngineError"]
