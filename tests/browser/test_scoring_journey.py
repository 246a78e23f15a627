"""Scores in a real browser: the operations admin opens the model registry and a trained model's card (the
gains chart draws), then the branch head opens a pool list ranked by expected value with each customer's
reasons. Screenshots land in docs/screenshots/."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, login
from tests.conftest import Cast
from tests.pools_data import build_pools
from tests.scoring_data import register_product_model, train_product
from xiaodai.pools.models import PoolMember
from xiaodai.scoring.models import CustomerScore

pytestmark = pytest.mark.browser


def test_registry_card_and_a_ranked_pool_list(
    live_server: Any, live_cast: Cast, page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    model = register_product_model(train_product())
    login(page, live_server.url, "ops")
    page.click("a[href='/models/']")
    page.wait_for_url("**/models/")
    expect(page.locator("body")).to_contain_text("propensity")
    page.screenshot(path=str(SHOTS / "models-registry.png"), full_page=True)
    page.goto(f"{live_server.url}/models/{model.pk}/")
    page.wait_for_function("document.querySelector('[data-testid=gains-chart] canvas') !== null")
    expect(page.locator("body")).to_contain_text("AUC")
    page.screenshot(path=str(SHOTS / "models-card.png"), full_page=True)

    build_pools(live_cast)
    reasons = [["line", {"limit": 200000, "days": 95, "never": 1}], ["keen_before", {"days": 12}]]
    for k, member in enumerate(PoolMember.objects.filter(blocked=0).select_related("customer", "run")):
        p = 0.04 + 0.03 * k
        value = (Decimal(str(p)) * member.potential * Decimal("0.03")).quantize(Decimal("0.01"))
        CustomerScore.objects.get_or_create(
            customer=member.customer,
            defaults={
                "run": member.run,
                "model": model,
                "probability": p,
                "expected_amount": member.potential,
                "expected_value": value,
                "reasons": reasons,
            },
        )
        member.probability, member.expected_value = p, value
        member.save(update_fields=["probability", "expected_value"])
    page.context.clear_cookies()
    login(page, live_server.url, "head")
    page.goto(f"{live_server.url}/pools/approved_undrawn/")
    table = page.get_by_test_id("member-table")
    expect(table).to_contain_text("上次营销有意向")
    expect(table).to_contain_text("预期价值")
    page.screenshot(path=str(SHOTS / "pools-ranked.png"), full_page=True)
