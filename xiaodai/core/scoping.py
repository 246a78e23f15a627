"""The one scoping mechanism (compliance A-02). Every list, search, export, bulk action and API call starts
from `Model.objects.for_staff(user)`; `get_scoped_or_404` turns an out-of-scope id into 404, never 403, so
another branch's record cannot be told apart from one that does not exist."""

from __future__ import annotations

from typing import Any, ClassVar, Self, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain, Level


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows which of its fields place a row in a branch, a team and with an owner.

    Subclasses set `scope_domain` and the lookups; a lookup of None means that level sees nothing more
    than the level below it.
    """

    scope_domain: ClassVar[str] = Domain.CUSTOMER
    scope_branch: ClassVar[str] = "branch_id"
    scope_team: ClassVar[str | None] = "owner__team_id"
    scope_owner: ClassVar[str | None] = "owner_id"
    # Who works the row now besides its owner: a claim or an allocation (allocation app) gives a customer a
    # worker for a while, and the worker (and their team lead) sees it as an owner would.
    scope_worker: ClassVar[str | None] = None
    scope_worker_team: ClassVar[str | None] = None

    def for_staff(self, user: Any) -> Self:
        actor = actor_of(user)
        level = actor.level(self.scope_domain)
        if level == Level.NONE or actor.branch_id is None:
            return self.none()
        if level == Level.BRANCH:
            return self.filter(**{self.scope_branch: actor.branch_id})
        if level == Level.TEAM and self.scope_team and actor.team_id is not None:
            return self.filter(
                self._either(self.scope_team, self.scope_worker_team, actor.team_id),
                **{self.scope_branch: actor.branch_id},
            )
        if self.scope_owner and actor.staff_id is not None:
            return self.filter(
                self._either(self.scope_owner, self.scope_worker, actor.staff_id),
                **{self.scope_branch: actor.branch_id},
            )
        return self.none()

    @staticmethod
    def _either(lookup: str, worker_lookup: str | None, value: int) -> models.Q:
        condition = models.Q(**{lookup: value})
        if worker_lookup:
            condition |= models.Q(**{worker_lookup: value})
        return condition


M = TypeVar("M", bound=models.Model)


def get_scoped_or_404(queryset: models.QuerySet[M], user: Any, **lookup: Any) -> M:
    """Fetch one row through the user's scope; anything else (absent, other branch, bad id) is 404."""
    scoped = queryset.for_staff(user)  # type: ignore[attr-defined]
    try:
        return scoped.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


class ThroughCustomerQuerySet(ScopedQuerySet):
    """Rows hanging off a customer (pool members, signals, alerts) are scoped through the customer as it is
    now: its branch, its owner and their team, the person working it and theirs."""

    scope_branch: ClassVar[str] = "customer__branch_id"
    scope_team: ClassVar[str | None] = "customer__owner__team_id"
    scope_owner: ClassVar[str | None] = "customer__owner_id"
    scope_worker: ClassVar[str | None] = "customer__worker_id"
    scope_worker_team: ClassVar[str | None] = "customer__worker__team_id"
