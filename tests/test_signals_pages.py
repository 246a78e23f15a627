"""The capital-flow page and the customers behind the signals: figures computed from factory rows, scoped by
viewer, masked, filtered and sorted by codes only, with a pinned query count."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from tests.factories_outreach import ApplicationFactory
from tests.factories_signals import FlowRunFactory, PipelineRunFactory, SignalFactory, SignalLogFactory
from tests.pools_data import Member, publish_pools
from xiaodai.signals import selectors
from xiaodai.signals.selectors import Period

FLOW = "/capital-flow/"
LIST = "/capital-flow/customers/"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _today() -> dt.date:
    return timezone.localdate()


def _at(day: dt.date) -> dt.datetime:
    """Noon of a local day."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def _json(body: str, island: str) -> Any:
    found = re.search(rf'<script id="{island}" type="application/json">(.*?)</script>', body, re.S)
    assert found, island
    return json.loads(found.group(1))


def _signals(cast: Cast) -> None:
    """own: renovation 60,000 (new) and deposit outflow 80,000; team: car 200,000;
    other_branch: renovation."""
    run = PipelineRunFactory(branch=cast.branch)
    own, team = cast.customers["own"], cast.customers["team"]
    SignalFactory(run=run, customer=own, is_new=True)
    SignalFactory(
        run=run,
        customer=own,
        kind="deposit_outflow",
        detail="",
        amount=Decimal("80000"),
        basis=Decimal("20000"),
    )
    SignalFactory(run=run, customer=team, detail="car", amount=Decimal("200000"), mcc="5511")
    SignalFactory(customer=cast.customers["other_branch"])


def _card(response: Any, kind: str) -> selectors.KindCard:
    return next(c for c in response.context["cards"] if c.kind == kind)


# --- the overview -----------------------------------------------------------------------------------------


def test_cards_count_customers_and_amounts_per_kind(cast: Cast) -> None:
    _signals(cast)
    response = cast.client("head").get(FLOW)
    scenario = _card(response, "scenario")
    assert (scenario.customers, scenario.signals, scenario.amount, scenario.new) == (
        2,
        2,
        Decimal("260000"),
        1,
    )
    assert [(d.code, d.customers) for d in scenario.details] == [("renovation", 1), ("car", 1)]
    outflow = _card(response, "deposit_outflow")
    assert (outflow.customers, outflow.amount) == (1, Decimal("80000"))
    body = response.content.decode()
    card = body.split('data-kind="scenario"', 1)[1].split("data-kind=", 1)[0]
    assert '<div class="h2 m-0" data-testid="amount">26.00</div>' in card


def test_cards_follow_the_viewers_scope(cast: Cast) -> None:
    _signals(cast)
    mine = _card(cast.client("mgr").get(FLOW), "scenario")
    assert (mine.customers, mine.amount) == (1, Decimal("60000"))
    assert _card(cast.client("head_b").get(FLOW), "scenario").customers == 1
    assert _card(cast.client("lead").get(FLOW), "scenario").customers == 2


def test_the_new_badge_links_to_the_new_signals(cast: Cast) -> None:
    _signals(cast)
    body = cast.client("head").get(FLOW).content.decode()
    assert "?kind=scenario&amp;new=1" in body


def test_weekly_chart_stacks_first_sightings_by_kind(cast: Cast) -> None:
    today = _today()
    own, team = cast.customers["own"], cast.customers["team"]
    SignalLogFactory.create_batch(2, customer=own, seen_on=today)
    SignalLogFactory(customer=team, kind="other_lender", detail="", seen_on=today)
    SignalLogFactory(customer=own, seen_on=today - dt.timedelta(days=7))
    SignalLogFactory(customer=own, seen_on=today - dt.timedelta(weeks=30))  # before the chart
    SignalLogFactory(customer=cast.customers["other_branch"], seen_on=today)  # another branch
    response = cast.client("head").get(FLOW)
    chart = _json(response.content.decode(), "weekly-chart")
    series = {s["name"]: s["data"] for s in chart["series"]}
    assert len(chart["xAxis"]["data"]) == 26
    scenario = series[str(selectors.Kind.SCENARIO.label)]
    assert scenario[-2:] == [1, 2]
    assert series[str(selectors.Kind.OTHER_LENDER.label)][-1] == 1
    assert response.context["sightings"] == 4


def test_without_sightings_the_chart_says_so(cast: Cast) -> None:
    body = cast.client("head").get(FLOW).content.decode()
    assert 'data-testid="no-sightings"' in body
    assert 'data-testid="weekly-chart"' not in body


# --- conversions ------------------------------------------------------------------------------------------


@pytest.fixture
def funnel(cast: Cast) -> Period:
    """own: renovation seen 60 days ago, applied 10 days later (converted), and an outflow seen 30 days ago
    with no application after it; team: other lender seen 60 days ago, applied 40 days later (too late);
    other_team and a fourth customer: in a pool without a signal, other_team applied in the period;
    other_branch: a converted signal out of scope."""
    today = _today()
    day = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    c = cast.customers
    quiet = f.CustomerFactory(sub_branch=cast.sub, owner=cast.staff["mgr2"], name="周九")
    publish_pools(
        cast.branch, [Member(c["other_team"], "approved_undrawn"), Member(quiet, "approved_undrawn")]
    )
    SignalLogFactory(customer=c["own"], seen_on=day(60))
    ApplicationFactory(customer=c["own"], started_at=_at(day(50)))
    SignalLogFactory(customer=c["own"], kind="deposit_outflow", detail="", seen_on=day(30))
    SignalLogFactory(customer=c["team"], kind="other_lender", detail="", seen_on=day(60))
    ApplicationFactory(customer=c["team"], started_at=_at(day(20)))
    ApplicationFactory(customer=c["other_team"], started_at=_at(day(10)))
    SignalLogFactory(customer=c["other_branch"], seen_on=day(60))
    ApplicationFactory(customer=c["other_branch"], started_at=_at(day(55)))
    return Period(day(89), today)


def _row(conv: selectors.Conversions, key: str) -> selectors.ConversionRow:
    return next(r for r in [*conv.rows, conv.total, conv.baseline] if r.key == key)


def test_an_application_within_30_days_of_a_sighting_converts(cast: Cast, funnel: Period) -> None:
    conv = selectors.conversions(cast.user("head"), funnel)
    scenario = _row(conv, "scenario")
    assert (scenario.customers, scenario.converted, scenario.rate) == (1, 1, 100.0)


def test_an_application_after_30_days_does_not_convert(cast: Cast, funnel: Period) -> None:
    conv = selectors.conversions(cast.user("head"), funnel)
    assert (_row(conv, "other_lender").customers, _row(conv, "other_lender").converted) == (1, 0)


def test_an_application_before_the_sighting_does_not_convert(cast: Cast, funnel: Period) -> None:
    conv = selectors.conversions(cast.user("head"), funnel)
    assert (_row(conv, "deposit_outflow").customers, _row(conv, "deposit_outflow").converted) == (1, 0)


def test_the_total_counts_each_customer_once(cast: Cast, funnel: Period) -> None:
    total = selectors.conversions(cast.user("head"), funnel).total
    assert (total.customers, total.converted, total.rate) == (2, 1, 50.0)


def test_the_baseline_is_pool_customers_without_a_signal(cast: Cast, funnel: Period) -> None:
    conv = selectors.conversions(cast.user("head"), funnel)
    assert (conv.baseline.customers, conv.baseline.converted, conv.baseline.rate) == (2, 1, 50.0)
    assert _row(conv, "scenario").lift == pytest.approx(2.0)
    assert conv.total.lift == pytest.approx(1.0)
    assert _row(conv, "other_lender").lift == 0.0


def test_a_signal_before_the_period_leaves_a_pool_customer_in_the_baseline(
    cast: Cast, funnel: Period
) -> None:
    SignalLogFactory(customer=cast.customers["other_team"], seen_on=funnel.start - dt.timedelta(days=1))
    assert selectors.conversions(cast.user("head"), funnel).baseline.customers == 2


def test_conversions_follow_the_viewers_scope(cast: Cast, funnel: Period) -> None:
    conv = selectors.conversions(cast.user("mgr"), funnel)
    assert (conv.total.customers, conv.total.converted) == (1, 1)
    assert conv.baseline.customers == 0
    assert conv.total.lift is None  # nothing to compare with


def test_the_page_shows_the_conversion_table_and_its_definitions(cast: Cast, funnel: Period) -> None:
    body = cast.client("head").get(FLOW).content.decode()
    row = body.split('data-row="scenario"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="rate">100.0%<' in row
    assert 'data-testid="lift">2.0×<' in row
    assert 'data-testid="conversion-note"' in body


def test_an_unusable_period_falls_back_with_a_message(cast: Cast) -> None:
    response = cast.client("head").get(FLOW, {"from": "2026-13-01"})
    assert response.context["period"] == Period(_today() - dt.timedelta(days=89), _today())
    assert 'data-testid="period-error"' in response.content.decode()


def test_a_period_ending_after_today_is_refused(cast: Cast) -> None:
    tomorrow = _today() + dt.timedelta(days=1)
    period, error = selectors.parse_period(
        _query(to=tomorrow.isoformat()),
        _today(),
    )
    assert error
    assert period.end == _today()


def _query(**params: str) -> Any:
    from django.http import QueryDict

    q = QueryDict(mutable=True)
    q.update(params)
    return q


# --- closed loop and data quality (branch figures) --------------------------------------------------------


def test_the_closed_loop_rate_is_the_latest_runs(cast: Cast) -> None:
    today = _today()
    FlowRunFactory(
        run__branch=cast.branch, data_date=today - dt.timedelta(days=1), closed_loop=Decimal("100000")
    )
    FlowRunFactory(run__branch=cast.branch, data_date=today, closed_loop=Decimal("120000"))
    FlowRunFactory(run__branch=cast.branch, data_date=today, closed_loop=Decimal("300000"))  # re-run: wins
    FlowRunFactory(run__branch=cast.branch_b, data_date=today, closed_loop=Decimal("0"))
    response = cast.client("head").get(FLOW)
    body = response.content.decode()
    assert 'data-testid="loop-rate">75.0%<' in body
    chart = _json(body, "loop-chart")
    assert chart["series"][0]["data"] == [25.0, 75.0]
    assert chart["xAxis"]["data"] == [(today - dt.timedelta(days=1)).isoformat(), today.isoformat()]


def test_a_run_without_disbursements_has_no_rate(cast: Cast) -> None:
    FlowRunFactory(run__branch=cast.branch, disbursed=Decimal("0"), closed_loop=Decimal("0"), loans=0)
    body = cast.client("head").get(FLOW).content.decode()
    assert 'data-testid="loop-rate">—<' in body


def test_data_quality_counts_are_shown_to_the_branch_head(cast: Cast) -> None:
    FlowRunFactory(run__branch=cast.branch, duplicates=4, foreign_currency=3, unknown_mcc=7)
    body = cast.client("head").get(FLOW).content.decode()
    table = body.split('data-testid="quality-table"', 1)[1].split("</table>", 1)[0]
    for key, count in (
        ("read", "1,000"),
        ("duplicates", "4"),
        ("foreign_currency", "3"),
        ("unknown_mcc", "7"),
    ):
        row = table.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-testid="count">{count}<' in row


@pytest.mark.parametrize("who", ["lead", "mgr", "tele"])
def test_branch_figures_are_hidden_below_branch_level(cast: Cast, who: str) -> None:
    FlowRunFactory(run__branch=cast.branch)
    body = cast.client(who).get(FLOW).content.decode()
    assert 'data-testid="quality"' not in body
    assert 'data-testid="loop-rate"' not in body
    assert 'data-testid="no-branch-figures"' in body


def test_another_branchs_run_is_not_shown(cast: Cast) -> None:
    FlowRunFactory(run__branch=cast.branch)
    assert 'data-testid="quality"' not in cast.client("head_b").get(FLOW).content.decode()


# --- the customers behind the signals ---------------------------------------------------------------------


def test_the_list_shows_the_viewers_signals_masked(cast: Cast) -> None:
    _signals(cast)
    body = cast.client("head").get(LIST).content.decode()
    assert body.count('data-testid="signal-row"') == 3
    for name in ("张三", "李四", "赵六"):
        assert name not in body
    assert '<span class="masked" data-testid="name">张*</span>' in body
    assert not MOBILE.search(body)


def test_a_person_paid_is_masked_in_the_evidence(cast: Cast) -> None:
    run = PipelineRunFactory(branch=cast.branch)
    SignalFactory(
        run=run, customer=cast.customers["own"], kind="deposit_outflow", detail="", counterparty="王平洋"
    )
    body = cast.client("head").get(LIST).content.decode()
    assert "王平洋" not in body
    assert "王**" in body


def test_the_list_follows_scope(cast: Cast) -> None:
    _signals(cast)
    assert cast.client("mgr").get(LIST).content.decode().count('data-testid="signal-row"') == 2
    assert cast.client("mgr2").get(LIST).content.decode().count('data-testid="signal-row"') == 0


def test_each_row_has_its_evidence_and_action(cast: Cast) -> None:
    _signals(cast)
    body = cast.client("mgr").get(LIST, {"kind": "scenario"}).content.decode()
    reason = body.split('data-testid="reason">', 1)[1].split("<", 1)[0]
    for part in ("6万元", "4,000元", "15"):
        assert part in reason
    assert body.split('data-testid="action">', 1)[1].split("<", 1)[0].strip()


def test_filter_by_kind_and_detail(cast: Cast) -> None:
    _signals(cast)
    client = cast.client("head")

    def kinds(params: dict[str, str]) -> list[str]:
        body = client.get(LIST, params).content.decode()
        return re.findall(r'data-testid="signal-row" data-kind="(\w+)"', body)

    assert kinds({"kind": "deposit_outflow"}) == ["deposit_outflow"]
    assert len(kinds({"kind": "scenario"})) == 2
    response = client.get(LIST, {"kind": "scenario", "detail": "car"})
    assert [s.detail for s in response.context["page"]] == ["car"]


def test_a_detail_alone_brings_its_kind(cast: Cast) -> None:
    _signals(cast)
    response = cast.client("head").get(LIST, {"detail": "renovation"})
    assert (response.context["flt"].kind, [s.detail for s in response.context["page"]]) == (
        "scenario",
        ["renovation"],
    )


@pytest.mark.parametrize(
    "params", [{"kind": "nonsense"}, {"detail": "<script>"}, {"kind": "other_lender", "detail": "car"}]
)
def test_unknown_filter_codes_are_ignored(cast: Cast, params: dict[str, str]) -> None:
    _signals(cast)
    response = cast.client("head").get(LIST, {**params, "sort": "'; drop"})
    assert response.status_code == 200
    if params.get("kind") == "other_lender":
        assert response.context["page"].paginator.count == 0
    else:
        assert response.context["page"].paginator.count == 3


def test_new_only(cast: Cast) -> None:
    _signals(cast)
    response = cast.client("head").get(LIST, {"new": "1"})
    assert [s.detail for s in response.context["page"]] == ["renovation"]


def test_sort_by_amount(cast: Cast) -> None:
    _signals(cast)
    client = cast.client("head")
    amounts = lambda sort: [s.amount for s in client.get(LIST, {"sort": sort}).context["page"]]  # noqa: E731
    assert amounts("-amount") == [Decimal("200000"), Decimal("80000"), Decimal("60000")]
    assert amounts("amount") == [Decimal("60000"), Decimal("80000"), Decimal("200000")]


def test_sort_by_date(cast: Cast) -> None:
    run = PipelineRunFactory(branch=cast.branch)
    for day in (5, 1, 9):
        SignalFactory(
            run=run, customer=f.CustomerFactory(sub_branch=cast.sub), last_on=dt.date(2026, 11, day)
        )
    client = cast.client("head")
    days = lambda sort: [s.last_on.day for s in client.get(LIST, {"sort": sort}).context["page"]]  # noqa: E731
    assert days("-date") == [9, 5, 1]
    assert days("date") == [1, 5, 9]


def test_a_row_links_to_the_call_screen(cast: Cast) -> None:
    _signals(cast)
    body = cast.client("mgr").get(LIST).content.decode()
    assert f'href="/work/call/{cast.customers["own"].pk}/"' in body


def test_the_list_is_paginated(cast: Cast) -> None:
    run = PipelineRunFactory(branch=cast.branch)
    for _ in range(55):
        SignalFactory(run=run, customer=f.CustomerFactory(sub_branch=cast.sub))
    client = cast.client("head")
    assert client.get(LIST).content.decode().count('data-testid="signal-row"') == 50
    assert client.get(LIST, {"page": "2"}).content.decode().count('data-testid="signal-row"') == 5


def _queries(cast: Cast) -> int:
    client = cast.client("head")
    client.get(LIST)  # the session and the first-request costs are out of the way
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_queries_whatever_its_length(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    _signals(cast)
    few = _queries(cast)
    run = PipelineRunFactory(branch=cast.branch)
    for i in range(30):
        owner = cast.staff["mgr" if i % 2 else "mgr2"]
        customer = f.CustomerFactory(sub_branch=cast.sub, owner=owner, worker=cast.staff["tele"])
        SignalFactory(run=run, customer=customer, detail="travel")
    assert _queries(cast) == few
    client = cast.client("head")
    client.get(LIST)
    # Session, user, staff, the count, the layout's sub-branch and branch, the rows (customer, owner, team and
    # worker joined), the session save (3).
    with django_assert_num_queries(10):
        client.get(LIST)


# --- the wording of a signal ------------------------------------------------------------------------------


def _facts(**kw: Any) -> Any:
    """A Signal's facts without the database (the sentences read nothing else)."""
    from types import SimpleNamespace

    base = {
        "kind": "scenario",
        "detail": "renovation",
        "first_on": dt.date(2026, 11, 20),
        "last_on": dt.date(2026, 11, 20),
        "txns": 1,
        "amount": Decimal("60000"),
        "largest": Decimal("60000"),
        "basis": Decimal("4000"),
        "counterparty": "杭州美家装饰工程有限公司",
        "mcc": "5211",
    }
    return SimpleNamespace(**(base | kw))


@pytest.fixture
def english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


def test_a_scenario_reason_names_amount_date_merchant_and_multiple(english: None) -> None:
    from xiaodai.signals.wording import reason

    text = reason(_facts())
    assert text == (
        "Renovation: paid CNY 60,000 to 杭州美家装饰工程有限公司 (Lumber and building materials outlets) "
        "on 2026-11-20, 15× the usual payment of CNY 4,000"
    )


def test_a_scenario_without_history_has_no_multiple(english: None) -> None:
    from xiaodai.signals.wording import reason

    text = reason(
        _facts(basis=None, counterparty="", mcc="5712", detail="furniture", amount=Decimal("25000"))
    )
    from xiaodai.signals.mcc import describe

    assert text == f"Furniture and appliances: paid CNY 25,000 to {describe('5712')} on 2026-11-20"


def test_a_scenario_reason_names_the_merchant_kind_in_chinese() -> None:
    from django.utils import translation

    from xiaodai.signals.wording import merchant

    with translation.override("zh-hans"):
        assert merchant(_facts()) == "杭州美家装饰工程有限公司 (木材及建材商店)"
        assert merchant(_facts(counterparty="", mcc="5399")) == "MCC 5399"  # no Chinese name: the code


def test_a_scenario_without_merchant_says_so_plainly(english: None) -> None:
    from xiaodai.signals.wording import reason

    assert reason(_facts(basis=None, counterparty="", mcc="")) == "Renovation: paid CNY 60,000 on 2026-11-20"


def test_several_scenario_payments_give_the_total_and_the_largest(english: None) -> None:
    from xiaodai.signals.wording import reason

    text = reason(
        _facts(txns=2, amount=Decimal("90000"), first_on=dt.date(2026, 11, 2), basis=Decimal("7000"))
    )
    assert "2 payments totalling CNY 90,000 between 2026-11-02 and 2026-11-20" in text
    assert "the largest CNY 60,000 to 杭州美家装饰工程有限公司" in text
    assert "8.6× the usual payment of CNY 7,000" in text


def test_another_lender_reason_names_the_lender_and_months(english: None) -> None:
    from xiaodai.signals.wording import reason

    facts = _facts(
        kind="other_lender", detail="", txns=3, amount=Decimal("9000"), counterparty="招联消费金融有限公司",
        first_on=dt.date(2026, 9, 15), last_on=dt.date(2026, 11, 15),
    )  # fmt: skip
    assert reason(facts) == (
        "Repays 招联消费金融有限公司: 3 repayments totalling CNY 9,000 over 3 months, "
        "the latest on 2026-11-15"
    )


def test_a_raise_gives_the_percentage(english: None) -> None:
    from xiaodai.signals.wording import reason

    facts = _facts(kind="salary_change", detail="raise", largest=Decimal("23000"), basis=Decimal("20000"))
    assert "up 15% on the average of CNY 20,000 before" in reason(facts)


def test_a_new_employer_is_named(english: None) -> None:
    from xiaodai.signals.wording import reason

    facts = _facts(
        kind="salary_change",
        detail="new_employer",
        counterparty="阿里巴巴（中国）有限公司",
        largest=Decimal("30000"),
    )
    assert "paid by a new employer, 阿里巴巴（中国）有限公司" in reason(facts)


def test_an_outflow_is_compared_with_the_deposits(english: None) -> None:
    from xiaodai.signals.wording import reason

    facts = _facts(
        kind="deposit_outflow", detail="", amount=Decimal("300000"), largest=Decimal("200000"),
        basis=Decimal("100000"), counterparty="招商银行",
    )  # fmt: skip
    text = reason(facts)
    assert "CNY 300,000 moved to other institutions" in text
    assert "about 75% of their deposits (CNY 100,000 left)" in text


@pytest.mark.parametrize(
    ("kind", "detail", "expected"),
    [
        ("scenario", "renovation", "renovation scenario script"),
        ("scenario", "car", "car scenario script"),
        ("provident_fund", "", "provident-fund scenario script"),
        ("deposit_outflow", "", "以贷引存"),
        ("salary_change", "raise", "credit limit"),
    ],
)
def test_the_action_fits_the_signal(english: None, kind: str, detail: str, expected: str) -> None:
    from xiaodai.signals.wording import action

    assert expected in action(_facts(kind=kind, detail=detail))


def test_the_action_for_another_lender_never_pitches_borrowing_to_repay(english: None) -> None:
    from xiaodai.signals.wording import action

    text = action(_facts(kind="other_lender", detail=""))
    assert "borrowing cost" in text
    assert "Do not suggest borrowing to repay other loans" in text
