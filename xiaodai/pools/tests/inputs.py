"""Snapshot files built by hand for the engine tests: each table is its rows as dicts, the rest are empty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xiaodai.pipeline.snapshot import LAKE_SOURCES, SOURCES
from xiaodai.pools import rules as r
from xiaodai.pools.services import PoolConfig

DAY = dt.date(2026, 11, 28)
SCHEMAS: dict[str, pa.Schema] = {s.name: s.schema for s in SOURCES}
SCHEMAS.update({name: schema for name, (_, schema) in LAKE_SOURCES.items()})


def customer(cid: int, **values: Any) -> dict[str, Any]:
    """A workable adult customer of branch 1, sub-branch 10, team 100, owner 1000."""
    base = {
        "customer_id": cid,
        "customer_no": f"C{cid:09d}",
        "branch_id": 1,
        "sub_branch_id": 10,
        "owner_id": 1000,
        "team_id": 100,
        "birth_date": dt.date(1988, 4, 12),
        "is_vulnerable": False,
        "aum": 0,
        "monthly_income": 1_500_000,
    }
    base.update(values)
    return base


def consent(cid: int, channel: str = "phone", **values: Any) -> dict[str, Any]:
    base = {
        "consent_id": cid * 10,
        "customer_id": cid,
        "channel": channel,
        "granted": True,
        "recorded_at": dt.datetime(2026, 1, 5, 10, 0),
        "expires_on": None,
    }
    base.update(values)
    return base


def write(folder: Path, **tables: list[dict[str, Any]]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, schema in SCHEMAS.items():
        rows = tables.get(name, [])
        table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
        files[name] = folder / f"{name}.parquet"
        pq.write_table(table, files[name])
    return files


def config(**changes: dict[str, Any]) -> PoolConfig:
    rules = {code: r.typed(code, r.defaults(code)) for code in r.BY_CODE}
    for code, params in changes.items():
        rules[code].update(params)
    priorities = {p.code: p.priority for p in r.POOLS}
    return PoolConfig(rules=rules, priorities=priorities, versions=dict.fromkeys(r.BY_CODE, 1))
