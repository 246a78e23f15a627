"""Benchmark: a transactions CSV into the lake (Parquet by month), validated, against a raw DuckDB COPY.

    .venv/bin/python benchmarks/transactions_to_parquet.py --rows 20000000 --runs 3
    .venv/bin/python benchmarks/transactions_to_parquet.py --rows 1000000 --runs 5 --keep   # keep the CSV
    .venv/bin/python benchmarks/transactions_to_parquet.py --csv /tmp/.../transactions.csv   # reuse it

What it measures (docs/benchmarks.md has the figures and how to read them):

* the data: N believable transactions written as CSV by DuckDB itself (range() and hash() columns: customers
  and their accounts, times over the 12 months before the data date, signed amounts with two decimals,
  in/out, channel, MCC 5411/5812/5211/5712/5511/8220/8062/4511 with matching merchants and memos, Chinese
  text); not timed;
* lake writer: `stage_lake_feed(..., quarantine=False)` and `publish_batch(...)` timed together: header check,
  every cell validated against the data contract, typed Parquet partitioned by month, duplicate-key check,
  sums, the move into the lake;
* baseline "raw": DuckDB's `COPY (SELECT *, strftime(booked_at, '%Y-%m') AS month FROM read_csv(...)) TO ...
  (FORMAT parquet, PARTITION_BY (month))` with its auto-detected types and nothing checked, under the same
  limits (threads=2, memory_limit 1 GB); and "raw, same settings", the same COPY with the writer's
  Parquet and partitioning settings, to separate the cost of validating from the cost of the settings.

Every timed run is a child process (this script with --child), so each reports its own peak memory
(os.wait4's ru_maxrss) and CPU time. The parent also samples /proc/stat to say how much CPU other processes
took during each run: on a shared 2-core machine that, not this code, is what makes runs noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DATE = date(2026, 11, 28)
BATCH = 1
RESULT = "RESULT "
VARIANTS = ("writer", "raw", "raw_tuned")
LABELS = {
    "writer": "lake writer (validate + stage + publish)",
    "raw": "raw DuckDB COPY, DuckDB defaults",
    "raw_tuned": "raw DuckDB COPY, the writer's settings",
}
BYTES_PER_ROW = 140  # CSV; the Parquet is about a fifth of it


# --- the data ---------------------------------------------------------------------------------------------


def _list(*values: str) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


MCCS = _list("5411", "5812", "5211", "5712", "5511", "8220", "8062", "4511")
MERCHANTS = _list(
    "联华超市", "外婆家餐厅", "东方装饰建材", "顾家家居", "某汽车4S店", "某培训学校", "某某医院", "东方航空"
)
MEMOS = _list("日用品", "餐饮", "装修款", "家具", "购车定金", "学费", "医疗费", "机票")
PAYERS = _list("杭州某科技有限公司", "某某公司代发工资", "个人转账", "理财到期赎回")
INCOME = _list("工资", "转账", "理财赎回", "还款")
BANKS = _list("本行", "工商银行", "建设银行", "农业银行", "中国银行")


def generate(path: Path, rows: int) -> None:
    """N transactions as CSV, written by DuckDB from range(): deterministic, about 135 bytes a row. A quarter
    is money in (100 to 20,100 yuan), the rest money out (1 to 5,001 yuan) at POS, online or the ATM."""
    import duckdb

    end = f"TIMESTAMP '{DATA_DATE.isoformat()} 23:59:59'"
    con = duckdb.connect()
    con.execute("SET threads=2; SET memory_limit='1GB'")
    con.execute(f"""
        COPY (
            WITH r AS (
                SELECT i, (hash(i, 'customer') % 2000000)::BIGINT AS cust,
                       (hash(i, 'time') % 31536000)::BIGINT AS secs,
                       (hash(i, 'amount') % 2000000)::BIGINT AS cents,
                       (hash(i, 'kind') % 100)::BIGINT AS kind,
                       (hash(i, 'mcc') % 8)::BIGINT + 1 AS m,
                       (hash(i, 'party') % 1000000000000)::BIGINT AS party
                FROM range({int(rows)}) t(i)
            )
            SELECT
                'T' || lpad(i::VARCHAR, 15, '0') AS txn_id,
                'C57' || lpad(cust::VARCHAR, 8, '0') AS customer_no,
                'DP' || lpad((cust * 2 + cents % 2)::VARCHAR, 10, '0') AS account_no,
                strftime({end} - to_seconds(secs), '%Y-%m-%d %H:%M:%S') AS booked_at,
                CASE WHEN kind < 25 THEN (cents / 100 + 100)::DECIMAL(16,2)
                     ELSE -((cents % 500000) / 100 + 1)::DECIMAL(16,2) END::VARCHAR AS amount,
                CASE WHEN kind < 25 THEN 'in' ELSE 'out' END AS direction,
                CASE WHEN kind < 25 THEN 'transfer' WHEN kind < 70 THEN 'pos' WHEN kind < 90 THEN 'online'
                     ELSE 'atm' END AS channel,
                CASE WHEN kind BETWEEN 25 AND 89 THEN {MCCS}[m] END AS mcc,
                CASE WHEN kind < 25 THEN {PAYERS}[cents % 4 + 1] WHEN kind < 90 THEN {MERCHANTS}[m]
                     END AS counterparty_name,
                CASE WHEN kind < 90 THEN '6222' || lpad(party::VARCHAR, 12, '0') END AS counterparty_account,
                CASE WHEN kind < 90 THEN {BANKS}[party % 5 + 1] END AS counterparty_bank,
                CASE WHEN kind < 25 THEN {INCOME}[cust % 4 + 1] WHEN kind >= 90 THEN '取现' ELSE {MEMOS}[m]
                     END AS memo
            FROM r
        ) TO '{path}' (FORMAT csv, HEADER true)
    """)  # noqa: S608 (our own literals)
    con.close()


# --- the timed part (a child process) ------------------------------------------------------------------


def child(variant: str, csv_path: Path, work: Path) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["XIAODAI_LAKE_DIR"] = str(work / "lake")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import duckdb

    from xiaodai.ingest.contract import FEEDS
    from xiaodai.lake import writer
    from xiaodai.lake.paths import feed_dir

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    feed = FEEDS["transactions"]
    cpu0, start = os.times(), time.perf_counter()
    if variant == "writer":
        result = writer.stage_lake_feed(
            feed, csv_path, fmt="csv", encoding="utf-8", batch_id=BATCH, data_date=DATA_DATE, quarantine=False
        )
        writer.publish_batch(feed.name, BATCH)
        check: dict[str, Any] = {"sums_in": result.sums_in, "sums_out": result.sums_out}
        rows = result.rows_loaded
        if result.file_problem or result.rows_rejected:
            check["problem"] = [
                result.file_problem,
                result.rows_rejected,
                [e.__dict__ for e in result.errors[:3]],
            ]
        files = len(list(feed_dir(feed.name).glob("month=*/*.parquet")))
    else:
        out, spill = work / "raw", work / "spill"
        con = duckdb.connect()
        con.execute(f"SET threads={writer.THREADS}; SET memory_limit='{writer.MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory='{spill}'")
        options = ""
        if variant == "raw_tuned":
            con.execute(f"SET partitioned_write_flush_threshold={writer.FLUSH_ROWS}")
            options = ", COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION V2"
        written = con.execute(
            f"COPY (SELECT *, strftime(booked_at, '%Y-%m') AS month FROM read_csv('{csv_path}')) "  # noqa: S608
            f"TO '{out}' (FORMAT parquet, PARTITION_BY (month){options})"
        ).fetchone()
        con.close()
        rows, check = int(written[0]) if written else 0, {}
        files = len(list(out.glob("month=*/*.parquet")))
    seconds, cpu1 = time.perf_counter() - start, os.times()
    size = sum(p.stat().st_size for p in work.rglob("*.parquet"))
    shutil.rmtree(work, ignore_errors=True)
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "files": files, "parquet_bytes": size, **check}


# --- the parent ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    variant: str
    seconds: float
    cpu: float
    rows: int
    peak_rss_mb: float
    others_cores: float  # CPU other processes used during the run, in cores
    load_before: float
    parquet_mb: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def _busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / ticks, sum(values) / ticks


def run_child(variant: str, csv_path: Path, work: Path) -> Run:
    load = os.getloadavg()[0]
    busy0, start = _busy(), time.perf_counter()
    command = [sys.executable, __file__, "--child", variant, "--csv", str(csv_path), "--workdir", str(work)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603 (this script)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # reaps the child: its own peak RSS and CPU
    process.returncode = os.waitstatus_to_exitcode(status)
    wall, busy1 = time.perf_counter() - start, _busy()
    if process.returncode:
        raise SystemExit(f"{variant} failed (exit {process.returncode})")
    line = next(x for x in output.splitlines() if x.startswith(RESULT))
    data = json.loads(line[len(RESULT) :])
    if "problem" in data:
        raise SystemExit(f"the writer refused the generated file: {data['problem']}")
    if data.get("sums_in") != data.get("sums_out"):
        raise SystemExit(f"sums do not reconcile: {data}")
    others = max(0.0, (busy1[0] - busy0[0]) - (usage.ru_utime + usage.ru_stime)) / wall
    rss = usage.ru_maxrss / 1024
    return Run(
        variant, data["seconds"], data["cpu"], data["rows"], rss, others, load, data["parquet_bytes"] / 2**20
    )


def report(runs: list[Run], rows: int, csv_bytes: int) -> None:
    cores = os.cpu_count()
    print(f"\n{rows:,} rows, CSV {csv_bytes / 2**30:.2f} GiB, {cores} cores, threads=2, memory_limit 1 GB")
    head = f"{'':42} {'median rows/s':>14} {'min–max rows/s':>22} {'spread':>7} {'median s':>9}"
    print(head + f" {'CPU s':>6} {'peak RSS':>9} {'Parquet':>8}")
    medians: dict[str, float] = {}
    for variant in VARIANTS:
        mine = [r for r in runs if r.variant == variant]
        if not mine:
            continue
        rates = [r.rate for r in mine]
        median = medians[variant] = statistics.median(rates)
        spread = (max(rates) - min(rates)) / median * 100
        seconds = statistics.median(r.seconds for r in mine)
        cpu = statistics.median(r.cpu for r in mine)
        rss = max(r.peak_rss_mb for r in mine)
        low, high = min(rates), max(rates)
        print(
            f"{LABELS[variant]:42} {median:>14,.0f} {low:>10,.0f}–{high:<11,.0f} {spread:>6.0f}% "
            f"{seconds:>9.2f} {cpu:>6.1f} {rss:>6.0f} MB {mine[0].parquet_mb:>5.0f} MB"
        )
    if "writer" in medians:
        for base in ("raw", "raw_tuned"):
            if base in medians:
                print(f"writer / {base}: {medians['writer'] / medians[base]:.2f}× the rows per second")
    print("\nper run (other processes' CPU use shows how much the machine was shared):")
    for r in runs:
        print(
            f"  {r.variant:10} {r.seconds:7.2f} s {r.rate:>12,.0f} rows/s  CPU {r.cpu:5.1f} s  others "
            f"{r.others_cores:.2f} cores  load before {r.load_before:.2f}  peak RSS {r.peak_rss_mb:.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="writer,raw,raw_tuned")
    parser.add_argument("--csv", type=Path, help="an existing transactions CSV to use instead of generating")
    parser.add_argument("--workdir", type=Path, help="where the CSV and the lake go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(RESULT + json.dumps(child(args.child, args.csv, args.workdir), default=str), flush=True)
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="xiaodai-lake-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path = args.csv or work / "transactions.csv"
    need = (0 if args.csv else args.rows * BYTES_PER_ROW) + args.rows * 80  # the CSV, the Parquet, spill
    free = shutil.disk_usage(work).free
    print(f"work dir {work}: {free / 2**30:.1f} GiB free, about {need / 2**30:.1f} GiB needed")
    if free < need:
        raise SystemExit("not enough free disk")
    try:
        if not args.csv:
            start = time.perf_counter()
            generate(csv_path, args.rows)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - start:.1f} s: {csv_path}")
        rows = sum(1 for _ in open(csv_path, "rb")) - 1 if args.csv else args.rows  # noqa: SIM115
        runs: list[Run] = []
        variants = [v for v in args.variants.split(",") if v]
        for i in range(args.runs):  # interleaved, so a busy minute hits every variant alike
            for variant in variants:
                run = run_child(variant, csv_path, work / "out")
                if run.rows != rows:
                    raise SystemExit(f"{variant} wrote {run.rows} rows, expected {rows}")
                runs.append(run)
                print(f"run {i + 1} {variant:10} {run.seconds:6.2f} s {run.rate:>12,.0f} rows/s", flush=True)
        report(runs, rows, csv_path.stat().st_size)
    finally:
        if not args.keep and not args.csv:
            csv_path.unlink(missing_ok=True)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
