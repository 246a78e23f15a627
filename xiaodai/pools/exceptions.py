from __future__ import annotations

from typing import Any


class RuleError(ValueError):
    """A rule parameter that makes no sense; `field` names it, `message` says why (shown to the admin)."""

    def __init__(self, field: str, message: Any) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
