"""Supervision in a real browser: the team lead's board refreshes itself (htmx, every 30 s) and shows a call
made meanwhile; the rebuttal chart draws; the planner answers. Screenshots land in docs/screenshots/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories as f
from tests.browser import conftest as fixtures
from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast
from tests.factories_outreach import (
    ApplicationFactory,
    AssignmentFactory,
    BatchFactory,
    OutcomeFactory,
    ScriptVersionFactory,
)
from xiaodai.org.models import Staff

pytestmark = pytest.mark.browser
# The browser fixtures live in tests/browser/conftest.py; bound here by name so pytest finds them.
browser, live_cast, page = fixtures.browser, fixtures.live_cast, fixtures.page

DAY_PLAN = {
    "tele": ["no_answer"] * 9
    + ["busy"] * 3
    + ["not_now"] * 4
    + ["interested"] * 3
    + ["will_apply", "applied"],
    "mgr": ["no_answer"] * 5 + ["refused", "interested", "applied"],
    "lead": ["no_answer", "interested"],
}
REBUTTALS = [  # (objection, rebuttal index, outcomes)
    ("rate_high", 0, ["interested"] * 4 + ["will_apply"] * 2 + ["refused"] * 3),
    ("rate_high", 1, ["interested"] + ["not_now"] * 5),
    ("no_need", 0, ["interested"] * 2 + ["not_now"] * 4),
    ("credit_report", None, ["refused"] * 3 + ["interested"]),
]


def _branch_day(cast: Cast) -> None:
    now = timezone.now()
    for name, outcomes in DAY_PLAN.items():
        staff = cast.staff[name]
        for outcome in outcomes:
            OutcomeFactory(
                staff=staff, customer=f.CustomerFactory(sub_branch=cast.sub), outcome=outcome, occurred_at=now
            )
    OutcomeFactory(staff=cast.staff["mgr"], channel="visit", visit_place="workplace", outcome="interested")
    OutcomeFactory(staff=cast.staff["tele"], channel="wechat", wechat_kind="chat", outcome="not_now")
    Staff.objects.filter(pk=cast.staff["lead"].pk).update(daily_capacity=20)
    version = ScriptVersionFactory(script__created_by=cast.staff["lead"], script__title="薪易贷·已授信未用信")
    for code, index, outcomes in REBUTTALS:
        for outcome in outcomes:
            OutcomeFactory(
                staff=cast.staff["tele"],
                customer=f.CustomerFactory(sub_branch=cast.sub),
                outcome=outcome,
                objection=code,
                rebuttal=index,
                script_version=version if index is not None else None,
                occurred_at=now - dt.timedelta(days=3),
            )
    # An allocation of 400 with 10% held back: 100 of 360 on the call lists applied, 2 of 40 held back.
    batch = BatchFactory(created_by=cast.staff["lead"], held_back=40)
    for i in range(400):
        control = i % 10 == 0
        customer = f.CustomerFactory(sub_branch=cast.sub)
        AssignmentFactory(
            staff=cast.staff["tele"],
            customer=customer,
            batch=batch,
            control=control,
            created_at=now - dt.timedelta(days=20),
        )
        if not control and i % 2:
            OutcomeFactory(
                staff=cast.staff["tele"], customer=customer, occurred_at=now - dt.timedelta(days=19)
            )
        if (not control and i % 4 == 1) or (control and i in (30, 70)):
            ApplicationFactory(customer=customer, started_at=now - dt.timedelta(days=10))


def test_team_lead_watches_the_board_and_plans_a_campaign(
    live_server: Any, live_cast: Cast, page: Page
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    _branch_day(live_cast)
    page.clock.install()
    login(page, live_server.url, "lead")
    page.goto(f"{live_server.url}/supervision/")
    tele = live_cast.staff["tele"]
    row = page.locator(f"tr[data-staff='{tele.pk}']")
    expect(row.get_by_test_id("calls")).to_have_text("21")
    page.screenshot(path=str(SHOTS / "supervision-board.png"), full_page=True)

    # A call made while the board is open shows up at the next refresh, without reloading the page.
    OutcomeFactory(staff=tele, customer=f.CustomerFactory(sub_branch=live_cast.sub), outcome="interested")
    page.clock.fast_forward("00:31")
    expect(row.get_by_test_id("calls")).to_have_text("22")

    page.click("a[href='/supervision/objections/']")
    page.wait_for_function("document.querySelector('[data-testid=rebuttal-chart] canvas') !== null")
    expect(page.get_by_test_id("best")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "supervision-objections.png"), full_page=True)

    page.click("a[href='/supervision/lift/']")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-verdict", "higher")
    page.screenshot(path=str(SHOTS / "supervision-lift.png"), full_page=True)

    page.click("a[href='/supervision/planner/']")
    page.fill("#id_pool_size", "10000")
    page.fill("#id_connect_rate", "35")  # the docs' worked example, not the rate measured above
    page.fill("#id_callers", "10")
    page.fill("#id_days", "20")
    page.click("[data-testid=planner-form] button")
    expect(page.get_by_test_id("days")).to_have_text("30")
    expect(page.get_by_test_id("callers")).to_have_text("15")
    page.screenshot(path=str(SHOTS / "supervision-planner.png"), full_page=True)
