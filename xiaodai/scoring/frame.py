"""The table a model learns from and scores: one row per (id, moment), the target, and typed feature columns.

Both trainers build one: the bring-your-own history (history.py) from a flat file, the product (product.py)
from the bank's own contact history and holdings. Everything after that (encoding, training, baselines,
metrics, the model file) is shared, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Kind = Literal["number", "category"]
MAX_CATEGORIES = 50  # the most frequent values keep their own code; the rest share "other"

# Derived columns every frame carries under these names: the business-rule baseline orders by them.
PRIOR_SUCCESS = "h_prev_pos"
RECENT_CONTACTS = "h_prev_n_90"
DAYS_SINCE_CONTACT = "h_days_since_prev"


@dataclass(frozen=True)
class Feature:
    """One model input: where it comes from (an attribute of the file, or derived) and what it means."""

    name: str
    kind: Kind
    origin: Literal["attribute", "derived", "time"]
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "origin": self.origin, "description": self.description}


@dataclass
class Frame:
    """Rows in time order. `table` holds the feature columns; `y` is None when scoring."""

    ids: np.ndarray
    times: np.ndarray  # datetime64[us]
    features: list[Feature]
    table: pa.Table
    y: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> Frame:
        return Frame(
            self.ids[index],
            self.times[index],
            self.features,
            self.table.take(pa.array(index)),
            None if self.y is None else self.y[index],
            self.extra,
        )

    def column(self, name: str) -> np.ndarray:
        """A numeric column as float64 with NaN for missing values."""
        col = self.table[name]
        if pa.types.is_boolean(col.type):
            col = col.cast(pa.int8())
        return np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def learn_categories(frame: Frame) -> dict[str, list[str]]:
    """Per categorical feature, its most frequent values (the code of a value is its index + 1; 0 = other)."""
    out: dict[str, list[str]] = {}
    for f in frame.features:
        if f.kind != "category":
            continue
        counts = pc.value_counts(frame.table[f.name].cast(pa.string())).to_pylist()
        ranked = sorted(
            ((c["values"], c["counts"]) for c in counts if c["values"] not in (None, "")),
            key=lambda vc: (-vc[1], vc[0]),
        )
        out[f.name] = [v for v, _ in ranked[:MAX_CATEGORIES]]
    return out


def matrix(frame: Frame, features: list[Feature], categories: dict[str, list[str]]) -> np.ndarray:
    """The float matrix a model reads: numbers as they are, categories as codes (NaN when missing)."""
    out = np.empty((len(frame), len(features)), dtype=np.float64)
    for j, f in enumerate(features):
        if f.kind == "number":
            out[:, j] = frame.column(f.name)
            continue
        values = frame.table[f.name].cast(pa.string())
        known = categories.get(f.name, [])
        codes = pc.index_in(values, value_set=pa.array(known, pa.string()))
        found = np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.float64)  # NaN: not in the list
        col = np.where(np.isnan(found), 0.0, found + 1.0)
        missing = np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False)) | np.asarray(
            pc.equal(values, "").fill_null(True).to_numpy(zero_copy_only=False)
        )
        col[missing] = np.nan
        out[:, j] = col
    return out
