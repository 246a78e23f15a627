"""The pipeline's score step: every workable pool customer gets a probability, an expected amount, an
expected value and up to three reasons, from the active model of the product (or rules v1 before any model
beats it). Customers who declined personalised marketing are ranked by their primary pool's prior only (C-11).

Expected amount: the largest potential of the customer's workable pool memberships (undrawn limit, application
amount, ... as the pool rules measure it). Expected value: probability x amount x margin
(XIAODAI_SCORE_MARGIN, the yearly net margin on a consumer loan, 3 % unless configured).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaodai.scoring import explain, prior, product
from xiaodai.scoring.choices import ModelKind
from xiaodai.scoring.frame import matrix
from xiaodai.scoring.models import ScoringModel

DEFAULT_MARGIN = 0.03


def margin() -> float:
    raw = os.environ.get("XIAODAI_SCORE_MARGIN", "").strip()
    return float(raw) if raw else DEFAULT_MARGIN


@dataclass
class Scored:
    scores: (
        pa.Table
    )  # customer_id, model_id, probability, expected_amount, expected_value (cents), reasons, ...
    members: pa.Table  # the members with probability and expected_value (cents) added
    model: ScoringModel
    params: dict[str, Any]
    criteria_hash: str
    non_personalised: int


def _workable(members: pa.Table) -> pa.Table:
    """One row per workable customer: the largest potential and the primary pool."""
    workable = members.filter(pc.equal(members["blocked"], 0))
    with duckdb.connect() as con:
        con.register("m", workable)
        return con.sql(
            "SELECT customer_id, max(potential) AS amount, "
            "arg_max(pool, CASE WHEN is_primary THEN 1 ELSE 0 END) AS primary_pool "
            "FROM m GROUP BY customer_id ORDER BY customer_id"
        ).to_arrow_table()


def score_members(files: dict[str, Path], day: dt.date, members: pa.Table, model: ScoringModel) -> Scored:
    """Score the run's workable customers with `model` (a registry row; its file is checked on load)."""
    from xiaodai.scoring.services import load

    base = _workable(members)
    ids = base["customer_id"].to_numpy()
    npm_ids = pq.read_table(files["customers"], columns=["customer_id", "no_personalised_marketing"])
    flagged = set(
        npm_ids.filter(pc.equal(npm_ids["no_personalised_marketing"], True))["customer_id"].to_pylist()
    )
    personal = np.array([i not in flagged for i in ids.tolist()], dtype=bool)
    prob = np.zeros(len(ids))
    reasons = np.empty(len(ids), dtype=object)
    pools = base["primary_pool"].to_pylist()
    for i in np.flatnonzero(~personal):
        prob[i] = prior.pool_only([pools[i]])
        reasons[i] = json.dumps([["non_personalised", {}], ["pool", {"pool": pools[i]}]])
    chosen = np.flatnonzero(personal)
    if len(chosen):
        with duckdb.connect() as con:
            product.register(con, files)
            frame = product.scoring_frame(con, ids[chosen], day)
        at = chosen[frame.table["row_id"].to_numpy()]  # rows come back in time order: where each one goes
        if model.kind == ModelKind.LIGHTGBM:
            loaded = load(model)
            x = matrix(frame, loaded.features, loaded.categories)
            explainer = explain.PathContributions(loaded.booster)
            contrib = explainer(x)
            # The contributions add up to the raw score exactly: the probability needs no second pass.
            prob[at] = 1.0 / (1.0 + np.exp(-(explainer.base + contrib.sum(axis=1))))
            reasons[at] = explain.product_reasons(frame, loaded.features, contrib).to_numpy(
                zero_copy_only=False
            )
        else:
            p, why = prior.score(frame)
            prob[at] = p
            reasons[at] = [json.dumps(r, ensure_ascii=False) for r in why]
    amount = base["amount"].to_numpy(zero_copy_only=False).astype(np.float64)
    m = margin()
    value = np.round(prob * amount * m)
    scores = pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "model_id": pa.array(np.full(len(ids), model.pk), pa.int64()),
            "probability": pa.array(prob, pa.float64()),
            "expected_amount": pa.array(amount.astype(np.int64), pa.int64()),
            "expected_value": pa.array(value.astype(np.int64), pa.int64()),
            "reasons": pa.array(reasons.tolist(), pa.string()),
            "personalised": pa.array(personal, pa.bool_()),
        }
    )
    params = {
        "model": model.pk,
        "version": model.version,
        "kind": model.kind,
        "margin": m,
        "day": day.isoformat(),
    }
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    return Scored(scores, _with_scores(members, scores), model, params, digest, int((~personal).sum()))


def _with_scores(members: pa.Table, scores: pa.Table) -> pa.Table:
    """Members with their customer's probability and expected value; blocked members stay unscored."""
    with duckdb.connect() as con:
        con.register("m", members)
        con.register("s", scores.select(["customer_id", "probability", "expected_value"]))
        return con.sql(
            "SELECT m.*, CASE WHEN m.blocked = 0 THEN s.probability END AS probability, "
            "CASE WHEN m.blocked = 0 THEN s.expected_value END AS expected_value "
            "FROM m LEFT JOIN s USING (customer_id)"
        ).to_arrow_table()
