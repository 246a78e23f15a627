"""Pool lists rank by the scores: expected value first, the chance and the reasons on each workable row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from tests.conftest import Cast
from tests.pools_data import Pools, build_pools
from xiaodai.pools.models import PoolMember
from xiaodai.scoring.models import CustomerScore, ScoringModel

UNDRAWN = "/pools/approved_undrawn/"


@pytest.fixture
def pools(cast: Cast) -> Pools:
    built = build_pools(cast)
    rules = ScoringModel.objects.get(name="propensity", version=1)
    # own: a small chance on a large amount; walk_in: a large chance on a smaller one (the higher value).
    scores = {
        "own": (0.02, Decimal("200000"), [["line", {"limit": 200000, "days": 95, "never": 1}]]),
        "walk_in": (0.10, Decimal("80000"), [["keen_before", {"days": 12}]]),
    }
    for member in PoolMember.objects.filter(pool="approved_undrawn", blocked=0).select_related("customer"):
        key = "own" if member.customer == cast.customers["own"] else "walk_in"
        p, amount, reasons = scores[key]
        value = (Decimal(str(p)) * amount * Decimal("0.03")).quantize(Decimal("0.01"))
        CustomerScore.objects.create(
            run=member.run,
            customer=member.customer,
            model=rules,
            probability=p,
            expected_amount=amount,
            expected_value=value,
            reasons=reasons,
        )
        member.probability, member.expected_value = p, value
        member.save(update_fields=["probability", "expected_value"])
    return built


def _rows(cast: Cast, query: str = "") -> list[PoolMember]:
    response = cast.client("head").get(UNDRAWN + query)
    assert response.status_code == 200
    return list(response.context["page"])


def test_the_list_sorts_by_expected_value_by_default(cast: Cast, pools: Pools) -> None:
    rows = _rows(cast)
    values = [m.expected_value for m in rows if m.expected_value is not None]
    assert values == sorted(values, reverse=True)
    assert rows[0].expected_value == Decimal("240.00")  # 10 % x 8万 x 3 %
    assert rows[-1].expected_value is None  # the blocked member (no consent) is not scored: last


def test_the_list_sorts_by_chance_on_request(cast: Cast, pools: Pools) -> None:
    rows = _rows(cast, "?sort=probability")
    assert [m.probability for m in rows][:2] == [0.02, 0.10]


def test_each_workable_row_shows_its_chance_and_reasons_in_chinese(cast: Cast, pools: Pools) -> None:
    with translation.override("zh-hans"):
        body = cast.client("head").get(UNDRAWN, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "10.0%" in body
    assert "授信20万元已闲置95天" in body
    assert "上次营销有意向" in body


def test_a_reason_with_a_missing_value_leaves_the_page_whole(cast: Cast, pools: Pools) -> None:
    # A model's reason can quote a feature the customer lacks (no application): the page says nothing of it.
    CustomerScore.objects.exclude(customer=cast.customers["own"]).update(
        reasons=[["application", {"days": None, "amount": None}], ["last_contact", {"days": None}]]
    )
    with translation.override("zh-hans"):
        response = cast.client("head").get(UNDRAWN, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "此前未联系过" in response.content.decode()


def test_a_blocked_row_shows_no_score(cast: Cast, pools: Pools) -> None:
    body = cast.client("head").get(f"{UNDRAWN}?workable=0").content.decode()
    table = body.split('data-testid="member-table"', 1)[1]
    assert 'data-testid="ev">—<' in table


def test_the_scores_cost_no_extra_query(cast: Cast, pools: Pools, django_assert_max_num_queries: Any) -> None:
    client = cast.client("head")
    client.get(UNDRAWN)
    with django_assert_max_num_queries(12):
        client.get(UNDRAWN)


def test_the_export_carries_the_chance_value_and_reasons_in_list_order(cast: Cast, pools: Pools) -> None:
    import io

    from openpyxl import load_workbook

    response = cast.client("head").get(UNDRAWN + "export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]  # type: ignore[attr-defined]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    chance, value, why = (header.index(h) for h in ("成功概率", "预期价值（元）", "为何现在联系"))
    assert [r[value] for r in rows[1:]] == [240, 120, None]
    assert rows[1][chance] == 0.1
    assert "上次营销有意向" in rows[1][why]
