"""The pool step, written once on ibis: the same expressions run on DuckDB (default) and on Spark.

Input tables are the run's snapshot (xiaodai/pipeline/snapshot.py): money in integer cents, days as dates.
Output: `members` (one row per customer and pool, with eligibility, funnel flags and the facts a reason is
worded from) and `figures` (the members counted per pool and organisation unit).

Every comparison with a Decimal parameter is done in integers (x * 10000 against limit * rate * 10000) so both
engines round the same way; every window orders on enough columns to be deterministic (the parity test).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis import _

from xiaodai.customers.choices import INTERESTED, NOT_REACHED
from xiaodai.pools.choices import Block, Channels

Tables = dict[str, ir.Table]
Rules = dict[str, dict[str, Any]]  # {pool code: typed params}; "general" holds the eligibility settings

MEMBER_COLUMNS = ("customer_id", "pool", "potential", "basis", "days", "on_date", "detail")
FUNNEL = ("contacted", "reached", "interested", "applied", "approved", "disbursed", "drawn")
STAGES_DONE = ("approved", "rejected", "disbursed")


def _scaled(rate: Decimal) -> int:
    return int(rate * 10000)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _days_since(day: dt.date, column: ir.DateValue) -> ir.IntegerValue:
    return ibis.literal(day).delta(column, unit="day")


def _shape(t: ir.Table, pool: str, **cols: Any) -> ir.Table:
    """The common member shape; absent facts are typed NULLs (a UNION needs the same types everywhere)."""
    defaults: dict[str, Any] = {
        "basis": ibis.null("int64"),
        "days": ibis.null("int64"),
        "on_date": ibis.null("date"),
        "detail": ibis.null("string"),
    }
    values = {**defaults, **cols}
    return t.select(
        customer_id=t.customer_id,
        pool=ibis.literal(pool),
        potential=values["potential"].cast("int64"),
        basis=values["basis"].cast("int64"),
        days=values["days"].cast("int64"),
        on_date=values["on_date"].cast("date"),
        detail=values["detail"].cast("string"),
    )


def _estimate(customers: ir.Table, p: dict[str, Any]) -> ir.IntegerValue:
    """Amount a customer might borrow where no line or loan says it: months of income, capped."""
    return ibis.least(customers.monthly_income * p["income_multiple"], p["max_amount"] * 100)


def approved_undrawn(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    cl = t["credit_lines"]
    idle = _days_since(day, cl.last_drawn_on.fill_null(cl.approved_on))
    lines = cl.filter(
        cl.status == "active",
        cl.expires_on > day,
        cl["limit"] >= p["min_limit"] * 100,
        cl.drawn * 10000 <= cl["limit"] * _scaled(p["max_utilisation"]),
        idle >= p["min_idle_days"],
    ).mutate(idle=idle)
    per = lines.group_by("customer_id").aggregate(
        potential=(_["limit"] - _.drawn).sum(),
        basis=_["limit"].sum(),
        days=_.idle.max(),
        on_date=_.expires_on.min(),
    )
    return _shape(
        per, "approved_undrawn", potential=per.potential, basis=per.basis, days=per.days, on_date=per.on_date
    )


def unfinished_application(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    a = t["applications"]
    stalled = _days_since(day, a.last_step_on)
    open_ = a.filter(
        a.status.isin(("in_progress", "abandoned")),
        ~a.stage.isin(STAGES_DONE),
        a.started_on > day - dt.timedelta(days=p["look_back_days"]),
        stalled >= p["min_stalled_days"],
    ).mutate(stalled=stalled)
    order = [ibis.desc("last_step_on"), ibis.desc("amount"), "stage"]
    latest = open_.mutate(n=ibis.row_number().over(group_by="customer_id", order_by=order)).filter(_.n == 0)
    return _shape(
        latest,
        "unfinished_application",
        potential=latest.amount,
        basis=latest.amount,
        days=latest.stalled,
        on_date=latest.last_step_on,
        detail=latest.stage,
    )


def _consumer(loans: ir.Table) -> ir.Table:
    return loans.filter(loans.kind == "consumer")


def current_borrower(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    loans = _consumer(t["loans"])
    to_maturity = loans.matures_on.delta(ibis.literal(day), unit="day")
    maturing = (to_maturity >= 0) & (to_maturity <= p["renewal_days"])
    repaid = (loans.amount - loans.balance) * 10000 >= loans.amount * _scaled(p["min_repaid_share"])
    good = loans.filter(
        loans.status == "normal", loans.balance > 0, loans.overdue_days == 0, maturing | repaid
    )
    good = good.mutate(
        to_maturity=to_maturity,
        potential=ibis.ifelse(maturing, loans.amount, loans.amount - loans.balance),
    )
    per = good.group_by("customer_id").aggregate(
        potential=_.potential.sum(),
        basis=_.amount.sum(),
        days=_.to_maturity.min(),
        on_date=_.matures_on.min(),
    )
    return _shape(
        per, "current_borrower", potential=per.potential, basis=per.basis, days=per.days, on_date=per.on_date
    )


def good_past_borrower(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    loans = _consumer(t["loans"])
    current = loans.filter(loans.status != "settled").select("customer_id").distinct()
    repaid = loans.filter(
        loans.status == "settled",
        loans.overdue_days == 0,
        loans.matures_on > day - dt.timedelta(days=p["look_back_days"]),
        loans.matures_on <= day,
    )
    per = repaid.group_by("customer_id").aggregate(basis=_.amount.max(), on_date=_.matures_on.max())
    per = per.anti_join(current, "customer_id")
    return _shape(per, "good_past_borrower", potential=per.basis, basis=per.basis, on_date=per.on_date)


def payroll_staff(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    pay = t["payroll"]
    recent = pay.filter(
        pay.partner,
        _days_since(day, pay.last_paid_on) <= p["recent_days"],
        pay.monthly_amount >= p["min_monthly"] * 100,
    )
    per = recent.group_by("customer_id").aggregate(basis=_.monthly_amount.max(), on_date=_.last_paid_on.max())
    potential = ibis.least(per.basis * p["salary_multiple"], p["max_amount"] * 100)
    return _shape(per, "payroll_staff", potential=potential, basis=per.basis, on_date=per.on_date)


def mortgage_holder(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    loans = t["loans"]
    seasoned = loans.filter(
        loans.kind == "mortgage",
        loans.status == "normal",
        loans.overdue_days == 0,
        loans.disbursed_on <= _months_before(day, p["min_months_on_book"]),
    )
    per = seasoned.group_by("customer_id").aggregate(basis=_.amount.sum(), on_date=_.disbursed_on.min())
    c = t["customers"]
    joined = per.join(c, "customer_id").select(per, estimate=_estimate(c, p))
    return _shape(
        joined,
        "mortgage_holder",
        potential=joined.estimate,
        basis=joined.basis,
        days=_days_since(day, joined.on_date),
        on_date=joined.on_date,
    )


def premium_card(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    cards = t["cards"]
    delinquent = cards.filter(cards.delinquent_cycles > 0).select("customer_id").distinct()
    good = cards.filter(
        cards["limit"] >= p["min_card_limit"] * 100,
        cards["limit"] > 0,
        cards.used * 10000 <= cards["limit"] * _scaled(p["max_usage"]),
    )
    order = [ibis.desc("limit"), "tier", "used"]
    best = good.mutate(n=ibis.row_number().over(group_by="customer_id", order_by=order)).filter(_.n == 0)
    best = best.anti_join(delinquent, "customer_id")
    c = t["customers"]
    joined = best.join(c, "customer_id").select(
        best.customer_id, best["limit"], best.tier, estimate=_estimate(c, p)
    )
    return _shape(
        joined, "premium_card", potential=joined.estimate, basis=joined["limit"], detail=joined.tier
    )


def premium_deposit(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    c = t["customers"]
    rich = c.filter(c.aum >= p["min_aum"] * 100)
    return _shape(rich, "premium_deposit", potential=_estimate(rich, p), basis=rich.aum)


def scenario_channel(t: Tables, day: dt.date, p: dict[str, Any]) -> ir.Table:
    leads = t["leads"]
    recent = leads.filter(leads.consented_on > day - dt.timedelta(days=p["look_back_days"]))
    order = [ibis.desc("consented_on"), "scenario"]
    latest = recent.mutate(n=ibis.row_number().over(group_by="customer_id", order_by=order)).filter(_.n == 0)
    c = t["customers"]
    joined = latest.join(c, "customer_id").select(
        latest.customer_id, latest.scenario, latest.consented_on, estimate=_estimate(c, p)
    )
    return _shape(
        joined,
        "scenario_channel",
        potential=joined.estimate,
        on_date=joined.consented_on,
        detail=joined.scenario,
    )


BUILDERS = {
    "approved_undrawn": approved_undrawn,
    "unfinished_application": unfinished_application,
    "current_borrower": current_borrower,
    "good_past_borrower": good_past_borrower,
    "payroll_staff": payroll_staff,
    "mortgage_holder": mortgage_holder,
    "premium_card": premium_card,
    "premium_deposit": premium_deposit,
    "scenario_channel": scenario_channel,
}


_CHANNEL_BITS = {
    "phone": Channels.PHONE,
    "sms": Channels.SMS,
    "visit": Channels.VISIT,
    "wechat": Channels.WECHAT,
}


def _channel_bit(channel: ir.StringValue) -> ir.IntegerValue:
    return ibis.cases(*[(channel == name, int(bit)) for name, bit in _CHANNEL_BITS.items()], else_=0)


def eligibility(t: Tables, day: dt.date, g: dict[str, Any]) -> ir.Table:
    """Per customer of the branch: the Block bits and the channels they may be contacted on."""
    c = t["customers"]
    consents = t["consents"]
    order = [ibis.desc("recorded_at"), ibis.desc("consent_id")]
    latest = consents.mutate(
        n=ibis.row_number().over(group_by=["customer_id", "channel"], order_by=order)
    ).filter(_.n == 0)
    active = latest.filter(latest.granted, latest.expires_on.isnull() | (latest.expires_on > day))
    opt = t["opt_outs"]
    out_all = (
        opt.filter(opt.channel == "").select("customer_id").distinct().mutate(all_out=ibis.literal(True))
    )
    out_one = opt.filter(opt.channel != "").select("customer_id", "channel").distinct()
    usable = active.select("customer_id", "channel").anti_join(out_one, ["customer_id", "channel"])
    bits = usable.group_by("customer_id").aggregate(channels=_channel_bit(_.channel).sum())
    loans, cards = t["loans"], t["cards"]
    overdue = (
        loans.filter((loans.status == "overdue") | ((loans.status != "settled") & (loans.overdue_days > 0)))
        .select("customer_id")
        .union(cards.filter(cards.delinquent_cycles > 0).select("customer_id"))
        .distinct()
        .mutate(is_overdue=ibis.literal(True))
    )
    young = _years_before(day, g["min_age"])  # born after this: under the minimum age
    old = _years_before(day, g["max_age"] + 1)  # born on or before this: over the maximum age
    e = (
        c.left_join(bits, "customer_id")
        .left_join(out_all, "customer_id")
        .left_join(overdue, "customer_id")
        .select(
            c.customer_id,
            channels=bits.channels.fill_null(0),
            all_out=out_all.all_out.fill_null(False),
            is_overdue=overdue.is_overdue.fill_null(False),
            birth_date=c.birth_date,
            is_vulnerable=c.is_vulnerable,
        )
    )
    blocked = (
        ibis.ifelse(e.birth_date > young, int(Block.UNDER_AGE), 0)
        + ibis.ifelse(e.birth_date <= old, int(Block.OVER_AGE), 0)
        + ibis.ifelse(e.is_vulnerable, int(Block.VULNERABLE), 0)
        + ibis.ifelse(e.all_out, int(Block.OPTED_OUT), 0)
        + ibis.ifelse(~e.all_out & (e.channels == 0), int(Block.NO_CONSENT), 0)
        + ibis.ifelse(e.is_overdue, int(Block.OVERDUE), 0)
    )
    return e.select(
        "customer_id",
        blocked=blocked.cast("int64"),
        channels=ibis.ifelse(e.all_out, 0, e.channels).cast("int64"),
    )


def funnel(t: Tables, day: dt.date, g: dict[str, Any]) -> ir.Table:
    """Per customer with any event in the window: 0/1 for each funnel step, and `covered`."""
    since = day - dt.timedelta(days=g["funnel_days"])
    recent = day - dt.timedelta(days=g["coverage_days"])
    contacts = t["contacts"]
    calls = contacts.filter(contacts.contacted_on > since, contacts.contacted_on <= day).select(
        "customer_id",
        contacted=ibis.literal(1),
        reached=ibis.ifelse(contacts.outcome.isin(NOT_REACHED), 0, 1),
        interested=ibis.ifelse(contacts.outcome.isin(INTERESTED), 1, 0),
    )
    covered = contacts.filter(contacts.contacted_on > recent, contacts.contacted_on <= day).select(
        "customer_id", covered=ibis.literal(1)
    )
    apps, lines, loans = t["applications"], t["credit_lines"], t["loans"]

    def within(col: ir.DateValue) -> ir.BooleanValue:
        return (col > since) & (col <= day)

    applied = apps.filter(within(apps.started_on)).select("customer_id", applied=ibis.literal(1))
    approved = (
        apps.filter(apps.stage.isin(("approved", "disbursed")), within(apps.last_step_on))
        .select("customer_id")
        .union(lines.filter(within(lines.approved_on)).select("customer_id"))
        .select("customer_id", approved=ibis.literal(1))
    )
    disbursed = (
        _consumer(loans).filter(within(loans.disbursed_on)).select("customer_id", disbursed=ibis.literal(1))
    )
    drawn = lines.filter(within(lines.last_drawn_on)).select("customer_id", drawn=ibis.literal(1))
    flags = ("covered", *FUNNEL)
    parts = [calls, covered, applied, approved, disbursed, drawn]
    events = ibis.union(
        *[
            part.select(
                "customer_id", **{f: (part[f] if f in part.columns else ibis.literal(0)) for f in flags}
            )
            for part in parts
        ],
        distinct=False,
    )
    return events.group_by("customer_id").aggregate(**{f: events[f].cast("int64").max() for f in flags})


def members(t: Tables, day: dt.date, rules: Rules, priorities: dict[str, int]) -> ir.Table:
    """Every (customer, pool) with eligibility, primary pool, funnel flags and whether it is new."""
    pools = [BUILDERS[code](t, day, rules[code]) for code in priorities]
    union = ibis.union(*pools, distinct=False)
    prio = ibis.cases(*[(union.pool == code, rank) for code, rank in priorities.items()], else_=9999)
    ranked = union.mutate(
        is_primary=ibis.row_number().over(group_by="customer_id", order_by=[prio, union.pool]) == 0
    )
    g = rules["general"]
    elig = eligibility(t, day, g)
    flags = funnel(t, day, g)
    prev = t["previous"].mutate(was=ibis.literal(True))
    c = t["customers"]
    m = (
        ranked.join(c, "customer_id")
        .join(elig, "customer_id")
        .left_join(flags, "customer_id")
        .left_join(prev, ["customer_id", "pool"])
    )
    fields: dict[str, Any] = {name: ranked[name] for name in MEMBER_COLUMNS}
    fields.update(
        is_primary=ranked.is_primary,
        blocked=elig.blocked,
        channels=elig.channels,
        is_new=prev.was.isnull(),
        branch_id=c.branch_id,
        sub_branch_id=c.sub_branch_id,
        team_id=c.team_id,
        owner_id=c.owner_id,
        covered=flags.covered.fill_null(0),
        **{f: flags[f].fill_null(0) for f in FUNNEL},
    )
    return m.select(**fields)


# (level, grouped by, must not be NULL): a person's row carries their team, which may be none.
_LEVELS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("branch", ("branch_id",), ("branch_id",)),
    ("sub_branch", ("branch_id", "sub_branch_id"), ("branch_id", "sub_branch_id")),
    ("team", ("branch_id", "team_id"), ("branch_id", "team_id")),
    ("owner", ("branch_id", "team_id", "owner_id"), ("branch_id", "owner_id")),
)
_ORG = ("branch_id", "sub_branch_id", "team_id", "owner_id")
_SUMMED = (
    "primary", "workable", "potential", "workable_potential", "primary_workable", "primary_potential",
    "covered", "entered",
)  # fmt: skip


def figures(m: ir.Table, t: Tables) -> ir.Table:
    """Members counted per pool at each organisation level; `left` counts last run's members gone now."""
    present = m.select(
        "pool",
        *_ORG,
        present=ibis.literal(1).cast("int64"),
        gone=ibis.literal(0).cast("int64"),
        primary=m.is_primary.cast("int64"),
        workable=(m.blocked == 0).cast("int64"),
        potential=m.potential,
        workable_potential=ibis.ifelse(m.blocked == 0, m.potential, 0),
        primary_workable=(m.is_primary & (m.blocked == 0)).cast("int64"),
        primary_potential=ibis.ifelse(m.is_primary, m.potential, 0),
        covered=ibis.ifelse(m.blocked == 0, m.covered, 0),
        entered=m.is_new.cast("int64"),
        **{f: m[f] for f in FUNNEL},
    )
    prev, c = t["previous"], t["customers"]
    gone = prev.anti_join(m, ["customer_id", "pool"]).join(c, "customer_id")
    zero = ibis.literal(0).cast("int64")
    left = gone.select(
        gone.pool,
        *[gone[k] for k in _ORG],
        present=zero,
        gone=ibis.literal(1).cast("int64"),
        primary=zero,
        workable=zero,
        potential=zero,
        workable_potential=zero,
        primary_workable=zero,
        primary_potential=zero,
        covered=zero,
        entered=zero,
        **dict.fromkeys(FUNNEL, zero),
    )
    facts = ibis.union(present, left, distinct=False)
    measures = {
        "customers": _.present.sum(),
        "left": _.gone.sum(),
        **{k: _[k].sum() for k in (*_SUMMED, *FUNNEL)},
    }
    parts = []
    for level, keys, required in _LEVELS:
        rows = facts.filter(*[facts[k].notnull() for k in required])
        agg = rows.group_by(["pool", *keys]).aggregate(**measures)
        parts.append(
            agg.select(
                "pool",
                level=ibis.literal(level),
                **{k: (agg[k] if k in keys else ibis.null("int64")) for k in _ORG},
                **{k: agg[k].cast("int64") for k in measures},
            )
        )
    return ibis.union(*parts, distinct=False)
