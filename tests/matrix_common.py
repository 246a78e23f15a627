"""The permission matrix's vocabulary, shared by tests/test_permission_matrix.py and tests/matrix_<app>.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.conftest import Cast

PUBLIC = {"login", "set_language"}
ALL_ROLES = ["head", "lead", "mgr", "tele", "lobby", "corporate", "wealth", "ops", "auditor", "postloan"]
FRONT_LINE = ["head", "lead", "mgr", "tele", "lobby", "corporate", "wealth"]
REVEALERS = ["head", "lead", "mgr", "tele"]


@dataclass(frozen=True)
class Spec:
    method: str
    path: Callable[[Cast, str], str]  # (cast, which object: "own" or "foreign") -> URL
    allowed: list[str]
    object_scoped: bool = False
    ok_status: int = 200
    data: dict[str, str] | None = None
