from __future__ import annotations

from typing import Any, ClassVar, NoReturn, Self

from xiaodai.core.access import actor_of
from xiaodai.core.scoping import ScopedQuerySet
from xiaodai.customers.models import ImmutableRecordError


class OutcomeQuerySet(ScopedQuerySet):
    """Outcomes are append-only (C-15) and seen by who recorded them, their team lead and the branch head.
    Everything recorded about a customer is read through the customer (customer.outcomes) once the
    customer itself has been fetched through its scope."""

    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "team_id"
    scope_owner: ClassVar[str | None] = "staff_id"

    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError(self.model.__name__)

    def delete(self) -> NoReturn:
        raise ImmutableRecordError(self.model.__name__)


class FollowUpQuerySet(ScopedQuerySet):
    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "staff__team_id"
    scope_owner: ClassVar[str | None] = "staff_id"


class ScriptQuerySet(ScopedQuerySet):
    """Scripts hold no personal data: they are the branch's shared library, read by everyone in the branch
    (the views decide who may write or approve)."""

    def for_staff(self, user: Any) -> Self:
        actor = actor_of(user)
        if actor.branch_id is None:
            return self.none()
        return self.filter(branch_id=actor.branch_id)
