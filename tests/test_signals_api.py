"""Signals over the API: token auth, the same scoping, filters and masking as the customers page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Cast
from tests.factories_signals import PipelineRunFactory, SignalFactory
from xiaodai.core import roles
from xiaodai.org.services import issue_api_token

URL = "/api/v1/signals"


def _get(cast: Cast, who: str, **params: Any) -> Any:
    token = issue_api_token(None, cast.staff[who], "test")
    return Client().get(URL, params, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def signals(cast: Cast) -> None:
    run = PipelineRunFactory(branch=cast.branch)
    SignalFactory(run=run, customer=cast.customers["own"])
    SignalFactory(
        run=run, customer=cast.customers["own"], kind="other_lender", detail="", amount=Decimal("3000")
    )
    SignalFactory(run=run, customer=cast.customers["team"], detail="car")
    SignalFactory(customer=cast.customers["other_branch"])


def test_lists_the_callers_signals_masked(cast: Cast, signals: None) -> None:
    body = _get(cast, "mgr").json()
    assert body["count"] == 2
    assert {r["customer_id"] for r in body["results"]} == {cast.customers["own"].pk}
    assert {r["name"] for r in body["results"]} == {"张*"}
    assert all(r["reason"] and r["action"] for r in body["results"])


def test_scoped_like_the_pages(cast: Cast, signals: None) -> None:
    assert _get(cast, "head").json()["count"] == 3
    assert _get(cast, "head_b").json()["count"] == 1
    assert _get(cast, "mgr2").json()["count"] == 0


def test_filter_by_kind(cast: Cast, signals: None) -> None:
    body = _get(cast, "head", kind="other_lender").json()
    assert [r["kind"] for r in body["results"]] == ["other_lender"]
    assert [r["detail"] for r in _get(cast, "head", kind="scenario", detail="car").json()["results"]] == [
        "car"
    ]


@pytest.mark.parametrize(
    "params", [{"kind": "bogus"}, {"sort": "name"}, {"kind": "scenario", "detail": "raise"}]
)
def test_unknown_codes_are_422(cast: Cast, signals: None, params: dict[str, str]) -> None:
    assert _get(cast, "head", **params).status_code == 422


def test_sorted_and_paginated(cast: Cast, signals: None, settings: Any) -> None:
    settings.XIAODAI_PAGE_SIZE = 2
    first = _get(cast, "head", sort="amount").json()
    assert (first["count"], first["pages"], len(first["results"])) == (3, 2, 2)
    assert first["results"][0]["amount"] == "3000.00"
    assert len(_get(cast, "head", sort="amount", page=2).json()["results"]) == 1


def test_without_a_token_is_401(cast: Cast) -> None:
    assert Client().get(URL).status_code == 401


@pytest.mark.parametrize("who", ["postloan", "ops", "auditor"])
def test_roles_without_the_api_are_401(cast: Cast, who: str) -> None:
    assert _get(cast, who).status_code == 401


def test_an_api_user_without_the_capital_flow_permission_is_403(
    cast: Cast, signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    perms = dict(roles.ROLE_PERMS)
    perms[roles.Role.LOBBY_MANAGER] = perms[roles.Role.LOBBY_MANAGER] - {roles.Perm.VIEW_CAPITAL_FLOW}
    monkeypatch.setattr("xiaodai.core.access.ROLE_PERMS", perms)
    assert _get(cast, "lobby").status_code == 403
