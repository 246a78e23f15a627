"""Write a run's pool results into the app database in one transaction: the previous membership goes, the new
one comes in, the figures are added; a failure leaves yesterday's results exactly as they were."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
from django.db import connection

MEMBER_DB = (
    "run_id", "customer_id", "pool", "is_primary", "blocked", "channels", "potential", "basis", "days",
    "on_date", "detail", "is_new",
)  # fmt: skip
FIGURE_DB = (
    "run_id", "pool", "level", "branch_id", "sub_branch_id", "team_id", "owner_id", "customers", "primary",
    "workable", "potential", "workable_potential", "primary_workable", "primary_potential", "covered",
    "entered", "left", "contacted", "reached", "interested", "applied", "approved", "disbursed", "drawn",
)  # fmt: skip
_MONEY = {"potential", "basis", "workable_potential", "primary_potential"}
_BATCH = 50_000


def _money(sqlite: bool) -> Any:
    # SQLite keeps a DecimalField as REAL (Django converts it back); PostgreSQL gets exact numerics.
    if sqlite:
        return lambda cents: None if cents is None else cents / 100
    return lambda cents: None if cents is None else Decimal(cents).scaleb(-2)


def _rows(table: pa.Table, run_id: int, columns: tuple[str, ...]) -> Any:
    """Tuples in `columns` order, batch by batch, money turned from cents into yuan."""
    sqlite = connection.vendor == "sqlite"
    money = _money(sqlite)
    for batch in table.to_batches(max_chunksize=_BATCH):
        data = batch.to_pydict()
        n = batch.num_rows
        cols: list[list[Any]] = []
        for col in columns:
            if col == "run_id":
                cols.append([run_id] * n)
            elif col in _MONEY:
                cols.append([money(v) for v in data[col]])
            elif col == "detail":
                cols.append(["" if v is None else v for v in data[col]])
            elif col == "on_date" and sqlite:
                cols.append([None if v is None else v.isoformat() for v in data[col]])
            else:
                cols.append(data[col])
        yield from zip(*cols, strict=True)


def _insert(table_name: str, columns: tuple[str, ...], rows: Any) -> None:
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw: Any = connection.connection
        with raw.cursor() as cur, cur.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cur:
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _BATCH:
                cur.executemany(f"INSERT INTO {table_name} ({names}) VALUES ({marks})", chunk)
                chunk = []
        if chunk:
            cur.executemany(f"INSERT INTO {table_name} ({names}) VALUES ({marks})", chunk)


def replace_members(branch_id: int, run_id: int, members: pa.Table) -> int:
    """Swap the branch's membership for this run's (call inside a transaction)."""
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM pools_poolmember WHERE customer_id IN "
            "(SELECT id FROM customers_customer WHERE branch_id = %s)",
            [branch_id],
        )
    _insert("pools_poolmember", MEMBER_DB, _rows(members, run_id, MEMBER_DB))
    return members.num_rows


def add_figures(run_id: int, figures: pa.Table) -> int:
    _insert("pools_poolfigure", FIGURE_DB, _rows(figures, run_id, FIGURE_DB))
    return figures.num_rows
