"""What each reason of a score rests on. The pages import it: it stays free of the modelling libraries."""

from __future__ import annotations

# The value each reason's sentence rests on. The absence of a value can push a score up (no application, never
# contacted), but the sentence would then say something untrue: such a story is not chosen as a reason, and
# one stored before is not worded (xiaodai.scoring.wording). For last_contact the absence is itself the fact
# ("not contacted before").
RESTS_ON: dict[str, str] = {
    "line": "limit",
    "expiring": "days",
    "application": "days",
    "keen_before": "days",
    "applied_before": "days",
    "last_contact": "days",
    "last_outcome": "outcome",
    "payroll": "amount",
    "income": "amount",
    "age": "age",
    "occupation": "occupation",
    "tenure": "days",
    "card": "limit",
    "flow_scenario": "days",
    "flow_provident": "days",
}

# Counts whose zero means the story is not there at all (no repayment to another lender): chosen and worded
# like a missing value.
ABSENT_WHEN_ZERO: dict[str, str] = {"flow_lender": "n"}
