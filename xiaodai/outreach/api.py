"""The workbench over the JSON API: today's list, a customer's call card and recording an outcome, with the
same scoping, masking, contact rules and services as the pages (a softphone or a mobile app can drive it)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from xiaodai.core.access import actor_of
from xiaodai.core.masking import mask_name, mask_phone
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.outreach import choices as c
from xiaodai.outreach import selectors, services
from xiaodai.outreach.exceptions import OutreachError
from xiaodai.outreach.models import Outcome

router = Router(tags=["workbench"])


def _worker(request: HttpRequest) -> Staff:
    staff = getattr(request.user, "staff", None)
    if staff is None or not actor_of(request.user).has(Perm.WORK_CALLS):
        raise HttpError(403, "Forbidden")
    return staff


class ListRowOut(Schema):
    customer_id: int
    customer_no: str
    name: str  # masked
    pool: str
    reason: str
    due_on: dt.date | None
    probability: float | None
    expected_value: Decimal | None
    last_contact_at: dt.datetime | None


class CallListOut(Schema):
    channel: str
    capacity: int
    made_today: int
    total: int
    in_window: bool
    rows: list[ListRowOut]


@router.get(
    "/work/today", response=CallListOut, summary="Today's list of the caller: due follow-ups, then EV"
)
def today(request: HttpRequest, channel: str = c.WorkChannel.PHONE) -> dict[str, object]:
    staff = _worker(request)
    if channel not in c.WorkChannel.values:
        raise HttpError(422, f"Unknown channel {channel!r}: use one of {', '.join(c.WorkChannel.values)}")
    worklist = selectors.call_list(staff, channel, timezone.now())
    return {
        "channel": channel,
        "capacity": worklist.capacity,
        "made_today": worklist.made_today,
        "total": worklist.total,
        "in_window": worklist.in_window,
        "rows": [
            {
                "customer_id": r.customer.pk,
                "customer_no": r.customer.customer_no,
                "name": mask_name(r.customer.name),
                "pool": r.pool,
                "reason": r.reason,
                "due_on": r.due_on,
                "probability": r.probability,
                "expected_value": r.expected_value,
                "last_contact_at": r.last_contact_at,
            }
            for r in worklist.rows
        ],
    }


class ProblemOut(Schema):
    code: str
    message: str


class ScriptOut(Schema):
    id: int
    title: str
    product: str
    version: int
    apr: Decimal
    opening: str
    selling_points: str
    scenario_text: str
    objections: dict[str, list[str]]


class CardOut(Schema):
    customer_id: int
    name: str  # masked
    phone: str  # masked; revealing is a page action, audited
    pools: list[str]
    reasons: list[str]
    probability: float | None
    expected_value: Decimal | None
    problems: list[ProblemOut]
    script: ScriptOut | None


@router.get("/work/customers/{customer_id}", response=CardOut, summary="The call card of one customer")
def call_card(
    request: HttpRequest, customer_id: int, channel: str = c.WorkChannel.PHONE
) -> dict[str, object]:
    _worker(request)
    if channel not in c.WorkChannel.values:
        raise HttpError(422, f"Unknown channel {channel!r}")
    customer = get_scoped_or_404(Customer.objects.all(), request.user, pk=customer_id)
    card = selectors.card(customer, channel, timezone.now())
    primary = customer.contact_points.filter(is_primary=True).first()
    script = card.script
    return {
        "customer_id": customer.pk,
        "name": mask_name(customer.name),
        "phone": mask_phone(primary.value) if primary else "",
        "pools": [m.pool for m, _r in card.memberships],
        "reasons": [r for _m, r in card.memberships] + card.score_reasons,
        "probability": card.score.probability if card.score else None,
        "expected_value": card.score.expected_value if card.score else None,
        "problems": [{"code": p.code, "message": p.message} for p in card.problems],
        "script": None
        if script is None
        else {
            "id": script.pk,
            "title": script.script.title,
            "product": script.script.product,
            "version": script.version,
            "apr": script.apr,
            "opening": script.opening,
            "selling_points": script.selling_points,
            "scenario_text": script.scenario_text,
            "objections": script.objections,
        },
    }


class OutcomeIn(Schema):
    customer_id: int
    channel: str = c.WorkChannel.PHONE
    outcome: str
    token: uuid.UUID
    objection: str = ""
    rebuttal: int | None = None
    purpose: str = ""
    amount: Decimal | None = None
    follow_up_on: dt.date | None = None
    notes: str = ""
    script_version_id: int | None = None
    recording_ref: str = ""
    visit_place: str = ""
    wechat_kind: str = ""
    occurred_at: dt.datetime | None = None
    corrects_id: int | None = None


class OutcomeOut(Schema):
    id: int
    customer_id: int
    channel: str
    outcome: str
    occurred_at: dt.datetime
    next_customer_id: int | None


class RefusedOut(Schema):
    code: str
    message: str
    problems: list[ProblemOut]


def _choice(value: str, choices: list[str], name: str, *, blank: bool = True) -> None:
    if (value or not blank) and value not in choices:
        raise HttpError(422, f"Unknown {name} {value!r}")


@router.post(
    "/outcomes",
    response={201: OutcomeOut, 409: RefusedOut, 422: RefusedOut},
    summary="Record a call, visit or WeChat outcome (contact rules apply; 409 when a rule refuses it)",
)
def record_outcome(request: HttpRequest, payload: OutcomeIn) -> Status:
    staff = _worker(request)
    _choice(payload.channel, c.WorkChannel.values, "channel", blank=False)
    _choice(payload.outcome, c.ContactOutcome.values, "outcome", blank=False)
    _choice(payload.objection, c.Objection.values, "objection")
    _choice(payload.purpose, c.LoanPurpose.values, "purpose")
    _choice(payload.visit_place, c.VisitPlace.values, "visit place")
    _choice(payload.wechat_kind, c.WechatKind.values, "WeChat kind")
    customer = get_scoped_or_404(Customer.objects.all(), request.user, pk=payload.customer_id)
    corrects = None
    if payload.corrects_id is not None:
        corrects = get_scoped_or_404(
            Outcome.objects.all(), request.user, pk=payload.corrects_id, customer=customer
        )
    data = services.OutcomeInput(
        customer=customer,
        channel=payload.channel,
        outcome=payload.outcome,
        token=payload.token,
        objection=payload.objection,
        rebuttal=payload.rebuttal,
        purpose=payload.purpose,
        amount=payload.amount,
        follow_up_on=payload.follow_up_on,
        notes=payload.notes,
        script_version_id=payload.script_version_id,
        recording_ref=payload.recording_ref,
        visit_place=payload.visit_place,
        wechat_kind=payload.wechat_kind,
        occurred_at=payload.occurred_at,
        corrects=corrects,
    )
    try:
        outcome = services.record_outcome(staff, data)
    except OutreachError as exc:
        if exc.code != "duplicate":
            services.refuse(staff, customer, exc, request=request)
        problems = [{"code": p.code, "message": p.message} for p in exc.problems]
        status = 409 if exc.problems or exc.code in ("duplicate", "prohibited_purpose") else 422
        return Status(status, {"code": exc.code, "message": exc.message, "problems": problems})
    following = selectors.next_customer(staff, outcome.channel, timezone.now(), after=customer.pk)
    return Status(
        201,
        {
            "id": outcome.pk,
            "customer_id": customer.pk,
            "channel": outcome.channel,
            "outcome": outcome.outcome,
            "occurred_at": outcome.occurred_at,
            "next_customer_id": following,
        },
    )
