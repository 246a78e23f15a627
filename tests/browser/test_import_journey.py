"""An operations admin uploads a small drop in the browser and reads the run: figures per file, reconciled
totals; then a bad drop and its error report. Screenshots land in docs/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import drops
from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast

pytestmark = pytest.mark.browser


def _upload(page: Page, base: str, folder: Path) -> None:
    page.goto(f"{base}/imports/upload/")
    page.set_input_files("#id_drop", sorted(str(p) for p in folder.iterdir()))
    page.get_by_test_id("upload-form").locator("button.btn-primary").click()


def test_upload_a_drop_and_read_the_run(
    live_server: Any, live_cast: Cast, page: Page, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    folder = drops.basic_drop(tmp_path / "drop", live_cast.branch.code)
    login(page, live_server.url, "ops")
    _upload(page, live_server.url, folder)
    expect(page.get_by_test_id("file-table")).to_contain_text("loans.csv")
    expect(page.get_by_test_id("reconciled").first).to_be_visible()
    expect(page.get_by_test_id("run-message")).to_contain_text("6")
    page.screenshot(path=str(SHOTS / "import-run.png"), full_page=True)
    page.goto(f"{live_server.url}/imports/")
    expect(page.get_by_test_id("run-table").locator("tbody tr")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "import-history.png"), full_page=True)


def test_a_bad_drop_shows_its_errors(live_server: Any, live_cast: Cast, page: Page, tmp_path: Path) -> None:
    folder = drops.basic_drop(tmp_path / "drop", live_cast.branch.code)
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN1", balance="80,000.00")]
    drops.write_csv(folder, "loans", loans)
    login(page, live_server.url, "ops")
    _upload(page, live_server.url, folder)
    expect(page.get_by_test_id("error-table")).to_contain_text("money_format")
    expect(page.get_by_test_id("errors-csv")).to_be_visible()
    page.screenshot(path=str(SHOTS / "import-refused.png"), full_page=True)
