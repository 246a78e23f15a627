"""The pool step as the pipeline runs it on an engine (kept apart from the rule services: it pulls in ibis and
Arrow, which the web pages never need)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
from django.utils.translation import gettext_lazy as _

from xiaodai.pipeline.engines import read_inputs
from xiaodai.pools import steps
from xiaodai.pools.exceptions import RuleError
from xiaodai.pools.services import PoolConfig


def compute(
    con: Any, files: dict[str, Path], day: dt.date, config: PoolConfig, prefix: str
) -> tuple[pa.Table, pa.Table]:
    """Run the pool step on an engine: (members, figures) as Arrow tables."""
    tables = read_inputs(con, files, prefix)
    if not config.priorities:
        raise RuleError("pools", _("every pool is switched off"))
    members = steps.members(tables, day, config.rules, config.priorities).to_pyarrow()
    # Figures count the members just computed, not a second evaluation of the member expression. DuckDB
    # scans the Arrow table in place; Spark reads it back from Parquet beside the snapshot (an in-memory
    # table would go through pandas, where a missing id becomes NaN instead of NULL).
    if con.name == "duckdb":
        stored = ibis.memtable(members)
    else:
        path = files["customers"].parent / "members.parquet"
        pq.write_table(members, path)
        stored = con.read_parquet(str(path), table_name=f"{prefix}_members")
    return members, con.to_pyarrow(steps.figures(stored, tables))
