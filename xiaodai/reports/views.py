"""The home page: one page, figures chosen by what the viewer's role may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xiaodai.audit.models import AuditEvent
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain, Level, Perm, Role
from xiaodai.customers.models import CreditLine, Customer
from xiaodai.org.models import Staff
from xiaodai.reports import selectors


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request.user)
    context: dict[str, Any] = {"nav": "home"}
    if actor.has(Perm.VIEW_CUSTOMERS):
        context.update(_portfolio_context(request, actor.level(Domain.CUSTOMER)))
    elif actor.has(Perm.MANAGE_STAFF):
        context.update(_staff_context(request))
    elif actor.has(Perm.VIEW_AUDIT):
        context.update(_audit_context())
    elif actor.has(Perm.REVIEW_FLOW_ALERTS):
        context.update(_alerts_context(request))
    return render(request, "reports/home.html", context)


def _portfolio_context(request: HttpRequest, level: Level) -> dict[str, Any]:
    customers = Customer.objects.for_staff(request.user)
    group = {Level.BRANCH: "sub_branch__name", Level.TEAM: "owner__name"}.get(level)
    total, groups = selectors.portfolio(customers, group)
    context: dict[str, Any] = {"mode": "portfolio", "total": total, "groups": groups, "level": level.name}
    if group:
        context["group_label"] = _("Sub-branch") if level == Level.BRANCH else _("Person")
        context["chart"] = selectors.chart_option(
            groups, _("Credit limit"), _("Drawn"), _("Consumer-loan balance")
        )
    if level == Level.BRANCH:
        context["teams"] = selectors.portfolio(customers, "owner__team__name")[1]
    context["idle_lines"] = (
        CreditLine.objects.filter(customer__in=customers, drawn=0, status="active")
        .select_related("customer")
        .order_by("-limit", "pk")[:10]
    )
    return context


def _staff_context(request: HttpRequest) -> dict[str, Any]:
    staff = Staff.objects.for_staff(request.user)
    by_sub = list(
        staff.values(sub_name=F("sub_branch__name"))
        .annotate(n=Count("id"), active=Count("id", filter=Q(user__is_active=True)))
        .order_by("sub_name")
    )
    by_role = {r["role"]: r["n"] for r in staff.values("role").annotate(n=Count("id"))}
    role_rows = [(label, by_role.get(code, 0)) for code, label in Role.choices]
    return {
        "mode": "staff",
        "staff_total": staff.count(),
        "staff_active": staff.filter(user__is_active=True).count(),
        "by_sub": by_sub,
        "chart": {
            "tooltip": {"trigger": "item"},
            "series": [
                {
                    "type": "pie",
                    "radius": ["40%", "70%"],
                    "data": [{"name": str(label), "value": n} for label, n in role_rows if n],
                }
            ],
        },
    }


def _alerts_context(request: HttpRequest) -> dict[str, Any]:
    """Post-loan monitoring: the loan-use alerts waiting for a review (C-17)."""
    from xiaodai.signals.selectors import alert_counts

    counts = alert_counts(request.user)
    return {"mode": "alerts", "alerts": counts}


def _audit_context() -> dict[str, Any]:
    since = timezone.now() - timedelta(days=7)
    recent = AuditEvent.objects.filter(occurred_at__gte=since)
    by_action = list(recent.values("action").annotate(n=Count("id")).order_by("-n"))
    labels = dict(AuditEvent._meta.get_field("action").choices or [])
    return {
        "mode": "audit",
        "audit_total": recent.count(),
        "failed_logins": recent.filter(action="auth.login_failed").count(),
        "denied": recent.filter(outcome="denied").count(),
        "reveals": recent.filter(action="customer.reveal").count(),
        "chart": {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 140, "right": 20, "top": 10, "bottom": 30},
            "xAxis": {"type": "value"},
            "yAxis": {
                "type": "category",
                "data": [str(labels.get(r["action"], r["action"])) for r in by_action],
            },
            "series": [{"type": "bar", "data": [r["n"] for r in by_action]}],
        },
    }
