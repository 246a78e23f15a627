"""Test data for targets, the rollup and the dashboards: outcomes written straight (the workbench's rules
are tested elsewhere), list entries, loans and credit lines on given days, and a refresh."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from tests import factories as f
from tests.outreach_data import SHANGHAI
from xiaodai.allocation.models import Assignment
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.outreach.models import Outcome
from xiaodai.plans import rollup
from xiaodai.plans.models import FigureFact, FigureRefresh

# Figures are counted for November 2026; "today" is Monday 30 November.
TODAY = dt.date(2026, 11, 30)
MONTH = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def outcome(staff: Staff, customer: Customer, result: str, day: dt.date, **kw: Any) -> Outcome:
    return Outcome.objects.create(
        token=uuid.uuid4(),
        branch_id=staff.branch_id,
        customer=customer,
        staff=staff,
        team=staff.team,
        channel=kw.pop("channel", "phone"),
        occurred_at=at(day, kw.pop("hour", 10)),
        outcome=result,
        **kw,
    )


def listed(
    customer: Customer, staff: Staff, day: dt.date, *, pool: str = "approved_undrawn", control: bool = False
) -> Assignment:
    a = Assignment.objects.create(
        branch_id=customer.branch_id,
        customer=customer,
        staff=staff,
        team=staff.team,
        kind="allocation",
        pool=pool,
        control=control,
        created_by=staff,
        protected_until=day + dt.timedelta(30),
    )
    Assignment.objects.filter(pk=a.pk).update(created_at=at(day, 8))
    a.refresh_from_db()
    return a


def loan(customer: Customer, day: dt.date, amount: str = "50000", **kw: Any) -> Any:
    return f.LoanFactory(
        customer=customer,
        disbursed_on=day,
        amount=Decimal(amount),
        balance=Decimal(kw.pop("balance", amount)),
        **kw,
    )


def line(customer: Customer, day: dt.date, limit: str = "100000", **kw: Any) -> Any:
    return f.CreditLineFactory(customer=customer, approved_on=day, limit=Decimal(limit), **kw)


def refresh(
    branch_id: int, start: dt.date = MONTH[0], end: dt.date = TODAY, *, as_of: dt.date | None = TODAY
) -> FigureRefresh:
    return rollup.refresh_figures(branch_id, start, end, funnel_from=start, as_of=as_of)


def fact(staff: Staff, figure: str, value: int | str, day: dt.date = dt.date(2026, 11, 10)) -> None:
    """A figure of the rollup written straight (the pages' and services' tests need no refresh)."""
    FigureFact.objects.create(
        branch_id=staff.branch_id,
        day=day,
        sub_branch_id=staff.sub_branch_id,
        team_id=staff.team_id,
        staff=staff,
        figure=figure,
        value=Decimal(value),
    )
