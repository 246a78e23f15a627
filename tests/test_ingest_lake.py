"""Lake feeds through the importer: transactions land as Parquet by month with the run, never in the app
database; a refused drop or a rollback leaves no files behind."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests import drops
from tests.conftest import Cast
from xiaodai.ingest import services
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.models import ImportRun


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("XIAODAI_LAKE_DIR", str(root))
    return root


@pytest.fixture
def drop(tmp_path: Path, cast: Cast, lake: Path) -> Path:
    folder = drops.basic_drop(tmp_path / "20261128", cast.branch.code)
    txns = [
        drops.row("transactions", txn_id="T1", customer_no="C9000000001", booked_at="2026-10-03 10:00:00"),
        drops.row("transactions", txn_id="T2", customer_no="C9000000001", booked_at="2026-11-20 09:30:00"),
        drops.row("transactions", txn_id="T3", customer_no="C9000000002", booked_at="2026-11-27 18:05:00"),
    ]
    drops.write_csv(folder, "transactions", txns)
    return folder


def _ingest(folder: Path) -> ImportRun:
    return services.run_ingest(folder, trigger=Trigger.CLI)


def _parquet(lake: Path) -> list[Path]:
    return sorted((lake / "transactions").glob("month=*/*.parquet"))


def test_transactions_land_in_monthly_parquet(drop: Path, lake: Path) -> None:
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED, run.message
    months = sorted(p.parent.name for p in _parquet(lake))
    assert months == ["month=2026-10", "month=2026-11"]
    figures = run.files.get(feed="transactions")
    assert (figures.rows_read, figures.rows_loaded, figures.reconciled) == (3, 3, True)


def test_lake_rows_carry_the_run_as_lineage(drop: Path, lake: Path) -> None:
    run = _ingest(drop)
    files = [str(p) for p in _parquet(lake)]
    batches = duckdb.sql(f"SELECT DISTINCT ingest_batch FROM read_parquet({files})").fetchall()  # noqa: S608
    assert batches == [(run.pk,)]


def test_a_refused_drop_leaves_no_lake_files(drop: Path, lake: Path) -> None:
    drops.write_csv(drop, "loans", [drops.row("loans", customer_no="C9000000001", balance="1,0.00")])
    run = _ingest(drop)
    assert run.status == RunStatus.REJECTED
    assert _parquet(lake) == []


def test_a_bad_transaction_refuses_the_drop(drop: Path, lake: Path) -> None:
    txns = [drops.row("transactions", txn_id="T1", customer_no="C9000000001", amount="１００.００")]
    drops.write_csv(drop, "transactions", txns)
    run = _ingest(drop)
    assert run.status == RunStatus.REJECTED
    assert run.errors.filter(code="money_format", line=2).exists()
    assert _parquet(lake) == []


def test_rollback_removes_the_runs_lake_files(drop: Path, lake: Path) -> None:
    run = _ingest(drop)
    services.rollback_run(run.pk, by=None)
    assert _parquet(lake) == []


def test_the_same_drop_twice_writes_nothing_more(drop: Path, lake: Path) -> None:
    _ingest(drop)
    before = _parquet(lake)
    assert _ingest(drop).status == RunStatus.DUPLICATE
    assert _parquet(lake) == before


def test_a_bad_lake_value_is_masked_once_in_the_report(drop: Path, lake: Path) -> None:
    account = "6222020000001234567890123"  # 25 characters: one too many
    txns = [drops.row("transactions", txn_id="T1", customer_no="C9000000001", account_no=account)]
    drops.write_csv(drop, "transactions", txns)
    run = _ingest(drop)
    error = run.errors.get(field="account_no")
    assert error.value == "622202" + "*" * 15 + "0123"


def test_a_transactions_file_may_leave_the_currency_out(drop: Path, lake: Path, cast: Cast) -> None:
    """Contract 1.1 added `currency`; a file written to 1.0 still loads, its currency empty (CNY)."""
    txns = [drops.row("transactions", txn_id="T9", customer_no="C9000000001")]
    for r in txns:
        del r["currency"]
    drops.write_csv(drop, "transactions", txns)
    drops.write_manifest(
        drop, contract_version="1.0", source="core-dw", data_date="2026-11-28", branch_code=cast.branch.code
    )
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED, run.message
    files = str(lake / "transactions" / "*" / "*.parquet")
    with duckdb.connect() as con:
        currencies = con.execute("SELECT currency FROM read_parquet(?)", [files]).fetchall()
    assert currencies == [(None,)]


def test_a_currency_longer_than_three_letters_is_refused(drop: Path, lake: Path) -> None:
    txns = [drops.row("transactions", txn_id="T9", customer_no="C9000000001", currency="YUAN")]
    drops.write_csv(drop, "transactions", txns)
    run = _ingest(drop)
    assert run.status == RunStatus.REJECTED
    assert not _parquet(lake)
