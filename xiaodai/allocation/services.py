"""Claims, allocations and hand-offs: every write is an atomic, audited service function.

The invariant every function here keeps: `Customer.worker` is the staff of the customer's one active
assignment, or None. The partial unique index on Assignment (one active per customer) is what settles a race:
whoever inserts second gets an IntegrityError and is told the customer is taken.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, F, Q, Subquery
from django.utils import timezone

from xiaodai.allocation import bulk
from xiaodai.allocation import choices as c
from xiaodai.allocation.exceptions import AllocationError, OverCapacity, result_message
from xiaodai.allocation.models import AllocationBatch, Assignment, ClaimPolicy
from xiaodai.allocation.planning import AllocationParams, plan_allocation
from xiaodai.allocation.selectors import WORKER_ROLES, below_branch, open_claims, opted_out
from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Perm
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.pools.models import PoolMember

P = ParamSpec("P")
R = TypeVar("R")
MAX_CLAIMS_PER_CALL = 500
_LOCK_RETRIES = 40


def claim_policy(branch_id: int) -> ClaimPolicy:
    """The branch's claim settings (created with the defaults the first time they are asked for)."""
    policy, _ = ClaimPolicy.objects.get_or_create(branch_id=branch_id)
    return policy


def _retry_when_locked(fn: Callable[P, R]) -> Callable[P, R]:
    """SQLite answers "database is locked" instead of waiting once its busy timeout runs out (and at once in
    shared-cache mode): run the whole transaction again, it has written nothing. Only outside a caller's
    transaction, and never on PostgreSQL, whose writers wait for each other."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                attempt += 1
                retry = connection.vendor == "sqlite" and not connection.in_atomic_block
                if not retry or "locked" not in str(exc) or attempt >= _LOCK_RETRIES:
                    raise
                time.sleep(0.02 * attempt)

    return wrapper


def _today() -> dt.date:
    return timezone.localdate()


# --- claims -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    """What happened to one customer of a claim."""

    customer_id: int
    ok: bool
    code: str
    message: str
    assignment_id: int | None = None


def _refusal(by: Staff, sub_branch_only: bool, row: dict[str, Any] | None) -> str | None:
    """Why this customer cannot be claimed by `by`, or None. Another branch's customer looks exactly like
    one that does not exist."""
    if row is None:
        return "not_found"
    if sub_branch_only and row["customer__sub_branch_id"] != by.sub_branch_id:
        return "other_sub_branch"
    owner = row["customer__owner_id"]
    if owner is not None and owner != by.pk:
        return "owned"
    worker = row["customer__worker_id"]
    if worker is not None:
        return "already_yours" if worker == by.pk else "taken"
    if row["blocked"] or row["customer__is_vulnerable"]:
        return "not_workable"
    if row["out"]:
        return "opted_out"
    return None


@_retry_when_locked
def claim_customers(by: Staff, customer_ids: Iterable[int], *, pool: str = "") -> list[ClaimResult]:
    """Claim (认领) customers for `by`: unowned or their own, nobody working them, workable in the latest
    pool run, of their branch (and sub-branch). Each gets an active claim with a protection and a lapse
    date; up to ClaimPolicy.max_claims open claims. A result per customer, in the order asked; one audit
    event for the call."""
    actor = actor_of(by.user)
    if not actor.has(Perm.CLAIM_CUSTOMERS):
        raise AllocationError("forbidden")
    asked = list(dict.fromkeys(int(i) for i in customer_ids))
    # In one order: two people claiming overlapping sets queue on the same first customer, never deadlock.
    ids = sorted(asked)
    if not ids:
        raise AllocationError("no_customers")
    if len(ids) > MAX_CLAIMS_PER_CALL:
        raise AllocationError("too_many", limit=MAX_CLAIMS_PER_CALL)
    today = _today()
    results: list[ClaimResult] = []
    claimed: list[int] = []
    policy = claim_policy(by.branch_id)  # before the transaction: a first-time insert would queue claims
    with transaction.atomic():
        # One person's claims queue behind each other, so two open tabs cannot pass max_claims together.
        list(Staff.objects.select_for_update().filter(pk=by.pk).values_list("pk"))
        room = policy.max_claims - open_claims(by.pk)
        members = PoolMember.objects.filter(customer_id__in=ids, customer__branch_id=by.branch_id)
        members = members.filter(pool=pool) if pool else members.filter(is_primary=True)
        rows = {
            r["customer_id"]: r
            for r in members.annotate(out=opted_out()).values(
                "customer_id", "pool", "blocked", "out", "customer__owner_id", "customer__worker_id",
                "customer__sub_branch_id", "customer__is_vulnerable",
            )
        }  # fmt: skip
        sub_only = below_branch(actor)
        for cid in ids:
            code = _refusal(by, sub_only, rows.get(cid))
            if code is None and len(claimed) >= room:
                code = "limit"
            if code is not None:
                results.append(ClaimResult(cid, False, code, result_message(code, limit=policy.max_claims)))
                continue
            try:
                with transaction.atomic():  # a savepoint: losing the race undoes this customer only
                    assignment = Assignment.objects.create(
                        branch_id=by.branch_id,
                        customer_id=cid,
                        staff=by,
                        team_id=by.team_id,
                        kind=c.Kind.CLAIM,
                        pool=rows[cid]["pool"],
                        created_by=by,
                        protected_until=today + dt.timedelta(days=policy.protection_days),
                        lapses_on=today + dt.timedelta(days=policy.lapse_days),
                    )
            except IntegrityError:
                results.append(ClaimResult(cid, False, "taken", result_message("taken")))
                continue
            claimed.append(cid)
            results.append(ClaimResult(cid, True, "claimed", "", assignment.pk))
        if claimed:
            Customer.objects.filter(pk__in=claimed).update(worker=by)
        refused = Counter(r.code for r in results if not r.ok)
        record(
            Action.CLAIM,
            user=by.user,
            object_type="staff",
            object_id=by.pk,
            detail={"customer_ids": claimed, "count": len(claimed), "pool": pool, "refused": dict(refused)},
        )
    by_id = {r.customer_id: r for r in results}
    return [by_id[i] for i in asked]  # in the order asked


def _in_scope(assignment: Assignment, by: Staff) -> None:
    """The worker, their team lead or the branch head: whoever sees the assignment through its scope."""
    if not Assignment.objects.for_staff(by.user).filter(pk=assignment.pk).exists():
        raise AllocationError("forbidden")


@_retry_when_locked
def release_claim(assignment: Assignment, by: Staff, reason: str = "") -> Assignment:
    """Give a customer back: the assignment ends as released and nobody works the customer any more."""
    reason = " ".join(reason.split())[:200]
    with transaction.atomic():
        _in_scope(assignment, by)
        now = timezone.now()
        ended = Assignment.objects.filter(pk=assignment.pk, status=c.Status.ACTIVE).update(
            status=c.Status.RELEASED, ended_at=now, ended_by=by, end_reason=reason
        )
        if not ended:
            raise AllocationError("not_active")
        Customer.objects.filter(pk=assignment.customer_id, worker_id=assignment.staff_id).update(worker=None)
        record(
            Action.CLAIM_RELEASE,
            user=by.user,
            obj=assignment,
            reason=reason,
            detail={"customer_ids": [assignment.customer_id], "count": 1, "kind": assignment.kind},
        )
    assignment.refresh_from_db()
    return assignment


# --- hand-off -----------------------------------------------------------------------------------------


def _note_and_deadline(note: str, deadline: dt.date | None) -> tuple[str, dt.date]:
    """A hand-off carries a note and a deadline that is not in the past."""
    note = " ".join(note.split())
    if not note:
        raise AllocationError("note_required")
    if deadline is None:
        raise AllocationError("deadline_required")
    if deadline < _today():
        raise AllocationError("deadline_past")
    return note, deadline


def _check_receiver(to_staff: Staff, branch_id: int) -> None:
    """Hand-offs go to an active colleague of the branch who works call lists."""
    if to_staff.branch_id != branch_id or to_staff.role not in WORKER_ROLES or not to_staff.user.is_active:
        raise AllocationError("bad_receiver")


@_retry_when_locked
def hand_off(
    assignment: Assignment, to_staff: Staff, note: str, deadline: dt.date | None, by: Staff
) -> Assignment:
    """A strike team (攻坚) passes a customer to a follow-up person (跟进): the assignment ends as handed off
    and the receiver gets a new active one carrying the note and the deadline."""
    note, deadline = _note_and_deadline(note, deadline)
    today = _today()
    if assignment.control:
        raise AllocationError("control_customer")
    if to_staff.pk == assignment.staff_id:
        raise AllocationError("same_receiver")
    _check_receiver(to_staff, assignment.branch_id)
    with transaction.atomic():
        _in_scope(assignment, by)
        ended = Assignment.objects.filter(pk=assignment.pk, status=c.Status.ACTIVE).update(
            status=c.Status.HANDED_OFF, ended_at=timezone.now(), ended_by=by, end_reason="handed off"
        )
        if not ended:
            raise AllocationError("not_active")
        policy = claim_policy(assignment.branch_id)
        new = Assignment.objects.create(
            branch_id=assignment.branch_id,
            customer_id=assignment.customer_id,
            staff=to_staff,
            team_id=to_staff.team_id,
            kind=c.Kind.HANDOFF,
            pool=assignment.pool,
            previous=assignment,
            note=note[:500],
            deadline=deadline,
            created_by=by,
            protected_until=max(today + dt.timedelta(days=policy.protection_days), deadline),
        )
        Customer.objects.filter(pk=assignment.customer_id).update(worker=to_staff)
        record(
            Action.HANDOFF,
            user=by.user,
            obj=new,
            detail={
                "customer_ids": [assignment.customer_id],
                "count": 1,
                "previous": assignment.pk,
                "from_staff": assignment.staff_id,
                "to_staff": to_staff.pk,
                "deadline": deadline.isoformat(),
            },
        )
    return new


@_retry_when_locked
def hand_off_channel(
    enterprise_id: int, to_staff: Staff, note: str, deadline: dt.date | None, by: Staff
) -> list[Assignment]:
    """A strike team hands a whole channel over: every customer of the enterprise (its payroll and employees)
    that the handing person may see being worked (their own assignments; a lead's team's; a head's branch's)
    goes to the follow-up person with one note and one deadline. Control-group customers stay held back."""
    note, deadline = _note_and_deadline(note, deadline)
    today = _today()
    _check_receiver(to_staff, by.branch_id)
    with transaction.atomic():
        handed = list(
            Assignment.objects.for_staff(by.user)
            .select_for_update(of=("self",))
            .filter(status=c.Status.ACTIVE, control=False, customer__payroll_enterprise_id=enterprise_id)
            .exclude(staff=to_staff)
            .order_by("customer_id")
        )
        if not handed:
            raise AllocationError("nothing_to_hand_off")
        now = timezone.now()
        Assignment.objects.filter(pk__in=[a.pk for a in handed]).update(
            status=c.Status.HANDED_OFF, ended_at=now, ended_by=by, end_reason="channel handed off"
        )
        protected = max(today + dt.timedelta(days=claim_policy(by.branch_id).protection_days), deadline)
        new = Assignment.objects.bulk_create(
            Assignment(
                branch_id=a.branch_id,
                customer_id=a.customer_id,
                staff=to_staff,
                team_id=to_staff.team_id,
                kind=c.Kind.HANDOFF,
                pool=a.pool,
                previous=a,
                note=note[:500],
                deadline=deadline,
                created_by=by,
                protected_until=protected,
            )
            for a in handed
        )
        ids = [a.customer_id for a in handed]
        Customer.objects.filter(pk__in=ids).update(worker=to_staff)
        record(
            Action.HANDOFF,
            user=by.user,
            object_type="customers.enterprise",
            object_id=enterprise_id,
            detail={
                "customer_ids": ids,
                "count": len(ids),
                "enterprise_id": enterprise_id,
                "to_staff": to_staff.pk,
                "deadline": deadline.isoformat(),
            },
        )
    return new


# --- contact, lapse and expiry ----------------------------------------------------------------------------


def touch(customer_id: int, at: dt.datetime) -> None:
    """A contact was recorded: the customer's active assignment is being worked, so it does not lapse (its
    lapse date moves to lapse_days after the contact). Called inside the outcome's transaction."""
    active = Assignment.objects.filter(customer_id=customer_id, status=c.Status.ACTIVE)
    row = active.values("branch_id", "lapses_on").first()
    if row is None:
        return
    fields: dict[str, Any] = {"last_contact_at": at}
    if row["lapses_on"] is not None:
        day = timezone.localdate(at) if timezone.is_aware(at) else at.date()
        pushed = day + dt.timedelta(days=claim_policy(row["branch_id"]).lapse_days)
        fields["lapses_on"] = max(pushed, row["lapses_on"])
    active.update(**fields)


def end_for_customer(customer: Customer, *, status: str, reason: str, by: Staff | None) -> int:
    """End the customer's active assignment (a refusal or an opt-out cancels the work, C-02) and clear
    who works them. Runs in the caller's transaction; returns how many assignments ended."""
    with transaction.atomic():
        ended = Assignment.objects.filter(customer=customer, status=c.Status.ACTIVE).update(
            status=status, ended_at=timezone.now(), ended_by=by, end_reason=reason[:200]
        )
        if customer.worker_id is not None:
            Customer.objects.filter(pk=customer.pk).update(worker=None)
            customer.worker = None
    return ended


@dataclass(frozen=True)
class LapseReport:
    day: dt.date
    lapsed: int
    expired: int


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@_retry_when_locked
def lapse_unworked(today: dt.date | None = None) -> LapseReport:
    """The daily sweep, set-based: claims not contacted within the branch's lapse period go back to the pool
    (lapsed), and every assignment whose protection period is over ends (expired). Who works those customers
    is cleared in the same transaction."""
    today = today or _today()
    now = timezone.now()  # also marks this sweep's rows, to clear their customers' worker in one statement
    lapsed = 0
    with transaction.atomic():
        active = Assignment.objects.filter(status=c.Status.ACTIVE)
        branches = sorted(set(active.values_list("branch_id", flat=True).distinct()))
        for branch_id in branches:
            days = claim_policy(branch_id).lapse_days
            since = _day_start(today - dt.timedelta(days))
            quiet = Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=since)
            lapsed += active.filter(
                quiet, branch_id=branch_id, kind=c.Kind.CLAIM, lapses_on__lt=today
            ).update(
                status=c.Status.LAPSED,
                ended_at=now,
                end_reason=f"not contacted within {days} days",
            )
        expired = active.filter(protected_until__lt=today).update(
            status=c.Status.EXPIRED, ended_at=now, end_reason="protection period over"
        )
        if lapsed or expired:
            ended = Assignment.objects.filter(
                ended_at=now, status__in=(c.Status.LAPSED, c.Status.EXPIRED)
            ).values("customer_id")
            Customer.objects.filter(pk__in=Subquery(ended), worker__isnull=False).update(worker=None)
            record(
                Action.CLAIM_LAPSE,
                username="system",
                object_type="day",
                object_id=today.isoformat(),
                detail={"lapsed": lapsed, "expired": expired, "branches": branches},
            )
    return LapseReport(today, lapsed, expired)


# --- bulk allocation --------------------------------------------------------------------------------------


@_retry_when_locked
def allocate_customers(by: Staff, params: AllocationParams, *, seed: int) -> AllocationBatch:
    """Commit a bulk allocation (行内分配): plan it again inside the transaction (what the preview showed,
    unless the data moved), refuse it whole when someone would go over capacity (unless the allocation caps
    at capacity), then write the batch, every assignment and who works each customer set-based (bulk.py).
    One audit event; no per-row saves."""
    today = _today()
    with transaction.atomic():
        plan = plan_allocation(by, params, seed=seed)
        if plan.over and not params.cap:
            raise OverCapacity(plan.over)
        if not plan.picks:
            raise AllocationError("nothing_to_allocate")
        policy = claim_policy(by.branch_id)
        protected = today + dt.timedelta(days=policy.protection_days)
        batch = AllocationBatch.objects.create(
            branch_id=by.branch_id,
            created_by=by,
            params=params.as_json() | {"seed": seed, "control_share": str(plan.control_share)},
            allocated=len(plan.picks),
            to_owner=plan.to_owner,
            held_back=plan.held_back,
            skipped=plan.skipped_total,
        )
        written = bulk.write_assignments(batch, plan, protected)
        lost = len(plan.picks) - written
        if lost:  # customers claimed since the plan was read keep their claim: count what was written
            figures = Assignment.objects.filter(batch=batch).aggregate(
                held=Count("id", filter=Q(control=True)),
                owner=Count("id", filter=Q(customer__owner_id=F("staff_id"))),
            )
            AllocationBatch.objects.filter(pk=batch.pk).update(
                allocated=written,
                to_owner=figures["owner"],
                held_back=figures["held"],
                skipped=plan.skipped_total + lost,
            )
            batch.refresh_from_db()
        bulk.set_workers(batch, plan.picks if not lost else None)
        record(
            Action.ALLOCATE,
            user=by.user,
            obj=batch,
            detail={
                "allocated": batch.allocated,
                "to_owner": batch.to_owner,
                "held_back": batch.held_back,
                "skipped": batch.skipped,
                "people": len({p[1] for p in plan.picks}),
                "params": batch.params,
            },
        )
    return batch


# --- settings -----------------------------------------------------------------------------------------

POLICY_FIELDS = ("protection_days", "lapse_days", "max_claims", "control_share")


def _policy_values(policy: ClaimPolicy) -> dict[str, Any]:
    return {name: str(getattr(policy, name)) for name in POLICY_FIELDS}


@transaction.atomic
def update_claim_policy(
    branch_id: int,
    *,
    by: Staff,
    protection_days: int,
    lapse_days: int,
    max_claims: int,
    control_share: Decimal,
) -> ClaimPolicy:
    """Change a branch's claim settings: checked whole (a bad value raises and nothing changes), a new
    version, audited with the values before and after. Existing claims keep their dates."""
    policy = claim_policy(branch_id)
    policy = ClaimPolicy.objects.select_for_update().get(pk=policy.pk)
    before = _policy_values(policy)
    policy.protection_days, policy.lapse_days = protection_days, lapse_days
    policy.max_claims, policy.control_share = max_claims, control_share
    try:
        policy.full_clean(exclude=["branch", "updated_by"])
    except ValidationError as exc:
        raise AllocationError("bad_policy", detail="; ".join(exc.messages)) from exc
    if lapse_days > protection_days:
        raise AllocationError("lapse_longer")
    after = _policy_values(policy)
    if before == after:
        return ClaimPolicy.objects.get(pk=policy.pk)
    policy.version += 1
    policy.updated_by = by
    policy.save()
    record(
        Action.CLAIM_POLICY,
        user=by.user,
        obj=policy,
        detail={"version": policy.version, "before": before, "after": after},
    )
    return policy
