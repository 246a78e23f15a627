"""The workbench benchmark's branch: N customers and everything the call screen and the allocation read,
written straight into the app database (benchmarks/workbench.py describes the data and what is timed).

Seeded numpy draws, written in chunks of 100,000 customers with `executemany` on the raw sqlite3 connection
(one transaction, journal and fsync off for the load only) or `COPY ... FROM STDIN` on PostgreSQL. The
organisation, the pipeline run, the policies and the scripts go through the ORM and the services. Run
inside a Django process whose default database is the benchmark's own.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FORMAT = 2  # bump when the generator changes: a database built by another version is rebuilt
CHUNK = 100_000
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a Monday, 10:00 Shanghai
TODAY = NOW.date()
NOW_UTC = NOW.astimezone(dt.UTC).replace(tzinfo=None)
ALLOC_POOL = "approved_undrawn"  # the allocation's pool: exactly customers // 5 unowned workable members
POOLS = ("approved_undrawn", "unfinished_application", "current_borrower", "good_past_borrower",
         "payroll_staff", "mortgage_holder", "premium_card", "premium_deposit",
         "scenario_channel")  # fmt: skip
SUB_BRANCHES = 5
TEAMS_PER_SUB = 4
WORKERS = 200  # telemarketers and loan managers: the allocation's 200 people
MANAGERS = 50  # of them loan managers, who own the owned half of the customers
LIST_SIZE = 300  # the benchmarked telemarketer's active assignments
DUE_FOLLOW_UPS = 30  # of those, with a follow-up due today or earlier
NOT_ELIGIBLE = 15  # of those, no longer callable (consent withdrawn): the list must filter them out
OUTCOMES = ["no_answer", "busy", "wrong_number", "not_now", "interested", "will_apply", "applied"]
OUTCOME_P = [0.36, 0.12, 0.03, 0.27, 0.12, 0.06, 0.04]
SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"),
            ("孙", "sun")]  # fmt: skip
GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
         ("强", "qiang"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"),
         ("杰", "jie")]  # fmt: skip
OCCUPATIONS = ["企业职员", "工人", "销售人员", "工程师", "企业管理人员", "个体工商户", "公务员", "教师",
               "医生"]  # fmt: skip
# The columns each generated row fills, in order (the others take their defaults or NULL).
COLUMNS = {
    "customers_customer": "id customer_no name name_pinyin name_initials gender birth_date id_number "
    "occupation employer_name monthly_income address district aum is_vulnerable no_personalised_marketing "
    "opened_on created_at updated_at branch_id owner_id sub_branch_id row_hash worker_id",
    "customers_contactpoint": "customer_id kind value tail is_primary row_hash",
    "customers_consent": "customer_id purpose channel granted recorded_at source wording_version "
    "collector_branch_id expires_at row_hash",
    "customers_creditline": "customer_id line_no product limit drawn approved_on expires_on last_drawn_on "
    "rate apr status row_hash",
    "customers_loan": "customer_id loan_no kind product amount balance rate apr status overdue_days "
    "disbursed_on matures_on row_hash",
    "customers_card": "customer_id card_no tier limit used delinquent_cycles opened_on row_hash",
    "customers_deposit": "customer_id account_no kind balance opened_on matures_on row_hash",
    "customers_optout": "customer_id channel recorded_at reason source recorded_by_id row_hash",
    "outreach_outcome": "id token branch_id customer_id staff_id team_id channel occurred_at outcome "
    "objection purpose follow_up_on notes product recording_ref visit_place wechat_kind outside_window "
    "created_at corrects_id",
    "outreach_followup": "branch_id customer_id staff_id channel due_on status source_id closed_at",
    "scoring_customerscore": "run_id customer_id model_id probability expected_amount expected_value reasons "
    "personalised",
    "pools_poolmember": "run_id customer_id pool is_primary blocked channels potential basis days on_date "
    "detail is_new probability expected_value",
    "allocation_assignment": "branch_id customer_id staff_id team_id kind status pool control note "
    "created_at protected_until lapses_on last_contact_at ended_at end_reason created_by_id",
}
DETAIL = {"unfinished_application": "identity", "scenario_channel": "renovation"}  # a stage, a scenario
REASONS = [
    '[["line", {"limit": 80000, "days": 45}], ["income", {"amount": 15000}], ["age", {"age": 34}]]',
    '[["keen_before", {"days": 20}], ["past_loans", {"n": 2}], ["tenure", {"days": 2400}]]',
    '[["payroll", {"amount": 12000}], ["no_refusal", {}], ["occupation", {"occupation": "工程师"}]]',
]


@dataclass
class Built:
    """What the generator made, for the benchmark's set-up and resets (ids are the database's)."""

    customers: int
    seed: int
    branch_id: int
    head_id: int
    tele_id: int
    workers: list[int]
    list_customers: list[int]  # the benchmarked telemarketer's eligible customers, best first not implied
    max_ids: dict[str, int] = field(default_factory=dict)  # per table, the last generated id
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


class Writer:
    """Bulk rows into a table: executemany on SQLite, COPY on PostgreSQL (values already in text forms)."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.rows: dict[str, int] = {}

    def ts(self, values: Iterable[str | None]) -> list[str | None]:
        """'YYYY-MM-DD HH:MM:SS' UTC strings as the column wants them (Django keeps UTC on both)."""
        if self.vendor == "postgresql":
            return [None if v is None else v + "+00" for v in values]
        return list(values)

    def put(self, table: str, rows: list[tuple[Any, ...]], columns: Sequence[str] = ()) -> None:
        """Rows of the columns given, or of COLUMNS[table]."""
        if not rows:
            return
        columns = columns or COLUMNS[table].split()
        names = ", ".join(f'"{c}"' for c in columns)
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # our own names
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                raw = self.connection.connection
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        self.rows[table] = self.rows.get(table, 0) + len(rows)


def _dates(days: np.ndarray, base: dt.date = TODAY) -> list[str]:
    """Dates `days` before `base` as 'YYYY-MM-DD'."""
    values = np.datetime64(base.isoformat(), "D") - days.astype("timedelta64[D]")
    return np.datetime_as_string(values, unit="D").tolist()


def _times(seconds_before_now: np.ndarray) -> list[str]:
    """UTC times so many seconds before NOW as 'YYYY-MM-DD HH:MM:SS'."""
    values = np.datetime64(NOW_UTC.isoformat(), "s") - seconds_before_now.astype("timedelta64[s]")
    return [s.replace("T", " ") for s in np.datetime_as_string(values, unit="s").tolist()]


def _window_times(rng: np.random.Generator, days_back: np.ndarray) -> np.ndarray:
    """Seconds before NOW of a moment inside the calling window (09:00-20:00 local) `days_back` days ago."""
    local_seconds = rng.integers(9 * 3600, 20 * 3600, len(days_back))
    return days_back * 86400 + (10 * 3600 - local_seconds)  # NOW is 10:00 local


# --- the organisation, through the ORM ------------------------------------------------------------------


def _organisation() -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    from xiaodai.core.roles import Role
    from xiaodai.org.models import Bank, Branch, Staff, SubBranch, Team

    bank = Bank.objects.create(code="BENCH", name="基准银行")
    branch = Branch.objects.create(bank=bank, code="BENCH01", name="基准分行", city="杭州")
    subs = [
        SubBranch.objects.create(branch=branch, code=f"BENCH-S{i}", name=f"第{i}支行", district=f"区{i}")
        for i in range(1, SUB_BRANCHES + 1)
    ]
    kinds = ["regular", "regular", "strike", "follow_up"]
    teams = [
        Team.objects.create(branch=branch, sub_branch=s, name=f"{s.name}{k}组{j}", kind=k)
        for s in subs
        for j, k in enumerate(kinds[:TEAMS_PER_SUB], 1)
    ]
    password = make_password(None)  # unusable: the benchmark logs in with force_login
    people: list[tuple[str, str, Any, Any]] = [("H0001", Role.BRANCH_HEAD, None, None)]
    people += [(f"L{i:04d}", Role.TEAM_LEAD, t.sub_branch, t) for i, t in enumerate(teams, 1)]
    for i in range(WORKERS):
        team = teams[i % len(teams)]
        role = Role.TELEMARKETER if i < WORKERS - MANAGERS else Role.LOAN_MANAGER
        people.append((f"W{i + 1:04d}", role, team.sub_branch, team))
    users = User.objects.bulk_create(
        User(username=f"bench_{no.lower()}", password=password) for no, *_rest in people
    )
    staff = Staff.objects.bulk_create(
        Staff(
            user=user,
            employee_no=no,
            name=f"员工{no}",
            branch=branch,
            sub_branch=sub,
            team=team,
            role=role,
            business_line="retail_loan",
            daily_capacity=80,
        )
        for user, (no, role, sub, team) in zip(users, people, strict=True)
    )
    workers = [s for s in staff if s.role in (Role.TELEMARKETER, Role.LOAN_MANAGER)]
    managers = [s for s in workers if s.role == Role.LOAN_MANAGER]
    return {
        "branch": branch,
        "subs": subs,
        "head": staff[0],
        "leads": staff[1 : 1 + len(teams)],
        "workers": workers,
        "managers_by_sub": {s.pk: [m.pk for m in managers if m.sub_branch_id == s.pk] for s in subs},
        "team_of": {s.pk: s.team_id for s in staff},
    }


def _setup_rows(org: dict[str, Any]) -> dict[str, Any]:
    """The published pipeline run, the scoring model, the policies and the approved scripts."""
    from xiaodai.allocation.models import ClaimPolicy
    from xiaodai.outreach.models import ContactPolicy
    from xiaodai.outreach.script_seed import seed_scripts
    from xiaodai.pipeline.models import PipelineRun
    from xiaodai.scoring.models import ScoringModel

    branch = org["branch"]
    run = PipelineRun.objects.create(
        branch=branch,
        data_date=TODAY - dt.timedelta(days=2),
        engine="duckdb",
        status="done",
        trigger="cli",
        is_published=True,
    )
    model = ScoringModel.objects.get(name="propensity", version=1)
    ContactPolicy.objects.get_or_create(branch=branch)
    ClaimPolicy.objects.get_or_create(branch=branch)
    seed_scripts(branch, org["leads"][0], org["head"])
    return {"run": run.pk, "model": model.pk}


# --- the customers: who is what ---------------------------------------------------------------------------


@dataclass
class Plan:
    """Per-customer draws for all N customers (index i is customer id i + 1)."""

    n: int
    sub: np.ndarray
    owner: np.ndarray  # staff id or 0
    vulnerable: np.ndarray
    consent: np.ndarray  # 0 none, 1 granted, 2 granted then withdrawn
    optout: np.ndarray  # 0 none, 1 all channels, 2 phone only, 3 after a refusal (all channels)
    contacts: np.ndarray  # outcomes in the history
    worker: np.ndarray  # staff id of the active assignment, or 0
    kind: np.ndarray  # 1 allocated by the benchmark's allocation (the pool's unowned workable), 0 other
    ended: np.ndarray  # an ended assignment in the history (staff id or 0)
    primary: np.ndarray  # index into POOLS of the primary pool
    secondary: np.ndarray  # index into POOLS of a second pool, or -1

    @property
    def workable(self) -> np.ndarray:
        return (~self.vulnerable) & (self.consent == 1) & (self.optout != 1) & (self.optout != 3)


def _plan(n: int, seed: int, org: dict[str, Any]) -> tuple[Plan, list[int]]:
    rng = np.random.default_rng(seed)
    subs = np.array([s.pk for s in org["subs"]])
    sub = subs[rng.integers(0, len(subs), n)]
    owned = rng.random(n) < 0.5
    owner = np.zeros(n, dtype=np.int64)
    for s, managers in org["managers_by_sub"].items():
        here = np.flatnonzero(owned & (sub == s))
        owner[here] = np.array(managers)[rng.integers(0, len(managers), len(here))]
    vulnerable = rng.random(n) < 0.005
    consent = rng.choice(3, n, p=[0.12, 0.85, 0.03])
    optout = rng.choice(3, n, p=[0.975, 0.02, 0.005])
    contacted = rng.random(n) < 0.6
    contacts = np.where(contacted, 1 + rng.poisson(4, n), 0)
    stopped = contacted & (rng.random(n) < 0.06) & (optout == 0)
    optout[stopped] = 3
    zeros = np.zeros(n, np.int64)
    plan = Plan(n, sub, owner, vulnerable, consent, optout, contacts, zeros.copy(), np.zeros(n, np.int8),
                zeros.copy(), np.zeros(n, np.int8), np.full(n, -1, np.int8))  # fmt: skip

    # The allocation's customers: exactly n // 5 unowned, workable, worked by nobody.
    free = np.flatnonzero((owner == 0) & plan.workable)
    free = free[rng.permutation(len(free))]
    alloc = free[: n // 5]
    plan.kind[alloc] = 1
    rest = free[n // 5 :]

    # The benchmarked telemarketer's list: mostly callable, a few whose consent was withdrawn since.
    workers = [s.pk for s in org["workers"]]
    tele = workers[0]
    callable_list = rest[: LIST_SIZE - NOT_ELIGIBLE]
    withdrawn = np.flatnonzero((owner == 0) & (consent == 2) & (optout == 0) & ~vulnerable)
    withdrawn = withdrawn[rng.permutation(len(withdrawn))][:NOT_ELIGIBLE]
    plan.worker[callable_list] = tele
    plan.worker[withdrawn] = tele
    # Everyone else works 300 customers at a million (fewer on a small branch).
    per_worker = max(3, min(LIST_SIZE, int(0.06 * n / len(workers))))
    others = rest[LIST_SIZE : LIST_SIZE + per_worker * (len(workers) - 1)]
    plan.worker[others] = np.repeat(np.array(workers[1:]), per_worker)[: len(others)]
    # Earlier assignments that ended (lapsed, expired, released): a tenth of the branch.
    past = rng.choice(n, n // 10, replace=False)
    past = past[plan.kind[past] == 0]
    plan.ended[past] = np.array(workers)[rng.integers(0, len(workers), len(past))]

    # Pools. The allocation's pool (index 0) holds the allocation's customers and, besides them, only
    # customers the allocation skips (not workable, or worked by someone): so it allocates exactly n // 5.
    may_be_in_it = (plan.kind == 1) | ~plan.workable | (plan.worker != 0)
    anywhere = rng.integers(0, len(POOLS), n)
    elsewhere = rng.integers(1, len(POOLS), n)
    plan.primary[:] = np.where(plan.kind == 1, 0, np.where(may_be_in_it, anywhere, elsewhere))
    second = rng.random(n) < 0.4
    step = rng.integers(1, len(POOLS), n)
    other = (plan.primary + step) % len(POOLS)
    blocked_out = (other == 0) & ~may_be_in_it
    other[blocked_out] = np.where(plan.primary[blocked_out] == 1, 2, 1)
    plan.secondary[second] = other[second]
    return plan, callable_list.tolist()


# --- the rows ------------------------------------------------------------------------------------------


def _customers(w: Writer, p: Plan, lo: int, hi: int, rng: np.random.Generator, org: dict[str, Any]) -> None:
    ids = np.arange(lo + 1, hi + 1)
    m = hi - lo
    sur, giv = rng.integers(0, len(SURNAMES), m), rng.integers(0, len(GIVEN), (m, 2))
    birth = _dates(rng.integers(22 * 365, 60 * 365, m))
    opened = _dates(rng.integers(30, 15 * 365, m))
    income = rng.lognormal(9.2, 0.5, m).round(-2)
    aum = np.where(rng.random(m) < 0.5, rng.lognormal(10.5, 1.2, m).round(2), 0)
    occupation = rng.integers(0, len(OCCUPATIONS), m)
    created = w.ts([NOW_UTC.strftime("%Y-%m-%d %H:%M:%S")])[0]
    district = {s.pk: s.district for s in org["subs"]}
    rows = []
    for k in range(m):
        i = lo + k
        a, b, c = SURNAMES[sur[k]], GIVEN[giv[k, 0]], GIVEN[giv[k, 1]]
        cid = int(ids[k])
        rows.append((
            cid, f"C{cid:09d}", a[0] + b[0] + c[0], a[1] + b[1] + c[1], a[1][0] + b[1][0] + c[1][0],
            "MF"[k % 2], birth[k], f"3301{cid:013d}X", OCCUPATIONS[occupation[k]], "", float(income[k]), "",
            district[int(p.sub[i])], float(aum[k]), int(p.vulnerable[i]), int(k % 50 == 0), opened[k],
            created, created, org["branch"].pk, int(p.owner[i]) or None, int(p.sub[i]), "",
            int(p.worker[i]) or None,
        ))  # fmt: skip
    w.put("customers_customer", rows)
    phones = rng.integers(0, 10**8, m)
    w.put(
        "customers_contactpoint",
        [
            (int(c), "mobile", f"138{ph:08d}", f"{ph % 10000:04d}", 1, "")
            for c, ph in zip(ids, phones, strict=True)
        ],
    )


def _consents(w: Writer, p: Plan, lo: int, hi: int, rng: np.random.Generator) -> None:
    m = hi - lo
    granted_at = w.ts(_times(rng.integers(200, 720, m) * 86400))
    withdrawn_at = w.ts(_times(rng.integers(1, 150, m) * 86400))
    expires = w.ts(_times(-rng.integers(30, 700, m) * 86400))
    wechat = rng.random(m) < 0.2
    rows = []
    for k in range(m):
        i, cid = lo + k, lo + k + 1
        state, sub = int(p.consent[i]), int(p.sub[i])
        if state:
            expiry = expires[k] if k % 10 == 0 else None
            rows.append((cid, "marketing", "phone", 1, granted_at[k], "counter", "v1", sub, expiry, ""))
        if state == 2:
            rows.append((cid, "marketing", "phone", 0, withdrawn_at[k], "mobile_bank", "v1", sub, None, ""))
        if wechat[k]:
            rows.append((cid, "marketing", "wechat", 1, granted_at[k], "counter", "v1", sub, None, ""))
    w.put("customers_consent", rows)


def _holdings(w: Writer, lo: int, hi: int, rng: np.random.Generator) -> None:
    m = hi - lo
    ids = np.arange(lo + 1, hi + 1)
    day = _dates(rng.integers(30, 1500, m))
    later = _dates(-rng.integers(30, 1000, m))
    amount = rng.integers(20, 500, m) * 1000
    has = rng.random((m, 4)) < np.array([0.13, 0.29, 0.34, 0.5])
    lines, loans, cards, deposits = [], [], [], []
    for k in range(m):
        c, a = int(ids[k]), int(amount[k])
        if has[k, 0]:
            drawn = a // 3 if k % 3 else 0
            lines.append(
                (c, f"L{c:010d}", "消费贷", a, drawn, day[k], later[k], None, 3.45, 3.5, "active", "")
            )
        if has[k, 1]:
            kind = ("consumer", "mortgage", "business")[k % 3]
            status = "settled" if k % 4 == 0 else "normal"
            loans.append(
                (c, f"N{c:010d}", kind, "贷款", a, a // 2, 3.9, 4.0, status, 0, day[k], later[k], "")
            )
        if has[k, 2]:
            cards.append(
                (c, f"6222{c:012d}", ("standard", "gold", "platinum")[k % 3], a // 5, a // 20, 0, day[k], "")
            )
        if has[k, 3]:
            deposits.append((c, f"D{c:010d}", ("demand", "time", "wealth")[k % 3], a, day[k], None, ""))
    w.put("customers_creditline", lines)
    w.put("customers_loan", loans)
    w.put("customers_card", cards)
    w.put("customers_deposit", deposits)


def _tokens(rng: np.random.Generator, count: int) -> list[str]:
    hexed = rng.bytes(16 * count).hex()
    return [hexed[32 * i : 32 * i + 32] for i in range(count)]


def _outcomes(
    w: Writer, p: Plan, lo: int, hi: int, rng: np.random.Generator, org: dict[str, Any], next_id: int
) -> int:
    """The contact history of customers lo..hi: about 3 outcomes a customer over 180 days, the latest one a
    refusal for those who refused (and their opt-out), some follow-ups, a few corrections. Returns the
    next free outcome id."""
    counts = p.contacts[lo:hi]
    customer = np.repeat(np.arange(lo, hi), counts)
    total = len(customer)
    days = rng.integers(1, 181, total)
    today = rng.random(total) < 0.002
    days[today] = 0
    before = _window_times(rng, days)
    before[today] = rng.integers(1, 3600, int(today.sum()))  # this morning, 09:00-10:00
    order = np.lexsort((-before, customer))  # per customer, oldest first
    customer, before, days = customer[order], before[order], days[order]
    latest = np.zeros(total, bool)
    latest[np.cumsum(counts[counts > 0]) - 1] = True
    kinds = rng.choice(len(OUTCOMES), total, p=OUTCOME_P)
    outcome = np.array(OUTCOMES, dtype=object)[kinds]
    stop = latest & (p.optout[customer] == 3)
    outcome[stop] = [("refused", "do_not_call")[int(x)] for x in rng.random(int(stop.sum())) >= 0.8]
    channel = np.array(["phone", "visit", "wechat"], dtype=object)[rng.choice(3, total, p=[0.85, 0.08, 0.07])]
    workers = np.array([s.pk for s in org["workers"]])
    staff = workers[rng.integers(0, len(workers), total)]
    tokens = _tokens(rng, total)
    when = w.ts(_times(before))
    follow = np.isin(outcome, ["not_now", "interested"]) & (rng.random(total) < 0.3)
    due = _dates(days - 7)
    branch, team_of = org["branch"].pk, org["team_of"]
    rows, follow_ups, opt_outs = [], [], []
    for k in range(total):
        oid, cid, sid, ch, out = next_id + k, int(customer[k]) + 1, int(staff[k]), channel[k], outcome[k]
        rows.append((
            oid, tokens[k], branch, cid, sid, team_of[sid], ch, when[k], out,
            "rate_high" if out == "not_now" and k % 3 == 0 else "",
            "renovation" if out in ("will_apply", "applied") else "", due[k] if follow[k] else None,
            "", "", "", "home" if ch == "visit" else "", "chat" if ch == "wechat" else "", 0, when[k], None,
        ))  # fmt: skip
        if follow[k]:
            # Due in the past: done. Open only when still to come (an open overdue follow-up of a customer the
            # person no longer works would put on their list a customer they cannot open).
            status = "cancelled" if p.optout[cid - 1] == 3 else "open" if days[k] < 7 else "done"
            closed = None if status == "open" else when[k]
            follow_ups.append((branch, cid, sid, ch, due[k], status, oid, closed))
        if stop[k]:
            opt_outs.append((cid, "", when[k], f"outcome {out}", "phone", sid, ""))
    # Corrections (C-15): a new record pointing at the one it corrects, same time and channel.
    corrected = np.flatnonzero((rng.random(total) < 0.003) & ~stop & ~follow)
    fixes = _tokens(rng, len(corrected))
    for j, k in enumerate(corrected.tolist()):
        row = list(rows[k])
        row[0], row[1], row[8], row[19] = next_id + total + j, fixes[j], "not_now", next_id + k
        rows.append(tuple(row))
    w.put("outreach_outcome", rows)
    w.put("outreach_followup", follow_ups)
    w.put("customers_optout", opt_outs)
    return next_id + total + len(corrected)


def _pre_opt_outs(w: Writer, p: Plan, rng: np.random.Generator) -> None:
    """Opt-outs recorded at the counter (all channels, or the phone only), before any refusal."""
    who = np.flatnonzero((p.optout == 1) | (p.optout == 2))
    when = w.ts(_times(rng.integers(1, 400, len(who)) * 86400))
    rows = [(int(i) + 1, "" if p.optout[i] == 1 else "phone", when[k], "客户要求", "counter", None, "")
            for k, i in enumerate(who)]  # fmt: skip
    w.put("customers_optout", rows)


def _members(w: Writer, p: Plan, lo: int, hi: int, rng: np.random.Generator, ids: dict[str, int]) -> None:
    """Pool members of the published run with the customer's score copied in, and the scores."""
    m = hi - lo
    i = np.arange(lo, hi)
    blocked = (p.vulnerable[i] * 4 + np.isin(p.optout[i], (1, 3)) * 8 + (p.consent[i] != 1) * 16).astype(int)
    scored = (blocked == 0) & (rng.random(m) < 0.95)
    probability = rng.beta(2, 30, m)
    amount = rng.integers(50, 300, m) * 1000
    ev = (probability * amount * 0.03).round(2)
    potential = rng.integers(10, 300, (m, 2)) * 1000
    idle = rng.integers(30, 400, m)
    on_date = _dates(-rng.integers(20, 300, m))
    scores, members = [], []
    for k in range(m):
        cid = lo + k + 1
        prob, value = (float(probability[k]), float(ev[k])) if scored[k] else (None, None)
        if scored[k]:
            scores.append((ids["run"], cid, ids["model"], prob, int(amount[k]), value, REASONS[k % 3], 1))
        for slot, pool in ((0, int(p.primary[lo + k])), (1, int(p.secondary[lo + k]))):
            if pool < 0:
                continue
            code = POOLS[pool]
            detail = DETAIL.get(code, "")
            amount_ = int(potential[k, slot])
            members.append((ids["run"], cid, code, int(slot == 0), int(blocked[k]), 1 | 8, amount_, amount_,
                            int(idle[k]), on_date[k], detail, 0, prob, value))  # fmt: skip
    w.put("scoring_customerscore", scores)
    w.put("pools_poolmember", members)


def _assignments(w: Writer, p: Plan, rng: np.random.Generator, org: dict[str, Any]) -> None:
    """Who works whom now (one active assignment per worked customer) and assignments that ended."""
    head, branch, team_of = org["head"].pk, org["branch"].pk, org["team_of"]
    tele = org["workers"][0].pk
    created = w.ts(_times(np.array([3 * 86400])))[0]
    protected = (TODAY + dt.timedelta(days=27)).isoformat()
    lapses = (TODAY + dt.timedelta(days=4)).isoformat()
    rows: list[tuple[Any, ...]] = []
    for i in np.flatnonzero(p.worker):
        sid = int(p.worker[i])
        claim = sid != tele and i % 3 == 0
        rows.append((branch, int(i) + 1, sid, team_of[sid], "claim" if claim else "allocation", "active",
                     POOLS[p.primary[i]], 0, "", created, protected, lapses if claim else None, None, None,
                     "", head))  # fmt: skip
    past = np.flatnonzero(p.ended)
    began = w.ts(_times(rng.integers(60, 400, len(past)) * 86400))
    ended = w.ts(_times(rng.integers(1, 59, len(past)) * 86400))
    for k, i in enumerate(past):
        sid = int(p.ended[i])
        status = ("lapsed", "expired", "released")[k % 3]
        rows.append((branch, int(i) + 1, sid, team_of[sid], "claim", status, POOLS[p.primary[i]], 0, "",
                     began[k], protected, None, ended[k] if k % 2 else None, ended[k], status,
                     head))  # fmt: skip
    w.put("allocation_assignment", rows)


def _tele_follow_ups(
    w: Writer, org: dict[str, Any], customers: list[int], rng: np.random.Generator, next_id: int
) -> int:
    """Follow-ups of the benchmarked telemarketer due today or earlier, from their own earlier calls."""
    tele = org["workers"][0]
    branch = org["branch"].pk
    chosen = customers[:DUE_FOLLOW_UPS]
    when = w.ts(_times(_window_times(rng, rng.integers(3, 11, len(chosen)))))
    due = _dates(rng.integers(0, 4, len(chosen)))
    tokens = _tokens(rng, len(chosen))
    rows, follow_ups = [], []
    for k, cid in enumerate(chosen):
        rows.append((next_id + k, tokens[k], branch, cid + 1, tele.pk, tele.team_id, "phone", when[k],
                     "not_now", "", "", due[k], "", "", "", "", "", 0, when[k], None))  # fmt: skip
        follow_ups.append((branch, cid + 1, tele.pk, "phone", due[k], "open", next_id + k, None))
    w.put("outreach_outcome", rows)
    w.put("outreach_followup", follow_ups)
    return next_id + len(chosen)


# --- building, resetting -------------------------------------------------------------------------------

TRACKED = ("outreach_outcome", "outreach_followup", "customers_optout", "allocation_assignment",
           "allocation_allocationbatch", "audit_auditevent")  # fmt: skip


def build(customers: int, seed: int, progress: Any = print) -> Built:
    """Fill the (migrated, empty) default database. Not timed by the benchmark."""
    from django.db import connection, transaction

    began = time.perf_counter()
    org = _organisation()
    ids = _setup_rows(org)
    plan, list_customers = _plan(customers, seed, org)
    w = Writer()
    sqlite = connection.vendor == "sqlite"
    if sqlite:  # for the load only: no journal, no fsync, a big page cache
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-524288")
    next_outcome = 1
    with transaction.atomic():
        for chunk, lo in enumerate(range(0, customers, CHUNK)):
            hi = min(lo + CHUNK, customers)
            rng = np.random.default_rng([seed, chunk])
            _customers(w, plan, lo, hi, rng, org)
            _consents(w, plan, lo, hi, rng)
            _holdings(w, lo, hi, rng)
            next_outcome = _outcomes(w, plan, lo, hi, rng, org, next_outcome)
            _members(w, plan, lo, hi, rng, ids)
            progress(f"  customers {hi:,} of {customers:,} written ({time.perf_counter() - began:.0f} s)")
        rng = np.random.default_rng([seed, 10**6])
        _pre_opt_outs(w, plan, rng)
        _assignments(w, plan, rng, org)
        _tele_follow_ups(w, org, list_customers, rng, next_outcome)
    with connection.cursor() as cursor:
        if sqlite:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        else:
            for table in ("customers_customer", "outreach_outcome"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608
            cursor.execute("ANALYZE")  # what autovacuum would do within a minute of such a load
    built = Built(
        customers=customers,
        seed=seed,
        branch_id=org["branch"].pk,
        head_id=org["head"].pk,
        tele_id=org["workers"][0].pk,
        workers=[s.pk for s in org["workers"]],
        list_customers=[int(c) + 1 for c in list_customers],
        rows=w.rows,
        seconds=time.perf_counter() - began,
    )
    built.max_ids = max_ids()
    return built


def max_ids() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        found = {}
        for table in TRACKED:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (our own names)
            found[table] = int(cursor.fetchone()[0])
    return found


def reset(built: Built) -> None:
    """Back to the generated state: what the benchmark's saves and allocations wrote is undone (audit
    events stay: the chain is append-only and only grows)."""
    from django.db import connection, transaction

    top = built.max_ids
    statements = [
        ("UPDATE outreach_followup SET status = 'open', closed_by_id = NULL, closed_at = NULL "
         "WHERE closed_by_id > %s", top["outreach_outcome"]),
        ("DELETE FROM outreach_followup WHERE id > %s", top["outreach_followup"]),
        ("DELETE FROM customers_optout WHERE id > %s", top["customers_optout"]),
        ("UPDATE allocation_assignment SET last_contact_at = NULL WHERE id <= %s AND status = 'active' "
         "AND last_contact_at IS NOT NULL", top["allocation_assignment"]),
        ("UPDATE customers_customer SET worker_id = NULL WHERE id IN (SELECT customer_id FROM "
         "allocation_assignment WHERE id > %s AND status = 'active')", top["allocation_assignment"]),
        ("DELETE FROM allocation_assignment WHERE id > %s", top["allocation_assignment"]),
        ("DELETE FROM allocation_allocationbatch WHERE id > %s", top["allocation_allocationbatch"]),
        ("DELETE FROM outreach_outcome WHERE id > %s", top["outreach_outcome"]),
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, value in statements:
            cursor.execute(sql, [value])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # dead rows out and statistics fresh, outside any timing
            for table in ("allocation_assignment", "customers_customer", "outreach_outcome"):
                cursor.execute(f"VACUUM ANALYZE {table}")
