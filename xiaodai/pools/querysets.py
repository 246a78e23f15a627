from __future__ import annotations

from typing import ClassVar

from xiaodai.core.scoping import ScopedQuerySet, ThroughCustomerQuerySet


class MemberQuerySet(ThroughCustomerQuerySet):
    """Pool members are scoped through their customer as it is now (not as it was at the run)."""


class FigureQuerySet(ScopedQuerySet):
    """A team lead sees the rows of their team and its people; a person sees their own row only."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "team_id"
    scope_owner: ClassVar[str | None] = "owner_id"
