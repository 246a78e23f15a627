"""Competition pages (劳动竞赛): the list (running and past), a new competition, the live leaderboard with its
points chart (the final ranking once finalised), and finalising.

Thin: competitions are fetched through Competition.objects.for_staff (branch-wide; another branch's is 404)
and written through xiaodai.plans.competitions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org.models import Staff, Team
from xiaodai.outreach.supervision import CALLER_ROLES
from xiaodai.plans import competitions as svc
from xiaodai.plans import read
from xiaodai.plans.choices import CompetitionStatus, ParticipantKind
from xiaodai.plans.competition_forms import CompetitionForm, RuleFormSet, rule_specs
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import Competition


def _staff(request: HttpRequest) -> Staff:
    staff = getattr(request.user, "staff", None)
    if staff is None:  # require_perm lets no staff-less user this far
        raise Http404
    return staff


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(
        request,
        template,
        {
            "nav": "performance",
            "tab": "competitions",
            "refreshed": read.last_refresh(request.user),
            **context,
        },
    )


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def competition_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = list(
        Competition.objects.for_staff(request.user)
        .annotate(
            n_staff=Count("staff", distinct=True),
            n_teams=Count("teams", distinct=True),
            n_rules=Count("rules", distinct=True),
        )
        .order_by("-starts_on", "-id")
    )
    running = [c for c in rows if c.status == CompetitionStatus.OPEN and c.ends_on >= today]
    past = [c for c in rows if c not in running]
    context = {
        "sections": [
            ("running", _("Running and coming up"), "ti-flame text-orange", running),
            ("past", _("Past"), "ti-history", past),
        ],
        "today": today,
        "can_manage": actor_of(request.user).has(Perm.MANAGE_TARGETS),
    }
    return _page(request, "plans/competitions.html", context)


def _candidates(request: HttpRequest) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Who may be ticked: the head's branch, a lead's team (Staff/Team.objects.for_staff)."""
    people = (
        Staff.objects.for_staff(request.user)
        .filter(role__in=CALLER_ROLES, user__is_active=True)
        .select_related("team")
        .order_by("team__name", "name")
    )
    teams = Team.objects.for_staff(request.user).order_by("name")
    return (
        [(s.pk, f"{s.name}（{s.team.name}）" if s.team else s.name) for s in people],
        [(t.pk, t.name) for t in teams],
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_TARGETS)
def competition_create(request: HttpRequest) -> HttpResponse:
    people, teams = _candidates(request)
    error = ""
    if request.method == "POST":
        form = CompetitionForm(request.POST, people=people, teams=teams)
        rules = RuleFormSet(request.POST, prefix="rules")
        if form.is_valid() and rules.is_valid():
            try:
                competition = svc.create_competition(
                    _staff(request), form.cleaned_data, form.participants(), rule_specs(rules)
                )
            except PlanError as err:
                error = err.message
            else:
                messages.success(request, _("Competition created."))
                return redirect("plans:competition", pk=competition.pk)
    else:
        today = timezone.localdate()
        form = CompetitionForm(
            initial={"starts_on": today, "participant_kind": ParticipantKind.STAFF},
            people=people,
            teams=teams,
        )
        rules = RuleFormSet(prefix="rules")
    context = {"form": form, "rules": rules, "error": error}
    return _page(request, "plans/competition_form.html", context)


def _chart(board: svc.Leaderboard) -> dict[str, Any]:
    """ECharts option: points per participant, best on top, my bar highlighted."""
    rows = list(reversed(board.rows))
    return {
        "grid": {"left": 8, "right": 24, "top": 8, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": [f"{r.rank}. {r.name}" for r in rows]},
        "series": [
            {
                "type": "bar",
                "name": _("Points"),
                "data": [
                    {"value": float(r.points), "itemStyle": {"color": "#f76707" if r.me else "#206bc4"}}
                    for r in rows
                ],
                "label": {"show": True, "position": "right"},
            }
        ],
    }


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def competition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    competition = get_scoped_or_404(Competition.objects.select_related("created_by"), request.user, pk=pk)
    today = timezone.localdate()
    me = getattr(request.user, "staff", None)
    final = competition.status == CompetitionStatus.FINAL
    board = svc.final_board(competition, me) if final else svc.leaderboard(competition, today, me)
    actor = actor_of(request.user)
    context = {
        "competition": competition,
        "board": board,
        "chart": _chart(board),
        "ended": today > competition.ends_on,
        "can_finalise": actor.has(Perm.MANAGE_TARGETS) and not final and today > competition.ends_on,
    }
    return _page(request, "plans/competition.html", context)


@require_POST
@require_perm(Perm.MANAGE_TARGETS)
def competition_finalise(request: HttpRequest, pk: int) -> HttpResponse:
    competition = get_scoped_or_404(Competition.objects.all(), request.user, pk=pk)
    try:
        svc.finalise_competition(_staff(request), competition, timezone.localdate())
    except PlanError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("The final ranking is frozen."))
    return redirect("plans:competition", pk=competition.pk)
