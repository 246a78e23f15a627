"""Benchmark: load a daily drop into the app database through the importer, against a raw bulk load.

    .venv/bin/python benchmarks/ingest_load.py                       # 100,000 customers, SQLite, 3 runs
    .venv/bin/python benchmarks/ingest_load.py --customers 1000000 --engines sqlite,postgres --runs 1
    .venv/bin/python benchmarks/ingest_load.py --customers 50000 --profile  # cProfile + SQL, to stderr

What it measures, per engine and run (docs/benchmarks.md has the figures and how to read them):

* the drop: written once per size by the demo generator (seed 1, as of 2026-11-28) and cached under
  /tmp/xiaodai-bench/drop-<N>/; not part of any timing;
* baseline, "a raw bulk load of the same rows": a fresh, migrated database with the bank and branch; every CSV
  is read with the csv module and its rows go into the same app tables (same indexes, same constraints) with
  no validation: executemany on the raw sqlite3 connection, or COPY FROM STDIN on PostgreSQL, in one
  transaction. Business keys become ids through Python dicts (customer ids assigned here, in file order);
  NOT NULL columns are filled the way the importer fills them, except a customer's name_pinyin and
  name_initials (left empty), AUM (left 0) and row_hash (left to its default). The organisation files (a
  few hundred rows) go through the ORM. Like the importer it sets SQLite's 64 MB page cache and pauses the
  cyclic garbage collector. Timed from the first file read to the commit;
* importer: a fresh, migrated database with the bank and branch; `run_ingest(folder, trigger="cli")` timed
  whole (scan, fingerprint, read, validate, stage, merge, lineage, commit, the run's records), with the wall
  time of its steps and of its slowest SQL statements.

Each phase runs in its own child process (this script with --phase), so it reads its own settings at
django.setup(), gets a clean database, and reports its own peak memory: the child's max RSS
(getrusage(RUSAGE_SELF).ru_maxrss) and, separately, the largest of its validating worker processes'
(RUSAGE_CHILDREN; two run at once while they share the customers and deposits); PostgreSQL's server memory is
not counted. CPU seconds are reported for the child, its workers together, the PostgreSQL backend serving the
child, and the rest of the machine ("others": contention on a shared machine, and PostgreSQL's background
writers).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path("/tmp/xiaodai-bench")  # noqa: S108 (the brief's fixed place; a cache, not a secret)
PG_HOST = "postgres@127.0.0.1:5432"
PG_DB = "xiaodai_bench"
SEED = 1
AS_OF = date(2026, 11, 28)
CHUNK = 10_000  # rows per executemany / COPY in the baseline
SQLITE_CACHE = "PRAGMA cache_size = -65536"  # what the importer sets for itself (64 MB page cache)
RESULT = "RESULT "

# --- the parent: drop, phases, figures ----------------------------------------------------------------------


@dataclass
class Phase:
    engine: str
    phase: str
    run: int
    seconds: float
    rows: int
    peak_rss_mb: float
    start_rss_mb: float = 0.0
    cpu_seconds: float = 0.0  # the child's own user + system time in the timed part
    server_cpu_seconds: float = 0.0  # PostgreSQL: its backend process's CPU time in the timed part
    worker_cpu_seconds: float = 0.0  # processes the phase started (the importer's validating process)
    worker_peak_rss_mb: float = 0.0  # the largest of those processes' own peak RSS
    # CPU the rest of the machine used meanwhile (other programs, PostgreSQL's background writers): contention
    other_cpu_seconds: float = 0.0
    code: str = ""  # git commit and a hash of xiaodai/ingest/*.py as the phase read them
    tables: dict[str, int] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    statements: list[list[Any]] = field(default_factory=list)  # slowest SQL: [seconds, calls, statement]

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", type=int, default=100_000, help="customers in the drop (default 100000)"
    )
    parser.add_argument(
        "--engines", default="sqlite", help="comma-separated: sqlite,postgres (default sqlite)"
    )
    parser.add_argument("--runs", type=int, default=3, help="measured runs per engine (default 3)")
    parser.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the importer once, in one process, under cProfile instead (first engine)",
    )
    parser.add_argument("--phase", choices=("generate", "baseline", "importer"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = _child(args.phase, args.folder, args.customers, profile=args.profile)
        print(RESULT + json.dumps(result), flush=True)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    _bench(args.customers, engines, args.runs, args.json, args.profile)


def _bench(customers: int, engines: list[str], runs: int, json_path: Path | None, profile: bool) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    machine = _machine(engines)  # at the start: the date, and the commit the run began with
    for key, value in machine.items():
        print(f"{key:9} {value}")
    folder = _ensure_drop(customers)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    drop_rows = sum(int(f["rows"]) for f in manifest["files"].values())
    size_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
    print(f"drop      {folder}: {customers:,} customers, {drop_rows:,} data rows, {size_mb:,.0f} MB of CSV")
    for name, f in manifest["files"].items():
        print(f"            {name:20} {int(f['rows']):>12,}")
    if profile:
        _run_phase(engines[0], "importer", 0, folder, customers, profile=True)
        return
    results: list[Phase] = []
    try:
        for run in range(1, runs + 1):
            for engine in engines:
                for phase in ("baseline", "importer"):
                    result = _run_phase(engine, phase, run, folder, customers)
                    results.append(result)
                    print(
                        f"run {run} {engine:8} {phase:8} {result.rows:>10,} rows {result.seconds:8.1f} s "
                        f"{result.rate:>10,.0f} rows/s | peak RSS {result.peak_rss_mb:,.0f} MB "
                        f"(at start {result.start_rss_mb:,.0f}, worker {result.worker_peak_rss_mb:,.0f}) | "
                        f"CPU s: self {result.cpu_seconds:.1f}, worker {result.worker_cpu_seconds:.1f}, "
                        f"server {result.server_cpu_seconds:.1f}, others {result.other_cpu_seconds:.1f} | "
                        f"{result.code}",
                        flush=True,
                    )
    finally:
        if "postgres" in engines:
            _pg_drop()
    _report(results, engines, runs, drop_rows)
    if json_path is not None:
        payload = {
            "customers": customers,
            "drop_rows": drop_rows,
            "drop_csv_mb": round(size_mb, 1),
            "machine": machine,
            "results": [{**r.__dict__, "rate": r.rate} for r in results],
        }
        json_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"\nwrote {json_path}")


def _machine(engines: list[str]) -> dict[str, str]:
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": _cpu_model(),
        "memory": _mem_total(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git": _git_head(),
    }
    if "postgres" in engines:
        import psycopg

        with psycopg.connect(f"postgresql://{PG_HOST}/postgres", autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = str(row[0]) if row else "?"
            info["psycopg"] = psycopg.__version__
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def _git_head() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return done.stdout.strip()


def _ensure_drop(customers: int) -> Path:
    folder = BENCH_DIR / f"drop-{customers}"
    if (folder / "manifest.json").exists():  # written last: its presence means the folder is complete
        _database_feeds_only(folder)  # a folder cached by an earlier version of this script
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    print(f"generating a {customers:,}-customer drop into {folder} (once; not timed) ...", flush=True)
    started = time.perf_counter()
    _spawn("generate", folder, customers, engine="sqlite")
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def _run_phase(
    engine: str, phase: str, run: int, folder: Path, customers: int, profile: bool = False
) -> Phase:
    if engine == "postgres":
        _pg_recreate()
    result = _spawn(phase, folder, customers, engine=engine, profile=profile)
    return Phase(
        engine=engine,
        phase=phase,
        run=run,
        seconds=float(result["seconds"]),
        rows=int(result["rows"]),
        peak_rss_mb=float(result["peak_rss_kb"]) / 1024,
        start_rss_mb=float(result.get("start_rss_kb", 0)) / 1024,
        cpu_seconds=float(result.get("cpu_seconds", 0.0)),
        server_cpu_seconds=float(result.get("server_cpu_seconds", 0.0)),
        worker_cpu_seconds=float(result.get("worker_cpu_seconds", 0.0)),
        worker_peak_rss_mb=float(result.get("worker_peak_rss_kb", 0)) / 1024,
        other_cpu_seconds=float(result.get("other_cpu_seconds", 0.0)),
        code=str(result.get("code", "")),
        tables=dict(result.get("tables", {})),
        breakdown=dict(result.get("breakdown", {})),
        statements=list(result.get("statements", [])),
    )


def _spawn(phase: str, folder: Path, customers: int, *, engine: str, profile: bool = False) -> dict[str, Any]:
    """Run one phase in a child process with its own settings and a fresh var dir (hence a fresh SQLite)."""
    var_dir = Path(tempfile.mkdtemp(prefix=f"var-{engine}-{phase}-", dir=BENCH_DIR))
    env = dict(os.environ)
    env.pop("XIAODAI_DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        XIAODAI_VAR_DIR=str(var_dir),
        XIAODAI_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if engine == "postgres":
        env["XIAODAI_DATABASE_URL"] = f"postgres://{PG_HOST}/{PG_DB}"
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--folder", str(folder)]
    command += ["--customers", str(customers)] + (["--profile"] if profile else [])
    try:
        done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    other = "\n".join(line for line in done.stdout.splitlines() if not line.startswith(RESULT))
    if other:
        print(other, flush=True)
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{engine} {phase} failed (exit {done.returncode})")
    return dict(json.loads(lines[-1][len(RESULT) :]))


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(f"postgresql://{PG_HOST}/postgres", autocommit=True)


def _pg_recreate() -> None:
    with _pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")


def _pg_drop() -> None:
    with _pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def _report(results: list[Phase], engines: list[str], runs: int, drop_rows: int) -> None:
    print()
    for engine in engines:
        base = [r for r in results if r.engine == engine and r.phase == "baseline"]
        imp = [r for r in results if r.engine == engine and r.phase == "importer"]
        if not base or not imp:
            continue
        ratios = [i.seconds / b.seconds for b, i in zip(base, imp, strict=True)]
        label = "median (min-max)" if runs > 1 else "one run"
        print(
            f"{engine}: {imp[0].rows:,} rows through the importer, {base[0].rows:,} in the baseline; {label}"
        )
        for name, phases in (("baseline", base), ("importer", imp)):
            secs = [p.seconds for p in phases]

            def spread(attr: str, fmt: str, phases: list[Phase] = phases) -> str:
                return _spread([float(getattr(p, attr)) for p in phases], fmt)

            print(
                f"  {name:9} {spread('seconds', '{:.1f}')} s, {spread('rate', '{:,.0f}')} rows/s "
                f"(noise ±{_noise(secs):.0f}%); peak RSS {spread('peak_rss_mb', '{:,.0f}')} MB "
                f"+ worker(s) {spread('worker_peak_rss_mb', '{:,.0f}')} MB each; CPU s: self "
                f"{spread('cpu_seconds', '{:.1f}')}, workers {spread('worker_cpu_seconds', '{:.1f}')}, "
                f"server {spread('server_cpu_seconds', '{:.1f}')}; "
                f"others {spread('other_cpu_seconds', '{:.1f}')}"
            )
        print(f"  ratio importer/baseline {_spread(ratios, '{:.2f}')}")
        rate = statistics.median(p.rate for p in imp)
        ratio = statistics.median(ratios)
        # The importer's peak plus two validating processes' (two share the first files): an upper bound on
        # what it held at any one moment. RUSAGE_CHILDREN reports the largest child's peak.
        rss_max = max(p.peak_rss_mb + 2 * p.worker_peak_rss_mb for p in imp)
        print(
            f"  targets: >=100,000 rows/s {'met' if rate >= 100_000 else 'NOT met'} ({rate:,.0f}); "
            f"within 2x of the baseline {'met' if ratio <= 2 else 'NOT met'} ({ratio:.2f}x); "
            f"peak memory < 1 GB {'met' if rss_max < 1024 else 'NOT met'} "
            f"({rss_max:,.0f} MB, importer + 2 workers)"
        )
        if imp[0].rows != drop_rows or base[0].rows != drop_rows:
            print(f"  WARNING: the drop holds {drop_rows:,} rows")
        if base[0].tables != imp[0].tables:
            print(f"  WARNING: table counts differ: baseline {base[0].tables} importer {imp[0].tables}")
        if imp[0].breakdown:
            print("  importer breakdown (first run, seconds):")
            parts = imp[0].breakdown
            for key, value in parts.items():
                if not key.startswith(("stage: ", "merge: ", "feed ")):
                    print(f"    {key:32} {value:8.1f}")
            for prefix in ("stage: ", "merge: ", "feed "):
                items = [f"{k[len(prefix) :]} {v:.1f}" for k, v in parts.items() if k.startswith(prefix)]
                print(f"    {prefix.strip(': ')}: " + ", ".join(items))
        if imp[0].statements:
            print("  slowest SQL statements (first run: seconds, calls, statement):")
            for spent, calls, sql in imp[0].statements[:10]:
                print(f"    {spent:7.1f} {calls:4} {sql[:120]}")
        sources = {p.code.split(" ")[-1] for p in base + imp}
        if len(sources) > 1:
            print(f"  WARNING: the importer's source changed between phases: {', '.join(sorted(sources))}")


def _spread(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    mid = statistics.median(values)
    return f"{fmt.format(mid)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def _noise(values: list[float]) -> float:
    """Half the spread as a share of the median: how far a single run may stray."""
    if len(values) < 2:
        return 0.0
    return 50 * (max(values) - min(values)) / statistics.median(values)


# --- the children -------------------------------------------------------------------------------------------


def _child(phase: str, folder: Path, customers: int, *, profile: bool) -> dict[str, Any]:
    import django

    django.setup()
    if phase == "generate":
        return _generate(folder, customers)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    branch_id = _bank_and_branch(folder)
    floor = _rss_now_kb()  # Django, the app and its migrations, before anything is timed
    cpu, workers_cpu, server_cpu = _cpu_now(), _cpu_now(resource.RUSAGE_CHILDREN), _server_cpu()
    busy = _machine_busy()
    out = _baseline(folder, branch_id) if phase == "baseline" else _importer(folder, profile)
    busy = _machine_busy() - busy
    out["cpu_seconds"] = _cpu_now() - cpu  # includes the importer's run records after its commit: tiny
    out["worker_cpu_seconds"] = _cpu_now(resource.RUSAGE_CHILDREN) - workers_cpu
    out["server_cpu_seconds"] = _server_cpu() - server_cpu
    ours = out["cpu_seconds"] + out["worker_cpu_seconds"] + out["server_cpu_seconds"]
    out["other_cpu_seconds"] = max(0.0, busy - ours)
    out["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    # The largest process this one started and waited for (the importer's validating process): its own peak.
    out["worker_peak_rss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["start_rss_kb"] = floor
    out["tables"] = _table_counts()  # not timed: a check that both phases wrote the same rows
    out["code"] = _code_fingerprint()
    return out


def _cpu_now(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _code_fingerprint() -> str:
    """The git commit and a hash of the importer's source as this process read it (the tree may move on
    between phases of a long benchmark)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "xiaodai" / "ingest").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{_git_head()} ingest:{digest.hexdigest()[:10]}"


def _machine_busy() -> float:
    """CPU seconds all processors of the machine spent busy since boot (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend process (same machine), 0 on SQLite. Leaves out
    the server's background writers (WAL writer, checkpointer, autovacuum)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = int(cur.fetchone()[0])
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _rss_now_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _generate(folder: Path, customers: int) -> dict[str, Any]:
    from xiaodai.demo.dropwriter import write_drop_folder
    from xiaodai.demo.generator import generate_drop

    started = time.perf_counter()
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    drop = generate_drop(customers=customers, seed=SEED, as_of=AS_OF)
    write_drop_folder(drop, partial)
    _database_feeds_only(partial)
    partial.rename(folder)
    return {"seconds": time.perf_counter() - started, "rows": 0, "peak_rss_kb": 0}


def _database_feeds_only(folder: Path) -> None:
    """Keep the feeds that load into the app database: the lake's (transactions, past contact history,
    channel leads) go to Parquet through DuckDB, measured by transactions_to_parquet.py, and have no
    raw-bulk-load counterpart here. The manifest is rewritten without them (its rows are checked)."""
    from xiaodai.ingest.contract import FEEDS, Target

    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    lake = [name for name in manifest["files"] if FEEDS[Path(name).stem].target is Target.LAKE]
    if not lake:
        return
    for name in lake:
        (folder / name).unlink(missing_ok=True)
        del manifest["files"][name]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def _bank_and_branch(folder: Path) -> int:
    """Installation data, as the demo sets it up: the bank and the branch the drop belongs to."""
    from xiaodai.demo import reference as ref
    from xiaodai.org.models import Bank, Branch

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["branch_code"] == ref.BRANCH_CODE
    bank, _ = Bank.objects.get_or_create(code=ref.BANK_CODE, defaults={"name": ref.BANK_NAME})
    branch = Branch.objects.create(bank=bank, code=ref.BRANCH_CODE, name=ref.BRANCH_NAME, city=ref.CITY)
    return int(branch.pk)


def _table_counts() -> dict[str, int]:
    from django.db import connection

    from xiaodai.customers.models import Customer

    tables = [m._meta.db_table for m in _models().values()] + [Customer.tags.through._meta.db_table]
    tables += ["org_subbranch", "org_team", "org_staff", "customers_enterprise", "customers_tag"]
    counts = {}
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = int(cur.fetchone()[0])
    return counts


def _importer(folder: Path, profile: bool) -> dict[str, Any]:
    """Time run_ingest. Every SQL statement it sends through Django is timed too (a few hundred statements:
    no measurable cost); with --profile it runs in one process under cProfile, printed to stderr."""
    import cProfile
    import pstats

    from django.db import connection

    from xiaodai.ingest import services
    from xiaodai.ingest.choices import RunStatus

    timers = _Timers()
    timers.install()
    statements: dict[str, list[float]] = {}
    profiler = cProfile.Profile() if profile else None
    if profiler is not None and hasattr(services, "PIPELINE_MIN_ROWS"):
        # One process, so that one profile sees reading and validation too (a large drop otherwise hands
        # them to a second process).
        services.PIPELINE_MIN_ROWS = 10**12
    with connection.execute_wrapper(_StatementTimer(statements)):
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        run = services.run_ingest(folder, trigger="cli")
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    if run.status != RunStatus.LOADED:
        raise SystemExit(f"the importer did not load the drop: {run.status} {run.message}")
    rows = sum(f.rows_read for f in run.files.all())
    slowest = sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:15]
    return {
        "seconds": seconds,
        "rows": rows,
        "breakdown": timers.summary(seconds),
        "statements": [[round(sum(spent), 2), len(spent), sql] for sql, spent in slowest],
    }


class _StatementTimer:
    """A Django execute wrapper adding each statement's wall time under its first 150 characters."""

    def __init__(self, into: dict[str, list[float]]) -> None:
        self.into = into

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(str(sql).split())[:150]
            self.into.setdefault(key, []).append(time.perf_counter() - started)


class _Timers:
    """Wall time spent in the importer's steps, by wrapping them (a few thousand calls: no measurable cost).
    Every public method of StagedFeed is timed (outermost call only, so nothing counts twice); steps missing
    from the importer are skipped, so a refactor there does not break the benchmark."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.depth = 0

    def _wrap(self, owner: Any, name: str, label: Callable[..., str], nested: bool = False) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            if nested and self.depth:
                return original(*args, **kwargs)
            self.depth += nested
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label(*args, **kwargs)
                self.spent[key] = self.spent.get(key, 0.0) + time.perf_counter() - started
                self.depth -= nested

        setattr(owner, name, timed)

    def install(self) -> None:
        import inspect

        from xiaodai.ingest import feeds, load, services

        self._wrap(services, "prepare_run", lambda *a, **k: "prepare (scan, fingerprint)")
        self._wrap(services, "_load", lambda *a, **k: "load transaction")
        self._wrap(services, "_finish", lambda *a, **k: "finish (run records)")
        # A staged file's three steps: staging its rows (waiting for the worker), checks, writing.
        self._wrap(feeds, "_stage", lambda run, drop, feed, *a, **k: f"feed {feed.name}: stage")
        self._wrap(feeds, "_check", lambda staged, *a, **k: f"feed {staged.feed.name}: check")
        self._wrap(feeds, "_write", lambda staged, *a, **k: f"feed {staged.feed.name}: write")
        self._wrap(feeds, "_load_small", lambda *a, **k: "small feeds (ORM)")
        try:  # the importer validates large drops in a second process and hands rows over through a queue
            from xiaodai.ingest import produce

            self._wrap(produce.Producer, "next", lambda *a, **k: "wait: validated rows", nested=True)
        except ImportError:
            pass
        staging = {"stage", "insert", "prepare"}
        for name, _ in inspect.getmembers(load.StagedFeed, inspect.isfunction):
            if name.startswith("_"):
                continue
            label = f"stage: {name}" if name in staging else f"merge: {name}"
            self._wrap(load.StagedFeed, name, lambda *a, _l=label, **k: _l, nested=True)

    def summary(self, total: float) -> dict[str, float]:
        spent = dict(self.spent)

        def group(prefix: str) -> float:
            return sum(v for k, v in spent.items() if k.startswith(prefix))

        feeds, staged, merge = group("feed "), group("stage: "), group("merge: ")
        wait, small = spent.get("wait: validated rows", 0.0), spent.get("small feeds (ORM)", 0.0)
        out = {"total": total}
        out["prepare (scan, fingerprint)"] = spent.get("prepare (scan, fingerprint)", 0.0)
        if wait:
            out["wait for validated rows"] = wait  # from the worker (in-process for small drops)
            out["read + validate in this process"] = feeds - wait - staged - merge
        else:
            out["read + validate (+ hash, adapt)"] = feeds - staged - merge
        out["stage (COPY/executemany)"] = staged
        out["merge (all steps)"] = merge
        out["small feeds (ORM)"] = small
        out["commit (+ worker start/stop)"] = spent.get("load transaction", 0.0) - feeds - small
        out["finish (run records)"] = spent.get("finish (run records)", 0.0)
        for prefix in ("stage: ", "merge: ", "feed "):
            out.update({k: v for k, v in sorted(spent.items()) if k.startswith(prefix)})
        return {k: round(v, 2) for k, v in out.items()}


# --- the baseline: the same rows into the same tables, no validation ----------------------------------------

_EIGHT_HOURS = timedelta(hours=8)
_NOT_DIGIT = re.compile(r"\D")


def _models() -> dict[str, Any]:
    from xiaodai.customers import models as m

    return {
        "customers": m.Customer,
        "contacts": m.ContactPoint,
        "consents": m.Consent,
        "opt_outs": m.OptOut,
        "credit_lines": m.CreditLine,
        "loans": m.Loan,
        "cards": m.Card,
        "deposits": m.Deposit,
        "applications": m.Application,
        "payroll": m.PayrollLink,
    }


# Contract columns that hold another table's business key: (feed or "*", column) -> (db column, lookup).
_REFS = {
    ("customers", "payroll_enterprise_code"): ("payroll_enterprise_id", "enterprise"),
    ("customers", "sub_branch_code"): ("sub_branch_id", "sub_branch"),
    ("customers", "owner_employee_no"): ("owner_id", "staff"),
    ("consents", "collector_employee_no"): ("collector_id", "staff"),
    ("payroll", "enterprise_code"): ("enterprise_id", "enterprise"),
    ("*", "customer_no"): ("customer_id", "customer"),
}


@dataclass
class _Plan:
    table: str
    columns: list[str]  # db columns, in output order
    keep: list[int]  # CSV positions kept, in output order
    fill: list[Any]  # per kept column: the value for an empty cell (None, or the NOT NULL column's default)
    refs: list[tuple[int, dict[str, Any]]]  # kept position -> lookup of business key to id
    times: list[int]  # kept positions holding a Beijing-time datetime
    extra: tuple[Any, ...]  # constant trailing values
    derive: Callable[[list[Any]], tuple[Any, ...]] | None = None  # computed trailing values
    tags_at: int = -1  # customers: the CSV position of tags


def _baseline(folder: Path, branch_id: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from xiaodai.ingest.contract import FEEDS, load_order

    names = {p.stem for p in folder.glob("*.csv")}
    gc.disable()  # as the importer does: nothing here builds cycles
    started = time.perf_counter()
    rows = 0
    with transaction.atomic():
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute(SQLITE_CACHE)
        lookups: dict[str, dict[Any, Any]] = {"customer": {}}
        for feed in load_order(names):
            path = folder / f"{feed.name}.csv"
            if feed.name in ("sub_branches", "teams", "staff", "enterprises", "tags"):
                rows += _org_feed(feed.name, path, branch_id)
                continue
            if feed.name not in _models():
                raise SystemExit(f"the baseline does not know feed {feed.name}")
            if not lookups.get("staff"):
                lookups.update(_org_lookups(branch_id))
            rows += _bulk_feed(FEEDS[feed.name], path, branch_id, lookups)
    seconds = time.perf_counter() - started
    gc.enable()
    return {"seconds": seconds, "rows": rows}


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # header: the contract's column order (the dropwriter writes it so)
        yield from reader


def _org_feed(name: str, path: Path, branch_id: int) -> int:
    """The organisation files are a few hundred rows: through the ORM, as bulk_create."""
    from django.contrib.auth.models import User

    from xiaodai.customers.models import Enterprise, Tag
    from xiaodai.org.models import Staff, SubBranch, Team

    rows = list(_csv_rows(path))
    if name == "sub_branches":
        SubBranch.objects.bulk_create(
            SubBranch(branch_id=branch_id, code=code, name=n, district=d) for code, n, d in rows
        )
    elif name == "teams":
        subs = dict(SubBranch.objects.values_list("code", "id"))
        Team.objects.bulk_create(
            Team(branch_id=branch_id, name=n, kind=k, sub_branch_id=subs.get(s)) for n, k, s in rows
        )
    elif name == "staff":
        subs = dict(SubBranch.objects.values_list("code", "id"))
        teams = dict(Team.objects.values_list("name", "id"))
        users = User.objects.bulk_create(User(username=r[2], password="!") for r in rows)  # noqa: S106
        Staff.objects.bulk_create(
            Staff(
                user_id=u.pk,
                employee_no=no,
                name=n,
                role=role,
                business_line=line,
                branch_id=branch_id,
                sub_branch_id=subs.get(s),
                team_id=teams.get(t),
                daily_capacity=int(cap or 80),
            )
            for u, (no, n, _username, role, line, s, t, cap) in zip(users, rows, strict=True)
        )
    elif name == "enterprises":
        Enterprise.objects.bulk_create(
            Enterprise(
                branch_id=branch_id,
                code=code,
                name=n,
                industry=ind,
                employee_count=int(count or 0),
                is_payroll_partner=partner in ("1", "true", "Y", "是"),
            )
            for code, n, ind, count, partner in rows
        )
    elif name == "tags":
        Tag.objects.bulk_create(Tag(code=code, name=n, kind=k) for code, n, k in rows)
    return len(rows)


def _org_lookups(branch_id: int) -> dict[str, dict[Any, Any]]:
    from xiaodai.customers.models import Enterprise, Tag
    from xiaodai.org.models import Staff, SubBranch

    staff = list(Staff.objects.filter(branch_id=branch_id).values_list("employee_no", "id", "sub_branch_id"))
    return {
        "sub_branch": dict(SubBranch.objects.filter(branch_id=branch_id).values_list("code", "id")),
        "staff": {no: pk for no, pk, _ in staff},
        "staff_sub_branch": {pk: sub for _, pk, sub in staff if sub is not None},
        "enterprise": dict(Enterprise.objects.values_list("code", "id")),
        "tag": dict(Tag.objects.values_list("code", "id")),
    }


def _plan(feed: Any, branch_id: int, lookups: dict[str, dict[Any, Any]]) -> _Plan:
    """Which CSV column goes to which db column, and what fills the table's other NOT NULL columns."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED
    from django.utils import timezone

    from xiaodai.ingest.contract import Type

    sqlite = connection.vendor == "sqlite"
    model = _models()[feed.name]
    by_column = {f.column: f for f in model._meta.concrete_fields}
    plan = _Plan(model._meta.db_table, [], [], [], [], [], ())
    for pos, col in enumerate(feed.columns):
        if feed.name == "customers" and col.name == "tags":
            plan.tags_at = pos
            continue
        ref = _REFS.get((feed.name, col.name)) or (
            _REFS.get(("*", col.name)) if feed.name != "customers" else None
        )
        db_col = ref[0] if ref else col.name
        f = by_column[db_col]
        if ref:
            plan.refs.append((len(plan.keep), lookups[ref[1]]))
        if col.type is Type.DATETIME:
            plan.times.append(len(plan.keep))
        plan.columns.append(db_col)
        plan.keep.append(pos)
        plan.fill.append(None if f.null else _default_text(f, NOT_PROVIDED))
    now = timezone.now()
    now_value = timezone.make_naive(now, UTC).isoformat(" ") if sqlite else now.isoformat()
    extra: list[tuple[str, Any]] = [("ingest_batch", 0), ("data_date", AS_OF.isoformat())]
    if feed.name == "customers":
        extra += [("branch_id", branch_id), ("created_at", now_value), ("updated_at", now_value)]
        extra += [("name_pinyin", ""), ("name_initials", "")]  # the importer computes these; left empty here
    written = {*plan.columns, *(c for c, _ in extra), "id", "row_hash", "tail", "collector_branch_id"}
    for f in model._meta.concrete_fields:
        if f.column in written or f.null or f.db_default is not NOT_PROVIDED:
            continue
        if f.default is NOT_PROVIDED:
            raise SystemExit(f"the baseline does not know how to fill {plan.table}.{f.column}")
        extra.append((f.column, _default_text(f, NOT_PROVIDED)))  # e.g. a customer's AUM: 0
    # Row layout: [id] + kept CSV columns + derived columns + constants.
    if feed.name == "contacts":
        at = plan.keep.index(feed.column_names.index("value"))
        plan.columns.append("tail")  # the last four digits, as the importer and ContactPoint.save() do
        plan.derive = lambda v: (_NOT_DIGIT.sub("", v[at])[-4:],)
    elif feed.name == "consents":
        at = plan.keep.index(feed.column_names.index("collector_employee_no"))
        subs = lookups["staff_sub_branch"]
        plan.columns.append("collector_branch_id")  # the collector's sub-branch, as the importer sets it
        plan.derive = lambda v: (subs.get(v[at]),)
    plan.columns += [c for c, _ in extra]
    plan.extra = tuple(v for _, v in extra)
    if feed.name == "customers":
        plan.columns.insert(0, "id")
    return plan


def _default_text(f: Any, not_provided: Any) -> Any:
    """A NOT NULL column's default as the text both drivers take for it ("" when it has none)."""
    if f.default is not_provided:
        return ""
    value = f.get_default()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _bulk_feed(feed: Any, path: Path, branch_id: int, lookups: dict[str, dict[Any, Any]]) -> int:
    from django.db import connection

    plan = _plan(feed, branch_id, lookups)
    sqlite = connection.vendor == "sqlite"
    to_time = _sqlite_time if sqlite else _pg_time
    customers = lookups["customer"]
    tags = lookups["tag"]
    keep, fill, refs, times, extra, derive = (
        plan.keep,
        plan.fill,
        plan.refs,
        plan.times,
        plan.extra,
        plan.derive,
    )
    pairs = list(zip(keep, fill, strict=True))
    is_customers = feed.name == "customers"
    next_id = len(customers) + 1
    count = 0
    batch: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for row in _csv_rows(path):
        values = [row[i] or d for i, d in pairs]
        for at, lookup in refs:
            key = values[at]
            values[at] = lookup[key] if key is not None else None
        for at in times:
            if values[at] is not None:
                values[at] = to_time(values[at])
        if derive is not None:
            values.extend(derive(values))
        if is_customers:
            customers[row[0]] = next_id
            if row[plan.tags_at]:
                links.extend((next_id, tags[code]) for code in row[plan.tags_at].split("|"))
            batch.append((next_id, *values, *extra))
            next_id += 1
        else:
            batch.append((*values, *extra))
        if len(batch) >= CHUNK:
            count += _write(plan, batch, links)
            batch, links = [], []
    if batch:
        count += _write(plan, batch, links)
    if is_customers and not sqlite:
        with connection.cursor() as cur:  # ids were given explicitly: move the identity on past them
            cur.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [plan.table, max(next_id - 1, 1)]
            )
    return count


def _write(plan: _Plan, batch: list[tuple[Any, ...]], links: list[tuple[int, int]]) -> int:
    _insert(plan.table, plan.columns, batch)
    if links:
        _insert("customers_customer_tags", ["customer_id", "tag_id"], links)
    return len(batch)


def _insert(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    from django.db import connection

    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    raw = connection.connection
    if connection.vendor == "sqlite":
        marks = ", ".join("?" * len(columns))
        cur = raw.cursor()
        cur.executemany(f"INSERT INTO {q(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608
        cur.close()
    else:
        with raw.cursor() as cur, cur.copy(f"COPY {q(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _sqlite_time(text: str) -> str:
    """Beijing wall time (the contract's) -> the naive UTC text Django keeps in SQLite."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return (moment - _EIGHT_HOURS).isoformat(" ")


def _pg_time(text: str) -> str:
    """Beijing wall time -> a timestamptz literal PostgreSQL parses itself."""
    return text + "+08:00" if len(text) == 19 else text


if __name__ == "__main__":
    main()
