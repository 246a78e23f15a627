from __future__ import annotations

from typing import ClassVar

from xiaodai.core.scoping import ScopedQuerySet


class CustomerRowQuerySet(ScopedQuerySet):
    """Signals and alerts are scoped through their customer as it is now, like pool members."""

    scope_branch: ClassVar[str] = "customer__branch_id"
    scope_team: ClassVar[str | None] = "customer__owner__team_id"
    scope_owner: ClassVar[str | None] = "customer__owner_id"
    scope_worker: ClassVar[str | None] = "customer__worker_id"
    scope_worker_team: ClassVar[str | None] = "customer__worker__team_id"


class RunQuerySet(ScopedQuerySet):
    """Branch-level figures of a run: a person below branch level sees none of them."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = None
    scope_owner: ClassVar[str | None] = None
