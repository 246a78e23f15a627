"""Capital flow in a real browser: the branch head reads the capital-flow page (signals by kind, the
weekly chart, the closed loop), opens the customers behind a renovation signal, and the loan manager calls
one of them: the call screen shows the signal as the reason and the renovation script. A post-loan officer
reviews a loan-use alert. Screenshots land in docs/screenshots/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast
from tests.factories_signals import FlowAlertFactory, FlowRunFactory, SignalFactory, SignalLogFactory
from tests.outreach_data import frozen, workable_customer
from tests.pools_data import Member, publish_pools
from xiaodai.outreach.script_seed import seed_scripts
from xiaodai.signals.models import FlowAlert

pytestmark = pytest.mark.browser


def _flows(cast: Cast) -> Any:
    mgr = cast.staff["mgr"]
    renovator = workable_customer(mgr, name="钱七")
    run = publish_pools(cast.branch, [Member(renovator, "premium_card")])
    SignalFactory(customer=renovator, run=run, is_new=True)
    SignalFactory(
        customer=workable_customer(mgr, name="孙八"), run=run, kind="other_lender", detail="", mcc="",
        counterparty="招联消费金融有限公司", amount=Decimal("9600"), largest=Decimal("3200"), txns=3,
        basis=None,
    )  # fmt: skip
    for weeks, kind, detail in [
        (1, "scenario", "renovation"),
        (3, "scenario", "car"),
        (5, "other_lender", ""),
    ]:
        SignalLogFactory(
            customer=renovator, kind=kind, detail=detail, seen_on=dt.date.today() - dt.timedelta(weeks=weeks)
        )
    for days, loop in [(14, "150000"), (7, "180000"), (0, "200000")]:
        FlowRunFactory(
            run__branch=cast.branch, run__is_published=False,
            data_date=dt.date(2026, 11, 28) - dt.timedelta(days=days), closed_loop=Decimal(loop),
        )  # fmt: skip
    seed_scripts(cast.branch, author=cast.staff["lead"], approver=cast.staff["head"])
    return renovator


def test_from_the_capital_flow_page_to_the_call(live_server: Any, live_cast: Cast, page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    renovator = _flows(live_cast)
    login(page, live_server.url, "head")
    page.goto(f"{live_server.url}/capital-flow/")
    expect(page.locator("[data-testid=kind-card][data-kind=scenario] [data-testid=customers]")).to_have_text(
        "1"
    )
    expect(page.locator("[data-testid=weekly-chart] canvas")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "capital-flow.png"), full_page=True)
    page.click("[data-testid=kind-card][data-kind=scenario] [data-detail=renovation]")
    expect(page.locator("[data-testid=signal-row]")).to_have_count(1)
    expect(page.locator("[data-testid=reason]")).to_contain_text("6万元")
    page.screenshot(path=str(SHOTS / "capital-flow-customers.png"), full_page=True)

    page.context.clear_cookies()
    with frozen():
        login(page, live_server.url, "mgr")
        page.goto(f"{live_server.url}/capital-flow/customers/?kind=scenario")
        page.click("[data-testid=call]")
        page.wait_for_url(f"**/work/call/{renovator.pk}/**")
        expect(page.locator("[data-testid=signal][data-kind=scenario]")).to_be_visible()
        expect(page.locator("[data-testid=script] .card-title")).to_contain_text("装修")
        page.screenshot(path=str(SHOTS / "call-with-signal.png"), full_page=True)


def test_a_post_loan_officer_reviews_an_alert(live_server: Any, live_cast: Cast, page: Page) -> None:
    alert = FlowAlertFactory(customer=live_cast.customers["own"])
    login(page, live_server.url, "postloan")
    expect(page.locator("[data-testid=alert-tiles]")).to_be_visible()
    page.goto(f"{live_server.url}/capital-flow/alerts/")
    page.click("[data-testid=alert-row] a >> nth=0")
    page.wait_for_url(f"**/capital-flow/alerts/{alert.pk}/")
    expect(page.locator("[data-testid=txn]")).to_contain_text(alert.txn_id)
    page.screenshot(path=str(SHOTS / "loan-use-alert.png"), full_page=True)
    page.check("input[name=status][value=escalated]")
    page.fill("textarea[name=note]", "贷款资金转入证券账户，已通知客户经理收回")
    page.click("[data-testid=review-form] button")
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", "escalated")
    assert FlowAlert.objects.get(pk=alert.pk).status == "escalated"
