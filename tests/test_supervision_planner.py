"""The campaign planner: worked examples of the arithmetic, bad input refused with its reason, and the page's
starting figures (pool figures, the measured connect rate, the default when too few calls)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.factories_outreach import OutcomeFactory
from tests.pools_data import Member, publish_pools
from xiaodai.outreach import planner as pl

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)
PAGE = "/supervision/planner/"
# The worked example of docs/supervision.md: 10,000 customers, 35% connect, 3 attempts at 70% of the
# previous rate, 12 calls an hour for 6 hours.
EXAMPLE = pl.Inputs(
    pool_size=10_000, connect_rate=0.35, calls_per_hour=12, hours_per_day=6, attempts=3, retry_factor=0.7
)
FORM = {
    "pool_size": "10000",
    "connect_rate": "35",
    "calls_per_hour": "12",
    "hours_per_day": "6",
    "attempts": "3",
    "retry_factor": "70",
    "callers": "10",
    "days": "20",
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        yield


# --- the arithmetic -----------------------------------------------------------------------------------------


def test_worked_example_attempt_by_attempt() -> None:
    need = pl.need(EXAMPLE)
    # Attempt 1: 10,000 dials at 35% reach 3,500; attempt 2: 6,500 at 24.5% reach 1,592.5;
    # attempt 3: 4,907.5 at 17.15% reach 841.64.
    assert [round(a.dials, 2) for a in need.attempts] == [10_000, 6_500, 4_907.5]
    assert [round(a.connect_rate, 4) for a in need.attempts] == [0.35, 0.245, 0.1715]
    assert [round(a.reached, 2) for a in need.attempts] == [3_500, 1_592.5, 841.64]


def test_worked_example_totals() -> None:
    need = pl.need(EXAMPLE)
    assert need.dials == pytest.approx(21_407.5)
    assert need.reached == pytest.approx(5_934.13625)
    assert need.calls_per_caller_day == 72
    assert need.caller_days == pytest.approx(297.326, abs=1e-3)  # 21,407.5 / 72


def test_given_callers_gives_days() -> None:
    plan = pl.days_for(pl.need(EXAMPLE), callers=10)
    assert plan.days == 30  # 297.3 caller-days / 10 = 29.7, the last day part-full
    assert plan.utilisation == pytest.approx(21_407.5 / 21_600)


def test_given_days_gives_callers() -> None:
    assert pl.callers_for(pl.need(EXAMPLE), days=20).callers == 15  # 297.3 / 20 = 14.9


def test_one_attempt_at_even_numbers_needs_no_rounding() -> None:
    need = pl.need(
        pl.Inputs(pool_size=1_000, connect_rate=0.5, calls_per_hour=10, hours_per_day=5, attempts=1)
    )
    assert (need.dials, need.reached, need.caller_days) == (1_000, 500, 20)
    assert pl.days_for(need, 4).days == 5
    assert pl.callers_for(need, 5).callers == 4


def test_retries_at_the_same_rate_when_the_factor_is_one() -> None:
    need = pl.need(
        pl.Inputs(
            pool_size=100, connect_rate=0.5, calls_per_hour=10, hours_per_day=1, attempts=2, retry_factor=1
        )
    )
    assert (need.dials, need.reached) == (150, 75)


def test_a_small_campaign_takes_at_least_one_day() -> None:
    need = pl.need(pl.Inputs(pool_size=5, connect_rate=0.5, calls_per_hour=20, hours_per_day=6))
    assert pl.days_for(need, 3).days == 1


def test_fewer_days_than_attempts_is_flagged() -> None:
    need = pl.need(EXAMPLE)
    assert pl.callers_for(need, 2).retries_share_a_day
    assert not pl.callers_for(need, 3).retries_share_a_day


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pool_size": 0}, "pool_size"),
        ({"pool_size": -10}, "pool_size"),
        ({"connect_rate": 0}, "connect_rate"),
        ({"connect_rate": 1.2}, "connect_rate"),
        ({"calls_per_hour": 0}, "calls_per_hour"),
        ({"hours_per_day": -1}, "hours_per_day"),
        ({"hours_per_day": 25}, "hours_per_day"),
        ({"attempts": 0}, "attempts"),
        ({"attempts": 11}, "attempts"),
        ({"retry_factor": 1.5}, "retry_factor"),
    ],
)
def test_bad_inputs_are_refused_naming_the_input(changes: dict[str, Any], field: str) -> None:
    inputs = pl.Inputs(**{**EXAMPLE.__dict__, **changes})
    with pytest.raises(pl.PlanError) as caught:
        pl.need(inputs)
    assert caught.value.field == field
    assert caught.value.message


@pytest.mark.parametrize(("call", "field"), [(pl.days_for, "callers"), (pl.callers_for, "days")])
def test_zero_callers_or_days_are_refused(call: Any, field: str) -> None:
    with pytest.raises(pl.PlanError) as caught:
        call(pl.need(EXAMPLE), 0)
    assert caught.value.field == field


# --- the page -----------------------------------------------------------------------------------------------


def test_page_works_out_days_and_callers(cast: Cast) -> None:
    response = cast.client("lead").get(PAGE, FORM)
    assert response.context["by_callers"].days == 30
    assert response.context["by_days"].callers == 15
    body = response.content.decode()
    assert 'data-testid="days">30<' in body
    assert 'data-testid="callers">15<' in body


def test_first_visit_without_pool_figures_shows_an_empty_form_without_errors(cast: Cast) -> None:
    response = cast.client("lead").get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["need"] is None
    assert not response.context["form"].errors
    assert "Default 35%" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pool_size", "-5", "at least one customer"),
        ("pool_size", "0", "at least one customer"),
        ("calls_per_hour", "0", "Calls per hour must be more than 0"),
        ("connect_rate", "120", "at most 100"),
        ("connect_rate", "0", "above 0"),
        ("hours_per_day", "12", "fit in the calling window"),  # the default window is 11 hours
        ("attempts", "2.5", "whole number"),
        ("retry_factor", "-10", "from 0 to 100"),
        ("callers", "0", "at least one caller"),
        ("days", "-3", "at least one day"),
        ("calls_per_hour", "lots", "Enter a number"),
    ],
)
def test_bad_input_is_refused_with_its_reason(cast: Cast, field: str, value: str, message: str) -> None:
    response = cast.client("lead").get(PAGE, {**FORM, field: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["need"] is None
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    assert f'data-testid="error-{field}"' in response.content.decode()


def test_an_empty_pool_size_without_figures_asks_for_it(cast: Cast) -> None:
    response = cast.client("lead").get(PAGE, {**FORM, "pool_size": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Type the number of customers" in " ".join(response.context["form"].errors["pool_size"])


def test_pool_size_comes_from_the_latest_pool_figures(cast: Cast) -> None:
    members = [Member(cast.customers[k], "approved_undrawn") for k in ("own", "team", "other_team")]
    members.append(Member(cast.customers["own"], "good_past_borrower", is_primary=False))
    members.append(Member(f.CustomerFactory(sub_branch=cast.sub), "approved_undrawn", blocked=8))
    publish_pools(cast.branch, members)
    response = cast.client("head").get(PAGE)
    assert response.context["need"].inputs.pool_size == 3  # workable, each customer once
    chosen = cast.client("head").get(PAGE, {**FORM, "pool_size": "", "pool": "good_past_borrower"})
    assert chosen.context["need"].inputs.pool_size == 1


def test_a_team_lead_starts_from_their_teams_figures(cast: Cast) -> None:
    members = [Member(cast.customers[k], "approved_undrawn") for k in ("own", "team", "other_team")]
    publish_pools(cast.branch, members)
    response = cast.client("lead").get(PAGE)
    assert response.context["need"].inputs.pool_size == 2  # mgr's and tele's, not mgr2's


def test_connect_rate_is_measured_from_enough_calls(cast: Cast) -> None:
    tele = cast.staff["tele"]
    customer = f.CustomerFactory(sub_branch=cast.sub)
    at = NOW - dt.timedelta(days=2)
    for i in range(100):
        outcome = "not_now" if i < 40 else "no_answer"
        OutcomeFactory(staff=tele, customer=customer, outcome=outcome, occurred_at=at)
    response = cast.client("lead").get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    rate = response.context["rate"]
    assert (rate.measured, rate.calls, rate.reached) == (True, 100, 40)
    assert response.context["form"]["connect_rate"].value() == "40.0"
    assert "100 calls of the last 30 days reached the customer 40.0% of the time" in response.content.decode()


def test_too_few_calls_fall_back_to_the_default_and_say_so(cast: Cast) -> None:
    for _i in range(5):
        OutcomeFactory(staff=cast.staff["tele"], outcome="interested", occurred_at=NOW - dt.timedelta(days=1))
    response = cast.client("lead").get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["rate"].measured is False
    assert response.context["form"]["connect_rate"].value() == "35.0"
    assert "fewer than the 100 needed" in response.content.decode()


def test_callers_default_to_the_people_in_scope(cast: Cast) -> None:
    response = cast.client("lead").get(PAGE)
    assert response.context["form"]["callers"].value() == "3"  # lead, mgr, tele
