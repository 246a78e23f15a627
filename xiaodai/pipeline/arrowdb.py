"""Reading the app database straight into Arrow through ADBC (Apache Arrow's database connectivity drivers):
a million rows arrive as columns, without a Python object per value, several times faster than a DB-API
cursor. Used by the snapshot whenever it can be: outside a transaction, on a file SQLite database or on
PostgreSQL. Inside a transaction (the test suite) only Django's own connection sees the rows, so the snapshot
reads through it instead; both give the same table (tests/test_snapshot.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pyarrow as pa
from django.db import connection

# The SQLite driver infers each column's type from the first batch; one batch of the whole result means a
# column that starts with NULLs is still typed by its first value.
_SQLITE_BATCH_ROWS = "100000000"


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
def connect(sqlite_path: str | None = None) -> Iterator[Any]:
    """An ADBC connection to the app database (or to `sqlite_path`, for tests)."""
    if sqlite_path is not None or connection.vendor == "sqlite":
        import adbc_driver_sqlite.dbapi as sqlite_adbc

        path = sqlite_path or str(connection.settings_dict["NAME"])
        con = sqlite_adbc.connect(path)
    else:
        import adbc_driver_postgresql.dbapi as pg_adbc

        con = pg_adbc.connect(_postgres_uri())
    try:
        yield con
    finally:
        con.close()


def read(con: Any, sql: str, schema: pa.Schema) -> pa.Table:
    """One query's result as a table of `schema` (column names and types from the schema, by position)."""
    with con.cursor() as cur:
        if connection.vendor == "sqlite":
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
