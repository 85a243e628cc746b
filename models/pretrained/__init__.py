"""The shipped default model: `default.pt`, its recipe and its model card (MODEL_CARD.md).

The app and `workbench generate` use it when no checkpoint is named.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "default.pt"


def default_checkpoint() -> Path | None:
    """The shipped model's path, or None in a checkout that lacks it."""
    return DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None
