from __future__ import annotations


class ScoringError(ValueError):
    """A history file, an argument or a model file that cannot be used; the message says which and why."""


class ModelFileError(ScoringError):
    """A model file that is missing, altered, or written in another format version: it is never loaded."""
