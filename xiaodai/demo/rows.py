"""The rows of a data drop, keyed the way a bank's extract is keyed: by business codes, never by database ids.
Rows are named tuples: cheap to build by the million, immutable, and in the column order of their table.

The demo generator produces these and `loader.load_drop()` writes them; the real importer will produce the
same shapes from the bank's files, so the loader is the only place that knows the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple


class BankRow(NamedTuple):
    code: str
    name: str


class BranchRow(NamedTuple):
    code: str
    name: str
    city: str
    bank_code: str


class SubBranchRow(NamedTuple):
    code: str
    name: str
    district: str
    branch_code: str


class TeamRow(NamedTuple):
    name: str  # unique within the branch: the team's key in a drop
    kind: str
    branch_code: str
    sub_branch_code: str | None


class StaffRow(NamedTuple):
    employee_no: str
    username: str
    name: str
    role: str
    business_line: str
    branch_code: str
    sub_branch_code: str | None
    team_name: str | None
    daily_capacity: int


class EnterpriseRow(NamedTuple):
    code: str  # unified social credit code (统一社会信用代码)
    name: str
    industry: str
    employee_count: int
    is_payroll_partner: bool
    branch_code: str


class TagRow(NamedTuple):
    code: str
    name: str
    kind: str


class CustomerRow(NamedTuple):
    customer_no: str
    name: str
    name_pinyin: str
    name_initials: str
    gender: str
    birth_date: date
    id_number: str
    occupation: str
    employer_name: str
    payroll_enterprise_code: str | None
    monthly_income: Decimal
    address: str
    district: str
    branch_code: str
    sub_branch_code: str
    owner_employee_no: str | None
    aum: Decimal
    is_vulnerable: bool
    no_personalised_marketing: bool
    opened_on: date
    tag_codes: tuple[str, ...]


class ContactRow(NamedTuple):
    customer_no: str
    kind: str
    value: str
    is_primary: bool


class ConsentRow(NamedTuple):
    customer_no: str
    purpose: str
    channel: str
    granted: bool
    recorded_at: datetime
    source: str
    wording_version: str
    collector_employee_no: str | None
    collector_sub_branch_code: str | None
    expires_at: datetime | None


class OptOutRow(NamedTuple):
    customer_no: str
    channel: str
    recorded_at: datetime
    reason: str
    source: str
    recorded_by_employee_no: str | None


class CreditLineRow(NamedTuple):
    customer_no: str
    line_no: str
    product: str
    limit: Decimal
    drawn: Decimal
    approved_on: date
    expires_on: date
    last_drawn_on: date | None
    rate: Decimal
    apr: Decimal
    status: str


class LoanRow(NamedTuple):
    customer_no: str
    loan_no: str
    kind: str
    product: str
    amount: Decimal
    balance: Decimal
    rate: Decimal
    apr: Decimal
    status: str
    overdue_days: int
    disbursed_on: date
    matures_on: date


class CardRow(NamedTuple):
    customer_no: str
    card_no: str
    tier: str
    limit: Decimal
    used: Decimal
    delinquent_cycles: int
    opened_on: date


class DepositRow(NamedTuple):
    customer_no: str
    account_no: str
    kind: str
    balance: Decimal
    opened_on: date
    matures_on: date | None


class ApplicationRow(NamedTuple):
    customer_no: str
    app_no: str
    product: str
    amount: Decimal
    stage: str
    status: str
    started_at: datetime
    last_step_at: datetime


class ContactHistoryRow(NamedTuple):
    """A past marketing contact (lake feed `contact_history`), in the contract's column order."""

    contact_id: str
    customer_no: str
    contacted_at: datetime
    channel: str
    employee_no: str | None
    outcome: str  # a ContactOutcome code
    product: str
    amount: Decimal | None  # what the customer spoke of, when interested or applying


class ChannelLeadRow(NamedTuple):
    """A name a scenario partner passed on with consent (lake feed `channel_leads`); no credit data (C-10)."""

    channel_code: str
    lead_id: str
    name: str
    mobile: str
    scenario: str
    consent_wording_version: str
    consented_at: datetime
    customer_no: str  # empty when the lead is not (yet) our customer


class PayrollRow(NamedTuple):
    """An enterprise pays this customer's salary through us (feed `payroll`), in the contract's order."""

    customer_no: str
    enterprise_code: str
    monthly_amount: Decimal
    first_paid_on: date
    last_paid_on: date  # the most recent salary, months back when the link has lapsed


@dataclass(slots=True)
class CustomerChunk:
    """One slice of customers with everything they hold; the unit the loader writes and then forgets."""

    customers: list[CustomerRow] = field(default_factory=list)
    contacts: list[ContactRow] = field(default_factory=list)
    consents: list[ConsentRow] = field(default_factory=list)
    opt_outs: list[OptOutRow] = field(default_factory=list)
    credit_lines: list[CreditLineRow] = field(default_factory=list)
    loans: list[LoanRow] = field(default_factory=list)
    cards: list[CardRow] = field(default_factory=list)
    deposits: list[DepositRow] = field(default_factory=list)
    applications: list[ApplicationRow] = field(default_factory=list)
    contact_history: list[ContactHistoryRow] = field(default_factory=list)
    channel_leads: list[ChannelLeadRow] = field(default_factory=list)  # leads who are these customers
    payroll: list[PayrollRow] = field(default_factory=list)
