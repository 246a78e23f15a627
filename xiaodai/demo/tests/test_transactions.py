"""The demo's year of transactions (feed `transactions`): valid for the contract, the same for a seed,
consistent with what customers hold, with needs that precede conversions, loan money that flows (a little of
it where it must not), the mess the signals count, and a manifest the importer reconciles."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from xiaodai.customers import choices as c
from xiaodai.demo import DemoResult, generate_drop
from xiaodai.demo.dropwriter import write_drop_folder
from xiaodai.demo.rows import ApplicationRow, CustomerRow, LoanRow, PayrollRow
from xiaodai.demo.tests.conftest import AS_OF
from xiaodai.demo.transactions import SCHEMA
from xiaodai.ingest.contract import FEEDS
from xiaodai.ingest.models import ImportFile
from xiaodai.lake.writer import stage_lake_feed
from xiaodai.signals.mcc import known_codes
from xiaodai.signals.rules import defaults, scenario_codes, scenario_words, typed

LAST = AS_OF - timedelta(days=1)
FIRST = LAST - timedelta(days=364)
SCENARIO = typed("scenario", defaults("scenario"))
SCENARIO_CODES = {code for codes in scenario_codes(SCENARIO).values() for code in codes}
SCENARIO_WORDS = [word for words in scenario_words(SCENARIO).values() for word in words]


@dataclass
class Book:
    """A generated demo book: its holdings and its transactions as plain rows."""

    customers: dict[str, CustomerRow]
    loans: list[LoanRow]
    payroll: list[PayrollRow]
    applications: list[ApplicationRow]
    keen: dict[str, date]  # first application or interested / applying contact of the year
    accounts: dict[str, set[str]]  # each customer's deposit accounts and cards
    table: pa.Table
    rows: list[dict[str, Any]]
    by_customer: dict[str, list[dict[str, Any]]]

    def of(self, customer_no: str) -> list[dict[str, Any]]:
        return self.by_customer.get(customer_no, [])


def _plain(table: pa.Table) -> pa.Table:
    """The dictionary-encoded text columns as plain text (what the Parquet file reads as)."""
    return pa.table(
        {
            f.name: pc.cast(table[f.name], pa.string()) if pa.types.is_dictionary(f.type) else table[f.name]
            for f in table.schema
        }
    )


def _book(customers: int, seed: int) -> Book:
    drop = generate_drop(customers=customers, seed=seed, as_of=AS_OF)
    chunks = list(drop.chunks())
    table = _plain(pa.concat_tables([drop.transactions(n, chunk) for n, chunk in enumerate(chunks)]))
    keen: dict[str, date] = {}
    for chunk in chunks:
        moments = [(a.customer_no, a.started_at) for a in chunk.applications]
        moments += [
            (h.customer_no, h.contacted_at)
            for h in chunk.contact_history
            if h.outcome in ("applied", "interested", "will_apply")
        ]
        for no, at in moments:
            day = (at + timedelta(hours=8)).date()
            if day >= FIRST and (no not in keen or day < keen[no]):
                keen[no] = day
    accounts: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks:
        for x in chunk.deposits:
            accounts[x.customer_no].add(x.account_no)
        for k in chunk.cards:
            accounts[k.customer_no].add(k.card_no)
    return Book(
        {x.customer_no: x for chunk in chunks for x in chunk.customers},
        [x for chunk in chunks for x in chunk.loans],
        [x for chunk in chunks for x in chunk.payroll],
        [x for chunk in chunks for x in chunk.applications],
        keen,
        accounts,
        table,
        rows := table.to_pylist(),
        {no: list(group) for no, group in groupby(rows, key=lambda r: r["customer_no"])},
    )


@pytest.fixture(scope="module")
def book() -> Book:
    return _book(3000, 21)


def _scenario_payment(row: dict[str, Any]) -> bool:
    """A large payment the scenario rule would classify: by merchant code, or by name without a code."""
    if row["direction"] != "out" or row["amount"] > -5000 or row["currency"] != "CNY":
        return False
    if row["mcc"] is not None:
        return row["mcc"] in SCENARIO_CODES
    return any(word in (row["counterparty_name"] or "") for word in SCENARIO_WORDS)


def test_columns_are_the_contracts() -> None:
    assert tuple(SCHEMA.names) == FEEDS["transactions"].column_names


def test_same_seed_same_transactions_other_seed_others() -> None:
    first, again, other = (generate_drop(customers=150, seed=s, as_of=AS_OF) for s in (4, 4, 5))
    tables = [d.transactions(0, next(d.chunks())) for d in (first, again, other)]
    assert tables[0].num_rows > 0
    assert tables[0].equals(tables[1])
    assert not tables[0].equals(tables[2])


def test_the_year_before_the_data_date_and_never_on_or_after_it(book: Book) -> None:
    low, high = pc.min_max(book.table["booked_at"]).values()
    assert datetime.combine(FIRST, datetime.min.time()) <= low.as_py()
    assert high.as_py() < datetime.combine(AS_OF, datetime.min.time())


def test_nothing_before_the_customer_opened_their_account(book: Book) -> None:
    for row in book.rows:
        assert row["booked_at"].date() >= book.customers[row["customer_no"]].opened_on


def test_money_moves_through_the_customers_own_accounts_and_cards(book: Book) -> None:
    for row in book.rows:
        assert row["account_no"] in book.accounts[row["customer_no"]], row
    cards = {k for no, held in book.accounts.items() for k in held if k.startswith("625965")}
    assert cards & {row["account_no"] for row in book.rows}


def test_txn_ids_unique_codes(book: Book) -> None:
    ids = book.table["txn_id"].to_pylist()
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", x) for x in ids)


def test_amounts_in_cents_negative_out_positive_in(book: Book) -> None:
    for row in book.rows:
        assert row["amount"] == row["amount"].quantize(Decimal("0.01")) != 0
        assert row["direction"] == ("out" if row["amount"] < 0 else "in")


def test_about_fifty_transactions_a_customer(book: Book) -> None:
    assert 40 <= book.table.num_rows / len(book.customers) <= 60


def test_every_cell_fits_the_contract(book: Book) -> None:
    columns = {col.name: col for col in FEEDS["transactions"].columns}
    for row in book.rows:
        assert row["customer_no"] in book.customers
        for name in ("account_no", "mcc", "counterparty_account", "currency"):
            value = row[name]
            limit = columns[name].max_length or 32
            assert value is None or (re.fullmatch(r"[A-Za-z0-9_\-]+", value) and len(value) <= limit), row


def test_payroll_customers_are_paid_every_month_by_their_employer(book: Book) -> None:
    drop = generate_drop(customers=1, seed=21, as_of=AS_OF)
    names = {e.code: e.name for e in drop.enterprises}
    whole_year = [
        x
        for x in book.payroll
        if x.first_paid_on < FIRST - timedelta(days=40) and x.last_paid_on > LAST - timedelta(days=31)
    ]
    assert len(whole_year) > 100
    for link in whole_year:
        salaries = [r for r in book.of(link.customer_no) if r["memo"] == "代发工资"]
        months = {(r["booked_at"].year, r["booked_at"].month) for r in salaries}
        assert len(months) >= 12, link
        mine = [r for r in salaries if r["counterparty_name"] == names[link.enterprise_code]]
        assert all(r["counterparty_bank"] == "本行" and r["direction"] == "in" for r in mine)
        assert len(mine) >= 10, link  # two months at most from a new employer


def _monthly_salaries(rows: list[dict[str, Any]]) -> list[tuple[Decimal, str]]:
    by_month: dict[tuple[int, int], tuple[Decimal, str]] = {}
    for r in sorted(rows, key=lambda x: x["booked_at"]):
        if r["memo"] == "代发工资":
            by_month[(r["booked_at"].year, r["booked_at"].month)] = (r["amount"], r["counterparty_name"])
    return [by_month[k] for k in sorted(by_month)]


def test_a_few_payroll_customers_got_a_raise_or_a_new_employer_lately(book: Book) -> None:
    raises = new = 0
    for no in {x.customer_no for x in book.payroll if x.last_paid_on > LAST - timedelta(days=40)}:
        months = _monthly_salaries(book.of(no))
        if len(months) < 6:
            continue
        before = sum((amount for amount, _ in months[-5:-2]), Decimal(0)) / 3
        raises += months[-1][0] >= Decimal("1.14") * before and months[-1][1] == months[-4][1]
        new += months[-1][1] != months[-4][1]
    assert raises >= 3
    assert new >= 1


def test_needs_show_before_conversions_far_more_often_than_otherwise(book: Book) -> None:
    payments: dict[str, list[date]] = defaultdict(list)
    for row in book.rows:
        if _scenario_payment(row):
            payments[row["customer_no"]].append(row["booked_at"].date())

    def before(no: str, day: date) -> bool:
        return any(day - timedelta(days=45) <= paid <= day - timedelta(days=10) for paid in payments[no])

    keen = [no for no, day in book.keen.items() if day >= FIRST + timedelta(days=45)]
    others = [no for no in book.customers if no not in book.keen]
    keen_share = sum(before(no, book.keen[no]) for no in keen) / len(keen)
    other_share = sum(before(no, LAST - timedelta(days=60)) for no in others) / len(others)
    assert len(keen) > 100
    assert keen_share > 0.4
    assert keen_share > 8 * other_share


def test_consumer_loans_of_the_year_are_disbursed_then_spent_half_at_our_merchants(book: Book) -> None:
    loans = [x for x in book.loans if x.kind == c.LoanKind.CONSUMER and FIRST <= x.disbursed_on <= LAST]
    ours = spent = Decimal(0)
    for loan in loans:
        rows = book.of(loan.customer_no)
        assert any(
            r["memo"] == "贷款发放"
            and r["amount"] == loan.amount
            and r["counterparty_bank"] == "本行"
            and r["booked_at"].date() == loan.disbursed_on
            for r in rows
        ), loan
        for r in rows:
            days = (r["booked_at"].date() - loan.disbursed_on).days
            if 0 <= days <= 20 and r["mcc"] in SCENARIO_CODES and r["amount"] < 0:
                spent -= r["amount"]
                ours -= r["amount"] if r["counterparty_bank"] == "本行" else 0
    assert len(loans) > 100
    assert 0.35 < ours / spent < 0.65


def test_loan_money_reaches_securities_within_three_days_and_a_developer_and_a_down_payment(
    book: Book,
) -> None:
    found: Counter[str] = Counter()
    for loan in book.loans:
        if loan.kind != c.LoanKind.CONSUMER or loan.disbursed_on < FIRST:
            continue
        for r in book.of(loan.customer_no):
            days = (r["booked_at"].date() - loan.disbursed_on).days
            name = r["counterparty_name"] or ""
            if r["memo"] == "银证转账" and 0 <= days <= 3 and name.endswith("证券股份有限公司"):
                found["securities"] += 1
            if "房地产开发" in name and 0 <= days <= 30:
                found["developer"] += 1
            if r["memo"] == "首付款" and 0 <= days <= 30:
                found["down_payment"] += 1
    assert found["securities"] >= 1
    assert found["developer"] >= 1
    assert found["down_payment"] >= 1


def test_other_lenders_are_repaid_month_after_month(book: Book) -> None:
    repaid: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in book.rows:
        if "还款" in (r["memo"] or "") and r["counterparty_bank"] != "本行":
            repaid[(r["customer_no"], r["counterparty_name"])].add(r["booked_at"].month)
    customers = {no for (no, _), months in repaid.items() if len(months) >= 2}
    assert 0.02 < len(customers) / len(book.customers) < 0.09


def test_provident_fund_withdrawals_and_deposit_outflows(book: Book) -> None:
    provident = {r["customer_no"] for r in book.rows if r["counterparty_name"] == "杭州住房公积金管理中心"}
    assert 0.008 < len(provident) / len(book.customers) < 0.05
    outflow: Counter[str] = Counter()
    for r in book.rows:
        if (
            r["mcc"] is None
            and r["memo"] in ("转账", "理财购买", "银证转账")
            and r["counterparty_bank"] != "本行"
        ):
            outflow[r["customer_no"]] -= r["amount"]
    large = [
        no for no, total in outflow.items() if total >= Decimal("0.3") * (book.customers[no].aum + total)
    ]
    assert 0.008 < len(large) / len(book.customers) < 0.05


def test_some_mess_the_signals_count(book: Book) -> None:
    rows = len(book.rows)
    codes = Counter(r["mcc"] for r in book.rows if r["mcc"] is not None)
    unknown = sum(n for code, n in codes.items() if code not in known_codes())
    foreign = Counter(r["currency"] for r in book.rows if r["currency"] != "CNY")
    nameless = sum(r["counterparty_name"] is None for r in book.rows)
    assert all(re.fullmatch(r"\d{4}", code) for code in codes)
    assert 0.001 < unknown / rows < 0.004
    assert set(foreign) == {"USD", "JPY"}
    assert 0.001 < foreign.total() / rows < 0.006
    assert nameless > 0


def test_drop_folder_declares_the_file_and_the_lake_writer_accepts_it(tmp_path: Path) -> None:
    folder = write_drop_folder(generate_drop(customers=200, seed=5, as_of=AS_OF), tmp_path / "drop")
    control = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"][
        "transactions.parquet"
    ]
    table = pq.read_table(folder / "transactions.parquet")
    assert table.schema.field("memo").type == pa.string()  # plain text for any reader
    assert control["rows"] == table.num_rows > 0
    assert Decimal(control["sums"]["amount"]) == pc.sum(table["amount"]).as_py()
    staged = stage_lake_feed(
        FEEDS["transactions"],
        folder / "transactions.parquet",
        fmt="parquet",
        encoding="",
        batch_id=1,
        data_date=AS_OF,
        quarantine=False,
    )
    assert staged.file_problem is None
    assert staged.errors == []
    assert staged.rows_loaded == control["rows"]
    assert staged.sums_in == staged.sums_out == control["sums"]


@pytest.mark.django_db
def test_demo_loads_the_transactions_into_the_lake_reconciled(demo: DemoResult, lake: Path) -> None:
    record = ImportFile.objects.get(feed="transactions")
    assert record.accepted, record.message
    assert record.reconciled
    assert demo.counts["transactions"] == record.rows_loaded == record.rows_read == record.control["rows"] > 0
    assert record.sums_in == record.control["sums"]
    assert list((lake / "transactions").glob("month=*/*.parquet"))
