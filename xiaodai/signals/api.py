"""Capital-flow signals over the JSON API: the same scoping, masking and wording as the customers page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from xiaodai.core.access import actor_of
from xiaodai.core.masking import mask_counterparty, mask_name
from xiaodai.core.roles import Perm
from xiaodai.signals import selectors, wording
from xiaodai.signals.choices import Kind
from xiaodai.signals.models import Signal

router = Router(tags=["capital flow"])


class SignalOut(Schema):
    customer_id: int
    customer_no: str
    name: str  # masked
    kind: str
    detail: str
    first_on: dt.date
    last_on: dt.date
    txns: int
    amount: Decimal
    largest: Decimal
    basis: Decimal | None
    counterparty: str
    mcc: str
    is_new: bool
    reason: str
    action: str


class SignalPage(Schema):
    count: int
    page: int
    pages: int
    results: list[SignalOut]


def _row(s: Signal) -> dict[str, object]:
    return {
        "customer_id": s.customer_id,
        "customer_no": s.customer.customer_no,
        "name": mask_name(s.customer.name),
        "kind": s.kind,
        "detail": s.detail,
        "first_on": s.first_on,
        "last_on": s.last_on,
        "txns": s.txns,
        "amount": s.amount,
        "largest": s.largest,
        "basis": s.basis,
        "counterparty": mask_counterparty(s.counterparty),
        "mcc": s.mcc,
        "is_new": s.is_new,
        "reason": wording.reason(s),
        "action": wording.action(s),
    }


@router.get("/signals", response=SignalPage, summary="Current capital-flow signals of the customers in scope")
def list_signals(
    request: HttpRequest, kind: str = "", detail: str = "", new: bool = False, sort: str = "", page: int = 1
) -> dict[str, object]:
    if not actor_of(request.user).has(Perm.VIEW_CAPITAL_FLOW):
        raise HttpError(403, "Forbidden")
    if kind and kind not in Kind.values:
        raise HttpError(422, f"Unknown kind {kind!r}: use one of {', '.join(Kind.values)}")
    if sort and sort not in selectors.SIGNAL_SORTS:
        raise HttpError(422, f"Unknown sort {sort!r}: use one of {', '.join(selectors.SIGNAL_SORTS)}")
    flt = selectors.SignalFilter(
        kind=kind,
        detail=detail if detail in {c for c, _label in selectors.DETAILS.get(kind, [])} else "",
        new=new,
        sort=sort or selectors.DEFAULT_SIGNAL_SORT,
    )
    if detail and not flt.detail:
        raise HttpError(422, f"Unknown detail {detail!r} for kind {kind!r}")
    pager = Paginator(selectors.signals(request.user, flt), settings.XIAODAI_PAGE_SIZE)
    current = pager.get_page(page)
    return {
        "count": pager.count,
        "page": current.number,
        "pages": pager.num_pages,
        "results": [_row(s) for s in current],
    }
