"""The audit trail, readable by auditors only (compliance A-04)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.audit.services import record, verify_chain
from xiaodai.core.access import require_perm
from xiaodai.core.roles import Perm


@require_GET
@require_perm(Perm.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "")
    if action in Action.values:
        events = events.filter(action=action)
    # NUL is dropped: PostgreSQL refuses it in a query parameter, which would turn a typo into a 500.
    username = request.GET.get("username", "").replace("\x00", "").strip()[:150]
    if username:
        events = events.filter(username=username)
    if start := _local_bound(parse_date_safe(request.GET.get("from", "")), time.min):
        events = events.filter(occurred_at__gte=start)
    if end := _local_bound(parse_date_safe(request.GET.get("to", "")), time.max):
        events = events.filter(occurred_at__lte=end)
    page = Paginator(events.order_by("-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/list.html",
        {"page": page, "nav": "audit", "actions": Action.choices, "f": request.GET},
    )


def parse_date_safe(raw: str) -> date | None:
    try:
        return parse_date(raw[:10]) if raw else None
    except ValueError:
        return None


def _local_bound(day: date | None, at: time) -> datetime | None:
    """`day` at `at` in local time; None when it has no UTC equivalent (0001-01-01 00:00 +08:00 would be
    year 0 in UTC and fail inside the query, a 500 instead of an ignored filter)."""
    if day is None:
        return None
    value = datetime.combine(day, at, tzinfo=timezone.get_current_timezone())
    try:
        value.astimezone(UTC)
    except OverflowError:
        return None
    return value


@require_POST
@require_perm(Perm.VIEW_AUDIT)
def audit_verify(request: HttpRequest) -> HttpResponse:
    report = verify_chain()
    with transaction.atomic():
        record(
            Action.AUDIT_VERIFY,
            request=request,
            outcome="success" if report.ok else "failure",
            detail={"checked": report.checked, "broken_at": report.broken_at},
        )
    return render(request, "audit/verify.html", {"report": report, "nav": "audit"})
