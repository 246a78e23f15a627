"""The plans benchmark's branch: the workbench's N customers with a year of work on them, written straight
into the app database (benchmarks/plans_bench.py describes the data and what is timed).

The organisation, the customers, their consents, holdings and pool memberships come from
benchmarks/workbench_data.py (same seed, same draws). On top of them, for the 365 days up to NOW:

* 5 current outcomes a customer (5,000,000 at a million; ~60 % not reached, 85 % phone, 8 % visits, 7 %
  WeChat), mostly by the customer's own person (its owner, else a worker of its sub-branch), plus 0.3 %
  corrections (a correction replaces its original, so the current count stays 5 a customer); refusals last,
  with their opt-out;
* about one list entry (assignment) a customer: the workbench's active ones (listed in the last 60 days) and
  ended ones over the year, 5 % of allocations held back as the control group;
* consumer loans (5 % of customers), credit lines (4 %, half drawn) and applications (8 %) over the year,
  70 % of them after a listing of the customer (so the funnel converts), with the drop's data date (T+1);
* events held (one per 500 customers), the consumer-balance stock of every earlier day (what the nightly
  refreshes would have left), a month plan (November) and a quarter plan (Q4) with a target for every figure
  at branch, sub-branch, team and person level (last month's figure per person plus 0-30 %, the levels
  adding up), closed month plans for the ten months before, and a running competition of 30 people with 3
  rules.

Seeded numpy draws, bulk rows through workbench_data.Writer (executemany on SQLite, COPY on PostgreSQL) in one
transaction; plans, targets and the competition through the ORM. Run inside a Django process whose default
database is the benchmark's own.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
import workbench_data as wd

FORMAT = 1  # bump when the generator changes: a database built by another version is rebuilt
NOW, TODAY, NOW_UTC = wd.NOW, wd.TODAY, wd.NOW_UTC
DATA_DATE = TODAY - dt.timedelta(days=1)  # the bank's drop is T+1
YEAR = 365
OUTCOMES_PER_CUSTOMER = 5
OUTCOMES = ["no_answer", "busy", "wrong_number", "refused", "do_not_call", "not_now", "interested",
            "will_apply", "applied"]  # fmt: skip
OUTCOME_P = [0.42, 0.13, 0.05, 0.03, 0.005, 0.195, 0.10, 0.04, 0.03]  # the first three: 60 % not reached
CHANNELS, CHANNEL_P = ["phone", "visit", "wechat"], [0.85, 0.08, 0.07]
PRODUCTS = ["信用消费贷", "装修分期", "汽车消费贷"]
ENDED = ["lapsed", "expired", "released", "cancelled", "handed_off"]
ENDED_P = [0.35, 0.35, 0.15, 0.1, 0.05]
MONTH = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
QUARTER = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
LAST_MONTH = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
COMPETITION = (dt.date(2026, 11, 9), dt.date(2026, 12, 20))
LEVELS = ("branch", "sub_branch", "team", "staff")
EXTRA = {
    "customers_loan": "customer_id loan_no kind product amount balance rate apr status overdue_days "
    "disbursed_on matures_on row_hash data_date",
    "customers_creditline": "customer_id line_no product limit drawn approved_on expires_on last_drawn_on "
    "rate apr status row_hash data_date",
    "customers_application": "customer_id app_no product amount stage status started_at last_step_at "
    "row_hash data_date",
    "plans_marketingevent": "branch_id held_on title place attendees organiser_id team_id sub_branch_id "
    "created_at",
    "plans_figurefact": "branch_id day sub_branch_id team_id staff_id figure value",
}


@dataclass
class Built:
    """What the generator made, for the benchmark (ids are the database's)."""

    customers: int
    seed: int
    branch_id: int
    head_id: int
    lead_id: int  # the team lead the dashboard is also timed as
    month_plan_id: int
    quarter_plan_id: int
    competition_id: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _cols(table: str) -> list[str]:
    return EXTRA[table].split()


def _people(org: dict[str, Any]) -> dict[str, np.ndarray]:
    """Lookup arrays: the team of each staff id (0: none), and the workers' ids."""
    team = np.zeros(max(org["team_of"]) + 1, np.int64)
    for sid, tid in org["team_of"].items():
        team[sid] = tid or 0
    return {"team": team, "workers": np.array([s.pk for s in org["workers"]])}


def _home(p: wd.Plan, rng: np.random.Generator, org: dict[str, Any]) -> np.ndarray:
    """Each customer's own person: the owner, else the person working them now, else a worker of the
    customer's sub-branch."""
    home = np.where(p.owner > 0, p.owner, p.worker)
    for sub in org["subs"]:
        here = np.array([s.pk for s in org["workers"] if s.sub_branch_id == sub.pk])
        free = np.flatnonzero((home == 0) & (p.sub == sub.pk))
        home[free] = here[rng.integers(0, len(here), len(free))]
    return home


def _outcomes(
    w: wd.Writer,
    p: wd.Plan,
    home: np.ndarray,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    ctx: dict[str, Any],
) -> None:
    """OUTCOMES_PER_CUSTOMER outcomes a customer of lo..hi on average, over the contacted ones, in the past
    year; the latest of a customer who refused is the refusal, with its opt-out."""
    contacted = np.flatnonzero(p.contacts[lo:hi] > 0) + lo
    total = OUTCOMES_PER_CUSTOMER * (hi - lo)
    if not len(contacted):
        return
    customer = np.sort(contacted[rng.integers(0, len(contacted), total)])
    days = rng.integers(0, YEAR, total)
    before = wd._window_times(rng, days)
    today = days == 0
    before[today] = rng.integers(1, 3600, int(today.sum()))  # this morning, 09:00-10:00
    order = np.lexsort((-before, customer))  # per customer, oldest first
    customer, before = customer[order], before[order]
    latest = np.r_[customer[1:] != customer[:-1], True]
    outcome = np.array(OUTCOMES, dtype=object)[rng.choice(len(OUTCOMES), total, p=OUTCOME_P)]
    stops = np.isin(outcome, ["refused", "do_not_call"])
    outcome[stops & ~latest] = "not_now"  # a refusal stops the calls: only a customer's last one refuses
    stop = latest & (p.optout[customer] == 3)
    outcome[stop] = np.where(rng.random(int(stop.sum())) < 0.8, "refused", "do_not_call")
    outcome[latest & ~stop & np.isin(outcome, ["refused", "do_not_call"])] = "not_now"
    channel = np.array(CHANNELS, dtype=object)[rng.choice(3, total, p=CHANNEL_P)]
    staff = np.where(
        rng.random(total) < 0.8,
        home[customer],
        ctx["workers"][rng.integers(0, len(ctx["workers"]), total)],
    )
    team = ctx["team"][staff]
    interested = np.isin(outcome, ["interested", "will_apply", "applied"])
    product = np.where(interested, np.array(PRODUCTS, dtype=object)[rng.integers(0, 3, total)], "")
    when = w.ts(wd._times(before))
    ids = list(range(ctx["next_id"], ctx["next_id"] + total))
    rows: list[tuple[Any, ...]] = list(
        zip(
            ids, wd._tokens(rng, total), repeat(ctx["branch"]), (customer + 1).tolist(), staff.tolist(),
            team.tolist(), channel.tolist(), when, outcome.tolist(),
            np.where(outcome == "not_now", "rate_high", "").tolist(),
            np.where(interested, "renovation", "").tolist(), repeat(None), repeat(""), product.tolist(),
            repeat(""), np.where(channel == "visit", "home", "").tolist(),
            np.where(channel == "wechat", "chat", "").tolist(), repeat(0), when, repeat(None),
            strict=False,
        )
    )  # fmt: skip
    # Corrections (C-15): a new record with the same time and channel pointing at the one it corrects.
    fixed = np.flatnonzero((rng.random(total) < 0.003) & ~stop)
    fixes = wd._tokens(rng, len(fixed))
    for j, k in enumerate(fixed.tolist()):
        row = list(rows[k])
        row[0], row[1], row[8], row[19] = ctx["next_id"] + total + j, fixes[j], "not_now", ids[k]
        rows.append(tuple(row))
    w.put("outreach_outcome", rows)
    w.put(
        "customers_optout",
        [
            (int(customer[k]) + 1, "", when[k], f"outcome {outcome[k]}", "phone", int(staff[k]), "")
            for k in np.flatnonzero(stop).tolist()
        ],
    )
    ctx["next_id"] += total + len(fixed)


def _assignments(
    w: wd.Writer, p: wd.Plan, home: np.ndarray, rng: np.random.Generator, ctx: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """About one list entry a customer over the year: the active ones (the customers' current worker,
    listed in the last 60 days) and ended ones. Returns the listed customers (index) and days before NOW."""
    n, head, branch = p.n, ctx["head"], ctx["branch"]
    active = np.flatnonzero(p.worker)
    ended = rng.integers(0, n, max(0, n - len(active)))
    customer = np.r_[active, ended]
    staff = np.r_[
        p.worker[active],
        np.where(rng.random(len(ended)) < 0.85, home[ended],
                 ctx["workers"][rng.integers(0, len(ctx["workers"]), len(ended))]),
    ]  # fmt: skip
    days = np.r_[rng.integers(1, 61, len(active)), rng.integers(1, YEAR, len(ended))]
    began = days * 86400 + 2 * 3600 - rng.integers(0, 3600, len(customer))  # 08:00-09:00 local
    created = w.ts(wd._times(began))
    kind = np.array(["allocation", "claim", "handoff"], dtype=object)[
        rng.choice(3, len(customer), p=[0.7, 0.25, 0.05])
    ]
    control = (kind == "allocation") & (rng.random(len(customer)) < 0.05)
    status = np.r_[
        np.full(len(active), "active", dtype=object),
        np.array(ENDED, dtype=object)[rng.choice(len(ENDED), len(ended), p=ENDED_P)],
    ]
    ended_after = np.minimum(began - 1, rng.integers(14, 46, len(customer)) * 86400)
    ended_at = w.ts(wd._times(began - ended_after))
    protected = wd._dates(days - 30)
    rows = [
        (branch, int(customer[k]) + 1, int(staff[k]), int(ctx["team"][staff[k]]) or None, kind[k], status[k],
         wd.POOLS[p.primary[customer[k]]], int(control[k]), "", created[k], protected[k], None, None,
         None if status[k] == "active" else ended_at[k], "" if status[k] == "active" else status[k], head)
        for k in range(len(customer))
    ]  # fmt: skip
    w.put("allocation_assignment", rows)
    return customer, days


def _money(w: wd.Writer, n: int, listed: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> None:
    """Consumer loans, credit lines and applications over the year, most of them after a listing."""

    def when(share: float) -> tuple[np.ndarray, np.ndarray]:
        """Customers (index) and days before TODAY: 70 % a few days after one of their listings."""
        m = int(share * n)
        after = rng.random(m) < 0.7
        pick = rng.integers(0, len(listed[0]), m)
        customer = np.where(after, listed[0][pick], rng.integers(0, n, m))
        days = np.where(after, listed[1][pick] - rng.integers(3, 45, m), rng.integers(1, YEAR, m))
        return customer, np.maximum(days, 1)  # nothing after the data date

    data_date = DATA_DATE.isoformat()
    customer, days = when(0.05)
    amount = np.clip(rng.lognormal(11.4, 0.6, len(customer)), 1e4, 5e5).round(-3)
    paid_down = rng.uniform(0.6, 1.0, len(customer))
    matures = wd._dates(days - 365 * rng.integers(1, 4, len(customer)))
    on, products = wd._dates(days), rng.integers(0, len(PRODUCTS), len(customer))
    w.put(
        "customers_loan",
        [(int(customer[k]) + 1, f"Y{k:011d}", "consumer", PRODUCTS[products[k]], float(amount[k]),
          round(float(amount[k] * paid_down[k]), 2), 3.6, 3.65, "settled" if k % 40 == 0 else "normal", 0,
          on[k], matures[k], "", data_date) for k in range(len(customer))],
        _cols("customers_loan"),
    )  # fmt: skip
    customer, days = when(0.04)
    limit = np.clip(rng.lognormal(11.8, 0.5, len(customer)), 2e4, 8e5).round(-3)
    drawn = rng.random(len(customer)) < 0.5
    last = wd._dates(np.maximum(days - rng.integers(3, 30, len(customer)), 1))
    on, expires = wd._dates(days), wd._dates(days - 365)
    w.put(
        "customers_creditline",
        [(int(customer[k]) + 1, f"Z{k:011d}", "消费贷", float(limit[k]),
          float(limit[k] // 3) if drawn[k] else 0.0, on[k], expires[k], last[k] if drawn[k] else None, 3.45,
          3.5, "active", "", data_date) for k in range(len(customer))],
        _cols("customers_creditline"),
    )  # fmt: skip
    customer, days = when(0.08)
    started = w.ts(wd._times(wd._window_times(rng, days)))
    stage = np.array(["started", "identity", "submitted", "approved", "disbursed"], dtype=object)[
        rng.integers(0, 5, len(customer))
    ]
    w.put(
        "customers_application",
        [(int(customer[k]) + 1, f"A{k:011d}", PRODUCTS[k % 3], 50000.0 + 1000 * (k % 200), stage[k],
          "completed" if stage[k] in ("approved", "disbursed") else "in_progress", started[k], started[k],
          "", data_date) for k in range(len(customer))],
        _cols("customers_application"),
    )  # fmt: skip


def _events(w: wd.Writer, org: dict[str, Any], n: int, rng: np.random.Generator) -> None:
    people = [*org["leads"], *org["workers"]]
    m = max(10, n // 500)
    who = rng.integers(0, len(people), m)
    held = wd._dates(rng.integers(0, YEAR, m))
    created = w.ts([NOW_UTC.strftime("%Y-%m-%d %H:%M:%S")])[0]
    titles = ["社区金融沙龙", "进企业宣讲", "社区活动", "商户走访日"]
    rows = [
        (org["branch"].pk, held[k], titles[k % 4], f"第{k % 30 + 1}社区", int(10 + k % 70), people[who[k]].pk,
         people[who[k]].team_id, people[who[k]].sub_branch_id, created)
        for k in range(m)
    ]  # fmt: skip
    w.put("plans_marketingevent", rows, _cols("plans_marketingevent"))


def _stock_history(w: wd.Writer, branch_id: int, rng: np.random.Generator) -> None:
    """The consumer-balance stock of every day of the year before the data date, per person, as the nightly
    refreshes would have left it: today's stock grown into over the year (the refresh writes the data
    date's own)."""
    from xiaodai.plans import rollup
    from xiaodai.plans.figures import BALANCE_STOCK

    now = rollup.stock_facts(branch_id, DATA_DATE)
    rows = []
    for back in range(1, YEAR + 1):
        day = (DATA_DATE - dt.timedelta(days=back)).isoformat()
        factor = 1 - 0.15 * back / YEAR
        for (key, _figure), value in now.items():
            v = round(float(value) * factor * float(rng.uniform(0.98, 1.02)), 2)
            rows.append((branch_id, day, key.sub_branch_id, key.team_id, key.staff_id, BALANCE_STOCK, v))
    w.put("plans_figurefact", rows, _cols("plans_figurefact"))


# --- plans, targets, the competition (through the ORM) ---------------------------------------------------


def _last_month(branch_id: int) -> dict[tuple[str, int | None], dict[str, Decimal]]:
    """October's figures per level and unit (the rollup's own counting), and the balance growth wanted."""
    from xiaodai.plans import rollup
    from xiaodai.plans.choices import Figure

    start, end = LAST_MONTH
    per: dict[tuple[str, int | None], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    parts: list[dict[tuple[Any, str], Decimal]] = [
        rollup.outcome_facts(branch_id, start, end),
        rollup.event_facts(branch_id, start, end),
        rollup.money_facts(branch_id, start, end),
    ]
    growth: dict[tuple[Any, str], Decimal] = {
        (k, Figure.BALANCE_GROWTH): v * Decimal("0.015")
        for (k, _f), v in rollup.stock_facts(branch_id, DATA_DATE).items()
    }
    for part in [*parts, growth]:
        for (key, figure), value in part.items():
            for level, unit in zip(LEVELS, (0, key.sub_branch_id, key.team_id, key.staff_id), strict=True):
                if unit is not None:
                    per[level, unit or None][figure] += value
    return per


def _unit_ids(level: str, unit: Any) -> dict[str, int | None]:
    """The scope columns of a target at `level` for `unit` (None for the branch)."""
    if level == "branch":
        return {"sub_branch_id": None, "team_id": None, "staff_id": None}
    if level == "sub_branch":
        return {"sub_branch_id": unit.pk, "team_id": None, "staff_id": None}
    if level == "team":
        return {"sub_branch_id": unit.sub_branch_id, "team_id": unit.pk, "staff_id": None}
    return {"sub_branch_id": unit.sub_branch_id, "team_id": unit.team_id, "staff_id": unit.pk}


def _parent_of(level: str, unit: Any) -> tuple[str, int | None] | None:
    return {
        "branch": None,
        "sub_branch": ("branch", None),
        "team": ("sub_branch", getattr(unit, "sub_branch_id", None)),
        "staff": ("team", getattr(unit, "team_id", None)),
    }[level]


def _plans(org: dict[str, Any], rng: np.random.Generator) -> tuple[int, int]:
    """A month plan, a quarter plan and ten closed month plans before them, each with a target for every
    figure at every level: the branch's last month lifted by 0-30 % (per figure) times the months, split
    down by last month's shares (evenly where a level had nothing), so the children add up to the parent."""
    from xiaodai.plans.choices import Figure
    from xiaodai.plans.figures import quantize
    from xiaodai.plans.models import Plan, Target

    branch, head = org["branch"], org["head"]
    base = _last_month(branch.pk)
    teams = sorted({s.team for s in org["leads"]}, key=lambda t: t.pk)
    units: dict[str, list[Any]] = {
        "branch": [None],
        "sub_branch": list(org["subs"]),
        "team": teams,
        "staff": list(org["workers"]),
    }
    lift = {figure: Decimal(str(round(float(rng.uniform(1.0, 1.3)), 3))) for figure in Figure.values}
    children: dict[tuple[str, int | None], list[tuple[str, int]]] = defaultdict(list)
    for level in LEVELS[1:]:
        for unit in units[level]:
            parent = _parent_of(level, unit)
            assert parent is not None
            children[parent].append((level, int(unit.pk)))

    def split(figure: str, months: int) -> dict[tuple[str, int | None], Decimal]:
        top: tuple[str, int | None] = ("branch", None)
        wanted: dict[tuple[str, int | None], Decimal] = {
            top: quantize(figure, max(Decimal(0), base[top][figure]) * lift[figure] * months)
        }
        for level in LEVELS[:-1]:
            for key in [k for k in wanted if k[0] == level]:
                kids = children[key]
                weights = [max(Decimal(0), base.get(kid, {}).get(figure, Decimal(0))) for kid in kids]
                total = sum(weights)
                if not total:
                    weights, total = [Decimal(1)] * len(kids), Decimal(len(kids))
                left = wanted[key]
                for i, (kid, weight) in enumerate(zip(kids, weights, strict=True)):
                    share = left if i == len(kids) - 1 else quantize(figure, wanted[key] * weight / total)
                    wanted[kid] = min(share, left)
                    left -= wanted[kid]
        return wanted

    def make(name: str, kind: str, period: tuple[dt.date, dt.date], months: int, status: str) -> int:
        plan = Plan.objects.create(
            branch=branch,
            name=name,
            kind=kind,
            starts_on=period[0],
            ends_on=period[1],
            status=status,
            resources="人员、预算与激励见附件",
            actions="名单外呼、进企业宣讲、社区沙龙",
            created_by=head,
        )
        made: dict[tuple[str, int | None, str], Target] = {}
        wanted = {figure: split(figure, months) for figure in Figure.values}
        for level in LEVELS:
            keys, rows = [], []
            for unit in units[level]:
                uid = None if unit is None else int(unit.pk)
                parent = _parent_of(level, unit)
                for figure in Figure.values:
                    rows.append(
                        Target(
                            plan=plan,
                            branch=branch,
                            scope=level,
                            figure=figure,
                            value=wanted[figure][level, uid],
                            starts_on=period[0],
                            ends_on=period[1],
                            parent=made.get((*parent, figure)) if parent else None,
                            split_rule="last_period" if parent else "",
                            updated_by=head,
                            **_unit_ids(level, unit),
                        )
                    )
                    keys.append((level, uid, figure))
            made.update(zip(keys, Target.objects.bulk_create(rows), strict=True))
        return int(plan.pk)

    month = make("2026年11月营销计划", "month", MONTH, 1, "active")
    quarter = make("2026年第四季度营销计划", "quarter", QUARTER, 3, "active")
    for back in range(1, 11):  # the months before, closed: the plans list's history of cycles
        first = dt.date(2026, 11 - back, 1)
        last = dt.date(2026, 12 - back, 1) - dt.timedelta(days=1)
        make(f"{first.year}年{first.month}月营销计划", "month", (first, last), 1, "closed")
    return month, quarter


def _competition(org: dict[str, Any]) -> int:
    from xiaodai.plans.models import Competition, CompetitionRule

    c = Competition.objects.create(
        branch=org["branch"], name="冬季消费贷劳动竞赛", starts_on=COMPETITION[0], ends_on=COMPETITION[1],
        participant_kind="staff", created_by=org["head"],
    )  # fmt: skip
    c.staff.set(org["workers"][:30])
    CompetitionRule.objects.bulk_create([
        CompetitionRule(competition=c, figure="disbursed_amount", per=Decimal(10000), points=Decimal(2)),
        CompetitionRule(competition=c, figure="new_drawdown_customers", per=Decimal(1), points=Decimal(5)),
        CompetitionRule(competition=c, figure="calls", per=Decimal(10), points=Decimal(1), cap=Decimal(300)),
    ])  # fmt: skip
    return int(c.pk)


# --- building ------------------------------------------------------------------------------------------


def build(customers: int, seed: int, progress: Any = print) -> Built:
    """Fill the (migrated, empty) default database. Not timed by the benchmark."""
    from django.db import connection, transaction

    began = time.perf_counter()
    org = wd._organisation()
    ids = wd._setup_rows(org)
    plan, _list = wd._plan(customers, seed, org)
    rng = np.random.default_rng([seed, 7])
    home = _home(plan, rng, org)
    ctx: dict[str, Any] = {"branch": org["branch"].pk, "head": org["head"].pk, "next_id": 1, **_people(org)}
    w = wd.Writer()
    sqlite = connection.vendor == "sqlite"
    if sqlite:  # for the load only: no journal, no fsync, a big page cache
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-524288")
    with transaction.atomic():
        for chunk, lo in enumerate(range(0, customers, wd.CHUNK)):
            hi = min(lo + wd.CHUNK, customers)
            rng = np.random.default_rng([seed, chunk])
            wd._customers(w, plan, lo, hi, rng, org)
            wd._consents(w, plan, lo, hi, rng)
            wd._holdings(w, lo, hi, rng)
            wd._members(w, plan, lo, hi, rng, ids)
            _outcomes(w, plan, home, lo, hi, np.random.default_rng([seed, chunk, 1]), ctx)
            progress(f"  customers {hi:,} of {customers:,} written ({time.perf_counter() - began:.0f} s)")
        rng = np.random.default_rng([seed, 10**6])
        wd._pre_opt_outs(w, plan, rng)
        listed = _assignments(w, plan, home, rng, ctx)
        _money(w, customers, listed, rng)
        _events(w, org, customers, rng)
        progress(f"  list entries, loans, lines, events written ({time.perf_counter() - began:.0f} s)")
    with connection.cursor() as cursor:
        if sqlite:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("ANALYZE")
        else:
            for table in ("customers_customer", "outreach_outcome"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608
            cursor.execute("ANALYZE")
    with transaction.atomic():
        _stock_history(w, org["branch"].pk, np.random.default_rng([seed, 10**6 + 1]))
        month, quarter = _plans(org, np.random.default_rng([seed, 10**6 + 2]))
        competition = _competition(org)
    progress(f"  stock history, plans, targets, competition written ({time.perf_counter() - began:.0f} s)")
    lead = next(s for s in org["leads"] if s.team_id == org["workers"][0].team_id)
    return Built(
        customers=customers,
        seed=seed,
        branch_id=org["branch"].pk,
        head_id=org["head"].pk,
        lead_id=lead.pk,
        month_plan_id=month,
        quarter_plan_id=quarter,
        competition_id=competition,
        rows=w.rows,
        seconds=time.perf_counter() - began,
    )
