"""Coded errors of the plans app: a code for tests and the API, a message for people."""

from __future__ import annotations

from typing import Any


class PlanError(Exception):
    """A refused write (a target, a split, a finding, a competition, an event). Nothing was changed.

    `message` is a (lazy) translated string with %(name)s placeholders filled from `params`."""

    def __init__(self, code: str, message: Any, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
        self._message = message

    @property
    def message(self) -> str:
        return str(self._message) % self.params if self.params else str(self._message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
