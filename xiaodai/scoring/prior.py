"""Rules v1: the transparent prior the product ranks with before there is any outcome history.

A customer's chance is the base rate of the best pool their holdings put them in (the table below, from the
course's experience of which pools convert), adjusted by what the contact history says: recent interest
doubles it, a refusal in the last 180 days cuts it to a third, three or more contacts in 90 days cut it by a
third. The docs (docs/scoring.md) state the same table. Customers who declined personalised marketing get the
base rate of their primary pool only (C-11): nothing about them personally moves them up or down.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xiaodai.scoring.frame import Frame

VERSION = 1
# Pool -> base probability that a contact leads to an application within 30 days.
POOL_PRIOR: dict[str, float] = {
    "unfinished_application": 0.08,
    "approved_undrawn": 0.06,
    "scenario_channel": 0.03,
    "current_borrower": 0.025,
    "good_past_borrower": 0.02,
    "payroll_staff": 0.02,
    "mortgage_holder": 0.015,
    "premium_card": 0.015,
    "premium_deposit": 0.01,
}
OTHER = 0.005
KEEN_DAYS, KEEN_FACTOR = 90, 2.0
REFUSED_DAYS, REFUSED_FACTOR = 180, 0.3
BUSY_CONTACTS, BUSY_FACTOR = 3, 0.7
# Capital flow: a need the customer's money shows now (a large scenario payment or a provident-fund withdrawal
# in the last 30 days) raises the chance by half.
FLOW_DAYS, FLOW_FACTOR = 30, 1.5


def _col(frame: Frame, name: str, missing: float) -> np.ndarray:
    if name not in frame.table.column_names:  # a frame built before the column existed
        return np.full(len(frame), missing)
    return np.nan_to_num(frame.column(name), nan=missing)


def pools_of(frame: Frame) -> list[list[str]]:
    """The pools each row's holdings put it in, best first, read from the features (so the prior can be
    evaluated on past contacts too)."""
    line = ~np.isnan(frame.column("line_limit"))
    idle = _col(frame, "line_idle_days", 0) >= 30
    never = _col(frame, "line_never_drawn", 0) > 0
    app = _col(frame, "app_days", 1e9) <= 90
    last_loan = _col(frame, "last_loan_days", 1e9)
    conditions = [
        ("unfinished_application", app),
        ("approved_undrawn", line & (never | idle)),
        ("current_borrower", line & ~(never | idle)),
        ("good_past_borrower", (last_loan < 1e9) & ~line),
        ("payroll_staff", _col(frame, "is_payroll", 0) > 0),
        ("mortgage_holder", _col(frame, "has_mortgage", 0) > 0),
        ("premium_card", _col(frame, "premium_card", 0) > 0),
    ]
    out: list[list[str]] = [[] for _ in range(len(frame))]
    for pool, mask in conditions:
        for i in np.flatnonzero(mask):
            out[i].append(pool)
    return out


def score(frame: Frame) -> tuple[np.ndarray, list[list[list[Any]]]]:
    """Probabilities and reasons ([code, params]) of every row."""
    pools = pools_of(frame)
    p = np.array([POOL_PRIOR[ps[0]] if ps else OTHER for ps in pools])
    keen = _col(frame, "h_days_since_keen", 1e9) <= KEEN_DAYS
    refused = _col(frame, "h_days_since_refused", 1e9) <= REFUSED_DAYS
    busy = _col(frame, "h_prev_n_90", 0) >= BUSY_CONTACTS
    scenario_days = _col(frame, "sig_scenario_days", 1e9)
    provident_days = _col(frame, "sig_provident_days", 1e9)
    flow = (scenario_days <= FLOW_DAYS) | (provident_days <= FLOW_DAYS)
    p = p * np.where(keen, KEEN_FACTOR, 1.0) * np.where(refused, REFUSED_FACTOR, 1.0)
    p = p * np.where(flow, FLOW_FACTOR, 1.0)
    p = np.minimum(p * np.where(busy, BUSY_FACTOR, 1.0), 0.95)
    since_keen = frame.column("h_days_since_keen")
    reasons: list[list[list[Any]]] = []
    for i, ps in enumerate(pools):
        mine: list[list[Any]] = [["pool", {"pool": pool}] for pool in ps[:2]]
        if flow[i]:
            mine.insert(0, _flow_reason(frame, i, scenario_days[i], provident_days[i]))
        if keen[i]:
            mine.insert(0, ["keen_before", {"days": int(since_keen[i])}])
        if refused[i]:
            mine.append(["refused_recently", {}])
        reasons.append(mine[:3] or [["no_pool", {}]])
    return p, reasons


def _flow_reason(frame: Frame, i: int, scenario_days: float, provident_days: float) -> list[Any]:
    if scenario_days <= provident_days:
        scenario = (
            frame.table["sig_scenario"][i].as_py() if "sig_scenario" in frame.table.column_names else ""
        )
        return ["flow_scenario", {"days": int(scenario_days), "scenario": scenario or ""}]
    return ["flow_provident", {"days": int(provident_days)}]


def pool_only(pools: list[str]) -> float:
    """The non-personalised chance: the base rate of the customer's primary pool, nothing else (C-11)."""
    return POOL_PRIOR.get(pools[0], OTHER) if pools else OTHER
