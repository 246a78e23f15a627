"""Why a customer is in a pool, in words: one sentence per pool from the facts the run kept, in the reader's
language; and the navigation to the pool and pipeline pages by permission."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import translation

from tests.conftest import Cast
from xiaodai.pools.reasons import amount_words, reason


@dataclass
class Facts:
    pool: str
    basis: Decimal | None = None
    days: int | None = None
    on_date: dt.date | None = None
    detail: str = ""


D = dt.date


@pytest.mark.parametrize(
    ("facts", "zh"),
    [
        (
            Facts("approved_undrawn", Decimal(200000), 95, D(2027, 3, 1)),
            "授信20万元已闲置95天，额度到期2027-03-01",
        ),
        (Facts("unfinished_application", None, 7, D(2026, 11, 21), "income"), "申请停在「收入信息」已7天"),
        (
            Facts("unfinished_application", Decimal(150000), 3, None, "started"),
            "申请停在「发起」已3天，申请金额15万元",
        ),
        (Facts("current_borrower", Decimal(300000), 63, D(2027, 1, 30)), "贷款30万元，63天后到期"),
        (Facts("good_past_borrower", Decimal(100000), None, D(2025, 6, 1)), "曾贷10万元，2025-06-01结清"),
        (Facts("payroll_staff", Decimal(18000)), "代发工资1.8万元/月"),
        (
            Facts("payroll_staff", Decimal(8000), None, D(2026, 11, 15)),
            "代发工资8,000元/月，最近发薪2026-11-15",
        ),
        (Facts("mortgage_holder", Decimal(1200000), 1200), "按揭120万元，已还款1,200天"),
        (Facts("premium_card", Decimal(80000), None, None, "platinum"), "白金卡额度8万元"),
        (Facts("premium_deposit", Decimal(520000)), "AUM 52万元"),
        (
            Facts("scenario_channel", None, None, D(2026, 11, 20), "renovation"),
            "装修场景名单，2026-11-20授权",
        ),
        (Facts("scenario_channel", None, None, D(2026, 11, 20), "pets"), "pets场景名单，2026-11-20授权"),
        (Facts("nope"), ""),
    ],
)
def test_reasons_in_chinese(facts: Facts, zh: str) -> None:
    with translation.override("zh-hans"):
        assert reason(facts) == zh


def test_reasons_in_english() -> None:
    with translation.override("en"):
        text = reason(Facts("approved_undrawn", Decimal(200000), 95, D(2027, 3, 1)))
    assert text == "Credit line of CNY 200,000 idle for 95 days, the limit expires on 2027-03-01"


@pytest.mark.parametrize(
    ("value", "zh"),
    [(Decimal("200000"), "20万元"), (Decimal("18000"), "1.8万元"), (Decimal("8000"), "8,000元"), (None, "—")],
)
def test_amounts_are_said_in_wan(value: Decimal | None, zh: str) -> None:
    with translation.override("zh-hans"):
        assert amount_words(value) == zh


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("head", ["/pools/", "/pipeline/"], ["/pools/rules/"]),
        ("mgr", ["/pools/"], ["/pipeline/", "/pools/rules/"]),
        ("ops", ["/pools/rules/", "/pipeline/"], ['href="/pools/"']),
        ("auditor", [], ['href="/pools/"', "/pipeline/", "/pools/rules/"]),
    ],
)
def test_navigation_by_permission(cast: Cast, who: str, shown: list[str], hidden: list[str]) -> None:
    nav = cast.client(who).get("/").content.decode().split("</header>", 1)[0]
    assert all(f'href="{url}"' in nav for url in shown)
    assert not any((h if h.startswith("href") else f'href="{h}"') in nav for h in hidden)
