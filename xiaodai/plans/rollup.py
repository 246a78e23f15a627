"""The daily rollup behind every dashboard: figures per day and person, and the list funnel per list day.

Dashboards over a million customers and five million outcomes cannot count the source tables on every page
view, so a refresh counts them once into `FigureFact` and `FunnelFact` (delete and insert in one transaction,
never half-written) and the pages sum those small tables. Refreshes run every few minutes for today, every
night for the last week and the funnel's last 90 list days, after each data drop, and on demand
(tasks.py); the pages say when the figures were taken.

Counts read the outcomes as they stand (a corrected contact counts once, as its correction: C-15) and the
loans, credit lines and applications the latest drop loaded. Attribution is explained in figures.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from xiaodai.allocation.models import Assignment
from xiaodai.customers.choices import INTERESTED, NOT_REACHED, ContactOutcome, LoanKind, LoanStatus
from xiaodai.customers.models import Application, CreditLine, Customer, Loan
from xiaodai.org.models import Branch
from xiaodai.outreach.choices import REFERRALS, WorkChannel
from xiaodai.outreach.models import Outcome
from xiaodai.plans.choices import Figure, FunnelStage
from xiaodai.plans.figures import BALANCE_STOCK
from xiaodai.plans.models import FigureFact, FigureRefresh, FunnelFact, MarketingEvent

FUNNEL_DAYS = 90  # list days a routine refresh re-counts; older list entries rarely move any more
WEEK_DAYS = 7  # days of figures a routine refresh re-counts (late corrections, a re-delivered drop)
ZERO = Decimal("0")


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> dt.date:
    return timezone.localdate(timezone.now(), zone())


@dataclass(frozen=True)
class Key:
    """Where a figure counts: the day, and the person, team and sub-branch it counts for."""

    day: dt.date
    sub_branch_id: int | None
    team_id: int | None
    staff_id: int | None


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = zone()
    return dt.datetime.combine(start, dt.time(0), tz), dt.datetime.combine(
        end + dt.timedelta(1), dt.time(0), tz
    )


# --- figures ---------------------------------------------------------------------------------------------


def outcome_facts(branch_id: int, start: dt.date, end: dt.date) -> dict[tuple[Key, str], Decimal]:
    """Calls, reached contacts, visits and referrals per local day and person, one grouped query."""
    lo, hi = _bounds(start, end)
    rows = (
        Outcome.objects.filter(
            branch_id=branch_id, corrected_by__isnull=True, occurred_at__gte=lo, occurred_at__lt=hi
        )
        .annotate(d=TruncDate("occurred_at", tzinfo=zone()))
        .values("d", "staff_id", "team_id", "staff__sub_branch_id")
        .annotate(
            calls=Count("id", filter=Q(channel=WorkChannel.PHONE)),
            reached=Count("id", filter=~Q(outcome__in=NOT_REACHED)),
            visits=Count("id", filter=Q(channel=WorkChannel.VISIT)),
            referrals=Count("id", filter=Q(outcome__in=REFERRALS)),
        )
        .order_by()
    )
    out: dict[tuple[Key, str], Decimal] = {}
    for r in rows:
        key = Key(r["d"], r["staff__sub_branch_id"], r["team_id"], r["staff_id"])
        for figure in (Figure.CALLS, Figure.REACHED, Figure.VISITS, Figure.REFERRALS):
            if r[figure]:
                out[key, figure] = Decimal(r[figure])
    return out


def event_facts(branch_id: int, start: dt.date, end: dt.date) -> dict[tuple[Key, str], Decimal]:
    rows = (
        MarketingEvent.objects.filter(branch_id=branch_id, held_on__range=(start, end))
        .values("held_on", "organiser_id", "team_id", "sub_branch_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        (Key(r["held_on"], r["sub_branch_id"], r["team_id"], r["organiser_id"]), Figure.EVENTS): Decimal(
            r["n"]
        )
        for r in rows
    }


def _attribution(prefix: str) -> dict[str, Any]:
    """The customer's owner, else the person working them now, and that person's team (figures.py)."""
    owner, worker = f"{prefix}owner_id", f"{prefix}worker_id"
    return {
        "who": Coalesce(F(owner), F(worker)),
        "who_team": Case(
            When(**{f"{owner}__isnull": False}, then=F(f"{prefix}owner__team_id")),
            default=F(f"{prefix}worker__team_id"),
        ),
        "who_sub": F(f"{prefix}sub_branch_id"),
    }


def _money(qs: QuerySet[Any], day: str, value: Any, figure: str) -> dict[tuple[Key, str], Decimal]:
    rows = (
        qs.annotate(**_attribution("customer__"))
        .values(day, "who", "who_team", "who_sub")
        .annotate(v=value)
        .order_by()
    )
    return {
        (Key(r[day], r["who_sub"], r["who_team"], r["who"]), figure): Decimal(r["v"]) for r in rows if r["v"]
    }


def money_facts(branch_id: int, start: dt.date, end: dt.date) -> dict[tuple[Key, str], Decimal]:
    """Disbursed and approved amounts and new drawdown customers per day, from the drop's loans and lines."""
    consumer = Loan.objects.filter(customer__branch_id=branch_id, kind=LoanKind.CONSUMER)
    out = _money(
        consumer.filter(disbursed_on__range=(start, end)),
        "disbursed_on",
        Sum("amount"),
        Figure.DISBURSED_AMOUNT,
    )
    lines = CreditLine.objects.filter(customer__branch_id=branch_id, approved_on__range=(start, end))
    out.update(_money(lines, "approved_on", Sum("limit"), Figure.APPROVED_AMOUNT))
    # A new drawdown customer (新增用信客户) is one whose first consumer loan was paid out that day.
    firsts = (
        consumer.values("customer_id").annotate(first=Min("disbursed_on")).filter(first__range=(start, end))
    )
    first_by_customer = {r["customer_id"]: r["first"] for r in firsts.order_by()}
    counted: Counter[Key] = Counter()
    ids = list(first_by_customer)
    for i in range(0, len(ids), 5000):
        people = (
            Customer.objects.filter(id__in=ids[i : i + 5000])
            .annotate(**_attribution(""))
            .values("id", "who", "who_team", "who_sub")
        )
        for p in people:
            counted[Key(first_by_customer[p["id"]], p["who_sub"], p["who_team"], p["who"])] += 1
    for key, n in counted.items():
        out[key, Figure.NEW_DRAWDOWN_CUSTOMERS] = Decimal(n)
    return out


def stock_facts(branch_id: int, as_of: dt.date) -> dict[tuple[Key, str], Decimal]:
    """The consumer-loan balance outstanding on the data date, per person: balance growth is the
    difference of two of these."""
    live = Loan.objects.filter(customer__branch_id=branch_id, kind=LoanKind.CONSUMER).exclude(
        status=LoanStatus.SETTLED
    )
    rows = (
        live.annotate(**_attribution("customer__"))
        .values("who", "who_team", "who_sub")
        .annotate(v=Sum("balance"))
        .order_by()
    )
    return {(Key(as_of, r["who_sub"], r["who_team"], r["who"]), BALANCE_STOCK): Decimal(r["v"]) for r in rows}


def data_date(branch_id: int) -> dt.date:
    """The date of the branch's data as loaded (its loans' latest data date), else today."""
    latest = Loan.objects.filter(customer__branch_id=branch_id).aggregate(d=Max("data_date"))["d"]
    return latest or local_today()


# --- the funnel ------------------------------------------------------------------------------------------


def _after_listing(model: type[Any], **conditions: Any) -> Exists:
    return Exists(model.objects.filter(customer_id=OuterRef("customer_id"), **conditions))


def annotate_stage(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """List entries annotated with `listed_on`, `stage` (the furthest funnel stage their customer reached
    after listing) and `product` (of that stage). The rollup counts these; the drill-down lists them."""
    current = Q(corrected_by__isnull=True, occurred_at__gte=OuterRef("created_at"))
    since = {"started_at__gte": OuterRef("created_at")}
    day = OuterRef("listed_on")
    spoke = Outcome.objects.filter(current, customer_id=OuterRef("customer_id"))
    product = Coalesce(
        Subquery(
            Loan.objects.filter(
                customer_id=OuterRef("customer_id"), kind=LoanKind.CONSUMER, disbursed_on__gte=day
            )
            .order_by("-disbursed_on")
            .values("product")[:1]
        ),
        Subquery(
            CreditLine.objects.filter(customer_id=OuterRef("customer_id"), approved_on__gte=day)
            .order_by("-approved_on")
            .values("product")[:1]
        ),
        Subquery(
            Application.objects.filter(customer_id=OuterRef("customer_id"), **since)
            .order_by("-started_at")
            .values("product")[:1]
        ),
        Subquery(
            spoke.filter(outcome__in=INTERESTED)
            .exclude(product="")
            .order_by("-occurred_at")
            .values("product")[:1]
        ),
        Value(""),
        output_field=CharField(),
    )
    stage = Case(
        When(drawn=True, then=Value(FunnelStage.DRAWN)),
        When(disbursed=True, then=Value(FunnelStage.DISBURSED)),
        When(approved=True, then=Value(FunnelStage.APPROVED)),
        When(Q(applied=True) | Q(said_applied=True), then=Value(FunnelStage.APPLIED)),
        When(interested=True, then=Value(FunnelStage.INTERESTED)),
        When(reached=True, then=Value(FunnelStage.REACHED)),
        When(contacted=True, then=Value(FunnelStage.CONTACTED)),
        default=Value(FunnelStage.LISTED),
        output_field=IntegerField(),
    )
    return (
        assignments.filter(control=False)
        .annotate(listed_on=TruncDate("created_at", tzinfo=zone()))
        .annotate(
            contacted=Exists(spoke),
            reached=Exists(spoke.exclude(outcome__in=NOT_REACHED)),
            interested=Exists(spoke.filter(outcome__in=INTERESTED)),
            applied=_after_listing(Application, **since),
            said_applied=Exists(spoke.filter(outcome=ContactOutcome.APPLIED)),
            approved=_after_listing(CreditLine, approved_on__gte=day),
            disbursed=_after_listing(Loan, kind=LoanKind.CONSUMER, disbursed_on__gte=day),
            drawn=_after_listing(CreditLine, last_drawn_on__gte=day, drawn__gt=0),
        )
        .annotate(stage=stage, product=product)
    )


def funnel_entries(branch_id: int, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
    """Each list entry (an assignment, not the held-back control group) listed in [start, end], with the
    furthest funnel stage its customer reached after listing and the product of that stage."""
    lo, hi = _bounds(start, end)
    listed = Assignment.objects.filter(branch_id=branch_id, created_at__gte=lo, created_at__lt=hi)
    staged: QuerySet[Any] = annotate_stage(listed)  # annotated fields the type plugin cannot follow
    qs = staged.values(
        "listed_on",
        "staff_id",
        "team_id",
        "staff__sub_branch_id",
        "customer__sub_branch_id",
        "pool",
        "stage",
        "product",
    ).order_by()
    yield from qs.iterator(chunk_size=5000)


def funnel_facts(branch_id: int, start: dt.date, end: dt.date) -> Counter[tuple[Any, ...]]:
    counted: Counter[tuple[Any, ...]] = Counter()
    for r in funnel_entries(branch_id, start, end):
        sub = r["staff__sub_branch_id"] or r["customer__sub_branch_id"]
        product = r["product"] if r["stage"] >= FunnelStage.INTERESTED else ""
        counted[r["listed_on"], sub, r["team_id"], r["staff_id"], r["pool"], product[:50], r["stage"]] += 1
    return counted


# --- refresh ---------------------------------------------------------------------------------------------


def _fact_rows(branch_id: int, facts: Iterable[tuple[tuple[Key, str], Decimal]]) -> list[FigureFact]:
    return [
        FigureFact(
            branch_id=branch_id,
            day=key.day,
            sub_branch_id=key.sub_branch_id,
            team_id=key.team_id,
            staff_id=key.staff_id,
            figure=figure,
            value=value,
        )
        for (key, figure), value in facts
    ]


def refresh_figures(
    branch_id: int,
    days_from: dt.date,
    days_to: dt.date,
    *,
    funnel_from: dt.date | None = None,
    as_of: dt.date | None = None,
) -> FigureRefresh:
    """Re-count a branch's figures for the days [days_from, days_to], its balance stock on the data date,
    and (with funnel_from) the funnel of every list day from funnel_from to days_to. One transaction: the
    pages see the old figures or the new ones, never a mix."""
    if days_from > days_to:
        raise ValueError("days_from after days_to")
    started = timezone.now()
    as_of = as_of or data_date(branch_id)
    facts: dict[tuple[Key, str], Decimal] = defaultdict(lambda: ZERO)
    for part in (
        outcome_facts(branch_id, days_from, days_to),
        event_facts(branch_id, days_from, days_to),
        money_facts(branch_id, days_from, days_to),
        stock_facts(branch_id, as_of),
    ):
        for k, v in part.items():
            facts[k] += v
    funnel = funnel_facts(branch_id, funnel_from, days_to) if funnel_from else Counter()
    with transaction.atomic():
        # One refresh of a branch at a time: the row lock queues a second one behind the first (PostgreSQL;
        # SQLite has one writer anyway).
        Branch.objects.select_for_update().filter(pk=branch_id).first()
        FigureFact.objects.filter(branch_id=branch_id, day__range=(days_from, days_to)).exclude(
            figure=BALANCE_STOCK
        ).delete()
        FigureFact.objects.filter(branch_id=branch_id, figure=BALANCE_STOCK, day=as_of).delete()
        FigureFact.objects.bulk_create(_fact_rows(branch_id, facts.items()), batch_size=2000)
        if funnel_from:
            FunnelFact.objects.filter(branch_id=branch_id, day__range=(funnel_from, days_to)).delete()
            FunnelFact.objects.bulk_create(
                [
                    FunnelFact(
                        branch_id=branch_id,
                        day=d,
                        sub_branch_id=sub,
                        team_id=team,
                        staff_id=staff,
                        pool=pool,
                        product=product,
                        stage=stage,
                        entries=n,
                    )
                    for (d, sub, team, staff, pool, product, stage), n in funnel.items()
                ],
                batch_size=2000,
            )
        done = FigureRefresh.objects.create(
            branch_id=branch_id,
            days_from=days_from,
            days_to=days_to,
            funnel_from=funnel_from,
            as_of=as_of,
            started_at=started,
            finished_at=timezone.now(),
            fact_rows=len(facts),
            funnel_rows=len(funnel),
        )
    _tidy()
    return done


def _tidy() -> None:
    """On PostgreSQL, vacuum and analyse the two rollup tables right after rewriting them. The pages read them
    from their covering indexes alone only where the visibility map (which VACUUM sets) says every row is
    visible; waiting for autovacuum left the pages 2-3x slower at a million customers (benchmarks). Skipped
    inside an outer transaction (VACUUM cannot run there), as in the tests."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) plans_figurefact, plans_funnelfact")


def refresh_routine(branch_id: int, *, today: dt.date | None = None) -> FigureRefresh:
    """The nightly (and after-a-drop) refresh: the last week's figures and the funnel's last 90 list days."""
    today = today or local_today()
    return refresh_figures(
        branch_id,
        today - dt.timedelta(WEEK_DAYS),
        today,
        funnel_from=today - dt.timedelta(FUNNEL_DAYS),
    )


def refresh_all(branch_id: int, *, today: dt.date | None = None) -> FigureRefresh:
    """Everything from the branch's first record: after installing, or to rebuild the rollup."""
    today = today or local_today()
    firsts = [
        Outcome.objects.filter(branch_id=branch_id).aggregate(d=Min("occurred_at"))["d"],
        Loan.objects.filter(customer__branch_id=branch_id).aggregate(d=Min("disbursed_on"))["d"],
        CreditLine.objects.filter(customer__branch_id=branch_id).aggregate(d=Min("approved_on"))["d"],
        Assignment.objects.filter(branch_id=branch_id).aggregate(d=Min("created_at"))["d"],
        MarketingEvent.objects.filter(branch_id=branch_id).aggregate(d=Min("held_on"))["d"],
    ]
    days = [timezone.localdate(d, zone()) if isinstance(d, dt.datetime) else d for d in firsts if d]
    start = min([*days, today])
    return refresh_figures(branch_id, start, today, funnel_from=start)
