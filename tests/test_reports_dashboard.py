"""The performance dashboard: each figure against the viewer's own target (head: branch, lead: team, others:
self) with the pace, the level below, the period chooser and its bad input, and a pinned query count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import MONTH, TODAY, loan, outcome, refresh
from xiaodai.org.models import Staff
from xiaodai.plans import read
from xiaodai.plans.models import Plan, Target

URL = "/performance/"
D1 = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with frozen():  # TODAY, 30 November 2026
        yield


def make_plan(cast: Cast, start: dt.date = MONTH[0], end: dt.date = MONTH[1], **kw: Any) -> Plan:
    return Plan.objects.create(
        branch=cast.branch,
        name=kw.pop("name", "十一月"),
        kind=kw.pop("kind", "month"),
        starts_on=start,
        ends_on=end,
        created_by=cast.staff["head"],
        **kw,
    )


def target(plan: Plan, figure: str, value: str, scope: str = "branch", **where: Any) -> Target:
    return Target.objects.create(
        plan=plan,
        branch=plan.branch,
        scope=scope,
        figure=figure,
        value=Decimal(value),
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        updated_by=Staff.objects.filter(branch=plan.branch).first(),
        **where,
    )


def facts(cast: Cast) -> None:
    """tele (T1) 3 calls, 2 reached; mgr2 (T2) 1 call; branch B 5 calls; mgr's customer 80,000 disbursed."""
    tele, mgr2 = cast.staff["tele"], cast.staff["mgr2"]
    for result in ("no_answer", "interested", "will_apply"):
        outcome(tele, cast.customers["team"], result, D1)
    outcome(mgr2, cast.customers["other_team"], "no_answer", D1)
    for _ in range(5):
        outcome(cast.staff["mgr_b"], cast.customers["other_branch"], "no_answer", D1)
    loan(f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr"]), D1, "80000")
    refresh(cast.branch.pk)
    refresh(cast.branch_b.pk)


def cards(response: Any) -> dict[str, Any]:
    return {c.figure: c for c in response.context["cards"]}


def test_head_sees_the_branch_against_the_branch_target(cast: Cast) -> None:
    facts(cast)
    plan = make_plan(cast)
    target(plan, "calls", "8")
    target(plan, "disbursed_amount", "100000")
    response = cast.client("head").get(URL)
    assert response.status_code == 200
    c = cards(response)
    assert c["calls"].actual == 4  # branch B's five are not the head's
    assert c["calls"].progress.target.value == 8
    assert c["calls"].progress.done_pct == Decimal("50.0")
    assert c["disbursed_amount"].actual == Decimal("80000.00")
    assert c["disbursed_amount"].progress.done_pct == Decimal("80.0")
    assert c["reached"].progress is None
    assert c["reached"].actual == 2


def test_cards_agree_with_read_progress(cast: Cast) -> None:
    facts(cast)
    plan = make_plan(cast)
    targets = [
        target(plan, "calls", "8"),
        target(plan, "disbursed_amount", "100000"),
        target(plan, "visits", "3"),
    ]
    c = cards(cast.client("head").get(URL))
    for p in read.progress(cast.user("head"), targets, TODAY):
        assert (c[p.target.figure].actual, c[p.target.figure].progress.pace) == (p.actual, p.pace)


def test_lead_sees_the_team_against_the_team_target(cast: Cast) -> None:
    facts(cast)
    plan = make_plan(cast)
    target(plan, "calls", "100", "branch")
    target(plan, "calls", "6", "team", team=cast.t1)
    target(plan, "calls", "9", "team", team=cast.t2)
    c = cards(cast.client("lead").get(URL))
    assert c["calls"].actual == 3
    assert c["calls"].progress.target.value == 6


def test_front_line_sees_their_own_figures_against_their_target(cast: Cast) -> None:
    facts(cast)
    plan = make_plan(cast)
    target(plan, "calls", "3", "staff", staff=cast.staff["tele"])
    target(plan, "calls", "50", "staff", staff=cast.staff["mgr2"])
    response = cast.client("tele").get(URL)
    c = cards(response)
    assert c["calls"].actual == 3
    assert c["calls"].progress.target.value == 3
    assert response.context["children"] is None


def test_a_figure_without_a_target_shows_the_actual_only(cast: Cast) -> None:
    facts(cast)
    make_plan(cast)
    response = cast.client("tele").get(URL)
    assert cards(response)["reached"].actual == 2
    assert response.content.count(b'data-testid="no-target"') == 9


@pytest.mark.parametrize(("value", "pace"), [("3", "on"), ("10", "behind"), ("2", "ahead")])
def test_pace_badge_compares_with_the_time_elapsed(cast: Cast, value: str, pace: str) -> None:
    facts(cast)
    # The last day of the month: all the working days have passed, the pace is the whole target.
    target(make_plan(cast), "calls", value, "staff", staff=cast.staff["tele"])
    response = cast.client("tele").get(URL)
    assert cards(response)["calls"].progress.pace == pace
    assert f'data-pace="{pace}"'.encode() in response.content


def test_pace_halfway_through_a_longer_plan(cast: Cast) -> None:
    facts(cast)
    plan = make_plan(cast, dt.date(2026, 11, 1), dt.date(2026, 12, 31), kind="quarter", name="冲刺")
    target(plan, "calls", "8", "staff", staff=cast.staff["tele"])
    p = cards(cast.client("tele").get(URL))["calls"].progress
    assert Decimal(40) < p.elapsed_pct < Decimal(60)
    assert p.pace == "behind"  # 3 of 8 with about half the working days gone


def test_the_month_plan_is_the_default_and_another_active_plan_can_be_picked(cast: Cast) -> None:
    facts(cast)
    campaign = make_plan(cast, dt.date(2026, 11, 20), dt.date(2026, 12, 10), kind="campaign", name="冲刺")
    month = make_plan(cast)
    make_plan(cast, dt.date(2026, 10, 1), dt.date(2026, 10, 31), name="十月")  # not covering today
    client = cast.client("head")
    response = client.get(URL)
    assert response.context["period"].plan == month
    assert [p.pk for p in response.context["plans"]] == [month.pk, campaign.pk]
    response = client.get(URL, {"plan": campaign.pk})
    assert response.context["period"].plan == campaign
    assert cards(response)["calls"].actual == 0  # nothing counted since the 20th


def test_a_custom_period_shows_figures_without_targets(cast: Cast) -> None:
    facts(cast)
    target(make_plan(cast), "calls", "8")
    response = cast.client("head").get(URL, {"from": "2026-11-02", "to": "2026-11-02"})
    assert response.status_code == 200
    c = cards(response)
    assert c["calls"].actual == 4
    assert c["calls"].progress is None
    assert (
        cards(cast.client("head").get(URL, {"from": "2026-11-03", "to": "2026-11-30"}))["calls"].actual == 0
    )


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01", "to": "2026-11-30"},
        {"from": "yesterday", "to": "2026-11-30"},
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"from": "2025-01-01", "to": "2026-11-30"},
        {"from": "2026-11-01"},
        {"plan": "999999"},
        {"plan": "abc"},
        {"level": "galaxy"},
    ],
)
def test_bad_period_input_gives_a_message_and_the_default(cast: Cast, params: dict[str, str]) -> None:
    plan = make_plan(cast)
    response = cast.client("head").get(URL, params)
    assert response.status_code == 200
    assert b'data-testid="error"' in response.content
    assert response.context["period"].plan == plan


def test_head_child_table_lists_sub_branches_teams_and_people(cast: Cast) -> None:
    facts(cast)
    plan = make_plan(cast)
    target(plan, "calls", "6", "team", team=cast.t1)
    client = cast.client("head")
    subs = client.get(URL).context["children"]
    assert subs.level == "sub_branch"
    assert {r.key: r.cells[4].actual for r in subs.rows} == {cast.sub.pk: 4}
    teams = client.get(URL, {"level": "team"}).context["children"]
    by_team = {r.key: r.cells[4] for r in teams.rows}
    assert {k: c.actual for k, c in by_team.items()} == {cast.t1.pk: 3, cast.t2.pk: 1}
    assert by_team[cast.t1.pk].progress.done_pct == Decimal("50.0")
    assert by_team[cast.t2.pk].progress is None
    people = client.get(URL, {"level": "staff"}).context["children"]
    actual = {r.key: r.cells[0].actual for r in people.rows}
    assert actual[cast.staff["mgr"].pk] == Decimal("80000.00")


def test_lead_child_table_lists_every_team_member(cast: Cast) -> None:
    facts(cast)
    children = cast.client("lead").get(URL).context["children"]
    members = {cast.staff[n].pk for n in ("lead", "mgr", "tele")}
    assert {r.key for r in children.rows} == members
    assert children.levels == ["staff"]


def test_child_table_sorts_by_a_figure(cast: Cast) -> None:
    facts(cast)
    client = cast.client("head")
    rows = client.get(URL, {"level": "team", "sort": "-calls"}).context["children"].rows
    assert [r.key for r in rows] == [cast.t1.pk, cast.t2.pk]
    rows = client.get(URL, {"level": "team", "sort": "calls"}).context["children"].rows
    assert [r.key for r in rows] == [cast.t2.pk, cast.t1.pk]


def test_figures_link_to_their_records(cast: Cast) -> None:
    facts(cast)
    response = cast.client("head").get(URL, {"level": "team"})
    assert b"/performance/records/?figure=calls&amp;from=2026-11-01&amp;to=2026-11-30" in response.content
    assert (
        f"figure=calls&amp;from=2026-11-01&amp;to=2026-11-30&amp;team={cast.t1.pk}".encode()
        in response.content
    )
    assert b"figure=balance_growth" not in response.content


def test_refresh_button_only_for_those_who_manage_targets(cast: Cast) -> None:
    assert b'data-testid="refresh-form"' in cast.client("head").get(URL).content
    assert b'data-testid="refresh-form"' in cast.client("lead").get(URL).content
    assert b'data-testid="refresh-form"' not in cast.client("tele").get(URL).content


def test_figures_as_of_the_last_refresh(cast: Cast) -> None:
    facts(cast)
    assert b'data-testid="figures-as-of"' in cast.client("head").get(URL).content


def test_trend_chart_has_a_point_per_day(cast: Cast) -> None:
    facts(cast)
    chart = cast.client("head").get(URL).context["chart"]
    assert len(chart["xAxis"]["data"]) == 30
    assert chart["series"][0]["data"][1] == 4  # calls on 2 November
    assert chart["series"][2]["data"][1] == 8.0  # 80,000 yuan in 10k


@pytest.mark.parametrize("extra_people", [0, 8])
def test_dashboard_query_count_is_pinned(
    cast: Cast, django_assert_max_num_queries: Any, extra_people: int
) -> None:
    """A fixed number of grouped reads whatever the number of people shown: no query per row."""
    for _ in range(extra_people):
        person = f.StaffFactory(branch=cast.branch, sub_branch=cast.sub, team=cast.t2, role="telemarketer")
        outcome(person, cast.customers["other_team"], "no_answer", D1)
    refresh(cast.branch.pk, as_of=dt.date(2026, 10, 31))  # a stock before the month: balance growth is read
    facts(cast)
    plan = make_plan(cast)
    for figure in ("calls", "reached", "disbursed_amount"):
        target(plan, figure, "10")
        target(plan, figure, "5", "team", team=cast.t1)
        target(plan, figure, "5", "staff", staff=cast.staff["tele"])
    client = cast.client("head")
    client.get(URL)  # warm the session
    # session, user, staff; plans; own targets; 2 value reads of 4 queries; daily; child targets; names;
    # the last refresh; the rest is the base layout's.
    with django_assert_max_num_queries(22):
        response = client.get(URL, {"level": "staff"})
    assert response.status_code == 200
    assert len(response.context["children"].rows) == 3 + extra_people


def test_today_is_the_test_day() -> None:
    assert dt.date(2026, 11, 30) == TODAY
