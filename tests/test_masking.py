"""Masking of personal data (compliance P-04): formats, and a sweep of what an ordinary manager receives."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Cast
from xiaodai.core import masking

MOBILE = re.compile(rb"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(rb"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13800135678", "138****5678"), ("", ""), (None, ""), ("12", "**"), ("02188886666", "021****6666")],
)
def test_mask_phone(value: str | None, masked: str) -> None:
    assert masking.mask_phone(value) == masked


def test_mask_id_number_keeps_first_six_and_last_four() -> None:
    assert masking.mask_id_number("11010519880517123X") == "110105********123X"


@pytest.mark.parametrize(("value", "masked"), [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧阳**")])
def test_mask_name(value: str, masked: str) -> None:
    assert masking.mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("王平洋", "王**"),  # a person: masked as a name
        ("欧阳娜娜", "欧阳**"),
        ("浙商证券股份有限公司", "浙商证券股份有限公司"),  # a business: who got the money is the signal
        ("联华超市", "联华超市"),
        ("支付宝", "支付宝"),
        ("本行", "本行"),
        ("", ""),
    ],
)
def test_mask_counterparty_masks_people_and_keeps_businesses(value: str, masked: str) -> None:
    assert masking.mask_counterparty(value) == masked


def _pages(cast: Cast) -> list[str]:
    own = cast.customers["own"].pk
    return ["/", "/customers/", "/customers/?q=zhangsan", f"/customers/{own}/"]


@pytest.mark.parametrize("who", ["mgr", "head", "lead", "lobby", "wealth"])
def test_no_page_shows_an_unmasked_mobile_or_id(cast: Cast, who: str) -> None:
    client = cast.client(who)
    for url in _pages(cast):
        body = client.get(url).content
        assert not MOBILE.search(body), url
        assert not ID_NUMBER.search(body), url


def test_api_shows_no_unmasked_mobile_or_id(cast: Cast) -> None:
    from xiaodai.org.services import issue_api_token

    token = issue_api_token(None, cast.staff["mgr"], "sweep")
    client = cast.client(None)
    headers = {"Authorization": f"Bearer {token}"}
    for url in ["/api/v1/customers", f"/api/v1/customers/{cast.customers['own'].pk}"]:
        body = client.get(url, headers=headers).content
        assert not MOBILE.search(body), url
        assert not ID_NUMBER.search(body), url


def test_reveal_shows_the_phone_for_this_customer_only(cast: Cast) -> None:
    client = cast.client("mgr")
    own = cast.customers["own"]
    phone = own.contact_points.get().value
    client.post(f"/customers/{own.pk}/reveal/", {"field": "phone", "reason": "客户来电核实身份"})
    assert phone.encode() in client.get(f"/customers/{own.pk}/").content
    assert not ID_NUMBER.search(client.get(f"/customers/{own.pk}/").content)


def test_reveal_without_reason_is_refused(cast: Cast) -> None:
    client = cast.client("mgr")
    own = cast.customers["own"]
    response = client.post(f"/customers/{own.pk}/reveal/", {"field": "phone", "reason": "  "}, follow=True)
    assert not MOBILE.search(response.content)
    assert response.status_code == 200


def test_reveal_of_unknown_field_is_refused(cast: Cast) -> None:
    client = cast.client("mgr")
    own = cast.customers["own"]
    client.post(f"/customers/{own.pk}/reveal/", {"field": "password", "reason": "客户来电核实"})
    assert not MOBILE.search(client.get(f"/customers/{own.pk}/").content)


def test_reveal_expires(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.XIAODAI_REVEAL_SECONDS = -1  # already expired when granted
    client = cast.client("mgr")
    own = cast.customers["own"]
    client.post(f"/customers/{own.pk}/reveal/", {"field": "phone", "reason": "客户来电核实"})
    assert not MOBILE.search(client.get(f"/customers/{own.pk}/").content)


def test_role_without_reveal_permission_gets_403(cast: Cast) -> None:
    own = cast.customers["own"]
    response = cast.client("lobby").post(
        f"/customers/{own.pk}/reveal/", {"field": "phone", "reason": "核实身份"}
    )
    assert response.status_code == 403


def test_create_api_token_command_prints_a_working_token(cast: Cast) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", "mgr", "CRM sync", stdout=out)
    token = out.getvalue().strip()
    response = cast.client(None).get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["count"] == 1
