"""The call screen in a real browser: a telemarketer opens today's list and works three customers through
the call screen with the keyboard (no answer; an objection answered with the script's rebuttal and a
follow-up; will apply with a permitted purpose), each save moving to the next customer. Screenshots of the
list and the call screen land in docs/screenshots/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast
from tests.outreach_data import NOW, frozen, score, workable_customer
from tests.pools_data import Member, publish_pools
from xiaodai.outreach.models import FollowUp, Outcome
from xiaodai.outreach.script_seed import seed_scripts

pytestmark = pytest.mark.browser


def test_three_customers_through_the_call_screen(live_server: Any, live_cast: Cast, page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    cast = live_cast
    tele = cast.staff["tele"]
    names = ("周一", "吴二", "郑三")
    customers = [workable_customer(tele, name=n) for n in names]
    for customer, ev in zip(customers, ("960", "720", "450"), strict=True):
        score(customer, ev, probability=float(ev) / 6000)
    publish_pools(
        cast.branch,
        [
            Member(
                c, "approved_undrawn", basis=Decimal("200000"), days=60 + 30 * k, on_date=dt.date(2027, 5, 1)
            )
            for k, c in enumerate(customers)
        ],
    )
    seed_scripts(cast.branch, author=cast.staff["lead"], approver=cast.staff["head"])
    with frozen():
        login(page, live_server.url, "tele")
        page.goto(f"{live_server.url}/work/")
        rows = page.locator("[data-testid=list-row]")
        expect(rows).to_have_count(3)
        page.screenshot(path=str(SHOTS / "work-today.png"), full_page=True)
        page.click("[data-testid=open-call] >> nth=0")
        page.wait_for_url(f"**/work/call/{customers[0].pk}/**")
        expect(page.locator("[data-testid=apr]")).to_contain_text("%")

        page.keyboard.press("1")  # no answer
        page.keyboard.press("Control+Enter")
        page.wait_for_url(f"**/work/call/{customers[1].pk}/**")

        page.click("[data-objection-tab=rate_high]")
        page.click("[data-objection-pane=rate_high] [data-use-rebuttal] >> nth=0")
        page.keyboard.press("4")  # not now
        page.fill("#id_follow_up_on", (NOW.date() + dt.timedelta(days=3)).isoformat())
        page.screenshot(path=str(SHOTS / "work-call-screen.png"), full_page=True)
        page.keyboard.press("Control+Enter")
        page.wait_for_url(f"**/work/call/{customers[2].pk}/**")

        page.keyboard.press("6")  # will apply
        page.select_option("#id_purpose", "renovation")
        page.click("[data-testid=save]")
        page.wait_for_url("**/work/?channel=phone")
        expect(page.locator("[data-testid=empty]")).to_be_visible()

    saved = {o.customer_id: o for o in Outcome.objects.all()}
    assert [saved[c.pk].outcome for c in customers] == ["no_answer", "not_now", "will_apply"]
    assert (saved[customers[1].pk].objection, saved[customers[1].pk].rebuttal) == ("rate_high", 0)
    assert saved[customers[2].pk].purpose == "renovation"
    assert FollowUp.objects.get(customer=customers[1]).due_on == NOW.date() + dt.timedelta(days=3)
