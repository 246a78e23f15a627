from __future__ import annotations

from typing import ClassVar

from xiaodai.core.scoping import ScopedQuerySet


class MemberQuerySet(ScopedQuerySet):
    """Pool members are scoped through their customer as it is now (not as it was at the run)."""

    scope_branch: ClassVar[str] = "customer__branch_id"
    scope_team: ClassVar[str | None] = "customer__owner__team_id"
    scope_owner: ClassVar[str | None] = "customer__owner_id"
    scope_worker: ClassVar[str | None] = "customer__worker_id"
    scope_worker_team: ClassVar[str | None] = "customer__worker__team_id"


class FigureQuerySet(ScopedQuerySet):
    """A team lead sees the rows of their team and its people; a person sees their own row only."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "team_id"
    scope_owner: ClassVar[str | None] = "owner_id"
