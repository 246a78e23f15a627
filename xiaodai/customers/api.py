"""Customers over the JSON API: the same scoping, filters and masking as the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.masking import mask_account, mask_address, mask_id_number, mask_name, mask_phone
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.customers.filters import customer_filter
from xiaodai.customers.models import Card, Customer

router = Router(tags=["customers"])


class CustomerRow(Schema):
    id: int
    customer_no: str
    name: str
    gender: str
    age: int
    mobile: str
    sub_branch: str
    owner: str | None
    aum: Decimal
    credit_limit: Decimal | None
    credit_undrawn: Decimal | None
    tags: list[str]


class CustomerPage(Schema):
    count: int
    page: int
    pages: int
    results: list[CustomerRow]


class CreditLineOut(Schema):
    product: str
    limit: Decimal
    drawn: Decimal
    approved_on: date
    expires_on: date
    rate: Decimal
    apr: Decimal
    status: str


class LoanOut(Schema):
    kind: str
    product: str
    amount: Decimal
    balance: Decimal
    rate: Decimal
    apr: Decimal
    status: str
    overdue_days: int


class CardOut(Schema):
    card_no: str
    tier: str
    limit: Decimal
    used: Decimal
    delinquent_cycles: int


class DepositOut(Schema):
    account_no: str
    kind: str
    balance: Decimal


class CustomerDetail(CustomerRow):
    id_number: str
    address: str
    district: str
    occupation: str
    employer: str
    credit_lines: list[CreditLineOut]
    loans: list[LoanOut]
    cards: list[CardOut]
    deposits: list[DepositOut]


def _row(c: Customer, today: date) -> dict[str, object]:
    primary = getattr(c, "primary", None)
    if primary is None:
        primary = [p for p in c.contact_points.all() if p.is_primary]
    return {
        "id": c.pk,
        "customer_no": c.customer_no,
        "name": mask_name(c.name),
        "gender": c.gender,
        "age": c.age_on(today),
        "mobile": mask_phone(primary[0].value) if primary else "",
        "sub_branch": c.sub_branch.name,
        "owner": c.owner.name if c.owner else None,
        "aum": c.aum,
        "credit_limit": getattr(c, "credit_limit", None),
        "credit_undrawn": getattr(c, "credit_undrawn", None),
        "tags": [t.name for t in c.tags.all()],
    }


@router.get("/customers", response=CustomerPage, summary="Search and page through customers in scope")
def list_customers(request: HttpRequest, page: int = 1) -> dict[str, object]:
    flt = customer_filter(request.user, request.GET)
    if not flt.is_valid():
        raise HttpError(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in flt.errors.items()))
    pager = Paginator(flt.qs, settings.XIAODAI_PAGE_SIZE)
    current = pager.get_page(page)
    today = timezone.localdate()
    return {
        "count": pager.count,
        "page": current.number,
        "pages": pager.num_pages,
        "results": [_row(c, today) for c in current],
    }


@router.get("/customers/{customer_id}", response=CustomerDetail, summary="One customer, masked")
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, object]:
    customer = get_scoped_or_404(
        Customer.objects.select_related("sub_branch", "owner").prefetch_related("tags", "contact_points"),
        request.user,
        pk=customer_id,
    )
    with transaction.atomic():
        record(Action.CUSTOMER_VIEW, request=request, obj=customer, detail={"via": "api"})
    data = _row(customer, timezone.localdate())
    data.update(
        id_number=mask_id_number(customer.id_number),
        address=mask_address(customer.address),
        district=customer.district,
        occupation=customer.occupation,
        employer=customer.employer_name,
        credit_lines=list(customer.credit_lines.all()),
        loans=list(customer.loans.all()),
        cards=[_card(k) for k in customer.cards.all()],
        deposits=[
            {"account_no": mask_account(d.account_no), "kind": d.kind, "balance": d.balance}
            for d in customer.deposits.all()
        ],
    )
    return data


def _card(card: Card) -> dict[str, object]:
    return {
        "card_no": mask_account(card.card_no),
        "tier": card.tier,
        "limit": card.limit,
        "used": card.used,
        "delinquent_cycles": card.delinquent_cycles,
    }
