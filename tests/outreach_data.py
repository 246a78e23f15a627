"""Workbench test data: a fixed moment inside the contact window, and customers made workable for a person
(consent on the channel, an active assignment, a score), without going through the allocation pages."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

from tests import factories as f
from xiaodai.allocation.models import Assignment
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.outreach import services
from xiaodai.outreach.models import Outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday (a working day by the State Council calendar), 10:00 in Shanghai: inside the default window.
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


@contextmanager
def frozen(at: dt.datetime = NOW) -> Iterator[None]:
    """Pages read timezone.now(): pin it so the contact window does not depend on when the suite runs."""
    with mock.patch("django.utils.timezone.now", return_value=at.astimezone(dt.UTC)):
        yield


def assign(
    customer: Customer, staff: Staff, *, control: bool = False, pool: str = "approved_undrawn"
) -> Assignment:
    assignment = Assignment.objects.create(
        branch_id=customer.branch_id,
        customer=customer,
        staff=staff,
        team=staff.team,
        kind="allocation",
        pool=pool,
        control=control,
        created_by=staff,
        protected_until=NOW.date() + dt.timedelta(days=30),
        lapses_on=NOW.date() + dt.timedelta(days=7),
    )
    Customer.objects.filter(pk=customer.pk).update(worker=staff)
    customer.worker = staff
    return assignment


def workable_customer(
    staff: Staff, *, name: str = "钱七", channels: tuple[str, ...] = ("phone",)
) -> Customer:
    """A customer of the staff's sub-branch with consent on `channels`, assigned to the staff."""
    customer = f.CustomerFactory(sub_branch=staff.sub_branch, name=name)
    f.ContactPointFactory(customer=customer)
    for channel in channels:
        f.ConsentFactory(customer=customer, channel=channel, recorded_at=NOW - dt.timedelta(days=60))
    assign(customer, staff)
    return customer


def score(customer: Customer, ev: str, probability: float = 0.1) -> None:
    from xiaodai.pipeline.models import PipelineRun
    from xiaodai.scoring.models import CustomerScore, ScoringModel

    run = PipelineRun.objects.create(
        branch_id=customer.branch_id, data_date=NOW.date(), engine="duckdb", status="done", trigger="cli"
    )
    CustomerScore.objects.create(
        run=run,
        customer=customer,
        model=ScoringModel.objects.get(name="propensity", version=1),
        probability=probability,
        expected_amount=Decimal("100000"),
        expected_value=Decimal(ev),
        reasons=[],
    )


def call(
    staff: Staff, customer: Customer, outcome: str = "no_answer", *, at: dt.datetime = NOW, **kw: object
) -> Outcome:
    """Record an outcome through the service, as the call screen does."""
    data = services.OutcomeInput(
        customer=customer,
        channel=str(kw.pop("channel", "phone")),
        outcome=outcome,
        token=uuid.uuid4(),
        **kw,  # type: ignore[arg-type]
    )
    return services.record_outcome(staff, data, now=at)
