"""The resource inventory in a real browser: the branch head opens 资源盘点, the charts draw, choosing a pool
redraws the funnel, a matrix cell opens that sub-branch's customers. Screenshots land in docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast
from tests.pools_data import build_pools

pytestmark = pytest.mark.browser


def test_inventory_to_a_pools_customers(live_server: Any, live_cast: Cast, page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pools = build_pools(live_cast)
    login(page, live_server.url, "head")
    page.click("a[href='/pools/']")
    page.wait_for_url("**/pools/")
    expect(page.get_by_test_id("pool-cards")).to_contain_text("已授信未用信")
    page.wait_for_function("document.querySelector('[data-testid=pools-chart] canvas') !== null")
    page.wait_for_function("document.querySelector('[data-testid=funnel-chart] canvas') !== null")
    page.screenshot(path=str(SHOTS / "pools-inventory.png"), full_page=True)

    page.get_by_test_id("pool-chooser").locator("select").select_option("current_borrower")
    page.wait_for_url("**pool=current_borrower**")
    page.wait_for_function("document.querySelector('[data-testid=funnel-chart] canvas') !== null")

    page.get_by_test_id("matrix-table").locator(f"a[href$='sub_branch={pools.sub2.pk}']").first.click()
    page.wait_for_url(f"**/pools/approved_undrawn/?sub_branch={pools.sub2.pk}")
    expect(page.get_by_test_id("member-table")).to_contain_text("孙*")
    expect(page.get_by_test_id("member-table")).not_to_contain_text("孙七")
    page.screenshot(path=str(SHOTS / "pools-customers.png"), full_page=True)
