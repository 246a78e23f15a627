"""PDCA pages: write a Check finding (prefilled from a flagged deviation) and make an Act adjustment.

Thin: the plan is fetched through Plan.objects.for_staff (another branch's plan is 404), the writes are
pdca.write_finding and pdca.make_adjustment, whose coded refusals come back onto the form."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org.models import Staff
from xiaodai.plans import pdca, read
from xiaodai.plans.choices import AdjustmentKind, FindingKind, PlanStatus, ScopeKind
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.figures import FIGURES, quantize
from xiaodai.plans.models import Finding, Plan, Target
from xiaodai.plans.pdca_forms import AdjustmentForm, FindingForm, add_service_error

FLAG_PARAM_MAX = 2000  # a prefill longer than any flag the plan page makes is not one of ours


def _staff(request: HttpRequest) -> Staff:
    staff = getattr(request.user, "staff", None)
    if staff is None:  # require_perm lets no staff-less user this far
        raise Http404
    return staff


def _plan_url(plan: Plan) -> str:
    return reverse("plans:detail", args=[plan.pk]) + "#pdca"


def _page(request: HttpRequest, template: str, plan: Plan, context: dict[str, Any]) -> HttpResponse:
    return render(
        request,
        template,
        {
            "nav": "performance",
            "tab": "plans",
            "refreshed": read.last_refresh(request.user),
            "plan": plan,
            "closed": plan.status != PlanStatus.ACTIVE,
            **context,
        },
    )


def _prefill_flag(raw: str) -> dict[str, Any]:
    """The flag a 'write finding' button carried; anything unreadable prefills nothing."""
    if not raw or len(raw) > FLAG_PARAM_MAX:
        return {}
    try:
        flag = json.loads(raw)
    except ValueError:
        return {}
    return flag if isinstance(flag, dict) else {}


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_TARGETS)
def finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_scoped_or_404(Plan.objects.all(), request.user, pk=pk)
    if request.method == "POST":
        form = FindingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                pdca.write_finding(_staff(request), plan, data["kind"], data["text"], data["flag"])
            except PlanError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("Finding written."))
                return redirect(_plan_url(plan))
        flag = form.cleaned_data.get("flag") or _prefill_flag(request.POST.get("flag", ""))
    else:
        flag = _prefill_flag(request.GET.get("flag", ""))
        kind = request.GET.get("kind", "")
        initial = {
            "kind": kind if kind in FindingKind.values else FindingKind.OTHER,
            "flag": json.dumps(flag, ensure_ascii=False) if flag else "",
        }
        form = FindingForm(initial=initial)
    context = {"form": form, "flag": flag, "flag_summary": pdca.describe(flag) if flag else ""}
    return _page(request, "plans/finding_form.html", plan, context)


def _target_label(t: Target) -> str:
    level = ScopeKind(t.scope).label
    value = quantize(t.figure, t.value)
    return f"{FIGURES[t.figure].label} · {level} {pdca.who_of_target(t)} · {value}"


def _adjustable(request: HttpRequest, plan: Plan) -> list[Target]:
    """The plan's targets in the viewer's scope that an adjustment may change: unsplit, within reach."""
    actor = actor_of(request.user)
    targets = (
        Target.objects.for_staff(request.user)
        .filter(plan=plan)
        .annotate(n_children=Count("children"))
        .filter(n_children=0)
        .select_related("branch", "sub_branch", "team", "staff")
        .order_by("figure", "scope", "id")
    )
    return [t for t in targets if pdca.lead_reaches(actor, t)]


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_TARGETS)
def adjustment_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_scoped_or_404(Plan.objects.all(), request.user, pk=pk)
    actor = actor_of(request.user)
    findings = [f for f in plan.findings.select_related("written_by") if pdca.visible(actor, f.flag or {})]
    finding_choices = [(f.pk, f"#{f.pk} {FindingKind(f.kind).label}: {f.text[:60]}") for f in findings]
    targets = _adjustable(request, plan)
    target_choices = [(t.pk, _target_label(t)) for t in targets]
    if request.method == "POST":
        form = AdjustmentForm(request.POST, findings=finding_choices, targets=target_choices)
        if form.is_valid():
            data = form.cleaned_data
            # Ids are looked up in the viewer's branch and scope only; what is not found is refused below.
            finding = (
                Finding.objects.filter(pk=data["finding"], plan__branch_id=plan.branch_id).first()
                if data["finding"] is not None
                else None
            )
            target = (
                Target.objects.for_staff(request.user).filter(pk=data["target"]).first()
                if data["target"] is not None
                else None
            )
            try:
                if data["target"] is not None and target is None:
                    raise PlanError("bad_target", pdca.MESSAGES["bad_target"])
                pdca.make_adjustment(
                    _staff(request), plan, finding, data["kind"], data["text"], target, data["new_value"]
                )
            except PlanError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("Adjustment made."))
                return redirect(_plan_url(plan))
    else:
        wanted = request.GET.get("finding", "")
        initial: dict[str, Any] = {"kind": AdjustmentKind.TARGET}
        if wanted.isdigit() and int(wanted) in {f.pk for f in findings}:
            initial["finding"] = int(wanted)
        form = AdjustmentForm(initial=initial, findings=finding_choices, targets=target_choices)
    context = {"form": form, "has_findings": bool(findings)}
    return _page(request, "plans/adjustment_form.html", plan, context)


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def deviations(request: HttpRequest, pk: int) -> HttpResponse:
    """The Check part's flagged deviations, loaded by the plan page after itself (htmx)."""
    plan = get_scoped_or_404(Plan.objects.all(), request.user, pk=pk)
    context = pdca.check_context(request.user, plan, timezone.localdate())
    return render(request, "plans/partials/deviations.html", {"plan": plan, **context})
