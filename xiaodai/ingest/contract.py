"""The data contract: the one definition of every file in a daily drop (docs/data-contract.md is generated
from it by `xiaodai contract`, and a test keeps the two equal).

A drop is a folder of files named after their feed (`customers.csv`, `loans.xlsx`, `transactions.parquet`,
...), plus an optional `manifest.json` carrying the source, data date, encoding and control totals. Every
file is keyed by business codes (customer number, loan number), never by database ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from django.db.models import TextChoices
from django.utils.translation import gettext, gettext_noop

from xiaodai.core.roles import Role
from xiaodai.customers import choices as c
from xiaodai.org.choices import BusinessLine, TeamKind

CONTRACT_VERSION = "1.1"
# Drops written to an earlier version this installation still reads: 1.1 only added optional columns a
# file may leave out (transactions.currency).
COMPATIBLE_VERSIONS = frozenset({"1.0", CONTRACT_VERSION})
FORMATS = (".csv", ".xlsx", ".parquet")

# Column names that mean credit-bureau data. Such data may only come through licensed credit bureaus, never
# in a partner's or channel's file (compliance C-10): a file carrying one is refused whole.
CREDIT_DATA_MARKERS = (
    "credit_score",
    "creditscore",
    "credit_report",
    "bureau",
    "fico",
    "zhima",
    "pboc",
    "征信",
    "信用分",
    "芝麻分",
    "评分",
)


class Type(StrEnum):
    """How a cell is read. Money is a plain decimal with at most two places (no separators, no symbols)."""

    TEXT = "text"
    CODE = "code"  # a business key: letters, digits, - and _ only
    INT = "int"
    MONEY = "money"
    RATE = "rate"  # a percentage with up to four places, e.g. 3.65
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # YYYY-MM-DD HH:MM:SS, Beijing time, or ISO 8601 with an offset
    BOOL = "bool"  # 1/0, true/false, Y/N, 是/否
    CHOICE = "choice"
    ID_NUMBER = "id_number"  # GB 11643 resident ID, checksum verified
    MOBILE = "mobile"  # mainland mobile, 11 digits


class Target(StrEnum):
    DATABASE = "database"  # upserted into the app database on its key
    LAKE = "lake"  # appended to the lake as Parquet, partitioned by month


@dataclass(frozen=True)
class Column:
    name: str
    type: Type
    required: bool = True
    description: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()
    max_length: int = 0
    # A column that points at another feed's key: (feed, column). Checked against the drop and the database.
    refers_to: tuple[str, str] | None = None
    not_after_data_date: bool = False  # dates in the future of the drop are impossible
    min_value: str | None = None  # for numbers, e.g. "0"
    list_of_codes: bool = False  # several codes separated by |
    may_be_absent: bool = False  # a file may leave the column out (added after 1.0); it reads as empty


@dataclass(frozen=True)
class Feed:
    name: str
    title: str  # English, as the contract document has it; marked for translation (see label)
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    target: Target = Target.DATABASE
    sums: tuple[str, ...] = ()  # money columns whose totals reconcile in = out
    # Event feeds (consents, history, transactions) carry new records each day; snapshot feeds restate the
    # current state of what they list.
    events: bool = False
    # Partner and channel lists: any credit-bureau column is refused (C-10), on top of the general rule.
    partner: bool = False
    time_column: str = ""  # lake feeds: the column that picks the month partition
    depends_on: tuple[str, ...] = field(default=())

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)

    def column(self, name: str) -> Column:
        return next(col for col in self.columns if col.name == name)

    @property
    def label(self) -> str:
        """The title in the reader's language, for pages."""
        return gettext(self.title)


def _choices(enum: type[TextChoices]) -> tuple[str, ...]:
    return tuple(str(v) for v in enum.values)


def _customer_ref() -> Column:
    return Column(
        "customer_no",
        Type.CODE,
        description="The bank's customer number",
        example="C5700000001",
        max_length=20,
        refers_to=("customers", "customer_no"),
    )


T = Type
FEEDS_LIST: tuple[Feed, ...] = (
    Feed(
        "sub_branches",
        gettext_noop("Sub-branches (支行)"),
        "The sub-branches of the branch this drop belongs to.",
        key=("code",),
        columns=(
            Column("code", T.CODE, example="HZ01", max_length=16, description="Sub-branch code"),
            Column("name", T.TEXT, example="西湖支行", max_length=100),
            Column("district", T.TEXT, required=False, example="西湖区", max_length=50),
        ),
    ),
    Feed(
        "teams",
        gettext_noop("Teams"),
        "Teams of the branch; a team's name is its key within the branch.",
        key=("name",),
        columns=(
            Column("name", T.TEXT, example="西湖攻坚队", max_length=50),
            Column("kind", T.CHOICE, choices=_choices(TeamKind), example="strike"),
            Column(
                "sub_branch_code",
                T.CODE,
                required=False,
                example="HZ01",
                max_length=16,
                refers_to=("sub_branches", "code"),
            ),
        ),
        depends_on=("sub_branches",),
    ),
    Feed(
        "staff",
        gettext_noop("Staff"),
        "People of the branch with their role and business line. New staff get an account without a "
        "password; the operations admin sets one.",
        key=("employee_no",),
        columns=(
            Column("employee_no", T.CODE, example="E00012", max_length=20),
            Column("name", T.TEXT, example="陈荣桂", max_length=50),
            Column("username", T.CODE, example="chenrg", max_length=150, description="Login name"),
            Column("role", T.CHOICE, choices=_choices(Role), example="loan_manager"),
            Column("business_line", T.CHOICE, choices=_choices(BusinessLine), example="retail_loan"),
            Column(
                "sub_branch_code",
                T.CODE,
                required=False,
                example="HZ01",
                max_length=16,
                refers_to=("sub_branches", "code"),
            ),
            Column("team_name", T.TEXT, required=False, example="西湖攻坚队", refers_to=("teams", "name")),
            Column("daily_capacity", T.INT, required=False, example="80", min_value="0"),
        ),
        depends_on=("sub_branches", "teams"),
    ),
    Feed(
        "enterprises",
        gettext_noop("Enterprises"),
        "Employers and partner enterprises, keyed by unified social credit code (统一社会信用代码).",
        key=("code",),
        columns=(
            Column("code", T.CODE, example="91330106MA2KXXXX1X", max_length=32),
            Column("name", T.TEXT, example="杭州某科技有限公司", max_length=100),
            Column("industry", T.TEXT, required=False, example="信息技术", max_length=50),
            Column("employee_count", T.INT, required=False, example="320", min_value="0"),
            Column("is_payroll_partner", T.BOOL, required=False, example="1"),
        ),
    ),
    Feed(
        "tags",
        gettext_noop("Segment and circle tags"),
        "Tags the customers file refers to: segments (客群) and circles (圈层).",
        key=("code",),
        columns=(
            Column("code", T.CODE, example="car_owner", max_length=32),
            Column("name", T.TEXT, example="有车族", max_length=50),
            Column("kind", T.CHOICE, choices=_choices(c.TagKind), example="circle"),
        ),
    ),
    Feed(
        "customers",
        gettext_noop("Customers"),
        "Personal customers: profile, sub-branch, owner and tags. AUM is recomputed from deposits.",
        key=("customer_no",),
        columns=(
            Column("customer_no", T.CODE, example="C5700000001", max_length=20),
            Column("name", T.TEXT, example="张三", max_length=50),
            Column("gender", T.CHOICE, choices=_choices(c.Gender), example="M"),
            Column("birth_date", T.DATE, example="1988-04-12", not_after_data_date=True),
            Column("id_number", T.ID_NUMBER, example="330106198804120013"),
            Column("occupation", T.TEXT, required=False, example="工程师", max_length=50),
            Column("employer_name", T.TEXT, required=False, example="杭州某科技有限公司", max_length=100),
            Column(
                "payroll_enterprise_code",
                T.CODE,
                required=False,
                example="91330106MA2KXXXX1X",
                max_length=32,
                refers_to=("enterprises", "code"),
            ),
            Column("monthly_income", T.MONEY, required=False, example="18000.00", min_value="0"),
            Column("address", T.TEXT, required=False, example="杭州市西湖区文三路1号", max_length=200),
            Column("district", T.TEXT, required=False, example="西湖区", max_length=50),
            Column(
                "sub_branch_code", T.CODE, example="HZ01", max_length=16, refers_to=("sub_branches", "code")
            ),
            Column(
                "owner_employee_no",
                T.CODE,
                required=False,
                example="E00012",
                max_length=20,
                refers_to=("staff", "employee_no"),
            ),
            Column("is_vulnerable", T.BOOL, required=False, example="0"),
            Column("no_personalised_marketing", T.BOOL, required=False, example="0"),
            Column("opened_on", T.DATE, example="2015-03-01", not_after_data_date=True),
            Column(
                "tags",
                T.CODE,
                required=False,
                example="car_owner|white_collar",
                list_of_codes=True,
                refers_to=("tags", "code"),
            ),
        ),
        depends_on=("sub_branches", "staff", "enterprises", "tags"),
    ),
    Feed(
        "deposits",
        gettext_noop("Deposits and wealth (AUM)"),
        "Deposit accounts and wealth holdings; a customer's AUM is their sum.",
        key=("account_no",),
        columns=(
            _customer_ref(),
            Column("account_no", T.CODE, example="DP2026000001", max_length=24),
            Column("kind", T.CHOICE, choices=_choices(c.DepositKind), example="time"),
            Column("balance", T.MONEY, example="150000.00", min_value="0"),
            Column("opened_on", T.DATE, example="2024-03-01", not_after_data_date=True),
            Column("matures_on", T.DATE, required=False, example="2027-03-01"),
        ),
        sums=("balance",),
        depends_on=("customers",),
    ),
    Feed(
        "contacts",
        gettext_noop("Contact points"),
        "Phones and e-mails per customer; one primary mobile.",
        key=("customer_no", "kind", "value"),
        columns=(
            _customer_ref(),
            Column("kind", T.CHOICE, choices=_choices(c.ContactKind), example="mobile"),
            Column("value", T.TEXT, example="13800138000", max_length=100),
            Column("is_primary", T.BOOL, required=False, example="1"),
        ),
        depends_on=("customers",),
    ),
    Feed(
        "consents",
        gettext_noop("Consent records"),
        "Marketing consent per channel and credit-report authorisations, as evidence: immutable; a "
        "withdrawal is a new record with granted=0.",
        key=("customer_no", "purpose", "channel", "recorded_at"),
        columns=(
            _customer_ref(),
            Column("purpose", T.CHOICE, choices=_choices(c.ConsentPurpose), example="marketing"),
            Column("channel", T.CHOICE, required=False, choices=_choices(c.Channel), example="phone"),
            Column("granted", T.BOOL, example="1"),
            Column("recorded_at", T.DATETIME, example="2026-10-30 10:51:00", not_after_data_date=True),
            Column("source", T.CHOICE, choices=_choices(c.ConsentSource), example="counter"),
            Column("wording_version", T.TEXT, example="MKT-2025.1", max_length=32),
            Column(
                "collector_employee_no",
                T.CODE,
                required=False,
                example="E00012",
                max_length=20,
                refers_to=("staff", "employee_no"),
            ),
            Column("expires_at", T.DATETIME, required=False, example="2027-10-30 00:00:00"),
        ),
        events=True,
        depends_on=("customers", "staff"),
    ),
    Feed(
        "opt_outs",
        gettext_noop("Opt-outs (do not contact)"),
        "Customers who asked not to be contacted, on one channel or (channel empty) on all.",
        key=("customer_no", "channel", "recorded_at"),
        columns=(
            _customer_ref(),
            Column("channel", T.CHOICE, required=False, choices=_choices(c.Channel), example="phone"),
            Column("recorded_at", T.DATETIME, example="2026-09-01 15:20:00", not_after_data_date=True),
            Column("reason", T.TEXT, required=False, example="客户要求不再致电", max_length=200),
            Column("source", T.CHOICE, choices=_choices(c.ConsentSource), example="phone"),
        ),
        events=True,
        depends_on=("customers",),
    ),
    Feed(
        "credit_lines",
        gettext_noop("Consumer credit lines (授信)"),
        "Approved limits, what is drawn, dates and price with APR.",
        key=("line_no",),
        columns=(
            _customer_ref(),
            Column("line_no", T.CODE, example="CL2026000001", max_length=24),
            Column("product", T.TEXT, example="薪易贷", max_length=50),
            Column("limit", T.MONEY, example="200000.00", min_value="0"),
            Column("drawn", T.MONEY, example="0.00", min_value="0", description="Must not exceed limit"),
            Column("approved_on", T.DATE, example="2026-06-01", not_after_data_date=True),
            Column("expires_on", T.DATE, example="2027-06-01"),
            Column("last_drawn_on", T.DATE, required=False, example="", not_after_data_date=True),
            Column("rate", T.RATE, example="3.45", min_value="0"),
            Column(
                "apr", T.RATE, example="3.50", min_value="0", description="Annual percentage rate 年化利率"
            ),
            Column("status", T.CHOICE, choices=_choices(c.CreditLineStatus), example="active"),
        ),
        sums=("limit", "drawn"),
        depends_on=("customers",),
    ),
    Feed(
        "loans",
        gettext_noop("Loans"),
        "Consumer, mortgage and business loans with balance and overdue days.",
        key=("loan_no",),
        columns=(
            _customer_ref(),
            Column("loan_no", T.CODE, example="LN2026000001", max_length=24),
            Column("kind", T.CHOICE, choices=_choices(c.LoanKind), example="consumer"),
            Column("product", T.TEXT, example="消费贷", max_length=50),
            Column("amount", T.MONEY, example="100000.00", min_value="0"),
            Column(
                "balance", T.MONEY, example="80000.00", min_value="0", description="Must not exceed amount"
            ),
            Column("rate", T.RATE, example="3.60", min_value="0"),
            Column("apr", T.RATE, example="3.65", min_value="0"),
            Column("status", T.CHOICE, choices=_choices(c.LoanStatus), example="normal"),
            Column("overdue_days", T.INT, required=False, example="0", min_value="0"),
            Column("disbursed_on", T.DATE, example="2026-01-10", not_after_data_date=True),
            Column("matures_on", T.DATE, example="2029-01-10"),
        ),
        sums=("amount", "balance"),
        depends_on=("customers",),
    ),
    Feed(
        "cards",
        gettext_noop("Credit cards"),
        "Credit cards with limit, usage and delinquency. Only the last four digits of the card number.",
        key=("card_no",),
        columns=(
            _customer_ref(),
            Column("card_no", T.CODE, example="CARD-0000012345", max_length=19),
            Column("tier", T.CHOICE, choices=_choices(c.CardTier), example="gold"),
            Column("limit", T.MONEY, example="50000.00", min_value="0"),
            Column("used", T.MONEY, required=False, example="12000.00", min_value="0"),
            Column("delinquent_cycles", T.INT, required=False, example="0", min_value="0"),
            Column("opened_on", T.DATE, example="2019-05-20", not_after_data_date=True),
        ),
        sums=("limit", "used"),
        depends_on=("customers",),
    ),
    Feed(
        "applications",
        gettext_noop("Loan applications"),
        "Applications in every stage: where the customer stopped and when.",
        key=("app_no",),
        columns=(
            _customer_ref(),
            Column("app_no", T.CODE, example="AP2026000001", max_length=24),
            Column("product", T.TEXT, example="消费贷", max_length=50),
            Column("amount", T.MONEY, example="50000.00", min_value="0"),
            Column("stage", T.CHOICE, choices=_choices(c.ApplicationStage), example="income"),
            Column("status", T.CHOICE, choices=_choices(c.ApplicationStatus), example="abandoned"),
            Column("started_at", T.DATETIME, example="2026-11-02 09:30:00", not_after_data_date=True),
            Column("last_step_at", T.DATETIME, example="2026-11-02 09:41:00", not_after_data_date=True),
        ),
        sums=("amount",),
        depends_on=("customers",),
    ),
    Feed(
        "payroll",
        gettext_noop("Payroll links (代发)"),
        "Which enterprise pays which customer's salary through the bank, and how much a month.",
        key=("customer_no", "enterprise_code"),
        columns=(
            _customer_ref(),
            Column(
                "enterprise_code", T.CODE, example="91330106MA2KXXXX1X", refers_to=("enterprises", "code")
            ),
            Column("monthly_amount", T.MONEY, example="18000.00", min_value="0"),
            Column("first_paid_on", T.DATE, example="2021-07-15", not_after_data_date=True),
            Column("last_paid_on", T.DATE, example="2026-11-15", not_after_data_date=True),
        ),
        sums=("monthly_amount",),
        depends_on=("customers", "enterprises"),
    ),
    Feed(
        "contact_history",
        gettext_noop("Past contact history"),
        "Past marketing contacts with their outcome (a bank migrating brings years of them). Goes to the "
        "lake, where scoring learns from it.",
        key=("contact_id",),
        columns=(
            Column("contact_id", T.CODE, example="H2025000001", max_length=32),
            _customer_ref(),
            Column("contacted_at", T.DATETIME, example="2025-06-03 10:12:00", not_after_data_date=True),
            Column("channel", T.CHOICE, choices=_choices(c.Channel), example="phone"),
            Column(
                "employee_no", T.CODE, required=False, example="E00012", refers_to=("staff", "employee_no")
            ),
            Column("outcome", T.TEXT, example="interested", max_length=32),
            Column("product", T.TEXT, required=False, example="消费贷", max_length=50),
            Column("amount", T.MONEY, required=False, example="0.00", min_value="0"),
        ),
        target=Target.LAKE,
        events=True,
        time_column="contacted_at",
        sums=("amount",),
        depends_on=("customers",),
    ),
    Feed(
        "transactions",
        gettext_noop("Account and card transactions"),
        "Money in and out of customers' accounts (资金流). Goes to the lake as Parquet by month; the app "
        "database never holds them.",
        key=("txn_id",),
        columns=(
            Column("txn_id", T.CODE, example="T202611280000001", max_length=32),
            _customer_ref(),
            Column("account_no", T.CODE, example="DP2026000001", max_length=24),
            Column("booked_at", T.DATETIME, example="2026-11-28 14:03:11", not_after_data_date=True),
            Column("amount", T.MONEY, example="-3200.00", description="Negative: money out"),
            Column("direction", T.CHOICE, choices=("in", "out"), example="out"),
            Column("channel", T.TEXT, required=False, example="pos", max_length=16),
            Column("mcc", T.CODE, required=False, example="5211", max_length=4, description="ISO 18245"),
            Column("counterparty_name", T.TEXT, required=False, example="杭州某装饰工程有限公司"),
            Column("counterparty_account", T.CODE, required=False, example="6222000000000000"),
            Column("counterparty_bank", T.TEXT, required=False, example="本行"),
            Column("memo", T.TEXT, required=False, example="装修款"),
            Column(
                "currency",
                T.CODE,
                required=False,
                example="CNY",
                max_length=3,
                may_be_absent=True,
                description="ISO 4217; empty = CNY. Other currencies are counted by the signals, not summed",
            ),
        ),
        target=Target.LAKE,
        events=True,
        time_column="booked_at",
        sums=("amount",),
        depends_on=("customers",),
    ),
    Feed(
        "channel_leads",
        gettext_noop("Scenario channel lead lists"),
        "Names a partner or scenario channel (renovation company, car dealer, ...) passes on with the "
        "customer's consent. Credit scores or credit-report data are refused (C-10).",
        key=("channel_code", "lead_id"),
        columns=(
            Column("channel_code", T.CODE, example="RENO-001", max_length=32),
            Column("lead_id", T.CODE, example="L000123", max_length=32),
            Column("name", T.TEXT, example="李四", max_length=50),
            Column("mobile", T.MOBILE, example="13900139000"),
            Column("scenario", T.TEXT, example="renovation", max_length=32),
            Column("consent_wording_version", T.TEXT, example="PARTNER-2026.1", max_length=32),
            Column("consented_at", T.DATETIME, example="2026-11-20 16:00:00", not_after_data_date=True),
            Column("customer_no", T.CODE, required=False, example="", max_length=20),
        ),
        target=Target.LAKE,
        events=True,
        partner=True,
        time_column="consented_at",
    ),
)

FEEDS: dict[str, Feed] = {feed.name: feed for feed in FEEDS_LIST}


def load_order(names: set[str]) -> list[Feed]:
    """The feeds present, in an order where everything a feed refers to is loaded before it."""
    return [feed for feed in FEEDS_LIST if feed.name in names]  # FEEDS_LIST is written in that order


def credit_data_columns(header: list[str]) -> list[str]:
    """Header names that look like credit-bureau data (C-10)."""
    lowered = [(name, name.lower().replace(" ", "")) for name in header]
    return [name for name, low in lowered if any(marker in low for marker in CREDIT_DATA_MARKERS)]
