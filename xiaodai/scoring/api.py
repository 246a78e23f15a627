"""Scores over the JSON API: the same scoping as the pages (the registry is a page of the operations admin,
whose role has no API access)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.customers.models import Customer
from xiaodai.scoring.models import CustomerScore
from xiaodai.scoring.wording import reason_text

router = Router(tags=["scores"])


class ReasonOut(Schema):
    code: str
    text: str
    params: dict[str, object]


class ScoreOut(Schema):
    customer_id: int
    data_date: dt.date
    probability: float
    expected_amount: float
    expected_value: float
    personalised: bool
    model: str
    reasons: list[ReasonOut]


@router.get(
    "/customers/{customer_id}/score",
    response=ScoreOut,
    summary="A customer's latest score: chance, expected value, reasons (404: unscored or out of scope)",
)
def customer_score(request: HttpRequest, customer_id: int) -> dict[str, object]:
    customer = get_scoped_or_404(Customer.objects.all(), request.user, pk=customer_id)
    score = CustomerScore.objects.select_related("model", "run").filter(customer=customer).first()
    if score is None:
        raise HttpError(404, "Not Found")
    return {
        "customer_id": customer.pk,
        "data_date": score.run.data_date,
        "probability": score.probability,
        "expected_amount": float(score.expected_amount),
        "expected_value": float(score.expected_value),
        "personalised": score.personalised,
        "model": str(score.model),
        "reasons": [
            {"code": code, "params": params or {}, "text": text}
            for code, params in score.reasons
            if (text := reason_text(code, params or {})) is not None
        ],
    }
