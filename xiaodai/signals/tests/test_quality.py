"""Bad transactions are counted and reported, never silently dropped or double-counted: every row read is
used, a duplicate, in another currency or a bad amount, exactly once (read = used + duplicates +
foreign_currency + bad_amount). And the closed-loop figures of ecosystem 2.0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xiaodai.pipeline.engines import connect
from xiaodai.signals import schema
from xiaodai.signals.compute import StepResult, compute
from xiaodai.signals.tests import inputs as i
from xiaodai.signals.tests.inputs import DAY, ago, loan, txn

COUNTS = (
    "read",
    "used",
    "duplicates",
    "foreign_currency",
    "bad_amount",
    "unknown_mcc",
    "missing_counterparty",
)


def run(folder: Path, drop_currency: bool = False, **tables: list[dict[str, Any]]) -> StepResult:
    files = i.write(folder, drop_currency=drop_currency, **tables)
    with connect("duckdb") as con:
        return compute(con, files, DAY, i.config(), prefix="q")


def quality(result: StepResult) -> dict[str, int]:
    [row] = result.quality.to_pylist()
    return row


def counts(result: StepResult) -> tuple[int, ...]:
    q = quality(result)
    return tuple(q[k] for k in COUNTS)


def away(cid: int, yuan: float, **values: Any) -> dict[str, Any]:
    """Money moved to the customer's account at another bank (a deposit outflow)."""
    base = {"counterparty_name": "本人", "counterparty_bank": "工商银行", "booked_on": ago(3)}
    return txn(cid, -yuan, **{**base, **values})


def test_a_transaction_delivered_twice_counts_once(tmp_path: Path) -> None:
    first = away(1, 60000)
    result = run(tmp_path, transactions=[first, dict(first)])
    assert counts(result) == (2, 1, 1, 0, 0, 0, 0)
    assert result.signals.to_pylist()[0]["amount"] == 6_000_000  # not 120,000 yuan


def test_of_two_copies_the_usable_one_is_kept(tmp_path: Path) -> None:
    good = away(1, 60000)
    result = run(tmp_path, transactions=[{**good, "currency": "USD", "booked_on": ago(9)}, good])
    assert counts(result) == (2, 1, 1, 0, 0, 0, 0)
    assert result.events.to_pylist()[0]["on_date"] == ago(3)


def test_of_two_usable_copies_the_earlier_booked_is_kept(tmp_path: Path) -> None:
    later = away(1, 60000)
    result = run(tmp_path, transactions=[later, {**later, "booked_on": ago(4)}])
    assert [e["on_date"] for e in result.events.to_pylist()] == [ago(4)]


def test_other_currencies_are_counted_and_left_out(tmp_path: Path) -> None:
    result = run(tmp_path, transactions=[away(1, 60000, currency="USD"), away(2, 60000, currency="HKD")])
    assert counts(result) == (2, 0, 0, 2, 0, 0, 0)
    assert result.events.num_rows == 0


def test_yuan_may_be_named_or_left_empty(tmp_path: Path) -> None:
    result = run(
        tmp_path, transactions=[away(1, 100, currency="CNY"), away(1, 100, currency=""), away(1, 100)]
    )
    assert counts(result) == (3, 3, 0, 0, 0, 0, 0)


def test_a_file_without_the_currency_column_is_all_yuan(tmp_path: Path) -> None:
    result = run(tmp_path, drop_currency=True, transactions=[away(1, 60000)])
    assert counts(result) == (1, 1, 0, 0, 0, 0, 0)
    assert len(result.signals.to_pylist()) == 1


@pytest.mark.parametrize(
    ("amount", "direction"),
    [(0, "out"), (0, "in"), (6_000_000, "out"), (-6_000_000, "in"), (None, "out"), (-6_000_000, None)],
)
def test_zero_missing_or_wrongly_signed_amounts_are_counted_and_left_out(
    tmp_path: Path, amount: int | None, direction: str | None
) -> None:
    result = run(tmp_path, transactions=[{**away(1, 1), "amount": amount, "direction": direction}])
    assert counts(result) == (1, 0, 0, 0, 1, 0, 0)
    assert result.events.num_rows == 0


def test_an_unknown_merchant_code_is_counted_and_the_row_still_used(tmp_path: Path) -> None:
    result = run(
        tmp_path, transactions=[away(1, 60000, mcc="0000"), away(1, 100, mcc="5411"), away(1, 100, mcc="")]
    )
    assert counts(result) == (3, 3, 0, 0, 0, 1, 0)
    # used: a transfer out (as is the one without a code); the grocery payment is not
    assert sorted(e["amount"] for e in result.events.to_pylist()) == [10_000, 6_000_000]


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_missing_counterparty_is_counted_and_the_row_still_used(tmp_path: Path, name: str | None) -> None:
    result = run(tmp_path, transactions=[away(1, 60000, counterparty_name=name)])
    assert counts(result) == (1, 1, 0, 0, 0, 0, 1)
    assert result.signals.num_rows == 1


def test_an_excluded_row_is_not_counted_as_unknown_code_or_missing_counterparty(tmp_path: Path) -> None:
    result = run(tmp_path, transactions=[away(1, 1, mcc="0000", counterparty_name=None, currency="USD")])
    assert counts(result) == (1, 0, 0, 1, 0, 0, 0)


def test_every_row_is_counted_exactly_once(tmp_path: Path) -> None:
    rows = [away(1, 100), away(2, 0), away(3, 100, currency="EUR"), away(4, 100, mcc="9999")]
    rows += [dict(rows[0]), dict(rows[0]), dict(rows[2])]
    q = quality(run(tmp_path, transactions=rows))
    assert q["read"] == 7 == q["used"] + q["duplicates"] + q["foreign_currency"] + q["bad_amount"]
    assert (q["used"], q["duplicates"], q["foreign_currency"], q["bad_amount"]) == (2, 3, 1, 1)


def test_an_empty_snapshot_counts_nothing(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert quality(result) == dict.fromkeys(schema.QUALITY.names, 0)
    assert result.events.num_rows == result.signals.num_rows == result.alerts.num_rows == 0


# Closed loop (ecosystem 2.0)


def shop(cid: int, yuan: float, **values: Any) -> dict[str, Any]:
    """A card payment at a merchant banking with us."""
    return txn(cid, -yuan, **{"mcc": "5712", "counterparty_name": "家具城", "booked_on": ago(5), **values})


def test_loan_money_spent_at_merchants_banking_with_us_closes_the_loop(tmp_path: Path) -> None:
    result = run(tmp_path, transactions=[shop(1, 20000), shop(1, 10000)], loans=[loan(1)])
    q = quality(result)
    assert (q["loans"], q["disbursed"], q["closed_loop"]) == (1, 10_000_000, 3_000_000)


def test_spending_elsewhere_or_without_a_merchant_code_does_not_close_it(tmp_path: Path) -> None:
    rows = [
        shop(1, 20000, counterparty_bank="工商银行"),
        shop(1, 20000, mcc=None),
        shop(1, 20000, mcc="0000"),
    ]
    assert quality(run(tmp_path, transactions=rows, loans=[loan(1)]))["closed_loop"] == 0


def test_spending_before_the_loan_or_after_the_loop_days_does_not_close_it(tmp_path: Path) -> None:
    rows = [shop(1, 20000, booked_on=ago(11)), shop(2, 20000, booked_on=ago(0))]
    q = quality(run(tmp_path, transactions=rows, loans=[loan(1), loan(2, disbursed_on=ago(31))]))
    assert (q["loans"], q["closed_loop"]) == (2, 0)


def test_the_loop_is_capped_at_the_loan(tmp_path: Path) -> None:
    result = run(tmp_path, transactions=[shop(1, 150000)], loans=[loan(1)])
    assert quality(result)["closed_loop"] == 10_000_000


def test_only_consumer_loans_of_the_window_count(tmp_path: Path) -> None:
    loans = [loan(1, kind="mortgage"), loan(2, disbursed_on=ago(91)), loan(3, disbursed_on=ago(90))]
    q = quality(run(tmp_path, loans=loans))
    assert (q["loans"], q["disbursed"]) == (1, 10_000_000)


def test_two_identical_loans_count_twice(tmp_path: Path) -> None:
    q = quality(run(tmp_path, transactions=[shop(1, 150000)], loans=[loan(1), loan(1)]))
    assert (q["loans"], q["disbursed"], q["closed_loop"]) == (2, 20_000_000, 20_000_000)
