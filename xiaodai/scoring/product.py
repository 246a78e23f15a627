"""The product's own model: features of a customer as of a day, from the bank's holdings and contact history.

A training row is a past contact (any outcome but "applied", which records a conversion rather than an
attempt); its target is an "applied" outcome for the customer within the 30 days after. Features of a row on
day t use only facts dated before t: lines approved, drawn and expiring, loans disbursed, cards opened,
applications started, and contacts and their outcomes before t. Master data the drop carries without history
(birth date, occupation, declared monthly income, payroll employer) is taken as it is; none of it is an
outcome of a contact. Balances, drawn amounts, delinquency and application status are current values only,
so they are never features. Gender is left out on purpose (fair treatment); no sensitive data is in the drop.

Scoring uses the same SQL with t = the day after the data date, so the model sees what it was trained on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from django.utils.translation import gettext_noop

from xiaodai.customers.choices import ContactOutcome as OC
from xiaodai.scoring.frame import Feature, Frame

# An "applied" outcome on the contact's day or within this many days after it is the contact's conversion
# (days, not moments: the snapshot keeps the day of each contact).
LABEL_DAYS = 30
KEEN = (OC.INTERESTED, OC.WILL_APPLY)
NOT_REACHED = (OC.NO_ANSWER, OC.BUSY, OC.WRONG_NUMBER)
INPUTS = ("customers", "credit_lines", "loans", "cards", "applications", "payroll", "contacts")

FEATURES: tuple[Feature, ...] = (
    Feature("age", "number", "attribute", gettext_noop("age in years")),
    Feature("income", "number", "attribute", gettext_noop("declared monthly income (yuan)")),
    Feature("occupation", "category", "attribute", gettext_noop("occupation")),
    Feature("tenure_days", "number", "attribute", gettext_noop("days as a customer")),
    Feature("is_payroll", "number", "attribute", gettext_noop("salary paid through the bank")),
    Feature(
        "payroll_amount", "number", "attribute", gettext_noop("monthly salary paid through the bank (yuan)")
    ),
    Feature("line_limit", "number", "derived", gettext_noop("largest credit line in force (yuan)")),
    Feature("line_idle_days", "number", "derived", gettext_noop("days the line has gone without a drawdown")),
    Feature("line_never_drawn", "number", "derived", gettext_noop("a line in force never drawn")),
    Feature("line_expires_days", "number", "derived", gettext_noop("days until the line in force expires")),
    Feature("loans_before", "number", "derived", gettext_noop("consumer loans disbursed before")),
    Feature("last_loan_days", "number", "derived", gettext_noop("days since the last loan was disbursed")),
    Feature("has_mortgage", "number", "derived", gettext_noop("a mortgage being repaid")),
    Feature("card_limit", "number", "derived", gettext_noop("largest credit-card limit (yuan)")),
    Feature("premium_card", "number", "derived", gettext_noop("holds a platinum or diamond card")),
    Feature("app_days", "number", "derived", gettext_noop("days since the last loan application started")),
    Feature("app_amount", "number", "derived", gettext_noop("amount of the last application (yuan)")),
    Feature("h_prev_n", "number", "derived", gettext_noop("earlier contacts")),
    Feature("h_prev_n_90", "number", "derived", gettext_noop("contacts in the 90 days before")),
    Feature("h_days_since_prev", "number", "derived", gettext_noop("days since the previous contact")),
    Feature(
        "h_prev_reached", "number", "derived", gettext_noop("earlier contacts that reached the customer")
    ),
    Feature(
        "h_prev_keen", "number", "derived", gettext_noop("earlier contacts ending interested or will apply")
    ),
    Feature(
        "h_days_since_keen", "number", "derived", gettext_noop("days since the customer last showed interest")
    ),
    Feature("h_prev_refused", "number", "derived", gettext_noop("earlier refusals")),
    Feature("h_prev_pos", "number", "derived", gettext_noop("earlier applications led by a contact")),
    Feature(
        "h_days_since_pos",
        "number",
        "derived",
        gettext_noop("days since the last application led by a contact"),
    ),
    Feature("h_last_outcome", "category", "derived", gettext_noop("outcome of the previous contact")),
    Feature(
        "g_rate_30",
        "number",
        "derived",
        gettext_noop("share of the branch's contacts of the 30 days before ending keen"),
    ),
    # Capital flow (xiaodai.signals): events the signal step dated from the customer's transactions.
    Feature(
        "sig_scenario_days",
        "number",
        "derived",
        gettext_noop("days since a large consumption-scenario payment"),
    ),
    Feature("sig_scenario", "category", "derived", gettext_noop("scenario of the latest large payment")),
    Feature(
        "sig_lender_n90",
        "number",
        "derived",
        gettext_noop("repayments to other lenders in the 90 days before"),
    ),
    Feature(
        "sig_provident_days", "number", "derived", gettext_noop("days since a provident-fund withdrawal")
    ),
    Feature(
        "sig_salary_90", "number", "derived", gettext_noop("a raise or a new employer in the 90 days before")
    ),
    Feature(
        "sig_outflow_n30",
        "number",
        "derived",
        gettext_noop("transfers out to other institutions in the 30 days before"),
    ),
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


FEATURE_SQL = f"""
WITH
cust AS (
    SELECT r.row_id, r.customer_id, r.t, c.birth_date, c.monthly_income, c.occupation, c.opened_on
    FROM rows r JOIN customers c USING (customer_id)
),
drawn AS (
    -- Drawdowns known before the day: every consumer loan disbursed (a drawdown is a loan). A line's own
    -- last_drawn_on is only its latest one: it counts when it is before the day, and is never looked at
    -- when it is later (that would tell a past contact about its future).
    SELECT r.row_id, max(lo.disbursed_on) AS last_draw
    FROM rows r JOIN loans lo ON lo.customer_id = r.customer_id
    WHERE lo.kind <> 'mortgage' AND lo.disbursed_on < r.t
    GROUP BY r.row_id
),
line AS (
    SELECT r.row_id,
        max(l."limit") / 100.0 AS line_limit,
        max(r.t - greatest(l.approved_on, coalesce(d.last_draw, l.approved_on),
            CASE WHEN l.last_drawn_on < r.t THEN l.last_drawn_on ELSE l.approved_on END)) AS idle,
        max(CASE WHEN coalesce(d.last_draw, l.approved_on) <= l.approved_on
                  AND (l.last_drawn_on IS NULL OR l.last_drawn_on >= r.t) THEN 1 ELSE 0 END) AS never_drawn,
        min(l.expires_on - r.t) AS expires_days
    FROM rows r JOIN credit_lines l ON l.customer_id = r.customer_id
    LEFT JOIN drawn d ON d.row_id = r.row_id
    WHERE l.approved_on < r.t AND l.expires_on >= r.t
    GROUP BY r.row_id
),
loan AS (
    SELECT r.row_id,
        count(*) FILTER (WHERE lo.kind <> 'mortgage') AS loans_before,
        min(r.t - lo.disbursed_on) FILTER (WHERE lo.kind <> 'mortgage') AS last_loan_days,
        max(CASE WHEN lo.kind = 'mortgage' AND lo.matures_on >= r.t THEN 1 ELSE 0 END) AS has_mortgage
    FROM rows r JOIN loans lo ON lo.customer_id = r.customer_id
    WHERE lo.disbursed_on < r.t
    GROUP BY r.row_id
),
card AS (
    SELECT r.row_id, max(k."limit") / 100.0 AS card_limit,
        max(CASE WHEN k.tier IN ('platinum', 'diamond') THEN 1 ELSE 0 END) AS premium_card
    FROM rows r JOIN cards k ON k.customer_id = r.customer_id
    WHERE k.opened_on IS NULL OR k.opened_on < r.t
    GROUP BY r.row_id
),
app AS (
    SELECT r.row_id, min(r.t - a.started_on) AS app_days,
        arg_max(a.amount, a.started_on) / 100.0 AS app_amount
    FROM rows r JOIN applications a ON a.customer_id = r.customer_id
    WHERE a.started_on < r.t
    GROUP BY r.row_id
),
pay AS (
    SELECT customer_id, 1 AS is_payroll, max(monthly_amount) / 100.0 AS payroll_amount
    FROM payroll GROUP BY customer_id
),
hist AS (
    SELECT r.row_id,
        count(*) AS h_prev_n,
        count(*) FILTER (WHERE h.contacted_on >= r.t - 90) AS h_prev_n_90,
        min(r.t - h.contacted_on) AS h_days_since_prev,
        count(*) FILTER (WHERE h.outcome NOT IN {_in(NOT_REACHED)}) AS h_prev_reached,
        count(*) FILTER (WHERE h.outcome IN {_in(KEEN)}) AS h_prev_keen,
        min(r.t - h.contacted_on) FILTER (WHERE h.outcome IN {_in(KEEN)}) AS h_days_since_keen,
        count(*) FILTER (WHERE h.outcome = '{OC.REFUSED}') AS h_prev_refused,
        count(*) FILTER (WHERE h.outcome = '{OC.APPLIED}') AS h_prev_pos,
        min(r.t - h.contacted_on) FILTER (WHERE h.outcome = '{OC.APPLIED}') AS h_days_since_pos,
        min(r.t - h.contacted_on) FILTER (WHERE h.outcome = '{OC.REFUSED}') AS h_days_since_refused,
        arg_max(h.outcome, h.contacted_on) AS h_last_outcome
    FROM rows r JOIN contacts h ON h.customer_id = r.customer_id
    WHERE h.contacted_on < r.t
    GROUP BY r.row_id
),
sig AS (
    SELECT r.row_id,
        min(r.t - e.on_date) FILTER (WHERE e.kind = 'scenario') AS sig_scenario_days,
        arg_max(e.detail, e.on_date) FILTER (WHERE e.kind = 'scenario') AS sig_scenario,
        count(*) FILTER (WHERE e.kind = 'other_lender' AND e.on_date >= r.t - 90) AS sig_lender_n90,
        min(r.t - e.on_date) FILTER (WHERE e.kind = 'provident_fund') AS sig_provident_days,
        max(CASE WHEN e.kind = 'salary_change' AND e.on_date >= r.t - 90 THEN 1 ELSE 0 END) AS sig_salary_90,
        count(*) FILTER (WHERE e.kind = 'deposit_outflow' AND e.on_date >= r.t - 30) AS sig_outflow_n30
    FROM rows r JOIN signal_events e ON e.customer_id = r.customer_id
    WHERE e.on_date < r.t
    GROUP BY r.row_id
),
days AS (
    SELECT contacted_on AS d, count(*) AS n,
        count(*) FILTER (WHERE outcome IN {_in((*KEEN, OC.APPLIED))}) AS keen
    FROM contacts GROUP BY 1
),
rate AS (
    SELECT t.t, sum(d.keen) / NULLIF(sum(d.n), 0) AS g_rate_30
    FROM (SELECT DISTINCT t FROM rows) t JOIN days d ON d.d >= t.t - 30 AND d.d < t.t
    GROUP BY t.t
)
SELECT c.row_id, c.customer_id, c.t,
    date_sub('year', c.birth_date, c.t) AS age,  -- birthdays passed, not year boundaries
    c.monthly_income / 100.0 AS income,
    c.occupation,
    c.t - c.opened_on AS tenure_days,
    coalesce(p.is_payroll, 0) AS is_payroll,
    p.payroll_amount,
    l.line_limit, l.idle AS line_idle_days, l.never_drawn AS line_never_drawn,
    l.expires_days AS line_expires_days,
    coalesce(lo.loans_before, 0) AS loans_before, lo.last_loan_days,
    coalesce(lo.has_mortgage, 0) AS has_mortgage,
    k.card_limit, coalesce(k.premium_card, 0) AS premium_card,
    a.app_days, a.app_amount,
    coalesce(h.h_prev_n, 0) AS h_prev_n, coalesce(h.h_prev_n_90, 0) AS h_prev_n_90, h.h_days_since_prev,
    coalesce(h.h_prev_reached, 0) AS h_prev_reached, coalesce(h.h_prev_keen, 0) AS h_prev_keen,
    h.h_days_since_keen, coalesce(h.h_prev_refused, 0) AS h_prev_refused,
    coalesce(h.h_prev_pos, 0) AS h_prev_pos, h.h_days_since_pos, h.h_last_outcome,
    h.h_days_since_refused,  -- read by rules v1, not a model feature
    g.g_rate_30,
    s.sig_scenario_days, s.sig_scenario, coalesce(s.sig_lender_n90, 0) AS sig_lender_n90,
    s.sig_provident_days, coalesce(s.sig_salary_90, 0) AS sig_salary_90,
    coalesce(s.sig_outflow_n30, 0) AS sig_outflow_n30
FROM cust c
LEFT JOIN line l USING (row_id) LEFT JOIN loan lo USING (row_id) LEFT JOIN card k USING (row_id)
LEFT JOIN app a USING (row_id) LEFT JOIN pay p ON p.customer_id = c.customer_id
LEFT JOIN hist h USING (row_id) LEFT JOIN rate g ON g.t = c.t LEFT JOIN sig s USING (row_id)
ORDER BY c.t, c.row_id
"""

TRAINING_ROWS = f"""
SELECT row_number() OVER (ORDER BY h.contacted_on, h.customer_id) AS row_id, h.customer_id,
       h.contacted_on AS t,
       CASE WHEN EXISTS (
           SELECT 1 FROM contacts a WHERE a.customer_id = h.customer_id AND a.outcome = '{OC.APPLIED}'
           AND a.contacted_on >= h.contacted_on AND a.contacted_on <= h.contacted_on + {LABEL_DAYS}
       ) THEN 1 ELSE 0 END AS y
FROM contacts h
WHERE h.outcome <> '{OC.APPLIED}' AND h.contacted_on <= DATE '{{last}}' - {LABEL_DAYS}
"""


def register(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> None:
    for name in INPUTS:
        con.register(name, con.read_parquet(str(files[name])))
    register_events(con, files.get("signal_events"))


def register_events(con: duckdb.DuckDBPyConnection, path: Path | str | None) -> None:
    """The signal step's dated events (none when the run or snapshot has no transactions step)."""
    from xiaodai.signals.schema import EVENTS

    if path is None:
        con.register("signal_events", EVENTS.empty_table())
    else:
        con.register("signal_events", con.read_parquet(str(path), union_by_name=True))


def _frame(con: duckdb.DuckDBPyConnection, y: np.ndarray | None) -> Frame:
    table = con.sql(FEATURE_SQL).to_arrow_table()
    ids = np.asarray(table["customer_id"].to_numpy(zero_copy_only=False))
    times = np.asarray(table["t"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False))
    return Frame(ids, times, list(FEATURES), table, y)


def training_frame(con: duckdb.DuckDBPyConnection, last_day: dt.date) -> Frame:
    """Every past contact whose 30-day outcome window closed by `last_day`, with its features and target."""
    rows = con.sql(TRAINING_ROWS.format(last=last_day.isoformat())).to_arrow_table()
    con.register("rows", rows.select(["row_id", "customer_id", "t"]))
    frame = _frame(con, None)
    y = np.zeros(rows.num_rows + 1, dtype=np.int8)
    y[rows["row_id"].to_numpy()] = rows["y"].to_numpy()
    frame.y = y[frame.table["row_id"].to_numpy()]
    return frame


def scoring_frame(con: duckdb.DuckDBPyConnection, customer_ids: Any, day: dt.date) -> Frame:
    """The customers' features as of the end of `day` (the data date)."""
    ids = pa.array(customer_ids, pa.int64())
    t = pa.array([day + dt.timedelta(days=1)] * len(ids), pa.date32())
    con.register(
        "rows",
        pa.table({"row_id": pa.array(np.arange(len(ids), dtype=np.int64)), "customer_id": ids, "t": t}),
    )
    return _frame(con, None)
