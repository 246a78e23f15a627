"""The funnel page: stage counts and conversion from the rollup, the comparison with the period before,
breakdowns (?by=), filters within the viewer's scope, and bad filters answered with a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import MONTH, at, listed, loan, outcome, refresh

URL = "/performance/funnel/"
D1 = dt.date(2026, 11, 2)
OCT = dt.date(2026, 10, 5)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with frozen():
        yield


@pytest.fixture
def funnel(cast: Cast) -> Cast:
    """November: tele (T1) lists a (contacted), b (interested, then disbursed), c (nothing); mgr2 (T2) lists
    d (interested) from another pool. October: tele lists e (contacted) and f (nothing)."""
    tele, mgr2 = cast.staff["tele"], cast.staff["mgr2"]
    a, b, c, d, e, g = (f.CustomerFactory(sub_branch=cast.sub) for _ in range(6))
    for customer in (a, b, c):
        listed(customer, tele, D1)
    listed(d, mgr2, D1, pool="good_past_borrower")
    outcome(tele, a, "no_answer", D1)
    outcome(tele, b, "interested", D1, product="薪易贷")
    loan(b, dt.date(2026, 11, 5))
    outcome(mgr2, d, "interested", D1, product="装修贷")
    listed(e, tele, OCT)
    listed(g, tele, OCT)
    outcome(tele, e, "busy", OCT)
    listed(f.CustomerFactory(sub_branch=cast.sub_b), cast.staff["mgr_b"], D1)  # branch B
    refresh(cast.branch.pk, dt.date(2026, 10, 1))
    refresh(cast.branch_b.pk, dt.date(2026, 10, 1))
    return cast


def entries(response: Any) -> list[int]:
    return [r.step.entries for r in response.context["stages"]]


def test_head_sees_the_branch_funnel(funnel: Cast) -> None:
    response = funnel.client("head").get(URL)
    assert response.status_code == 200
    assert entries(response) == [4, 3, 2, 2, 1, 1, 1, 0]
    stages = response.context["stages"]
    assert stages[1].step.rate == Decimal("75.0")
    assert stages[6].step.overall == Decimal("25.0")
    assert b'data-testid="funnel-chart"' in response.content


def test_lead_sees_the_team_funnel_only(funnel: Cast) -> None:
    assert entries(funnel.client("lead").get(URL)) == [3, 2, 1, 1, 1, 1, 1, 0]


def test_front_line_sees_their_own_funnel(funnel: Cast) -> None:
    assert entries(funnel.client("mgr2").get(URL)) == [1, 1, 1, 1, 0, 0, 0, 0]
    assert entries(funnel.client("mgr").get(URL)) == [0] * 8


def test_comparison_with_the_period_before_in_points(funnel: Cast) -> None:
    stages = funnel.client("head").get(URL).context["stages"]
    assert stages[1].previous.rate == Decimal("50.0")  # October: 1 of 2 contacted
    assert stages[1].change == Decimal("25.0")
    assert stages[0].change is None


def test_a_custom_period(funnel: Cast) -> None:
    response = funnel.client("head").get(URL, {"from": "2026-10-01", "to": "2026-10-31"})
    assert entries(response) == [2, 1, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("team", lambda c: {str(c.t1.pk): 3, str(c.t2.pk): 1}),
        ("staff", lambda c: {str(c.staff["tele"].pk): 3, str(c.staff["mgr2"].pk): 1}),
        ("sub_branch", lambda c: {str(c.sub.pk): 4}),
        ("pool", lambda c: {"approved_undrawn": 3, "good_past_borrower": 1}),
        ("product", lambda c: {"": 2, "消费贷": 1, "装修贷": 1}),
    ],
)
def test_breakdowns(funnel: Cast, by: str, expected: Any) -> None:
    response = funnel.client("head").get(URL, {"by": by})
    assert response.status_code == 200
    assert {r.param: r.steps[0].entries for r in response.context["rows"]} == expected(funnel)


def test_breakdown_shows_conversion_per_step(funnel: Cast) -> None:
    rows = funnel.client("head").get(URL, {"by": "team"}).context["rows"]
    t1 = next(r for r in rows if r.key == funnel.t1.pk)
    assert [s.entries for s in t1.steps] == [3, 2, 1, 1, 1, 1, 1, 0]
    assert t1.steps[1].rate == Decimal("66.7")


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("team", "t2", [1, 1, 1, 1, 0, 0, 0, 0]),
        ("staff", "tele", [3, 2, 1, 1, 1, 1, 1, 0]),
        ("sub_branch", "sub", [4, 3, 2, 2, 1, 1, 1, 0]),
        ("pool", "good_past_borrower", [1, 1, 1, 1, 0, 0, 0, 0]),
        ("product", "消费贷", [1, 1, 1, 1, 1, 1, 1, 0]),
    ],
)
def test_filters(funnel: Cast, param: str, value: str, expected: list[int]) -> None:
    objects = {"t2": funnel.t2, "tele": funnel.staff["tele"], "sub": funnel.sub}
    raw = str(objects[value].pk) if value in objects else value
    response = funnel.client("head").get(URL, {param: raw})
    assert b'data-testid="error"' not in response.content
    assert entries(response) == expected


def test_each_count_links_to_its_records(funnel: Cast) -> None:
    response = funnel.client("head").get(URL, {"by": "team", "pool": "approved_undrawn"})
    assert (
        b"/performance/records/?stage=1&amp;from=2026-11-01&amp;to=2026-11-30&amp;pool=approved_undrawn"
        in (response.content)
    )
    assert (
        f"stage=3&amp;from=2026-11-01&amp;to=2026-11-30&amp;pool=approved_undrawn&amp;team={funnel.t1.pk}".encode()
        in (response.content)
    )


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("head", {"team": "abc"}),
        ("head", {"staff": "head_b"}),  # another branch's person
        ("head", {"sub_branch": "sub_b"}),
        ("head", {"pool": "no_such_pool"}),
        ("head", {"product": "不存在的产品"}),
        ("head", {"by": "galaxy"}),
        ("head", {"from": "2026-11-30", "to": "2026-11-01"}),
        ("lead", {"team": "t2"}),  # a lead looks at their own team only
        ("lead", {"staff": "mgr2"}),
        ("tele", {"staff": "mgr"}),
    ],
)
def test_bad_filters_give_a_message_not_an_error(funnel: Cast, who: str, params: dict[str, str]) -> None:
    ids = {"head_b": funnel.staff["head_b"].pk, "sub_b": funnel.sub_b.pk, "t2": funnel.t2.pk}
    ids |= {"mgr2": funnel.staff["mgr2"].pk, "mgr": funnel.staff["mgr"].pk}
    resolved = {k: str(ids.get(v, v)) for k, v in params.items()}
    response = funnel.client(who).get(URL, resolved)
    assert response.status_code == 200
    assert b'data-testid="error"' in response.content
    unfiltered = funnel.client(who).get(URL)
    assert entries(response) == entries(unfiltered)


def test_branch_b_is_never_counted(funnel: Cast) -> None:
    assert entries(funnel.client("head_b").get(URL))[0] == 1
    assert entries(funnel.client("head").get(URL))[0] == 4


def test_funnel_query_count_is_pinned(funnel: Cast, django_assert_max_num_queries: Any) -> None:
    for _ in range(6):
        person = f.StaffFactory(
            branch=funnel.branch, sub_branch=funnel.sub, team=funnel.t2, role="telemarketer"
        )
        listed(f.CustomerFactory(sub_branch=funnel.sub), person, D1)
    refresh(funnel.branch.pk, dt.date(2026, 10, 1))
    client = funnel.client("head")
    client.get(URL)
    # session, user, staff; sub-branches, teams, people, products (the filter choices); the funnel, the
    # period before, the breakdown; the names of the people shown; the last refresh; the base layout's.
    with django_assert_max_num_queries(17):
        response = client.get(URL, {"by": "staff", "pool": "approved_undrawn"})
    assert len(response.context["rows"]) == 7


def _funnel_rebuilt(cast: Cast, hour: int) -> None:
    """A refresh record of the funnel, as the rollup writes one (the rows are written straight here)."""
    from xiaodai.plans.models import FigureRefresh

    FigureRefresh.objects.create(
        branch=cast.branch, days_from=MONTH[0], days_to=MONTH[1], funnel_from=MONTH[0], as_of=MONTH[1],
        started_at=at(MONTH[1], hour), finished_at=at(MONTH[1], hour),
    )  # fmt: skip


def _product(cast: Cast, name: str) -> None:
    from xiaodai.plans.models import FunnelFact

    tele = cast.staff["tele"]
    FunnelFact.objects.create(
        branch=cast.branch, day=MONTH[0], team=tele.team, staff=tele, product=name, stage=4, entries=1
    )


def test_the_product_options_are_kept_until_the_funnel_is_rebuilt(cast: Cast) -> None:
    from xiaodai.reports.dashboard import filter_options

    head = cast.user("head")
    _product(cast, "消费贷A")
    _funnel_rebuilt(cast, 9)
    assert filter_options(head).products == ["消费贷A"]
    _product(cast, "消费贷B")
    assert filter_options(head).products == ["消费贷A"]  # read once per funnel refresh
    _funnel_rebuilt(cast, 10)
    assert filter_options(head).products == ["消费贷A", "消费贷B"]
