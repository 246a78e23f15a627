"""Portfolio figures for the home page, computed from the scoped data (never stored or hard-coded)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext

from xiaodai.customers.choices import LoanKind, LoanStatus
from xiaodai.customers.models import CreditLine, Customer, Loan

ZERO = Decimal("0")


@dataclass
class Figures:
    """One row of portfolio figures (a whole scope, a sub-branch, a team or a person)."""

    label: str = ""
    customers: int = 0
    aum: Decimal = ZERO
    lines: int = 0
    limit: Decimal = ZERO
    drawn: Decimal = ZERO
    undrawn_customers: int = 0
    consumer_balance: Decimal = ZERO
    mortgage_balance: Decimal = ZERO
    business_balance: Decimal = ZERO
    overdue_loans: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def undrawn(self) -> Decimal:
        return self.limit - self.drawn

    @property
    def usage_pct(self) -> Decimal:
        return (self.drawn * 100 / self.limit).quantize(Decimal("0.1")) if self.limit else ZERO


def _grouped(qs: QuerySet[Any], group: str | None, **aggregates: Any) -> list[tuple[Any, dict[str, Any]]]:
    """(group value, aggregates) pairs; one pair with value None when there is no grouping."""
    if group is None:
        return [(None, qs.aggregate(**aggregates))]
    return [(r[group], r) for r in qs.values(group).annotate(**aggregates).order_by(group)]


def portfolio(customers: QuerySet[Customer], group: str | None) -> tuple[Figures, list[Figures]]:
    """Totals and per-group figures; `group` is a customer lookup such as 'sub_branch__name'.

    Three grouped queries (customers, credit lines, loans) whatever the number of groups.
    """
    rows: dict[Any, Figures] = defaultdict(Figures)
    via = f"customer__{group}" if group else None

    for value, r in _grouped(customers, group, n=Count("id"), aum_sum=Sum("aum")):
        rows[value].customers, rows[value].aum = r["n"], r["aum_sum"] or ZERO

    lines = CreditLine.objects.filter(customer__in=customers)
    for value, r in _grouped(
        lines,
        via,
        n=Count("id"),
        lim=Sum("limit"),
        drw=Sum("drawn"),
        idle=Count("customer", filter=Q(drawn=0), distinct=True),
    ):
        row = rows[value]
        row.lines, row.limit, row.drawn, row.undrawn_customers = (
            r["n"],
            r["lim"] or ZERO,
            r["drw"] or ZERO,
            r["idle"],
        )

    loans = Loan.objects.filter(customer__in=customers).exclude(status=LoanStatus.SETTLED)
    for value, r in _grouped(
        loans,
        via,
        cons=Sum("balance", filter=Q(kind=LoanKind.CONSUMER)),
        mort=Sum("balance", filter=Q(kind=LoanKind.MORTGAGE)),
        bus=Sum("balance", filter=Q(kind=LoanKind.BUSINESS)),
        over=Count("id", filter=Q(status=LoanStatus.OVERDUE)),
    ):
        row = rows[value]
        row.consumer_balance, row.mortgage_balance = r["cons"] or ZERO, r["mort"] or ZERO
        row.business_balance, row.overdue_loans = r["bus"] or ZERO, r["over"]

    if group is None:
        return rows[None], []
    for value, row in rows.items():
        row.label = gettext("Not in a team") if value is None else str(value)
    # Customers outside any team sort last: they are the branch's unallocated stock.
    groups = sorted(rows.values(), key=lambda f: (f.label == gettext("Not in a team"), f.label))
    total = Figures()
    for g in groups:
        for name in SUMMED:
            setattr(total, name, getattr(total, name) + getattr(g, name))
    return total, groups


SUMMED = (
    "customers",
    "aum",
    "lines",
    "limit",
    "drawn",
    "undrawn_customers",
    "consumer_balance",
    "mortgage_balance",
    "business_balance",
    "overdue_loans",
)


def chart_option(
    groups: list[Figures], title_limit: str, title_drawn: str, title_balance: str
) -> dict[str, Any]:
    """ECharts option: limit vs drawn vs consumer-loan balance per group, in 10k yuan."""

    def wan(v: Decimal) -> float:
        return float((v / 10000).quantize(Decimal("0.01")))

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "bottom": 40, "top": 40},
        "xAxis": {"type": "category", "data": [g.label for g in groups], "axisLabel": {"interval": 0}},
        "yAxis": {"type": "value", "name": gettext("10k yuan")},
        "series": [
            {"name": title_limit, "type": "bar", "data": [wan(g.limit) for g in groups]},
            {"name": title_drawn, "type": "bar", "data": [wan(g.drawn) for g in groups]},
            {"name": title_balance, "type": "bar", "data": [wan(g.consumer_balance) for g in groups]},
        ],
    }
