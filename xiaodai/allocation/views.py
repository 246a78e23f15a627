"""Claim and allocation pages: the claimable list, my claims, hand-off, bulk allocation with its preview,
the batch history and the claim settings. Thin: reads through selectors, writes through services."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaodai.allocation import choices as c
from xiaodai.allocation import selectors, services
from xiaodai.allocation.exceptions import AllocationError, OverCapacity
from xiaodai.allocation.forms import AllocationForm, ChannelHandOffForm, ClaimPolicyForm, HandOffForm
from xiaodai.allocation.models import AllocationBatch, Assignment
from xiaodai.allocation.planning import AllocationParams, Plan, new_seed, plan_allocation
from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.pools import rules as r
from xiaodai.pools.selectors import latest_run

PER_PAGE = 50


def _staff(request: HttpRequest) -> Staff:
    return request.user.staff  # type: ignore[union-attr]  # require_perm: a staff record exists


def _id(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text) or None


def _back(request: HttpRequest, default: str) -> str:
    """Where a form posted from a list goes back to: a local address only."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- claims -------------------------------------------------------------------------------------------


@require_GET
@require_perm(Perm.CLAIM_CUSTOMERS)
def claimable(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request.user)
    pool = request.GET.get("pool", "")
    pool = pool if pool in r.POOL_CODES else ""
    sort = request.GET.get("sort", "")
    sort = sort if sort in selectors.CLAIMABLE_SORTS else selectors.DEFAULT_SORT
    sub_branch = _id(request.GET.get("sub_branch"))
    flt = selectors.ClaimFilter(pool=pool, sub_branch=sub_branch, sort=sort)
    rows = selectors.claimable_page_rows(request.user, pool=pool, sub_branch=sub_branch, sort=sort)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    policy = services.claim_policy(actor.branch_id or 0)
    subs = SubBranch.objects.filter(branch_id=actor.branch_id or 0).order_by("code")
    if selectors.below_branch(actor):
        subs = subs.filter(pk=actor.sub_branch_id or 0)
    context = {
        "nav": "allocation",
        "run": latest_run(request.user),
        "page": page,
        "flt": flt,
        "pools": r.POOLS,
        "sub_branches": subs,
        "open_claims": selectors.open_claims(actor.staff_id or 0),
        "policy": policy,
    }
    return render(request, "allocation/claimable.html", context)


@require_POST
@require_perm(Perm.CLAIM_CUSTOMERS)
def claim(request: HttpRequest) -> HttpResponse:
    ids = [i for i in (_id(v) for v in request.POST.getlist("customer")) if i is not None]
    pool = request.POST.get("pool", "")
    pool = pool if pool in r.POOL_CODES else ""
    back = _back(request, reverse("allocation:claimable"))
    try:
        results = services.claim_customers(_staff(request), ids, pool=pool)
    except AllocationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    won = sum(1 for res in results if res.ok)
    if won:
        messages.success(
            request, ngettext("Claimed %(n)s customer.", "Claimed %(n)s customers.", won) % {"n": won}
        )
    refused = Counter(res.message for res in results if not res.ok)
    if refused:
        reasons = "; ".join(f"{msg} ({n})" for msg, n in refused.items())
        count = sum(refused.values())
        messages.warning(
            request,
            ngettext(
                "%(n)s customer not claimed: %(reasons)s",
                "%(n)s customers not claimed: %(reasons)s",
                count,
            )
            % {"n": count, "reasons": reasons},
        )
    return redirect(back)


@require_GET
@require_perm(Perm.WORK_CALLS)
def mine(request: HttpRequest) -> HttpResponse:
    wide = selectors.sees_beyond_own(request.user) and request.GET.get("all") == "1"
    rows = selectors.assignments(request.user, mine=not wide)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    actor = actor_of(request.user)
    context = {
        "nav": "allocation",
        "page": page,
        "wide": wide,
        "can_widen": selectors.sees_beyond_own(request.user),
        "open_claims": selectors.open_claims(actor.staff_id or 0),
        "policy": services.claim_policy(actor.branch_id or 0),
    }
    return render(request, "allocation/mine.html", context)


@require_POST
@require_perm(Perm.WORK_CALLS)
def release(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_scoped_or_404(Assignment.objects.all(), request.user, pk=pk)
    try:
        services.release_claim(assignment, _staff(request), request.POST.get("reason", ""))
    except AllocationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Released: the customer is back in the pool."))
    return redirect(_back(request, reverse("allocation:mine")))


@require_http_methods(["GET", "POST"])
@require_perm(Perm.WORK_CALLS)
def handoff(request: HttpRequest, pk: int) -> HttpResponse:
    queryset = Assignment.objects.select_related("customer", "staff", "staff__team")
    assignment = get_scoped_or_404(queryset, request.user, pk=pk)
    form = HandOffForm(assignment, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            to, note, deadline = data["to_staff"], data["note"], data["deadline"]
            new = services.hand_off(assignment, to, note, deadline, _staff(request))
        except AllocationError as exc:
            field = {"note_required": "note", "deadline_past": "deadline", "deadline_required": "deadline"}
            form.add_error(field.get(exc.code, "to_staff" if "receiver" in exc.code else None), exc.message)
        else:
            messages.success(
                request,
                _("Handed over to %(name)s, due %(day)s.") % {"name": new.staff.name, "day": new.deadline},
            )
            return redirect("allocation:mine")
    context = {"nav": "allocation", "assignment": assignment, "form": form}
    return render(request, "allocation/handoff.html", context)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CLAIM_CUSTOMERS)
def handoff_channel(request: HttpRequest) -> HttpResponse:
    """A strike team hands a channel (an enterprise and its customers they work) to a follow-up person."""
    staff = _staff(request)
    form = ChannelHandOffForm(request.user, staff.branch_id, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.hand_off_channel(
                data["enterprise"].pk, data["to_staff"], data["note"], data["deadline"], staff
            )
        except AllocationError as exc:
            field = {"note_required": "note", "deadline_past": "deadline", "deadline_required": "deadline"}
            form.add_error(field.get(exc.code, "to_staff" if "receiver" in exc.code else None), exc.message)
        else:
            messages.success(
                request,
                _("%(n)s customers of %(channel)s handed over to %(name)s, due %(day)s.")
                % {
                    "n": len(new),
                    "channel": data["enterprise"].name,
                    "name": data["to_staff"].name,
                    "day": data["deadline"],
                },
            )
            return redirect("allocation:mine")
    status = 400 if request.method == "POST" else 200
    context = {"nav": "allocation", "form": form}
    return render(request, "allocation/handoff_channel.html", context, status=status)


# --- bulk allocation -------------------------------------------------------------------------------------


def _fingerprint(params: AllocationParams, seed: int) -> str:
    """What the preview showed; a commit whose settings changed since is sent back to a new preview."""
    text = json.dumps(params.as_json() | {"seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ALLOCATE)
def allocate(request: HttpRequest) -> HttpResponse:
    form = AllocationForm(request.user, request.POST or None)
    plan: Plan | None = None
    seed = _id(request.POST.get("seed")) or new_seed()
    fingerprint = ""
    if request.method == "POST" and form.is_valid():
        params = form.params()
        fingerprint = _fingerprint(params, seed)
        wants_commit = "commit" in request.POST
        try:
            if wants_commit and request.POST.get("previewed") == fingerprint:
                batch = services.allocate_customers(_staff(request), params, seed=seed)
                messages.success(
                    request,
                    _("Allocated %(n)s customers (%(held)s held back as the control group).")
                    % {"n": batch.allocated, "held": batch.held_back},
                )
                return redirect("allocation:batch", pk=batch.pk)
            if wants_commit:
                messages.warning(
                    request, _("The settings changed since the preview: check this preview and commit again.")
                )
            plan = plan_allocation(_staff(request), params, seed=seed)
        except OverCapacity as exc:
            messages.error(request, exc.message)
            plan = plan_allocation(_staff(request), params, seed=seed)
        except AllocationError as exc:
            form.add_error(None, exc.message)
    context = {
        "nav": "allocation",
        "form": form,
        "plan": plan,
        "seed": seed,
        "fingerprint": fingerprint,
        "run": latest_run(request.user),
    }
    return render(request, "allocation/allocate.html", context)


@require_GET
@require_perm(Perm.ALLOCATE)
def batches(request: HttpRequest) -> HttpResponse:
    rows = AllocationBatch.objects.for_staff(request.user).select_related("created_by")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "allocation/batches.html", {"nav": "allocation", "page": page})


def _described(batch: AllocationBatch) -> list[tuple[str, str]]:
    """The batch's parameters in words (names for the ids, within the batch's branch)."""
    p = batch.params
    in_branch = {"branch_id": batch.branch_id}
    names = dict(Staff.objects.filter(pk__in=p.get("people", []), **in_branch).values_list("pk", "name"))
    teams = dict(Team.objects.filter(pk__in=p.get("teams", []), **in_branch).values_list("pk", "name"))
    sub = SubBranch.objects.filter(branch_id=batch.branch_id, pk=p.get("sub_branch") or 0).first()
    pool = r.BY_CODE.get(p.get("pool") or "")
    band = [f"≥ {float(p['prob_min']):.0%}" if p.get("prob_min") is not None else ""]
    band += [f"≤ {float(p['prob_max']):.0%}" if p.get("prob_max") is not None else ""]
    share = p.get("control_share")
    rows = [
        (_("Pool"), str(pool.name) if pool else _("All pools")),
        (_("Sub-branch"), sub.name if sub else _("All")),
        (_("Chance"), " ".join(b for b in band if b) or "—"),
        (_("Expected value at least (yuan)"), p.get("ev_min") or "—"),
        (_("Only customers not contacted before"), _("yes") if p.get("only_unworked") else _("no")),
        (_("Named people"), ", ".join(names.get(i, f"#{i}") for i in p.get("people", [])) or "—"),
        (_("Teams"), ", ".join(teams.get(i, f"#{i}") for i in p.get("teams", [])) or "—"),
        (_("Calls per person per day"), str(p.get("capacity") or _("each person's own"))),
        (_("Working days"), str(p.get("days", ""))),
        (_("Control group (%)"), f"{float(share) * 100:g}" if share is not None else "—"),
        (_("Cap at capacity"), _("yes") if p.get("cap") else _("no")),
    ]
    return rows


@require_GET
@require_perm(Perm.ALLOCATE)
def batch(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_scoped_or_404(AllocationBatch.objects.select_related("created_by"), request.user, pk=pk)
    people = (
        Assignment.objects.filter(batch=item)
        .values("staff_id", "staff__name", "staff__team__name")
        .annotate(
            n=Count("id"),
            held=Count("id", filter=Q(control=True)),
            active=Count("id", filter=Q(status=c.Status.ACTIVE)),
            contacted=Count("id", filter=Q(last_contact_at__isnull=False)),
        )
        .order_by("staff__team__name", "staff__name")
    )
    context: dict[str, Any] = {
        "nav": "allocation",
        "batch": item,
        "people": list(people),
        "described": _described(item),
    }
    return render(request, "allocation/batch.html", context)


# --- settings -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_CONTACT_RULES)
def settings(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    policy = services.claim_policy(staff.branch_id)
    form = ClaimPolicyForm(policy, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_claim_policy(staff.branch_id, by=staff, **form.values())
        except AllocationError as exc:
            form.add_error(None, exc.message)
        else:
            if saved.version == policy.version:
                messages.info(request, _("Nothing changed: the settings already have these values."))
            else:
                messages.success(request, _("Claim settings saved as version %(v)s.") % {"v": saved.version})
            return redirect("allocation:settings")
    context = {"nav": "allocation", "form": form, "policy": policy}
    return render(request, "allocation/settings.html", context)
