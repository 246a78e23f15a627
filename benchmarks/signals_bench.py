"""Benchmark of the signal step (issue 7): the ibis step on DuckDB against the same work written by hand.

    .venv/bin/python benchmarks/signals_bench.py --quick                       # 1,000,000 rows, 2 rounds
    .venv/bin/python benchmarks/signals_bench.py --transactions 20000000 --rounds 3

Data (benchmarks/signals_data.py, not timed, cached in /tmp/xiaodai-bench/signals-<N>-<B>/): N transactions
in the 30 days up to the data date for a branch of N / 67 customers (300,000 at 20 million), plus B lighter
rows over the 180 days before (the customers' usual spending; default 30 % of N, --baseline to change),
with salaries, loans, payroll and the bad input the step counts.

Then, in this process, each round runs both on a fresh DuckDB connection with the same limits (threads,
memory_limit, a spill directory), the order alternating from round to round:

* step: `xiaodai.signals.compute.compute` (the ibis expressions of steps.py on DuckDB: events, signals,
  alerts and quality as Arrow);
* hand: `xiaodai.signals.handsql.run` (the same outputs from one hand-written DuckDB script).

The first round checks that both give identical outputs. Printed per variant: wall time (median, min, max),
CPU seconds of this process, peak RSS (VmHWM, reset before each run), the CPU other processes took meanwhile
(from /proc/stat: on a shared 2-core machine that is what makes runs noisy), the time of each stage, and the
ratio of the medians. The figures are in docs/benchmarks.md ("Capital flow: signals").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path("/tmp/xiaodai-bench")  # noqa: S108 (a cache of generated data, like the other benchmarks)
DAY = dt.date(2026, 11, 28)
FORMAT = 1  # bump when signals_data.py changes: cached data of another version is rebuilt


@dataclass
class Run:
    variant: str
    wall: float
    cpu: float
    others: float  # CPU seconds other processes used during the run
    peak_mb: float
    seconds: dict[str, float] = field(default_factory=dict)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=20_000_000, help="rows in the current month")
    parser.add_argument("--baseline", type=int, default=None, help="rows before it (default 30 %% of them)")
    parser.add_argument("--customers", type=int, default=None, help="default: transactions / 67")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="1,000,000 transactions, 2 rounds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit for both")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.transactions = 1_000_000
    args.rounds = args.rounds or (2 if args.quick else 3)
    baseline = args.baseline if args.baseline is not None else int(args.transactions * 0.3)
    customers = args.customers or max(100, args.transactions // 67)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).parent))
    import django

    django.setup()
    work = args.workdir or BENCH / f"signals-{args.transactions}-{baseline}-{customers}"
    files = _data(work, args.transactions, baseline, customers)
    _machine(files, args)
    _warm_up(work, args)
    runs = _bench(files, args)
    _report(runs)


def _data(work: Path, transactions: int, baseline: int, customers: int) -> dict[str, Path]:
    import signals_data

    marker = work / f"ready-{FORMAT}"
    files = {name: work / f"{name}.parquet" for name in ("transactions", "customers", "loans", "payroll")}
    if marker.exists():
        return files
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"generating {transactions:,} + {baseline:,} transactions for {customers:,} customers into {work} ..."
    )
    began = time.perf_counter()
    signals_data.generate(work, transactions=transactions, baseline=baseline, customers=customers, day=DAY)
    marker.touch()
    print(f"  generated in {time.perf_counter() - began:.1f} s (not timed)", flush=True)
    return files


def _machine(files: dict[str, Path], args: argparse.Namespace) -> None:
    import duckdb
    import ibis
    import pyarrow.parquet as pq

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)  # noqa: S607
    meta = pq.read_metadata(files["transactions"])
    size = files["transactions"].stat().st_size / 2**20
    print(
        f"date      {dt.datetime.now().isoformat(timespec='seconds')}  "
        f"(commit {commit.stdout.strip()}, plus the working tree)"
    )
    print(f"machine   {os.cpu_count()} cores, {cpu}")
    print(
        f"software  Python {platform.python_version()}, DuckDB {duckdb.__version__}, ibis {ibis.__version__}"
    )
    print(
        f"limits    threads={args.threads}, memory_limit={args.memory_limit}, "
        f"spill to {files['transactions'].parent / 'spill'}"
    )
    print(
        f"data      {meta.num_rows:,} transaction rows "
        f"({size:,.0f} MiB Parquet, {meta.num_row_groups} row groups)"
    )


def _connect(variant: str, args: argparse.Namespace, work: Path) -> Any:
    """A fresh connection with the limits: ibis's for the step, DuckDB's own for the hand-written SQL."""
    import duckdb
    import ibis

    spill = work / "spill"
    spill.mkdir(exist_ok=True)
    config = {"threads": args.threads, "memory_limit": args.memory_limit, "temp_directory": str(spill)}
    return ibis.duckdb.connect(**config) if variant == "step" else duckdb.connect(config=config)


def _run(variant: str, files: dict[str, Path], args: argparse.Namespace) -> tuple[Run, Any]:
    from xiaodai.signals import handsql
    from xiaodai.signals.compute import compute
    from xiaodai.signals.services import default_config

    config = default_config()
    con = _connect(variant, args, files["transactions"].parent)
    _reset_peak()
    busy0, cpu0, began = _busy(), _cpu(), time.perf_counter()
    if variant == "step":
        result = compute(con, files, DAY, config, prefix="bench")
    else:
        result = handsql.run(con, files, DAY, config)
    wall, cpu = time.perf_counter() - began, _cpu() - cpu0
    others = max(0.0, _busy() - busy0 - cpu)
    con.disconnect() if variant == "step" else con.close()
    return Run(variant, wall, cpu, others, _peak_mb(), dict(result.seconds)), result


def _warm_up(work: Path, args: argparse.Namespace) -> None:
    """Both once on a small snapshot (not timed): imports, the merchant-code list, ibis's first compile."""
    import signals_data

    small = work / "warm"
    if not (small / "transactions.parquet").exists():
        signals_data.generate(small, transactions=20_000, baseline=5_000, customers=300, day=DAY)
    files = {name: small / f"{name}.parquet" for name in ("transactions", "customers", "loans", "payroll")}
    for variant in ("step", "hand"):
        _run(variant, files, args)


def _bench(files: dict[str, Path], args: argparse.Namespace) -> list[Run]:
    runs: list[Run] = []
    for n in range(args.rounds):
        order = ("step", "hand") if n % 2 == 0 else ("hand", "step")
        results = {}
        for variant in order:
            run, results[variant] = _run(variant, files, args)
            runs.append(run)
            stages = ", ".join(f"{k} {v:.1f}" for k, v in run.seconds.items())
            print(
                f"round {n + 1} {variant}: {run.wall:6.2f} s wall, {run.cpu:6.1f} s CPU, "
                f"peak {run.peak_mb:,.0f} MB, "
                f"others {run.others:4.1f} CPU s  [{stages}]",
                flush=True,
            )
        if n == 0:
            _same(results["step"], results["hand"])
    return runs


def _same(step: Any, hand: Any) -> None:
    for name in ("events", "signals", "alerts", "quality"):
        mine, theirs = getattr(step, name), getattr(hand, name)
        assert mine.equals(theirs), f"step and hand give different {name}"
        print(f"        checked: identical {name} ({mine.num_rows:,} rows)")
    [q] = step.quality.to_pylist()
    print("        quality: " + ", ".join(f"{k} {v:,}" for k, v in q.items()), flush=True)


def _stats(values: list[float], unit: str = "s") -> str:
    return f"median {statistics.median(values):7.2f} {unit} (min {min(values):.2f}, max {max(values):.2f})"


def _report(runs: list[Run]) -> None:
    print()
    medians = {}
    for variant, label in (("step", "ibis step on DuckDB"), ("hand", "hand-written DuckDB SQL")):
        mine = [r for r in runs if r.variant == variant]
        medians[variant] = statistics.median(r.wall for r in mine)
        print(f"{label:<24} wall {_stats([r.wall for r in mine])}, n={len(mine)}")
        print(
            f"{'':<24} CPU  {_stats([r.cpu for r in mine])}; "
            f"peak RSS max {max(r.peak_mb for r in mine):,.0f} MB"
        )
        stages = {k: statistics.median(r.seconds[k] for r in mine) for k in mine[0].seconds}
        print(f"{'':<24} stages (median s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    others = max(r.others for r in runs)
    print(
        f"step / hand (median wall): {medians['step'] / medians['hand']:.2f}x; "
        f"others' CPU at most {others:.1f} s"
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy() -> float:
    """CPU seconds the whole machine has been busy, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / ticks


def _reset_peak() -> None:
    """Reset VmHWM so each run reports its own peak (Linux 4.0+)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
