"""The daily data drop end to end through the services: load, figures, duplicates, re-delivery, rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from tests import drops
from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Consent, ContactPoint, CreditLine, Customer, Loan
from xiaodai.ingest import services
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.models import ImportRun


def _ingest(folder: Path) -> ImportRun:
    return services.run_ingest(folder, trigger=Trigger.CLI)


@pytest.fixture
def drop(tmp_path: Path, cast: Cast) -> Path:
    return drops.basic_drop(tmp_path / "20261128", cast.branch.code)


def test_a_good_drop_loads_every_file(drop: Path) -> None:
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED, list(run.errors.values_list("filename", "line", "code"))[:5]
    assert Customer.objects.filter(customer_no__startswith="C9").count() == 3


def test_figures_per_file_add_up(drop: Path) -> None:
    run = _ingest(drop)
    loans = run.files.get(feed="loans")
    assert (loans.rows_read, loans.rows_loaded, loans.rows_updated, loans.rows_rejected) == (3, 3, 0, 0)


def test_control_totals_reconcile(drop: Path) -> None:
    run = _ingest(drop)
    lines = run.files.get(feed="credit_lines")
    assert lines.sums_in == lines.sums_out == {"limit": "600000.00", "drawn": "0.00"}
    assert lines.reconciled


def test_loaded_rows_carry_lineage(drop: Path) -> None:
    run = _ingest(drop)
    loan = Loan.objects.get(loan_no="XLN000000000")
    assert (loan.ingest_batch, str(loan.data_date)) == (run.pk, "2026-11-28")


def test_loaded_timestamps_are_stored_the_way_django_stores_them(drop: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL stores timestamptz; only SQLite keeps the text Django wrote")
    _ingest(drop)
    created = Customer.objects.get(customer_no="C9000000001")
    with connection.cursor() as cur:
        cur.execute("SELECT CAST(created_at AS TEXT) FROM customers_customer WHERE id = %s", [created.pk])
        raw = cur.fetchone()[0]
    assert raw == connection.ops.adapt_datetimefield_value(created.created_at)


def test_contact_tail_and_pinyin_are_derived(drop: Path) -> None:
    _ingest(drop)
    customer = Customer.objects.get(customer_no="C9000000001")
    assert (customer.name_pinyin, customer.contact_points.get().tail) == ("zhangsan", "0000")


def test_the_same_drop_twice_is_a_duplicate(drop: Path) -> None:
    _ingest(drop)
    second = _ingest(drop)
    assert second.status == RunStatus.DUPLICATE
    assert Loan.objects.filter(customer__customer_no__startswith="C9").count() == 3


def test_a_changed_row_is_updated_and_others_unchanged(drop: Path, cast: Cast) -> None:
    _ingest(drop)
    loans = [drops.row("loans", customer_no=f"C9{i + 1:09d}", loan_no=f"XLN{i:09d}") for i in range(3)]
    loans[1]["balance"] = "70000.00"
    drops.write_csv(drop, "loans", loans)
    drops.write_manifest(drop, source="core-dw", data_date="2026-11-29", branch_code=cast.branch.code)
    run = _ingest(drop)
    figures = run.files.get(feed="loans")
    assert (figures.rows_loaded, figures.rows_updated, figures.rows_unchanged) == (0, 1, 2)


def test_a_corrected_redelivery_replaces_the_slice(drop: Path, cast: Cast) -> None:
    first = _ingest(drop)
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000", balance="1.00")]
    drops.write_csv(drop, "loans", loans)
    second = _ingest(drop)
    first.refresh_from_db()
    assert (second.status, first.status) == (RunStatus.LOADED, RunStatus.SUPERSEDED)
    assert list(
        Loan.objects.filter(customer__customer_no__startswith="C9").values_list("balance", flat=True)
    ) == [1]


def test_rollback_deletes_what_the_run_added(drop: Path) -> None:
    run = _ingest(drop)
    services.rollback_run(run.pk, by=None)
    assert not Customer.objects.filter(customer_no__startswith="C9").exists()
    assert not Consent.objects.filter(customer__customer_no__startswith="C9").exists()


def test_rollback_restores_what_the_run_changed(drop: Path, cast: Cast) -> None:
    _ingest(drop)
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000", balance="5.00")]
    drops.write_csv(drop, "loans", loans)
    drops.write_manifest(drop, source="core-dw", data_date="2026-11-29", branch_code=cast.branch.code)
    second = _ingest(drop)
    services.rollback_run(second.pk, by=None)
    assert Loan.objects.get(loan_no="XLN000000000").balance == 80000


def test_only_the_latest_run_rolls_back(drop: Path, cast: Cast) -> None:
    first = _ingest(drop)
    drops.write_manifest(drop, source="core-dw", data_date="2026-11-29", branch_code=cast.branch.code)
    _ingest(drop)
    with pytest.raises(services.IngestError) as caught:
        services.rollback_run(first.pk, by=None)
    assert caught.value.code == "not_latest"


def test_a_run_is_audited(drop: Path) -> None:
    run = _ingest(drop)
    assert AuditEvent.objects.filter(action="import.run", object_id=str(run.pk)).exists()


def test_existing_rows_of_the_cast_are_untouched(drop: Path, cast: Cast) -> None:
    before = CreditLine.objects.count() + ContactPoint.objects.count()
    _ingest(drop)
    assert CreditLine.objects.count() + ContactPoint.objects.count() == before + 6


def test_a_feed_much_smaller_than_the_day_before_is_flagged(drop: Path, cast: Cast) -> None:
    """D-07: a partial extract is loaded but called out."""
    _ingest(drop)
    loans = [drops.row("loans", customer_no="C9000000001", loan_no="XLN000000000")]
    drops.write_csv(drop, "loans", loans)
    drops.write_manifest(drop, source="core-dw", data_date="2026-11-29", branch_code=cast.branch.code)
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED
    assert "loans −67%" in run.message
    assert "67%" in run.files.get(feed="loans").message


def test_a_drop_touching_another_branch_is_refused_whole(drop: Path, cast: Cast) -> None:
    """D-09: a drop writes only its own branch's records."""
    foreign = cast.customers["other_branch"]
    loans = [drops.row("loans", customer_no=foreign.customer_no, loan_no="XLN9")]
    drops.write_csv(drop, "loans", loans)
    run = _ingest(drop)
    assert run.status == RunStatus.REJECTED
    assert run.errors.filter(code="unknown_reference").exists()
    assert not Customer.objects.filter(customer_no__startswith="C9").exists()


def test_an_existing_key_of_another_branch_is_refused_whole(drop: Path, cast: Cast) -> None:
    taken = cast.customers["other_branch"].loans.get().loan_no
    loans = [drops.row("loans", customer_no="C9000000001", loan_no=taken)]
    drops.write_csv(drop, "loans", loans)
    run = _ingest(drop)
    assert (run.status, run.errors.get().code) == (RunStatus.REJECTED, "other_branch")
    assert Loan.objects.get(loan_no=taken).customer == cast.customers["other_branch"]


def test_a_database_failure_mid_load_changes_nothing(drop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """D-01: an error after most of the drop is written leaves the tables as they were; the run FAILED."""
    from xiaodai.ingest import load

    def explode(self: object) -> dict[str, str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(load.StagedFeed, "sums_out", explode)
    run = _ingest(drop)
    assert (run.status, "disk full" in run.message) == (RunStatus.FAILED, True)
    assert not Customer.objects.filter(customer_no__startswith="C9").exists()


def test_the_cli_prints_figures_per_file_and_exits_0(drop: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("ingest", str(drop), stdout=out)
    text = out.getvalue()
    assert "loans.csv" in text
    assert "amount 300000.00 = 300000.00 ✓" in text
    assert "  6 files: 16 rows read, 16 new, 0 updated, 0 unchanged, 0 quarantined" in text


def test_the_cli_rolls_back_by_run_id(drop: Path) -> None:
    from django.core.management import call_command

    run = _ingest(drop)
    call_command("ingest", "--rollback", str(run.pk))
    run.refresh_from_db()
    assert run.status == RunStatus.ROLLED_BACK


def test_a_large_drop_validates_in_a_second_process_with_the_same_result(
    drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large drops validate in a spawned process (both cores); the outcome is the same as in-process."""
    from xiaodai.ingest import services as ingest_services

    monkeypatch.setattr(ingest_services, "PIPELINE_MIN_ROWS", 0)
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED, run.message
    figures = run.files.get(feed="credit_lines")
    assert (figures.rows_loaded, figures.sums_out) == (3, {"limit": "600000.00", "drawn": "0.00"})


def test_a_large_drop_leaves_no_spool_behind(drop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process's batches wait on disk (they hold the drop's personal data): gone after the run."""
    import os

    from xiaodai.ingest import services as ingest_services
    from xiaodai.ingest.produce import spool_folder

    monkeypatch.setattr(ingest_services, "PIPELINE_MIN_ROWS", 0)
    run = _ingest(drop)
    assert run.status == RunStatus.LOADED, run.message
    assert not spool_folder(run.pk, os.getpid()).exists()


def test_spooled_batches_read_back_in_order_and_read_segments_are_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xiaodai.ingest import produce

    monkeypatch.setattr(produce, "SPOOL_SEGMENT_BYTES", 200)
    writer = produce.Spool(tmp_path)
    batches = [("rows", [(i, "x" * 50)], [], i) for i in range(6)]
    sent = [writer.write(batch) for batch in batches]
    writer.close()
    reader = produce._SpoolReader(tmp_path)
    assert [reader.read(*message[1:]) for message in sent] == batches
    assert len({message[1] for message in sent}) > 1  # several segments
    assert [p.name for p in tmp_path.iterdir()] == [str(sent[-1][1])]  # only the one being read is left


def test_a_bad_row_found_in_the_second_process_refuses_the_drop(
    drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xiaodai.ingest import services as ingest_services

    monkeypatch.setattr(ingest_services, "PIPELINE_MIN_ROWS", 0)
    drops.write_csv(drop, "loans", [drops.row("loans", customer_no="C9000000001", balance="8,000.00")])
    run = _ingest(drop)
    assert (run.status, run.errors.get().code) == (RunStatus.REJECTED, "money_format")
