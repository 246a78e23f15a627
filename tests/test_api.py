"""The JSON API under /api/v1/: bearer tokens, the same scoping and masking as the pages, and audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests import factories as f
from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent
from xiaodai.org.models import ApiToken, Staff
from xiaodai.org.services import issue_api_token

API = "/api/v1"


def _token(staff: Staff) -> str:
    return issue_api_token(None, staff, "test")


def _get(url: str, token: str | None = None, **params: Any):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return Client().get(API + url, params, headers=headers)


# --- authentication -------------------------------------------------------------------------------


def test_no_token_is_401(cast: Cast) -> None:
    assert _get("/customers").status_code == 401


def test_unknown_token_is_401(cast: Cast) -> None:
    assert _get("/customers", "xd_not-a-real-token").status_code == 401


def test_revoked_token_is_401(cast: Cast) -> None:
    token = _token(cast.staff["mgr"])
    ApiToken.objects.filter(staff=cast.staff["mgr"]).update(revoked=True)
    assert _get("/customers", token).status_code == 401


def test_token_of_disabled_user_is_401(cast: Cast) -> None:
    """A-05: disabling the login also stops its API tokens."""
    token = _token(cast.staff["mgr"])
    User.objects.filter(pk=cast.user("mgr").pk).update(is_active=False)
    assert _get("/customers", token).status_code == 401


def test_ops_admin_token_is_401(cast: Cast) -> None:
    """A-04: the ops admin holds no USE_API permission (and reads no customer data)."""
    assert _get("/customers", _token(cast.staff["ops"])).status_code == 401


def test_auditor_token_is_401(cast: Cast) -> None:
    """A-04: the auditor reads the audit trail only."""
    assert _get("/customers", _token(cast.staff["auditor"])).status_code == 401


def test_valid_token_records_last_use(cast: Cast) -> None:
    token = _token(cast.staff["mgr"])
    _get("/customers", token)
    assert ApiToken.objects.get(staff=cast.staff["mgr"]).last_used_at is not None


# --- list and search ------------------------------------------------------------------------------


def test_manager_lists_only_own_customers(cast: Cast) -> None:
    """A-02: the API starts from the same scoped queryset as the pages."""
    body = _get("/customers", _token(cast.staff["mgr"])).json()
    assert [row["id"] for row in body["results"]] == [cast.customers["own"].pk]
    assert body["count"] == 1


def test_branch_head_lists_own_branch_only(cast: Cast) -> None:
    body = _get("/customers", _token(cast.staff["head"])).json()
    expected = {cast.customers[k].pk for k in ("own", "team", "other_team")}
    assert {row["id"] for row in body["results"]} == expected


def test_pinyin_search_through_the_api(cast: Cast) -> None:
    body = _get("/customers", _token(cast.staff["head"]), q="zhangsan").json()
    assert [row["id"] for row in body["results"]] == [cast.customers["own"].pk]


def test_list_rows_are_masked(cast: Cast) -> None:
    row = _get("/customers", _token(cast.staff["mgr"])).json()["results"][0]
    phone = cast.customers["own"].contact_points.get().value
    assert (row["name"], row["mobile"]) == ("张*", f"{phone[:3]}****{phone[-4:]}")


def test_huge_page_number_gives_the_last_page(cast: Cast, settings: Any) -> None:
    settings.XIAODAI_PAGE_SIZE = 1
    response = _get("/customers", _token(cast.staff["head"]), page=10**20)
    assert response.status_code == 200
    assert (response.json()["page"], response.json()["pages"]) == (3, 3)


def test_bad_filter_value_is_400_not_500(cast: Cast) -> None:
    response = _get("/customers", _token(cast.staff["head"]), phone_consent="perhaps")
    assert response.status_code == 400


# --- detail ---------------------------------------------------------------------------------------


def _own_known_customer(cast: Cast) -> Any:
    customer = f.CustomerFactory(
        sub_branch=cast.sub,
        owner=cast.staff["mgr"],
        name="欧阳明月",
        id_number=f.make_id_number(dt.date(1990, 1, 1), 7, "M"),
    )
    f.ContactPointFactory(customer=customer, value="13912340001")
    return customer


def test_detail_masks_name_mobile_and_id_number(cast: Cast) -> None:
    """P-04: masked by default: 139****0001, first six and last four of the ID, two-character surname."""
    customer = _own_known_customer(cast)
    body = _get(f"/customers/{customer.pk}", _token(cast.staff["mgr"])).json()
    id_number = customer.id_number
    assert body["name"] == "欧阳**"
    assert body["mobile"] == "139****0001"
    assert body["id_number"] == "110105********" + id_number[-4:]
    assert body["id_number"] != id_number


def test_detail_never_contains_clear_values(cast: Cast) -> None:
    """P-04: no clear name, mobile or ID number anywhere in the body."""
    customer = _own_known_customer(cast)
    text = _get(f"/customers/{customer.pk}", _token(cast.staff["mgr"])).content.decode()
    for clear in ("欧阳明月", "13912340001", customer.id_number):
        assert clear not in text


def test_detail_of_own_customer_is_200(cast: Cast) -> None:
    response = _get(f"/customers/{cast.customers['own'].pk}", _token(cast.staff["mgr"]))
    assert response.status_code == 200
    assert response.json()["id"] == cast.customers["own"].pk


def test_detail_of_other_branch_customer_is_404(cast: Cast) -> None:
    """A-02: another branch's record answers 404, like one that does not exist."""
    response = _get(f"/customers/{cast.customers['other_branch'].pk}", _token(cast.staff["head"]))
    assert response.status_code == 404


def test_detail_of_teammates_customer_is_404_for_manager(cast: Cast) -> None:
    response = _get(f"/customers/{cast.customers['team'].pk}", _token(cast.staff["mgr"]))
    assert response.status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "1e3", "%00", "-1", "0", "99999999999999999999"])
def test_bad_id_is_404_or_422_never_500(cast: Cast, bad_id: str) -> None:
    response = _get(f"/customers/{bad_id}", _token(cast.staff["mgr"]))
    assert response.status_code in (404, 422)


def test_api_detail_writes_exactly_one_view_event(cast: Cast) -> None:
    """U-01: every view of a customer's personal data is audited once."""
    customer = cast.customers["own"]
    _get(f"/customers/{customer.pk}", _token(cast.staff["mgr"]))
    events = AuditEvent.objects.filter(action="customer.view")
    assert [(e.object_id, e.user_id) for e in events] == [(str(customer.pk), cast.user("mgr").pk)]


def test_denied_detail_writes_no_view_event(cast: Cast) -> None:
    _get(f"/customers/{cast.customers['other_branch'].pk}", _token(cast.staff["mgr"]))
    assert not AuditEvent.objects.filter(action="customer.view").exists()


# --- schema ---------------------------------------------------------------------------------------


def test_openapi_schema_lists_customer_paths(cast: Cast) -> None:
    response = cast.client("mgr").get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {f"{API}/customers", f"{API}/customers/{{customer_id}}"} <= set(paths)


def test_openapi_schema_needs_a_login(cast: Cast) -> None:
    response = cast.client(None).get(f"{API}/openapi.json")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
