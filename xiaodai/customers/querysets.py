from __future__ import annotations

from typing import ClassVar

from xiaodai.core.scoping import ScopedQuerySet


class CustomerQuerySet(ScopedQuerySet):
    """Customers are placed by their branch, owner's team and owner, and seen by who works them."""

    scope_worker: ClassVar[str | None] = "worker_id"
    scope_worker_team: ClassVar[str | None] = "worker__team_id"


class HoldingQuerySet(ScopedQuerySet):
    """Anything that belongs to one customer is scoped through that customer."""

    scope_branch: ClassVar[str] = "customer__branch_id"
    scope_team: ClassVar[str | None] = "customer__owner__team_id"
    scope_owner: ClassVar[str | None] = "customer__owner_id"
    scope_worker: ClassVar[str | None] = "customer__worker_id"
    scope_worker_team: ClassVar[str | None] = "customer__worker__team_id"


class EnterpriseQuerySet(ScopedQuerySet):
    """Enterprises belong to a branch; below branch level, nobody owns one yet (a later issue adds it)."""

    scope_team: ClassVar[str | None] = None
    scope_owner: ClassVar[str | None] = None
