"""Coded errors of the ingest app: the code is stable, the message says what to do."""

from __future__ import annotations


class IngestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
