from __future__ import annotations

from typing import ClassVar

from xiaodai.core.scoping import ScopedQuerySet


class AssignmentQuerySet(ScopedQuerySet):
    """An assignment is seen by its worker, their team lead and the branch head (not by the owner's team)."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "staff__team_id"
    scope_owner: ClassVar[str | None] = "staff_id"

    def active(self) -> AssignmentQuerySet:
        return self.filter(status="active")


class BatchQuerySet(ScopedQuerySet):
    """Allocation batches are branch records; a team lead sees the batches they made."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "created_by__team_id"
    scope_owner: ClassVar[str | None] = "created_by_id"
