"""The performance pages (/performance/): the dashboard, the list funnel and the records behind a figure or
a funnel stage. Thin, read-only: the reading is in dashboard.py (through xiaodai.plans.read)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.paging import Window
from xiaodai.core.roles import Perm
from xiaodai.plans import read
from xiaodai.plans.choices import FunnelStage, ScopeKind
from xiaodai.reports import dashboard as d
from xiaodai.reports import records as drilldown

ROWS_PER_PAGE = 50
BY_LABELS = [
    ("sub_branch", ScopeKind.SUB_BRANCH.label),
    ("team", ScopeKind.TEAM.label),
    ("staff", ScopeKind.STAFF.label),
    ("pool", gettext_lazy("Pool")),
    ("product", gettext_lazy("Product")),
]


def _context(request: HttpRequest, tab: str, title: str, context: dict[str, Any]) -> dict[str, Any]:
    """What the performance header needs (performance_header.html), with the page's own context."""
    return {
        "nav": "performance",
        "tab": tab,
        "title": title,
        "refreshed": read.last_refresh(request.user),
        **context,
    }


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Where the viewer stands: each figure against their own target with the pace, the level below them,
    and the daily trend. Figures come from the rollup ("figures as of")."""
    user, today = request.user, timezone.localdate()
    period, plans, error = d.dashboard_period(request.GET, user, today)
    level = d.viewer_level(user)
    child, child_error = d.parse_child(request.GET, level)
    sort = d.parse_sort(request.GET)
    chart, has_chart = d.trend_chart(user, period, today)
    context = {
        "period": period,
        "plans": plans,
        "custom": period.plan is None and bool(request.GET.get("from")),
        "errors": [e for e in (error, child_error) if e],
        "level": level,
        "cards": d.cards(user, period, today),
        "children": d.child_table(user, period, today, child, sort) if child else None,
        "chart": chart,
        "has_chart": has_chart,
        "period_qs": urlencode(period.params),
        "can_refresh": actor_of(user).has(Perm.MANAGE_TARGETS),
        "level_labels": dict(ScopeKind.choices),
    }
    title = _("Dashboard")
    return render(request, "reports/dashboard.html", _context(request, "dashboard", title, context))


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def funnel(request: HttpRequest) -> HttpResponse:
    """The list funnel of the entries listed in the period (this month by default), filtered within the
    viewer's scope, against the period before it and broken down by person, team, sub-branch, pool or
    product."""
    user, today = request.user, timezone.localdate()
    custom, error = d.parse_dates(request.GET)
    period = custom or d.Period(today.replace(day=1), today)
    options = d.filter_options(user)
    filters, errors = d.parse_filters(request.GET, options)
    level = d.viewer_level(user)
    by, by_error = d.parse_by(request.GET, level)
    stages = d.funnel_stages(user, period, filters)
    context = {
        "period": period,
        "previous": period.previous,
        "options": options,
        "filters": filters,
        "errors": [e for e in (error, *errors, by_error) if e],
        "stages": stages,
        "chart": d.funnel_chart(stages),
        "by": by,
        "by_choices": [(c, label) for c, label in BY_LABELS if c != "sub_branch" or options.sub_branches],
        "rows": d.breakdown(user, period, filters, by),
        "drill_qs": urlencode({**period.params, **filters.params}),
    }
    title = _("Funnel")
    return render(request, "reports/funnel.html", _context(request, "funnel", title, context))


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def records(request: HttpRequest) -> HttpResponse:
    """The records behind a figure or a funnel stage, live from the source tables within the viewer's
    scope, 50 to a page; customers' names and phones masked."""
    data = drilldown.drill(request.user, request.GET, timezone.localdate())
    page = None
    if data.rows is not None:
        page = Window(data.rows, request.GET.get("page"), ROWS_PER_PAGE)  # no count: see core/paging.py
    context = {
        "data": data,
        "page": page,
        "can_open": actor_of(request.user).has(Perm.VIEW_CUSTOMERS),
        "stage_choices": FunnelStage.choices,
    }
    title = _("Records behind the figure")
    status = 400 if data.errors else 200
    return render(request, "reports/records.html", _context(request, "", title, context), status=status)
