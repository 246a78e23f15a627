from __future__ import annotations

from typing import ClassVar

from xiaodai.core.scoping import ScopedQuerySet, ThroughCustomerQuerySet


class CustomerRowQuerySet(ThroughCustomerQuerySet):
    """Signals and alerts are scoped through their customer as it is now, like pool members."""


class RunQuerySet(ScopedQuerySet):
    """Branch-level figures of a run: a person below branch level sees none of them."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = None
    scope_owner: ClassVar[str | None] = None
