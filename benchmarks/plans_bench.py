"""Benchmark of targets, dashboards and the daily report (issue 8) at 1,000,000 customers and 5,000,000
outcomes, on SQLite and PostgreSQL. Targets: every dashboard page ≤ 300 ms p95; the daily report of the
whole branch (the Excel export) ≤ 10 s.

    .venv/bin/python benchmarks/plans_bench.py --db both --customers 20000 --requests 5   # a quick check
    .venv/bin/python benchmarks/plans_bench.py --db both --json /tmp/plans.json           # the full run

The data (benchmarks/plans_data.py, seed --seed; built once per database and kept, not timed): the workbench's
branch of N customers (benchmarks/workbench_data.py: 5 sub-branches, 20 teams, 200 people who work lists)
with a year of work: 5 outcomes a customer over 365 days (~60 % not reached), about one list entry a
customer, consumer loans, credit lines and applications over the year (most after a listing), events held,
a year of daily balance stocks, a month plan (November) and a quarter plan (Q4) with targets for every
figure at branch, sub-branch, team and person level, ten closed month plans, and a running competition of
30 people with 3 rules. The database is the benchmark's own: SQLite under --workdir, or `bench_plans_<N>` on
the local PostgreSQL (created, kept for the next run, dropped with --drop); never `test`.

What is timed, in one process per database, with the clock pinned to Monday 30 November 2026 10:00 in
Shanghai (the data's "now"):

* the rollup (a background job, no target; written down because the pages depend on it):
  `rollup.refresh_all(branch)` once (every day of the year and the funnel of every list day; skip it with
  --no-refresh-all on a database that already has it), the running plans' funnel flags the refresh job
  works out after it (`deviations.keep_branch_flags`, always: the pages read them), and
  `rollup.refresh_routine(branch)` (the nightly one: the last week and the funnel's last 90 list days)
  --runs times, median;
* the pages, through Django's test client (middleware, scoping, templates; no network), logged in as the
  branch head (the whole branch) and, for the dashboard, as a team lead: the dashboard, the funnel, the
  funnel by person, the daily report page, the month plan (and its Check part's deviations, which the page
  loads after itself: from the kept flags, and once more with none kept, as between a plan's making and its
  flags job: the page then asks the job queue for them and shows the rest), the plans list, the
  competition's leaderboard
  and the first page of the calls behind this month's figure. After --warmup untimed rounds, --requests
  rounds, each round requesting every page once in a rotating order (so a slow minute hits every page
  alike); p50, p95, max, and the query count of each page (one extra request);
* the baseline, in the same rounds: the raw grouped SQL the dashboard would need without the rollup (this
  month's calls, reached contacts, visits and referrals per person from `outreach_outcome`, and the
  disbursed and approved amounts per person from loans and credit lines joined to the customers), and the
  same figures read from the rollup (`read.values(head, month, by="staff_id")`): what pre-aggregation buys;
* the daily report of the whole branch as Excel (`reports:daily_export`), --exports times, median, against
  the 10 s target.

A page whose URL name does not resolve yet, or that fails on its first request, is skipped with a note (the
pages are being written). Printed: the machine, the load average, the CPU other processes used while each
part ran (with PostgreSQL, its server counts as "others"), peak RSS, a table per database; --json keeps
everything. The figures are in docs/benchmarks.md ("Targets, dashboards and the daily report").
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import workbench as wb  # noqa: E402 (the workbench benchmark's machine, noise and database helpers)

RESULT = "PLANS-RESULT "
PAGE_TARGET_MS = 300.0
EXPORT_TARGET_S = 10.0
MONTH = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@dataclass(frozen=True)
class Page:
    label: str
    who: str  # "head" or "lead"
    name: str  # URL name
    arg: str = ""  # the Built field holding the URL's pk, if any
    query: str = ""
    live: bool = False  # without the funnel flags the refresh job keeps: the page asks the queue for them


PAGES = (
    Page("dashboard", "head", "reports:dashboard"),
    Page("dashboard (team lead)", "lead", "reports:dashboard"),
    Page("funnel", "head", "reports:funnel"),
    Page("funnel by person", "head", "reports:funnel", query="?by=staff_id"),
    Page("daily report page", "head", "reports:daily"),
    Page("month plan", "head", "plans:detail", arg="month_plan_id"),
    Page("month plan: deviations (loaded after it)", "head", "plans:deviations", arg="month_plan_id"),
    Page("  the same, no flags kept yet", "head", "plans:deviations", arg="month_plan_id", live=True),
    Page("month plan (team lead)", "lead", "plans:detail", arg="month_plan_id"),
    Page("  its deviations (team lead)", "lead", "plans:deviations", arg="month_plan_id"),
    Page("plans list", "head", "plans:list"),
    Page("competition leaderboard", "head", "plans:competition", arg="competition_id"),
    Page("records: calls, 1st page", "head", "reports:records",
         query=f"?figure=calls&from={MONTH[0]}&to={MONTH[1]}"),
)  # fmt: skip
EXPORT = Page("daily report Excel", "head", "reports:daily_export")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed routine refreshes (0: the pages only)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests of each page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests of each page")
    parser.add_argument("--exports", type=int, default=5, help="timed Excel exports of the daily report")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=wb.WORK)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--rebuild", action="store_true", help="build the data again even if it is there")
    parser.add_argument("--no-refresh-all", action="store_true", help="keep the rollup already there")
    parser.add_argument("--drop", action="store_true", help="delete the databases at the end")
    parser.add_argument("--profile", action="store_true", help="print where one request of each page goes")
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = _child(args, args.child)
        print(RESULT + json.dumps(result, default=str), flush=True)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: wb._spawn(db, __file__, RESULT) for db in dbs}
    _summary(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        print(f"figures written to {args.json}")


# --- the child: one database --------------------------------------------------------------------------------


def _child(args: argparse.Namespace, db: str) -> dict[str, Any]:
    home = args.workdir / f"plans-{db}-{args.customers}"
    name = f"bench_plans_{args.customers}"
    marker = home / "built.json"
    wb._die_with_parent()
    args.workdir.mkdir(parents=True, exist_ok=True)
    lock = (args.workdir / f"plans-{db}-{args.customers}.lock").open("w")
    try:  # two runs on one database would share the CPU and rebuild each other's rollup
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"[{db}] another run is using {home}; wait for it to finish") from None
    import plans_data as data

    saved = wb._open_database(db, home, name, marker, args, data.FORMAT)
    with wb._frozen():
        if saved is None:
            print(
                f"[{db}] building {args.customers:,} customers (seed {args.seed}; not timed) ...", flush=True
            )
            built = data.build(args.customers, args.seed, progress=lambda m: print(f"[{db}] {m}", flush=True))
            marker.write_text(json.dumps({"format": data.FORMAT, **built.as_json()}), encoding="utf-8")
            print(
                f"[{db}] built in {built.seconds:.0f} s: "
                + ", ".join(f"{t} {n:,}" for t, n in built.rows.items()),
                flush=True,
            )
        else:
            built = data.Built(**saved)
        result: dict[str, Any] = {"db": db, "machine": wb._machine(db), "data": built.as_json()}
        wb._print_machine(db, result["machine"], args)
        result["rollup"] = _bench_rollup(db, built, args)
        result["data"]["sizes"] = _sizes()  # the rollup's tables as the pages read them
        print(f"[{db}] rows: " + ", ".join(f"{t} {n:,}" for t, n in result["data"]["sizes"].items()))
        result["pages"] = _bench_pages(db, built, args)
        result["export"] = _bench_export(db, built, args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load_end"] = os.getloadavg()
    if args.drop:
        wb._drop(db, home, name)
    return result


def _sizes() -> dict[str, int]:
    """Rows of the tables the figures come from and of the rollup."""
    from django.db import connection

    tables = ("customers_customer", "outreach_outcome", "allocation_assignment", "customers_loan",
              "customers_creditline", "customers_application", "plans_marketingevent", "plans_target",
              "plans_figurefact", "plans_funnelfact")  # fmt: skip
    with connection.cursor() as cursor:
        found = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our own names)
            found[table] = int(cursor.fetchone()[0])
    return found


# --- the rollup ---------------------------------------------------------------------------------------------


def _bench_rollup(db: str, built: Any, args: argparse.Namespace) -> dict[str, Any]:
    from xiaodai.plans import deviations, rollup

    out: dict[str, Any] = {}
    if not args.no_refresh_all:
        print(f"[{db}] refresh_all (every day of the year, the funnel of every list day) ...", flush=True)
        whole: dict[str, Any] = {}
        with wb._watch(whole):
            done = rollup.refresh_all(built.branch_id)
        whole.update(fact_rows=done.fact_rows, funnel_rows=done.funnel_rows, days_from=done.days_from)
        out["refresh_all"] = whole
        print(
            f"[{db}] refresh_all {whole['seconds']:.1f} s ({done.fact_rows:,} fact rows, "
            f"{done.funnel_rows:,} funnel rows) | others used {whole['others_cores']:.2f} cores",
            flush=True,
        )
    runs = []
    for _ in range(args.runs):
        run: dict[str, Any] = {}
        with wb._watch(run):
            done = rollup.refresh_routine(built.branch_id)
        run.update(fact_rows=done.fact_rows, funnel_rows=done.funnel_rows)
        runs.append(run)
    # The refresh job's last step, after the last refresh above: the running plans' funnel flags for the
    # branch and each team (the pages read them); always run, so the pages find them good.
    flags: dict[str, Any] = {}
    with wb._watch(flags):
        flags["sets"] = deviations.keep_branch_flags(built.branch_id, rollup.local_today())
    out["keep_flags"] = flags
    print(f"[{db}] keep_branch_flags {flags['seconds']:.2f} s ({flags['sets']} sets)", flush=True)
    if not runs:  # --runs 0: the pages only
        return out
    out["routine"] = {"runs": runs, "median": round(statistics.median(r["seconds"] for r in runs), 2)}
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(
        f"[{db}] refresh_routine median {out['routine']['median']:.2f} s (runs {each}) | others used "
        f"{max(r['others_cores'] for r in runs):.2f} cores",
        flush=True,
    )
    return out


# --- the pages ----------------------------------------------------------------------------------------------


def _clients(built: Any) -> dict[str, Any]:
    from django.test import Client

    from xiaodai.org.models import Staff

    clients = {}
    for who, pk in (("head", built.head_id), ("lead", built.lead_id)):
        client = Client(HTTP_HOST="localhost")
        client.force_login(Staff.objects.select_related("user").get(pk=pk).user)
        clients[who] = client
    return clients


def _url(page: Page, built: Any) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse(page.name, args=[getattr(built, page.arg)] if page.arg else [])
    except NoReverseMatch:
        return None
    return path + page.query


def _get(client: Any, url: str) -> tuple[float, Any]:
    began = time.perf_counter()
    response = client.get(url)
    _body(response)
    return (time.perf_counter() - began) * 1000, response


def _usable(db: str, page: Page, built: Any, clients: dict[str, Any]) -> str | None:
    """The page's URL if it resolves and answers 200, else None (with a note)."""
    url = _url(page, built)
    if url is None:
        print(f"[{db}] note: {page.name} does not resolve yet: '{page.label}' skipped", flush=True)
        return None
    try:
        _ms, response = _get(clients[page.who], url)
    except Exception as error:  # a page being written may fail: note it and time the others
        print(
            f"[{db}] note: {url} raised {type(error).__name__}: {error}: '{page.label}' skipped", flush=True
        )
        return None
    if response.status_code != 200:
        print(f"[{db}] note: {url} answered {response.status_code}: '{page.label}' skipped", flush=True)
        return None
    return url


def _baseline(branch: int) -> Callable[[], Any]:
    """The dashboard's figures per person without the rollup: raw grouped SQL over the source tables."""
    from django.db import connection

    from xiaodai.plans.rollup import _bounds

    lo, hi = (connection.ops.adapt_datetimefield_value(v) for v in _bounds(*MONTH))
    start, end = (connection.ops.adapt_datefield_value(v) for v in MONTH)
    outcomes = (
        "SELECT o.staff_id, SUM(CASE WHEN o.channel = 'phone' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.outcome NOT IN ('no_answer', 'busy', 'wrong_number') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.channel = 'visit' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.outcome IN ('will_apply', 'applied') THEN 1 ELSE 0 END) "
        "FROM outreach_outcome o WHERE o.branch_id = %s AND o.occurred_at >= %s AND o.occurred_at < %s "
        "AND NOT EXISTS (SELECT 1 FROM outreach_outcome c WHERE c.corrects_id = o.id) GROUP BY o.staff_id"
    )
    loans = (
        "SELECT COALESCE(c.owner_id, c.worker_id), SUM(l.amount) FROM customers_loan l "
        "JOIN customers_customer c ON c.id = l.customer_id WHERE c.branch_id = %s AND l.kind = 'consumer' "
        "AND l.disbursed_on BETWEEN %s AND %s GROUP BY COALESCE(c.owner_id, c.worker_id)"
    )
    lines = (
        'SELECT COALESCE(c.owner_id, c.worker_id), SUM(l."limit") FROM customers_creditline l '
        "JOIN customers_customer c ON c.id = l.customer_id WHERE c.branch_id = %s "
        "AND l.approved_on BETWEEN %s AND %s GROUP BY COALESCE(c.owner_id, c.worker_id)"
    )

    def run() -> int:
        rows = 0
        with connection.cursor() as cursor:
            for sql, params in ((outcomes, [branch, lo, hi]), (loans, [branch, start, end]),
                                (lines, [branch, start, end])):  # fmt: skip
                cursor.execute(sql, params)
                rows += len(cursor.fetchall())
        return rows

    return run


def _bench_pages(db: str, built: Any, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xiaodai.core.startup import settle
    from xiaodai.org.models import Staff
    from xiaodai.plans import read

    clients = _clients(built)
    head = Staff.objects.select_related("user").get(pk=built.head_id).user
    jobs: list[tuple[str, Callable[[], Any]]] = []
    skipped = []
    urls = {}
    for page in PAGES:
        url = _usable(db, page, built, clients)
        if url is None:
            skipped.append(page.label)
            continue
        urls[page.label] = url
        jobs.append((page.label, _page_job(clients[page.who], url, live=page.live)))
    raw = _baseline(built.branch_id)
    jobs.append(("baseline: raw grouped SQL", raw))
    jobs.append(("baseline: the rollup read", lambda: read.values(head, *MONTH, by="staff_id")))
    timings: dict[str, list[float]] = {label: [] for label, _job in jobs}
    watch: dict[str, Any] = {}
    settle()  # as the web process does at startup (config/wsgi.py)
    with wb._watch(watch):
        for i in range(args.warmup + args.requests):
            shift = i % len(jobs)
            for label, job in jobs[shift:] + jobs[:shift]:  # rotating: each page in every position
                began = time.perf_counter()
                own = job()  # a page's job times its request alone (ms); the baselines are timed whole
                ms = own if isinstance(own, float) else (time.perf_counter() - began) * 1000
                if i >= args.warmup:
                    timings[label].append(ms)
    queries: dict[str, int] = {}
    for page in PAGES:
        if page.label in urls:
            with CaptureQueriesContext(connection) as captured:
                clients[page.who].get(urls[page.label])
            queries[page.label] = len(captured.captured_queries)
    if args.profile:
        for label, url in urls.items():
            _profile(db, label, clients[next(p.who for p in PAGES if p.label == label)], url)
    out = {
        "urls": urls,
        "skipped": skipped,
        "stats": {label: wb._dist(values) for label, values in timings.items()},
        "queries": queries,
        "samples": {label: [round(v, 2) for v in values] for label, values in timings.items()},
        "baseline_rows": raw(),
        **watch,
    }
    for label, s in out["stats"].items():
        print(
            f"[{db}] {label:<30} p50 {s['p50']:8.1f}  p95 {s['p95']:8.1f}  max {s['max']:8.1f} ms"
            + (f"  {queries[label]} queries" if label in queries else ""),
            flush=True,
        )
    print(
        f"[{db}] pages: others used {watch['others_cores']:.2f} cores, load {watch['load']:.2f}", flush=True
    )
    return out


def _profile(db: str, label: str, client: Any, url: str) -> None:
    """One request under cProfile: the functions it spends most in (cumulative), and its slowest queries."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        profiler.enable()
        _get(client, url)
        profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    print(f"[{db}] --- profile of {label} ({url}) ---\n{text.getvalue()}")
    for q in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"[{db}]   {float(q['time']) * 1000:8.1f} ms  {q['sql'][:400]}")


def _page_job(client: Any, url: str, *, live: bool = False) -> Callable[[], Any]:
    """One request; with `live`, the kept funnel flags are taken away before it and put back after it (as
    between making a plan and its flags job, or midnight and the night's refresh), untimed."""
    from xiaodai.plans.models import FlagSet

    def job() -> float:
        kept = list(FlagSet.objects.all()) if live else []
        if live:
            FlagSet.objects.all().delete()
        ms, response = _get(client, url)
        assert response.status_code == 200, (url, response.status_code)
        if live:
            FlagSet.objects.bulk_create(kept)
        return ms

    return job


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _bench_export(db: str, built: Any, args: argparse.Namespace) -> dict[str, Any]:
    clients = _clients(built)
    url = _usable(db, EXPORT, built, clients)  # the untimed first request
    if url is None:
        return {"skipped": True}
    seconds: list[float] = []
    watch: dict[str, Any] = {}
    size = 0
    with wb._watch(watch):
        for _ in range(args.exports):
            began = time.perf_counter()
            response = clients["head"].get(url)
            size = len(_body(response))  # a file response streams: read to the end, inside the timing
            seconds.append(time.perf_counter() - began)
            assert response.status_code == 200, response.status_code
    median = round(statistics.median(seconds), 2)
    print(
        f"[{db}] daily report Excel median {median:.2f} s (runs {', '.join(f'{s:.2f}' for s in seconds)}; "
        f"{size:,} bytes) | others used {watch['others_cores']:.2f} cores",
        flush=True,
    )
    return {"url": url, "seconds": [round(s, 3) for s in seconds], "median": median, "bytes": size, **watch}


# --- the summary --------------------------------------------------------------------------------------------


def _summary(results: dict[str, dict[str, Any]]) -> None:
    print("\n=== targets, dashboards and the daily report ===")
    for db, r in results.items():
        m, sizes = r["machine"], r["data"]["sizes"]
        print(
            f"{db}: {r['data']['customers']:,} customers, {sizes['outreach_outcome']:,} outcomes, "
            f"{m['database']}, {m['cores']} cores ({m['cpu']}), load at start {m['load_start'][0]:.2f}"
        )
        rollup = r["rollup"]
        if "refresh_all" in rollup:
            print(f"  refresh_all {rollup['refresh_all']['seconds']:.1f} s (background job, no target)")
        if "routine" in rollup:
            print(f"  refresh_routine median {rollup['routine']['median']:.2f} s (nightly, no target)")
        pages = r["pages"]
        print(f"  {'page (ms)':<32} {'p50':>8} {'p95':>8} {'max':>8} {'queries':>8}   target p95")
        for label, s in pages["stats"].items():
            target = ""
            if label in pages["queries"]:
                target = f"≤ {PAGE_TARGET_MS:.0f} ms " + ("met" if s["p95"] <= PAGE_TARGET_MS else "MISSED")
            count = pages["queries"].get(label, "")
            print(f"  {label:<32} {s['p50']:8.1f} {s['p95']:8.1f} {s['max']:8.1f} {count!s:>8}   {target}")
        if pages["skipped"]:
            print(f"  skipped (not there yet): {', '.join(pages['skipped'])}")
        print(f"  pages: others used {pages['others_cores']:.2f} cores")
        e = r["export"]
        if e.get("skipped"):
            print("  daily report Excel: skipped (not there yet)")
        else:
            met = "met" if e["median"] <= EXPORT_TARGET_S else "MISSED"
            print(f"  daily report Excel (whole branch): median {e['median']:.2f} s (≤ 10 s {met})")
        print(f"  peak RSS {r['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
