"""Claims and allocation in a real browser: a manager ticks every claimable customer and claims them, sees
them under My claims; the branch head previews a bulk allocation to two people and commits it. Screenshots
land in docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, browser, live_cast, login, page  # noqa: F401 — the fixtures
from tests.conftest import Cast
from tests.factories_allocation import publish, unowned
from xiaodai.allocation.models import AllocationBatch, Assignment

pytestmark = pytest.mark.browser


def test_claim_then_allocate(live_server: Any, live_cast: Cast, page: Page) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    cast = live_cast
    customers = unowned(cast.sub, 8)
    publish(cast.branch, [(cust, "approved_undrawn", 1200.0 - 100 * i) for i, cust in enumerate(customers)])

    login(page, live_server.url, "mgr")
    page.goto(f"{live_server.url}/allocation/claim/")
    table = page.get_by_test_id("claimable-table")
    expect(table).to_contain_text("钱*")
    expect(table).not_to_contain_text("钱八")
    page.screenshot(path=str(SHOTS / "allocation-claimable.png"), full_page=True)
    table.locator("input[name=customer]").nth(0).check()
    table.locator("input[name=customer]").nth(1).check()
    page.get_by_test_id("claim-selected").click()
    page.wait_for_url("**/allocation/claim/**")
    expect(page.get_by_test_id("claim-quota")).to_contain_text("2 /")
    page.goto(f"{live_server.url}/allocation/mine/")
    expect(page.get_by_test_id("mine-table").locator("tbody tr")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "allocation-mine.png"), full_page=True)

    page.context.clear_cookies()
    login(page, live_server.url, "head")
    page.goto(f"{live_server.url}/allocation/")
    form = page.get_by_test_id("allocation-form")
    for name in ("tele", "mgr2"):
        form.locator(f"input[name=people][value='{cast.staff[name].pk}']").check()
    form.locator("input[name=control_share]").fill("10")
    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("fig-allocated")).to_have_text("6")
    page.screenshot(path=str(SHOTS / "allocation-preview.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("commit-button").click()
    page.wait_for_url("**/allocation/batches/*/")
    expect(page.get_by_test_id("fig-allocated")).to_have_text("6")
    batch = AllocationBatch.objects.get()
    assert Assignment.objects.filter(batch=batch).count() == 6
    page.screenshot(path=str(SHOTS / "allocation-batch.png"), full_page=True)
