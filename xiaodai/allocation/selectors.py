"""Reads behind the claim and allocation pages.

The claimable list is the one deliberate view of customers beyond a person's own scope (compliance A-02):
the *unowned*, workable pool customers of their branch (of their sub-branch when they have one), so that
somebody can take them. Owned customers appear only when the viewer owns them, which is exactly what
`for_staff` would show them; nothing owned by anybody else is ever listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When

from xiaodai.allocation import choices as c
from xiaodai.allocation.models import Assignment
from xiaodai.core.access import Actor, actor_of
from xiaodai.core.roles import ROLE_PERMS, Domain, Level, Perm
from xiaodai.customers.models import Enterprise, OptOut
from xiaodai.org.choices import TeamKind
from xiaodai.org.models import Staff, Team
from xiaodai.pools.models import PoolMember

# Roles that work call lists: the people claims, allocations and hand-offs may give customers to.
WORKER_ROLES: tuple[str, ...] = tuple(sorted(r for r, p in ROLE_PERMS.items() if Perm.WORK_CALLS in p))

CLAIMABLE_SORTS: dict[str, tuple[Any, ...]] = {
    "-expected_value": (F("expected_value").desc(nulls_last=True), F("potential").desc(), "customer_id"),
    "expected_value": (F("expected_value").asc(nulls_last=True), F("potential").desc(), "customer_id"),
    "-probability": (F("probability").desc(nulls_last=True), "customer_id"),
    "-potential": (F("potential").desc(), "customer_id"),
    "potential": (F("potential").asc(), "customer_id"),
}
DEFAULT_SORT = "-expected_value"


def opted_out() -> Exists:
    """The member's customer asked not to be contacted at all (an opt-out without a channel)."""
    return Exists(OptOut.objects.filter(customer_id=OuterRef("customer_id"), channel=""))


def workable_members(branch_id: int | None, pool: str = "") -> QuerySet[PoolMember]:
    """Pool members of a branch that may be worked now: workable in the latest published run and, since
    that run, neither flagged vulnerable (C-18) nor opted out (C-02). One row per customer: the member of
    `pool`, or each customer's primary pool."""
    qs = PoolMember.objects.filter(
        customer__branch_id=branch_id or 0, blocked=0, customer__is_vulnerable=False
    ).filter(~opted_out())
    return qs.filter(pool=pool) if pool else qs.filter(is_primary=True)


def below_branch(actor: Actor) -> bool:
    """Everyone but a branch-level viewer is held to their own sub-branch for unowned customers."""
    return actor.level(Domain.CUSTOMER) != Level.BRANCH and actor.sub_branch_id is not None


def claimable(user: Any, *, pool: str = "", sub_branch: int | None = None) -> QuerySet[PoolMember]:
    """Pool members the user may claim now: unowned (or owned by the user), nobody works them, workable."""
    actor = actor_of(user)
    if not actor.has(Perm.CLAIM_CUSTOMERS) or actor.branch_id is None or actor.staff_id is None:
        return PoolMember.objects.none()
    qs = workable_members(actor.branch_id, pool).filter(
        Q(customer__owner__isnull=True) | Q(customer__owner_id=actor.staff_id),
        customer__worker__isnull=True,
    )
    if below_branch(actor):
        qs = qs.filter(customer__sub_branch_id=actor.sub_branch_id)
    if sub_branch is not None:
        qs = qs.filter(customer__sub_branch_id=sub_branch)
    return qs


def claimable_page_rows(
    user: Any, *, pool: str = "", sub_branch: int | None = None, sort: str = DEFAULT_SORT
) -> QuerySet[PoolMember]:
    """The claimable list as the page shows it: sorted, with the customer and sub-branch in one query."""
    order = CLAIMABLE_SORTS.get(sort, CLAIMABLE_SORTS[DEFAULT_SORT])
    qs = claimable(user, pool=pool, sub_branch=sub_branch)
    return qs.select_related("customer", "customer__sub_branch").order_by(*order)


def open_claims(staff_id: int) -> int:
    """How many claims the person has open (what ClaimPolicy.max_claims limits)."""
    return Assignment.objects.filter(staff_id=staff_id, status=c.Status.ACTIVE, kind=c.Kind.CLAIM).count()


def assignments(user: Any, *, mine: bool = True) -> QuerySet[Assignment]:
    """Active assignments in the user's scope (their own, or all they may see: a lead's team, a head's
    branch), soonest to lapse first, with what the rows show in the same query."""
    actor = actor_of(user)
    qs = Assignment.objects.for_staff(user).filter(status=c.Status.ACTIVE)
    if mine:
        qs = qs.filter(staff_id=actor.staff_id or 0)
    related = ("customer", "customer__sub_branch", "staff", "team", "previous__staff")
    return qs.select_related(*related).order_by(
        F("lapses_on").asc(nulls_last=True), "protected_until", "customer_id"
    )


def sees_beyond_own(user: Any) -> bool:
    """A lead or a head can switch the assignment list to everything they may see."""
    return actor_of(user).level(Domain.CUSTOMER) in (Level.TEAM, Level.BRANCH)


def workers(branch_id: int | None) -> QuerySet[Staff]:
    """Active people of a branch who work call lists."""
    return Staff.objects.filter(branch_id=branch_id or 0, role__in=WORKER_ROLES, user__is_active=True)


def allocation_people(user: Any) -> QuerySet[Staff]:
    """Whom the user may allocate to: a head anyone of the branch who works call lists, a team lead the
    members of their own team."""
    actor = actor_of(user)
    if not actor.has(Perm.ALLOCATE):
        return Staff.objects.none()
    qs = workers(actor.branch_id).select_related("team", "user")
    if actor.level(Domain.CUSTOMER) != Level.BRANCH:
        qs = qs.filter(team_id=actor.team_id) if actor.team_id is not None else qs.none()
    return qs.order_by("team__name", "name", "pk")


def allocation_teams(user: Any) -> QuerySet[Team]:
    """Teams the user may allocate to: every team of the branch for a head, their own for a lead."""
    if not actor_of(user).has(Perm.ALLOCATE):
        return Team.objects.none()
    return Team.objects.for_staff(user).order_by("name", "pk")


def handoff_receivers(assignment: Assignment) -> QuerySet[Staff]:
    """Whom an assignment may be handed to: active call workers of its branch, follow-up teams first."""
    qs = workers(assignment.branch_id).exclude(pk=assignment.staff_id).select_related("team")
    follow_up_first = Case(When(team__kind=TeamKind.FOLLOW_UP, then=Value(0)), default=Value(1))
    return qs.annotate(rank=follow_up_first).order_by("rank", "team__name", "name", "pk")


def channel_receivers(branch_id: int) -> QuerySet[Staff]:
    """Whom a channel may be handed to: active call workers of the branch, follow-up teams first."""
    follow_up_first = Case(When(team__kind=TeamKind.FOLLOW_UP, then=Value(0)), default=Value(1))
    qs = workers(branch_id).select_related("team").annotate(rank=follow_up_first)
    return qs.order_by("rank", "team__name", "name", "pk")


def worked_channels(user: Any) -> QuerySet[Enterprise]:
    """Enterprises (payroll channels) some of whose customers the user or their team works now."""
    worked = Assignment.objects.for_staff(user).filter(status="active", control=False)
    ids = worked.filter(customer__payroll_enterprise__isnull=False).values("customer__payroll_enterprise_id")
    return Enterprise.objects.filter(pk__in=ids).order_by("name")


@dataclass(frozen=True)
class ClaimFilter:
    """The claimable page's filters: codes and ids only."""

    pool: str = ""
    sub_branch: int | None = None
    sort: str = DEFAULT_SORT
