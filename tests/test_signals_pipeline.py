"""Capital flow end to end: a drop with transactions loaded, the pipeline run, signals and alerts published,
the call screen showing the signal and picking its scenario's script."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests import drops
from tests.conftest import Cast
from tests.test_pipeline import _run, lake, pool_drop  # noqa: F401 (lake: the autouse fixture)
from xiaodai.customers.models import Customer
from xiaodai.ingest import services as ingest
from xiaodai.ingest.choices import Trigger
from xiaodai.outreach import selectors
from xiaodai.outreach.script_seed import seed_scripts
from xiaodai.pipeline.choices import RunStatus
from xiaodai.signals.models import FlowAlert, FlowRun, Signal, SignalLog

RENOVATOR, BORROWER = "C9000000001", "C9000000003"


def _txn(n: int, customer: str, day: str, amount: str, **cells: str) -> dict[str, str]:
    out = "-" in amount
    values = {
        "txn_id": f"T{n:09d}", "customer_no": customer, "booked_at": f"{day} 12:00:00", "amount": amount,
        "direction": "out" if out else "in", "mcc": "", "counterparty_name": "", "counterparty_bank": "",
        "memo": "", "currency": "",
    }  # fmt: skip
    values.update(cells)
    return drops.row("transactions", **values)


def _transactions() -> list[dict[str, str]]:
    rows = [  # the renovator's usual payments: a couple of hundred yuan at the supermarket
        _txn(
            n,
            RENOVATOR,
            f"2026-{8 + n % 3:02d}-{10 + n:02d}",
            "-200.00",
            mcc="5411",
            counterparty_name="超市",
        )
        for n in range(1, 9)
    ]
    rows.append(
        _txn(20, RENOVATOR, "2026-11-20", "-30000.00", mcc="5211", counterparty_name="杭州某建材有限公司")
    )
    # loan money to a securities account two days after the disbursement
    rows.append(_txn(30, BORROWER, "2026-11-20", "100000.00", memo="贷款发放", counterparty_bank="本行"))
    rows.append(
        _txn(31, BORROWER, "2026-11-22", "-50000.00", counterparty_name="某证券股份有限公司", memo="银证转账")
    )
    rows.append(_txn(40, BORROWER, "2026-11-23", "-10.00", currency="USD", mcc="4722"))  # counted, not summed
    return rows


@pytest.fixture
def flowed(tmp_path: Path, cast: Cast) -> Path:
    folder = pool_drop(tmp_path / "20261128", cast.branch.code)
    loans = [
        drops.row("loans", customer_no=c, loan_no=f"XLN{i:09d}", disbursed_on=day, matures_on="2029-11-20")
        for i, (c, day) in enumerate(
            [("C9000000001", "2026-01-10"), ("C9000000002", "2026-01-10"), (BORROWER, "2026-11-20")]
        )
    ]
    drops.write_csv(folder, "loans", loans)
    drops.write_csv(folder, "transactions", _transactions())
    run = ingest.run_ingest(folder, trigger=Trigger.CLI)
    assert run.status == "loaded", run.message
    return folder


def test_a_large_scenario_payment_becomes_a_signal(flowed: Path) -> None:
    run = _run()
    assert run.status == RunStatus.DONE, run.message
    signal = Signal.objects.get(customer__customer_no=RENOVATOR)
    assert (signal.kind, signal.detail, signal.mcc) == ("scenario", "renovation", "5211")
    assert signal.is_new
    assert SignalLog.objects.filter(customer__customer_no=RENOVATOR).count() == 1


def test_loan_money_to_a_securities_account_raises_an_alert(flowed: Path) -> None:
    _run()
    alert = FlowAlert.objects.get()
    assert (alert.customer.customer_no, alert.kind, alert.days_after) == (BORROWER, "securities", 2)
    assert alert.status == "open"


def test_the_run_counts_what_it_could_not_use(flowed: Path) -> None:
    run = _run()
    flow = FlowRun.objects.get(run=run)
    assert flow.read == len(_transactions())
    assert flow.foreign_currency == 1
    assert flow.used == flow.read - 1


def test_the_call_screen_shows_the_signal_and_picks_the_scenario_script(flowed: Path, cast: Cast) -> None:
    _run()
    seed_scripts(cast.branch, author=cast.staff["lead"], approver=cast.staff["head"])
    customer = Customer.objects.get(customer_no=RENOVATOR)
    card = selectors.card(customer, "phone", dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC))
    assert [s.kind for s, _reason, _action in card.signals] == ["scenario"]
    assert card.scenario == "renovation"
    assert card.script is not None
    assert card.script.script.scenario == "renovation"


def test_a_second_run_does_not_raise_the_alert_again(flowed: Path) -> None:
    _run()
    _run()
    assert FlowAlert.objects.count() == 1
    assert SignalLog.objects.count() == Signal.objects.count()


def test_the_snapshot_reads_only_the_window(flowed: Path, cast: Cast, tmp_path: Path) -> None:
    import duckdb

    from xiaodai.pipeline import snapshot

    files = snapshot.take(
        0,
        cast.branch.pk,
        dt.date(2026, 11, 28),
        lake_days=30,
        progress=lambda *_: None,
        folder=tmp_path / "snap",
        transaction_days=30,
    )
    with duckdb.connect() as con:  # its own connection: the module's default one is shared by other tests
        days = con.execute(
            "SELECT min(booked_on), count(*) FROM read_parquet(?)", [str(files["transactions"])]
        ).fetchall()
    assert days == [(dt.date(2026, 11, 20), 4)]
