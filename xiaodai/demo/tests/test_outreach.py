"""The demo's past contacts (`contact_history`) and scenario-channel leads (`channel_leads`): lake feeds the
importer accepts, believable enough for pool coverage, the funnel and scoring, and the same for a seed."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from xiaodai.core.roles import Role
from xiaodai.customers import choices as c
from xiaodai.customers.validators import validate_mobile
from xiaodai.demo import DemoResult, build_demo, generate_drop
from xiaodai.demo.dropwriter import write_drop_folder
from xiaodai.demo.rows import ChannelLeadRow, ContactHistoryRow, CustomerChunk
from xiaodai.demo.tests.conftest import AS_OF
from xiaodai.ingest.contract import FEEDS, credit_data_columns
from xiaodai.ingest.models import ImportFile

BEIJING = timedelta(hours=8)
DATA_DAY_START = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC) - BEIJING  # 00:00 Beijing


@dataclass
class Book:
    chunks: list[CustomerChunk]
    prospects: list[ChannelLeadRow]

    @property
    def contacts(self) -> list[ContactHistoryRow]:
        return [row for chunk in self.chunks for row in chunk.contact_history]

    @property
    def leads(self) -> list[ChannelLeadRow]:
        return [row for chunk in self.chunks for row in chunk.channel_leads] + self.prospects


def _book(customers: int, seed: int) -> Book:
    drop = generate_drop(customers=customers, seed=seed, as_of=AS_OF)
    return Book(list(drop.chunks()), list(drop.prospects()))


@pytest.fixture(scope="module")
def book() -> Book:
    return _book(3000, 21)


_PREMIUM = (c.CardTier.PLATINUM, c.CardTier.DIAMOND)


def _pool(chunk: CustomerChunk) -> set[str]:
    """Customers with an active line, an unfinished application, a mortgage, a premium card or payroll."""
    unfinished = (c.ApplicationStatus.IN_PROGRESS, c.ApplicationStatus.ABANDONED)
    return (
        {x.customer_no for x in chunk.credit_lines if x.status == c.CreditLineStatus.ACTIVE}
        | {x.customer_no for x in chunk.applications if x.status in unfinished}
        | {x.customer_no for x in chunk.loans if x.kind == c.LoanKind.MORTGAGE and x.status != "settled"}
        | {x.customer_no for x in chunk.cards if x.tier in _PREMIUM and not x.delinquent_cycles}
        | {x.customer_no for x in chunk.customers if x.payroll_enterprise_code}
    )


def test_drop_folder_has_both_feeds_with_their_manifest_totals(tmp_path: Path) -> None:
    folder = write_drop_folder(generate_drop(customers=400, seed=5, as_of=AS_OF), tmp_path / "drop")
    files = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
    for feed in ("contact_history", "channel_leads"):
        with (folder / f"{feed}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert files[f"{feed}.csv"]["rows"] == len(rows) > 0
        if feed == "contact_history":
            total = sum((Decimal(r["amount"]) for r in rows if r["amount"]), Decimal("0"))
            assert Decimal(files[f"{feed}.csv"]["sums"]["amount"]) == total > 0


@pytest.mark.django_db
def test_importer_loads_both_feeds_into_the_lake(demo: DemoResult, lake: Path) -> None:
    for feed in ("contact_history", "channel_leads"):
        record = ImportFile.objects.get(feed=feed)
        assert record.accepted, record.message
        assert record.reconciled
        assert demo.counts[feed] == record.rows_loaded == record.rows_read > 0
        assert list((lake / feed).glob("month=*/*.parquet"))


@pytest.mark.django_db
def test_lake_files_left_by_a_deleted_database_are_removed(lake: Path) -> None:
    stale = lake / "contact_history" / "month=2025-01" / "batch1_0.parquet"  # run ids restart after a reset
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"PAR1")
    build_demo(customers=60, seed=3, as_of=AS_OF)
    assert not stale.exists()
    assert list((lake / "contact_history").glob("month=*/*.parquet"))


def test_outcomes_are_contact_outcome_codes(book: Book) -> None:
    outcomes = {row.outcome for row in book.contacts}
    assert outcomes <= set(c.ContactOutcome.values)
    assert {c.ContactOutcome.NO_ANSWER, c.ContactOutcome.INTERESTED, c.ContactOutcome.APPLIED} <= outcomes


def test_no_contact_after_the_as_of_date(book: Book) -> None:
    assert max(row.contacted_at for row in book.contacts) < DATA_DAY_START


def test_contacts_fall_in_working_hours_over_the_last_year(book: Book) -> None:
    for row in book.contacts:
        local = row.contacted_at + BEIJING
        assert 9 <= local.hour < 20, row
        assert local.date() > AS_OF - timedelta(days=367), row


def test_a_share_of_pool_customers_was_contacted_in_the_last_30_days(book: Book) -> None:
    since = DATA_DAY_START - timedelta(days=30)
    pool = others = pool_hit = other_hit = 0
    for chunk in book.chunks:
        recent = {row.customer_no for row in chunk.contact_history if row.contacted_at >= since}
        members = _pool(chunk)
        for customer in chunk.customers:
            if customer.customer_no in members:
                pool, pool_hit = pool + 1, pool_hit + (customer.customer_no in recent)
            else:
                others, other_hit = others + 1, other_hit + (customer.customer_no in recent)
    assert 0.10 <= pool_hit / pool <= 0.25
    assert other_hit / others < pool_hit / pool / 3


def test_contact_ids_are_unique_h_and_digits(book: Book) -> None:
    ids = [row.contact_id for row in book.contacts]
    assert all(re.fullmatch(r"H\d+", i) and len(i) <= 32 for i in ids)
    assert len(set(ids)) == len(ids)


def test_contacts_are_made_by_front_line_staff_of_the_customers_sub_branch() -> None:
    drop = generate_drop(customers=1500, seed=21, as_of=AS_OF)
    staff = {s.employee_no: s for s in drop.staff}
    for chunk in drop.chunks():
        sub = {x.customer_no: x.sub_branch_code for x in chunk.customers}
        for row in chunk.contact_history:
            assert row.employee_no is not None
            person = staff[row.employee_no]
            assert person.role in (Role.TELEMARKETER, Role.LOAN_MANAGER)
            assert person.sub_branch_code == sub[row.customer_no]


def test_contacts_only_on_a_channel_with_active_marketing_consent(book: Book) -> None:
    for chunk in book.chunks:
        granted: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        for k in chunk.consents:
            if k.purpose != c.ConsentPurpose.MARKETING:
                continue
            key = (k.customer_no, k.channel)
            if k.granted:
                granted[key] = (k.recorded_at, k.expires_at or datetime.max.replace(tzinfo=UTC))
            else:
                granted[key] = (granted[key][0], k.recorded_at)
        for row in chunk.contact_history:
            start, end = granted[(row.customer_no, row.channel)]
            assert start <= row.contacted_at <= end, row


def test_no_contact_after_an_opt_out(book: Book) -> None:
    for chunk in book.chunks:
        for stop in chunk.opt_outs:
            for row in chunk.contact_history:
                if row.customer_no == stop.customer_no and stop.channel in ("", row.channel):
                    assert row.contacted_at <= stop.recorded_at, (row, stop)


def test_amounts_only_when_interested_or_applying(book: Book) -> None:
    keen = {c.ContactOutcome.INTERESTED, c.ContactOutcome.WILL_APPLY, c.ContactOutcome.APPLIED}
    for row in book.contacts:
        assert (row.amount is not None) == (row.outcome in keen), row
        assert row.amount is None or row.amount > 0


def test_idle_lines_convert_better_than_overdue_borrowers(book: Book) -> None:
    keen = {c.ContactOutcome.INTERESTED, c.ContactOutcome.WILL_APPLY, c.ContactOutcome.APPLIED}
    idle: list[bool] = []
    overdue: list[bool] = []
    for chunk in book.chunks:
        lines = {x.customer_no for x in chunk.credit_lines if x.status == "active" and x.drawn == 0}
        late = {x.customer_no for x in chunk.loans if x.status == "overdue"}
        for row in chunk.contact_history:
            if row.customer_no in late:
                overdue.append(row.outcome in keen)
            elif row.customer_no in lines:
                idle.append(row.outcome in keen)
    assert sum(idle) / len(idle) > 2 * (sum(overdue) / max(1, len(overdue)))


def test_leads_carry_no_credit_columns(tmp_path: Path) -> None:
    folder = write_drop_folder(generate_drop(customers=300, seed=5, as_of=AS_OF), tmp_path / "drop")
    with (folder / "channel_leads.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == list(FEEDS["channel_leads"].column_names)
    assert credit_data_columns(header) == []


def test_leads_are_customers_and_prospects_with_valid_mobiles(book: Book) -> None:
    customers = {x.customer_no: x for chunk in book.chunks for x in chunk.customers}
    leads = book.leads
    ours = [lead for lead in leads if lead.customer_no]
    assert 0.01 <= len({lead.customer_no for lead in ours}) / len(customers) <= 0.02
    assert len(leads) > len(ours) > 0
    for lead in ours:
        assert lead.name == customers[lead.customer_no].name
    for lead in leads:
        validate_mobile(lead.mobile)
    assert len({(lead.channel_code, lead.lead_id) for lead in leads}) == len(leads)


def test_leads_consented_within_90_days_before_the_as_of_date(book: Book) -> None:
    for lead in book.leads:
        assert DATA_DAY_START - timedelta(days=91) <= lead.consented_at < DATA_DAY_START, lead
        assert re.fullmatch(r"[A-Z]+-\d{3}", lead.channel_code)
        assert lead.consent_wording_version


def test_same_seed_gives_the_same_history_and_leads(book: Book) -> None:
    again = _book(3000, 21)
    assert again.contacts == book.contacts
    assert again.leads == book.leads
    assert _book(3000, 22).contacts != book.contacts
