"""Step 1 of a run: copy what the batch steps read from the app database (and the lake's recent events) into
Parquet files of the run, through Arrow. Both engines then read the same files, and a step never touches the
app database while it computes (DESIGN: DuckDB's database scanners are not available here).

Money travels as integer cents (exact sums); datetimes as the bank's local date where a day is all that
matters, so the engines never see a time zone.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import connection

from xiaodai.lake.paths import lake_root
from xiaodai.org.models import Branch
from xiaodai.pipeline import arrowdb

I64, I32, BOOL, STR, DATE = pa.int64(), pa.int32(), pa.bool_(), pa.string(), pa.date32()
TS = pa.timestamp("us")


@dataclass(frozen=True)
class Source:
    name: str
    sql: str  # {cents(x)}, {day(x)} and {branch} are filled per database vendor
    schema: pa.Schema


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in fields])


_OF_BRANCH = "{in_branch(customer_id)}"

SOURCES: tuple[Source, ...] = (
    Source(
        "customers",
        "SELECT c.id, c.customer_no, c.branch_id, c.sub_branch_id, c.owner_id, s.team_id, "
        "{date(c.birth_date)}, {flag(c.is_vulnerable)}, {cents(c.aum)}, {cents(c.monthly_income)}, "
        "c.occupation, {date(c.opened_on)}, {flag(c.no_personalised_marketing)} "
        "FROM customers_customer c LEFT JOIN org_staff s ON s.id = c.owner_id WHERE c.branch_id = {branch}",
        _schema(
            ("customer_id", I64),
            ("customer_no", STR),
            ("branch_id", I64),
            ("sub_branch_id", I64),
            ("owner_id", I64),
            ("team_id", I64),
            ("birth_date", DATE),
            ("is_vulnerable", BOOL),
            ("aum", I64),
            ("monthly_income", I64),
            ("occupation", STR),
            ("opened_on", DATE),
            ("no_personalised_marketing", BOOL),
        ),
    ),
    Source(
        "credit_lines",
        'SELECT customer_id, {cents("limit")}, {cents(drawn)}, {date(approved_on)}, {date(expires_on)}, '
        f"{{date(last_drawn_on)}}, status FROM customers_creditline WHERE {_OF_BRANCH}",
        _schema(
            ("customer_id", I64),
            ("limit", I64),
            ("drawn", I64),
            ("approved_on", DATE),
            ("expires_on", DATE),
            ("last_drawn_on", DATE),
            ("status", STR),
        ),
    ),
    Source(
        "loans",
        "SELECT customer_id, kind, {cents(amount)}, {cents(balance)}, status, overdue_days, "
        f"{{date(disbursed_on)}}, {{date(matures_on)}} FROM customers_loan WHERE {_OF_BRANCH}",
        _schema(
            ("customer_id", I64),
            ("kind", STR),
            ("amount", I64),
            ("balance", I64),
            ("status", STR),
            ("overdue_days", I64),
            ("disbursed_on", DATE),
            ("matures_on", DATE),
        ),
    ),
    Source(
        "cards",
        'SELECT customer_id, tier, {cents("limit")}, {cents(used)}, delinquent_cycles, {date(opened_on)} '
        f"FROM customers_card WHERE {_OF_BRANCH}",
        _schema(
            ("customer_id", I64),
            ("tier", STR),
            ("limit", I64),
            ("used", I64),
            ("delinquent_cycles", I64),
            ("opened_on", DATE),
        ),
    ),
    Source(
        "applications",
        "SELECT customer_id, {cents(amount)}, stage, status, {day(started_at)}, {day(last_step_at)} "
        f"FROM customers_application WHERE {_OF_BRANCH}",
        _schema(
            ("customer_id", I64),
            ("amount", I64),
            ("stage", STR),
            ("status", STR),
            ("started_on", DATE),
            ("last_step_on", DATE),
        ),
    ),
    Source(
        "payroll",
        "SELECT p.customer_id, {cents(p.monthly_amount)}, {date(p.last_paid_on)}, "
        "{flag(e.is_payroll_partner)} "
        "FROM customers_payrolllink p JOIN customers_enterprise e ON e.id = p.enterprise_id "
        "WHERE {in_branch(p.customer_id)}",
        _schema(("customer_id", I64), ("monthly_amount", I64), ("last_paid_on", DATE), ("partner", BOOL)),
    ),
    Source(
        "consents",
        "SELECT id, customer_id, channel, {flag(granted)}, {ts(recorded_at)}, {day(expires_at)} "
        f"FROM customers_consent WHERE purpose = 'marketing' AND {_OF_BRANCH}",
        _schema(
            ("consent_id", I64),
            ("customer_id", I64),
            ("channel", STR),
            ("granted", BOOL),
            ("recorded_at", TS),
            ("expires_on", DATE),
        ),
    ),
    Source(
        "opt_outs",
        f"SELECT customer_id, channel FROM customers_optout WHERE {_OF_BRANCH}",
        _schema(("customer_id", I64), ("channel", STR)),
    ),
    Source(
        # Contacts recorded in the workbench (one row per contact: the latest of its corrections); the
        # contacts the steps read are these plus the data drop's contact history.
        "outcomes",
        "SELECT o.customer_id, {day(o.occurred_at)}, o.outcome FROM outreach_outcome o "
        "WHERE o.branch_id = {branch} AND NOT EXISTS "
        "(SELECT 1 FROM outreach_outcome n WHERE n.corrects_id = o.id)",
        _schema(("customer_id", I64), ("contacted_on", DATE), ("outcome", STR)),
    ),
    Source(
        "previous",
        f"SELECT customer_id, pool FROM pools_poolmember WHERE {_OF_BRANCH}",
        _schema(("customer_id", I64), ("pool", STR)),
    ),
)

# From the lake: events of the last `days`, tied to the branch's customers by customer number.
LAKE_SOURCES: dict[str, tuple[str, pa.Schema]] = {
    "contacts": (
        "SELECT c.customer_id, CAST(h.contacted_at AS DATE) AS contacted_on, h.outcome "
        "FROM {contact_history} h JOIN customers c ON c.customer_no = h.customer_no "
        "WHERE CAST(h.contacted_at AS DATE) > DATE '{since}' "
        "AND CAST(h.contacted_at AS DATE) <= DATE '{day}' "
        "UNION ALL SELECT customer_id, contacted_on, outcome FROM read_parquet('{outcomes}') "
        "WHERE contacted_on > DATE '{since}' AND contacted_on <= DATE '{day}'",
        _schema(("customer_id", I64), ("contacted_on", DATE), ("outcome", STR)),
    ),
    "leads": (
        "SELECT c.customer_id, l.scenario, CAST(l.consented_at AS DATE) AS consented_on "
        "FROM {channel_leads} l JOIN customers c ON c.customer_no = l.customer_no "
        "WHERE CAST(l.consented_at AS DATE) > DATE '{since}' "
        "AND CAST(l.consented_at AS DATE) <= DATE '{day}'",
        _schema(("customer_id", I64), ("scenario", STR), ("consented_on", DATE)),
    ),
}


# The transactions of the signal rules' window, exactly as the lake holds them (duplicates, other currencies
# and bad amounts included: the signal step counts them). Money in cents, the bank's local date of booking.
TRANSACTIONS_SQL = (
    "SELECT c.customer_id, t.txn_id, t.account_no, CAST(t.booked_at AS DATE) AS booked_on, "
    "CAST(round(t.amount * 100) AS BIGINT) AS amount, t.direction, t.channel, t.mcc, t.counterparty_name, "
    "t.counterparty_account, t.counterparty_bank, t.memo, t.currency "
    "FROM {transactions} t JOIN customers c ON c.customer_no = t.customer_no "
    "WHERE t.month >= '{first_month}' AND CAST(t.booked_at AS DATE) > DATE '{since}' "
    "AND CAST(t.booked_at AS DATE) <= DATE '{day}'"
)


def run_dir(run_id: int) -> Path:
    return lake_root() / "_pipeline" / f"run{int(run_id)}"


def _offset_hours(day: dt.date) -> int:
    """The bank's UTC offset on that day (Asia/Shanghai has no DST; other zones get the day's offset)."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))
    offset = moment.utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 3600)


_PLACEHOLDER = re.compile(r"\{(cents|day|date|ts|flag|in_branch)\(([^)]+)\)\}")


def _render(sql: str, branch_id: int, day: dt.date, *, only_branch: bool = False) -> str:
    """Fill the vendor-specific pieces; only column names from SOURCES and integers go into the SQL.

    On SQLite, Django's driver parses every date, datetime and bool in Python (declared-type converters);
    an expression has no declared type, so the text comes through and Arrow parses it in C++.
    """
    sqlite = connection.vendor == "sqlite"
    hours = _offset_hours(day)

    def fill(match: re.Match[str]) -> str:
        form, col = match.group(1), match.group(2)
        if form == "in_branch":
            # With one branch in the database every row is the branch's: the filter would cost a scan of
            # every customer per table and change nothing.
            return (
                "1 = 1"
                if only_branch
                else f"{col} IN (SELECT id FROM customers_customer WHERE branch_id = {{branch}})"
            )
        if form == "cents":
            return f"CAST(ROUND({col} * 100) AS {'INTEGER' if sqlite else 'BIGINT'})"
        if form == "day":  # the bank's local date of a UTC timestamp
            if sqlite:
                return f"date({col}, '{hours:+d} hours')"
            return f"CAST(({col} AT TIME ZONE '{settings.TIME_ZONE}') AS DATE)"
        if not sqlite:
            return col
        return f"CAST({col} AS INTEGER)" if form == "flag" else f"CAST({col} AS TEXT)"

    return _PLACEHOLDER.sub(fill, sql).replace("{branch}", str(int(branch_id)))


def _to_array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    first = next((v for v in values if v is not None), None)
    if isinstance(first, str) and kind in (DATE, TS):
        return pa.array(values, STR).cast(kind)  # SQLite's ISO text
    if kind == TS:
        array = pa.array(values)
        return array.cast(TS) if len(array) else pa.array([], TS)  # aware -> naive UTC
    if kind == BOOL and isinstance(first, int) and not isinstance(first, bool):
        return pa.array(values, pa.int64()).cast(BOOL)  # SQLite's 0/1
    return pa.array(values, kind)


def read_source(source: Source, branch_id: int, day: dt.date, *, only_branch: bool = False) -> pa.Table:
    """One source as Arrow through Django's cursor (inside a transaction: see arrowdb)."""
    sql = _render(source.sql, branch_id, day, only_branch=only_branch)
    with connection.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in source.schema]
    arrays = [_to_array(col, field.type) for col, field in zip(columns, source.schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=source.schema)


def take(
    run_id: int,
    branch_id: int,
    day: dt.date,
    *,
    lake_days: int,
    progress: Callable[[str, int], None],
    folder: Path | None = None,
    transaction_days: int = 0,
) -> dict[str, Path]:
    """Write every source of the run as Parquet; returns {name: file}. `lake_days` bounds the events read,
    `transaction_days` the transactions (the signal rules' window; 0: the same as lake_days); `folder`
    replaces the run's own (model training takes a snapshot outside any run)."""
    from xiaodai.lake.writer import read_feed

    folder = folder or run_dir(run_id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files: dict[str, Path] = {}
    customers: pa.Table | None = None
    only_branch = Branch.objects.count() == 1
    for source in SOURCES:
        files[source.name] = folder / f"{source.name}.parquet"
    if arrowdb.available():
        jobs = [
            (_render(s.sql, branch_id, day, only_branch=only_branch), s.schema, str(files[s.name]))
            for s in SOURCES
        ]
        for source, rows in zip(SOURCES, arrowdb.read_to_parquet(jobs), strict=True):
            progress(source.name, rows)
        customers = pq.read_table(files["customers"], columns=["customer_id", "customer_no"])
    else:
        for source in SOURCES:
            table = read_source(source, branch_id, day, only_branch=only_branch)
            if source.name == "customers":
                customers = table
            pq.write_table(table, files[source.name])
            progress(source.name, table.num_rows)
    assert customers is not None
    since = day - dt.timedelta(days=lake_days)
    with duckdb.connect() as con:
        con.register("customers", customers.select(["customer_id", "customer_no"]))
        for name, (sql, schema) in LAKE_SOURCES.items():
            query = sql.format(
                contact_history=read_feed("contact_history"),
                channel_leads=read_feed("channel_leads"),
                outcomes=str(files["outcomes"]).replace("'", "''"),
                since=since.isoformat(),
                day=day.isoformat(),
            )
            table = con.sql(query).to_arrow_table().cast(schema)
            files[name] = folder / f"{name}.parquet"
            pq.write_table(table, files[name])
            progress(name, table.num_rows)
        files["transactions"] = _transactions(con, folder, day, transaction_days or lake_days, progress)
    return files


def _transactions(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    day: dt.date,
    days: int,
    progress: Callable[[str, int], None],
) -> Path:
    """Straight from the lake to the snapshot's Parquet, in DuckDB (the rows never pass through Python)."""
    from xiaodai.lake.writer import read_feed
    from xiaodai.signals.schema import TRANSACTIONS

    since = day - dt.timedelta(days=days)
    query = TRANSACTIONS_SQL.format(
        transactions=read_feed("transactions"),
        first_month=f"{since.year:04d}-{since.month:02d}",  # the partitions are named YYYY-MM
        since=since.isoformat(),
        day=day.isoformat(),
    )
    path = folder / "transactions.parquet"
    casts = ", ".join(f"CAST({f.name} AS {_DUCK[f.type]}) AS {f.name}" for f in TRANSACTIONS)
    con.execute(
        f"COPY (SELECT {casts} FROM ({query})) TO '{_quoted(path)}' (FORMAT parquet, COMPRESSION zstd)"
    )
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{_quoted(path)}')").fetchone()
    progress("transactions", int(rows[0]) if rows else 0)
    return path


_DUCK = {pa.int64(): "BIGINT", pa.string(): "VARCHAR", pa.date32(): "DATE"}


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def discard(run_id: int) -> None:
    """The snapshot holds personal data; it has no use once the run is over (P-03)."""
    shutil.rmtree(run_dir(run_id), ignore_errors=True)
