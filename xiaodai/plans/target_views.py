"""The plans pages: the list of plans (the branch's cycles), a new plan, the plan page with its targets as a
tree per figure (and the PDCA part below), setting one target, and splitting a target across its children.

Thin: the writes are targets.py's services; figures come through read.py only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import ROLE_PERMS, Perm, Role
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.outreach.supervision import CALLER_ROLES
from xiaodai.plans import pdca, read
from xiaodai.plans.choices import Pace, PlanKind, ScopeKind, SplitRule
from xiaodai.plans.deviations import plan_targets
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.figures import FIGURES
from xiaodai.plans.models import Adjustment, Finding, Plan, Target
from xiaodai.plans.target_forms import PlanForm, SplitForm, TargetForm
from xiaodai.plans.targets import (
    Node,
    children,
    create_plan,
    default_period,
    propose,
    reachable,
    save_split,
    set_target,
)
from xiaodai.plans.tree_html import tree_rows

ZERO = Decimal(0)


# --- the plan page's tree ----------------------------------------------------------------------------------


@dataclass
class TreeRow:
    """One unit of one figure's tree: its own target (or the sum of its children's, rolled up) and
    progress so far."""

    node: Node
    depth: int
    target: Target | None
    value: Decimal | None
    actual: Decimal | None
    share: Decimal
    rolled_up: bool = False
    can_set: bool = False
    can_split: bool = False
    children_sum: Decimal | None = None  # what the children's own targets add up to, when any

    # Cached: the tree's template reads each of these more than once per row, on a few hundred rows.
    @cached_property
    def pace(self) -> str:
        return read.pace(self.actual, self.value, self.share)

    @property
    def pace_label(self) -> str:
        return str(Pace(self.pace).label)

    @property
    def pace_class(self) -> str:
        return PACE_BADGE.get(self.pace, "bg-secondary-lt")

    @property
    def bar_class(self) -> str:
        return PACE_BAR.get(self.pace, "")

    @property
    def level_label(self) -> str:
        return str(ScopeKind(self.node.scope).label)

    @property
    def indent(self) -> int:
        return self.depth + 1

    @cached_property
    def done_pct(self) -> Decimal | None:
        if self.actual is None or not self.value:
            return None
        return (self.actual * 100 / self.value).quantize(Decimal("0.1"))

    @property
    def bar(self) -> Decimal:
        return min(self.done_pct or ZERO, Decimal(100))

    @cached_property
    def elapsed_pct(self) -> Decimal:
        return (self.share * 100).quantize(Decimal("0.1"))

    @cached_property
    def split_gap(self) -> Decimal | None:
        """Children's targets less this one, when they do not add up (after an edit on either side)."""
        if self.target is None or self.children_sum is None or self.children_sum == self.value:
            return None
        return self.children_sum - (self.value or ZERO)


PACE_BADGE: dict[str, str] = {Pace.BEHIND: "bg-red-lt", Pace.AHEAD: "bg-green-lt", Pace.ON: "bg-blue-lt"}
PACE_BAR: dict[str, str] = {Pace.BEHIND: " bg-red", Pace.AHEAD: " bg-green"}


@dataclass
class FigureTree:
    figure: str
    label: str
    money: bool
    rows: list[TreeRow]
    html: SafeString | None = None  # the rows' <tr>s, made for the figure the page shows (tree_html.py)


@dataclass
class _Org:
    """The branch's units in memory (three queries), with the children of each unit."""

    names: dict[tuple[str, int], str]
    kids: dict[tuple[str, int], list[tuple[str, int]]]
    front: set[int]  # front-line people (who a split reaches)
    team_of: dict[int, int | None]


def _org(branch_id: int, branch_name: str, extra_staff: set[int]) -> _Org:
    names: dict[tuple[str, int], str] = {(ScopeKind.BRANCH, branch_id): branch_name}
    kids: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    root = (ScopeKind.BRANCH, branch_id)
    for s in SubBranch.objects.filter(branch_id=branch_id).order_by("code").values("id", "name"):
        names[ScopeKind.SUB_BRANCH, s["id"]] = s["name"]
        kids[root].append((ScopeKind.SUB_BRANCH, s["id"]))
    for t in Team.objects.filter(branch_id=branch_id).order_by("name").values("id", "name", "sub_branch_id"):
        names[ScopeKind.TEAM, t["id"]] = t["name"]
        up = (ScopeKind.SUB_BRANCH, t["sub_branch_id"]) if t["sub_branch_id"] else root
        kids[up].append((ScopeKind.TEAM, t["id"]))
    people = Staff.objects.filter(branch_id=branch_id).filter(
        Q(role__in=CALLER_ROLES, user__is_active=True) | Q(pk__in=extra_staff)
    )
    front: set[int] = set()
    team_of: dict[int, int | None] = {}
    for p in people.order_by("employee_no").values("id", "name", "team_id", "sub_branch_id", "role"):
        names[ScopeKind.STAFF, p["id"]] = p["name"]
        team_of[p["id"]] = p["team_id"]
        if p["role"] in CALLER_ROLES:
            front.add(p["id"])
        if p["team_id"]:
            up = (ScopeKind.TEAM, p["team_id"])
        elif p["sub_branch_id"]:
            up = (ScopeKind.SUB_BRANCH, p["sub_branch_id"])
        else:
            up = root
        kids[up].append((ScopeKind.STAFF, p["id"]))
    return _Org(names, kids, front, team_of)


def plan_tree(
    staff: Staff, plan: Plan, today: dt.date, progressed: list[read.Progress] | None = None
) -> list[FigureTree]:
    """Per figure, the viewer's part of the hierarchy with every target in their scope; a unit without its
    own target shows the sum of its children's, marked rolled up. A handful of queries, whatever the
    number of targets. `progressed`: the targets' progress when the caller has read it already."""
    if progressed is None:
        progressed = read.progress(staff.user, plan_targets(staff.user, plan), today)
    targets = [p.target for p in progressed]
    if not targets:
        return []
    progress = {p.target.pk: p for p in progressed}
    own = {(t.figure, t.scope, t.scope_id): t for t in targets}
    org = _org(plan.branch_id, str(staff.branch.name), {t.staff_id for t in targets if t.staff_id})
    if staff.role == Role.BRANCH_HEAD:
        root = (ScopeKind.BRANCH, plan.branch_id)
    elif staff.role == Role.TEAM_LEAD and staff.team_id is not None:
        root = (ScopeKind.TEAM, staff.team_id)
    else:
        root = (ScopeKind.STAFF, staff.pk)
    share = read.elapsed_share(plan.starts_on, plan.ends_on, today)
    manages = Perm.MANAGE_TARGETS in ROLE_PERMS.get(staff.role, frozenset()) and plan.status == "active"

    def reach(unit: tuple[str, int]) -> bool:
        if not manages:
            return False
        if staff.role == Role.BRANCH_HEAD:
            return True
        if unit[0] == ScopeKind.TEAM:
            return unit[1] == staff.team_id
        return unit[0] == ScopeKind.STAFF and org.team_of.get(unit[1]) == staff.team_id

    def walk(figure: str, unit: tuple[str, int], depth: int) -> list[TreeRow]:
        below: list[TreeRow] = []
        direct: list[TreeRow] = []
        for kid in org.kids.get(unit, []):
            rows = walk(figure, kid, depth + 1)
            if rows:
                direct.append(rows[0])
                below.extend(rows)
        target = own.get((figure, unit[0], unit[1]))
        if target is None and not direct:
            return []
        sums = [r.value for r in direct if r.value is not None]
        actuals = [r.actual for r in direct if r.actual is not None]
        # Only a split promises that the parts add up; targets set one by one below may cover part of it.
        kid_targets = [r.value for r in direct if r.target is not None and r.target.split_rule and r.value]
        split_to = any(k[0] != ScopeKind.STAFF or k[1] in org.front for k in org.kids.get(unit, []))
        row = TreeRow(
            node=Node(unit[0], unit[1], org.names.get(unit, "")),
            depth=depth,
            target=target,
            value=target.value if target else sum(sums, ZERO),
            actual=progress[target.pk].actual if target else (sum(actuals, ZERO) if actuals else None),
            share=share,
            rolled_up=target is None,
            can_set=reach(unit),
            can_split=target is not None and reach(unit) and split_to,
            children_sum=sum(kid_targets, ZERO) if kid_targets else None,
        )
        return [row, *below]

    out = []
    for code in FIGURES:
        if any(t.figure == code for t in targets):
            rows = walk(code, root, 0)
            if rows:
                out.append(FigureTree(code, FIGURES[code].label, FIGURES[code].money, rows))
    return out


# --- the pages ---------------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> Staff:
    """The staff behind the request (require_perm has made sure there is one)."""
    return Staff.objects.select_related("branch", "team", "user").get(pk=actor_of(request.user).staff_id)


def _header(request: HttpRequest, title: str) -> dict[str, Any]:
    return {
        "nav": "performance",
        "tab": "plans",
        "title": title,
        "refreshed": read.last_refresh(request.user),
    }


def _count(model_qs: Any) -> Coalesce:
    """A per-plan count as a subquery (three joined counts would multiply each other's rows)."""
    return Coalesce(
        Subquery(model_qs.filter(plan=OuterRef("pk")).values("plan").annotate(n=Count("pk")).values("n")), 0
    )


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def plan_list(request: HttpRequest) -> HttpResponse:
    """The branch's plans, newest first: each cycle with its targets (in the viewer's scope), findings and
    adjustments counted (one query)."""
    plans = (
        Plan.objects.for_staff(request.user)
        .annotate(
            n_targets=_count(Target.objects.for_staff(request.user)),
            n_findings=_count(Finding.objects.all()),
            n_adjustments=_count(Adjustment.objects.all()),
        )
        .order_by("-starts_on", "-id")
    )
    context = {
        **_header(request, _("Plans and PDCA")),
        "plans": plans,
        "can_create": actor_of(request.user).role == Role.BRANCH_HEAD,
        "today": timezone.localdate(),
    }
    return render(request, "plans/list.html", context)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_TARGETS)
def plan_create(request: HttpRequest) -> HttpResponse:
    """A new plan (head only: a team lead is told so). ?kind=quarter prefills this quarter's dates."""
    staff = _staff(request)
    kind = request.GET.get("kind", PlanKind.MONTH)
    if kind not in PlanKind.values:
        kind = PlanKind.MONTH
    start, end = default_period(kind, timezone.localdate())
    form = PlanForm(request.POST or None, initial={"kind": kind, "starts_on": start, "ends_on": end})
    head_only = staff.role != Role.BRANCH_HEAD
    if request.method == "POST" and form.is_valid():
        try:
            plan = create_plan(staff, form.cleaned_data)
        except PlanError as err:
            form.add_error(_field_of(err.code), err.message)
        else:
            messages.success(
                request, _("Plan “%(name)s” created: now set its targets.") % {"name": plan.name}
            )
            return redirect("plans:detail", pk=plan.pk)
    context = {
        **_header(request, _("New plan")),
        "form": form,
        "head_only": head_only,
        "kinds": PlanKind.choices,
        "kind": kind,
    }
    return render(request, "plans/plan_form.html", context)


def _field_of(code: str) -> str | None:
    return {"bad_period": "ends_on", "too_long": "ends_on", "no_name": "name", "bad_kind": "kind"}.get(code)


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan page: the plan, each figure's targets as a tree with progress and pace, then PDCA."""
    plan = get_scoped_or_404(Plan.objects.select_related("created_by"), request.user, pk=pk)
    staff = _staff(request)
    today = timezone.localdate()
    # The plan's targets and their progress are read once for the tree and the PDCA part below it.
    progressed = read.progress(request.user, plan_targets(request.user, plan), today)
    trees = plan_tree(staff, plan, today, progressed)
    # One figure's tree at a time: a branch of 200 people has about 2,000 targets in a plan, and a page of
    # them all is slow to render and to read. The tabs carry each figure's top line.
    chosen = request.GET.get("figure", "")
    shown = [t for t in trees if t.figure == chosen] or trees[:1]
    for tree in shown:
        tree.html = tree_rows(tree, plan.pk)
    manages = Perm.MANAGE_TARGETS in ROLE_PERMS.get(staff.role, frozenset())
    context = {
        **_header(request, plan.name),
        "plan": plan,
        "trees": shown,
        "tabs": [(t, t.rows[0] if t.rows else None) for t in trees],
        "shown_figure": shown[0].figure if shown else "",
        "can_set": manages and plan.status == "active",
        "share_pct": (read.elapsed_share(plan.starts_on, plan.ends_on, today) * 100).quantize(Decimal("0.1")),
        "days": (plan.ends_on - plan.starts_on).days + 1,
        "today": today,
    }
    context.update(pdca.cycle_context(request.user, plan, today, progressed, defer_check=True))
    return render(request, "plans/plan_detail.html", context)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_TARGETS)
def target_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Set one target of a plan: who (within the setter's reach), which figure, how much."""
    plan = get_scoped_or_404(Plan.objects.all(), request.user, pk=pk)
    staff = _staff(request)
    nodes = reachable(staff)
    initial = {k: request.GET[k] for k in ("unit", "figure") if k in request.GET}
    if "unit" in initial and "figure" in initial:
        current = _current(plan, initial["unit"], initial["figure"])
        if current is not None:
            initial["value"] = str(current)
    form = TargetForm(nodes, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        scope, _sep, obj_id = form.cleaned_data["unit"].partition(":")
        try:
            target = set_target(
                staff, plan, scope, int(obj_id), form.cleaned_data["figure"], form.cleaned_data["value"]
            )
        except PlanError as err:
            form.add_error("value" if err.code in ("negative", "not_whole") else None, err.message)
        else:
            messages.success(
                request,
                _("Target set: %(figure)s %(value)s.")
                % {"figure": FIGURES[target.figure].label, "value": target.value},
            )
            return redirect("plans:detail", pk=plan.pk)
    context = {**_header(request, plan.name), "plan": plan, "form": form, "nodes": nodes}
    return render(request, "plans/target_form.html", context)


def _current(plan: Plan, unit: str, figure: str) -> Decimal | None:
    scope, _sep, raw = unit.partition(":")
    if scope not in ScopeKind.values or not raw.isdigit():
        return None
    column = {"branch": "branch_id", "sub_branch": "sub_branch_id", "team": "team_id", "staff": "staff_id"}
    t = Target.objects.filter(plan=plan, figure=figure, scope=scope, **{column[scope]: int(raw)}).first()
    return t.value if t else None


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_TARGETS)
def target_split(request: HttpRequest, pk: int) -> HttpResponse:
    """Split a target: choose a rule, see the proposal per child (editable), save. The parts must add up."""
    target = get_scoped_or_404(Target.objects.select_related("plan"), request.user, pk=pk)
    staff = _staff(request)
    rule = request.POST.get("rule") or request.GET.get("rule") or SplitRule.EVEN
    if rule not in SplitRule.values:
        rule = SplitRule.EVEN
    money = FIGURES[target.figure].money
    error: str | None = None
    proposal = None
    kids = children(target.branch_id, target.scope, target.scope_id)
    form: SplitForm | None = None
    if request.method == "POST":
        form = SplitForm(kids, money, request.POST)
        if form.is_valid():
            try:
                save_split(staff, target, form.parts(), form.cleaned_data["rule"])
            except PlanError as err:
                error = err.message
            else:
                messages.success(request, _("Target split across %(n)s units.") % {"n": len(kids)})
                return redirect("plans:detail", pk=target.plan_id)
    else:
        try:
            proposal = propose(
                staff, target, rule if rule != SplitRule.MANUAL else SplitRule.EVEN, timezone.localdate()
            )
        except PlanError as err:
            error = err.message
        else:
            initial: dict[str, Any] = {"rule": rule}
            existing = {f"{t.scope}:{t.scope_id}": t.value for t in Target.objects.filter(parent=target)}
            for node, value in proposal.rows:
                initial[SplitForm.field_name(node)] = (
                    existing.get(node.key, value) if rule == SplitRule.MANUAL else value
                )
            form = SplitForm(kids, money, initial=initial)
    context = {
        **_header(request, target.plan.name),
        "target": target,
        "plan": target.plan,
        "who": _name(target),
        "figure": FIGURES[target.figure],
        "rule": rule,
        "rules": [(v, lbl) for v, lbl in SplitRule.choices],
        "proposal": proposal,
        "form": form,
        "error": error,
    }
    return render(request, "plans/split.html", context)


def _name(target: Target) -> str:
    if target.scope == ScopeKind.BRANCH:
        return str(target.branch)
    model: Any = {"sub_branch": SubBranch, "team": Team, "staff": Staff}[target.scope]
    obj = model.objects.filter(pk=target.scope_id).first()
    return obj.name if obj else ""
