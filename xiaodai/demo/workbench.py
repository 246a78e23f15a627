"""The demo's workbench: approved scripts, this week's allocation of each sub-branch's workable customers to
its telemarketers and loan managers (5% held back as the control group), and the last working days' calls,
recorded through the same services the call screen uses, so lists, follow-ups and supervision have data."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from xiaodai.allocation import services as allocation
from xiaodai.allocation.choices import Status
from xiaodai.allocation.exceptions import AllocationError
from xiaodai.allocation.models import Assignment
from xiaodai.allocation.planning import AllocationParams
from xiaodai.core.roles import ROLE_PERMS, Perm, Role
from xiaodai.org.models import Branch, Staff, SubBranch
from xiaodai.outreach import choices as c
from xiaodai.outreach import rules, services
from xiaodai.outreach.exceptions import OutreachError
from xiaodai.outreach.models import ScriptVersion
from xiaodai.outreach.script_seed import seed_scripts

CALLS_PER_DAY = 12  # per person and day of history: enough for the boards, quick to build
HISTORY_DAYS = 2
# How the demo's calls end (shares): most calls do not reach anyone, as on a real list.
OUTCOMES = (
    (c.ContactOutcome.NO_ANSWER, 34),
    (c.ContactOutcome.BUSY, 10),
    (c.ContactOutcome.WRONG_NUMBER, 3),
    (c.ContactOutcome.NOT_NOW, 22),
    (c.ContactOutcome.INTERESTED, 14),
    (c.ContactOutcome.WILL_APPLY, 8),
    (c.ContactOutcome.APPLIED, 4),
    (c.ContactOutcome.REFUSED, 4),
    (c.ContactOutcome.DO_NOT_CALL, 1),
)
PURPOSES = (
    c.LoanPurpose.RENOVATION,
    c.LoanPurpose.FURNITURE,
    c.LoanPurpose.CAR,
    c.LoanPurpose.EDUCATION,
    c.LoanPurpose.TRAVEL,
    c.LoanPurpose.WEDDING,
    c.LoanPurpose.DAILY,
)


@dataclass
class WorkbenchResult:
    scripts: int = 0
    allocated: int = 0
    held_back: int = 0
    calls: int = 0


def _workers(sub: SubBranch) -> list[Staff]:
    roles = [r for r in (Role.TELEMARKETER, Role.LOAN_MANAGER) if Perm.WORK_CALLS in ROLE_PERMS[r]]
    return list(Staff.objects.filter(sub_branch=sub, role__in=roles, user__is_active=True).order_by("pk"))


def _working_days_before(day: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    while len(days) < count:
        day -= dt.timedelta(days=1)
        if rules.is_working_day(day):
            days.append(day)
    return sorted(days)


def prepare(branch: Branch, as_of: dt.date, seed: int) -> WorkbenchResult:
    result = WorkbenchResult()
    head = Staff.objects.filter(branch=branch, role=Role.BRANCH_HEAD).order_by("pk").first()
    lead = Staff.objects.filter(branch=branch, role=Role.TEAM_LEAD).order_by("pk").first()
    if head is None or lead is None:
        return result
    result.scripts = len(seed_scripts(branch, author=lead, approver=head))
    for sub in SubBranch.objects.filter(branch=branch).order_by("code"):
        people = _workers(sub)
        if not people:
            continue
        params = AllocationParams(
            sub_branch=sub.pk,
            people=tuple(p.pk for p in people),
            days=5,
            cap=True,
            control_share=Decimal("0.05"),
        )
        try:
            batch = allocation.allocate_customers(head, params, seed=seed + sub.pk)
        except AllocationError:  # nothing workable in this sub-branch
            continue
        result.allocated += batch.allocated
        result.held_back += batch.held_back
    result.calls = _history(branch, as_of, seed)
    return result


def _history(branch: Branch, as_of: dt.date, seed: int) -> int:
    """The last working days' calls: each person works the start of their list, as the call screen would."""
    rng = random.Random(seed)
    scripts = list(ScriptVersion.objects.filter(script__branch=branch, status=c.ScriptStatus.APPROVED))
    codes: list[str] = [str(code) for code, _w in OUTCOMES]
    weights = [w for _c, w in OUTCOMES]
    calls = 0
    worked = (
        Assignment.objects.filter(branch=branch, status=Status.ACTIVE, control=False)
        .values_list("staff_id", "customer_id")
        .order_by("staff_id", "pk")
    )
    by_person: dict[int, list[int]] = {}
    for staff_id, customer_id in worked:
        by_person.setdefault(staff_id, []).append(customer_id)
    staff = {s.pk: s for s in Staff.objects.filter(pk__in=by_person)}
    zone = rules.local_zone()
    for n, day in enumerate(_working_days_before(as_of, HISTORY_DAYS)):
        for staff_id, customers in by_person.items():
            todays = customers[n * CALLS_PER_DAY : (n + 1) * CALLS_PER_DAY]
            for k, customer_id in enumerate(todays):
                at = dt.datetime.combine(day, dt.time(9, 30), tzinfo=zone) + dt.timedelta(minutes=25 * k)
                calls += _call(staff[staff_id], customer_id, at, rng, codes, weights, scripts)
    return calls


def _call(
    person: Staff,
    customer_id: int,
    at: dt.datetime,
    rng: random.Random,
    codes: list[str],
    weights: list[int],
    scripts: list[ScriptVersion],
) -> int:
    from xiaodai.customers.models import Customer

    outcome = rng.choices(codes, weights)[0]
    script = rng.choice(scripts) if scripts else None
    objection, rebuttal = "", None
    if script and outcome in (
        c.ContactOutcome.NOT_NOW,
        c.ContactOutcome.REFUSED,
        c.ContactOutcome.INTERESTED,
    ):
        answered = [code for code, texts in (script.objections or {}).items() if texts]
        if answered and rng.random() < 0.7:
            objection = rng.choice(answered)
            rebuttal = rng.randrange(len(script.objections[objection]))
    reached = outcome not in (
        c.ContactOutcome.NO_ANSWER,
        c.ContactOutcome.BUSY,
        c.ContactOutcome.WRONG_NUMBER,
    )
    follow_up = None
    if outcome in (c.ContactOutcome.NOT_NOW, c.ContactOutcome.INTERESTED):
        follow_up = at.date() + dt.timedelta(days=rng.randint(2, 6))
    data = services.OutcomeInput(
        customer=Customer.objects.get(pk=customer_id),
        channel=c.WorkChannel.PHONE,
        outcome=outcome,
        token=uuid.UUID(int=rng.getrandbits(128)),
        objection=objection,
        rebuttal=rebuttal,
        purpose=rng.choice(PURPOSES) if outcome in c.REFERRALS else "",
        amount=Decimal(rng.choice((30000, 50000, 80000, 100000, 200000))) if outcome in c.REFERRALS else None,
        follow_up_on=follow_up,
        script_version_id=script.pk if script and reached else None,
        recording_ref=f"REC{at:%Y%m%d}{customer_id:08d}",
    )
    try:
        with transaction.atomic():
            services.record_outcome(person, data, now=at)
    except OutreachError:  # a rule refused it (a cap, an opt-out since): the demo skips the call
        return 0
    return 1
