"""Write a run's pool results into the app database in one transaction: the previous membership goes, the new
one comes in, the figures are added and the run becomes the published one; a failure leaves yesterday's
results exactly as they were.

Two ways, one result. Outside a transaction (the CLI, the job) the tables travel as Arrow through ADBC into a
temporary staging table and are copied across in SQL: a million rows in seconds. Inside a transaction (the
test suite) only Django's own connection may write, so rows go through its cursor (executemany on SQLite,
COPY on PostgreSQL). tests/test_publish.py checks that both give the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction

from xiaodai.pipeline import arrowdb

if TYPE_CHECKING:
    from xiaodai.scoring.step import Scored

MEMBER_DB = (
    "run_id", "customer_id", "pool", "is_primary", "blocked", "channels", "potential", "basis", "days",
    "on_date", "detail", "is_new", "probability", "expected_value",
)  # fmt: skip
SCORE_DB = (
    "run_id", "customer_id", "model_id", "probability", "expected_amount", "expected_value", "reasons",
    "personalised",
)  # fmt: skip
FIGURE_DB = (
    "run_id", "pool", "level", "branch_id", "sub_branch_id", "team_id", "owner_id", "customers", "primary",
    "workable", "potential", "workable_potential", "primary_workable", "primary_potential", "covered",
    "entered", "left", "contacted", "reached", "interested", "applied", "approved", "disbursed", "drawn",
)  # fmt: skip
_MONEY = {
    "potential",
    "basis",
    "workable_potential",
    "primary_potential",
    "expected_amount",
    "expected_value",
}
_FLAGS = {"is_primary", "is_new", "personalised"}
_BATCH = 50_000


@dataclass(frozen=True)
class Extra:
    """More of the run's results to write in the same transaction (the signal step's): tables staged as the
    engine made them (as `xiaodai_stage_<name>`: cents, ISO dates, 0/1), then statements that turn them into
    rows, per vendor ({postgres: [(sql with %s, params)]}). Plain data: it crosses into the SQLite child."""

    tables: tuple[tuple[str, pa.Table], ...]
    statements: dict[bool, list[tuple[str, list[Any]]]]


def _raw(table: pa.Table) -> pa.Table:
    """An extra table as staged: dates as ISO text, flags as 0/1, the rest as it is."""
    out = []
    for col in table.columns:
        if pa.types.is_date(col.type):
            out.append(pc.strftime(col, format="%Y-%m-%d"))
        elif pa.types.is_boolean(col.type):
            out.append(col.cast(pa.int64()))
        else:
            out.append(col)
    return pa.Table.from_arrays(out, names=table.column_names)


def _stage_through_django(cur: Any, extra: Extra) -> None:
    """The extra tables as temporary tables on Django's connection (the in-transaction path)."""
    for name, table in extra.tables:
        staged = _raw(table)
        types = ", ".join(
            f'"{f.name}" {"TEXT" if pa.types.is_string(f.type) else "BIGINT"}' for f in staged.schema
        )
        cur.execute(f"DROP TABLE IF EXISTS xiaodai_stage_{name}")
        cur.execute(f"CREATE TEMPORARY TABLE xiaodai_stage_{name} ({types})")
        columns = tuple(staged.column_names)
        _insert(f"xiaodai_stage_{name}", columns, (tuple(r.values()) for r in staged.to_pylist()))


def prepare(
    members: pa.Table, run_id: int, scored: Scored | None
) -> tuple[pa.Table, pa.Table, list[Any] | None]:
    """Members in index order with their score columns, the score rows, and the row of what made them."""
    # Inserted in index order, the unique (pool, customer) index grows at its end instead of everywhere.
    members = members.sort_by([("pool", "ascending"), ("customer_id", "ascending")])
    for name in ("probability", "expected_value"):
        if name not in members.column_names:  # a run published without scores (tests of the pools alone)
            members = members.append_column(name, pa.nulls(members.num_rows, pa.int64()))
    scores = scored.scores if scored is not None else _empty_scores()
    return members, scores, _score_run_row(run_id, scored)


def _empty_scores() -> pa.Table:
    i64, f64 = pa.int64(), pa.float64()
    types = (i64, i64, f64, i64, i64, pa.string(), pa.bool_())
    return pa.table({n: pa.array([], t) for n, t in zip(SCORE_DB[1:], types, strict=True)})


def publish_run(
    run_id: int,
    branch_id: int,
    members: pa.Table,
    figures: pa.Table,
    *,
    only_branch: bool,
    scored: Scored | None = None,
    extra: Extra | None = None,
) -> int:
    """Replace the branch's membership and scores with this run's, add its figures and what made the scores,
    make it the published run."""
    members, scores, score_run = prepare(members, run_id, scored)
    if arrowdb.available():
        args = (run_id, branch_id, members, figures, scores, score_run, only_branch, extra)
        if connection.vendor == "sqlite":
            arrowdb.in_child(_publish_sqlite_file, arrowdb.sqlite_path(), *args)
        else:
            with arrowdb.connect() as con:
                _publish_arrow(con, *args, postgres=True)
        return members.num_rows
    with transaction.atomic():
        with connection.cursor() as cur:
            if extra is not None:
                _stage_through_django(cur, extra)
                for sql, params in extra.statements[connection.vendor == "postgresql"]:
                    cur.execute(sql, params)
            for sql in _delete_sql(only_branch):
                cur.execute(sql, [] if only_branch else [branch_id])
            cur.execute(_PUBLISHED_SQL, [run_id, branch_id, run_id])
            if score_run is not None:
                cur.execute(_SCORE_RUN_SQL, score_run)
        _insert("pools_poolmember", MEMBER_DB, _rows(members, run_id, MEMBER_DB))
        _insert("pools_poolfigure", FIGURE_DB, _rows(figures, run_id, FIGURE_DB))
        _insert("scoring_customerscore", SCORE_DB, _rows(scores, run_id, SCORE_DB))
    return members.num_rows


def _delete_sql(only_branch: bool) -> list[str]:
    tables = ("pools_poolmember", "scoring_customerscore")
    if only_branch:  # the whole table: SQLite then frees its pages instead of deleting row by row
        return [f"DELETE FROM {t}" for t in tables]
    return [
        f"DELETE FROM {t} WHERE customer_id IN (SELECT id FROM customers_customer WHERE branch_id = %s)"
        for t in tables
    ]


_SCORE_RUN_SQL = (
    "INSERT INTO scoring_scorerun (run_id, model_id, params, criteria_hash, scored, non_personalised) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


def _score_run_row(run_id: int, scored: Scored | None) -> list[Any] | None:
    if scored is None:
        return None
    params = json.dumps(scored.params, sort_keys=True)
    return [
        run_id,
        scored.model.pk,
        params,
        scored.criteria_hash,
        scored.scores.num_rows,
        scored.non_personalised,
    ]


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
        elif name in _FLAGS and postgres:
            parts.append(f"{col} <> 0")
        elif name == "reasons" and postgres:
            parts.append(f"CAST({col} AS jsonb)")
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
    path: str,
    run_id: int,
    branch_id: int,
    members: pa.Table,
    figures: pa.Table,
    scores: pa.Table,
    score_run: list[Any] | None,
    only_branch: bool,
    extra: Extra | None,
) -> None:
    """In a child process (see arrowdb.in_child): ADBC's own SQLite must not share a process with Django's."""
    with arrowdb.connect(path) as con:
        _publish_arrow(
            con, run_id, branch_id, members, figures, scores, score_run, only_branch, extra, postgres=False
        )


def _publish_arrow(
    con: Any,
    run_id: int,
    branch_id: int,
    members: pa.Table,
    figures: pa.Table,
    scores: pa.Table,
    score_run: list[Any] | None,
    only_branch: bool,
    extra: Extra | None,
    *,
    postgres: bool,
) -> None:
    targets = (
        ("pools_poolmember", MEMBER_DB, members),
        ("pools_poolfigure", FIGURE_DB, figures),
        ("scoring_customerscore", SCORE_DB, scores),
    )
    with con.cursor() as cur:
        if not postgres:
            cur.execute("PRAGMA busy_timeout = 30000")  # wait for a writer (an import) instead of failing
            cur.execute("PRAGMA foreign_keys = ON")
        for target, columns, table in targets:
            staged = _staged(table, run_id, columns)
            cur.adbc_ingest(f"xiaodai_stage_{target}", staged, mode="replace", temporary=True)
        if extra is not None:
            for name, table in extra.tables:
                cur.adbc_ingest(f"xiaodai_stage_{name}", _raw(table), mode="replace", temporary=True)
            for sql, params in extra.statements[postgres]:
                cur.execute(_marks(sql, postgres), params)
        for sql in _delete_sql(only_branch):
            cur.execute(_marks(sql, postgres), None if only_branch else [branch_id])
        for target, columns, _table in targets:
            names = ", ".join(f'"{c}"' for c in columns)
            select = _select(columns, postgres)
            cur.execute(f"INSERT INTO {target} ({names}) SELECT {select} FROM xiaodai_stage_{target} s")
        cur.execute(_marks(_PUBLISHED_SQL, postgres), [run_id, branch_id, run_id])
        if score_run is not None:
            sql = (
                _SCORE_RUN_SQL.replace("VALUES (%s, %s, %s", "VALUES (%s, %s, CAST(%s AS jsonb)")
                if postgres
                else _SCORE_RUN_SQL
            )
            cur.execute(_marks(sql, postgres), score_run)
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
