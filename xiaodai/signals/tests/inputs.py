"""Snapshot files built by hand for the signal step's tests: each table is its rows as dicts; a customer named
in any table gets a default row in `customers` unless one is given."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xiaodai.pipeline.snapshot import SOURCES
from xiaodai.signals import schema
from xiaodai.signals.services import SignalConfig, default_config

DAY = dt.date(2026, 11, 28)
SCHEMAS: dict[str, pa.Schema] = {
    s.name: s.schema for s in SOURCES if s.name in ("customers", "loans", "payroll")
}
SCHEMAS["transactions"] = schema.TRANSACTIONS
_ids = itertools.count(1)


def ago(days: int) -> dt.date:
    return DAY - dt.timedelta(days=days)


def txn(cid: int, yuan: float, **values: Any) -> dict[str, Any]:
    """A transaction of `yuan` (negative: money out) booked on DAY, to a counterparty at our bank."""
    cents = round(yuan * 100)
    base = {
        "customer_id": cid,
        "txn_id": f"T{next(_ids):015d}",
        "account_no": f"DP{cid:010d}",
        "booked_on": DAY,
        "amount": cents,
        "direction": "out" if cents < 0 else "in",
        "channel": "transfer",
        "mcc": None,
        "counterparty_name": "张三",
        "counterparty_account": "6222000000000000",
        "counterparty_bank": "本行",
        "memo": None,
        "currency": None,
    }
    base.update(values)
    return base


def customer(cid: int, **values: Any) -> dict[str, Any]:
    base = {
        "customer_id": cid,
        "customer_no": f"C{cid:09d}",
        "branch_id": 1,
        "sub_branch_id": 10,
        "owner_id": None,
        "team_id": None,
        "birth_date": dt.date(1988, 4, 12),
        "is_vulnerable": False,
        "aum": 0,
        "monthly_income": 1_000_000,
        "occupation": None,
        "opened_on": dt.date(2015, 1, 1),
        "no_personalised_marketing": False,
    }
    base.update(values)
    return base


def loan(cid: int, **values: Any) -> dict[str, Any]:
    """A consumer loan of 100,000 yuan disbursed ten days before DAY."""
    base = {
        "customer_id": cid,
        "kind": "consumer",
        "amount": 10_000_000,
        "balance": 10_000_000,
        "status": "normal",
        "overdue_days": 0,
        "disbursed_on": ago(10),
        "matures_on": DAY + dt.timedelta(days=1000),
    }
    base.update(values)
    return base


def payroll(cid: int, **values: Any) -> dict[str, Any]:
    base = {"customer_id": cid, "monthly_amount": 1_000_000, "last_paid_on": ago(18), "partner": True}
    base.update(values)
    return base


def write(folder: Path, drop_currency: bool = False, **tables: list[dict[str, Any]]) -> dict[str, Path]:
    """The snapshot files; `drop_currency` writes transactions without the optional currency column."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = {name: list(tables.get(name, [])) for name in SCHEMAS}
    known = {c["customer_id"] for c in rows["customers"]}
    named = sorted({r["customer_id"] for name in ("transactions", "loans", "payroll") for r in rows[name]})
    rows["customers"] += [customer(cid) for cid in named if cid not in known]
    files = {}
    for name, table_schema in SCHEMAS.items():
        table = pa.Table.from_pylist(rows[name], schema=table_schema)
        if name == "transactions" and drop_currency:
            table = table.drop_columns(["currency"])
        files[name] = folder / f"{name}.parquet"
        pq.write_table(table, files[name])
    return files


def config(*, active: tuple[str, ...] | None = None, **changes: dict[str, Any]) -> SignalConfig:
    """The default rules with some parameters changed ({rule: {param: typed value}})."""
    base = default_config()
    rules = {code: dict(params) for code, params in base.rules.items()}
    for code, params in changes.items():
        rules[code].update(params)
    return SignalConfig(
        rules=rules,
        active=base.active if active is None else frozenset(active),
        versions=base.versions,
    )
