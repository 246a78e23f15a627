"""The app database straight to and from Arrow through ADBC (Apache Arrow's database connectivity drivers): a
million rows travel as columns, without a Python object per value, several times faster than a DB-API cursor.
Used by the snapshot and the publish step whenever it can be: outside a transaction, on a file SQLite database
or on PostgreSQL. Inside a transaction (the test suite) only Django's own connection sees the rows, so they
go through it instead; both give the same rows (tests/test_arrowdb.py).

SQLite: ADBC's driver carries its own copy of the SQLite library. Two copies in one process break each
other's file locks and can corrupt the database (sqlite.org/howtocorrupt.html, "multiple copies of SQLite
linked into the same application"), so on SQLite the ADBC side always runs in a child process (`in_child`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import connection

T = TypeVar("T")

# The SQLite driver infers each column's type from the first batch; one batch of the whole result means a
# column that starts with NULLs is still typed by its first value.
_SQLITE_BATCH_ROWS = "100000000"


def in_child(func: Callable[..., T], *args: Any) -> T:
    """Run `func(*args)` in a fresh (spawned) process and return its result; its exception is raised here."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(func, args)


def sqlite_path() -> str:
    return str(connection.settings_dict["NAME"])


def available() -> bool:
    if connection.in_atomic_block:
        return False  # this transaction's own rows are visible to Django's connection only
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        return name != ":memory:" and "mode=memory" not in name
    return connection.vendor == "postgresql"


def _postgres_uri() -> str:
    s = connection.settings_dict
    user = quote(str(s.get("USER") or ""), safe="")
    password = quote(str(s.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{quote(str(s['NAME']), safe='')}"


@contextmanager
def connect(path: str | None = None) -> Iterator[Any]:
    """An ADBC connection: to the SQLite file `path` (in a child process only), else to PostgreSQL."""
    if path is not None:
        import adbc_driver_sqlite.dbapi as sqlite_adbc

        con = sqlite_adbc.connect(path)
    else:
        import adbc_driver_postgresql.dbapi as pg_adbc

        con = pg_adbc.connect(_postgres_uri())
    try:
        yield con
    finally:
        con.close()


def read_to_parquet(jobs: list[tuple[str, pa.Schema, str]]) -> list[int]:
    """Each (query, schema, file): the query's result written as Parquet; returns the row counts."""
    if connection.vendor == "sqlite":
        return in_child(_read_sqlite_file, sqlite_path(), jobs)
    with connect() as con:
        return [_write(read(con, sql, schema, sqlite=False), path) for sql, schema, path in jobs]


def _read_sqlite_file(path: str, jobs: list[tuple[str, pa.Schema, str]]) -> list[int]:
    with connect(path) as con:
        return [_write(read(con, sql, schema, sqlite=True), out) for sql, schema, out in jobs]


def _write(table: pa.Table, path: str) -> int:
    pq.write_table(table, path)
    return table.num_rows


def read(con: Any, sql: str, schema: pa.Schema, *, sqlite: bool) -> pa.Table:
    """One query's result as a table of `schema` (column names and types from the schema, by position)."""
    with con.cursor() as cur:
        if sqlite:
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": _SQLITE_BATCH_ROWS})
        cur.execute(sql)
        table = cur.fetch_arrow_table()
    arrays = []
    for column, field in zip(table.columns, schema, strict=True):
        if pa.types.is_null(column.type) or (
            pa.types.is_integer(column.type)
            and column.null_count == len(column)
            and not pa.types.is_integer(field.type)
        ):
            arrays.append(pa.nulls(len(column), field.type))  # a column of NULLs only: no type to infer
        else:
            arrays.append(column.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
