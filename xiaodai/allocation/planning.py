"""Planning a bulk allocation (行内分配): which customer goes to whom, computed the same way for the preview
and, inside the commit's transaction, for the commit.

The rules: only workable pool customers the allocator may place (a branch head: the branch; a team lead:
what their scope shows plus the unowned customers of their sub-branch); a customer somebody already works is
skipped; a customer with an owner goes to the owner, whoever the targets are, and counts against the owner's
capacity; the others go, best expected value first, to the target with the most room left (people with the
same room take turns). A deterministic share of the allocated customers — drawn from a hash of the
customer's id and the batch's seed, so the preview and the commit agree — is held back as the control group:
assigned but never called, and not counted against capacity.

Reads are a handful of set-based queries whatever the size; the distribution is a single pass in Python
(a heap over the targets), so 200,000 customers plan in a couple of seconds.
"""

from __future__ import annotations

import hashlib
import heapq
import secrets
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from xiaodai.allocation import choices as c
from xiaodai.allocation.exceptions import AllocationError, Over
from xiaodai.allocation.models import Assignment, ClaimPolicy
from xiaodai.allocation.selectors import WORKER_ROLES, allocation_people, allocation_teams, opted_out
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain, Level, Perm
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.pools.models import PoolMember

SKIP_REASONS: dict[str, Any] = {
    "worked": _("Already worked by someone (an open claim, allocation or hand-off)"),
    "owner_unavailable": _("Their owner is inactive or does not work call lists"),
    "capacity": _("No capacity left (capped at capacity)"),
    "not_workable": _("Not workable: blocked, vulnerable or opted out"),
    "taken": _("Claimed by someone while the allocation was written"),
}


@dataclass(frozen=True)
class AllocationParams:
    """What an allocator asks for: which customers, to whom, how much work per person."""

    pool: str = ""  # a pool code, or "" for every pool (each customer in their primary pool)
    sub_branch: int | None = None
    prob_min: float | None = None
    prob_max: float | None = None
    ev_min: Decimal | None = None
    only_unworked: bool = False  # never contacted under any earlier claim or allocation
    target: str = c.Target.PEOPLE
    people: tuple[int, ...] = ()
    teams: tuple[int, ...] = ()
    capacity: int | None = None  # calls per person per day; None: each person's own daily capacity
    days: int = 5  # working days the allocation is meant to last
    control_share: Decimal | None = None  # None: the branch's ClaimPolicy.control_share
    cap: bool = False  # give nobody more than their capacity instead of refusing

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["people"], data["teams"] = list(self.people), list(self.teams)
        for name in ("ev_min", "control_share"):
            data[name] = None if data[name] is None else str(data[name])
        return data


@dataclass
class PersonRow:
    """One person in the preview: their capacity, what they work already and what this allocation adds."""

    staff_id: int
    name: str
    team: str
    daily: int
    capacity: int
    existing: int
    target: bool = True  # False: only here as the owner of some of the customers
    new: int = 0  # to be called (not the control group)
    control: int = 0
    to_owner: int = 0

    @property
    def total(self) -> int:
        return self.existing + self.new

    @property
    def room(self) -> int:
        """Capacity left after this allocation; negative is over capacity."""
        return self.capacity - self.total

    @property
    def over(self) -> int:
        return max(0, -self.room)


@dataclass
class Plan:
    seed: int
    control_share: Decimal
    rows: list[PersonRow]
    picks: list[tuple[int, int, str, bool]]  # (customer id, staff id, pool, control)
    to_owner: int = 0
    held_back: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    team_of: dict[int, int | None] = field(default_factory=dict)

    @property
    def allocated(self) -> int:
        return len(self.picks)

    @property
    def to_call(self) -> int:
        return self.allocated - self.held_back

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def over(self) -> list[Over]:
        """People this allocation would put over capacity (already-over people given nothing are not)."""
        return [Over(r.name, r.total, r.capacity) for r in self.rows if r.new and r.total > r.capacity]

    def skip_rows(self) -> list[tuple[str, str, int]]:
        return [(k, str(SKIP_REASONS[k]), n) for k, n in self.skipped.items() if n]


def new_seed() -> int:
    """A batch's seed: random, at most 2**48 so it survives JSON and a form field unchanged."""
    return secrets.randbits(48) or 1


def draw(seed: int, customer_id: int) -> float:
    """A customer's place in [0, 1) for this batch: the same every time for the same seed."""
    digest = hashlib.blake2b(f"{seed}:{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class _Rooms:
    """The target with the most room left; on equal room the earlier one, so equals take turns. Room only
    ever shrinks, so a stale heap entry is refreshed lazily when it reaches the top."""

    def __init__(self, room: dict[int, int], order: list[int]) -> None:
        self.room = room
        self.heap = [(-room[sid], rank, sid) for rank, sid in enumerate(order)]
        heapq.heapify(self.heap)

    def best(self) -> int:
        while True:
            neg, rank, sid = self.heap[0]
            if -neg == self.room[sid]:
                return sid
            heapq.heapreplace(self.heap, (-self.room[sid], rank, sid))


def _targets(by: Staff, params: AllocationParams) -> list[Staff]:
    """The people the allocation may give unowned customers to, checked against the allocator's reach."""
    people = allocation_people(by.user)
    if params.target == c.Target.TEAMS:
        allowed_teams = {t.pk: t for t in allocation_teams(by.user).filter(pk__in=params.teams)}
        for team_id in params.teams:
            if team_id not in allowed_teams:
                raise AllocationError("bad_target", name=f"#{team_id}")
        chosen = list(people.filter(team_id__in=params.teams))
    else:
        found = {s.pk: s for s in people.filter(pk__in=params.people)}
        for staff_id in params.people:
            if staff_id not in found:
                raise AllocationError("bad_target", name=f"#{staff_id}")
        chosen = [found[s] for s in params.people]
    if not chosen:
        raise AllocationError("no_targets")
    return chosen


def matching_members(by: Staff, params: AllocationParams) -> QuerySet[PoolMember]:
    """Pool members matching the filters inside the allocator's reach (workable or not)."""
    actor = actor_of(by.user)
    qs = PoolMember.objects.filter(customer__branch_id=by.branch_id)
    qs = qs.filter(pool=params.pool) if params.pool else qs.filter(is_primary=True)
    if actor.level(Domain.CUSTOMER) != Level.BRANCH:
        # A team lead: what their scope shows (the one scoping mechanism) and their sub-branch's unowned.
        reach = Q(customer__in=Customer.objects.for_staff(by.user))
        if actor.sub_branch_id is not None:
            reach |= Q(customer__owner__isnull=True, customer__sub_branch_id=actor.sub_branch_id)
        qs = qs.filter(reach)
    if params.sub_branch is not None:
        qs = qs.filter(customer__sub_branch_id=params.sub_branch)
    if params.prob_min is not None:
        qs = qs.filter(probability__gte=params.prob_min)
    if params.prob_max is not None:
        qs = qs.filter(probability__lte=params.prob_max)
    if params.ev_min is not None:
        qs = qs.filter(expected_value__gte=params.ev_min)
    if params.only_unworked:
        contacted = Assignment.objects.filter(
            customer_id=OuterRef("customer_id"), last_contact_at__isnull=False
        )
        qs = qs.filter(~Exists(contacted))
    return qs


_WORKABLE = Q(blocked=0, customer__is_vulnerable=False)


def plan_allocation(by: Staff, params: AllocationParams, *, seed: int) -> Plan:
    """Who gets which customer, and the figures the preview shows. Writes nothing."""
    actor = actor_of(by.user)
    if not actor.has(Perm.ALLOCATE):
        raise AllocationError("forbidden")
    policy = ClaimPolicy.objects.filter(branch_id=by.branch_id).first()
    share = params.control_share
    if share is None:
        share = policy.control_share if policy is not None else Decimal(0)
    targets = _targets(by, params)
    members = matching_members(by, params)
    workable = members.filter(_WORKABLE).filter(~opted_out())
    order = (F("expected_value").desc(nulls_last=True), F("potential").desc(), "customer_id")
    columns = ("customer_id", "pool", "customer__owner_id", "customer__worker_id")
    rows = list(workable.order_by(*order).values_list(*columns))
    not_workable = members.filter(~_WORKABLE | Q(opted_out())).count()

    target_ids = [s.pk for s in targets]
    owner_ids = {r[2] for r in rows if r[2] is not None and r[3] is None} - set(target_ids)
    owners = list(
        Staff.objects.filter(pk__in=owner_ids)
        .select_related("team", "user")
        .order_by("team__name", "name", "pk")
    )
    usable = {
        s.pk
        for s in [*targets, *owners]
        if s.branch_id == by.branch_id and s.role in WORKER_ROLES and s.user.is_active
    }
    everyone = [*targets, *owners]
    working = Assignment.objects.filter(
        status=c.Status.ACTIVE, control=False, staff_id__in=[s.pk for s in everyone]
    )
    load = dict(working.values_list("staff_id").annotate(n=Count("id")).values_list("staff_id", "n"))
    people: dict[int, PersonRow] = {}
    for s in everyone:
        daily = params.capacity if params.capacity is not None else s.daily_capacity
        people[s.pk] = PersonRow(
            staff_id=s.pk,
            name=s.name,
            team=s.team.name if s.team else "",
            daily=daily,
            capacity=daily * params.days,
            existing=load.get(s.pk, 0),
            target=s.pk in target_ids,
        )
    room = {sid: p.capacity - p.existing for sid, p in people.items()}
    rooms = _Rooms(room, target_ids)

    plan = Plan(seed=seed, control_share=Decimal(share), rows=list(people.values()), picks=[])
    plan.team_of = {s.pk: s.team_id for s in everyone}
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    skipped["not_workable"] = not_workable
    threshold = float(share)
    for customer_id, pool, owner_id, worker_id in rows:
        if worker_id is not None:
            skipped["worked"] += 1
            continue
        if owner_id is not None:
            if owner_id not in usable:
                skipped["owner_unavailable"] += 1
                continue
            staff_id = owner_id
        else:
            staff_id = rooms.best()
        if params.cap and room[staff_id] <= 0:
            skipped["capacity"] += 1
            continue
        control = threshold > 0 and draw(seed, customer_id) < threshold
        plan.picks.append((customer_id, staff_id, pool, control))
        person = people[staff_id]
        if control:
            person.control += 1
            plan.held_back += 1
        else:
            person.new += 1
            room[staff_id] -= 1
        if owner_id is not None:
            person.to_owner += 1
            plan.to_owner += 1
    plan.skipped = skipped
    return plan
