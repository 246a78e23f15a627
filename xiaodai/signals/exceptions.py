from __future__ import annotations

from xiaodai.pools.exceptions import RuleError


class AlertError(ValueError):
    """A review of a compliance alert that cannot be saved (closed already, no note); the message says why."""


__all__ = ["AlertError", "RuleError"]
