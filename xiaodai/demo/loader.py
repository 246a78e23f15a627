"""load_drop(): the one way a drop reaches the app database.

Today it writes the generated demo drop; the real importer will replace its insides and keep the signature.
Everything goes in one transaction (all or nothing; on SQLite also the fastest way). The organisation is
small and goes in with `bulk_create`; the customer book goes in chunk by chunk with batched multi-row
inserts (see `_Insert`). Primary keys of the organisation and of customers are set here, from the table's
current maximum, so foreign keys need no look-up queries; a chunk's key map is dropped with the chunk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from xiaodai.customers.models import (
    Application,
    Card,
    Consent,
    ContactPoint,
    CreditLine,
    Customer,
    Deposit,
    Enterprise,
    Loan,
    OptOut,
    Tag,
)
from xiaodai.demo.generator import DEMO_PASSWORD, Drop
from xiaodai.demo.rows import ApplicationRow, CardRow, CreditLineRow, CustomerChunk, DepositRow, LoanRow
from xiaodai.org.models import Bank, Branch, Staff, SubBranch, Team

Progress = Callable[[int, int], None]
BATCH = 2_000
CustomerTag = Customer.tags.through

# Models whose primary keys the loader sets itself; their sequences are moved past them afterwards.
_KEYED: tuple[type[models.Model], ...] = (
    Bank,
    Branch,
    SubBranch,
    Team,
    User,
    Staff,
    Enterprise,
    Tag,
    Customer,
)


@dataclass
class _Org:
    """Business code → primary key, for everything a customer row points at."""

    branch: dict[str, int]
    sub_branch: dict[str, int]
    staff: dict[str, int]
    enterprise: dict[str, int]
    tag: dict[str, int]


class _Keys:
    """Hands out primary keys after the current maximum of each table (one query per table, once)."""

    def __init__(self) -> None:
        self._next: dict[type[models.Model], int] = {}

    def take(self, model: type[models.Model], count: int = 1) -> int:
        if model not in self._next:
            self._next[model] = (model._default_manager.aggregate(m=Max("pk"))["m"] or 0) + 1
        first = self._next[model]
        self._next[model] = first + count
        return first


def load_drop(drop: Drop, progress: Progress | None = None) -> dict[str, int]:
    """Write the whole drop in one transaction and return the number of rows per table."""
    counts: Counter[str] = Counter()
    keys = _Keys()
    with transaction.atomic():
        org = _load_org(drop, keys, counts)
        book = _Book()
        done = 0
        for chunk in drop.chunks():
            _load_chunk(chunk, org, keys, book, counts)
            done += len(chunk.customers)
            if progress is not None:
                progress(done, drop.customer_count)
        _reset_sequences()
    return dict(counts)


def _create(model: type[models.Model], rows: Iterable[models.Model], counts: Counter[str], name: str) -> None:
    objs = list(rows)
    model._default_manager.bulk_create(objs, batch_size=BATCH)
    counts[name] += len(objs)


def _load_org(drop: Drop, keys: _Keys, counts: Counter[str]) -> _Org:
    bank_id = keys.take(Bank)
    _create(Bank, [Bank(id=bank_id, code=drop.bank.code, name=drop.bank.name)], counts, "banks")
    b = drop.branch
    branch = {b.code: keys.take(Branch)}
    _create(
        Branch,
        [Branch(id=branch[b.code], bank_id=bank_id, code=b.code, name=b.name, city=b.city)],
        counts,
        "branches",
    )
    subs = {s.code: keys.take(SubBranch) for s in drop.sub_branches}
    _create(
        SubBranch,
        (
            SubBranch(
                id=subs[s.code],
                branch_id=branch[s.branch_code],
                code=s.code,
                name=s.name,
                district=s.district,
            )
            for s in drop.sub_branches
        ),
        counts,
        "sub_branches",
    )
    teams = {t.name: keys.take(Team) for t in drop.teams}
    _create(
        Team,
        (
            Team(
                id=teams[t.name],
                branch_id=branch[t.branch_code],
                sub_branch_id=subs[t.sub_branch_code] if t.sub_branch_code else None,
                name=t.name,
                kind=t.kind,
            )
            for t in drop.teams
        ),
        counts,
        "teams",
    )
    # One hash for every demo login (PBKDF2 per user would take seconds); a salt from the seed keeps the
    # stored hash the same on every run with the same seed.
    password = make_password(DEMO_PASSWORD, salt=f"xiaodaidemo{drop.seed}")
    joined = datetime(drop.as_of.year, drop.as_of.month, drop.as_of.day, tzinfo=UTC)
    users = {s.employee_no: keys.take(User) for s in drop.staff}
    _create(
        User,
        (
            User(
                id=users[s.employee_no],
                username=s.username,
                password=password,
                is_active=True,
                date_joined=joined,
            )
            for s in drop.staff
        ),
        counts,
        "users",
    )
    staff = {s.employee_no: keys.take(Staff) for s in drop.staff}
    _create(
        Staff,
        (
            Staff(
                id=staff[s.employee_no],
                user_id=users[s.employee_no],
                employee_no=s.employee_no,
                name=s.name,
                branch_id=branch[s.branch_code],
                sub_branch_id=subs[s.sub_branch_code] if s.sub_branch_code else None,
                team_id=teams[s.team_name] if s.team_name else None,
                role=s.role,
                business_line=s.business_line,
                daily_capacity=s.daily_capacity,
            )
            for s in drop.staff
        ),
        counts,
        "staff",
    )
    enterprises = {e.code: keys.take(Enterprise) for e in drop.enterprises}
    _create(
        Enterprise,
        (
            Enterprise(
                id=enterprises[e.code],
                branch_id=branch[e.branch_code],
                code=e.code,
                name=e.name,
                industry=e.industry,
                employee_count=e.employee_count,
                is_payroll_partner=e.is_payroll_partner,
            )
            for e in drop.enterprises
        ),
        counts,
        "enterprises",
    )
    tags = {t.code: keys.take(Tag) for t in drop.tags}
    _create(
        Tag, (Tag(id=tags[t.code], code=t.code, name=t.name, kind=t.kind) for t in drop.tags), counts, "tags"
    )
    return _Org(branch, subs, staff, enterprises, tags)


def _tail(value: str) -> str:
    """Last four digits, as ContactPoint.save() would set them (a bulk insert does not call save)."""
    return "".join(ch for ch in value if ch.isdigit())[-4:]


class _Insert:
    """A prepared multi-row INSERT of one model's columns, run with `executemany` in batches.

    The customer book does not go through `bulk_create`: on this machine it costs about 65 µs a row
    against 14 µs here, and a million customers are about ten million rows. Values still pass through
    the backend's own adapters (dates, aware datetimes, decimals), so SQLite and PostgreSQL both work.
    """

    def __init__(self, model: type[models.Model], columns: str) -> None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        fields = [by_attname[name] for name in columns.split()]
        quote = connection.ops.quote_name
        # Table and column names come from the model, never from input.
        self.sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        self.adapters = [(n, adapt) for n, f in enumerate(fields) if (adapt := _adapter(f)) is not None]

    def run(self, rows: Iterable[tuple[Any, ...]]) -> int:
        adapters = self.adapters
        prepared: list[tuple[Any, ...] | list[Any]] = []
        for row in rows:
            if adapters:
                values = list(row)
                for n, adapt in adapters:
                    values[n] = adapt(values[n])
                prepared.append(values)
            else:
                prepared.append(row)
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), BATCH):
                cursor.executemany(self.sql, prepared[start : start + BATCH])
        return len(prepared)


def _adapter(field: Any) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return partial(
            ops.adapt_decimalfield_value, max_digits=field.max_digits, decimal_places=field.decimal_places
        )
    return None


_CUSTOMER_COLUMNS = (
    "id customer_no name name_pinyin name_initials gender birth_date id_number occupation employer_name "
    "payroll_enterprise_id monthly_income address district branch_id sub_branch_id owner_id aum "
    "is_vulnerable no_personalised_marketing opened_on created_at updated_at"
)
_CONSENT_COLUMNS = (
    "customer_id purpose channel granted recorded_at source wording_version collector_id collector_branch_id "
    "expires_at"
)


def _holding_columns(row_type: type[tuple[Any, ...]]) -> str:
    """Holding rows carry the model's own field names, in its order, after the customer's business key."""
    names: tuple[str, ...] = row_type._fields  # type: ignore[attr-defined]
    if names[0] != "customer_no":
        raise TypeError(f"{row_type.__name__} must start with customer_no")
    return "customer_id " + " ".join(names[1:])


class _Book:
    """The prepared inserts for the customer book, made once per load (they read the connection)."""

    def __init__(self) -> None:
        self.customers = _Insert(Customer, _CUSTOMER_COLUMNS)
        self.tags = _Insert(CustomerTag, "customer_id tag_id")
        self.contacts = _Insert(ContactPoint, "customer_id kind value tail is_primary")
        self.consents = _Insert(Consent, _CONSENT_COLUMNS)
        self.opt_outs = _Insert(OptOut, "customer_id channel recorded_at reason source recorded_by_id")
        self.holdings = [
            (_Insert(model, _holding_columns(row_type)), name)
            for model, row_type, name in (
                (CreditLine, CreditLineRow, "credit_lines"),
                (Loan, LoanRow, "loans"),
                (Card, CardRow, "cards"),
                (Deposit, DepositRow, "deposits"),
                (Application, ApplicationRow, "applications"),
            )
        ]


def _load_chunk(chunk: CustomerChunk, org: _Org, keys: _Keys, book: _Book, counts: Counter[str]) -> None:
    first = keys.take(Customer, len(chunk.customers))
    pk = {row.customer_no: first + n for n, row in enumerate(chunk.customers)}
    staff, enterprise, tag, sub = org.staff, org.enterprise, org.tag, org.sub_branch
    branch = org.branch
    now = timezone.now()
    counts["customers"] += book.customers.run(
        (
            pk[r.customer_no],
            r.customer_no,
            r.name,
            r.name_pinyin,
            r.name_initials,
            r.gender,
            r.birth_date,
            r.id_number,
            r.occupation,
            r.employer_name,
            enterprise[r.payroll_enterprise_code] if r.payroll_enterprise_code else None,
            r.monthly_income,
            r.address,
            r.district,
            branch[r.branch_code],
            sub[r.sub_branch_code],
            staff[r.owner_employee_no] if r.owner_employee_no else None,
            r.aum,
            r.is_vulnerable,
            r.no_personalised_marketing,
            r.opened_on,
            now,
            now,
        )
        for r in chunk.customers
    )
    counts["customer_tags"] += book.tags.run(
        (pk[r.customer_no], tag[code]) for r in chunk.customers for code in r.tag_codes
    )
    counts["contact_points"] += book.contacts.run(
        (pk[r.customer_no], r.kind, r.value, _tail(r.value), r.is_primary) for r in chunk.contacts
    )
    counts["consents"] += book.consents.run(
        (
            pk[r.customer_no],
            r.purpose,
            r.channel,
            r.granted,
            r.recorded_at,
            r.source,
            r.wording_version,
            staff[r.collector_employee_no] if r.collector_employee_no else None,
            sub[r.collector_sub_branch_code] if r.collector_sub_branch_code else None,
            r.expires_at,
        )
        for r in chunk.consents
    )
    counts["opt_outs"] += book.opt_outs.run(
        (
            pk[r.customer_no],
            r.channel,
            r.recorded_at,
            r.reason,
            r.source,
            staff[r.recorded_by_employee_no] if r.recorded_by_employee_no else None,
        )
        for r in chunk.opt_outs
    )
    for insert, name in book.holdings:
        rows = getattr(chunk, name)
        counts[name] += insert.run((pk[row[0]], *row[1:]) for row in rows)


def _reset_sequences() -> None:
    """Move id sequences past the keys set above (PostgreSQL; SQLite tracks them by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(_KEYED))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
