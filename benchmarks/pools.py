"""Benchmark of the pool step (issue 4): end to end, and against a hand-written DuckDB SQL baseline.

    .venv/bin/python benchmarks/pools.py --customers 1000000 --runs 3
    .venv/bin/python benchmarks/pools.py --customers 50000 --runs 5 --pages 200

Data: the demo branch (`xiaodai demo --customers N --seed 1 --as-of 2026-11-28`, which loads its drop through
the importer and runs the pipeline once), built once into /tmp/xiaodai-bench/pools-<N>/ (not timed). Then, in
this process, for each run:

* end to end: `run_pipeline(engine="duckdb")`: check, snapshot (app database -> Parquet), pools (ibis on
  DuckDB), publish (members and figures into the app database in one transaction); the time of each step;
* same data, interleaved: one snapshot, then the pool computation by the product (`pools.compute`, ibis on
  DuckDB, members and figures into Arrow) and by the baseline (benchmarks/pools_baseline.sql, the same pools
  written by hand for DuckDB, members and figures into Arrow), each on a fresh DuckDB connection. The first
  run checks that both give identical members and figures.
* with --pages N: the inventory page and a pool's drill-down page requested N times each by a branch head
  (Django's test client in this process: no network, no server), p50 and p95.

Medians with min–max are printed, and the machine. The figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path("/tmp/xiaodai-bench")  # noqa: S108 (a cache of generated data, like ingest_load.py)
AS_OF = "2026-11-28"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=0, help="requests per page for the page timings")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on PostgreSQL (database xiaodai_bench_pools_<N> on 127.0.0.1, created and filled once)",
    )
    args = parser.parse_args()
    var = BENCH / (f"pools-pg-{args.customers}" if args.postgres else f"pools-{args.customers}")
    if args.postgres:
        os.environ["XIAODAI_DATABASE_URL"] = _postgres_database(args.customers)
    _prepare(var, args.customers, args.postgres)
    os.environ["XIAODAI_VAR_DIR"] = str(var)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    _machine()
    _bench(args.runs)
    if args.pages:
        _pages(args.pages)


def _postgres_database(customers: int) -> str:
    """The benchmark's own database (never `test`): created on first use, kept for the next run."""
    import psycopg

    name = f"xiaodai_bench_pools_{customers}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            con.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _prepare(var: Path, customers: int, postgres: bool) -> None:
    if (var / ("ready" if postgres else "xiaodai.sqlite3")).exists():
        return
    var.mkdir(parents=True, exist_ok=True)
    print(f"building the demo branch with {customers:,} customers into {var} (not timed) ...", flush=True)
    env = {**os.environ, "XIAODAI_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [sys.executable, "-m", "xiaodai.cli", "demo", "--customers", str(customers), "--seed", "1"]
    subprocess.run([*command, "--as-of", AS_OF], check=True, cwd=ROOT, env=env)  # noqa: S603
    if postgres:
        (var / "ready").touch()


def _machine() -> None:
    import duckdb
    import ibis
    from django.db import connection

    from xiaodai.customers.models import Customer
    from xiaodai.pools.models import PoolMember

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)  # noqa: S607
    print(f"date      {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"commit    {commit.stdout.strip()}")
    print(f"machine   {os.cpu_count()} cores, {cpu}")
    print(
        f"software  Python {platform.python_version()}, DuckDB {duckdb.__version__}, ibis {ibis.__version__}"
    )
    print(
        f"database  {connection.vendor}: {Customer.objects.count():,} customers, "
        f"{PoolMember.objects.count():,} pool memberships before the runs"
    )


def _stats(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"median {statistics.median(values):7.2f} s  (min {low:.2f}, max {high:.2f}, n={len(values)})"


def _bench(runs: int) -> None:
    from xiaodai.pipeline import snapshot
    from xiaodai.pipeline.choices import Trigger
    from xiaodai.pipeline.engines import connect
    from xiaodai.pipeline.services import latest_data_date, run_pipeline
    from xiaodai.pools import services as pools
    from xiaodai.pools.compute import compute

    steps: dict[str, list[float]] = {}
    totals: list[float] = []
    product: list[float] = []
    baseline: list[float] = []
    for n in range(runs):
        started = time.perf_counter()
        run = run_pipeline(trigger=Trigger.CLI, engine="duckdb")
        totals.append(time.perf_counter() - started)
        assert run.status == "done", run.message
        for step in run.steps.all():
            steps.setdefault(step.name, []).append(step.seconds or 0.0)
        print(
            f"run {n + 1}: end to end {totals[-1]:.2f} s, "
            + ", ".join(f"{s.name} {s.seconds or 0:.2f} s" for s in run.steps.all())
            + f"; {run.message}",
            flush=True,
        )

        day = latest_data_date()
        assert day is not None
        config = pools.current_config()
        files = snapshot.take(
            900_000 + n, run.branch_id, day, lake_days=pools.lake_days(config), progress=lambda *_: None
        )
        try:
            order = [("baseline", "product"), ("product", "baseline")][n % 2]  # interleave the order
            results: dict[str, Any] = {}
            for which in order:
                began = time.perf_counter()
                if which == "product":
                    with connect("duckdb") as con:
                        results[which] = compute(con, files, day, config, prefix=f"b{n}")
                    product.append(time.perf_counter() - began)
                else:
                    results[which] = _baseline(files["customers"].parent, day, config)
                    baseline.append(time.perf_counter() - began)
            print(
                f"       same snapshot: product {product[-1]:.2f} s, baseline {baseline[-1]:.2f} s",
                flush=True,
            )
            if n == 0:
                _same(results["product"], results["baseline"])
        finally:
            snapshot.discard(900_000 + n)

    print()
    print(f"end to end (check + snapshot + pools + publish): {_stats(totals)}")
    for name, values in steps.items():
        print(f"  {name:<9} {_stats(values)}")
    print(f"pool computation, product (ibis on DuckDB):        {_stats(product)}")
    print(f"pool computation, baseline (hand-written DuckDB):  {_stats(baseline)}")
    ratio = statistics.median(product) / statistics.median(baseline)
    print(f"product / baseline (medians): {ratio:.2f}x")


def _baseline(folder: Path, day: dt.date, config: Any) -> tuple[Any, Any]:
    import duckdb

    from xiaodai.pools.steps import _SUMMED, FUNNEL, _months_before, _scaled, _years_before

    r, g = config.rules, config.rules["general"]
    measures = ", ".join(
        [
            "SUM(present)::BIGINT AS customers",
            'SUM(gone)::BIGINT AS "left"',
            *[f'SUM("{k}")::BIGINT AS "{k}"' for k in (*_SUMMED, *FUNNEL)],
        ]
    )
    priority_case = (
        "CASE p.pool "
        + " ".join(f"WHEN '{code}' THEN {rank}" for code, rank in config.priorities.items())
        + " ELSE 9999 END"
    )
    values = {
        "dir": str(folder),
        "day": day.isoformat(),
        "au_min_limit": r["approved_undrawn"]["min_limit"],
        "au_max_util": _scaled(r["approved_undrawn"]["max_utilisation"]),
        "au_min_idle": r["approved_undrawn"]["min_idle_days"],
        "ua_since": (day - dt.timedelta(days=r["unfinished_application"]["look_back_days"])).isoformat(),
        "ua_min_stalled": r["unfinished_application"]["min_stalled_days"],
        "cb_renewal": r["current_borrower"]["renewal_days"],
        "cb_repaid": _scaled(r["current_borrower"]["min_repaid_share"]),
        "gp_since": (day - dt.timedelta(days=r["good_past_borrower"]["look_back_days"])).isoformat(),
        "ps_multiple": r["payroll_staff"]["salary_multiple"],
        "ps_cap": r["payroll_staff"]["max_amount"],
        "ps_recent": r["payroll_staff"]["recent_days"],
        "ps_min": r["payroll_staff"]["min_monthly"],
        "mh_multiple": r["mortgage_holder"]["income_multiple"],
        "mh_cap": r["mortgage_holder"]["max_amount"],
        "mh_before": _months_before(day, r["mortgage_holder"]["min_months_on_book"]).isoformat(),
        "pc_multiple": r["premium_card"]["income_multiple"],
        "pc_cap": r["premium_card"]["max_amount"],
        "pc_min_limit": r["premium_card"]["min_card_limit"],
        "pc_max_usage": _scaled(r["premium_card"]["max_usage"]),
        "pd_multiple": r["premium_deposit"]["income_multiple"],
        "pd_cap": r["premium_deposit"]["max_amount"],
        "pd_min_aum": r["premium_deposit"]["min_aum"],
        "sc_multiple": r["scenario_channel"]["income_multiple"],
        "sc_cap": r["scenario_channel"]["max_amount"],
        "sc_since": (day - dt.timedelta(days=r["scenario_channel"]["look_back_days"])).isoformat(),
        "young": _years_before(day, g["min_age"]).isoformat(),
        "old": _years_before(day, g["max_age"] + 1).isoformat(),
        "funnel_since": (day - dt.timedelta(days=g["funnel_days"])).isoformat(),
        "coverage_since": (day - dt.timedelta(days=g["coverage_days"])).isoformat(),
        "priority_case": priority_case,
        "measures": measures,
    }
    script = (Path(__file__).parent / "pools_baseline.sql").read_text(encoding="utf-8")
    for key, value in values.items():
        script = script.replace("{" + key + "}", str(value))
    con = duckdb.connect()
    try:
        con.execute(script)
        members = con.sql("SELECT * FROM members").to_arrow_table()
        figures = con.sql("SELECT * FROM figures").to_arrow_table()
    finally:
        con.close()
    return members, figures


def _same(product: tuple[Any, Any], baseline: tuple[Any, Any]) -> None:
    def rows(table: Any) -> list[tuple[Any, ...]]:
        names = sorted(table.column_names)
        return sorted(
            (
                tuple((v is None, v if v is not None else 0) for v in (row[n] for n in names))
                for row in table.to_pylist()
            ),
        )

    for label, mine, theirs in (("members", product[0], baseline[0]), ("figures", product[1], baseline[1])):
        assert sorted(mine.column_names) == sorted(theirs.column_names), (label, mine.schema, theirs.schema)
        a, b = rows(mine), rows(theirs)
        assert len(a) == len(b), (label, len(a), len(b))
        assert a == b, f"{label} differ"
        print(f"       checked: product and baseline give identical {label} ({len(a):,} rows)", flush=True)


def _pages(count: int) -> None:
    from django.test import Client
    from django.test.utils import setup_test_environment

    from xiaodai.core.roles import Role
    from xiaodai.org.models import Staff
    from xiaodai.pools.models import PoolMember

    setup_test_environment()
    head = Staff.objects.filter(role=Role.BRANCH_HEAD).select_related("user").first()
    assert head is not None
    client = Client(HTTP_HOST="localhost")
    client.force_login(head.user)
    pool = PoolMember.objects.values_list("pool", flat=True).first()
    for label, url in (("inventory", "/pools/"), ("drill-down", f"/pools/{pool}/")):
        timings = []
        for _ in range(count):
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        timings.sort()
        p95 = timings[int(0.95 * (len(timings) - 1))]
        print(
            f"page {label:<10} {url:<32} p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  "
            f"max {timings[-1]:6.1f} ms  (n={count})"
        )


if __name__ == "__main__":
    main()
