"""record(): the only way audit events are written. It runs inside the caller's transaction, so an action
and its audit event commit or fail together; if the audit write fails, the action fails (U-05)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.models import GENESIS, AuditEvent, ChainHead
from xiaodai.core.access import actor_of
from xiaodai.core.middleware import request_id_var


def _client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = Outcome.SUCCESS,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one audit event. Pass ids and codes in `detail`, never personal values."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    actor = actor_of(user)
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = obj.pk
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1, defaults={"last_hash": GENESIS})
        event = AuditEvent(
            occurred_at=timezone.now(),
            user_id=user.pk if authenticated else None,
            username=(user.get_username() if authenticated else username)[:150],
            role=actor.role,
            branch_id=actor.branch_id,
            ip=_client_ip(request),
            request_id=getattr(request, "request_id", None) or request_id_var.get(),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            reason=reason[:200],
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        ChainHead.objects.filter(pk=head.pk).update(last_hash=event.hash, count=models.F("count") + 1)
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""


def verify_chain() -> ChainReport:
    """Walk the chain from the first event; report the first event whose hash or link does not match."""
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev:
            return ChainReport(False, checked, event.pk, "link")
        if event.compute_hash() != event.hash:
            return ChainReport(False, checked, event.pk, "hash")
        prev = event.hash
        checked += 1
    return ChainReport(True, checked)


def record_denied(request: HttpRequest, what: str) -> None:
    record(Action.PERMISSION_DENIED, request=request, outcome=Outcome.DENIED, detail={"need": what[:64]})


__all__ = ["Action", "ChainReport", "Outcome", "record", "record_denied", "verify_chain"]
