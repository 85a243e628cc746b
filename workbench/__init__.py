"""Composition Workbench: train character-level RNNs on folk tunes in ABC notation."""

__version__ = "0.1.0"
