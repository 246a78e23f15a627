"""Scores over the API: scoped like the pages, with the reasons worded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client

from tests.conftest import Cast
from tests.pools_data import Member, publish_pools
from xiaodai.org.services import issue_api_token
from xiaodai.scoring.models import CustomerScore, ScoringModel

API = "/api/v1"


def _get(cast: Cast, who: str, url: str) -> Any:
    token = issue_api_token(None, cast.staff[who], "test")
    return Client().get(API + url, headers={"Authorization": f"Bearer {token}"})


def _score(cast: Cast, name: str, reasons: list[Any] | None = None) -> CustomerScore:
    customer = cast.customers[name]
    run = publish_pools(customer.branch, [Member(customer, "approved_undrawn")])
    return CustomerScore.objects.create(
        run=run,
        customer=customer,
        model=ScoringModel.objects.get(name="propensity", version=1),
        probability=0.06,
        expected_amount=Decimal("200000"),
        expected_value=Decimal("360"),
        reasons=reasons or [["line", {"limit": 200000, "days": 95, "never": 1}]],
    )


def test_a_manager_reads_their_customers_score_with_reasons(cast: Cast) -> None:
    score = _score(cast, "own")
    body = _get(cast, "mgr", f"/customers/{score.customer_id}/score").json()
    assert body["probability"] == 0.06
    assert body["expected_value"] == 360.0
    assert body["model"] == "propensity v1"
    assert body["reasons"][0]["code"] == "line"
    assert "95" in body["reasons"][0]["text"]


def test_a_reason_whose_value_is_missing_is_left_out(cast: Cast) -> None:
    no_application = ["application", {"days": None, "amount": None}]
    score = _score(cast, "own", [no_application, ["line", {"limit": 200000, "days": 95, "never": 1}]])
    body = _get(cast, "mgr", f"/customers/{score.customer_id}/score").json()
    assert [r["code"] for r in body["reasons"]] == ["line"]


def test_another_branchs_customer_score_is_404(cast: Cast) -> None:
    score = _score(cast, "other_branch")
    assert _get(cast, "mgr", f"/customers/{score.customer_id}/score").status_code == 404


def test_an_unscored_customer_is_404(cast: Cast) -> None:
    assert _get(cast, "mgr", f"/customers/{cast.customers['own'].pk}/score").status_code == 404
