"""Targets and supervision in a real browser: the branch head sets this month's plan with a branch target,
splits it to the sub-branch's teams, reads the dashboard (progress against target and time, the trend chart),
the funnel and the daily report; a telemarketer sees the running competition's leaderboard.
Screenshots land in docs/screenshots/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories as f
from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast
from tests.plans_data import line, listed, loan, outcome
from xiaodai.plans import competitions, rollup, targets
from xiaodai.plans.competitions import RuleSpec
from xiaodai.plans.models import Plan

pytestmark = pytest.mark.browser


def _month(cast: Cast) -> Plan:
    """A month of work up to today: calls, a referral, a loan and a line, list entries; refreshed."""
    today = timezone.localdate()
    start = today.replace(day=1)
    tele, mgr = cast.staff["tele"], cast.staff["mgr"]
    days = [start + dt.timedelta(i) for i in range((today - start).days + 1)]
    for i, day in enumerate(days):
        customer = f.CustomerFactory(sub_branch=cast.sub, owner=mgr, name=f"客户{i}")
        listed(customer, tele, day)
        outcome(tele, customer, "no_answer", day)
        outcome(tele, customer, "interested" if i % 2 else "busy", day, hour=11)
        if i % 3 == 0:
            outcome(tele, customer, "will_apply", day, hour=15, purpose="renovation")
            line(customer, day, "120000")
            loan(customer, day, "60000")
    head = cast.staff["head"]
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(1)
    plan = targets.create_plan(
        head,
        {
            "name": "本月消费贷营销计划",
            "kind": "month",
            "starts_on": start,
            "ends_on": end,
            "resources": "电销 2 人，客户经理 2 人",
            "actions": "已授信未用信客户集中外呼",
        },
    )
    for figure, value in [
        ("calls", "120"),
        ("reached", "60"),
        ("disbursed_amount", "600000"),
        ("referrals", "12"),
        ("approved_amount", "900000"),
    ]:
        targets.set_target(head, plan, "branch", cast.branch.pk, figure, value)
    target = targets.set_target(head, plan, "sub_branch", cast.sub.pk, "calls", "120")
    rollup.refresh_figures(cast.branch.pk, start, today, funnel_from=start, as_of=today)
    competitions.create_competition(
        head,
        {"name": "本月电销冲刺赛", "starts_on": start, "ends_on": end, "participant_kind": "staff"},
        [tele.pk, mgr.pk],
        [RuleSpec("calls", Decimal("10"), Decimal("1")), RuleSpec("referrals", Decimal("1"), Decimal("5"))],
    )  # fmt: skip
    assert target.pk
    return plan


def test_head_sets_targets_and_reads_where_the_branch_stands(
    live_server: Any, live_cast: Cast, page: Page
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    plan = _month(live_cast)
    login(page, live_server.url, "head")
    page.click("[data-testid=nav-performance]")
    expect(page.locator("[data-testid=kpi][data-figure=calls] [data-testid=target]")).to_contain_text("120")
    expect(page.locator("[data-testid=trend-chart] canvas")).to_have_count(1)
    page.wait_for_timeout(1500)  # let the charts' entry animation finish before the screenshot
    page.screenshot(path=str(SHOTS / "performance-dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/performance/funnel/")
    expect(page.locator("[data-testid=funnel-chart] canvas")).to_have_count(1)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SHOTS / "performance-funnel.png"), full_page=True)

    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    page.screenshot(path=str(SHOTS / "performance-plan.png"), full_page=True)

    page.goto(f"{live_server.url}/performance/daily/")
    expect(page.locator("[data-testid=daily-table]").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "performance-daily.png"), full_page=True)


def test_a_telemarketer_sees_the_leaderboard(live_server: Any, live_cast: Cast, page: Page) -> None:
    _month(live_cast)
    login(page, live_server.url, "tele")
    page.goto(f"{live_server.url}/plans/competitions/")
    page.locator("a", has_text="本月电销冲刺赛").first.click()
    expect(page.locator("canvas").first).to_be_visible()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SHOTS / "performance-competition.png"), full_page=True)
