"""Publishing the signal step's results in the run's one transaction (xiaodai.signals.publish through
xiaodai.pools.publish): signals replaced, first sightings logged, alerts raised once, the run's figures
kept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from django.utils import timezone

from tests.conftest import Cast
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools.publish import publish_run
from xiaodai.signals import schema
from xiaodai.signals.models import FlowAlert, FlowRun, Signal, SignalLog
from xiaodai.signals.publish import extra

DAY = dt.date(2026, 11, 28)
EMPTY_MEMBERS = pa.table(
    {
        "customer_id": pa.array([], pa.int64()),
        "pool": pa.array([], pa.string()),
        "is_primary": pa.array([], pa.bool_()),
        "blocked": pa.array([], pa.int64()),
        "channels": pa.array([], pa.int64()),
        "potential": pa.array([], pa.int64()),
        "basis": pa.array([], pa.int64()),
        "days": pa.array([], pa.int64()),
        "on_date": pa.array([], pa.date32()),
        "detail": pa.array([], pa.string()),
        "is_new": pa.array([], pa.bool_()),
    }
)


def _figures() -> pa.Table:
    from xiaodai.pools.publish import FIGURE_DB

    return pa.table(
        {
            name: pa.array([], pa.string() if name in ("pool", "level") else pa.int64())
            for name in FIGURE_DB[1:]
        }
    )


def _signal(
    customer_id: int, kind: str = "scenario", detail: str = "renovation", amount: int = 3_000_000
) -> dict[str, Any]:
    return {
        "customer_id": customer_id, "kind": kind, "detail": detail, "first_on": DAY - dt.timedelta(days=3),
        "last_on": DAY - dt.timedelta(days=1), "txns": 2, "amount": amount, "largest": amount - 100_000,
        "basis": 250_000, "counterparty": "杭州某装饰工程有限公司", "mcc": "5211",
    }  # fmt: skip


def _alert(customer_id: int, txn: str = "T1") -> dict[str, Any]:
    return {
        "customer_id": customer_id, "kind": "securities", "txn_id": txn,
        "flow_on": DAY - dt.timedelta(days=5), "amount": 5_000_000, "counterparty": "某证券股份有限公司",
        "loan_disbursed_on": DAY - dt.timedelta(days=7),
        "loan_amount": 10_000_000, "days_after": 2,
    }  # fmt: skip


def _result(
    signals: list[dict[str, Any]], alerts: list[dict[str, Any]], events: list[dict[str, Any]] | None = None
) -> SimpleNamespace:
    quality = {name: [0] for name in schema.QUALITY.names}
    quality |= {"read": [120], "used": [110], "duplicates": [4], "foreign_currency": [3], "bad_amount": [3],
                "disbursed": [10_000_000], "closed_loop": [4_000_000], "loans": [1]}  # fmt: skip
    return SimpleNamespace(
        signals=pa.Table.from_pylist(signals, schema=schema.SIGNALS),
        alerts=pa.Table.from_pylist(alerts, schema=schema.ALERTS),
        quality=pa.table(quality, schema=schema.QUALITY),
        events=pa.Table.from_pylist(events or [], schema=schema.EVENTS),
    )


def _publish(cast: Cast, result: SimpleNamespace, day: dt.date = DAY) -> PipelineRun:
    run = PipelineRun.objects.create(
        branch=cast.branch, data_date=day, engine="duckdb", status="running", trigger="cli"
    )
    publish_run(
        run.pk, cast.branch.pk, EMPTY_MEMBERS, _figures(), only_branch=False,
        extra=extra(result, run.pk, cast.branch.pk, day, timezone.now()),
    )  # fmt: skip
    PipelineRun.objects.filter(pk=run.pk).update(status="done")
    return run


@pytest.mark.django_db
def test_signals_are_written_with_money_in_yuan(cast: Cast) -> None:
    own = cast.customers["own"]
    _publish(cast, _result([_signal(own.pk)], []))
    sig = Signal.objects.get()
    assert (sig.customer_id, sig.kind, sig.detail, sig.txns) == (own.pk, "scenario", "renovation", 2)
    assert Decimal(sig.amount) == Decimal("30000.00")
    assert Decimal(sig.basis) == Decimal("2500.00")
    assert sig.first_on == DAY - dt.timedelta(days=3)
    assert sig.is_new


@pytest.mark.django_db
def test_a_signal_seen_again_is_not_new_and_not_logged_twice(cast: Cast) -> None:
    own = cast.customers["own"]
    _publish(cast, _result([_signal(own.pk)], []))
    _publish(
        cast, _result([_signal(own.pk), _signal(own.pk, "other_lender", "")], []), DAY + dt.timedelta(days=1)
    )
    by_kind = {s.kind: s.is_new for s in Signal.objects.all()}
    assert by_kind == {"scenario": False, "other_lender": True}
    assert SignalLog.objects.filter(kind="scenario").count() == 1
    assert SignalLog.objects.filter(kind="other_lender").get().seen_on == DAY + dt.timedelta(days=1)


@pytest.mark.django_db
def test_a_signal_gone_leaves_the_list_and_stays_in_the_log(cast: Cast) -> None:
    own = cast.customers["own"]
    _publish(cast, _result([_signal(own.pk)], []))
    _publish(cast, _result([], []), DAY + dt.timedelta(days=1))
    assert not Signal.objects.exists()
    assert SignalLog.objects.count() == 1


@pytest.mark.django_db
def test_another_branchs_signals_stay(cast: Cast) -> None:
    other = cast.customers["other_branch"]
    run_b = PipelineRun.objects.create(
        branch=cast.branch_b, data_date=DAY, engine="duckdb", status="done", trigger="cli"
    )
    Signal.objects.create(
        run=run_b, customer=other, kind="scenario", detail="car", first_on=DAY, last_on=DAY, txns=1,
        amount=Decimal("1"), largest=Decimal("1"),
    )  # fmt: skip
    _publish(cast, _result([], []))
    assert Signal.objects.filter(customer=other).exists()


@pytest.mark.django_db
def test_an_alert_is_raised_once_per_transaction_and_its_review_stays(cast: Cast) -> None:
    own = cast.customers["own"]
    _publish(cast, _result([], [_alert(own.pk)]))
    FlowAlert.objects.update(status="escalated", note="已核实")
    second = _publish(cast, _result([], [_alert(own.pk), _alert(own.pk, "T2")]), DAY + dt.timedelta(days=1))
    assert FlowAlert.objects.count() == 2
    assert FlowAlert.objects.get(txn_id="T1").status == "escalated"
    assert FlowRun.objects.get(run=second).alerts == 1


@pytest.mark.django_db
def test_the_runs_figures_are_kept(cast: Cast) -> None:
    run = _publish(cast, _result([_signal(cast.customers["own"].pk)], []))
    flow = FlowRun.objects.get(run=run)
    assert (flow.read, flow.used, flow.duplicates, flow.foreign_currency, flow.bad_amount) == (
        120,
        110,
        4,
        3,
        3,
    )
    assert flow.signals == 1
    assert flow.loans == 1
    assert flow.closed_loop_rate == pytest.approx(0.4)


def _event(
    customer_id: int, on: dt.date, kind: str = "scenario", detail: str = "renovation"
) -> dict[str, Any]:
    return {"customer_id": customer_id, "kind": kind, "detail": detail, "on_date": on, "amount": 1_000_000}


@pytest.mark.django_db
def test_the_first_run_rebuilds_the_history_from_the_events(cast: Cast) -> None:
    own, team = cast.customers["own"], cast.customers["team"]
    events = [
        _event(own.pk, dt.date(2026, 6, 3)),
        _event(own.pk, dt.date(2026, 11, 20)),
        _event(team.pk, dt.date(2026, 8, 9), "provident_fund", ""),
    ]
    _publish(cast, _result([_signal(own.pk)], [], events))
    log = {(row.customer_id, row.kind): row for row in SignalLog.objects.all()}
    assert set(log) == {(own.pk, "scenario"), (team.pk, "provident_fund")}
    assert log[(own.pk, "scenario")].seen_on == dt.date(2026, 6, 3)
    assert Decimal(log[(own.pk, "scenario")].amount) == Decimal("20000.00")
    assert Signal.objects.get().is_new


@pytest.mark.django_db
def test_a_later_run_does_not_rebuild_the_history(cast: Cast) -> None:
    own = cast.customers["own"]
    _publish(cast, _result([_signal(own.pk)], [], [_event(own.pk, dt.date(2026, 6, 3))]))
    later = [_event(own.pk, dt.date(2026, 6, 3)), _event(own.pk, dt.date(2026, 7, 1), "other_lender", "")]
    _publish(cast, _result([_signal(own.pk)], [], later), DAY + dt.timedelta(days=1))
    assert SignalLog.objects.count() == 1


@pytest.mark.django_db
def test_a_long_counterparty_name_is_cut_to_fit(cast: Cast) -> None:
    long = {**_signal(cast.customers["own"].pk), "counterparty": "某" * 150}
    _publish(cast, _result([long], [{**_alert(cast.customers["own"].pk), "counterparty": "证" * 150}]))
    assert Signal.objects.get().counterparty == "某" * 100
    assert FlowAlert.objects.get().counterparty == "证" * 100
