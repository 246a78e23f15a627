"""The lift of calling, measured against the control group (对照组).

A bulk allocation may hold back a random share of its customers (ClaimPolicy.control_share): they get an
assignment with `control=True` and never reach a call list. Comparing them with the customers of the same
allocations who were called (treated) on the funnel gives what the calling added:

- customers: assignments created in the period, in allocation batches that held some back (a batch without
  a control group has nothing to compare with and would only tilt the treated side);
- contacted: any outcome recorded for the customer after the assignment (in the control group this should
  stay at zero: a held-back customer who was called anyway is a leak);
- applied / approved / disbursed: a loan application (customers.Application) started after the assignment,
  and how far it got.

The comparison is a two-proportion z-test with a 95% confidence interval for the difference. With fewer than
MIN_GROUP customers in a group the page says "too few to tell" instead of a verdict.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy

from xiaodai.allocation.models import AllocationBatch, Assignment
from xiaodai.customers.choices import ApplicationStage
from xiaodai.customers.models import Application
from xiaodai.outreach.models import Outcome

MIN_GROUP = 30  # customers in a group below which no verdict is given
Z_95 = 1.959963984540054  # two-sided 95%
ALPHA = 0.05
STAGES = ("contacted", "applied", "approved", "disbursed")
COMPARED = ("applied", "approved", "disbursed")
STAGE_LABELS = {
    "contacted": gettext_lazy("Contacted"),
    "applied": gettext_lazy("Applied"),
    "approved": gettext_lazy("Approved"),
    "disbursed": gettext_lazy("Disbursed"),
}

TOO_FEW = "too_few"
NO_EVENTS = "no_events"
HIGHER = "higher"
LOWER = "lower"
UNCLEAR = "unclear"


def _pct(share: float | None) -> float | None:
    return None if share is None else share * 100


@dataclass(frozen=True)
class Comparison:
    """Treated against control on one funnel stage."""

    treated_x: int
    treated_n: int
    control_x: int
    control_n: int
    treated_rate: float | None
    control_rate: float | None
    diff: float | None  # treated − control, a share (0.10 = 10 percentage points)
    relative: float | None  # diff ÷ control rate
    z: float | None
    p_value: float | None
    ci_low: float | None  # 95% confidence interval of diff
    ci_high: float | None
    verdict: str

    @property
    def significant(self) -> bool:
        return self.verdict in (HIGHER, LOWER)

    # Percent and percentage points, for the page.
    @property
    def diff_pp(self) -> float | None:
        return _pct(self.diff)

    @property
    def relative_pct(self) -> float | None:
        return _pct(self.relative)

    @property
    def ci_low_pp(self) -> float | None:
        return _pct(self.ci_low)

    @property
    def ci_high_pp(self) -> float | None:
        return _pct(self.ci_high)


def compare(
    treated_x: int, treated_n: int, control_x: int, control_n: int, min_group: int = MIN_GROUP
) -> Comparison:
    """Two-proportion z-test (pooled standard error) and a Wald interval (unpooled) for the difference."""
    p_t = treated_x / treated_n if treated_n else None
    p_c = control_x / control_n if control_n else None
    diff = p_t - p_c if p_t is not None and p_c is not None else None
    relative = diff / p_c if diff is not None and p_c else None
    z = p_value = ci_low = ci_high = None
    if p_t is not None and p_c is not None and diff is not None:
        pooled = (treated_x + control_x) / (treated_n + control_n)
        se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / treated_n + 1 / control_n))
        if se_pooled > 0:
            z = diff / se_pooled
            p_value = math.erfc(abs(z) / math.sqrt(2))
        se = math.sqrt(p_t * (1 - p_t) / treated_n + p_c * (1 - p_c) / control_n)
        ci_low, ci_high = diff - Z_95 * se, diff + Z_95 * se
    if treated_n < min_group or control_n < min_group:
        verdict = TOO_FEW
    elif p_value is None:
        verdict = NO_EVENTS  # nobody (or everybody) got there in either group: nothing to compare
    elif p_value < ALPHA:
        verdict = HIGHER if (diff or 0) > 0 else LOWER
    else:
        verdict = UNCLEAR
    return Comparison(
        treated_x,
        treated_n,
        control_x,
        control_n,
        p_t,
        p_c,
        diff,
        relative,
        z,
        p_value,
        ci_low,
        ci_high,
        verdict,
    )


@dataclass(frozen=True)
class Group:
    customers: int = 0
    contacted: int = 0
    applied: int = 0
    approved: int = 0
    disbursed: int = 0

    def rate(self, stage: str) -> float | None:
        return getattr(self, stage) / self.customers if self.customers else None


@dataclass(frozen=True)
class StageRow:
    stage: str
    treated: int
    control: int
    treated_rate: float | None
    control_rate: float | None
    comparison: Comparison | None  # None for "contacted": calling is the treatment, not its result

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self.stage])

    @property
    def treated_pct(self) -> float | None:
        return _pct(self.treated_rate)

    @property
    def control_pct(self) -> float | None:
        return _pct(self.control_rate)


@dataclass(frozen=True)
class Lift:
    start: dt.datetime
    end: dt.datetime
    batch: AllocationBatch | None
    batches: list[AllocationBatch]  # batches of the period with a control group, for the chooser
    treated: Group
    control: Group
    stages: list[StageRow]

    @property
    def headline(self) -> StageRow:
        """The application stage: the lift the page leads with."""
        return next(s for s in self.stages if s.stage == "applied")

    @property
    def leaked(self) -> int:
        """Held-back customers who were contacted anyway."""
        return self.control.contacted


def assignments(user: Any, start: dt.datetime, end: dt.datetime) -> QuerySet[Assignment]:
    """The viewer's assignments created in [start, end) in allocation batches that held some back."""
    scoped = Assignment.objects.for_staff(user).filter(
        created_at__gte=start, created_at__lt=end, batch__isnull=False
    )
    return scoped.filter(batch_id__in=scoped.filter(control=True).values("batch_id"))


def batches(user: Any, start: dt.datetime, end: dt.datetime) -> list[AllocationBatch]:
    ids = assignments(user, start, end).filter(control=True).values("batch_id")
    return list(AllocationBatch.objects.filter(pk__in=ids).order_by("-created_at", "-id"))


def _after(model: Any, **extra: Any) -> Exists:
    """Something of the assignment's customer dated at or after the assignment was made."""
    field = "occurred_at" if model is Outcome else "started_at"
    return Exists(
        model.objects.filter(
            customer_id=OuterRef("customer_id"), **{f"{field}__gte": OuterRef("created_at")}, **extra
        )
    )


def groups(rows: QuerySet[Assignment]) -> tuple[Group, Group]:
    """(treated, control) funnel counts, distinct customers, in one grouped query."""
    marked = rows.alias(
        has_contact=_after(Outcome),
        has_application=_after(Application),
        has_approval=_after(Application, stage__in=[ApplicationStage.APPROVED, ApplicationStage.DISBURSED]),
        has_disbursal=_after(Application, stage=ApplicationStage.DISBURSED),
    )
    counted = (
        marked.order_by()
        .values("control")
        .annotate(
            customers=Count("customer_id", distinct=True),
            contacted=Count("customer_id", distinct=True, filter=Q(has_contact=True)),
            applied=Count("customer_id", distinct=True, filter=Q(has_application=True)),
            approved=Count("customer_id", distinct=True, filter=Q(has_approval=True)),
            disbursed=Count("customer_id", distinct=True, filter=Q(has_disbursal=True)),
        )
    )
    found = {row.pop("control"): Group(**row) for row in counted}
    return found.get(False, Group()), found.get(True, Group())


def lift(user: Any, start: dt.datetime, end: dt.datetime, batch_id: int | None = None) -> Lift:
    """Treated against control for the viewer's allocations of the period (optionally one batch)."""
    choices = batches(user, start, end)
    batch = next((b for b in choices if b.pk == batch_id), None)
    rows = assignments(user, start, end)
    if batch is not None:
        rows = rows.filter(batch_id=batch.pk)
    treated, control = groups(rows)
    stages = []
    for stage in STAGES:
        t, c = getattr(treated, stage), getattr(control, stage)
        comparison = compare(t, treated.customers, c, control.customers) if stage in COMPARED else None
        stages.append(StageRow(stage, t, c, treated.rate(stage), control.rate(stage), comparison))
    return Lift(start, end, batch, choices, treated, control, stages)
