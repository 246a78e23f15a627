"""The lake writer: lake feeds validated with DuckDB and staged, published and removed as monthly Parquet.
No database: each test has its own lake folder (XIAODAI_LAKE_DIR)."""

from __future__ import annotations

import csv
import os
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xiaodai.ingest.contract import FEEDS
from xiaodai.ingest.masking import mask_cell
from xiaodai.lake import writer
from xiaodai.lake.paths import feed_dir, lake_root, staging_dir, staging_root
from xiaodai.lake.writer import LakeResult, publish_batch, read_feed, remove_batch, stage_lake_feed

DAY = date(2026, 11, 28)
TXN = FEEDS["transactions"]


@pytest.fixture(autouse=True)
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("XIAODAI_LAKE_DIR", str(root))
    return root


def txn(n: int = 1, **values: Any) -> dict[str, str]:
    """A valid transaction (the contract's example) with its own id, and `values` replacing cells."""
    cells = {col.name: col.example for col in TXN.columns}
    cells.update(txn_id=f"T{n:015d}", booked_at=f"2026-11-{1 + n % 27:02d} 09:30:00", amount=f"-{n}.50")
    cells.update(values)
    return cells


def write_csv(
    folder: Path,
    rows: list[dict[str, str]],
    *,
    header: list[str] | None = None,
    encoding: str = "utf-8",
    name: str = "transactions.csv",
) -> Path:
    path = folder / name
    names = header or list(TXN.column_names)
    with path.open("w", encoding=encoding, newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        out.writeheader()
        for cells in rows:
            out.writerow({k: cells.get(k, "") for k in names})
    return path


def stage(path: Path, *, batch: int = 1, quarantine: bool = False, **kwargs: Any) -> LakeResult:
    options: dict[str, Any] = {"fmt": path.suffix.lstrip("."), "encoding": "", "data_date": DAY} | kwargs
    feed = options.pop("feed", TXN)
    return stage_lake_feed(feed, path, batch_id=batch, quarantine=quarantine, **options)


def published(feed: str = "transactions") -> list[tuple[Any, ...]]:
    return query(f"SELECT * FROM {read_feed(feed)} ORDER BY txn_id")  # noqa: S608


def staged_files(feed: str = "transactions", batch: int = 1) -> list[str]:
    return sorted(p.parent.name + "/" + p.name for p in staging_dir(feed, batch).glob("*/*.parquet"))


def codes(result: LakeResult) -> list[tuple[int | None, str, str]]:
    return [(e.line, e.field, e.code) for e in result.errors]


def problem(result: LakeResult) -> str:
    """The file problem's code ('' for none)."""
    return result.file_problem[0] if result.file_problem else ""


def query(sql: str) -> list[tuple[Any, ...]]:
    """Run SQL built around read_feed()'s FROM-expression."""
    return duckdb.sql(sql).fetchall()


# --- paths -------------------------------------------------------------------------------------------------


def test_the_lake_lives_where_the_environment_says(lake: Path) -> None:
    assert lake_root() == lake
    assert feed_dir("transactions") == lake / "transactions"
    with pytest.raises(ValueError, match="feed name"):
        feed_dir("../etc")


def test_without_the_variable_the_lake_is_under_var_dir(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.delenv("XIAODAI_LAKE_DIR")
    settings.VAR_DIR = Path("/srv/xiaodai")
    assert lake_root() == Path("/srv/xiaodai/lake")


# --- a good file -------------------------------------------------------------------------------------------


def test_a_good_file_lands_in_its_months_with_lineage(tmp_path: Path) -> None:
    rows = [
        txn(1, booked_at="2026-10-03 10:00:00", amount="-3200.00"),
        txn(2, booked_at="2026-11-20 09:30:00", amount="15000.10", direction="in"),
        txn(3, booked_at="2026-11-28 23:59:59", amount="-0.05", mcc="", counterparty_account=""),
    ]
    result = stage(write_csv(tmp_path, rows), batch=41)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0)
    assert (problem(result), result.errors) == ("", [])
    assert result.months == ["2026-10", "2026-11"]
    assert result.sums_in == result.sums_out == {"amount": "11800.05"}
    assert staged_files(batch=41) == ["month=2026-10/batch41_0.parquet", "month=2026-11/batch41_0.parquet"]
    assert published() == []  # nothing is visible before publishing

    publish_batch("transactions", 41)
    assert not staging_dir("transactions", 41).exists()
    files = sorted(
        p.relative_to(feed_dir("transactions")) for p in feed_dir("transactions").rglob("*.parquet")
    )
    assert [str(f) for f in files] == ["month=2026-10/batch41_0.parquet", "month=2026-11/batch41_0.parquet"]
    columns = "txn_id, booked_at, amount, mcc, ingest_batch, data_date, month"
    got = query(f"SELECT {columns} FROM {read_feed('transactions')} ORDER BY txn_id")  # noqa: S608
    assert got[0] == (
        "T000000000000001",
        datetime(2026, 10, 3, 10, 0),
        Decimal("-3200.00"),
        "5211",
        41,
        DAY,
        "2026-10",
    )
    assert got[2][3] is None  # an empty optional cell is NULL


def test_the_written_columns_are_typed(tmp_path: Path) -> None:
    stage(write_csv(tmp_path, [txn(1)]))
    publish_batch("transactions", 1)
    described = query(f"DESCRIBE SELECT * FROM {read_feed('transactions')}")  # noqa: S608
    types = {row[0]: row[1] for row in described}
    assert (types["amount"], types["booked_at"]) == ("DECIMAL(16,2)", "TIMESTAMP")
    assert (types["ingest_batch"], types["data_date"], types["month"]) == ("BIGINT", "DATE", "VARCHAR")
    assert types["txn_id"] == "VARCHAR"


def test_nothing_published_reads_as_an_empty_relation_with_the_columns() -> None:
    assert query(f"SELECT count(*) FROM {read_feed('transactions')}") == [(0,)]  # noqa: S608
    names = [d[0] for d in duckdb.sql(f"SELECT * FROM {read_feed('channel_leads')}").description]  # noqa: S608
    assert names == [*FEEDS["channel_leads"].column_names, "ingest_batch", "data_date", "month"]


def test_an_iso_time_with_an_offset_is_kept_in_beijing_time(tmp_path: Path) -> None:
    rows = [txn(1, booked_at="2026-11-03T02:00:00Z"), txn(2, booked_at="2026-11-03T10:00:00+08:00")]
    assert stage(write_csv(tmp_path, rows)).rows_loaded == 2
    publish_batch("transactions", 1)
    assert [r[3] for r in published()] == [datetime(2026, 11, 3, 10, 0)] * 2


def test_quoted_cells_with_commas_and_newlines_survive(tmp_path: Path) -> None:
    rows = [txn(1, memo='装修款, 第二期\n"尾款"', counterparty_name="杭州某装饰工程有限公司")]
    assert stage(write_csv(tmp_path, rows)).rows_loaded == 1
    publish_batch("transactions", 1)
    assert (published()[0][8], published()[0][11]) == ("杭州某装饰工程有限公司", '装修款, 第二期\n"尾款"')


# --- bad cells ---------------------------------------------------------------------------------------------


def test_thousands_separators_and_full_width_digits_are_money_format_errors(tmp_path: Path) -> None:
    rows = [txn(1), txn(2, amount="1,234.00"), txn(3), txn(4, amount="１２３.００"), txn(5, amount="1.234")]
    result = stage(write_csv(tmp_path, rows))
    assert codes(result) == [
        (3, "amount", "money_format"),
        (5, "amount", "money_format"),
        (6, "amount", "money_format"),
    ]
    assert "thousands separators" in result.errors[0].message
    assert "full-width" in result.errors[1].message
    assert result.errors[0].value == "1,234.00"  # amounts stay readable in the report
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 0, 3)


def test_error_values_are_masked(tmp_path: Path) -> None:
    raw = "6222 0000 0000 1234"
    result = stage(write_csv(tmp_path, [txn(1, counterparty_account=raw)]))
    assert codes(result) == [(2, "counterparty_account", "code_format")]
    assert result.errors[0].value == mask_cell(TXN.column("counterparty_account"), raw) != raw


@pytest.mark.parametrize(
    ("cells", "field", "code"),
    [
        ({"txn_id": ""}, "txn_id", "required"),
        ({"customer_no": "C57 001"}, "customer_no", "code_format"),
        ({"mcc": "54111"}, "mcc", "too_long"),
        ({"direction": "sideways"}, "direction", "choice"),
        ({"booked_at": "2026/11/03 10:00:00"}, "booked_at", "datetime_format"),
        ({"booked_at": "2026-02-30 10:00:00"}, "booked_at", "datetime_format"),
        ({"booked_at": "2026-11-29 00:00:00"}, "booked_at", "future_date"),
        ({"amount": ""}, "amount", "required"),
        ({"channel": "x" * 17}, "channel", "too_long"),
    ],
)
def test_each_kind_of_bad_cell_has_its_code(
    tmp_path: Path, cells: dict[str, str], field: str, code: str
) -> None:
    result = stage(write_csv(tmp_path, [txn(1), txn(2, **cells)]))
    assert codes(result) == [(3, field, code)]
    assert result.errors[0].message


def test_the_last_moment_of_the_data_date_is_not_in_the_future(tmp_path: Path) -> None:
    assert stage(write_csv(tmp_path, [txn(1, booked_at="2026-11-28 23:59:59")])).rows_loaded == 1


def test_reject_mode_writes_nothing_and_lists_every_error(tmp_path: Path) -> None:
    rows = [txn(i) for i in range(1, 6)] + [txn(6, amount="abc", direction="?"), txn(7, txn_id="")]
    result = stage(write_csv(tmp_path, rows), quarantine=False)
    assert codes(result) == [
        (7, "amount", "money_format"),
        (7, "direction", "choice"),
        (8, "txn_id", "required"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 0, 2)
    assert (result.months, result.sums_out) == ([], {"amount": "0.00"})
    assert result.sums_in == {"amount": "-17.50"}  # the five valid rows
    assert staged_files() == []
    publish_batch("transactions", 1)
    assert published() == []


def test_quarantine_mode_writes_the_good_rows_only(tmp_path: Path) -> None:
    rows = [txn(1, amount="10.00"), txn(2, amount="1,0.00"), txn(3, amount="-2.50")]
    result = stage(write_csv(tmp_path, rows), quarantine=True)
    assert codes(result) == [(3, "amount", "money_format")]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert result.sums_in == result.sums_out == {"amount": "7.50"}
    publish_batch("transactions", 1)
    assert [r[0] for r in published()] == ["T000000000000001", "T000000000000003"]
    assert not list(feed_dir("transactions").glob("month=invalid*"))


def test_errors_are_capped_but_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "MAX_ERRORS", 3)
    result = stage(write_csv(tmp_path, [txn(i, amount="x") for i in range(1, 11)]))
    assert (len(result.errors), result.rows_rejected) == (3, 10)
    assert [e.line for e in result.errors] == [2, 3, 4]


# --- duplicates --------------------------------------------------------------------------------------------


def test_a_repeated_txn_id_is_a_duplicate_key(tmp_path: Path) -> None:
    rows = [txn(1, amount="1.00"), txn(2, amount="2.00"), txn(1, amount="4.00"), txn(1, amount="8.00")]
    result = stage(write_csv(tmp_path, rows))
    assert codes(result) == [(4, "txn_id", "duplicate_key"), (5, "txn_id", "duplicate_key")]
    assert result.errors[0].message == "the same key as line 2"
    assert result.errors[0].value == "T000000000000001"
    assert (result.rows_loaded, result.rows_rejected) == (0, 2)
    assert result.sums_in == {"amount": "3.00"}


def test_quarantine_keeps_the_first_copy_of_a_key(tmp_path: Path) -> None:
    rows = [txn(1, amount="1.00"), txn(2, amount="2.00"), txn(1, amount="4.00"), txn(3, amount="x")]
    result = stage(write_csv(tmp_path, rows), quarantine=True)
    assert codes(result) == [(4, "txn_id", "duplicate_key"), (5, "amount", "money_format")]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert result.sums_in == result.sums_out == {"amount": "3.00"}
    publish_batch("transactions", 1)
    assert [(r[0], r[4]) for r in published()] == [
        ("T000000000000001", Decimal("1.00")),
        ("T000000000000002", Decimal("2.00")),
    ]


def test_a_composite_key_is_compared_whole(tmp_path: Path) -> None:
    leads = FEEDS["channel_leads"]
    base = {col.name: col.example for col in leads.columns}
    rows = [
        base | {"lead_id": "L1"},
        base | {"lead_id": "L2"},
        base | {"channel_code": "CAR-9", "lead_id": "L1"},
    ]
    path = write_csv(tmp_path, rows, header=list(leads.column_names), name="channel_leads.csv")
    assert stage(path, feed=leads).rows_loaded == 3
    again = write_csv(
        tmp_path, [*rows, base | {"lead_id": "L2"}], header=list(leads.column_names), name="channel_leads.csv"
    )
    result = stage(again, feed=leads)
    assert codes(result) == [(5, "channel_code,lead_id", "duplicate_key")]
    assert result.errors[0].message == "the same key as line 3"


# --- whole-file problems -----------------------------------------------------------------------------------


def test_a_missing_or_extra_column_refuses_the_file(tmp_path: Path) -> None:
    header = [n for n in TXN.column_names if n != "memo"] + ["note"]
    result = stage(write_csv(tmp_path, [txn(1)], header=header))
    assert problem(result) == "columns"
    assert result.file_problem is not None
    assert "missing columns: memo; columns not in the contract: note" in result.file_problem[1]
    assert (result.rows_loaded, staged_files()) == (0, [])


def test_a_credit_score_column_is_refused_as_credit_data(tmp_path: Path) -> None:
    leads = FEEDS["channel_leads"]
    base = {col.name: col.example for col in leads.columns}
    header = [*leads.column_names, "credit_score"]
    path = write_csv(tmp_path, [base], header=header, name="channel_leads.csv")
    result = stage(path, feed=leads)
    assert problem(result) == "credit_data"


def test_a_cut_off_file_is_truncated(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [txn(1), txn(2)])
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex(",out,")], encoding="utf-8")  # the last record is cut mid-way
    result = stage(path)
    assert problem(result) == "truncated"
    assert staged_files() == []


def test_a_ragged_record_refuses_the_file_with_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [txn(1), txn(2), txn(3)])
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = b"T9,C1,DP1\r\n"
    path.write_bytes(b"".join(lines))
    result = stage(path, quarantine=True)
    assert problem(result) == "columns"
    assert codes(result) == [(3, "", "column_count")]
    assert (result.rows_loaded, staged_files()) == (0, [])


def test_mixed_line_endings_are_a_format_problem(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [txn(1), txn(2)])
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n", 1))
    result = stage(path)
    assert problem(result) == "format"
    assert "line endings" in result.file_problem[1]


def test_excel_is_not_a_lake_format(tmp_path: Path) -> None:
    path = tmp_path / "transactions.xlsx"
    path.write_bytes(b"PK")
    assert stage(path).file_problem == ("format", "lake feeds take CSV or Parquet")


def test_bytes_that_are_not_utf8_are_an_encoding_problem(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [txn(1)] * 1)
    path.write_bytes(
        path.read_bytes() + "T2,C1,DP1,2026-11-02 10:00:00,-1.00,out,pos,5211,杭州,1,本行,x\n".encode("gbk")
    )
    result = stage(path, encoding="utf-8")
    assert problem(result) == "encoding"


# --- encodings and formats ---------------------------------------------------------------------------------


def test_a_gbk_file_is_transcoded_and_its_chinese_kept(tmp_path: Path) -> None:
    rows = [
        txn(1, counterparty_name="杭州某装饰工程有限公司", memo="装修款"),
        txn(2, counterparty_bank="工商银行"),
    ]
    path = write_csv(tmp_path, rows, encoding="gbk")
    for declared in ("gbk", ""):  # declared in the manifest, or detected
        result = stage(path, encoding=declared)
        assert result.rows_loaded == 2, result.file_problem
        assert not list(staging_root("transactions").glob("*.utf8.csv"))  # the transcoded copy is gone
    publish_batch("transactions", 1)
    got = published()
    assert (got[0][8], got[0][11], got[1][10]) == ("杭州某装饰工程有限公司", "装修款", "工商银行")


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [txn(1)], encoding="utf-8-sig")
    assert stage(path).rows_loaded == 1


def test_a_parquet_file_is_validated_like_a_csv(tmp_path: Path) -> None:
    rows = [txn(1, amount="12.50"), txn(2, amount="-1.00"), txn(3, booked_at="2027-01-01 00:00:00")]
    table = pa.table({name: [r[name] or None for r in rows] for name in TXN.column_names})
    table = table.set_column(
        4, "amount", pa.array([Decimal("12.50"), Decimal("-1.00"), Decimal("3.00")], pa.decimal128(16, 2))
    )
    path = tmp_path / "transactions.parquet"
    pq.write_table(table, path)
    result = stage(path, quarantine=True)
    assert codes(result) == [(4, "booked_at", "future_date")]
    assert (result.rows_loaded, result.sums_out) == (2, {"amount": "11.50"})


def test_contact_history_and_channel_leads_stage_too(tmp_path: Path) -> None:
    for name in ("contact_history", "channel_leads"):
        feed = FEEDS[name]
        good = {col.name: col.example for col in feed.columns}
        bad = good | ({"mobile": "1390013900"} if name == "channel_leads" else {"amount": "-1.00"})
        key = feed.key[-1]
        path = write_csv(
            tmp_path, [good, bad | {key: "K2"}], header=list(feed.column_names), name=f"{name}.csv"
        )
        result = stage(path, feed=feed, quarantine=True)
        assert result.rows_loaded == 1, result.file_problem
        assert [e.code for e in result.errors] == (
            ["mobile_format"] if name == "channel_leads" else ["negative"]
        )


# --- publish and remove ------------------------------------------------------------------------------------


def test_publishing_twice_does_not_duplicate(tmp_path: Path) -> None:
    stage(write_csv(tmp_path, [txn(1), txn(2)]), batch=5)
    publish_batch("transactions", 5)
    publish_batch("transactions", 5)
    assert len(published()) == 2


def test_a_publish_cut_short_completes_when_repeated(tmp_path: Path) -> None:
    rows = [txn(1, booked_at="2026-10-03 10:00:00"), txn(2)]
    stage(write_csv(tmp_path, rows), batch=5)
    first = sorted(staging_dir("transactions", 5).glob("*/*.parquet"))[0]
    (feed_dir("transactions") / first.parent.name).mkdir(parents=True)
    os.replace(first, feed_dir("transactions") / first.parent.name / first.name)  # a crash after one file
    publish_batch("transactions", 5)
    assert len(published()) == 2


def test_remove_batch_removes_exactly_that_batch(tmp_path: Path) -> None:
    stage(write_csv(tmp_path, [txn(1, booked_at="2026-10-03 10:00:00"), txn(2)]), batch=7)
    publish_batch("transactions", 7)
    stage(write_csv(tmp_path, [txn(3), txn(4)]), batch=8)
    publish_batch("transactions", 8)
    stage(write_csv(tmp_path, [txn(5)]), batch=7)  # staged again, not published
    assert remove_batch("transactions", 7) == 3
    assert [r[0] for r in published()] == ["T000000000000003", "T000000000000004"]
    assert not staging_dir("transactions", 7).exists()
    assert remove_batch("transactions", 7) == 0


def test_staging_clears_the_debris_of_a_crashed_run(tmp_path: Path) -> None:
    debris = staging_dir("transactions", 3) / "month=2026-11"
    debris.mkdir(parents=True)
    (debris / "batch3_0.parquet").write_bytes(b"half")
    spill = lake_root() / "_staging" / "_tmp" / "transactions-batch3-999"
    spill.mkdir(parents=True)
    fresh = staging_dir("transactions", 9)
    fresh.mkdir()  # another run's staging, in progress
    old = time.time() - 2 * writer.STALE_SECONDS
    for folder in (staging_dir("transactions", 3), spill):
        os.utime(folder, (old, old))
    stage(write_csv(tmp_path, [txn(1)]), batch=4)
    assert not staging_dir("transactions", 3).exists()
    assert not spill.exists()
    assert fresh.exists()
    assert staged_files(batch=4) == ["month=2026-11/batch4_0.parquet"]
