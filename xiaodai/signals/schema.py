"""The shapes the signal step reads and writes (Arrow), shared by the snapshot, the step on both engines, the
hand-written benchmark baseline and publishing. Money is integer cents; days are dates (no time zones).

Input (the run's snapshot, `transactions.parquet`): the lake's transactions of the window, tied to the
branch's customers, exactly as delivered: duplicates, foreign currencies and bad amounts included, so the
step can count them (never silently dropped or double-counted). Other inputs are the pool snapshot's
`customers` (aum, no_personalised_marketing), `loans` and `payroll`.
"""

from __future__ import annotations

import pyarrow as pa

I64, STR, DATE = pa.int64(), pa.string(), pa.date32()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in fields])


TRANSACTIONS = _schema(
    ("customer_id", I64),
    ("txn_id", STR),
    ("account_no", STR),
    ("booked_on", DATE),  # the bank's local date of booked_at
    ("amount", I64),  # cents, signed as delivered: negative = money out
    ("direction", STR),  # "in" | "out"
    ("channel", STR),
    ("mcc", STR),
    ("counterparty_name", STR),
    ("counterparty_account", STR),
    ("counterparty_bank", STR),
    ("memo", STR),
    ("currency", STR),  # NULL = CNY (the column is optional in the contract)
)

# One qualifying transaction (or salary month) behind a signal, dated: the scoring features read these as of
# any day (a training row on day t sees only events before t).
EVENTS = _schema(
    ("customer_id", I64),
    ("kind", STR),  # choices.Kind
    ("detail", STR),  # scenario code, salary change, lender name ... ("" when none)
    ("on_date", DATE),
    ("amount", I64),  # cents, a magnitude (>= 0)
    ("basis", I64),  # what it is compared with: usual payment, previous salary, AUM (NULL when none)
    ("counterparty", STR),
    ("mcc", STR),
)

# The customer's current signals: events of the rule's look-back window, one row per (customer, kind, detail).
SIGNALS = _schema(
    ("customer_id", I64),
    ("kind", STR),
    ("detail", STR),
    ("first_on", DATE),
    ("last_on", DATE),
    ("txns", I64),
    ("amount", I64),  # total of the events
    ("largest", I64),  # the largest event
    ("basis", I64),  # of the largest event
    ("counterparty", STR),  # of the largest event
    ("mcc", STR),  # of the largest event
)

# Loan money that reached a place a consumer loan must not fund (C-17), one row per transaction.
ALERTS = _schema(
    ("customer_id", I64),
    ("kind", STR),  # choices.AlertKind
    ("txn_id", STR),
    ("flow_on", DATE),
    ("amount", I64),
    ("counterparty", STR),
    ("loan_disbursed_on", DATE),
    ("loan_amount", I64),
    ("days_after", I64),
)

# One row: what the step read and what it made of it. read = used + duplicates + foreign_currency +
# bad_amount; unknown_mcc and missing_counterparty are rows used with less (counted, not dropped).
QUALITY = _schema(
    ("read", I64),
    ("used", I64),
    ("duplicates", I64),
    ("foreign_currency", I64),
    ("bad_amount", I64),
    ("unknown_mcc", I64),
    ("missing_counterparty", I64),
    ("disbursed", I64),  # consumer-loan money disbursed in the closed-loop window (cents)
    ("closed_loop", I64),  # of it, spent at merchants banking with us within loop_days (cents)
    ("loans", I64),  # consumer loans in the closed-loop window
)
