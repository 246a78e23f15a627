"""The demo's payroll links (feed `payroll`): one per payroll customer to their enterprise, dated sensibly,
loaded by the importer, the same for a seed, without changing the other feeds, and enough for the
payroll-staff pool."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from xiaodai.customers.models import PayrollLink
from xiaodai.demo import DemoResult, generate_drop
from xiaodai.demo.dropwriter import write_drop_folder
from xiaodai.demo.payroll import Payroll
from xiaodai.demo.rows import CustomerChunk, CustomerRow, PayrollRow
from xiaodai.demo.tests.conftest import AS_OF
from xiaodai.ingest.contract import FEEDS
from xiaodai.ingest.models import ImportFile
from xiaodai.pools.models import PoolFigure

RECENT = AS_OF - timedelta(days=45)  # the payroll-staff pool's default window for the last salary


@dataclass
class Book:
    customers: dict[str, CustomerRow]
    links: list[PayrollRow]

    def current(self) -> list[PayrollRow]:
        """The links to the enterprise the customers feed names."""
        return [
            x
            for x in self.links
            if x.enterprise_code == self.customers[x.customer_no].payroll_enterprise_code
        ]


def _book(customers: int, seed: int) -> Book:
    drop = generate_drop(customers=customers, seed=seed, as_of=AS_OF)
    chunks = list(drop.chunks())
    return Book(
        {x.customer_no: x for chunk in chunks for x in chunk.customers},
        [x for chunk in chunks for x in chunk.payroll],
    )


@pytest.fixture(scope="module")
def book() -> Book:
    return _book(3000, 21)


def test_every_payroll_customer_has_one_link_to_their_enterprise_paying_their_income(book: Book) -> None:
    payroll = {no: x for no, x in book.customers.items() if x.payroll_enterprise_code}
    current = book.current()
    assert sorted(x.customer_no for x in current) == sorted(payroll)
    assert {x.customer_no for x in book.links} == set(payroll)
    for link in current:
        assert link.monthly_amount == payroll[link.customer_no].monthly_income


def test_last_paid_on_not_after_the_as_of_date_nor_before_first_paid_on(book: Book) -> None:
    for link in book.links:
        assert link.first_paid_on <= link.last_paid_on < AS_OF, link


def test_first_salary_after_the_customer_opened_their_account(book: Book) -> None:
    for link in book.links:
        assert link.first_paid_on >= book.customers[link.customer_no].opened_on, link


def test_amounts_are_positive_and_in_cents(book: Book) -> None:
    for link in book.links:
        assert link.monthly_amount > 0
        assert link.monthly_amount == link.monthly_amount.quantize(Decimal("0.01"))


def test_most_were_paid_this_month_and_a_few_lapsed_months_ago(book: Book) -> None:
    current = book.current()
    lapsed = [x for x in current if x.last_paid_on < RECENT]
    assert 0.03 <= len(lapsed) / len(current) <= 0.10
    assert all(x.last_paid_on < AS_OF - timedelta(days=55) for x in lapsed)  # two pay days missed at least


def test_salaries_are_paid_on_the_enterprises_pay_days_which_are_working_days(book: Book) -> None:
    days = Counter(x.last_paid_on for x in book.links if x.last_paid_on >= RECENT)
    assert sum(n for _, n in days.most_common(6)) >= 0.95 * days.total()  # a few first salaries off-cycle
    for link in book.links:
        assert link.first_paid_on.weekday() < 5, link
        assert link.last_paid_on.weekday() < 5, link


def test_a_previous_employer_link_ended_before_the_current_one_began(book: Book) -> None:
    current = {x.customer_no: x for x in book.current()}
    previous = [x for x in book.links if x.enterprise_code != current[x.customer_no].enterprise_code]
    assert 0 < len(previous) < 0.1 * len(current)
    for link in previous:
        assert link.last_paid_on < current[link.customer_no].first_paid_on, link
        assert link.last_paid_on < RECENT


def test_same_seed_gives_the_same_links(book: Book) -> None:
    assert _book(3000, 21).links == book.links
    assert _book(3000, 22).links != book.links


def test_other_feeds_are_the_same_without_payroll(monkeypatch: pytest.MonkeyPatch) -> None:
    def rows(drop_chunks: Iterator[CustomerChunk]) -> list[tuple[str, list[object]]]:
        return [
            (name, getattr(chunk, name))
            for chunk in drop_chunks
            for name in chunk.__slots__
            if name != "payroll"
        ]

    with_payroll = rows(generate_drop(customers=800, seed=4, as_of=AS_OF).chunks())
    monkeypatch.setattr(Payroll, "extend", lambda self, chunks: chunks)
    assert rows(generate_drop(customers=800, seed=4, as_of=AS_OF).chunks()) == with_payroll


def test_drop_folder_has_the_feed_in_contract_order_with_its_manifest_totals(tmp_path: Path) -> None:
    folder = write_drop_folder(generate_drop(customers=400, seed=5, as_of=AS_OF), tmp_path / "drop")
    control = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]["payroll.csv"]
    with (folder / "payroll.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == list(FEEDS["payroll"].column_names)
        rows = list(reader)
    assert control["rows"] == len(rows) > 0
    assert Decimal(control["sums"]["monthly_amount"]) == sum(Decimal(r["monthly_amount"]) for r in rows)


@pytest.mark.django_db
def test_importer_loads_the_payroll_links(demo: DemoResult) -> None:
    record = ImportFile.objects.get(feed="payroll")
    assert record.accepted, record.message
    assert record.reconciled
    assert demo.counts["payroll"] == record.rows_read == PayrollLink.objects.count() > 0


@pytest.mark.django_db
def test_demo_command_fills_the_payroll_staff_pool() -> None:
    call_command("demo", "--customers", "300", "--as-of", AS_OF.isoformat(), stdout=StringIO())
    figures = PoolFigure.objects.filter(pool="payroll_staff", level="branch")
    assert figures.exists()
    assert all(f.customers > 0 for f in figures)
