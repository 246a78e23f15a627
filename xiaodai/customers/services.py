"""Writes about customers. Each is atomic and audited; no personal values go into the audit detail."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Perm
from xiaodai.customers.exceptions import CustomerError
from xiaodai.customers.models import Consent, Customer, OptOut

REVEALABLE = ("name", "phone", "id_number", "address")
_SESSION_KEY = "reveals"


def search_keys(name: str) -> tuple[str, str]:
    """Full pinyin (zhangsan) and initials (zs) of a Chinese name, for search."""
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    return "".join(syllables).lower(), "".join(s[0] for s in syllables if s).lower()


def reveal_field(request: HttpRequest, customer: Customer, field: str, reason: str, seconds: int) -> None:
    """Open one masked field of one customer for `seconds`, for this session only (compliance P-04)."""
    actor = actor_of(request.user)
    if not actor.has(Perm.REVEAL_PII):
        raise CustomerError("reveal_forbidden")
    if field not in REVEALABLE:
        raise CustomerError("reveal_bad_field")
    reason = " ".join(reason.split())
    if len(reason) < 4:
        raise CustomerError("reveal_reason_required")
    with transaction.atomic():
        record(Action.CUSTOMER_REVEAL, request=request, obj=customer, reason=reason, detail={"field": field})
    grants: dict[str, float] = request.session.get(_SESSION_KEY, {})
    now = time.time()
    grants = {k: v for k, v in grants.items() if v > now}
    grants[f"{customer.pk}:{field}"] = now + seconds
    request.session[_SESSION_KEY] = grants


def revealed_fields(request: HttpRequest, customer: Customer) -> set[str]:
    """Which fields of this customer this session may currently see in clear."""
    grants: dict[str, float] = request.session.get(_SESSION_KEY, {})
    now = time.time()
    return {f for f in REVEALABLE if grants.get(f"{customer.pk}:{f}", 0) > now}


def record_consent(
    request: HttpRequest, customer: Customer, *, purpose: str, channel: str, granted: bool, **evidence: Any
) -> Consent:
    """Append a consent grant or withdrawal; a withdrawal of marketing consent is also an opt-out."""
    staff = getattr(request.user, "staff", None)
    with transaction.atomic():
        consent = Consent.objects.create(
            customer=customer,
            purpose=purpose,
            channel=channel,
            granted=granted,
            recorded_at=timezone.now(),
            collector=staff,
            collector_branch=staff.sub_branch if staff else None,
            **evidence,
        )
        record(
            Action.CONSENT_RECORD,
            request=request,
            obj=customer,
            detail={"consent_id": consent.pk, "purpose": purpose, "channel": channel, "granted": granted},
        )
        if purpose == "marketing" and not granted:
            opt_out = OptOut.objects.create(
                customer=customer,
                channel=channel,
                recorded_at=consent.recorded_at,
                reason="consent withdrawn",
                source=consent.source,
                recorded_by=staff,
            )
            record(Action.OPT_OUT, request=request, obj=customer, detail={"opt_out_id": opt_out.pk})
    return consent
