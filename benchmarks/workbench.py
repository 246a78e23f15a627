"""Benchmark of the workbench (issue 6): the call screen, save-and-next and the bulk allocation at 1,000,000
customers, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/workbench.py --customers 20000 --runs 1            # a quick check
    .venv/bin/python benchmarks/workbench.py --db both --runs 3 --json /tmp/workbench.json
    .venv/bin/python benchmarks/workbench.py --db postgres --parts calls --explain  # the list's query plans

The data (benchmarks/workbench_data.py, seed --seed; built once per database and kept, not timed): one branch
of N customers in 5 sub-branches, 20 teams, a branch head, 20 team leads and 200 people who work call lists
(150 telemarketers, 50 loan managers who own half of the customers); per customer a mobile number, a phone
marketing consent for 85 % (3 % withdrawn later, 20 % also on WeChat), opt-outs (2.5 %, plus everyone who
refused), credit lines 13 %, loans 29 %, cards 34 %, deposits 50 %; 1-2 pool memberships of one published
pipeline run (blocked when not workable) and a score for 95 % of the workable; about 3 outcomes a customer
over the past 180 days (3 million at a million customers; refusals last, with their opt-out; follow-ups;
corrections); 300 active assignments for each of the 200 people (fewer on a small branch) and N/10 ended
ones. The benchmarked telemarketer has 300 active assignments (15 no longer callable) and 30 follow-ups due.
The allocation's pool holds exactly N/5 unowned, workable customers nobody works, besides customers it must
skip. The database is the benchmark's own: SQLite under --workdir, or `bench_workbench_<N>` on the local
PostgreSQL (created, kept for the next run, dropped with --drop); never `test` nor the developers' database.

What is timed, in one process per database, with the clock pinned to a working Monday at 10:00 in Shanghai
(inside the calling window, as tests/outreach_data.py does it), through Django's test client (middleware,
scoping, audit, templates; no network), logged in as the telemarketer, after --warmup untimed requests:

* calls: --requests GETs of the call screen (/work/call/<id>/?channel=phone) over different customers of the
  list, interleaved with the baseline, the customer page (/customers/<id>/) of the same customer; 50 GETs of
  today's list (/work/); then --requests saves (POST of the outcome form, `no_answer`, as the call screen
  sends it: it records the outcome, checks the contact rules and redirects to the next customer), each
  followed by the GET of the next call screen it redirects to. p50, p95, max per run.
* alloc: the preview (`plan_allocation`) and the commit (`allocate_customers`) of the pool's N/5 customers to
  the 200 people (400 a day for 5 days each, 5 % control group), and the baseline: a raw bulk insert of the
  same assignment rows (executemany / COPY) plus one UPDATE of the customers' worker. Interleaved; the
  assignments are undone between runs (not timed).

Each part runs --runs times (undoing what it wrote in between); the figures are the medians of the runs.
Printed: the machine, the load average, the CPU other processes used while each part ran, peak RSS, the
query count of each page; --json keeps everything. The figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/xiaodai-bench-work")  # noqa: S108 (the benchmark's own databases, kept between runs)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULT = "WORKBENCH-RESULT "
PARTS = ("calls", "alloc")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each kind per run")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests of each kind per run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parts", default=",".join(PARTS), help="any of calls,alloc")
    parser.add_argument("--workdir", type=Path, default=WORK)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--rebuild", action="store_true", help="build the data again even if it is there")
    parser.add_argument("--drop", action="store_true", help="delete the databases at the end")
    parser.add_argument("--explain", action="store_true", help="print the plans of the list's queries")
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if set(parts) - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(set(parts) - set(PARTS)))}")
    if args.child:
        result = _child(args, args.child, parts)
        print(RESULT + json.dumps(result, default=str), flush=True)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: _spawn(db) for db in dbs}
    _summary(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        print(f"figures written to {args.json}")


def _open_database(
    db: str, home: Path, name: str, marker: Path, args: argparse.Namespace, fmt: int
) -> dict[str, Any] | None:
    """Point Django at the benchmark's own database (SQLite under `home`, or PostgreSQL `name`), set it up
    and migrate it. Returns the saved build marker, or None when the data must be built (again)."""
    saved = None if args.rebuild else _load_marker(marker, args.customers, args.seed, fmt)
    if saved is None and home.exists():
        shutil.rmtree(home)  # the benchmark's own folder: a database without a valid marker is rebuilt
    home.mkdir(parents=True, exist_ok=True)
    os.environ["XIAODAI_VAR_DIR"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("XIAODAI_LOG_LEVEL", "WARNING")
    if db == "postgres":
        os.environ["XIAODAI_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        _pg_database(name, fresh=saved is None)
    else:
        os.environ.pop("XIAODAI_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a no-op on a database that is up to date
    return saved


def _spawn(db: str, script: str = __file__, marker: str = RESULT) -> dict[str, Any]:
    """One database in a child process (`script` run with --child DB; its result is the line starting with
    `marker`): Django reads its settings (and so its database) once."""
    argv: list[str] = []
    skip = False
    for arg in sys.argv[1:]:  # everything but --db
        if skip or arg.startswith("--db="):
            skip = False
            continue
        skip = arg == "--db"
        if not skip:
            argv.append(arg)
    command = [sys.executable, str(Path(script).resolve()), *argv, "--child", db]
    found: list[str] = []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:  # noqa: S603
        assert child.stdout is not None
        for line in child.stdout:  # streamed: a build at a million customers takes minutes
            if line.startswith(marker):
                found.append(line)
            else:
                print(line, end="", flush=True)
    if child.returncode != 0 or not found:
        raise SystemExit(f"{db}: the benchmark failed (exit {child.returncode})")
    return dict(json.loads(found[-1][len(marker) :]))


# --- the child: one database ------------------------------------------------------------------------------


def _child(args: argparse.Namespace, db: str, parts: list[str]) -> dict[str, Any]:
    home = args.workdir / f"{db}-{args.customers}"
    name = f"bench_workbench_{args.customers}"
    marker = home / "built.json"
    _die_with_parent()
    args.workdir.mkdir(parents=True, exist_ok=True)
    lock = (args.workdir / f"{db}-{args.customers}.lock").open("w")
    try:  # two runs on one database would undo each other's writes and share the CPU
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"[{db}] another run is using {home}; wait for it to finish") from None
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import workbench_data as data

    saved = _open_database(db, home, name, marker, args, data.FORMAT)
    if saved is None:
        print(f"[{db}] building {args.customers:,} customers (seed {args.seed}; not timed) ...", flush=True)
        built = data.build(args.customers, args.seed, progress=lambda m: print(f"[{db}] {m}", flush=True))
        marker.write_text(json.dumps({"format": data.FORMAT, **built.as_json()}), encoding="utf-8")
        print(
            f"[{db}] built in {built.seconds:.0f} s: "
            + ", ".join(f"{t} {n:,}" for t, n in built.rows.items())
        )
    else:
        built = data.Built(**saved)
    data.reset(built)
    result: dict[str, Any] = {"db": db, "machine": _machine(db), "data": built.as_json()}
    result["data"].pop("list_customers")
    result["data"].pop("workers")
    _print_machine(db, result["machine"], args)
    try:
        if "calls" in parts:
            result["calls"] = _bench_calls(db, built, args, data)
        if "alloc" in parts:
            result["alloc"] = _bench_alloc(db, built, args, data)
    finally:
        data.reset(built)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load_end"] = os.getloadavg()
    if args.drop:
        _drop(db, home, name)
    return result


def _die_with_parent() -> None:
    """End with the parent (a `timeout` or Ctrl-C there), through SystemExit so the data is reset first."""
    import ctypes
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with suppress(AttributeError, OSError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)


def _pg_database(name: str, *, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or fresh:
            con.execute(f'CREATE DATABASE "{name}"')


def _drop(db: str, home: Path, name: str) -> None:
    from django.db import connection

    connection.close()
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(home, ignore_errors=True)
    print(f"[{db}] dropped the benchmark's database", flush=True)


def _load_marker(path: Path, customers: int, seed: int, version: int) -> dict[str, Any] | None:
    """What the last build wrote, if it built this data with this generator."""
    if not path.exists():
        return None
    saved = dict(json.loads(path.read_text(encoding="utf-8")))
    if saved.pop("format", None) != version or saved["customers"] != customers or saved["seed"] != seed:
        return None
    return saved


# --- the machine and the noise ------------------------------------------------------------------------------


def _machine(db: str) -> dict[str, Any]:
    import sqlite3

    import django
    from django.db import connection

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)  # noqa: S607
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=ROOT)  # noqa: S607
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else ""),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "load_start": os.getloadavg(),
        "conn_max_age": connection.settings_dict.get("CONN_MAX_AGE"),
    }
    if db == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["database"] = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        info["database"] = f"SQLite {sqlite3.sqlite_version}"
    return info


def _print_machine(db: str, m: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"[{db}] date      {m['date']} (UTC), commit {m['commit']}")
    print(f"[{db}] machine   {m['cores']} cores, {m['cpu']}; Python {m['python']}, Django {m['django']}")
    print(f"[{db}] database  {m['database']}, CONN_MAX_AGE {m['conn_max_age']}; {args.customers:,} customers")
    print(
        f"[{db}] load      {' '.join(f'{v:.2f}' for v in m['load_start'])} (1, 5, 15 min) at the start",
        flush=True,
    )


def _busy() -> float:
    """CPU seconds the whole machine has been busy, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


@contextmanager
def _watch(into: dict[str, Any]) -> Iterator[None]:
    """Wall seconds, this process's CPU and the cores everything else used meanwhile (with PostgreSQL,
    its server is part of everything else)."""
    busy, own, began = _busy(), _own_cpu(), time.perf_counter()
    yield
    wall = time.perf_counter() - began
    mine = _own_cpu() - own
    into["seconds"] = round(wall, 3)
    into["cpu"] = round(mine, 3)
    into["others_cores"] = round(max(0.0, (_busy() - busy - mine) / wall), 3) if wall else 0.0
    into["load"] = os.getloadavg()[0]


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))]


def _dist(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2),
        "p95": round(_pct(values, 0.95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


@contextmanager
def _frozen() -> Iterator[None]:
    """The pages read timezone.now(): pin it inside the calling window, as tests/outreach_data.py does."""
    from unittest import mock

    from workbench_data import NOW

    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        yield


# --- calls: the call screen, today's list, save and next ------------------------------------------------


def _timed(client: Any, method: str, url: str, data: dict[str, str] | None = None) -> tuple[float, Any]:
    began = time.perf_counter()
    response = client.post(url, data) if method == "POST" else client.get(url)
    return (time.perf_counter() - began) * 1000, response


def _bench_calls(db: str, built: Any, args: argparse.Namespace, data: Any) -> dict[str, Any]:
    from django.test import Client

    from xiaodai.org.models import Staff
    from xiaodai.outreach import selectors

    tele = Staff.objects.select_related("user").get(pk=built.tele_id)
    runs: list[dict[str, Any]] = []
    for n in range(args.runs):
        with _frozen():
            client = Client(HTTP_HOST="localhost")
            client.force_login(tele.user)
            now = data.NOW.astimezone(dt.UTC)
            listed = [r.customer.pk for r in selectors.call_list(tele, "phone", now, more=True).rows]
            need = args.warmup + args.requests
            if len(listed) < need:
                raise SystemExit(f"the list has {len(listed)} customers, {need} are needed")
            run: dict[str, Any] = {"list_size": len(listed)}
            timings: dict[str, list[float]] = {"call": [], "detail": [], "today": [], "save": [], "next": []}
            with _watch(run):
                for i, cid in enumerate(listed[:need]):
                    pair = [("call", f"/work/call/{cid}/?channel=phone"), ("detail", f"/customers/{cid}/")]
                    for label, url in pair if i % 2 else reversed(pair):  # interleaved, alternating
                        ms, response = _timed(client, "GET", url)
                        assert response.status_code == 200, (url, response.status_code)
                        if i >= args.warmup:
                            timings[label].append(ms)
                for i in range(args.warmup + 50):
                    ms, response = _timed(client, "GET", "/work/?channel=phone")
                    assert response.status_code == 200
                    if i >= args.warmup:
                        timings["today"].append(ms)
                current = listed[0]
                for i in range(need):
                    form = {"token": str(uuid.uuid4()), "channel": "phone", "outcome": "no_answer"}
                    ms, response = _timed(client, "POST", f"/work/call/{current}/", form)
                    assert response.status_code == 302, (current, response.status_code)
                    following = response["Location"]
                    ms_next, page = _timed(client, "GET", following)
                    assert page.status_code == 200, (following, page.status_code)
                    if i >= args.warmup:
                        timings["save"].append(ms)
                        timings["next"].append(ms_next)
                    if not following.startswith("/work/call/"):
                        raise SystemExit(f"the list ran out after {i + 1} saves")
                    current = int(following.split("/")[3])
            run["pages"] = {k: _dist(v) for k, v in timings.items()}
            run["samples"] = {k: [round(x, 2) for x in v] for k, v in timings.items()}
            if n == 0:
                run["queries"] = _queries(client, listed[need], listed[need + 1])
                if args.explain:
                    _explain(tele, now)
        data.reset(built)
        runs.append(run)
        pages = run["pages"]
        print(
            f"[{db}] calls run {n + 1}: "
            + "; ".join(
                f"{k} p50 {v['p50']:.1f} p95 {v['p95']:.1f} max {v['max']:.1f} ms" for k, v in pages.items()
            )
            + f" | others used {run['others_cores']:.2f} cores, load {run['load']:.2f}",
            flush=True,
        )
    summary = {
        k: {
            stat: round(statistics.median(r["pages"][k][stat] for r in runs), 2)
            for stat in ("p50", "p95", "max")
        }
        for k in runs[0]["pages"]
    }
    return {"runs": runs, "median_of_runs": summary}


def _queries(client: Any, first: int, second: int) -> dict[str, Any]:
    """Queries per page, and the slowest few (with the debug cursor's timings), on one request each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    found: dict[str, Any] = {}
    for label, method, url in (
        ("call", "GET", f"/work/call/{first}/?channel=phone"),
        ("detail", "GET", f"/customers/{first}/"),
        ("today", "GET", "/work/?channel=phone"),
        ("save", "POST", f"/work/call/{second}/"),
    ):
        form = {"token": str(uuid.uuid4()), "channel": "phone", "outcome": "no_answer"}
        with CaptureQueriesContext(connection) as captured:
            _timed(client, method, url, form if method == "POST" else None)
        slow = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        found[label] = {
            "count": len(captured.captured_queries),
            "ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
            "slowest": [{"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:300]} for q in slow],
        }
    return found


def _explain(tele: Any, now: dt.datetime) -> None:
    from django.db import connection

    from xiaodai.outreach import rules, selectors

    qs = selectors.eligible(tele, "phone", now, rules.policy_for(tele.branch_id))
    analyze = connection.vendor == "postgresql"  # EXPLAIN ANALYZE there; SQLite has EXPLAIN QUERY PLAN
    for label, query in (
        ("next_customer: its first row", qs.values_list("pk", flat=True)[:1]),
        ("call_list", qs),
    ):
        print(f"--- {label}: selectors.eligible(...)")
        print(query.explain(analyze=True) if analyze else query.explain())


# --- allocation ---------------------------------------------------------------------------------------------


def _bench_alloc(db: str, built: Any, args: argparse.Namespace, data: Any) -> dict[str, Any]:
    from xiaodai.allocation.planning import AllocationParams, plan_allocation
    from xiaodai.allocation.services import allocate_customers
    from xiaodai.org.models import Staff

    head = Staff.objects.select_related("user").get(pk=built.head_id)
    params = AllocationParams(
        pool=data.ALLOC_POOL,
        target="people",
        people=tuple(built.workers),
        capacity=400,
        days=5,
        control_share=Decimal("0.05"),
    )
    want = built.customers // 5
    runs: list[dict[str, Any]] = []
    for n in range(args.runs):
        run: dict[str, Any] = {}
        with _frozen():
            preview: dict[str, Any] = {}
            with _watch(preview):
                plan = plan_allocation(head, params, seed=n + 1)
            assert plan.allocated == want, (plan.allocated, want)
            assert not plan.over, plan.over
            preview["allocated"] = plan.allocated
            run["preview"] = preview
            order: list[tuple[str, Callable[[], Any]]] = [
                ("service", partial(allocate_customers, head, params, seed=n + 1)),
                ("baseline", partial(_raw_allocation, plan, head, data)),
            ]
            for label, job in order if n % 2 == 0 else reversed(order):
                figures: dict[str, Any] = {}
                with _watch(figures), _statements(figures):
                    done = job()
                figures["written"] = _written(data, built)
                assert figures["written"] == want, (label, figures["written"], want)
                if label == "service":
                    figures["held_back"] = done.held_back
                run[label] = figures
                data.reset(built)  # not timed
        runs.append(run)
        print(
            f"[{db}] alloc run {n + 1}: preview {run['preview']['seconds']:.2f} s, "
            f"allocate_customers {run['service']['seconds']:.2f} s, "
            f"raw baseline {run['baseline']['seconds']:.2f} s "
            f"({want:,} customers to {len(built.workers)} people) | others used "
            f"{max(run[k]['others_cores'] for k in ('preview', 'service', 'baseline')):.2f} cores",
            flush=True,
        )
    summary = {
        k: round(statistics.median(r[k]["seconds"] for r in runs), 2)
        for k in ("preview", "service", "baseline")
    }
    return {"runs": runs, "median_of_runs": summary, "customers": want, "people": len(built.workers)}


@contextmanager
def _statements(into: dict[str, Any]) -> Iterator[None]:
    """Seconds per SQL statement (the slowest five, by their first words); COPY and the commit are not
    statements here: they are in what is left of the wall time."""
    from django.db import connection

    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}

    def clock(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:100]
            seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - began
            counts[key] = counts.get(key, 0) + 1

    with connection.execute_wrapper(clock):
        yield
    top = sorted(seconds.items(), key=lambda kv: -kv[1])[:5]
    into["statements"] = [{"seconds": round(v, 2), "times": counts[k], "sql": k} for k, v in top]
    into["sql_seconds"] = round(sum(seconds.values()), 2)


def _written(data: Any, built: Any) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM allocation_assignment WHERE id > %s",
            [built.max_ids["allocation_assignment"]],
        )
        return int(cursor.fetchone()[0])


def _raw_allocation(plan: Any, head: Any, data: Any) -> None:
    """The baseline: the plan's rows written with no checks, as fast as this database takes them: in
    customer-id order (rows in plan order land on random pages: 1.6x slower on PostgreSQL), one bulk write,
    one UPDATE ... FROM."""
    from django.db import connection, transaction

    w = data.Writer()
    created = w.ts([data.NOW_UTC.strftime("%Y-%m-%d %H:%M:%S")])[0]
    protected = (data.TODAY + dt.timedelta(days=30)).isoformat()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO allocation_allocationbatch (branch_id, created_by_id, created_at, params, "
            "allocated, to_owner, held_back, skipped) VALUES (%s, %s, %s, %s, %s, 0, %s, %s)",
            [head.branch_id, head.pk, created, "{}", plan.allocated, plan.held_back, plan.skipped_total],
        )
        cursor.execute("SELECT MAX(id) FROM allocation_allocationbatch")
        batch = cursor.fetchone()[0]
        team = plan.team_of
        rows = [
            (head.branch_id, cid, sid, team.get(sid), "allocation", "active", pool, int(control), batch, "",
             created, protected, "", head.pk)
            for cid, sid, pool, control in sorted(plan.picks)  # in customer-id order: the fast way
        ]  # fmt: skip
        w.put(
            "allocation_assignment",
            rows,
            ["branch_id", "customer_id", "staff_id", "team_id", "kind", "status", "pool", "control",
             "batch_id", "note", "created_at", "protected_until", "end_reason", "created_by_id"],
        )  # fmt: skip
        cursor.execute(
            "UPDATE customers_customer SET worker_id = a.staff_id FROM (SELECT customer_id, staff_id FROM "
            "allocation_assignment WHERE batch_id = %s ORDER BY customer_id) a "
            "WHERE a.customer_id = customers_customer.id",
            [batch],
        )


# --- the summary --------------------------------------------------------------------------------------------


def _summary(results: dict[str, dict[str, Any]]) -> None:
    print("\n=== workbench: medians of the runs (ms for pages, s for the allocation) ===")
    for db, r in results.items():
        m = r["machine"]
        print(
            f"{db}: {r['data']['customers']:,} customers, {m['database']}, "
            f"load at start {m['load_start'][0]:.2f}"
        )
        if "calls" in r:
            print(f"  {'page':<34} {'p50':>8} {'p95':>8} {'max':>8}   target p95")
            names = {
                "call": "call screen GET",
                "save": "save and next POST",
                "next": "call screen after a save",
                "today": "today's list GET",
                "detail": "baseline: customer page GET",
            }
            for key, label in names.items():
                s = r["calls"]["median_of_runs"][key]
                target = (
                    "≤ 150 ms " + ("met" if s["p95"] <= 150 else "MISSED") if key in ("call", "save") else ""
                )
                print(f"  {label:<34} {s['p50']:8.1f} {s['p95']:8.1f} {s['max']:8.1f}   {target}")
            q = r["calls"]["runs"][0].get("queries", {})
            if q:
                print(
                    "  queries per request: "
                    + ", ".join(f"{k} {v['count']} ({v['ms']} ms)" for k, v in q.items())
                )
        if "alloc" in r:
            a = r["alloc"]["median_of_runs"]
            met = "met" if a["service"] <= 30 else "MISSED"
            print(
                f"  allocation of {r['alloc']['customers']:,} to {r['alloc']['people']} people: "
                f"allocate_customers {a['service']:.2f} s (≤ 30 s {met}), preview {a['preview']:.2f} s, "
                f"raw baseline {a['baseline']:.2f} s ({a['service'] / a['baseline']:.1f}x)"
            )
        print(f"  peak RSS {r['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
