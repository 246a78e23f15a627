"""The same pools on DuckDB and on Spark (local mode) give identical members and figures (DESIGN: one
portable batch layer). A seeded random snapshot exercises every rule, tie and NULL path."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from xiaodai.pipeline.engines import connect, spark_problem
from xiaodai.pools.compute import compute
from xiaodai.pools.tests import inputs as i
from xiaodai.pools.tests.inputs import DAY

pytestmark = pytest.mark.skipif(bool(spark_problem()), reason=spark_problem() or "spark available")


def _day(r: random.Random, back: int, ahead: int = 0) -> dt.date:
    return DAY + dt.timedelta(days=r.randint(-back, ahead))


def snapshot(n: int = 300, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    r = random.Random(seed)
    t: dict[str, list[dict[str, Any]]] = {k: [] for k in i.SCHEMAS}
    for cid in range(1, n + 1):
        owner = r.choice([None, 1000, 1001, 1002])
        t["customers"].append(
            i.customer(
                cid,
                sub_branch_id=r.choice([10, 11]),
                owner_id=owner,
                team_id=None if owner is None else 100 + owner % 2,
                birth_date=_day(r, 80 * 365, -16 * 365),
                is_vulnerable=r.random() < 0.05,
                aum=r.choice([0, 5_000_000, 25_000_000, 80_000_000]),
                monthly_income=r.choice([0, 800_000, 2_500_000]),
            )
        )
        for channel in r.sample(["phone", "sms", "visit", "wechat"], r.randint(0, 3)):
            t["consents"].append(
                i.consent(
                    cid,
                    channel,
                    consent_id=len(t["consents"]) + 1,
                    granted=r.random() < 0.85,
                    recorded_at=dt.datetime(2026, r.randint(1, 11), r.randint(1, 28), 10, 0),
                    expires_on=r.choice([None, _day(r, 30, 300)]),
                )
            )
        if r.random() < 0.05:
            t["opt_outs"].append({"customer_id": cid, "channel": r.choice(["", "phone", "sms"])})
        if r.random() < 0.4:
            limit = r.choice([1_000_000, 5_000_000, 20_000_000])
            t["credit_lines"].append(
                {
                    "customer_id": cid,
                    "limit": limit,
                    "drawn": r.choice([0, 0, limit // 20, limit // 2]),
                    "approved_on": _day(r, 700),
                    "expires_on": _day(r, 30, 700),
                    "last_drawn_on": r.choice([None, _day(r, 200)]),
                    "status": r.choice(["active", "active", "frozen"]),
                }
            )
        for _ in range(r.choice([0, 0, 1, 2])):
            amount = r.choice([3_000_000, 10_000_000, 100_000_000])
            t["loans"].append(
                {
                    "customer_id": cid,
                    "kind": r.choice(["consumer", "consumer", "mortgage", "business"]),
                    "amount": amount,
                    "balance": r.choice([0, amount // 3, amount]),
                    "status": r.choice(["normal", "normal", "settled", "overdue"]),
                    "overdue_days": r.choice([0, 0, 0, 15]),
                    "disbursed_on": _day(r, 3000),
                    "matures_on": _day(r, 800, 800),
                }
            )
        if r.random() < 0.3:
            lim = r.choice([1_000_000, 5_000_000, 10_000_000])
            t["cards"].append(
                {
                    "customer_id": cid,
                    "tier": r.choice(["standard", "gold", "platinum"]),
                    "limit": lim,
                    "used": r.randint(0, lim),
                    "delinquent_cycles": r.choice([0, 0, 0, 1]),
                }
            )
        if r.random() < 0.15:
            t["applications"].append(
                {
                    "customer_id": cid,
                    "amount": r.choice([2_000_000, 5_000_000]),
                    "stage": r.choice(["started", "identity", "income", "approved", "rejected"]),
                    "status": r.choice(["in_progress", "abandoned", "completed", "declined"]),
                    "started_on": _day(r, 150),
                    "last_step_on": _day(r, 20),
                }
            )
        if r.random() < 0.2:
            t["payroll"].append(
                {
                    "customer_id": cid,
                    "monthly_amount": r.choice([400_000, 900_000, 3_000_000]),
                    "last_paid_on": _day(r, 90),
                    "partner": r.random() < 0.7,
                }
            )
        for _ in range(r.choice([0, 0, 1, 3])):
            outcome = r.choice(["no_answer", "busy", "refused", "not_now", "interested", "applied"])
            t["contacts"].append({"customer_id": cid, "contacted_on": _day(r, 120), "outcome": outcome})
        if r.random() < 0.05:
            t["leads"].append(
                {
                    "customer_id": cid,
                    "scenario": r.choice(["renovation", "car"]),
                    "consented_on": _day(r, 120),
                }
            )
        if r.random() < 0.3:
            t["previous"].append({"customer_id": cid, "pool": r.choice(["approved_undrawn", "premium_card"])})
    return t


def _sorted(table: pa.Table) -> list[dict[str, Any]]:
    keys = [
        name
        for name in table.column_names
        if name in ("pool", "level", "customer_id", "branch_id", "sub_branch_id", "team_id", "owner_id")
    ]
    rows = table.to_pylist()
    return sorted(rows, key=lambda row: tuple((row[k] is None, row[k] or 0) for k in keys))


def test_duckdb_and_spark_give_identical_pools(tmp_path: Path) -> None:
    files = i.write(tmp_path / "in", **snapshot())
    results = {}
    for engine in ("duckdb", "spark"):
        with connect(engine) as con:
            members, figures = compute(con, files, DAY, i.config(), prefix=f"parity_{engine}")
        results[engine] = (_sorted(members), _sorted(figures))
    duck, spark = results["duckdb"], results["spark"]
    assert len(duck[0]) > 100, "the snapshot should fill the pools"
    assert {m["pool"] for m in duck[0]} == set(i.config().priorities)
    assert duck[0] == spark[0]
    assert duck[1] == spark[1]
