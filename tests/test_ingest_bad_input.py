"""Bad drops: each is refused with a specific, line-numbered error and changes nothing (or, in quarantine
mode, loads only the good rows and says which were left out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests import drops
from tests.conftest import Cast
from xiaodai.customers.models import Customer, Loan
from xiaodai.ingest import services
from xiaodai.ingest.choices import BadRowMode, RunStatus, Trigger
from xiaodai.ingest.models import ImportRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def drop(tmp_path: Path, cast: Cast) -> Path:
    return drops.basic_drop(tmp_path / "20261128", cast.branch.code)


def _ingest(folder: Path) -> ImportRun:
    return services.run_ingest(folder, trigger=Trigger.CLI)


def _codes(run: ImportRun) -> set[str]:
    return set(run.errors.values_list("code", flat=True))


def _nothing_loaded() -> bool:
    return not Customer.objects.filter(customer_no__startswith="C9").exists()


def _rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _refused(run: ImportRun, code: str) -> bool:
    return run.status == RunStatus.REJECTED and code in _codes(run) and _nothing_loaded()


def test_truncated_file_is_refused(drop: Path) -> None:
    path = drop / "loans.csv"
    path.write_bytes(path.read_bytes()[:-30])  # cut inside the last record, no final newline
    assert _refused(_ingest(drop), "truncated")


def test_a_refused_drop_claims_no_stored_totals_for_its_good_files(drop: Path) -> None:
    path = drop / "loans.csv"
    path.write_bytes(path.read_bytes()[:-30])
    run = _ingest(drop)
    good = run.files.get(feed="credit_lines")
    assert (run.status, good.accepted, good.sums_out, good.reconciled) == (
        RunStatus.REJECTED,
        True,
        {},
        False,
    )


def test_wrong_encoding_is_refused(drop: Path) -> None:
    (drop / "customers.csv").write_bytes((drop / "customers.csv").read_bytes() + b"\xff\xfe\xfa\n")
    run = services.run_ingest(drop, trigger=Trigger.CLI, encoding="utf-8")
    assert _refused(run, "encoding")


def test_gbk_file_loads_with_chinese_intact(drop: Path) -> None:
    path = drop / "customers.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED
    assert Customer.objects.get(customer_no="C9000000001").name == "张三"


def test_wrong_delimiter_is_refused(drop: Path) -> None:
    path = drop / "loans.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    assert _refused(_ingest(drop), "delimiter")


def test_missing_column_is_refused(drop: Path) -> None:
    names = [c for c in drops.FEEDS["loans"].column_names if c != "apr"]
    drops.write_csv(drop, "loans", [drops.row("loans", customer_no="C9000000001")], header=names)
    run = _ingest(drop)
    assert _refused(run, "columns")
    assert "apr" in run.files.get(feed="loans").message


def test_extra_column_is_refused(drop: Path) -> None:
    names = [*drops.FEEDS["loans"].column_names, "remark"]
    drops.write_csv(drop, "loans", [drops.row("loans", customer_no="C9000000001")], header=names)
    assert _refused(_ingest(drop), "columns")


def test_credit_score_column_is_refused(drop: Path) -> None:
    """C-10: credit data only through licensed bureaus."""
    names = [*drops.FEEDS["customers"].column_names, "credit_score"]
    drops.write_csv(drop, "customers", drops.customers(3), header=names)
    assert _refused(_ingest(drop), "credit_data")


def test_duplicate_key_names_the_first_line(drop: Path) -> None:
    rows = drops.customers(2)
    rows.append(dict(rows[0]))
    drops.write_csv(drop, "customers", rows)
    run = _ingest(drop)
    error = run.errors.get(code="duplicate_key")
    assert (error.line, "line 2" in error.message, _nothing_loaded()) == (4, True, True)


def test_bad_id_checksum_is_refused_with_a_masked_value(drop: Path) -> None:
    rows = drops.customers(3)
    rows[1]["id_number"] = rows[1]["id_number"][:-1] + ("0" if rows[1]["id_number"][-1] != "0" else "1")
    drops.write_csv(drop, "customers", rows)
    run = _ingest(drop)
    error = run.errors.get(code="id_checksum")
    assert (error.line, "*" in error.value, _nothing_loaded()) == (3, True, True)


@pytest.mark.parametrize("amount", ["80,000.00", "８００００.００", "80000.001", "8e4"])
def test_badly_written_amounts_are_refused(drop: Path, amount: str) -> None:
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000", balance=amount)]
    drops.write_csv(drop, "loans", loans)
    assert _refused(_ingest(drop), "money_format")


def test_excel_formula_cell_is_refused(drop: Path) -> None:
    (drop / "loans.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    names = list(drops.FEEDS["loans"].column_names)
    sheet.append(names)
    good = drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000")
    sheet.append([good[n] for n in names])
    sheet.cell(row=2, column=names.index("balance") + 1, value="=SUM(1,2)")
    book.save(drop / "loans.xlsx")
    run = _ingest(drop)
    assert _refused(run, "formula")


def test_excel_file_loads(drop: Path) -> None:
    (drop / "loans.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    names = list(drops.FEEDS["loans"].column_names)
    sheet.append(names)
    good = drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000")
    sheet.append([good[n] for n in names])
    book.save(drop / "loans.xlsx")
    assert _ingest(drop).status == RunStatus.LOADED


def test_parquet_file_loads(drop: Path) -> None:
    (drop / "loans.csv").unlink()
    good = drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000")
    table = pa.table({name: [value] for name, value in good.items()})
    pq.write_table(table, drop / "loans.parquet")
    assert _ingest(drop).status == RunStatus.LOADED


def test_empty_file_is_refused(drop: Path) -> None:
    (drop / "loans.csv").write_bytes(b"")
    assert _refused(_ingest(drop), "empty_file")


def test_unknown_customer_is_refused(drop: Path) -> None:
    drops.write_csv(drop, "loans", [drops.row("loans", customer_no="C9999999999", loan_no="XLN000000009")])
    assert _refused(_ingest(drop), "unknown_reference")


def test_drawn_over_limit_is_refused(drop: Path) -> None:
    lines = [
        drops.row("credit_lines", customer_no="C9000000001", line_no="XCL1", limit="100.00", drawn="200.00")
    ]
    drops.write_csv(drop, "credit_lines", lines)
    assert _refused(_ingest(drop), "drawn_over_limit")


def test_negative_limit_is_refused(drop: Path) -> None:
    lines = [drops.row("credit_lines", customer_no="C9000000001", line_no="XCL1", limit="-1.00")]
    drops.write_csv(drop, "credit_lines", lines)
    assert _refused(_ingest(drop), "negative")


def test_dates_after_the_data_date_are_refused(drop: Path) -> None:
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN1", disbursed_on="2027-01-01")]
    drops.write_csv(drop, "loans", loans)
    assert _refused(_ingest(drop), "future_date")


def test_quarantine_mode_loads_good_rows_and_reports_bad(drop: Path, cast: Cast) -> None:
    services.set_feed_mode("loans", BadRowMode.QUARANTINE, by=cast.staff["ops"])
    loans = [
        drops.row("loans", customer_no="C9000000001", loan_no="XLN1"),
        drops.row("loans", customer_no="C9000000002", loan_no="XLN2", balance="1,000.00"),
    ]
    drops.write_csv(drop, "loans", loans)
    run = _ingest(drop)
    figures = run.files.get(feed="loans")
    assert (run.status, figures.rows_loaded, figures.rows_rejected) == (RunStatus.PARTIAL, 1, 1)
    assert Loan.objects.filter(loan_no__in=["XLN1", "XLN2"]).count() == 1


def test_control_rows_mismatch_is_refused(drop: Path, cast: Cast) -> None:
    drops.write_manifest(
        drop,
        source="core-dw",
        data_date="2026-11-28",
        branch_code=cast.branch.code,
        files={"loans.csv": {"rows": 4}},
    )
    assert _refused(_ingest(drop), "control_rows")


def test_control_sums_mismatch_is_refused(drop: Path, cast: Cast) -> None:
    control = {"loans.csv": {"rows": 3, "sums": {"balance": "1.00"}}}
    drops.write_manifest(
        drop, source="core-dw", data_date="2026-11-28", branch_code=cast.branch.code, files=control
    )
    assert _refused(_ingest(drop), "control_sums")


def test_matching_control_totals_load(drop: Path, cast: Cast) -> None:
    control = {"loans.csv": {"rows": 3, "sums": {"amount": "300000.00", "balance": "240000.00"}}}
    drops.write_manifest(
        drop, source="core-dw", data_date="2026-11-28", branch_code=cast.branch.code, files=control
    )
    assert _ingest(drop).status == RunStatus.LOADED


@pytest.mark.parametrize(
    ("name", "code"),
    [("loans.txt", "unknown_file"), ("mortgages.csv", "unknown_file")],
)
def test_files_outside_the_contract_stop_the_drop(drop: Path, name: str, code: str) -> None:
    (drop / name).write_text("x\n", encoding="utf-8")
    with pytest.raises(services.IngestError) as caught:
        _ingest(drop)
    assert caught.value.code == code


def test_a_bad_manifest_stops_the_drop(drop: Path) -> None:
    (drop / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(services.IngestError) as caught:
        _ingest(drop)
    assert caught.value.code == "manifest"


def test_another_contract_version_stops_the_drop(drop: Path, cast: Cast) -> None:
    drops.write_manifest(drop, contract_version="0.9", data_date="2026-11-28", branch_code=cast.branch.code)
    with pytest.raises(services.IngestError) as caught:
        _ingest(drop)
    assert caught.value.code == "contract_version"


def test_one_run_per_source_and_date_at_a_time(drop: Path) -> None:
    services.prepare_run(drop, trigger=Trigger.CLI)
    with pytest.raises(services.IngestError) as caught:
        services.prepare_run(drop, trigger=Trigger.CLI)
    assert caught.value.code == "busy"


def test_a_killed_run_frees_its_lock_and_the_rerun_completes(drop: Path) -> None:
    dead = services.prepare_run(drop, trigger=Trigger.CLI)
    ImportRun.objects.filter(pk=dead.pk).update(
        status=RunStatus.RUNNING, pid=2**22 + 12345
    )  # no such process
    run = _ingest(drop)
    dead.refresh_from_db()
    assert (dead.status, run.status) == (RunStatus.FAILED, RunStatus.LOADED)


def test_a_killed_runs_spool_is_deleted_by_the_rerun(drop: Path) -> None:
    """The batches a killed run's second process left on disk hold personal data: the rerun removes them."""
    from xiaodai.ingest.produce import spool_folder

    dead = services.prepare_run(drop, trigger=Trigger.CLI)
    ImportRun.objects.filter(pk=dead.pk).update(status=RunStatus.RUNNING, pid=2**22 + 12346)
    left = spool_folder(dead.pk, 2**22 + 12346)
    left.mkdir(parents=True)
    (left / "0").write_bytes(b"rows")
    _ingest(drop)
    assert not left.exists()


def test_error_report_values_are_masked(drop: Path) -> None:
    rows = drops.customers(1)
    rows[0]["id_number"] = "330106198804120099"
    drops.write_csv(drop, "customers", rows)
    run = _ingest(drop)
    assert "330106198804120099" not in str(list(run.errors.values_list("value", flat=True)))


def test_id_number_checks_agree_with_stdnum() -> None:
    """The inline ID check (speed) accepts and refuses exactly what stdnum.cn.ric does."""
    from stdnum.cn import ric

    from xiaodai.ingest.validate import CellError, _id_number

    samples = [drops.id_number(f"3301061988041{i:04d}") for i in range(300)]
    samples += [s[:-1] + ("0" if s[-1] != "0" else "1") for s in samples[:100]]  # wrong check digits
    samples += ["330106198802300013", "999999198804120013", "33010619880412001"]
    for sample in samples:
        try:
            _id_number(sample)
            ours = True
        except CellError:
            ours = False
        assert ours == ric.is_valid(sample), sample


def test_mobile_check_agrees_with_phonenumbers() -> None:
    """The per-block cache gives phonenumbers' own verdict for every number of a block."""
    import random

    import phonenumbers

    from xiaodai.ingest.validate import CellError, _mobile

    rng = random.Random(7)
    samples = [f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}" for _ in range(3000)]
    for sample in samples:
        try:
            _mobile(sample)
            ours = True
        except CellError:
            ours = False
        assert ours == phonenumbers.is_valid_number(phonenumbers.parse(sample, "CN")), sample


def test_a_bad_mobile_in_contacts_is_refused(drop: Path) -> None:
    rows = [drops.row("contacts", customer_no="C9000000001", value="12345678901")]
    drops.write_csv(drop, "contacts", rows)
    assert _refused(_ingest(drop), "mobile_format")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_report_cells_that_would_start_a_formula_are_quoted(text: str) -> None:
    from xiaodai.ingest.report import safe_cell

    assert safe_cell(text) == "'" + text


def test_the_cli_writes_a_formula_safe_report(drop: Path, tmp_path: Path, settings: Any) -> None:
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path / "var"
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN1", product='=HYPERLINK("x")' * 5)]
    drops.write_csv(drop, "loans", loans)
    with pytest.raises(SystemExit) as ended:
        call_command("ingest", str(drop))
    report = (tmp_path / "var" / "ingest" / "reports").glob("run-*-errors.csv")
    text = next(report).read_text(encoding="utf-8-sig")
    assert ended.value.code == 2
    assert "\nloans.csv,2,product,too_long,文本过长,at most 50 characters,\"'=HYPERLINK" in text


def test_quarantine_keeps_the_first_of_duplicate_keys(drop: Path, cast: Cast) -> None:
    services.set_feed_mode("loans", BadRowMode.QUARANTINE, by=cast.staff["ops"])
    loans = [
        drops.row("loans", customer_no="C9000000001", loan_no="XLN1", balance="1.00"),
        drops.row("loans", customer_no="C9000000002", loan_no="XLN1", balance="2.00"),
        drops.row("loans", customer_no="C9999999999", loan_no="XLN3"),
    ]
    drops.write_csv(drop, "loans", loans)
    run = _ingest(drop)
    figures = run.files.get(feed="loans")
    assert (figures.rows_read, figures.rows_loaded, figures.rows_rejected) == (3, 1, 2)
    assert figures.reconciled
    assert Loan.objects.get(loan_no="XLN1").balance == 1
    assert sorted(run.errors.values_list("line", "code")) == [(3, "duplicate_key"), (4, "unknown_reference")]
