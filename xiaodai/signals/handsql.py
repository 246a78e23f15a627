"""The signal step written by hand for DuckDB: the benchmark's baseline (benchmarks/signals_bench.py) for the
ibis step in steps.py, doing the same work over the same snapshot files: one script of temporary tables and
one query per output. A test holds the two to identical outputs (tests/test_parity.py).

The parameters are written into the SQL: integers, ISO dates and quoted words only."""

from __future__ import annotations

import datetime as dt
import re
import string
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xiaodai.signals import schema
from xiaodai.signals.choices import Kind
from xiaodai.signals.compute import StepResult, finish, quality_row, write_lookups
from xiaodai.signals.rules import scenario_words
from xiaodai.signals.services import SignalConfig
from xiaodai.signals.steps import regex_literal, scaled

_CREATES = re.compile(r"TEMP (?:TABLE|VIEW) (\w+)")
WHITESPACE = string.whitespace  # what ibis's strip() removes: the ibis step's notion of a blank name


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _has(column: str, words: Sequence[str]) -> str:
    if not words:
        return "false"
    if len(words) > 4:
        return (
            f"coalesce(regexp_matches({column}, {_text('|'.join(regex_literal(w) for w in words))}), false)"
        )
    return "coalesce(" + " OR ".join(f"contains({column}, {_text(w)})" for w in words) + ", false)"


def _blank(column: str) -> str:
    return f"({column} IS NULL OR trim({column}, {_text(WHITESPACE)}) = '')"


def _date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


_SETUP = """
CREATE OR REPLACE TEMP VIEW tx AS
SELECT customer_id, txn_id, booked_on, amount, direction, mcc, counterparty_name, counterparty_bank, memo,
       {currency} AS currency
FROM read_parquet({tx});
CREATE OR REPLACE TEMP VIEW customers AS SELECT * FROM read_parquet({customers});
CREATE OR REPLACE TEMP VIEW loans AS SELECT * FROM read_parquet({loans});
CREATE OR REPLACE TEMP VIEW payroll AS SELECT * FROM read_parquet({payroll});
CREATE OR REPLACE TEMP VIEW mcc AS SELECT * FROM read_parquet({mcc});

-- Ids delivered more than once, and of each the copy kept: a usable one first, then the earliest booked, then
-- an order over the columns read.
CREATE OR REPLACE TEMP TABLE dups AS
SELECT txn_id, count(*) AS copies FROM tx GROUP BY txn_id HAVING count(*) > 1;

CREATE OR REPLACE TEMP TABLE kept AS
SELECT * FROM tx SEMI JOIN dups USING (txn_id)
QUALIFY row_number() OVER (
  PARTITION BY txn_id
  ORDER BY (coalesce(currency, '') NOT IN ('', 'CNY')
            OR NOT coalesce((direction = 'out' AND amount < 0) OR (direction = 'in' AND amount > 0),
                            false))::TINYINT,
           booked_on, coalesce(amount, 0), coalesce(currency, ''), coalesce(direction, ''), coalesce(mcc, ''),
           coalesce(counterparty_name, ''), coalesce(counterparty_bank, ''), coalesce(memo, ''), customer_id
) = 1;

CREATE OR REPLACE TEMP VIEW rows_used AS
SELECT d.*, m.code IS NOT NULL AS known, m.scenario AS code_scenario,
       coalesce(m.securities, false) AS code_securities,
       coalesce(d.currency, '') NOT IN ('', 'CNY') AS is_foreign,
       NOT coalesce((d.direction = 'out' AND d.amount < 0) OR (d.direction = 'in' AND d.amount > 0),
                    false) AS is_bad
FROM (SELECT * FROM tx ANTI JOIN dups USING (txn_id) UNION ALL SELECT * FROM kept) d
LEFT JOIN mcc m ON d.mcc = m.code;

CREATE OR REPLACE TEMP TABLE per_customer AS
SELECT customer_id,
       count(*) AS rows,
       count(*) FILTER (WHERE ok) AS used,
       count(*) FILTER (WHERE is_foreign) AS foreign_currency,
       count(*) FILTER (WHERE is_bad AND NOT is_foreign) AS bad_amount,
       count(*) FILTER (WHERE ok AND coalesce(mcc, '') <> '' AND NOT known) AS unknown_mcc,
       count(*) FILTER (WHERE ok AND {name_blank}) AS missing_counterparty,
       count(*) FILTER (WHERE base) AS baseline_payments,
       round(median(abs(amount)) FILTER (WHERE base) * 2)::BIGINT AS usual2
FROM (
  SELECT *, ok AND direction = 'out' AND booked_on >= {baseline_start} AND booked_on < {baseline_end} AS base
  FROM (SELECT customer_id, amount, direction, booked_on, mcc, known, counterparty_name, is_foreign, is_bad,
               NOT is_foreign AND NOT is_bad AS ok FROM rows_used)
)
GROUP BY customer_id;

-- The transactions some rule can use: cheap tests first, words only where they can matter.
CREATE OR REPLACE TEMP TABLE flows AS
WITH first_loan AS (
  SELECT customer_id, min(disbursed_on) AS loan_from FROM loans
  WHERE kind = 'consumer' AND disbursed_on >= {loop_since} AND disbursed_on <= {day}
  GROUP BY customer_id
),
k AS (
  SELECT u.customer_id, u.txn_id, u.booked_on, abs(u.amount) AS mag, u.direction = 'out' AS is_out,
         u.direction = 'in' AS is_in, u.mcc, u.known, u.code_scenario, u.code_securities,
         u.counterparty_name, u.memo, coalesce(u.counterparty_bank IN ({own}), false) AS own,
         NOT {bank_blank} AS bank_present, f.loan_from
  FROM rows_used u LEFT JOIN first_loan f ON u.customer_id = f.customer_id
  WHERE NOT u.is_foreign AND NOT u.is_bad AND u.booked_on <= {day}
)
SELECT customer_id, txn_id, booked_on, mag, is_out,
       CASE WHEN known THEN mcc END AS mcc,
       counterparty_name AS counterparty,
       CASE WHEN NOT is_out OR mag < {scenario_floor} THEN NULL WHEN known THEN code_scenario
            ELSE {scenario_by_word} END AS scenario,
       lender,
       CASE WHEN is_in THEN {pf_source} AND {pf_purpose} ELSE false END AS provident,
       CASE WHEN is_in THEN {salary_memo} ELSE false END AS salary,
       is_out AND NOT own AND bank_present AND NOT known AND NOT lender AS outflow,
       CASE WHEN is_out AND mag >= {watch_min} THEN code_securities OR {securities_name} ELSE false END
         AS securities,
       CASE WHEN is_out AND mag >= {watch_min} THEN {developer_name} ELSE false END AS developer,
       CASE WHEN is_out AND mag >= {watch_min} THEN {down_payment_memo} ELSE false END AS down_payment,
       coalesce(is_out AND known AND own AND booked_on >= loan_from, false) AS loop
FROM (
  SELECT *,
         CASE WHEN is_out AND NOT own AND bank_present AND {lender_memo} THEN {lender_name} ELSE false END
           AS lender
  FROM k
  WHERE (is_out AND (
           (NOT own AND bank_present AND NOT known)
           OR coalesce(known AND own AND booked_on >= loan_from, false)
           OR (mag >= {scenario_floor} AND (code_scenario IS NOT NULL OR (NOT known AND {scenario_name})))
           OR (mag >= {lender_min} AND NOT own AND bank_present AND {lender_memo} AND {lender_name})
           OR (mag >= {watch_min}
               AND (code_securities OR {down_payment_memo} OR {securities_name} OR {developer_name}))))
     OR (is_in AND ({salary_memo} OR (mag >= {pf_min} AND {pf_source} AND {pf_purpose})))
);

CREATE OR REPLACE TEMP TABLE salary_months AS
SELECT customer_id, year(booked_on) * 12 + month(booked_on) - 1 AS month, sum(mag)::BIGINT AS total,
       max(booked_on) AS on_date,
       first(counterparty ORDER BY mag DESC, booked_on DESC, coalesce(counterparty, ''), txn_id) AS payer
FROM flows WHERE salary AND customer_id IN (SELECT customer_id FROM payroll)
GROUP BY ALL;

-- Months whose min_months months before all had a salary, with those months' total and the previous month.
CREATE OR REPLACE TEMP TABLE salary_history AS
SELECT m.*, h.before, p.total AS p_total, p.payer AS p_payer
FROM salary_months m
JOIN (SELECT m.customer_id, m.month, count(*) AS months, sum(b.total) AS before
      FROM salary_months m JOIN salary_months b
        ON b.customer_id = m.customer_id AND b.month < m.month AND b.month >= m.month - {salary_months}
      GROUP BY ALL) h ON h.customer_id = m.customer_id AND h.month = m.month
JOIN salary_months p ON p.customer_id = m.customer_id AND p.month = m.month - 1
WHERE h.months = {salary_months};
"""

_EVENTS = {
    Kind.SCENARIO: """
SELECT f.customer_id, 'scenario' AS kind, f.scenario AS detail, f.booked_on AS on_date, f.mag AS amount,
       CASE WHEN coalesce(p.baseline_payments, 0) >= {min_baseline}
            THEN floor((p.usual2 + 1) / 2)::BIGINT END AS basis,
       f.counterparty, f.mcc
FROM flows f LEFT JOIN per_customer p ON f.customer_id = p.customer_id
WHERE f.scenario IS NOT NULL
  AND CASE WHEN coalesce(p.baseline_payments, 0) >= {min_baseline}
           THEN coalesce(f.mag * 20000 >= p.usual2 * {multiple} AND f.mag >= {scenario_min}, false)
           ELSE f.mag >= {no_history} END""",
    Kind.OTHER_LENDER: """
SELECT customer_id, 'other_lender', '', booked_on, mag, NULL::BIGINT, counterparty, mcc
FROM flows WHERE lender AND mag >= {lender_min}""",
    Kind.PROVIDENT_FUND: """
SELECT customer_id, 'provident_fund', '', booked_on, mag, NULL::BIGINT, counterparty, mcc
FROM flows WHERE provident AND mag >= {pf_min}""",
    Kind.SALARY_CHANGE: """
SELECT customer_id, 'salary_change', 'raise', on_date, total, floor(before / {salary_months})::BIGINT, payer,
       NULL::VARCHAR
FROM salary_history WHERE total * {salary_scale} >= before * {raise_scale}
UNION ALL
SELECT customer_id, 'salary_change', 'new_employer', on_date, total, p_total, payer, NULL::VARCHAR
FROM salary_history WHERE NOT {payer_blank} AND NOT {p_payer_blank} AND payer <> p_payer""",
    Kind.DEPOSIT_OUTFLOW: """
SELECT f.customer_id, 'deposit_outflow', '', f.booked_on, f.mag, coalesce(c.aum, 0), f.counterparty, f.mcc
FROM flows f JOIN customers c ON c.customer_id = f.customer_id
WHERE f.outflow AND NOT coalesce(c.no_personalised_marketing, false)""",
}

_SIGNALS = """
WITH latest AS (SELECT customer_id, max(on_date) AS latest FROM salary_months GROUP BY customer_id),
w AS (
  SELECT * FROM events WHERE kind = 'scenario' AND on_date BETWEEN {recent_since} AND {day}
  UNION ALL SELECT * FROM events WHERE kind = 'other_lender' AND on_date BETWEEN {lender_since} AND {day}
  UNION ALL SELECT * FROM events WHERE kind = 'provident_fund' AND on_date BETWEEN {pf_since} AND {day}
  UNION ALL SELECT e.* FROM events e JOIN latest l ON l.customer_id = e.customer_id AND l.latest = e.on_date
            WHERE e.kind = 'salary_change' AND e.on_date BETWEEN {salary_since} AND {day}
  UNION ALL SELECT * FROM events WHERE kind = 'deposit_outflow' AND on_date BETWEEN {outflow_since} AND {day}
)
SELECT * EXCLUDE (months) FROM (
  SELECT customer_id, kind, detail, min(on_date) AS first_on, max(on_date) AS last_on, count(*) AS txns,
         sum(amount)::BIGINT AS amount, max(amount) AS largest,
         first(basis ORDER BY amount DESC, on_date DESC, coalesce(counterparty, ''), coalesce(mcc, ''),
               coalesce(basis, -1)) AS basis,
         first(counterparty ORDER BY amount DESC, on_date DESC, coalesce(counterparty, ''), coalesce(mcc, ''),
               coalesce(basis, -1)) AS counterparty,
         first(mcc ORDER BY amount DESC, on_date DESC, coalesce(counterparty, ''), coalesce(mcc, ''),
               coalesce(basis, -1)) AS mcc,
         count(DISTINCT year(on_date) * 12 + month(on_date)) AS months
  FROM w GROUP BY customer_id, kind, detail
)
WHERE CASE kind
        WHEN 'other_lender' THEN months >= {lender_months}
        WHEN 'deposit_outflow' THEN amount >= {outflow_min}
                                    AND amount * 10000 >= (coalesce(basis, 0) + amount) * {outflow_share}
        ELSE true END
"""

_ALERTS = """
SELECT f.customer_id, k.kind, f.txn_id, f.booked_on AS flow_on, f.mag AS amount, f.counterparty,
       l.disbursed_on AS loan_disbursed_on, l.amount AS loan_amount,
       date_diff('day', l.disbursed_on, f.booked_on) AS days_after
FROM flows f
JOIN (VALUES ('securities'), ('developer'), ('down_payment')) k(kind)
  ON (k.kind = 'securities' AND f.securities) OR (k.kind = 'developer' AND f.developer)
  OR (k.kind = 'down_payment' AND f.down_payment)
JOIN loans l ON l.customer_id = f.customer_id AND l.kind = 'consumer'
 AND date_diff('day', l.disbursed_on, f.booked_on) BETWEEN 0 AND {watch_days}
WHERE f.mag >= {watch_min}
QUALIFY row_number() OVER (PARTITION BY f.customer_id, f.txn_id, k.kind
                           ORDER BY l.disbursed_on DESC, l.amount DESC) = 1
"""

_LOOP = """
WITH same AS (
  SELECT customer_id, disbursed_on, amount, count(*) AS n FROM loans
  WHERE kind = 'consumer' AND disbursed_on BETWEEN {loop_since} AND {day} GROUP BY ALL
),
spent AS (
  SELECT s.customer_id, s.disbursed_on, s.amount, sum(f.mag) AS spent
  FROM same s JOIN flows f ON f.customer_id = s.customer_id AND f.loop
   AND date_diff('day', s.disbursed_on, f.booked_on) BETWEEN 0 AND {loop_days}
  GROUP BY ALL
)
SELECT coalesce(sum(s.n), 0)::BIGINT AS loans, coalesce(sum(s.amount * s.n), 0)::BIGINT AS disbursed,
       coalesce(sum(least(s.amount, coalesce(p.spent, 0)) * s.n), 0)::BIGINT AS closed_loop
FROM same s LEFT JOIN spent p USING (customer_id, disbursed_on, amount)
"""

_COUNTS = """
SELECT (SELECT coalesce(sum(copies - 1), 0) FROM dups)::BIGINT AS duplicates,
       coalesce(sum(rows), 0)::BIGINT AS rows, coalesce(sum(used), 0)::BIGINT AS used,
       coalesce(sum(foreign_currency), 0)::BIGINT AS foreign_currency,
       coalesce(sum(bad_amount), 0)::BIGINT AS bad_amount,
       coalesce(sum(unknown_mcc), 0)::BIGINT AS unknown_mcc,
       coalesce(sum(missing_counterparty), 0)::BIGINT AS missing_counterparty
FROM per_customer
"""


def values(files: dict[str, Path], day: dt.date, config: SignalConfig, mcc_path: Path) -> dict[str, Any]:
    """Every placeholder of the script, from the rules in effect."""
    r = config.rules
    g, s, ol, pf = r["general"], r["scenario"], r["other_lender"], r["provident_fund"]
    sc, do, cp, cl = r["salary_change"], r["deposit_outflow"], r["compliance"], r["closed_loop"]
    words = scenario_words(s)
    every_word = [w for ws in words.values() for w in ws]
    by_word = (
        "CASE "
        + " ".join(
            f"WHEN {_has('counterparty_name', ws)} THEN {_text(code)}" for code, ws in words.items() if ws
        )
        + " END"
        if every_word
        else "NULL"
    )
    baseline_end = day - dt.timedelta(days=g["recent_days"])
    has_currency = "currency" in pq.read_schema(files["transactions"]).names

    def since(days: int) -> str:
        return _date(day - dt.timedelta(days=days))

    purpose = _has("memo", pf["purpose_keywords"]) if pf["purpose_keywords"] else "true"
    return {
        "tx": _text(str(files["transactions"])),
        "currency": "currency" if has_currency else "''",
        "customers": _text(str(files["customers"])),
        "loans": _text(str(files["loans"])),
        "payroll": _text(str(files["payroll"])),
        "mcc": _text(str(mcc_path)),
        "day": _date(day),
        "baseline_start": _date(baseline_end - dt.timedelta(days=g["baseline_days"])),
        "baseline_end": _date(baseline_end),
        "name_blank": _blank("counterparty_name"),
        "bank_blank": _blank("u.counterparty_bank"),
        "payer_blank": _blank("payer"),
        "p_payer_blank": _blank("p_payer"),
        "own": ", ".join(_text(n) for n in g["own_bank_names"]),
        "loop_since": since(cl["window_days"]),
        "loop_days": cl["loop_days"],
        "scenario_floor": min(s["min_amount"], s["no_history_amount"]) * 100,
        "scenario_name": _has("counterparty_name", every_word),
        "scenario_by_word": by_word,
        "lender_memo": _has("memo", ol["memo_keywords"]),
        "lender_name": _has("counterparty_name", ol["lender_keywords"]),
        "lender_min": ol["min_amount"] * 100,
        "lender_since": since(ol["look_back_days"]),
        "lender_months": ol["min_months"],
        "pf_source": _has("counterparty_name", pf["source_keywords"]),
        "pf_purpose": purpose,
        "pf_min": pf["min_amount"] * 100,
        "pf_since": since(pf["look_back_days"]),
        "salary_memo": _has("memo", sc["salary_keywords"]),
        "salary_months": sc["min_months"],
        "salary_scale": sc["min_months"] * 10000,
        "raise_scale": 10000 + scaled(sc["raise_share"]),
        "salary_since": since(sc["look_back_days"]),
        "watch_min": cp["min_amount"] * 100,
        "watch_days": cp["watch_days"],
        "securities_name": _has("counterparty_name", cp["securities_keywords"]),
        "developer_name": _has("counterparty_name", cp["developer_keywords"]),
        "down_payment_memo": _has("memo", cp["down_payment_keywords"]),
        "min_baseline": g["min_baseline_payments"],
        "multiple": scaled(s["spending_multiple"]),
        "scenario_min": s["min_amount"] * 100,
        "no_history": s["no_history_amount"] * 100,
        "recent_since": since(g["recent_days"]),
        "outflow_since": since(do["look_back_days"]),
        "outflow_min": do["min_amount"] * 100,
        "outflow_share": scaled(do["min_aum_share"]),
    }


def run(con: Any, files: dict[str, Path], day: dt.date, config: SignalConfig) -> StepResult:
    """The step by hand on a DuckDB connection (duckdb.DuckDBPyConnection): the same StepResult."""
    seconds: dict[str, float] = {}
    lookups = write_lookups(files["customers"].parent, config)
    v = values(files, day, config, lookups["mcc"])

    def execute(name: str, sql: str) -> None:
        began = time.perf_counter()
        con.execute(sql.format(**v))
        seconds[name] = time.perf_counter() - began

    def fetch(name: str, sql: str) -> pa.Table:
        began = time.perf_counter()
        table: pa.Table = con.sql(sql.format(**v)).to_arrow_table()
        seconds[name] = time.perf_counter() - began
        return table

    for statement in _SETUP.split(";\n\n"):  # timed one by one, named by what each creates
        execute(_CREATES.findall(statement)[0], statement)
    parts = [_EVENTS[kind] for kind in _EVENTS if kind in config.active] or [
        _EVENTS[Kind.OTHER_LENDER] + " AND false"
    ]
    # P-02: customers flagged no_personalised_marketing get no events. The parts are this module's SQL.
    union = " UNION ALL ".join(parts)
    marketable = "SELECT customer_id FROM customers WHERE NOT coalesce(no_personalised_marketing, false)"
    events_sql = f"SELECT * FROM ({union}) e WHERE customer_id IN ({marketable})"  # noqa: S608
    execute("events", f"CREATE OR REPLACE TEMP TABLE events AS {events_sql}")
    events = fetch("events_out", "SELECT * FROM events").rename_columns(list(schema.EVENTS.names))
    signals = fetch("signals", _SIGNALS)
    alerts = fetch("alerts", _ALERTS)
    counts = fetch("counts", _COUNTS).to_pylist()[0]
    loop = fetch("loop", _LOOP).to_pylist()[0]
    return StepResult(
        events=finish(events, "events"),
        signals=finish(signals, "signals"),
        alerts=finish(alerts, "alerts"),
        quality=finish(quality_row(counts, counts["duplicates"], loop), "quality"),
        seconds=seconds,
    )
