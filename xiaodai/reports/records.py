"""The drill-down (/performance/records/): the records behind a figure or a funnel stage, read live from the
source tables within the viewer's scope, counted by the same rules as the rollup (xiaodai/plans/rollup.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils.translation import gettext as _

from xiaodai.allocation.models import Assignment
from xiaodai.customers.choices import NOT_REACHED, LoanKind
from xiaodai.customers.models import ContactPoint, CreditLine, Loan
from xiaodai.outreach.choices import REFERRALS, WorkChannel
from xiaodai.outreach.models import Outcome
from xiaodai.plans.choices import Figure, FunnelStage
from xiaodai.plans.figures import FIGURES
from xiaodai.plans.models import MarketingEvent
from xiaodai.plans.rollup import annotate_stage
from xiaodai.reports.dashboard import Filters, Period, filter_options, parse_dates, parse_filters

# --- the drill-down --------------------------------------------------------------------------------------


def stage_of(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and int(raw) in FunnelStage.values else None


PROCESS: dict[str, Q] = {  # the rollup's conditions on current outcomes (rollup.outcome_facts)
    Figure.CALLS: Q(channel=WorkChannel.PHONE),
    Figure.REACHED: ~Q(outcome__in=NOT_REACHED),
    Figure.VISITS: Q(channel=WorkChannel.VISIT),
    Figure.REFERRALS: Q(outcome__in=REFERRALS),
}


@dataclass
class Drill:
    """What the records page lists: a kind of row ('outcome', 'loan', 'line', 'event', 'entry'), a title
    and the scoped rows; or the reasons the parameters could not be used."""

    period: Period
    filters: Filters
    kind: str = ""
    title: str = ""
    rows: QuerySet[Any] | None = None
    errors: list[str] = field(default_factory=list)


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's local days as instants (outcomes and list entries are stored in UTC)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    lo = dt.datetime.combine(period.start, dt.time(0), tz)
    return lo, dt.datetime.combine(period.end + dt.timedelta(1), dt.time(0), tz)


def _attributed(qs: QuerySet[Any]) -> QuerySet[Any]:
    """Who money counts for (figures.py): the customer's owner, else the person working them, and that
    person's team."""
    return qs.annotate(
        who=Coalesce(F("customer__owner_id"), F("customer__worker_id")),
        who_team=Case(
            When(customer__owner__isnull=False, then=F("customer__owner__team_id")),
            default=F("customer__worker__team_id"),
        ),
    )


def _narrow(qs: QuerySet[Any], filters: Filters, columns: dict[str, str]) -> QuerySet[Any]:
    for name, column in columns.items():
        if getattr(filters, name) is not None:
            qs = qs.filter(**{column: getattr(filters, name)})
    return qs


def _customer_rows(qs: QuerySet[Any]) -> QuerySet[Any]:
    primary = Prefetch(
        "customer__contact_points", queryset=ContactPoint.objects.filter(is_primary=True), to_attr="primary"
    )
    return qs.select_related("customer").prefetch_related(primary)


def drill(user: Any, params: QueryDict, today: dt.date) -> Drill:
    """The records behind a figure (`?figure=`) or a funnel stage (`?stage=`) for the period and filters,
    read live from the source tables within the viewer's scope."""
    period, error = parse_dates(params)
    filters, errors = parse_filters(params, filter_options(user, products=bool(params.get("product"))))
    out = Drill(period or Period(today.replace(day=1), today), filters, errors=[error] if error else [])
    out.errors += errors
    period = out.period
    figure, raw_stage = params.get("figure", "").strip(), params.get("stage", "").strip()
    if raw_stage and not figure:
        stage = stage_of(raw_stage)
        if stage is None:
            out.errors.append(_("“%(value)s” is not a funnel stage.") % {"value": raw_stage[:20]})
        else:
            out.kind, out.title = "entry", str(FunnelStage(stage).label)
            out.rows = _entries(user, period, filters, stage)
    elif figure in PROCESS:
        out.kind, out.rows = "outcome", _outcomes(user, period, filters, figure)
    elif figure in (Figure.DISBURSED_AMOUNT, Figure.NEW_DRAWDOWN_CUSTOMERS):
        loans: QuerySet[Any] = Loan.objects.for_staff(user).filter(
            kind=LoanKind.CONSUMER, disbursed_on__range=(period.start, period.end)
        )
        if figure == Figure.NEW_DRAWDOWN_CUSTOMERS:  # the customer's first consumer loan (新增用信客户)
            earlier = Loan.objects.filter(
                customer_id=OuterRef("customer_id"),
                kind=LoanKind.CONSUMER,
                disbursed_on__lt=OuterRef("disbursed_on"),
            )
            loans = loans.filter(~Exists(earlier))
        out.kind, out.rows = "loan", _money_rows(loans, filters).order_by("-disbursed_on", "-id")
    elif figure == Figure.APPROVED_AMOUNT:
        lines = CreditLine.objects.for_staff(user).filter(approved_on__range=(period.start, period.end))
        out.kind, out.rows = "line", _money_rows(lines, filters).order_by("-approved_on", "-id")
    elif figure == Figure.EVENTS:
        events = MarketingEvent.objects.for_staff(user).filter(held_on__range=(period.start, period.end))
        columns = {"sub_branch": "sub_branch_id", "team": "team_id", "staff": "organiser_id"}
        out.kind = "event"
        out.rows = _narrow(events, filters, columns).select_related("organiser").order_by("-held_on", "-id")
    elif figure == Figure.BALANCE_GROWTH:
        out.errors.append(_("Balance growth is the difference of two balances: it has no records to list."))
    elif figure:
        out.errors.append(_("“%(value)s” is not a figure.") % {"value": figure[:32]})
    else:
        out.errors.append(_("Say which figure or funnel stage to list the records of."))
    if out.kind and out.kind != "entry":
        out.title = FIGURES[figure].label
    if out.errors:
        out.kind, out.rows = "", None
    return out


def _outcomes(user: Any, period: Period, filters: Filters, figure: str) -> QuerySet[Any]:
    """Current outcomes (a corrected contact counts once, as its correction) of the figure's kind."""
    lo, hi = _bounds(period)
    # "Not corrected" as NOT EXISTS, not the LEFT JOIN `corrected_by__isnull` makes: PostgreSQL estimates
    # that join at one row and then nests loops over a month of outcomes (10 s at a million customers).
    corrected = Outcome.objects.filter(corrects_id=OuterRef("pk"))
    qs = Outcome.objects.for_staff(user).filter(
        PROCESS[figure], ~Exists(corrected), occurred_at__gte=lo, occurred_at__lt=hi
    )
    columns = {"sub_branch": "staff__sub_branch_id", "team": "team_id", "staff": "staff_id"}
    narrowed = _narrow(qs, filters, columns).select_related("staff")
    return _customer_rows(narrowed).order_by("-occurred_at", "-id")


def _money_rows(qs: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    qs = _narrow(
        _attributed(qs),
        filters,
        {"sub_branch": "customer__sub_branch_id", "team": "who_team", "staff": "who"},
    )
    return _customer_rows(qs.select_related("customer__owner", "customer__worker"))


def _entries(user: Any, period: Period, filters: Filters, stage: int) -> QuerySet[Any]:
    """List entries listed in the period whose customer got at least to `stage` (rollup.annotate_stage)."""
    lo, hi = _bounds(period)
    listed: QuerySet[Any] = Assignment.objects.for_staff(user).filter(created_at__gte=lo, created_at__lt=hi)
    if filters.sub_branch is not None:
        # The rollup places an entry in its person's sub-branch, else in the customer's.
        listed = listed.filter(
            Q(staff__sub_branch_id=filters.sub_branch)
            | Q(staff__sub_branch_id__isnull=True, customer__sub_branch_id=filters.sub_branch)
        )
    listed = _narrow(listed, filters, {"team": "team_id", "staff": "staff_id"})
    if filters.pool:
        listed = listed.filter(pool=filters.pool)
    staged: QuerySet[Any] = annotate_stage(listed)  # annotated fields the type plugin cannot follow
    staged = staged.filter(stage__gte=stage)
    if filters.product:
        staged = staged.filter(product=filters.product, stage__gte=FunnelStage.INTERESTED)
    return _customer_rows(staged.select_related("staff")).order_by("-created_at", "-id")
