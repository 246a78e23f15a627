"""The signal rules and the loan-use watch on DuckDB, one behaviour each, on hand-built snapshots (no database
needed). Amounts in the helpers are yuan; the outputs are cents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xiaodai.pipeline.engines import connect
from xiaodai.signals.compute import StepResult, compute
from xiaodai.signals.services import SignalConfig
from xiaodai.signals.tests import inputs as i
from xiaodai.signals.tests.inputs import DAY, ago, customer, loan, payroll, txn

Run = Callable[..., StepResult]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    def go(config: SignalConfig | None = None, **tables: list[dict[str, Any]]) -> StepResult:
        files = i.write(tmp_path / "in", drop_currency=False, **tables)
        with connect("duckdb") as con:
            return compute(con, files, DAY, config or i.config(), prefix="t")

    return go


def signals(result: StepResult, kind: str | None = None) -> list[dict[str, Any]]:
    rows = result.signals.to_pylist()
    return [r for r in rows if kind is None or r["kind"] == kind]


def events(result: StepResult, kind: str | None = None) -> list[dict[str, Any]]:
    rows = result.events.to_pylist()
    return [r for r in rows if kind is None or r["kind"] == kind]


def usual(cid: int, amounts: list[float]) -> list[dict[str, Any]]:
    """Everyday payments in the baseline window (two months before DAY)."""
    return [
        txn(cid, -a, booked_on=ago(60 + n), mcc="5411", counterparty_name="超市")
        for n, a in enumerate(amounts)
    ]


# Consumption scenarios


def test_a_large_payment_at_a_scenario_merchant_without_history_is_a_signal(run: Run) -> None:
    result = run(transactions=[txn(1, -30000, mcc="5211", counterparty_name="居然之家", booked_on=ago(3))])
    [s] = signals(result)
    assert (s["kind"], s["detail"], s["amount"], s["basis"], s["mcc"]) == (
        "scenario",
        "renovation",
        3_000_000,
        None,
        "5211",
    )
    assert (s["first_on"], s["last_on"], s["txns"], s["counterparty"]) == (ago(3), ago(3), 1, "居然之家")


def test_without_history_a_payment_below_the_no_history_amount_is_nothing(run: Run) -> None:
    result = run(transactions=[txn(1, -19999.99, mcc="5211")])
    assert signals(result) == []
    assert events(result) == []


def test_with_history_a_payment_far_above_the_usual_one_is_a_signal(run: Run) -> None:
    result = run(transactions=[*usual(1, [200, 300, 400, 500, 600]), txn(1, -6000, mcc="5712")])
    [s] = signals(result)
    assert (s["detail"], s["amount"], s["basis"]) == ("furniture", 600_000, 40_000)


def test_with_history_a_payment_under_the_multiple_is_nothing(run: Run) -> None:
    result = run(transactions=[*usual(1, [2000, 3000, 4000, 5000, 6000]), txn(1, -19999, mcc="5712")])
    assert signals(result) == []


def test_the_usual_payment_of_an_even_count_is_the_mean_of_the_two_middle_ones(run: Run) -> None:
    history = usual(1, [1000, 2000, 3000, 4000, 5000, 6000])  # median 3,500: five times is 17,500
    result = run(
        transactions=[*history, txn(1, -17500, mcc="5511"), txn(2, -17499.99, mcc="5511")]
        + [{**t, "customer_id": 2, "txn_id": t["txn_id"] + "b"} for t in history]
    )
    assert [(s["customer_id"], s["basis"]) for s in signals(result)] == [(1, 350_000)]


def test_the_usual_payment_of_half_a_cent_rounds_up(run: Run) -> None:
    history = [
        txn(1, -a / 100, booked_on=ago(60 + n), mcc="5411") for n, a in enumerate([100001, 100002] * 3)
    ]
    result = run(i.config(scenario={"min_amount": 0}), transactions=[*history, txn(1, -6000, mcc="5511")])
    assert signals(result)[0]["basis"] == 100_002  # the median is 1,000.015 yuan


def test_a_transfer_is_classified_by_the_counterparty_name(run: Run) -> None:
    result = run(transactions=[txn(1, -40000, counterparty_name="杭州美居装饰工程有限公司", memo="装修款")])
    assert [(s["detail"], s["mcc"]) for s in signals(result)] == [("renovation", None)]


def test_a_name_matching_two_scenarios_takes_the_first(run: Run) -> None:
    result = run(transactions=[txn(1, -40000, counterparty_name="家具装修城")])
    assert [s["detail"] for s in signals(result)] == ["renovation"]


def test_a_known_merchant_code_outside_the_scenarios_is_not_classified_by_name(run: Run) -> None:
    result = run(transactions=[txn(1, -40000, mcc="5411", counterparty_name="装修超市")])
    assert signals(result, "scenario") == []


def test_an_unknown_merchant_code_falls_back_to_the_name(run: Run) -> None:
    result = run(transactions=[txn(1, -40000, mcc="0000", counterparty_name="浙一医院")])
    assert [(s["detail"], s["mcc"]) for s in signals(result)] == [("medical", None)]


def test_a_scenario_payment_before_the_current_window_is_an_event_but_no_signal(run: Run) -> None:
    result = run(transactions=[txn(1, -30000, mcc="4511", booked_on=ago(31))])
    assert [(e["detail"], e["on_date"]) for e in events(result)] == [("travel", ago(31))]
    assert signals(result) == []


def test_money_coming_in_is_never_a_scenario(run: Run) -> None:
    result = run(transactions=[txn(1, 30000, mcc="5211", counterparty_name="装修公司退款")])
    assert events(result) == []


def test_scenario_payments_add_up_with_the_largest_as_evidence(run: Run) -> None:
    result = run(
        transactions=[
            txn(1, -25000, mcc="5211", counterparty_name="建材市场", booked_on=ago(9)),
            txn(1, -40000, counterparty_name="装饰公司", booked_on=ago(4)),
        ]
    )
    [s] = signals(result)
    assert (s["txns"], s["amount"], s["largest"], s["counterparty"], s["mcc"]) == (
        2,
        6_500_000,
        4_000_000,
        "装饰公司",
        None,
    )
    assert (s["first_on"], s["last_on"]) == (ago(9), ago(4))


# Repaying other lenders


def lender(cid: int, yuan: float, days: int, **values: Any) -> dict[str, Any]:
    base = {"counterparty_name": "招联消费金融有限公司", "counterparty_bank": "招商银行", "memo": "贷款还款"}
    return txn(cid, -yuan, booked_on=ago(days), **{**base, **values})


def test_repayments_to_another_lender_in_two_months_are_a_signal(run: Run) -> None:
    result = run(transactions=[lender(1, 2000, 2), lender(1, 2100, 32)])
    [s] = signals(result)
    assert (s["kind"], s["detail"], s["txns"], s["amount"], s["counterparty"]) == (
        "other_lender",
        "",
        2,
        410_000,
        "招联消费金融有限公司",
    )


def test_repayments_in_one_month_only_are_events_but_no_signal(run: Run) -> None:
    result = run(transactions=[lender(1, 2000, 2), lender(1, 2000, 5)])
    assert len(events(result, "other_lender")) == 2
    assert signals(result) == []


def test_a_repayment_to_our_own_bank_is_not_another_lender(run: Run) -> None:
    result = run(
        transactions=[
            lender(1, 2000, 2, counterparty_bank="本行"),
            lender(1, 2000, 32, counterparty_bank="本行"),
        ]
    )
    assert events(result, "other_lender") == []


def test_a_repayment_under_the_minimum_is_not_an_event(run: Run) -> None:
    result = run(transactions=[lender(1, 499.99, 2), lender(1, 2000, 32)])
    assert len(events(result, "other_lender")) == 1


def test_a_transfer_to_a_lender_without_a_repayment_memo_is_not_a_repayment(run: Run) -> None:
    result = run(transactions=[lender(1, 2000, 2, memo="转账"), lender(1, 2000, 32, memo="转账")])
    assert events(result, "other_lender") == []


# Provident fund


def fund(cid: int, yuan: float, memo: str = "公积金提取 装修") -> dict[str, Any]:
    return txn(cid, yuan, counterparty_name="杭州住房公积金管理中心", memo=memo, booked_on=ago(20))


def test_a_provident_fund_withdrawal_for_renovation_is_a_signal(run: Run) -> None:
    [s] = signals(run(transactions=[fund(1, 60000)]))
    assert (s["kind"], s["amount"], s["counterparty"]) == (
        "provident_fund",
        6_000_000,
        "杭州住房公积金管理中心",
    )


def test_a_withdrawal_for_another_purpose_is_nothing(run: Run) -> None:
    assert signals(run(transactions=[fund(1, 60000, memo="公积金提取 退休")])) == []


def test_without_purpose_words_any_withdrawal_counts(run: Run) -> None:
    config = i.config(provident_fund={"purpose_keywords": ()})
    assert len(signals(run(config, transactions=[fund(1, 60000, memo="退休")]))) == 1


def test_a_withdrawal_under_the_minimum_is_nothing(run: Run) -> None:
    assert signals(run(transactions=[fund(1, 9999.99)])) == []


# Salary changes


def salaries(cid: int, amounts: list[float], payers: list[str] | None = None) -> list[dict[str, Any]]:
    """One salary on the 10th of each month, the last in November 2026 (DAY is 28 November)."""
    payers = payers or ["浙江某某科技有限公司"] * len(amounts)
    months = [(2026, 11 - len(amounts) + 1 + n) for n in range(len(amounts))]
    return [
        txn(cid, a, booked_on=dt.date(y, m, 10), counterparty_name=p, memo="代发工资")
        for (y, m), a, p in zip(months, amounts, payers, strict=True)
    ]


def test_a_salary_well_above_the_months_before_is_a_raise(run: Run) -> None:
    result = run(transactions=salaries(1, [10000, 10000, 10000, 11500]), payroll=[payroll(1)])
    [s] = signals(result)
    assert (s["kind"], s["detail"], s["amount"], s["basis"]) == (
        "salary_change",
        "raise",
        1_150_000,
        1_000_000,
    )


def test_a_raise_under_the_share_is_nothing(run: Run) -> None:
    result = run(transactions=salaries(1, [10000, 10000, 10000, 10999]), payroll=[payroll(1)])
    assert signals(result) == []


def test_a_month_missing_before_means_no_comparison(run: Run) -> None:
    rows = salaries(1, [10000, 10000, 10000, 12000])
    result = run(transactions=[rows[0], rows[2], rows[3]], payroll=[payroll(1)])
    assert events(result) == []


def test_a_new_payer_is_a_new_employer(run: Run) -> None:
    rows = salaries(1, [10000, 10000, 10000, 10200], ["甲公司", "甲公司", "甲公司", "乙公司"])
    [s] = signals(run(transactions=rows, payroll=[payroll(1)]))
    assert (s["detail"], s["counterparty"], s["basis"]) == ("new_employer", "乙公司", 1_000_000)


def test_a_customer_outside_payroll_has_no_salary_signal(run: Run) -> None:
    assert events(run(transactions=salaries(1, [10000, 10000, 10000, 12000]))) == []


def test_an_old_raise_is_an_event_but_no_signal(run: Run) -> None:
    rows = salaries(1, [10000, 10000, 10000, 12000])  # raise in November
    rows = [
        {**r, "booked_on": r["booked_on"].replace(month=r["booked_on"].month - 2)} for r in rows
    ]  # September
    result = run(transactions=rows, payroll=[payroll(1)])
    assert [e["detail"] for e in events(result)] == ["raise"]
    assert signals(result) == []


def test_only_the_latest_month_makes_the_signal(run: Run) -> None:
    rows = salaries(1, [10000, 10000, 10000, 12000, 11000])  # a raise in October, none in November
    rows[3]["booked_on"] = dt.date(2026, 10, 20)  # within 45 days of DAY, like November's
    result = run(transactions=rows, payroll=[payroll(1)])
    assert [e["on_date"] for e in events(result, "salary_change")] == [dt.date(2026, 10, 20)]
    assert signals(result) == []


# Deposits flowing out


def away(cid: int, yuan: float, **values: Any) -> dict[str, Any]:
    base = {"counterparty_name": "本人", "counterparty_bank": "工商银行", "booked_on": ago(5)}
    return txn(cid, -yuan, **{**base, **values})


def test_money_moved_to_another_bank_is_a_signal(run: Run) -> None:
    result = run(transactions=[away(1, 30000), away(1, 30000)], customers=[customer(1, aum=10_000_000)])
    [s] = signals(result)
    assert (s["kind"], s["txns"], s["amount"], s["basis"]) == ("deposit_outflow", 2, 6_000_000, 10_000_000)


def test_a_small_share_of_large_deposits_is_no_signal(run: Run) -> None:
    result = run(transactions=[away(1, 60000)], customers=[customer(1, aum=200_000_000)])
    assert len(events(result)) == 1
    assert signals(result) == []


def test_a_total_under_the_minimum_is_no_signal(run: Run) -> None:
    assert signals(run(transactions=[away(1, 49999.99)])) == []


def test_card_payments_and_own_bank_transfers_are_not_outflow(run: Run) -> None:
    result = run(
        transactions=[
            away(1, 60000, mcc="5411"),
            away(1, 60000, counterparty_bank="本行"),
            away(1, 60000, counterparty_bank=None),
        ]
    )
    assert events(result) == []


def test_a_repayment_to_another_lender_is_not_outflow(run: Run) -> None:
    result = run(transactions=[lender(1, 60000, 2)])
    assert {e["kind"] for e in events(result)} == {"other_lender"}


# Who gets signals


def test_a_customer_without_the_marketing_basis_gets_no_signals(run: Run) -> None:
    result = run(
        transactions=[txn(1, -30000, mcc="5211"), away(1, 60000)],
        customers=[customer(1, no_personalised_marketing=True)],
    )
    assert events(result) == []
    assert signals(result) == []


def test_a_kind_switched_off_gives_nothing(run: Run) -> None:
    config = i.config(active=("other_lender", "provident_fund", "salary_change", "deposit_outflow"))
    assert events(run(config, transactions=[txn(1, -30000, mcc="5211")])) == []


def test_the_rules_in_effect_are_used(run: Run) -> None:
    config = i.config(scenario={"no_history_amount": 50000, "spending_multiple": Decimal("2")})
    assert signals(run(config, transactions=[txn(1, -30000, mcc="5211")])) == []


# Loan-use watch (C-17)


def alerts(result: StepResult) -> list[dict[str, Any]]:
    return result.alerts.to_pylist()


def test_loan_money_to_a_broker_soon_after_disbursement_is_an_alert(run: Run) -> None:
    result = run(
        transactions=[
            txn(
                1,
                -50000,
                counterparty_name="华泰证券股份有限公司",
                counterparty_bank="工商银行",
                booked_on=ago(7),
            )
        ],
        loans=[loan(1)],
    )
    [a] = alerts(result)
    assert (
        a["kind"],
        a["amount"],
        a["flow_on"],
        a["loan_disbursed_on"],
        a["loan_amount"],
        a["days_after"],
    ) == ("securities", 5_000_000, ago(7), ago(10), 10_000_000, 3)


def test_a_securities_merchant_code_is_an_alert(run: Run) -> None:
    result = run(transactions=[txn(1, -5000, mcc="6211", counterparty_name="某某")], loans=[loan(1)])
    assert [a["kind"] for a in alerts(result)] == ["securities"]


def test_a_developer_and_a_down_payment_are_alerts_of_their_own(run: Run) -> None:
    result = run(
        transactions=[txn(1, -50000, counterparty_name="绿城置业有限公司", memo="首付")], loans=[loan(1)]
    )
    assert sorted(a["kind"] for a in alerts(result)) == ["developer", "down_payment"]


def test_transfers_outside_the_watch_are_no_alert(run: Run) -> None:
    result = run(
        transactions=[
            txn(1, -50000, counterparty_name="华泰证券", booked_on=ago(11)),  # before the loan
            txn(2, -50000, counterparty_name="华泰证券", booked_on=ago(0)),  # 31 days after it
            txn(3, -50000, counterparty_name="华泰证券", booked_on=ago(5)),  # a mortgage
            txn(4, -999.99, counterparty_name="华泰证券", booked_on=ago(5)),  # under the minimum
        ],
        loans=[loan(1), loan(2, disbursed_on=ago(31)), loan(3, kind="mortgage"), loan(4)],
    )
    assert alerts(result) == []


def test_the_alert_names_the_latest_loan_before_the_transfer(run: Run) -> None:
    result = run(
        transactions=[txn(1, -50000, counterparty_name="中信期货", booked_on=ago(5))],
        loans=[
            loan(1, disbursed_on=ago(20), amount=1),
            loan(1, disbursed_on=ago(8), amount=2),
            loan(1, disbursed_on=ago(2)),
        ],
    )
    assert [(a["loan_disbursed_on"], a["loan_amount"]) for a in alerts(result)] == [(ago(8), 2)]


def test_customers_without_the_marketing_basis_are_still_watched(run: Run) -> None:
    result = run(
        transactions=[txn(1, -50000, counterparty_name="华泰证券")],
        loans=[loan(1)],
        customers=[customer(1, no_personalised_marketing=True)],
    )
    assert len(alerts(result)) == 1
