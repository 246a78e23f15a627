"""The daily report (日报): the day's and the month's figures per level the viewer sees, against the month's
targets with completion and pace, totals, the day asked for, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import MONTH, TODAY, loan, outcome, refresh
from xiaodai.org.models import Staff
from xiaodai.plans.choices import Figure, Pace, ScopeKind
from xiaodai.plans.models import Plan, Target
from xiaodai.reports import daily

DAY = dt.date(2026, 11, 27)  # a Friday: the report of the morning of Monday 30th looks back at it
EARLIER = dt.date(2026, 11, 2)
URL = "/performance/daily/"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with frozen():  # "today" is 2026-11-30 in Shanghai
        yield


def make_target(
    cast: Cast,
    scope: str,
    figure: str,
    value: str,
    period: tuple[dt.date, dt.date] = MONTH,
    **who: Any,
) -> Target:
    head = cast.staff["head"]
    plan = Plan.objects.create(
        branch=cast.branch,
        name=f"{period[0]:%Y-%m} {scope} {figure}",
        kind="month" if period == MONTH else "quarter",
        starts_on=period[0],
        ends_on=period[1],
        created_by=head,
    )
    return Target.objects.create(
        plan=plan,
        branch=cast.branch,
        scope=scope,
        figure=figure,
        value=Decimal(value),
        starts_on=period[0],
        ends_on=period[1],
        updated_by=head,
        **who,
    )


def report(cast: Cast, name: str, day: dt.date = DAY) -> daily.Report:
    return daily.build_report(cast.user(name), day)


def level(r: daily.Report, scope: str) -> daily.LevelTable:
    return next(lv for lv in r.levels if lv.scope == scope)


def row(r: daily.Report, scope: str, key: int | None) -> daily.Row:
    return next(x for x in level(r, scope).rows if x.key == key)


def test_a_persons_figures_on_the_day_and_month_to_date(cast: Cast) -> None:
    tele, c = cast.staff["tele"], cast.customers["team"]
    outcome(tele, c, "no_answer", EARLIER)
    outcome(tele, c, "interested", DAY)
    refresh(cast.branch.pk)
    calls = row(report(cast, "head"), ScopeKind.STAFF, tele.pk).cell(Figure.CALLS)
    reached = row(report(cast, "head"), ScopeKind.STAFF, tele.pk).cell(Figure.REACHED)
    assert (calls.day, calls.mtd) == (1, 2)
    assert (reached.day, reached.mtd) == (1, 1)


def test_money_figures_count_for_the_customers_owner(cast: Cast) -> None:
    mgr = cast.staff["mgr"]
    loan(f.CustomerFactory(sub_branch=cast.sub, owner=mgr), DAY, "80000")
    refresh(cast.branch.pk)
    r = report(cast, "head")
    cell = row(r, ScopeKind.STAFF, mgr.pk).cell(Figure.DISBURSED_AMOUNT)
    assert (cell.day, cell.mtd) == (Decimal("80000.00"), Decimal("80000.00"))
    assert row(r, ScopeKind.SUB_BRANCH, cast.sub.pk).cell(Figure.NEW_DRAWDOWN_CUSTOMERS).mtd == 1


def test_a_branch_head_sees_every_level(cast: Cast) -> None:
    r = report(cast, "head")
    assert [lv.scope for lv in r.levels] == ["branch", "sub_branch", "team", "staff"]
    assert {x.key for x in level(r, ScopeKind.TEAM).rows} == {cast.t1.pk, cast.t2.pk}
    people = {x.key for x in level(r, ScopeKind.STAFF).rows}
    assert {cast.staff[n].pk for n in ("lead", "mgr", "tele", "mgr2", "lobby")} <= people
    assert not people & {cast.staff[n].pk for n in ("head", "ops", "auditor", "postloan", "mgr_b")}


def test_a_team_lead_sees_the_team_and_its_people(cast: Cast) -> None:
    outcome(cast.staff["mgr2"], cast.customers["other_team"], "no_answer", DAY)
    refresh(cast.branch.pk)
    r = report(cast, "lead")
    assert [lv.scope for lv in r.levels] == ["team", "staff"]
    assert [x.key for x in level(r, ScopeKind.TEAM).rows] == [cast.t1.pk]
    assert {x.key for x in level(r, ScopeKind.STAFF).rows} == {
        cast.staff[n].pk for n in ("lead", "mgr", "tele")
    }
    assert level(r, ScopeKind.STAFF).total.cell(Figure.CALLS).mtd == 0  # mgr2's call is another team's


def test_anyone_else_sees_only_themselves(cast: Cast) -> None:
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", DAY)
    outcome(cast.staff["mgr"], cast.customers["own"], "no_answer", DAY)
    refresh(cast.branch.pk)
    r = report(cast, "tele")
    assert [lv.scope for lv in r.levels] == ["staff"]
    assert [x.key for x in r.levels[0].rows] == [cast.staff["tele"].pk]
    assert r.levels[0].total.cell(Figure.CALLS).mtd == 1


def test_another_branchs_figures_are_not_in_the_report(cast: Cast) -> None:
    outcome(cast.staff["mgr_b"], cast.customers["other_branch"], "no_answer", DAY)
    refresh(cast.branch_b.pk)
    r = report(cast, "head")
    assert level(r, ScopeKind.BRANCH).total.cell(Figure.CALLS).mtd == 0


def test_totals_add_up_the_rows_and_match_the_branch(cast: Cast) -> None:
    for name, key in (("tele", "team"), ("mgr", "own"), ("mgr2", "other_team")):
        outcome(cast.staff[name], cast.customers[key], "no_answer", DAY)
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", EARLIER)
    refresh(cast.branch.pk)
    r = report(cast, "head")
    for scope in ("sub_branch", "team", "staff"):
        total = level(r, scope).total.cell(Figure.CALLS)
        assert (total.day, total.mtd) == (3, 4), scope
    assert level(r, ScopeKind.BRANCH).total.cell(Figure.CALLS).mtd == 4


def test_money_nobody_owns_shows_as_an_unattributed_row_inside_the_totals(cast: Cast) -> None:
    loan(f.CustomerFactory(sub_branch=cast.sub), DAY, "20000")
    refresh(cast.branch.pk)
    people = level(report(cast, "head"), ScopeKind.STAFF)
    nobody = next(x for x in people.rows if x.key is None)
    assert nobody.cell(Figure.DISBURSED_AMOUNT).mtd == Decimal("20000.00")
    assert people.total.cell(Figure.DISBURSED_AMOUNT).mtd == Decimal("20000.00")


def test_completion_and_pace_against_the_months_target(cast: Cast) -> None:
    tele = cast.staff["tele"]
    outcome(tele, cast.customers["team"], "no_answer", DAY)
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "10", staff=tele, team=cast.t1)
    refresh(cast.branch.pk)
    cell = row(report(cast, "head"), ScopeKind.STAFF, tele.pk).cell(Figure.CALLS)
    assert (cell.target, cell.actual, cell.done_pct) == (Decimal("10"), 1, Decimal("10.0"))
    assert cell.pace == Pace.BEHIND
    assert cell.period is None


def test_a_figure_without_target_has_no_completion(cast: Cast) -> None:
    cell = row(report(cast, "head"), ScopeKind.STAFF, cast.staff["tele"].pk).cell(Figure.VISITS)
    assert (cell.target, cell.done_pct, cell.pace) == (None, None, Pace.NO_TARGET)


def test_a_quarters_target_is_marked_and_measured_from_its_start(cast: Cast) -> None:
    tele = cast.staff["tele"]
    quarter = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    for day in (dt.date(2026, 10, 12), dt.date(2026, 10, 13), DAY):
        outcome(tele, cast.customers["team"], "no_answer", day)
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "30", quarter, staff=tele, team=cast.t1)
    refresh(cast.branch.pk, dt.date(2026, 10, 1), TODAY)
    cell = row(report(cast, "head"), ScopeKind.STAFF, tele.pk).cell(Figure.CALLS)
    assert cell.period == quarter
    assert (cell.mtd, cell.actual, cell.done_pct) == (1, 3, Decimal("10.0"))


def test_the_totals_row_is_held_to_the_parents_target(cast: Cast) -> None:
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", DAY)
    make_target(cast, ScopeKind.BRANCH, Figure.CALLS, "4")
    make_target(cast, ScopeKind.TEAM, Figure.CALLS, "2", team=cast.t1, sub_branch=cast.sub)
    refresh(cast.branch.pk)
    head = report(cast, "head")
    assert level(head, ScopeKind.STAFF).total.cell(Figure.CALLS).done_pct == Decimal("25.0")
    assert row(head, ScopeKind.TEAM, cast.t1.pk).cell(Figure.CALLS).done_pct == Decimal("50.0")
    lead = report(cast, "lead")
    assert level(lead, ScopeKind.STAFF).total.cell(Figure.CALLS).target == Decimal("2")


def test_a_target_out_of_scope_is_not_shown(cast: Cast) -> None:
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "10", staff=cast.staff["mgr"], team=cast.t1)
    assert row(report(cast, "tele"), ScopeKind.STAFF, cast.staff["tele"].pk).cell(Figure.CALLS).target is None


def test_balance_growth_needs_an_earlier_stock(cast: Cast) -> None:
    mgr = cast.staff["mgr"]
    refresh(cast.branch.pk)  # a stock on the 30th only
    r = report(cast, "head", TODAY)
    assert level(r, ScopeKind.BRANCH).total.cell(Figure.BALANCE_GROWTH).mtd is None
    refresh(cast.branch.pk, as_of=dt.date(2026, 10, 31))
    loan(f.CustomerFactory(sub_branch=cast.sub, owner=mgr), DAY, "30000")
    refresh(cast.branch.pk, as_of=TODAY)
    r = report(cast, "head", TODAY)
    assert row(r, ScopeKind.STAFF, mgr.pk).cell(Figure.BALANCE_GROWTH).mtd == Decimal("30000.00")
    assert level(r, ScopeKind.BRANCH).total.cell(Figure.BALANCE_GROWTH).mtd == Decimal("30000.00")


def test_sorting_by_a_figure_puts_the_largest_first(cast: Cast) -> None:
    outcome(cast.staff["mgr2"], cast.customers["other_team"], "no_answer", DAY)
    outcome(cast.staff["mgr2"], cast.customers["other_team"], "no_answer", EARLIER)
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", DAY)
    refresh(cast.branch.pk)
    r = daily.build_report(cast.user("head"), DAY, "calls")
    keys = [x.key for x in level(r, ScopeKind.STAFF).rows]
    assert keys[:2] == [cast.staff["mgr2"].pk, cast.staff["tele"].pk]


# --- the day -------------------------------------------------------------------------------------------


def _day_of(response: Any) -> str:
    assert response.status_code == 200
    text = response.content.decode()
    return text.split('data-testid="report-meta" data-day="')[1][:10]


def test_the_page_defaults_to_yesterday(cast: Cast) -> None:
    assert _day_of(cast.client("head").get(URL)) == "2026-11-29"


def test_the_page_shows_the_day_asked_for(cast: Cast) -> None:
    assert _day_of(cast.client("head").get(URL, {"day": "2026-11-27"})) == "2026-11-27"


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-12-01"])
def test_a_bad_or_future_day_shows_yesterday_with_a_message(cast: Cast, bad: str) -> None:
    response = cast.client("head").get(URL, {"day": bad})
    assert _day_of(response) == "2026-11-29"
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]


def test_parse_day_explains_what_was_wrong() -> None:
    from django.http import QueryDict

    assert daily.parse_day(QueryDict("day=2026-11-27"), TODAY) == (DAY, "")
    assert daily.parse_day(QueryDict("day=nope"), TODAY)[1]
    assert daily.parse_day(QueryDict("day=2026-12-01"), TODAY)[1]


# --- the page ------------------------------------------------------------------------------------------


def test_the_page_marks_behind_pace_and_offers_the_export(cast: Cast) -> None:
    tele = cast.staff["tele"]
    outcome(tele, cast.customers["team"], "no_answer", DAY)
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "10", staff=tele, team=cast.t1)
    refresh(cast.branch.pk)
    text = cast.client("tele").get(URL, {"day": "2026-11-27"}).content.decode()
    assert 'data-figure="calls" data-part="done" data-value="10.0" data-pace="behind"' in text
    assert 'data-testid="export"' in text
    assert "/performance/daily.xlsx?day=2026-11-27" in text
    assert 'data-testid="level-staff"' in text
    assert 'data-testid="level-branch"' not in text


def test_the_page_marks_a_target_set_for_another_period(cast: Cast) -> None:
    tele = cast.staff["tele"]
    quarter = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "30", quarter, staff=tele, team=cast.t1)
    text = cast.client("tele").get(URL, {"day": "2026-11-27"}).content.decode()
    assert 'data-testid="target-period"' in text


def test_the_page_shows_each_level_for_the_head(cast: Cast) -> None:
    text = cast.client("head").get(URL, {"day": "2026-11-27"}).content.decode()
    for scope in ("branch", "sub_branch", "team", "staff"):
        assert f'data-testid="level-{scope}"' in text
    assert text.count('data-testid="total-row"') == 4


def _queries(cast: Cast) -> int:
    with CaptureQueriesContext(connection) as ctx:
        daily.build_report(cast.user("head"), DAY)
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_people(cast: Cast) -> None:
    make_target(cast, ScopeKind.STAFF, Figure.CALLS, "10", staff=cast.staff["tele"], team=cast.t1)
    make_target(cast, ScopeKind.BRANCH, Figure.CALLS, "10", (dt.date(2026, 10, 1), dt.date(2026, 12, 31)))
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", DAY)
    refresh(cast.branch.pk)
    few = _queries(cast)
    for i in range(12):
        team = cast.t1 if i % 2 else cast.t2
        person: Staff = f.StaffFactory(
            branch=cast.branch, sub_branch=cast.sub, team=team, role="telemarketer"
        )
        outcome(person, cast.customers["team"], "no_answer", DAY)
        make_target(cast, ScopeKind.STAFF, Figure.CALLS, "5", staff=person, team=team)
    refresh(cast.branch.pk)
    assert _queries(cast) == few
    assert few <= 45, few


def test_the_page_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    outcome(cast.staff["tele"], cast.customers["team"], "no_answer", DAY)
    refresh(cast.branch.pk)
    client = cast.client("head")
    with django_assert_max_num_queries(55):
        assert client.get(URL, {"day": "2026-11-27"}).status_code == 200
