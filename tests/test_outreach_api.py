"""The workbench over the API: the same list, rules and services as the pages."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from tests import factories as f
from tests.conftest import Cast
from tests.outreach_data import NOW, frozen, score, workable_customer
from xiaodai.org.services import issue_api_token
from xiaodai.outreach.models import Outcome

API = "/api/v1"


@pytest.fixture(autouse=True)
def _in_the_window() -> Any:
    with frozen():
        yield


def _client(cast: Cast, who: str) -> tuple[Client, dict[str, str]]:
    token = issue_api_token(None, cast.staff[who], "test")
    return Client(), {"Authorization": f"Bearer {token}"}


def _post(cast: Cast, who: str, body: dict[str, Any]) -> Any:
    client, headers = _client(cast, who)
    payload = {"token": str(uuid.uuid4()), "channel": "phone"} | body
    return client.post(
        f"{API}/outcomes", json.dumps(payload), content_type="application/json", headers=headers
    )


def test_today_lists_the_callers_customers_masked(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"], name="钱七")
    score(customer, "500")
    client, headers = _client(cast, "tele")
    body = client.get(f"{API}/work/today", headers=headers).json()
    assert [r["customer_id"] for r in body["rows"]] == [customer.pk]
    assert body["rows"][0]["name"] != "钱七"


def test_today_with_an_unknown_channel_is_422(cast: Cast) -> None:
    client, headers = _client(cast, "tele")
    assert client.get(f"{API}/work/today?channel=fax", headers=headers).status_code == 422


def test_card_of_another_branch_is_404(cast: Cast) -> None:
    client, headers = _client(cast, "tele")
    response = client.get(f"{API}/work/customers/{cast.customers['other_branch'].pk}", headers=headers)
    assert response.status_code == 404


def test_outcome_is_recorded_and_names_the_next_customer(cast: Cast) -> None:
    tele = cast.staff["tele"]
    first, second = workable_customer(tele, name="甲"), workable_customer(tele, name="乙")
    score(first, "900")
    score(second, "100")
    response = _post(cast, "tele", {"customer_id": first.pk, "outcome": "interested"})
    assert response.status_code == 201
    assert response.json()["next_customer_id"] == second.pk
    assert Outcome.objects.get(customer=first).outcome == "interested"


def test_outcome_breaking_a_rule_is_409_with_the_rule(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    f.OptOutFactory(customer=customer, channel="", recorded_at=NOW)
    response = _post(cast, "tele", {"customer_id": customer.pk, "outcome": "busy"})
    assert response.status_code == 409
    assert [p["code"] for p in response.json()["problems"]] == ["opted_out"]
    assert not Outcome.objects.filter(customer=customer).exists()


def test_outcome_with_an_unknown_code_is_422(cast: Cast) -> None:
    customer = workable_customer(cast.staff["tele"])
    response = _post(cast, "tele", {"customer_id": customer.pk, "outcome": "maybe"})
    assert response.status_code == 422
    assert not Outcome.objects.filter(customer=customer).exists()


def test_outcome_for_a_customer_out_of_scope_is_404(cast: Cast) -> None:
    target = cast.customers["other_branch"]
    response = _post(cast, "tele", {"customer_id": target.pk, "outcome": "busy"})
    assert response.status_code == 404
    assert not Outcome.objects.filter(customer=target).exists()


def test_roles_that_do_not_work_calls_get_403(cast: Cast) -> None:
    client, headers = _client(cast, "auditor")
    assert client.get(f"{API}/work/today", headers=headers).status_code in (401, 403)
