"""The signal step's results as part of the run's one publishing transaction (xiaodai.pools.publish runs these
statements beside the pool membership, so a failure leaves yesterday's signals and pools alike).

The tables are staged as they come from the engine (cents, ISO dates); the statements turn them into rows:
  0. a branch's first run rebuilds the log from the window's dated events (each customer's signal of a kind
     is logged on the day of its first event), so the page has a history from day one,
  1. signals not present at the previous run (nor logged in step 0) are logged (SignalLog: conversions are
     measured from it),
  2. the branch's signals are replaced (is_new = logged by this run),
  3. alerts not raised before are added (an alert is raised once per transaction and kind; reviews stay),
  4. the run's figures (FlowRun).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from xiaodai.pools.publish import Extra

SIGNAL_COLUMNS = (
    "customer_id", "kind", "detail", "first_on", "last_on", "txns", "amount", "largest", "basis",
    "counterparty", "mcc",
)  # fmt: skip
ALERT_COLUMNS = (
    "customer_id", "kind", "txn_id", "flow_on", "amount", "counterparty", "loan_disbursed_on", "loan_amount",
    "days_after",
)  # fmt: skip
EVENT_COLUMNS = ("customer_id", "kind", "detail", "on_date", "amount")
QUALITY_COLUMNS = (
    "read", "used", "duplicates", "foreign_currency", "bad_amount", "unknown_mcc", "missing_counterparty",
    "disbursed", "closed_loop", "loans",
)  # fmt: skip


def _money(col: str, postgres: bool) -> str:
    return f"CAST({col} AS NUMERIC(18, 2)) / 100" if postgres else f"{col} / 100.0"


def _date(col: str, postgres: bool) -> str:
    return f"CAST({col} AS DATE)" if postgres else col


def _history(run_id: int, branch_id: int, postgres: bool) -> list[tuple[str, list[Any]]]:
    i = "CAST(%s AS BIGINT)" if postgres else "%s"
    return [
        (
            "INSERT INTO signals_signallog (branch_id, customer_id, run_id, kind, detail, seen_on, amount) "  # noqa: S608
            f"SELECT {i}, e.customer_id, {i}, e.kind, e.detail, {_date('min(e.on_date)', postgres)}, "
            f"{_money('sum(e.amount)', postgres)} FROM xiaodai_stage_events e "
            "GROUP BY e.customer_id, e.kind, e.detail",
            [branch_id, run_id],
        )
    ]


def _statements(
    run_id: int, branch_id: int, day: dt.date, now: dt.datetime, postgres: bool
) -> list[tuple[str, list[Any]]]:
    m, d = (lambda c: _money(c, postgres)), (lambda c: _date(c, postgres))
    today = "CAST(%s AS DATE)" if postgres else "%s"
    stamp = "CAST(%s AS TIMESTAMPTZ)" if postgres else "%s"
    i = "CAST(%s AS BIGINT)" if postgres else "%s"  # a bare parameter in a select list would be text
    same = "p.customer_id = s.customer_id AND p.kind = s.kind AND p.detail = s.detail"
    in_branch = "customer_id IN (SELECT id FROM customers_customer WHERE branch_id = %s)"
    return [  # identifiers and vendor casts only in the SQL; every value is a parameter
        (
            "INSERT INTO signals_signallog (branch_id, customer_id, run_id, kind, detail, seen_on, amount) "  # noqa: S608
            f"SELECT {i}, s.customer_id, {i}, s.kind, s.detail, {today}, {m('s.amount')} "
            f"FROM xiaodai_stage_signals s WHERE NOT EXISTS (SELECT 1 FROM signals_signal p WHERE {same}) "
            f"AND NOT EXISTS (SELECT 1 FROM signals_signallog p WHERE p.run_id = {i} AND {same})",
            [branch_id, run_id, day.isoformat(), run_id],
        ),
        (f"DELETE FROM signals_signal WHERE {in_branch}", [branch_id]),  # noqa: S608
        (
            "INSERT INTO signals_signal (run_id, customer_id, kind, detail, first_on, last_on, txns, amount, "  # noqa: S608
            "largest, basis, counterparty, mcc, is_new) "
            f"SELECT {i}, s.customer_id, s.kind, s.detail, {d('s.first_on')}, {d('s.last_on')}, s.txns, "
            f"{m('s.amount')}, {m('s.largest')}, {m('s.basis')}, s.counterparty, s.mcc, "
            f"EXISTS (SELECT 1 FROM signals_signallog p WHERE p.run_id = {i} AND "
            f"{same}) FROM xiaodai_stage_signals s",
            [run_id, run_id],
        ),
        (
            "INSERT INTO signals_flowalert (branch_id, customer_id, run_id, kind, txn_id, flow_on, amount, "  # noqa: S608
            "counterparty, loan_disbursed_on, loan_amount, days_after, status, note, created_at) "
            f"SELECT {i}, s.customer_id, {i}, s.kind, s.txn_id, {d('s.flow_on')}, {m('s.amount')}, "
            "s.counterparty, "
            f"{d('s.loan_disbursed_on')}, {m('s.loan_amount')}, s.days_after, 'open', '', {stamp} "
            "FROM xiaodai_stage_alerts s WHERE NOT EXISTS (SELECT 1 FROM signals_flowalert p "
            "WHERE p.customer_id = s.customer_id AND p.txn_id = s.txn_id AND p.kind = s.kind)",
            [branch_id, run_id, now.isoformat()],
        ),
        (
            "INSERT INTO signals_flowrun (run_id, branch_id, data_date, read, used, duplicates, "  # noqa: S608
            "foreign_currency, bad_amount, unknown_mcc, missing_counterparty, signals, alerts, loans, "
            "disbursed, closed_loop) "
            f"SELECT {i}, {i}, {today}, q.read, q.used, q.duplicates, q.foreign_currency, q.bad_amount, "
            "q.unknown_mcc, q.missing_counterparty, (SELECT count(*) FROM xiaodai_stage_signals), "
            f"(SELECT count(*) FROM signals_flowalert a WHERE a.run_id = {i}), q.loans, "
            f"{m('q.disbursed')}, {m('q.closed_loop')} FROM xiaodai_stage_quality q",
            [run_id, branch_id, day.isoformat(), run_id],
        ),
    ]


def _blank(table: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """NOT NULL text columns of the models get "" where the engine has NULL; a counterparty is cut to the
    model's 100 characters (the feed does not bound it)."""
    out = table.select(list(names))
    for name in ("detail", "counterparty", "mcc"):
        if name in out.column_names:
            column = pc.fill_null(out[name], "")
            if name == "counterparty":
                column = pc.utf8_slice_codeunits(column, 0, 100)
            out = out.set_column(out.column_names.index(name), name, column)
    return out


def extra(result: Any, run_id: int, branch_id: int, day: dt.date, now: dt.datetime) -> Extra:
    """What pools.publish adds to the run's transaction for the signal step's `result` (a StepResult)."""
    from xiaodai.signals.models import SignalLog

    tables = [
        ("signals", _blank(result.signals, SIGNAL_COLUMNS)),
        ("alerts", _blank(result.alerts, ALERT_COLUMNS)),
        ("quality", result.quality.select(list(QUALITY_COLUMNS))),
    ]
    first = not SignalLog.objects.filter(branch_id=branch_id).exists()
    if first:  # the events are staged only then: a daily run needs only its current signals
        tables.append(("events", _blank(result.events, EVENT_COLUMNS)))
    return Extra(
        tables=tuple(tables),
        statements={
            pg: (_history(run_id, branch_id, pg) if first else [])
            + _statements(run_id, branch_id, day, now, pg)
            for pg in (False, True)
        },
    )
