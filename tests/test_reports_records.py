"""The records behind a figure or a funnel stage: the right rows for every figure kind, read live within
the viewer's scope (a lead never sees another team's, nobody another branch's), masked, paginated, and bad
parameters answered with a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import line, listed, loan, outcome
from xiaodai.plans.models import MarketingEvent

URL = "/performance/records/"
D1 = dt.date(2026, 11, 2)
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with frozen():
        yield


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {r.pk for r in response.context["page"]}


@pytest.fixture
def contacts(cast: Cast) -> dict[str, Any]:
    """tele (T1): a call not answered, corrected to reached; a visit; a call ending in will-apply. mgr2 (T2):
    a call. Branch B: a call. October: a call of tele's."""
    tele, mgr2 = cast.staff["tele"], cast.staff["mgr2"]
    team = cast.customers["team"]
    first = outcome(tele, team, "no_answer", D1)
    out = {
        "corrected": first,
        "correction": outcome(tele, team, "interested", D1, corrects=first),
        "visit": outcome(tele, team, "interested", D1, channel="visit", visit_place="home"),
        "referral": outcome(tele, team, "will_apply", D1, hour=15),
        "t2": outcome(mgr2, cast.customers["other_team"], "no_answer", D1),
        "b": outcome(cast.staff["mgr_b"], cast.customers["other_branch"], "no_answer", D1),
        "october": outcome(tele, team, "no_answer", dt.date(2026, 10, 20)),
    }
    return {k: v.pk for k, v in out.items()}


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("calls", {"correction", "referral", "t2"}),
        ("reached", {"correction", "visit", "referral"}),
        ("visits", {"visit"}),
        ("referrals", {"referral"}),
    ],
)
def test_process_figures_list_the_current_outcomes(
    cast: Cast, contacts: dict[str, int], figure: str, expected: set[str]
) -> None:
    response = cast.client("head").get(URL, {"figure": figure, **NOV})
    assert ids(response) == {contacts[k] for k in expected}
    assert response.context["data"].kind == "outcome"


def test_a_lead_does_not_see_another_teams_outcomes(cast: Cast, contacts: dict[str, int]) -> None:
    got = ids(cast.client("lead").get(URL, {"figure": "calls", **NOV}))
    assert got == {contacts["correction"], contacts["referral"]}


def test_a_person_sees_their_own_outcomes(cast: Cast, contacts: dict[str, int]) -> None:
    assert ids(cast.client("mgr2").get(URL, {"figure": "calls", **NOV})) == {contacts["t2"]}
    assert ids(cast.client("mgr").get(URL, {"figure": "calls", **NOV})) == set()


def test_another_branch_is_never_listed(cast: Cast, contacts: dict[str, int]) -> None:
    assert contacts["b"] not in ids(cast.client("head").get(URL, {"figure": "calls", **NOV}))
    assert ids(cast.client("head_b").get(URL, {"figure": "calls", **NOV})) == {contacts["b"]}


def test_the_period_bounds_the_records(cast: Cast, contacts: dict[str, int]) -> None:
    got = ids(cast.client("head").get(URL, {"figure": "calls", "from": "2026-10-01", "to": "2026-10-31"}))
    assert got == {contacts["october"]}


def test_filters_narrow_within_scope(cast: Cast, contacts: dict[str, int]) -> None:
    client = cast.client("head")
    by_staff = ids(client.get(URL, {"figure": "calls", "staff": cast.staff["mgr2"].pk, **NOV}))
    assert by_staff == {contacts["t2"]}
    by_team = ids(client.get(URL, {"figure": "calls", "team": cast.t1.pk, **NOV}))
    assert by_team == {contacts["correction"], contacts["referral"]}


@pytest.fixture
def money(cast: Cast) -> dict[str, Any]:
    """In November: the own customer (first loan in January) draws again; a new customer of mgr's draws for
    the first time; mgr2's customer draws; a line is approved for mgr's. Branch B: a loan."""
    new = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"])
    return {
        "again": loan(cast.customers["own"], D1, "30000").pk,
        "first": loan(new, dt.date(2026, 11, 3), "50000").pk,
        "t2": loan(cast.customers["other_team"], D1, "20000").pk,
        "b": loan(cast.customers["other_branch"], D1).pk,
        "mortgage": loan(new, D1, "900000", kind="mortgage").pk,
        "line": line(new, dt.date(2026, 11, 4)).pk,
    }


def test_disbursed_lists_the_consumer_loans(cast: Cast, money: dict[str, int]) -> None:
    response = cast.client("head").get(URL, {"figure": "disbursed_amount", **NOV})
    assert ids(response) == {money["again"], money["first"], money["t2"]}
    assert response.context["data"].kind == "loan"


def test_new_drawdown_lists_first_loans_only(cast: Cast, money: dict[str, int]) -> None:
    assert ids(cast.client("head").get(URL, {"figure": "new_drawdown_customers", **NOV})) == {money["first"]}


def test_money_is_scoped_through_the_customer(cast: Cast, money: dict[str, int]) -> None:
    got = ids(cast.client("lead").get(URL, {"figure": "disbursed_amount", **NOV}))
    assert got == {money["again"], money["first"]}
    narrowed = cast.client("head").get(
        URL, {"figure": "disbursed_amount", "staff": cast.staff["mgr2"].pk, **NOV}
    )
    assert ids(narrowed) == {money["t2"]}


def test_approved_lists_the_credit_lines(cast: Cast, money: dict[str, int]) -> None:
    response = cast.client("head").get(URL, {"figure": "approved_amount", **NOV})
    assert ids(response) == {money["line"]}
    assert response.context["data"].kind == "line"


def test_events_list_the_events_held(cast: Cast) -> None:
    def event(who: str, day: dt.date) -> int:
        staff = cast.staff[who]
        return MarketingEvent.objects.create(
            branch=staff.branch,
            held_on=day,
            title="沙龙",
            organiser=staff,
            team=staff.team,
            sub_branch=staff.sub_branch,
        ).pk

    mine, theirs = event("tele", D1), event("mgr2", D1)
    event("mgr_b", D1)
    event("tele", dt.date(2026, 9, 1))
    assert ids(cast.client("head").get(URL, {"figure": "events", **NOV})) == {mine, theirs}
    assert ids(cast.client("lead").get(URL, {"figure": "events", **NOV})) == {mine}


def test_a_funnel_stage_lists_the_entries_that_got_at_least_that_far(cast: Cast) -> None:
    tele, mgr2 = cast.staff["tele"], cast.staff["mgr2"]
    a, b, c, d = (f.CustomerFactory(sub_branch=cast.sub) for _ in range(4))
    entries = {"a": listed(a, tele, D1), "b": listed(b, tele, D1), "c": listed(c, tele, D1)}
    entries["d"] = listed(d, mgr2, D1, pool="good_past_borrower")
    listed(f.CustomerFactory(sub_branch=cast.sub), tele, D1, control=True)  # the control group: never listed
    outcome(tele, a, "no_answer", D1)
    outcome(tele, b, "interested", D1)
    outcome(mgr2, d, "interested", D1)
    client = cast.client("head")
    pks = {k: v.pk for k, v in entries.items()}
    assert ids(client.get(URL, {"stage": "0", **NOV})) == set(pks.values())
    assert ids(client.get(URL, {"stage": "1", **NOV})) == {pks["a"], pks["b"], pks["d"]}
    assert ids(client.get(URL, {"stage": "2", **NOV})) == {pks["b"], pks["d"]}
    assert ids(client.get(URL, {"stage": "2", "pool": "good_past_borrower", **NOV})) == {pks["d"]}
    assert ids(cast.client("lead").get(URL, {"stage": "2", **NOV})) == {pks["b"]}


def test_customers_are_masked_and_linked(cast: Cast, contacts: dict[str, int]) -> None:
    response = cast.client("head").get(URL, {"figure": "calls", **NOV})
    customer = cast.customers["team"]  # 李四
    phone = customer.contact_points.get().value
    assert customer.name.encode() not in response.content
    assert "李*".encode() in response.content
    assert phone.encode() not in response.content
    assert f"{phone[:3]}****{phone[-4:]}".encode() in response.content
    assert f'href="/customers/{customer.pk}/"'.encode() in response.content


def test_fifty_records_to_a_page(cast: Cast) -> None:
    for _ in range(60):
        outcome(cast.staff["tele"], cast.customers["team"], "no_answer", D1)
    client = cast.client("tele")
    first = client.get(URL, {"figure": "calls", **NOV})
    assert len(first.context["page"]) == 50
    assert first.context["page"].has_next()
    assert b"page=2" in first.content
    assert len(client.get(URL, {"figure": "calls", "page": "2", **NOV}).context["page"]) == 10


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"figure": "happiness"},
        {"figure": "balance_growth"},
        {"stage": "9"},
        {"stage": "x"},
        {"figure": "calls", "from": "2026-11-31", "to": "2026-11-30"},
        {"figure": "calls", "from": "2026-11-30", "to": "2026-11-01"},
        {"figure": "calls", "team": "abc"},
        {"figure": "calls", "pool": "nope"},
        {"stage": "1", "product": "不存在的产品"},
    ],
)
def test_bad_parameters_give_a_message(cast: Cast, params: dict[str, str]) -> None:
    response = cast.client("head").get(URL, params)
    assert response.status_code == 400
    assert b'data-testid="error"' in response.content
    assert response.context["page"] is None


def test_a_filter_outside_the_scope_is_refused(cast: Cast, contacts: dict[str, int]) -> None:
    response = cast.client("lead").get(URL, {"figure": "calls", "team": cast.t2.pk, **NOV})
    assert response.status_code == 400
    response = cast.client("head").get(URL, {"figure": "calls", "staff": cast.staff["mgr_b"].pk, **NOV})
    assert response.status_code == 400


@pytest.mark.parametrize("figure", ["calls", "disbursed_amount", "stage"])
def test_records_query_count_is_pinned(
    cast: Cast,
    contacts: dict[str, int],
    money: dict[str, int],
    django_assert_max_num_queries: Any,
    figure: str,
) -> None:
    for _ in range(20):
        customer = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["tele"])
        f.ContactPointFactory(customer=customer)
        outcome(cast.staff["tele"], customer, "no_answer", D1)
        loan(customer, D1)
        listed(customer, cast.staff["tele"], D1)
    client = cast.client("head")
    params = {"stage": "0"} if figure == "stage" else {"figure": figure}
    client.get(URL, {**params, **NOV})
    # session, user, staff; the filter choices (3); the count; the page; the customers' phones; the last
    # refresh; the base layout's. Nothing per row.
    with django_assert_max_num_queries(15):
        response = client.get(URL, {**params, "staff": cast.staff["tele"].pk, **NOV})
    assert len(response.context["page"]) >= 20
