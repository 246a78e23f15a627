"""The signal step, written once on ibis: the same expressions run on DuckDB (default) and on Spark.

Inputs are the run's snapshot (schema.TRANSACTIONS, the pool snapshot's customers, loans and payroll) and the
merchant-code lookup compute.py writes from the rules (`mcc`: code, scenario, securities). Money is integer
cents, days are dates. The work goes in two stages, so the large table is read a few times by lean queries and
everything else works on what they keep:

1. over every transaction: the ids delivered more than once (`duplicate_ids`); per customer, what was read
   and excluded and the usual payment (`per_customer`); the deduplicated, usable rows any rule can use,
   classified (`flows`: a small share of the rows);
2. over `flows`: `events`, `signals`, `alerts` and the closed loop (`loop_figures`).

Windows: "within N days" is [day - N, day]; the current window of a scenario is [day - recent_days, day] and
the usual payment is measured over [day - baseline_days - recent_days, day - recent_days). Comparisons with a
Decimal parameter are done in integers (x * 10000 against value * rate * 10000) so both engines round alike;
every row_number orders on enough columns (NULLs coalesced) to be deterministic (the parity test).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis import _

from xiaodai.signals.choices import AlertKind, Kind, SalaryChange
from xiaodai.signals.rules import scenario_words

Tables = dict[str, ir.Table]
Rules = dict[str, dict[str, Any]]  # {rule code: typed params}, SignalConfig.rules

USED_COLUMNS = (
    "customer_id", "txn_id", "booked_on", "amount", "direction", "mcc", "counterparty_name",
    "counterparty_bank", "memo", "currency",
)  # fmt: skip
PER_CUSTOMER_COLUMNS = (
    "customer_id", "rows", "used", "foreign_currency", "bad_amount", "unknown_mcc", "missing_counterparty",
    "baseline_payments", "usual2",
)  # fmt: skip


def scaled(rate: Decimal) -> int:
    return int(rate * 10000)


def _ago(day: dt.date, days: int) -> dt.date:
    return day - dt.timedelta(days=days)


_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def regex_literal(word: str) -> str:
    """A word as a literal in a regular expression, the same for RE2 (DuckDB) and java.util.regex (Spark)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in word)


def has_word(column: ir.StringValue, words: Sequence[str]) -> ir.BooleanValue:
    """The text contains one of the words (NULL text: no). An empty list matches nothing. Up to four words
    are plain substring tests; more are one regular expression (one pass over the text: 4x faster than 28
    substring tests on DuckDB)."""
    if not words:
        return ibis.literal(False)
    if len(words) > 4:
        found = column.re_search("|".join(regex_literal(w) for w in words))
    else:
        found = column.contains(words[0])
        for word in words[1:]:
            found = found | column.contains(word)
    return found.fill_null(False)


def _blank(column: ir.StringValue) -> ir.BooleanValue:
    return column.isnull() | (column.strip() == "")


# ---------------------------------------------------------------------------------------------------------
# Stage 1: over every transaction


def duplicate_ids(t: Tables) -> ir.Table:
    """Transaction ids delivered more than once (across the lake's batches), with how many copies."""
    tx = t["transactions"]
    return tx.group_by("txn_id").aggregate(copies=_.count()).filter(_.copies > 1)


def _currency(tx: ir.Table) -> ir.StringValue:
    # The column is optional in the contract (1.1): absent means every amount is in yuan.
    return tx.currency if "currency" in tx.columns else ibis.literal("", type="string")


def _foreign(tx: ir.Table) -> ir.BooleanValue:
    currency = _currency(tx)
    return currency.notnull() & (currency != "") & (currency != "CNY")


def _bad_amount(tx: ir.Table) -> ir.BooleanValue:
    """Zero, missing, or signed against the direction (money out must be negative, money in positive)."""
    sound = ((tx.direction == "out") & (tx.amount < 0)) | ((tx.direction == "in") & (tx.amount > 0))
    return ~sound.fill_null(False)


def _used_columns(tx: ir.Table) -> ir.Table:
    """The columns the rules read (account numbers and the channel play no part)."""
    return tx.select(*USED_COLUMNS[:-1], currency=_currency(tx))


def kept_copies(t: Tables, dups: ir.Table) -> ir.Table:
    """Of each id delivered more than once, the copy kept: a usable one if any is (a corrected re-delivery is
    not lost), then the earliest booked, then the first in an order over the columns the rules read (copies
    equal in those give the same outputs), the same on any engine. Done once and kept: finding the copies
    reads those columns of every row."""
    multi = _used_columns(t["transactions"].semi_join(dups, "txn_id"))
    unusable = (_foreign(multi) | _bad_amount(multi)).cast("int8")
    text = ("currency", "direction", "mcc", "counterparty_name", "counterparty_bank", "memo")
    order = [
        unusable,
        multi.booked_on,
        multi.amount.fill_null(0),
        *[multi[name].fill_null("") for name in text],
        multi.customer_id,
    ]
    kept = multi.mutate(_copy=ibis.row_number().over(group_by="txn_id", order_by=order)).filter(_._copy == 0)
    return kept.drop("_copy")


@dataclass(frozen=True)
class Dedup:
    """The ids delivered more than once and the copy kept of each (the step passes None when nothing came
    twice: no copy to choose, no row to test against the list)."""

    dups: ir.Table
    kept: ir.Table


def _deduplicated(t: Tables, dedup: Dedup | None) -> ir.Table:
    """One row per txn_id: the ids seen once, and the kept copy of the others."""
    if dedup is None:
        return _used_columns(t["transactions"])
    single = _used_columns(t["transactions"].anti_join(dedup.dups, "txn_id"))
    return ibis.union(single, dedup.kept, distinct=False)


def _annotated(t: Tables, dedup: Dedup | None) -> ir.Table:
    """Deduplicated rows with the merchant-code lookup: known code, its scenario, a securities code."""
    rows = _deduplicated(t, dedup)
    codes = t["mcc"]
    j = rows.left_join(codes, rows.mcc == codes.code)
    return j.select(
        customer_id=rows.customer_id,
        txn_id=rows.txn_id,
        booked_on=rows.booked_on,
        amount=rows.amount,
        direction=rows.direction,
        currency=_currency(rows),
        mcc=rows.mcc,
        counterparty_name=rows.counterparty_name,
        counterparty_bank=rows.counterparty_bank,
        memo=rows.memo,
        known=codes.code.notnull(),
        code_scenario=codes.scenario,
        code_securities=codes.securities.fill_null(False),
    )


def per_customer(t: Tables, dedup: Dedup | None, day: dt.date, rules: Rules) -> ir.Table:
    """Per customer: rows after deduplication, and of them used, excluded (other currency, bad amount) and
    used with less (unknown merchant code, no counterparty); the usual payment: twice the median magnitude
    of money out over the baseline window (twice: an integer on both engines) and how many payments."""
    g = rules["general"]
    a = _annotated(t, dedup)
    baseline_end = _ago(day, g["recent_days"])
    baseline_start = _ago(baseline_end, g["baseline_days"])
    f = a.select(
        "customer_id",
        "direction",
        "booked_on",
        "known",
        "mcc",
        "counterparty_name",
        foreign=_foreign(a),
        bad=_bad_amount(a),
        mag=a.amount.abs(),
    )
    f = f.mutate(ok=~f.foreign & ~f.bad)
    f = f.mutate(
        base=f.ok & (f.direction == "out") & (f.booked_on >= baseline_start) & (f.booked_on < baseline_end)
    )
    per = f.group_by("customer_id").aggregate(
        rows=_.count(),
        used=_.count(where=_.ok),
        foreign_currency=_.count(where=_.foreign),
        bad_amount=_.count(where=_.bad & ~_.foreign),
        unknown_mcc=_.count(where=_.ok & _.mcc.notnull() & (_.mcc != "") & ~_.known),
        missing_counterparty=_.count(where=_.ok & _blank(_.counterparty_name)),
        baseline_payments=_.count(where=_.base),
        # quantile, not median: ibis gives Spark a median's filter as a non-constant percentage
        usual=_.mag.quantile(0.5, where=_.base),
    )
    return per.select(
        *PER_CUSTOMER_COLUMNS[:-1],
        usual2=(per.usual * 2).round().cast("int64"),  # exact: a median of integers is whole or half
    )


def flows(t: Tables, dedup: Dedup | None, day: dt.date, rules: Rules) -> ir.Table:
    """The usable transactions up to `day` some rule can use, classified. Most rows are everyday payments no
    rule wants: the filter tests direction, amount and bank before any word search, and the classification
    searches words only where the result can matter (a scenario only at or above the rule's lowest amount,
    a watched destination only at or above the watch's amount): a flag is False elsewhere."""
    g, s, ol = rules["general"], rules["scenario"], rules["other_lender"]
    pf, cp, cl = rules["provident_fund"], rules["compliance"], rules["closed_loop"]
    sw = scenario_words(s)  # in Scenario order: a name matching several takes the first
    all_scenario_words = [w for words in sw.values() for w in words]
    salary_words = rules["salary_change"]["salary_keywords"]
    scenario_floor = min(s["min_amount"], s["no_history_amount"]) * 100
    a = _annotated(t, dedup)
    loans = t["loans"]
    recent = loans.filter(
        loans.kind == "consumer",
        loans.disbursed_on >= _ago(day, cl["window_days"]),
        loans.disbursed_on <= day,
    )
    first_loan = recent.group_by("customer_id").aggregate(loan_from=_.disbursed_on.min())
    j = a.left_join(first_loan, a.customer_id == first_loan.customer_id)
    a = j.select(*[a[name] for name in a.columns], loan_from=first_loan.loan_from)

    mag = a.amount.abs()
    out, inward = a.direction == "out", a.direction == "in"
    own = a.counterparty_bank.isin(g["own_bank_names"]).fill_null(False)
    elsewhere = ~own & ~_blank(a.counterparty_bank)
    name, memo = a.counterparty_name, a.memo
    lender = elsewhere & has_word(memo, ol["memo_keywords"]) & has_word(name, ol["lender_keywords"])
    purpose = has_word(memo, pf["purpose_keywords"]) if pf["purpose_keywords"] else ibis.literal(True)
    watched = (
        a.code_securities
        | has_word(memo, cp["down_payment_keywords"])
        | has_word(name, cp["securities_keywords"])
        | has_word(name, cp["developer_keywords"])
    )
    loop = a.known & own & (a.booked_on >= a.loan_from)
    wanted = (
        out
        & (
            (elsewhere & ~a.known)  # deposit outflow (and most repayments to other lenders)
            | loop.fill_null(False)
            | (
                (mag >= scenario_floor)
                & (a.code_scenario.notnull() | (~a.known & has_word(name, all_scenario_words)))
            )
            | ((mag >= ol["min_amount"] * 100) & lender)
            | ((mag >= cp["min_amount"] * 100) & watched)
        )
    ) | (
        inward
        & (
            has_word(memo, salary_words)
            | ((mag >= pf["min_amount"] * 100) & has_word(name, pf["source_keywords"]) & purpose)
        )
    )
    k = a.filter(~_foreign(a), ~_bad_amount(a), a.booked_on <= day, wanted)

    no = ibis.literal(False)
    kmag = k.amount.abs()
    kout, kin = k.direction == "out", k.direction == "in"
    kown = k.counterparty_bank.isin(g["own_bank_names"]).fill_null(False)
    kelsewhere = kout & ~kown & ~_blank(k.counterparty_bank)
    kname, kmemo = k.counterparty_name, k.memo
    klender = ibis.ifelse(
        kelsewhere & has_word(kmemo, ol["memo_keywords"]), has_word(kname, ol["lender_keywords"]), no
    )
    by_word = (
        ibis.cases(
            *[(has_word(kname, words), code) for code, words in sw.items() if words],
            else_=ibis.null("string"),
        )
        if all_scenario_words
        else ibis.null("string")
    )
    scenario = ibis.cases(
        (~kout | (kmag < scenario_floor), ibis.null("string")),
        (k.known, k.code_scenario),
        else_=by_word,
    )
    kpurpose = has_word(kmemo, pf["purpose_keywords"]) if pf["purpose_keywords"] else ibis.literal(True)
    watch = kout & (kmag >= cp["min_amount"] * 100)
    return k.select(
        "customer_id",
        "txn_id",
        "booked_on",
        mag=kmag,
        is_out=kout,
        mcc=ibis.ifelse(k.known, k.mcc, ibis.null("string")),
        counterparty=kname,
        scenario=scenario,
        lender=klender,
        provident=ibis.ifelse(kin, has_word(kname, pf["source_keywords"]) & kpurpose, no),
        salary=ibis.ifelse(kin, has_word(kmemo, salary_words), no),
        outflow=kelsewhere & ~k.known & ~klender,
        securities=ibis.ifelse(watch, k.code_securities | has_word(kname, cp["securities_keywords"]), no),
        developer=ibis.ifelse(watch, has_word(kname, cp["developer_keywords"]), no),
        down_payment=ibis.ifelse(watch, has_word(kmemo, cp["down_payment_keywords"]), no),
        loop=(kout & k.known & kown & (k.booked_on >= k.loan_from)).fill_null(False),
    )


# ---------------------------------------------------------------------------------------------------------
# Stage 2: events, signals, alerts and the closed loop, over `flows`


def _event(f: ir.Table, kind: str, *, detail: Any = "", basis: Any = None) -> ir.Table:
    """Rows of `f` (booked_on, mag, counterparty, mcc) in the EVENTS shape."""
    return f.select(
        customer_id=f.customer_id,
        kind=ibis.literal(kind),
        detail=ibis.literal(detail) if isinstance(detail, str) else detail,
        on_date=f.booked_on.cast("date"),
        amount=f.mag.cast("int64"),
        basis=(ibis.null("int64") if basis is None else basis).cast("int64"),
        counterparty=f.counterparty.cast("string"),
        mcc=f.mcc.cast("string"),
    )


def _scenario_events(f: ir.Table, usual: ir.Table, rules: Rules) -> ir.Table:
    """A scenario payment far above the customer's usual payment (twice-median `usual2`, see per_customer).

    The usual payment is the one measured for the run's day; payments before the current window are judged
    against it too (their own, earlier baseline is not recomputed), so an event dated before the current
    window means "large against today's usual spending", which the scoring features accept."""
    g, s = rules["general"], rules["scenario"]
    p = f.filter(f.scenario.notnull())
    j = p.left_join(usual, p.customer_id == usual.customer_id)
    history = j.baseline_payments.fill_null(0) >= g["min_baseline_payments"]
    usual2 = j.usual2
    large = (j.mag * 20000 >= usual2 * scaled(s["spending_multiple"])) & (j.mag >= s["min_amount"] * 100)
    hit = ibis.ifelse(history, large.fill_null(False), j.mag >= s["no_history_amount"] * 100)
    rows = j.select(
        customer_id=p.customer_id,
        booked_on=p.booked_on,
        mag=p.mag,
        counterparty=p.counterparty,
        mcc=p.mcc,
        scenario=p.scenario,
        basis=ibis.ifelse(history, ((usual2 + 1) / 2).floor().cast("int64"), ibis.null("int64")),
        hit=hit,
    ).filter(_.hit)
    return _event(rows, Kind.SCENARIO, detail=rows.scenario, basis=rows.basis)


def salary_months(f: ir.Table, t: Tables) -> ir.Table:
    """Per payroll customer and calendar month: the salary total, the last pay day and the payer (who paid
    the largest amount)."""
    payroll = t["payroll"].select("customer_id").distinct()
    s = f.filter(f.salary).semi_join(payroll, "customer_id")
    s = s.mutate(month=s.booked_on.year() * 12 + s.booked_on.month() - 1)
    order = [ibis.desc("mag"), ibis.desc("booked_on"), s.counterparty.fill_null(""), s.txn_id]
    payer = (
        s.mutate(_n=ibis.row_number().over(group_by=["customer_id", "month"], order_by=order))
        .filter(_._n == 0)
        .select("customer_id", "month", payer=_.counterparty)
    )
    m = s.group_by(["customer_id", "month"]).aggregate(total=_.mag.sum(), on_date=_.booked_on.max())
    j = m.join(payer, [m.customer_id == payer.customer_id, m.month == payer.month])
    return j.select(m.customer_id, m.month, m.total, m.on_date, payer.payer)


def _salary_events(m: ir.Table, rules: Rules) -> ir.Table:
    """Each month whose `min_months` months before all had a salary: a raise (the month's total against
    their average) and a new employer (the payer against the previous month's)."""
    p = rules["salary_change"]
    k = p["min_months"]
    before = m.view().select(b_customer=_.customer_id, b_month=_.month, b_total=_.total, b_payer=_.payer)
    h = m.join(
        before,
        [m.customer_id == before.b_customer, before.b_month < m.month, before.b_month >= m.month - k],
    )
    history = h.group_by(["customer_id", "month"]).aggregate(months=_.b_month.count(), before=_.b_total.sum())
    with_history = m.join(history, ["customer_id", "month"])
    prev = m.view().select(p_customer=_.customer_id, p_month=_.month + 1, p_total=_.total, p_payer=_.payer)
    j = with_history.join(
        prev, [with_history.customer_id == prev.p_customer, with_history.month == prev.p_month]
    )
    full = j.select(
        customer_id=with_history.customer_id,
        booked_on=with_history.on_date,
        mag=with_history.total,
        counterparty=with_history.payer,
        mcc=ibis.null("string"),
        before=with_history.before,
        months=with_history.months,
        p_total=prev.p_total,
        p_payer=prev.p_payer,
    ).filter(_.months == k)
    raised = full.filter(full.mag * (k * 10000) >= full.before * (10000 + scaled(p["raise_share"])))
    moved = full.filter(~_blank(full.counterparty), ~_blank(full.p_payer), full.counterparty != full.p_payer)
    return ibis.union(
        _event(raised, Kind.SALARY_CHANGE, detail=SalaryChange.RAISE, basis=(raised.before / k).floor()),
        _event(moved, Kind.SALARY_CHANGE, detail=SalaryChange.NEW_EMPLOYER, basis=moved.p_total),
        distinct=False,
    )


def events(
    f: ir.Table, usual: ir.Table, months: ir.Table, t: Tables, rules: Rules, active: frozenset[str]
) -> ir.Table:
    """Every dated event of the kinds switched on, for customers whose data may be used for marketing
    (P-02: a customer flagged no_personalised_marketing gets none)."""
    c = t["customers"]
    marketable = c.filter(~c.no_personalised_marketing.fill_null(False)).select(
        "customer_id", aum=c.aum.fill_null(0)
    )
    parts: list[ir.Table] = []
    if Kind.SCENARIO in active:
        parts.append(_scenario_events(f, usual, rules))
    if Kind.OTHER_LENDER in active:
        parts.append(
            _event(f.filter(f.lender, f.mag >= rules["other_lender"]["min_amount"] * 100), Kind.OTHER_LENDER)
        )
    if Kind.PROVIDENT_FUND in active:
        pf = f.filter(f.provident, f.mag >= rules["provident_fund"]["min_amount"] * 100)
        parts.append(_event(pf, Kind.PROVIDENT_FUND))
    if Kind.SALARY_CHANGE in active:
        parts.append(_salary_events(months, rules))
    if Kind.DEPOSIT_OUTFLOW in active:
        o = f.filter(f.outflow)
        j = o.join(marketable, o.customer_id == marketable.customer_id)
        rows = j.select(*[o[n] for n in o.columns], aum=marketable.aum)
        parts.append(_event(rows, Kind.DEPOSIT_OUTFLOW, basis=rows.aum))
    if not parts:
        return _event(f.filter(ibis.literal(False)), Kind.SCENARIO)
    every = ibis.union(*parts, distinct=False)
    return every.semi_join(marketable, "customer_id")


def _window(e: ir.Table, kind: str, day: dt.date, days: int) -> ir.Table:
    return e.filter(e.kind == kind, e.on_date >= _ago(day, days), e.on_date <= day)


def signals(e: ir.Table, months: ir.Table, day: dt.date, rules: Rules) -> ir.Table:
    """The customers' current signals: per (customer, kind, detail) the events of the rule's window, with the
    largest event's basis, counterparty and merchant code."""
    g = rules["general"]
    latest = months.group_by("customer_id").aggregate(latest=_.on_date.max())
    salary = _window(e, Kind.SALARY_CHANGE, day, rules["salary_change"]["look_back_days"])
    salary = salary.semi_join(
        latest, [salary.customer_id == latest.customer_id, salary.on_date == latest.latest]
    )
    w = ibis.union(
        _window(e, Kind.SCENARIO, day, g["recent_days"]),
        _window(e, Kind.OTHER_LENDER, day, rules["other_lender"]["look_back_days"]),
        _window(e, Kind.PROVIDENT_FUND, day, rules["provident_fund"]["look_back_days"]),
        salary,
        _window(e, Kind.DEPOSIT_OUTFLOW, day, rules["deposit_outflow"]["look_back_days"]),
        distinct=False,
    )
    keys = ["customer_id", "kind", "detail"]
    agg = w.group_by(keys).aggregate(
        first_on=_.on_date.min(),
        last_on=_.on_date.max(),
        txns=_.count(),
        amount=_.amount.sum(),
        largest=_.amount.max(),
        months=(_.on_date.year() * 12 + _.on_date.month()).nunique(),
    )
    order = [
        ibis.desc("amount"),
        ibis.desc("on_date"),
        w.counterparty.fill_null(""),
        w.mcc.fill_null(""),
        w.basis.fill_null(-1),
    ]
    top = w.mutate(_n=ibis.row_number().over(group_by=keys, order_by=order)).filter(_._n == 0)
    j = agg.join(top, [agg[k] == top[k] for k in keys])
    s = j.select(
        agg.customer_id,
        agg.kind,
        agg.detail,
        agg.first_on,
        agg.last_on,
        txns=agg.txns.cast("int64"),
        amount=agg.amount.cast("int64"),
        largest=agg.largest.cast("int64"),
        basis=top.basis,
        counterparty=top.counterparty,
        mcc=top.mcc,
        months=agg.months,
    )
    ol, do = rules["other_lender"], rules["deposit_outflow"]
    aum = s.basis.fill_null(0)
    keep = ibis.cases(
        (s.kind == Kind.OTHER_LENDER, s.months >= ol["min_months"]),
        (
            s.kind == Kind.DEPOSIT_OUTFLOW,
            (s.amount >= do["min_amount"] * 100)
            & (s.amount * 10000 >= (aum + s.amount) * scaled(do["min_aum_share"])),
        ),
        else_=True,
    )
    return s.filter(keep).drop("months")


def alerts(f: ir.Table, t: Tables, rules: Rules) -> ir.Table:
    """C-17, every customer: consumer-loan money that reached a securities account, a developer or a down
    payment within watch_days of the disbursement; the latest loan disbursed on or before the transfer."""
    cp = rules["compliance"]
    big = f.filter(f.mag >= cp["min_amount"] * 100)
    flagged = ibis.union(
        *[big.filter(big[kind]).mutate(kind=ibis.literal(str(kind))) for kind in AlertKind.values],
        distinct=False,
    )
    loans = t["loans"]
    consumer = loans.filter(loans.kind == "consumer").select(
        l_customer=loans.customer_id, loan_disbursed_on=loans.disbursed_on, loan_amount=loans.amount
    )
    after = flagged.booked_on.delta(consumer.loan_disbursed_on, unit="day")
    j = flagged.join(
        consumer,
        [flagged.customer_id == consumer.l_customer, after >= 0, after <= cp["watch_days"]],
    )
    rows = j.select(
        customer_id=flagged.customer_id,
        kind=flagged.kind,
        txn_id=flagged.txn_id,
        flow_on=flagged.booked_on,
        amount=flagged.mag,
        counterparty=flagged.counterparty,
        loan_disbursed_on=consumer.loan_disbursed_on,
        loan_amount=consumer.loan_amount,
        days_after=after.cast("int64"),
    )
    order = [ibis.desc("loan_disbursed_on"), ibis.desc("loan_amount")]
    latest = rows.mutate(
        _n=ibis.row_number().over(group_by=["customer_id", "txn_id", "kind"], order_by=order)
    )
    return latest.filter(_._n == 0).drop("_n")


def loop_figures(f: ir.Table, t: Tables, day: dt.date, rules: Rules) -> ir.Table:
    """Ecosystem 2.0, one row: consumer loans disbursed within window_days, their money, and of it what was
    spent at merchants banking with us within loop_days (capped at each loan's amount)."""
    cl = rules["closed_loop"]
    loans = t["loans"]
    recent = loans.filter(
        loans.kind == "consumer",
        loans.disbursed_on >= _ago(day, cl["window_days"]),
        loans.disbursed_on <= day,
    )
    # Loans have no id in the snapshot: identical ones (customer, day, amount) count once each through `n`.
    same = recent.group_by(["customer_id", "disbursed_on", "amount"]).aggregate(n=_.count())
    pay = f.filter(f.loop).select(p_customer=_.customer_id, p_on=_.booked_on, p_mag=_.mag)
    after = pay.p_on.delta(same.disbursed_on, unit="day")
    spent = (
        same.join(pay, [same.customer_id == pay.p_customer, after >= 0, after <= cl["loop_days"]])
        .group_by(["customer_id", "disbursed_on", "amount"])
        .aggregate(spent=_.p_mag.sum())
    )
    j = same.left_join(
        spent,
        [
            same.customer_id == spent.customer_id,
            same.disbursed_on == spent.disbursed_on,
            same.amount == spent.amount,
        ],
    )
    per = j.select(
        n=same.n,
        disbursed=same.amount * same.n,
        closed=ibis.least(same.amount, spent.spent.fill_null(0)) * same.n,
    )
    return per.aggregate(
        loans=_.n.sum().fill_null(0).cast("int64"),
        disbursed=_.disbursed.sum().fill_null(0).cast("int64"),
        closed_loop=_.closed.sum().fill_null(0).cast("int64"),
    )
