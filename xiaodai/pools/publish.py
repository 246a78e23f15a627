"""Write a run's pool results into the app database in one transaction: the previous membership goes, the new
one comes in, the figures are added and the run becomes the published one; a failure leaves yesterday's
results exactly as they were.

Two ways, one result. Outside a transaction (the CLI, the job) the tables travel as Arrow through ADBC into a
temporary staging table and are copied across in SQL: a million rows in seconds. Inside a transaction (the
test suite) only Django's own connection may write, so rows go through its cursor (executemany on SQLite,
COPY on PostgreSQL). tests/test_publish.py checks that both give the same rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction

from xiaodai.pipeline import arrowdb

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


def publish_run(
    run_id: int, branch_id: int, members: pa.Table, figures: pa.Table, *, only_branch: bool
) -> int:
    """Replace the branch's membership with this run's, add its figures, make it the published run."""
    # Inserted in index order, the unique (pool, customer) index grows at its end instead of everywhere.
    members = members.sort_by([("pool", "ascending"), ("customer_id", "ascending")])
    if arrowdb.available():
        args = (run_id, branch_id, members, figures, only_branch)
        if connection.vendor == "sqlite":
            arrowdb.in_child(_publish_sqlite_file, arrowdb.sqlite_path(), *args)
        else:
            with arrowdb.connect() as con:
                _publish_arrow(con, *args, postgres=True)
        return members.num_rows
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(_delete_sql(only_branch), [] if only_branch else [branch_id])
            cur.execute(_PUBLISHED_SQL, [run_id, branch_id, run_id])
        _insert("pools_poolmember", MEMBER_DB, _rows(members, run_id, MEMBER_DB))
        _insert("pools_poolfigure", FIGURE_DB, _rows(figures, run_id, FIGURE_DB))
    return members.num_rows


def _delete_sql(only_branch: bool) -> str:
    if only_branch:  # the whole table: SQLite then frees its pages instead of deleting row by row
        return "DELETE FROM pools_poolmember"
    return (
        "DELETE FROM pools_poolmember "
        "WHERE customer_id IN (SELECT id FROM customers_customer WHERE branch_id = %s)"
    )


_PUBLISHED_SQL = (
    "UPDATE pipeline_pipelinerun SET is_published = (id = %s) "
    "WHERE branch_id = %s AND (is_published OR id = %s)"
)


# --- through ADBC ------------------------------------------------------------------------------------------


def _staged(table: pa.Table, run_id: int, columns: tuple[str, ...]) -> pa.Table:
    """The rows as the staging table takes them: money stays in cents, dates as ISO text, run id added."""
    out = []
    for name in columns:
        if name == "run_id":
            out.append(pa.array([run_id] * table.num_rows, pa.int64()))
        elif name == "on_date":
            out.append(pc.strftime(table[name], format="%Y-%m-%d"))
        elif name == "detail":
            out.append(pc.fill_null(table[name], ""))
        elif pa.types.is_boolean(table[name].type):
            out.append(table[name].cast(pa.int64()))
        else:
            out.append(table[name])
    return pa.Table.from_arrays(out, names=list(columns))


def _select(columns: tuple[str, ...], postgres: bool) -> str:
    """Each staging column as its target column takes it (cents to yuan, text to date, 0/1 to boolean)."""
    parts = []
    for name in columns:
        col = f's."{name}"'
        if name in _MONEY:
            parts.append(f"CAST({col} AS NUMERIC(18, 2)) / 100" if postgres else f"{col} / 100.0")
        elif name == "on_date" and postgres:
            parts.append(f"CAST({col} AS DATE)")
        elif name in ("is_primary", "is_new") and postgres:
            parts.append(f"{col} <> 0")
        else:
            parts.append(col)
    return ", ".join(parts)


def _marks(sql: str, postgres: bool) -> str:
    """Django's %s placeholders as the ADBC driver wants them: $1, $2 ... or ?."""
    parts = sql.split("%s")
    out = parts[0]
    for n, part in enumerate(parts[1:], start=1):
        out += (f"${n}" if postgres else "?") + part
    return out


def _publish_sqlite_file(
    path: str, run_id: int, branch_id: int, members: pa.Table, figures: pa.Table, only_branch: bool
) -> None:
    """In a child process (see arrowdb.in_child): ADBC's own SQLite must not share a process with Django's."""
    with arrowdb.connect(path) as con:
        _publish_arrow(con, run_id, branch_id, members, figures, only_branch, postgres=False)


def _publish_arrow(
    con: Any,
    run_id: int,
    branch_id: int,
    members: pa.Table,
    figures: pa.Table,
    only_branch: bool,
    *,
    postgres: bool,
) -> None:
    targets = (("pools_poolmember", MEMBER_DB, members), ("pools_poolfigure", FIGURE_DB, figures))
    with con.cursor() as cur:
        if not postgres:
            cur.execute("PRAGMA busy_timeout = 30000")  # wait for a writer (an import) instead of failing
            cur.execute("PRAGMA foreign_keys = ON")
        for target, columns, table in targets:
            staged = _staged(table, run_id, columns)
            cur.adbc_ingest(f"xiaodai_stage_{target}", staged, mode="replace", temporary=True)
        cur.execute(_marks(_delete_sql(only_branch), postgres), None if only_branch else [branch_id])
        for target, columns, _table in targets:
            names = ", ".join(f'"{c}"' for c in columns)
            select = _select(columns, postgres)
            cur.execute(f"INSERT INTO {target} ({names}) SELECT {select} FROM xiaodai_stage_{target} s")
        cur.execute(_marks(_PUBLISHED_SQL, postgres), [run_id, branch_id, run_id])
    con.commit()


# --- through Django's connection ----------------------------------------------------------------------------


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
