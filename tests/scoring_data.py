"""Small synthetic data for the scoring tests: contact histories written as CSV or Parquet, frames of the
product's features, and a product model trained on them and put in the registry.

Everything is seeded, so a test sees the same rows on every run. The outcome of a history depends mostly on
one column (`segment`), so a model learns it in a fraction of a second and clearly beats random order.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaodai.scoring import learn, product, services
from xiaodai.scoring.choices import ModelSource, Trigger
from xiaodai.scoring.frame import Feature, Frame
from xiaodai.scoring.models import PRODUCT_MODEL, ScoringModel

START = dt.datetime(2025, 1, 1, 9, 0)
DAYS = 360
SEGMENT_RATE = {"A": 0.55, "B": 0.18, "C": 0.03}

# The columns of a history file, by role (what `xiaodai model train` is told).
ID, TIME, TARGET = "customer", "contacted_at", "converted"
TRAIN_ARGS = ("--target", TARGET, "--time-column", TIME, "--id-column", ID)

Row = dict[str, Any]


def history_rows(
    n_ids: int = 250, *, seed: int = 1, noise_before: dt.datetime | None = None, per_id: int = 6
) -> list[Row]:
    """Rows of past contacts, one per (customer, moment), sorted by nothing in particular (as files are).

    `noise_before`: rows before this moment get a coin-flip outcome unrelated to anything, so a model
    trained on them learns nothing; later rows keep the real relationship."""
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for i in range(n_ids):
        segment = str(rng.choice(list(SEGMENT_RATE), p=[0.3, 0.4, 0.3]))
        age = int(rng.integers(22, 65))
        income = round(float(rng.lognormal(9.5, 0.4)), 2)
        for _ in range(int(rng.integers(2, per_id + 1))):
            at = START + dt.timedelta(days=int(rng.integers(0, DAYS)), hours=int(rng.integers(0, 9)))
            p = SEGMENT_RATE[segment] * (1.3 if age < 40 else 0.8)
            if noise_before is not None and at < noise_before:
                p = 0.25
            rows.append(
                {
                    ID: f"K{i:05d}",
                    TIME: at,
                    "age": age,
                    "segment": segment,
                    "income": income,
                    "channel": str(rng.choice(["phone", "sms", "visit"])),
                    TARGET: int(rng.random() < p),
                }
            )
    return rows


def cut(rows: list[Row], share: float) -> dt.datetime:
    """The moment before which `share` of the rows lie."""
    times = sorted(r[TIME] for r in rows)
    return times[int(len(times) * share)]


def _cell(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else value


def write_csv(path: Path, rows: list[Row], columns: list[str] | None = None) -> Path:
    names = columns or list(rows[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _cell(r.get(k, "")) for k in names})
    return path


def write_parquet(path: Path, rows: list[Row]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def files_under(root: Path) -> list[Path]:
    """Every file under the model directory (hidden temporary ones too)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- frames -------------------------------------------------------------------------------------------------


def frame(columns: dict[str, list[Any]], *, times: list[dt.datetime] | None = None, y: Any = None) -> Frame:
    """A frame of number columns (and string ones, as categories) for the learn and explain tests."""
    n = len(next(iter(columns.values())))
    features = [
        Feature(name, "category" if any(isinstance(v, str) for v in values) else "number", "attribute")
        for name, values in columns.items()
    ]
    table = pa.table(
        {
            f.name: pa.array(columns[f.name], pa.string() if f.kind == "category" else pa.float64())
            for f in features
        }
    )
    moments = times or [START + dt.timedelta(hours=i) for i in range(n)]
    return Frame(
        np.array([f"id{i}" for i in range(n)], dtype=object),
        np.array(moments, dtype="datetime64[us]"),
        features,
        table,
        None if y is None else np.asarray(y, dtype=np.int8),
    )


def product_frame(rows: list[Row], *, y: Any = None, times: list[dt.datetime] | None = None) -> Frame:
    """A frame with every product feature (missing where a row does not give it), as product.py builds."""
    n = len(rows)
    columns = {}
    for f in product.FEATURES:
        values = [r.get(f.name) for r in rows]
        columns[f.name] = pa.array(values, pa.string() if f.kind == "category" else pa.float64())
    # Read by rules v1 beside the features, as product.FEATURE_SQL selects it.
    columns["h_days_since_refused"] = pa.array([r.get("h_days_since_refused") for r in rows], pa.float64())
    moments = times or [START + dt.timedelta(hours=i) for i in range(n)]
    return Frame(
        np.arange(n, dtype=np.int64),
        np.array(moments, dtype="datetime64[us]"),
        list(product.FEATURES),
        pa.table(columns),
        None if y is None else np.asarray(y, dtype=np.int8),
    )


def product_training_frame(n: int = 1500, seed: int = 3) -> Frame:
    """Past contacts with the product's features: the outcome follows the income (which the rule prior
    ignores), so a trained model beats rules v1 on the holdout."""
    rng = np.random.default_rng(seed)
    income = rng.uniform(3_000, 60_000, n)
    rows = [
        {
            "age": float(rng.integers(22, 65)),
            "income": float(income[i]),
            "occupation": str(rng.choice(["工程师", "教师", "医生"])),
            "tenure_days": float(rng.integers(100, 4000)),
            "is_payroll": float(rng.integers(0, 2)),
            "line_limit": float(rng.choice([100_000.0, 200_000.0])),
            "line_idle_days": float(rng.integers(0, 200)),
            "line_never_drawn": float(rng.integers(0, 2)),
            "line_expires_days": float(rng.integers(30, 365)),
            "loans_before": float(rng.integers(0, 3)),
            "h_prev_n": float(rng.integers(0, 4)),
            "h_prev_n_90": float(rng.integers(0, 3)),
            "h_prev_refused": 0.0,
            "h_prev_keen": 0.0,
            "h_prev_pos": 0.0,
            "h_prev_reached": 0.0,
            "has_mortgage": 0.0,
            "premium_card": 0.0,
            "g_rate_30": 0.1,
        }
        for i in range(n)
    ]
    y = (rng.random(n) < np.where(income > 30_000, 0.45, 0.04)).astype(np.int8)
    times = sorted(START + dt.timedelta(days=int(d)) for d in rng.integers(0, DAYS, n))
    return product_frame(rows, y=y, times=times)


def train_product() -> learn.Trained:
    return learn.train(product_training_frame())


def register_product_model(trained: learn.Trained) -> ScoringModel:
    """A LightGBM version of the product's model, registered the way `xiaodai model retrain` registers one
    (it replaces rules v1 when it beats it on the holdout). `trained` may be shared by several tests."""
    return services.register(
        trained,
        name=PRODUCT_MODEL,
        source=ModelSource.PRODUCT,
        info={"data_date": "2026-11-28", "label": "test"},
        trigger=Trigger.CLI,
        by=None,
    )


# --- the product's inputs, as the snapshot writes them (money in cents) -------------------------------------

_INPUT_SCHEMAS: dict[str, dict[str, pa.DataType]] = {
    "customers": {
        "customer_id": pa.int64(),
        "birth_date": pa.date32(),
        "monthly_income": pa.int64(),
        "occupation": pa.string(),
        "opened_on": pa.date32(),
    },
    "credit_lines": {
        "customer_id": pa.int64(),
        "limit": pa.int64(),
        "approved_on": pa.date32(),
        "expires_on": pa.date32(),
        "last_drawn_on": pa.date32(),
    },
    "loans": {
        "customer_id": pa.int64(),
        "kind": pa.string(),
        "disbursed_on": pa.date32(),
        "matures_on": pa.date32(),
    },
    "cards": {"customer_id": pa.int64(), "tier": pa.string(), "limit": pa.int64(), "opened_on": pa.date32()},
    "applications": {"customer_id": pa.int64(), "amount": pa.int64(), "started_on": pa.date32()},
    "payroll": {"customer_id": pa.int64(), "monthly_amount": pa.int64()},
    "contacts": {"customer_id": pa.int64(), "contacted_on": pa.date32(), "outcome": pa.string()},
}


def customer(customer_id: int, **values: Any) -> Row:
    return {
        "customer_id": customer_id,
        "birth_date": dt.date(1988, 4, 12),
        "monthly_income": 1_800_000,
        "occupation": "工程师",
        "opened_on": dt.date(2015, 3, 1),
        **values,
    }


def line(customer_id: int, **values: Any) -> Row:
    return {
        "customer_id": customer_id,
        "limit": 20_000_000,
        "approved_on": dt.date(2025, 1, 1),
        "expires_on": dt.date(2027, 6, 1),
        "last_drawn_on": None,
        **values,
    }


def consumer_loan(customer_id: int, **values: Any) -> Row:
    return {
        "customer_id": customer_id,
        "kind": "consumer",
        "disbursed_on": dt.date(2025, 6, 1),
        "matures_on": dt.date(2027, 6, 1),
        **values,
    }


def product_inputs(con: Any, **tables: list[Row]) -> None:
    """Register every table product.py reads on a DuckDB connection; those not given are empty."""
    from xiaodai.signals.schema import EVENTS

    for name, schema in _INPUT_SCHEMAS.items():
        rows = tables.get(name, [])
        con.register(name, pa.table({c: pa.array([r.get(c) for r in rows], t) for c, t in schema.items()}))
    events = tables.get("signal_events", [])
    con.register("signal_events", pa.Table.from_pylist(events, schema=EVENTS))
