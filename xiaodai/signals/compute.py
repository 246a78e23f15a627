"""The signal step as the pipeline runs it on an engine (kept apart from the rule services: it pulls in ibis
and Arrow, which the web pages never need)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis import _

from xiaodai.signals import mcc, schema, steps
from xiaodai.signals.choices import Scenario
from xiaodai.signals.rules import scenario_codes
from xiaodai.signals.services import SignalConfig

INPUTS = ("transactions", "customers", "loans", "payroll")
MCC_SCHEMA = pa.schema([("code", pa.string()), ("scenario", pa.string()), ("securities", pa.bool_())])

# Deterministic row order of each output (the parity test and the page rely on it).
ORDER: dict[str, tuple[str, ...]] = {
    "events": ("customer_id", "kind", "detail", "on_date", "amount", "basis", "counterparty", "mcc"),
    "signals": ("customer_id", "kind", "detail"),
    "alerts": ("customer_id", "txn_id", "kind"),
}


@dataclass(frozen=True)
class StepResult:
    """The step's outputs as Arrow tables in schema.EVENTS, SIGNALS, ALERTS and QUALITY (one row)."""

    events: pa.Table
    signals: pa.Table
    alerts: pa.Table
    quality: pa.Table
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage


def mcc_lookup(config: SignalConfig) -> pa.Table:
    """Every known merchant code with the scenario its code list puts it in (the first in Scenario order
    when an admin listed a code under two) and whether it is a securities code (C-17)."""
    by_scenario = scenario_codes(config.rules["scenario"])
    securities = set(config.rules["compliance"]["securities_mcc"])
    codes = sorted(mcc.known_codes())
    scenario: dict[str, str] = {}
    for code in reversed(Scenario.values):
        scenario.update(dict.fromkeys(by_scenario[code], code))
    return pa.table(
        {
            "code": codes,
            "scenario": [scenario.get(code) for code in codes],
            "securities": [code in securities for code in codes],
        },
        schema=MCC_SCHEMA,
    )


def write_lookups(folder: Path, config: SignalConfig) -> dict[str, Path]:
    """The lookups as Parquet beside the snapshot, so DuckDB and Spark read the same files (an in-memory
    table would reach Spark through pandas)."""
    path = folder / "signals_mcc.parquet"
    pq.write_table(mcc_lookup(config), path)
    return {"mcc": path}


def finish(table: pa.Table, name: str) -> pa.Table:
    """The output in its schema's column order and types, rows in a fixed order (NULLs last)."""
    target: pa.Schema = getattr(schema, name.upper())
    table = table.select(target.names).cast(target)
    keys = ORDER.get(name)
    if keys and table.num_rows:
        table = table.sort_by([(k, "ascending", "at_end") for k in keys])
    return table


def quality_row(per: dict[str, int], duplicates: int, loop: dict[str, int]) -> pa.Table:
    row = {
        "read": per["rows"] + duplicates,
        "used": per["used"],
        "duplicates": duplicates,
        "foreign_currency": per["foreign_currency"],
        "bad_amount": per["bad_amount"],
        "unknown_mcc": per["unknown_mcc"],
        "missing_counterparty": per["missing_counterparty"],
        "disbursed": loop["disbursed"],
        "closed_loop": loop["closed_loop"],
        "loans": loop["loans"],
    }
    return pa.Table.from_pylist([row], schema=schema.QUALITY)


class _Stages:
    """Materialises an intermediate once: a temporary table on DuckDB; on Spark a Parquet file beside the
    snapshot read back (Spark would otherwise recompute it for every query that uses it)."""

    def __init__(self, con: Any, folder: Path, prefix: str) -> None:
        self.con, self.folder, self.prefix = con, folder, prefix
        self.seconds: dict[str, float] = {}

    def keep(self, name: str, expr: ir.Table) -> ir.Table:
        began = time.perf_counter()
        table_name = f"{self.prefix}_{name}"
        if self.con.name == "duckdb":
            kept = self.con.create_table(table_name, expr, temp=True, overwrite=True)
        else:
            path = self.folder / f"signals_{name}.parquet"
            pq.write_table(self.con.to_pyarrow(expr), path)
            kept = self.con.read_parquet(str(path), table_name=table_name)
        self.seconds[name] = time.perf_counter() - began
        return kept

    def keep_and_fetch(self, name: str, expr: ir.Table) -> tuple[ir.Table, pa.Table]:
        """Kept, and as Arrow too (an output that a later query reads again)."""
        if self.con.name == "duckdb":
            kept = self.keep(name, expr)
            return kept, self.fetch(f"{name}_out", kept)
        began = time.perf_counter()
        table = self.con.to_pyarrow(expr)
        path = self.folder / f"signals_{name}.parquet"
        pq.write_table(table, path)
        kept = self.con.read_parquet(str(path), table_name=f"{self.prefix}_{name}")
        self.seconds[name] = time.perf_counter() - began
        return kept, table

    def fetch(self, name: str, expr: ir.Table) -> pa.Table:
        began = time.perf_counter()
        table = self.con.to_pyarrow(expr)
        self.seconds[name] = time.perf_counter() - began
        return table


def _sums(table: pa.Table) -> dict[str, int]:
    return {
        name: int(sum(v for v in table[name].to_pylist() if v is not None)) for name in table.column_names
    }


def compute(con: Any, files: dict[str, Path], day: dt.date, config: SignalConfig, prefix: str) -> StepResult:
    """Run the signal step on an engine (an ibis DuckDB or PySpark connection)."""
    folder = files["customers"].parent
    paths = {name: files[name] for name in INPUTS} | write_lookups(folder, config)
    t = {name: con.read_parquet(str(path), table_name=f"{prefix}_{name}") for name, path in paths.items()}
    rules = config.rules
    stages = _Stages(con, folder, prefix)

    dups = stages.keep("dups", steps.duplicate_ids(t))
    copies = _sums(con.to_pyarrow(dups.aggregate(n=_.count(), extra=(_.copies - 1).sum())))
    # Most days nothing comes twice: then no copy is chosen and no row is tested against the list.
    dedup = steps.Dedup(dups, stages.keep("kept", steps.kept_copies(t, dups))) if copies["n"] else None
    per = stages.keep("per_customer", steps.per_customer(t, dedup, day, rules))
    flows = stages.keep("flows", steps.flows(t, dedup, day, rules))
    usual = per.select("customer_id", "baseline_payments", "usual2")
    months = stages.keep("salary_months", steps.salary_months(flows, t))
    events, events_table = stages.keep_and_fetch(
        "events", steps.events(flows, usual, months, t, rules, config.active)
    )
    signals = stages.fetch("signals", steps.signals(events, months, day, rules))
    alerts = stages.fetch("alerts", steps.alerts(flows, t, rules))

    began = time.perf_counter()
    counts = con.to_pyarrow(
        per.aggregate(**{name: per[name].sum() for name in steps.PER_CUSTOMER_COLUMNS[1:-2]})
    )
    loop = con.to_pyarrow(steps.loop_figures(flows, t, day, rules))
    stages.seconds["quality"] = time.perf_counter() - began
    quality = quality_row(_sums(counts), copies["extra"], _sums(loop))
    return StepResult(
        events=finish(events_table, "events"),
        signals=finish(signals, "signals"),
        alerts=finish(alerts, "alerts"),
        quality=finish(quality, "quality"),
        seconds=stages.seconds,
    )
