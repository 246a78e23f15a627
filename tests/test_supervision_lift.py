"""The lift of calling against the control group: the two-proportion test on hand-computed numbers, the funnel
counts of a small fixture (applications only after the assignment, batches without a control group left out),
scope, and the page."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.factories_outreach import ApplicationFactory, AssignmentFactory, BatchFactory, OutcomeFactory
from xiaodai.allocation.models import AllocationBatch
from xiaodai.outreach import lift as lf

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)
ALLOCATED = dt.datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI)
BEFORE = ALLOCATED - dt.timedelta(days=3)
AFTER = ALLOCATED + dt.timedelta(days=2)
START = dt.datetime(2026, 9, 1, tzinfo=SHANGHAI)
END = dt.datetime(2026, 12, 1, tzinfo=SHANGHAI)
PAGE = "/supervision/lift/"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        yield


# --- the statistics -----------------------------------------------------------------------------------------


def test_two_proportions_by_hand() -> None:
    # 60 of 400 called customers applied (15%), 5 of 100 held back (5%).
    # Pooled p = 65/500 = 0.13; SE = √(0.13·0.87·(1/400 + 1/100)) = 0.037600; z = 0.10 / 0.0376 = 2.6596;
    # p = erfc(2.6596/√2) = 0.00782. Interval SE = √(0.15·0.85/400 + 0.05·0.95/100) = 0.028174, so
    # 0.10 ± 1.96 · 0.028174 = 0.0448 … 0.1552.
    c = lf.compare(60, 400, 5, 100)
    assert (c.treated_rate, c.control_rate) == (0.15, 0.05)
    assert c.diff == pytest.approx(0.10)
    assert c.relative == pytest.approx(2.0)
    assert c.z == pytest.approx(2.6596, abs=1e-4)
    assert c.p_value == pytest.approx(0.00782, abs=1e-5)
    assert (c.ci_low, c.ci_high) == (pytest.approx(0.04478, abs=1e-5), pytest.approx(0.15522, abs=1e-5))
    assert c.verdict == lf.HIGHER


def test_no_difference_is_unclear() -> None:
    c = lf.compare(40, 400, 10, 100)
    assert c.diff == pytest.approx(0)
    assert c.p_value == pytest.approx(1.0)
    assert c.verdict == lf.UNCLEAR


def test_lower_when_the_called_do_worse() -> None:
    assert lf.compare(20, 400, 20, 100).verdict == lf.LOWER


def test_too_few_in_the_control_group_to_tell() -> None:
    c = lf.compare(60, 400, 5, 29)
    assert c.verdict == lf.TOO_FEW
    assert c.diff is not None  # the rates are still shown


def test_no_applications_in_either_group() -> None:
    c = lf.compare(0, 100, 0, 50)
    assert (c.verdict, c.p_value, c.relative) == (lf.NO_EVENTS, None, None)


def test_empty_groups_have_no_rates() -> None:
    c = lf.compare(0, 0, 0, 0)
    assert (c.treated_rate, c.control_rate, c.diff, c.verdict) == (None, None, None, lf.TOO_FEW)


def test_the_interval_is_the_wald_interval() -> None:
    c = lf.compare(30, 100, 20, 100)
    se = math.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    assert c.ci_low == pytest.approx(0.1 - lf.Z_95 * se)


# --- the funnel counts --------------------------------------------------------------------------------------


@dataclass
class Fixture:
    batch: AllocationBatch
    plain: AllocationBatch


def allocate(
    cast: Cast, batch: AllocationBatch, staff: str = "tele", control: bool = False, **kw: Any
) -> Any:
    person = cast.staff[staff]
    customer = f.CustomerFactory(sub_branch=person.sub_branch)
    kw.setdefault("created_at", ALLOCATED)
    return AssignmentFactory(staff=person, customer=customer, batch=batch, control=control, **kw).customer


@pytest.fixture
def fixture(cast: Cast) -> Fixture:
    """Batch with a control group: 4 called, 2 held back. Called: t1 disbursed, t2 approved, t3 applied
    before it was allocated (does not count), t4 nothing. Held back: c1 applied, c2 was contacted before it
    was allocated (does not count). A batch without a control group, a claim and an old allocation are left
    out."""
    batch = BatchFactory(created_by=cast.staff["lead"], held_back=2)
    t1, t2, t3, _t4 = (allocate(cast, batch) for _i in range(4))
    c1, c2 = (allocate(cast, batch, control=True) for _i in range(2))
    for customer in (t1, t2, t3):
        OutcomeFactory(staff=cast.staff["tele"], customer=customer, outcome="interested", occurred_at=AFTER)
    ApplicationFactory(customer=t1, started_at=AFTER, stage="disbursed", status="completed")
    ApplicationFactory(customer=t2, started_at=AFTER, stage="approved")
    ApplicationFactory(customer=t3, started_at=BEFORE, stage="disbursed")
    ApplicationFactory(customer=c1, started_at=AFTER)
    OutcomeFactory(staff=cast.staff["tele"], customer=c2, outcome="busy", occurred_at=BEFORE)
    plain = BatchFactory(created_by=cast.staff["lead"])
    ApplicationFactory(customer=allocate(cast, plain), started_at=AFTER)
    ApplicationFactory(
        customer=allocate(cast, batch, created_at=START - dt.timedelta(days=5)), started_at=AFTER
    )
    claimed = AssignmentFactory(staff=cast.staff["tele"], batch=None, kind="claim")
    ApplicationFactory(customer=claimed.customer, started_at=NOW)
    return Fixture(batch, plain)


def test_funnel_counts_of_each_group(cast: Cast, fixture: Fixture) -> None:
    result = lf.lift(cast.user("lead"), START, END)
    assert result.treated == lf.Group(customers=4, contacted=3, applied=2, approved=2, disbursed=1)
    assert result.control == lf.Group(customers=2, contacted=0, applied=1, approved=0, disbursed=0)


def test_rates_and_lift_of_the_fixture(cast: Cast, fixture: Fixture) -> None:
    applied = lf.lift(cast.user("lead"), START, END).headline
    assert (applied.treated_rate, applied.control_rate) == (0.5, 0.5)
    assert applied.comparison is not None
    assert applied.comparison.diff == 0
    assert applied.comparison.verdict == lf.TOO_FEW  # 2 held back: far too few


def test_only_batches_with_a_control_group_are_offered(cast: Cast, fixture: Fixture) -> None:
    assert [b.pk for b in lf.lift(cast.user("lead"), START, END).batches] == [fixture.batch.pk]


def test_one_batch_can_be_chosen(cast: Cast, fixture: Fixture) -> None:
    other = BatchFactory(created_by=cast.staff["lead"])
    allocate(cast, other)
    allocate(cast, other, control=True)
    result = lf.lift(cast.user("lead"), START, END, batch_id=other.pk)
    assert result.batch == other
    assert (result.treated.customers, result.control.customers) == (1, 1)


def test_a_held_back_customer_contacted_anyway_is_a_leak(cast: Cast, fixture: Fixture) -> None:
    held = allocate(cast, fixture.batch, control=True)
    OutcomeFactory(staff=cast.staff["tele"], customer=held, outcome="busy", occurred_at=AFTER)
    assert lf.lift(cast.user("lead"), START, END).leaked == 1


def test_a_team_lead_counts_their_teams_assignments_only(cast: Cast, fixture: Fixture) -> None:
    allocate(cast, fixture.batch, staff="mgr2")
    assert lf.lift(cast.user("lead"), START, END).treated.customers == 4
    assert lf.lift(cast.user("head"), START, END).treated.customers == 5


def test_another_branch_sees_nothing_of_this_one(cast: Cast, fixture: Fixture) -> None:
    result = lf.lift(cast.user("head_b"), START, END)
    assert (result.treated.customers, result.control.customers, result.batches) == (0, 0, [])


def test_the_grouped_counts_take_one_query(
    cast: Cast, fixture: Fixture, django_assert_num_queries: Any
) -> None:
    user = cast.user("lead")
    lf.lift(user, START, END)  # the actor is cached on the user
    with django_assert_num_queries(2):  # the batches for the chooser, the grouped counts
        lf.lift(user, START, END)


# --- the page -----------------------------------------------------------------------------------------------


def test_page_shows_both_groups_and_too_few_to_tell(cast: Cast, fixture: Fixture) -> None:
    response = cast.client("lead").get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert 'data-verdict="too_few"' in body
    assert "Too few to tell" in body
    row = body.split('data-stage="applied"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="treated">2<' in row
    assert 'data-testid="control">1<' in row


def test_page_without_a_control_group_says_how_to_get_one(cast: Cast) -> None:
    body = cast.client("head").get(PAGE).content.decode()
    assert 'data-testid="no-control"' in body


def test_page_warns_about_a_leak(cast: Cast, fixture: Fixture) -> None:
    held = allocate(cast, fixture.batch, control=True)
    OutcomeFactory(staff=cast.staff["tele"], customer=held, outcome="busy", occurred_at=AFTER)
    assert 'data-testid="leak"' in cast.client("lead").get(PAGE).content.decode()


@pytest.mark.parametrize("bad", ["abc", "999999", "-1"])
def test_an_unknown_batch_says_so_and_shows_all(cast: Cast, fixture: Fixture, bad: str) -> None:
    response = cast.client("lead").get(PAGE, {"batch": bad}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "not one of your allocations" in response.context["error"]
    assert response.context["data"].treated.customers == 4


def test_another_branchs_batch_is_not_shown(cast: Cast, fixture: Fixture) -> None:
    response = cast.client("head_b").get(PAGE, {"batch": str(fixture.batch.pk)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["data"].batch is None
    assert response.context["data"].treated.customers == 0
