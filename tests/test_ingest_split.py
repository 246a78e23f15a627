"""A large drop's customers and deposits validated by two processes, chunk by chunk: the load must come out
exactly as if one process had validated them (rows, sums, problems in line order)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests import drops
from tests.conftest import Cast
from xiaodai.customers.models import Customer
from xiaodai.ingest import produce as produce_module
from xiaodai.ingest import services
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.produce import Message, _interleave, combine_ends, produce
from xiaodai.ingest.worker import Job

pytestmark = pytest.mark.django_db


def _drop(folder: Path, branch_code: str, people: list[dict[str, str]]) -> Path:
    drops.write_manifest(folder, source="core-dw", data_date="2026-11-28", branch_code=branch_code)
    drops.write_csv(folder, "sub_branches", [drops.row("sub_branches")])
    drops.write_csv(folder, "customers", people)
    drops.write_csv(
        folder,
        "deposits",
        drops.deposits(
            ("C9000000001", "DP1", "1000.10"),
            ("C9000000001", "DP2", "200.05"),
            ("C9000000004", "DP3", "30.00"),
        ),
    )
    return folder


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """Every drop pipelined, one record per chunk: each file's chunks alternate between the two processes.
    The jobs the validating processes were started with."""
    monkeypatch.setattr(services, "PIPELINE_MIN_ROWS", 0)
    monkeypatch.setattr(services, "BATCH", 1)
    started: list[Job] = []
    start = produce_module._Worker.__init__

    def spy(self: Any, context: Any, job: Job, folder: Path) -> None:
        started.append(job)
        start(self, context, job, folder)

    monkeypatch.setattr(produce_module._Worker, "__init__", spy)
    return started


def test_two_processes_load_the_customers_and_deposits_whole(
    shared: list[Job], tmp_path: Path, cast: Cast
) -> None:
    folder = _drop(tmp_path / "20261128", cast.branch.code, drops.customers(4))
    run = services.run_ingest(folder, trigger=Trigger.CLI)
    assert [(job.part, job.parts, sorted(job.split)) for job in shared] == [
        (0, 2, ["customers", "deposits"]),
        (1, 2, ["customers", "deposits"]),
    ]
    assert run.status == RunStatus.LOADED, list(run.errors.values_list("line", "code"))
    aum = dict(Customer.objects.filter(customer_no__startswith="C9").values_list("customer_no", "aum"))
    assert aum == {
        "C9000000001": Decimal("1200.15"),
        "C9000000002": Decimal("0.00"),
        "C9000000003": Decimal("0.00"),
        "C9000000004": Decimal("30.00"),
    }
    deposits = run.files.get(feed="deposits")
    assert (deposits.rows_read, deposits.rows_loaded) == (3, 3)
    assert deposits.sums_in == deposits.sums_out == {"balance": "1230.15"}


def test_bad_rows_found_by_both_processes_are_reported_in_line_order(
    shared: list[Job], tmp_path: Path, cast: Cast
) -> None:
    services.set_feed_mode("customers", "quarantine", by=cast.staff["ops"])
    people = drops.customers(4)
    for i in (1, 2):  # lines 3 and 4: one in each process's chunks
        good = people[i]["id_number"]
        people[i]["id_number"] = good[:-1] + ("1" if good[-1] != "1" else "2")
    folder = _drop(tmp_path / "20261128", cast.branch.code, people)
    run = services.run_ingest(folder, trigger=Trigger.CLI)
    customers = run.files.get(feed="customers")
    assert (customers.rows_read, customers.rows_loaded, customers.rows_rejected) == (4, 2, 2)
    errors = list(run.errors.order_by("pk").values_list("line", "code"))
    assert errors == [(3, "id_checksum"), (4, "id_checksum")]


# --- the two halves, in this process ----------------------------------------------------------------------


def _job(folder: Path, *, part: int = 0, parts: int = 1, batch: int = 2) -> Job:
    return Job(
        files=(("customers", str(folder / "customers.csv")),),
        encoding=None,
        data_date=date(2026, 11, 28),
        run_id=1,
        branch_id=1,
        quarantine=frozenset({"customers"}),
        batch=batch,
        split=frozenset({"customers"}) if parts > 1 else frozenset(),
        part=part,
        parts=parts,
    )


def _lines(messages: list[Message]) -> list[int]:
    return [row[0] for m in messages if m[0] == "rows" for row in m[1]]


def test_shared_chunks_cover_every_row_once_in_line_order(tmp_path: Path) -> None:
    people = drops.customers(7)
    people[4]["id_number"] = "not a number"  # line 6
    drops.write_csv(tmp_path, "customers", people)
    alone = list(produce(_job(tmp_path)))
    shared = list(_interleave([produce(_job(tmp_path, part=p, parts=2)) for p in (0, 1)]))
    assert _lines(shared) == _lines(alone) == [2, 3, 4, 5, 7, 8]
    problems = [p.line for m in shared if m[0] == "rows" for p in m[2]]
    assert problems == [6]
    assert shared[-1] == alone[-1] == ("end", 7, 1, {}, "utf-8")


def test_a_second_process_skips_the_files_it_does_not_share(tmp_path: Path) -> None:
    drops.write_csv(tmp_path, "customers", drops.customers(3))
    drops.write_csv(tmp_path, "deposits", drops.deposits(("C9000000001", "DP1", "1.00")))
    job = _job(tmp_path, part=1, parts=2)
    job = replace(job, files=(*job.files, ("deposits", str(tmp_path / "deposits.csv"))))
    started = [m[1] for m in produce(job) if m[0] == "file"]
    assert started == ["customers"]


def test_each_process_sums_its_chunks_and_the_ends_add_up() -> None:
    ends: list[Message] = [
        ("end", 10, 1, {"balance": "100.10"}, "gb18030"),
        ("end", 10, 2, {"balance": "0.05"}, "gb18030"),
    ]
    assert combine_ends(ends) == ("end", 10, 3, {"balance": "100.15"}, "gb18030")


def test_a_file_broken_for_one_process_is_broken_for_the_load() -> None:
    problem: Message = ("problem", "truncated", "the file ends mid-record", 9, 8)
    assert combine_ends([("end", 8, 0, {}, "utf-8"), problem]) == problem


def test_a_refused_header_closes_the_file_once() -> None:
    refused: Message = ("refused", "columns", "", "missing columns: tags", "utf-8")
    assert combine_ends([refused, refused]) == refused
