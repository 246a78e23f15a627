"""The snapshot and the publish step have two ways to the database: ADBC (Arrow in C, outside transactions:
the CLI and the job) and Django's connection (inside a transaction: the tests). Both must give the same
rows. On SQLite the ADBC side runs on a copy of the test database; on PostgreSQL on the test database itself,
with committed data."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import connection

from tests.conftest import Cast
from xiaodai.pipeline import arrowdb, snapshot
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools import publish
from xiaodai.pools.models import PoolFigure, PoolMember

DAY = dt.date(2026, 11, 28)


def _copy_of_test_database(tmp_path: Path) -> str:
    """A file copy of the in-memory test database, this test's uncommitted rows included (the backup API
    would wait for the test's own transaction to end)."""
    path = str(tmp_path / "copy.sqlite3")
    connection.ensure_connection()
    target = sqlite3.connect(path)
    target.executescript("\n".join(connection.connection.iterdump()))
    target.close()
    return path


def _results(cast: Cast, run: PipelineRun) -> tuple[pa.Table, pa.Table]:
    c1, c2 = cast.customers["own"], cast.customers["team"]
    members = pa.table(
        {
            "customer_id": [c1.pk, c2.pk],
            "pool": ["approved_undrawn", "premium_card"],
            "potential": [20_000_012, 5_000_000],
            "basis": [20_000_012, None],
            "days": [95, None],
            "on_date": pa.array([dt.date(2027, 3, 1), None], pa.date32()),
            "detail": [None, "platinum"],
            "is_primary": [True, False],
            "blocked": [0, 16],
            "channels": [3, 0],
            "is_new": [True, False],
        }
    )
    zeros = {name: [0] for name in publish.FIGURE_DB if name not in ("run_id", "pool", "level")}
    figures = pa.table(
        {
            **zeros,
            "pool": ["approved_undrawn"],
            "level": ["branch"],
            "branch_id": [cast.branch.pk],
            "sub_branch_id": pa.array([None], pa.int64()),
            "team_id": pa.array([None], pa.int64()),
            "owner_id": pa.array([None], pa.int64()),
            "customers": [1],
            "potential": [20_000_012],
        }
    )
    return members, figures


def _member_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Member rows in one shape whatever the driver returned (money to cents, dates to ISO, flags to bool)."""

    def money(v: Any) -> str | None:
        return None if v is None else str(Decimal(str(v)).quantize(Decimal("0.01")))

    def day(v: Any) -> str | None:
        return None if v is None else str(v)[:10]

    return sorted(
        (r[0], r[1], bool(r[2]), r[3], r[4], money(r[5]), money(r[6]), r[7], day(r[8]), r[9], bool(r[10]))
        for r in rows
    )


_MEMBER_COLS = (
    "customer_id, pool, is_primary, blocked, channels, potential, basis, days, on_date, detail, is_new"
)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a copy of the in-memory SQLite test database")
def test_publishing_through_adbc_writes_what_django_writes_on_sqlite(cast: Cast, tmp_path: Path) -> None:
    run = PipelineRun.objects.create(branch=cast.branch, data_date=DAY, engine="duckdb", trigger="cli")
    members, figures = _results(cast, run)
    copy = _copy_of_test_database(tmp_path)
    publish.publish_run(run.pk, cast.branch.pk, members, figures, only_branch=False)
    django_rows = _member_rows(list(PoolMember.objects.values_list(*_MEMBER_COLS.split(", "))))
    staged, scores, score_run = publish.prepare(members, run.pk, None)
    args = (copy, run.pk, cast.branch.pk, staged, figures, scores, score_run, False, None)
    arrowdb.in_child(publish._publish_sqlite_file, *args)
    raw = sqlite3.connect(copy)
    adbc_rows = _member_rows(raw.execute(f"SELECT {_MEMBER_COLS} FROM pools_poolmember").fetchall())  # noqa: S608
    figure = raw.execute("SELECT customers, potential FROM pools_poolfigure").fetchall()
    published = raw.execute("SELECT is_published FROM pipeline_pipelinerun WHERE id = ?", [run.pk]).fetchone()
    raw.close()
    assert adbc_rows == django_rows
    assert figure == [(1, 200000.12)]
    assert published == (1,)
    assert PoolFigure.objects.get().potential == Decimal("200000.12")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a copy of the in-memory SQLite test database")
def test_signals_through_adbc_are_what_django_writes_on_sqlite(cast: Cast, tmp_path: Path) -> None:
    """The signal step's extra tables and statements (xiaodai.signals.publish) run the same on both paths."""
    from django.utils import timezone

    from tests.test_signals_publish import EMPTY_MEMBERS, _alert, _event, _figures, _result, _signal
    from xiaodai.signals.models import FlowAlert, FlowRun, Signal, SignalLog
    from xiaodai.signals.publish import extra

    run = PipelineRun.objects.create(branch=cast.branch, data_date=DAY, engine="duckdb", trigger="cli")
    own = cast.customers["own"].pk
    result = _result([_signal(own)], [_alert(own)], [_event(own, dt.date(2026, 6, 3))])
    copy = _copy_of_test_database(tmp_path)
    made = extra(result, run.pk, cast.branch.pk, DAY, timezone.now())
    publish.publish_run(run.pk, cast.branch.pk, EMPTY_MEMBERS, _figures(), only_branch=False, extra=made)
    staged, scores, score_run = publish.prepare(EMPTY_MEMBERS, run.pk, None)
    args = (copy, run.pk, cast.branch.pk, staged, _figures(), scores, score_run, False, made)
    arrowdb.in_child(publish._publish_sqlite_file, *args)
    raw = sqlite3.connect(copy)
    queries = {
        "signals_signal": "SELECT customer_id, kind, detail, first_on, txns, amount, basis, is_new",
        "signals_signallog": "SELECT customer_id, kind, detail, seen_on, amount",
        "signals_flowalert": "SELECT customer_id, kind, txn_id, flow_on, amount, days_after, status",
        "signals_flowrun": "SELECT read, used, duplicates, disbursed, closed_loop, signals, alerts",
    }
    adbc = {t: raw.execute(f"{q} FROM {t}").fetchall() for t, q in queries.items()}
    raw.close()
    models = {
        "signals_signal": Signal, "signals_signallog": SignalLog, "signals_flowalert": FlowAlert,
        "signals_flowrun": FlowRun,
    }  # fmt: skip
    for table, query in queries.items():
        columns = [c.strip() for c in query.removeprefix("SELECT ").split(",")]
        rows = list(models[table].objects.values_list(*columns))
        django_rows = [tuple(_plain(v) for v in row) for row in rows]
        assert [tuple(_plain(v) for v in row) for row in adbc[table]] == django_rows, table


def _plain(value: object) -> object:
    """Both paths' values in one form: dates as ISO text, money as a float, flags as 0/1."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return round(float(value), 2)
    if isinstance(value, bool):
        return int(value)
    return value


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a copy of the in-memory SQLite test database")
def test_the_snapshot_reads_the_same_through_adbc_on_sqlite(cast: Cast, tmp_path: Path) -> None:
    copy = _copy_of_test_database(tmp_path)
    jobs = _jobs(cast, tmp_path)
    arrowdb.in_child(arrowdb._read_sqlite_file, copy, jobs)
    _assert_same_as_django(cast, jobs)


def _jobs(cast: Cast, tmp_path: Path) -> list[tuple[str, pa.Schema, str]]:
    return [
        (snapshot._render(s.sql, cast.branch.pk, DAY), s.schema, str(tmp_path / f"{s.name}.parquet"))
        for s in snapshot.SOURCES
    ]


def _assert_same_as_django(cast: Cast, jobs: list[tuple[str, pa.Schema, str]]) -> None:
    for source, (_sql, _schema, path) in zip(snapshot.SOURCES, jobs, strict=True):
        through_django = snapshot.read_source(source, cast.branch.pk, DAY)
        assert pq.read_table(path).equals(through_django), source.name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ADBC on the PostgreSQL test database")
@pytest.mark.django_db(transaction=True)
def test_publishing_and_reading_through_adbc_on_postgres(cast: Cast, tmp_path: Path) -> None:
    run = PipelineRun.objects.create(branch=cast.branch, data_date=DAY, engine="duckdb", trigger="cli")
    members, figures = _results(cast, run)
    assert arrowdb.available()
    jobs = _jobs(cast, tmp_path)
    arrowdb.read_to_parquet(jobs)
    _assert_same_as_django(cast, jobs)
    publish.publish_run(run.pk, cast.branch.pk, members, figures, only_branch=False)
    rows = _member_rows(list(PoolMember.objects.values_list(*_MEMBER_COLS.split(", "))))
    assert rows[0][5] == "200000.12"
    assert len(rows) == 2
    assert PoolFigure.objects.get().potential == Decimal("200000.12")
    assert PipelineRun.objects.get(pk=run.pk).is_published


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ADBC on the PostgreSQL test database")
@pytest.mark.django_db(transaction=True)
def test_signals_publish_through_adbc_on_postgres(cast: Cast) -> None:
    from django.utils import timezone

    from tests.test_signals_publish import EMPTY_MEMBERS, _alert, _event, _figures, _result, _signal
    from xiaodai.signals.models import FlowAlert, FlowRun, Signal, SignalLog
    from xiaodai.signals.publish import extra

    run = PipelineRun.objects.create(branch=cast.branch, data_date=DAY, engine="duckdb", trigger="cli")
    own = cast.customers["own"].pk
    result = _result([_signal(own)], [_alert(own)], [_event(own, dt.date(2026, 6, 3))])
    assert arrowdb.available()
    made = extra(result, run.pk, cast.branch.pk, DAY, timezone.now())
    publish.publish_run(run.pk, cast.branch.pk, EMPTY_MEMBERS, _figures(), only_branch=False, extra=made)
    signal = Signal.objects.get()
    assert (signal.amount, signal.basis, signal.is_new) == (Decimal("30000.00"), Decimal("2500.00"), True)
    assert SignalLog.objects.get().seen_on == dt.date(2026, 6, 3)
    assert FlowAlert.objects.get().amount == Decimal("50000.00")
    assert FlowRun.objects.get(run=run).closed_loop == Decimal("40000.00")
