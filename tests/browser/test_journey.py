"""The main journey in a real browser (Debian chromium via Playwright; never `playwright install`):
log in, search a customer by pinyin, open them, reveal the phone with a reason. Screenshots land in
docs/screenshots/ for the docs and for people to look at."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast

pytestmark = pytest.mark.browser


def test_login_search_open_reveal(live_server: Any, live_cast: Cast, page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("h2")).to_contain_text("登录")
    page.screenshot(path=str(SHOTS / "login.png"))

    login(page, live_server.url, "head")
    expect(page.get_by_test_id("kpis")).to_be_visible()
    page.wait_for_function("document.querySelector('[data-testid=portfolio-chart] canvas') !== null")
    page.screenshot(path=str(SHOTS / "home-branch-head.png"), full_page=True)

    page.click("a[href='/customers/']")
    page.wait_for_url("**/customers/")
    expect(page.locator("#id_q")).to_be_visible()
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()  # the "/" shortcut jumped to the search box
    page.keyboard.type("zhangsan")
    expect(page.get_by_test_id("customer-table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("customer-table")).to_contain_text("张*")
    assert "q=zhangsan" in page.url  # htmx pushed the search into the address bar
    page.screenshot(path=str(SHOTS / "customer-search.png"), full_page=True)

    page.get_by_test_id("customer-table").locator("tbody tr a").first.click()
    expect(page.get_by_test_id("mobile")).to_contain_text("****")
    page.screenshot(path=str(SHOTS / "customer-detail.png"), full_page=True)

    page.select_option("#id_field", "phone")
    page.fill("#id_reason", "客户来电核实身份")
    page.get_by_test_id("reveal-form").locator("button").click()
    phone = live_cast.customers["own"].contact_points.get().value
    expect(page.get_by_test_id("mobile")).to_contain_text(phone)


def test_english_switch(live_server: Any, live_cast: Cast, page: Page) -> None:
    login(page, live_server.url, "mgr")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("header")).to_contain_text("Customers")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("header")).to_contain_text("客户")


def test_wrong_password_shows_a_message(live_server: Any, live_cast: Cast, page: Page) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mgr")
    page.fill("#id_password", "wrong-password-123")
    page.click("button[type=submit]")
    expect(page.locator(".alert-danger")).to_be_visible()
