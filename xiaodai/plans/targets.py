"""Plans and their SMART targets: create a plan, set a target, propose and save a split, and the hierarchy a
target is split down (branch → sub-branch → team → person).

Every write is atomic and audited and refuses bad input with a coded PlanError, changing nothing.

Reach: the branch head may set and split anything in the branch; a team lead only their own team's target
and their people's; only the head creates plans. Anything else is refused as "out_of_reach".
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.roles import ROLE_PERMS, Perm, Role
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.outreach.supervision import CALLER_ROLES
from xiaodai.plans import read, tasks
from xiaodai.plans.choices import PlanKind, ScopeKind, SplitRule
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.figures import FIGURES
from xiaodai.plans.models import Plan, Target
from xiaodai.pools.models import PoolMember
from xiaodai.pools.selectors import latest_run

MAX_PERIOD_DAYS = 366
ZERO = Decimal(0)

MESSAGES = {
    "negative": _("A target cannot be negative."),
    "not_whole": _("%(figure)s is a count: give a whole number."),
    "not_a_number": _("The target must be a number."),
    "unknown_figure": _("Unknown figure: %(figure)s."),
    "bad_period": _("The plan ends before it starts."),
    "too_long": _("A plan covers at most %(days)s days."),
    "overlap": _(
        "%(who)s already has a %(figure)s target in the plan “%(plan)s” (%(start)s to %(end)s), whose period "
        "overlaps this one."
    ),
    "split_mismatch": _(
        "The parts add up to %(total)s, not the target %(target)s (difference %(difference)s)."
    ),
    "not_a_child": _("%(key)s is not directly under this target's level."),
    "no_children": _("Nobody is under this target to split it to."),
    "out_of_reach": _("That is outside what you may set targets for."),
    "head_only": _("Only the branch head creates plans."),
    "bad_kind": _("Unknown plan kind."),
    "no_name": _("Give the plan a name."),
    "bad_scope": _("Unknown level or unit."),
    "bad_rule": _("Unknown split rule."),
    "plan_closed": _("This plan is closed: its targets can no longer change."),
}


def _err(code: str, **params: Any) -> PlanError:
    return PlanError(code, MESSAGES[code], **params)


# --- the hierarchy ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One unit targets are set at: its level, id and display name."""

    scope: str
    obj_id: int
    name: str

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.obj_id}"


def parse_key(key: str) -> tuple[str, int]:
    """'team:3' → ('team', 3); anything else raises bad_scope."""
    scope, _sep, raw = str(key).partition(":")
    if scope not in ScopeKind.values or not raw.isdigit():
        raise _err("bad_scope")
    return scope, int(raw)


def front_line(branch_id: int) -> Any:
    """Active people who carry a personal target: the front-line roles (the branch head excluded)."""
    return Staff.objects.filter(branch_id=branch_id, role__in=CALLER_ROLES, user__is_active=True)


def children(branch_id: int, scope: str, obj_id: int) -> list[Node]:
    """The units directly under one: a branch's sub-branches and its teams without a sub-branch; a
    sub-branch's teams and its front-line people without a team; a team's front-line members."""
    if scope == ScopeKind.BRANCH:
        subs = SubBranch.objects.filter(branch_id=branch_id).order_by("code")
        teams = Team.objects.filter(branch_id=branch_id, sub_branch__isnull=True).order_by("name")
        return [Node(ScopeKind.SUB_BRANCH, s.pk, s.name) for s in subs] + [
            Node(ScopeKind.TEAM, t.pk, t.name) for t in teams
        ]
    if scope == ScopeKind.SUB_BRANCH:
        teams = Team.objects.filter(branch_id=branch_id, sub_branch_id=obj_id).order_by("name")
        loose = front_line(branch_id).filter(sub_branch_id=obj_id, team__isnull=True).order_by("employee_no")
        return [Node(ScopeKind.TEAM, t.pk, t.name) for t in teams] + [
            Node(ScopeKind.STAFF, p.pk, p.name) for p in loose
        ]
    if scope == ScopeKind.TEAM:
        people = front_line(branch_id).filter(team_id=obj_id).order_by("employee_no")
        return [Node(ScopeKind.STAFF, p.pk, p.name) for p in people]
    return []


def node_of(branch_id: int, scope: str, obj_id: int) -> Node:
    """The unit behind (scope, id), which must belong to the branch (else bad_scope)."""
    found: Any = None
    if scope == ScopeKind.BRANCH:
        found = obj_id == branch_id and Node(scope, obj_id, "")
    elif scope == ScopeKind.SUB_BRANCH:
        found = SubBranch.objects.filter(pk=obj_id, branch_id=branch_id).first()
    elif scope == ScopeKind.TEAM:
        found = Team.objects.filter(pk=obj_id, branch_id=branch_id).first()
    elif scope == ScopeKind.STAFF:
        found = Staff.objects.filter(pk=obj_id, branch_id=branch_id).first()
    if not found:
        raise _err("bad_scope")
    return found if isinstance(found, Node) else Node(scope, obj_id, found.name)


def reachable(staff: Staff) -> list[Node]:
    """Every unit the person may set a target for (the set-target form's choices), widest first."""
    branch_id = staff.branch_id
    if staff.role == Role.BRANCH_HEAD:
        out = [Node(ScopeKind.BRANCH, branch_id, str(staff.branch.name))]
        out += [
            Node(ScopeKind.SUB_BRANCH, s.pk, s.name)
            for s in SubBranch.objects.filter(branch_id=branch_id).order_by("code")
        ]
        out += [Node(ScopeKind.TEAM, t.pk, t.name) for t in Team.objects.filter(branch_id=branch_id)]
        out += [Node(ScopeKind.STAFF, p.pk, p.name) for p in front_line(branch_id).order_by("employee_no")]
        return out
    if staff.role == Role.TEAM_LEAD and staff.team_id is not None:
        team = Node(ScopeKind.TEAM, staff.team_id, staff.team.name if staff.team else "")
        return [team, *children(branch_id, ScopeKind.TEAM, staff.team_id)]
    return []


def in_reach(staff: Staff, branch_id: int, scope: str, obj_id: int) -> bool:
    """May this person set (or split) the target of that unit?"""
    if staff.branch_id != branch_id or Perm.MANAGE_TARGETS not in ROLE_PERMS.get(staff.role, frozenset()):
        return False
    if staff.role == Role.BRANCH_HEAD:
        return True
    if staff.team_id is None:
        return False
    if scope == ScopeKind.TEAM:
        return obj_id == staff.team_id
    if scope == ScopeKind.STAFF:
        return Staff.objects.filter(pk=obj_id, team_id=staff.team_id).exists()
    return False


def _check_reach(staff: Staff, branch_id: int, scope: str, obj_id: int) -> None:
    if not in_reach(staff, branch_id, scope, obj_id):
        raise _err("out_of_reach")


# --- values ------------------------------------------------------------------------------------------------


def clean_value(figure: str, raw: Any) -> Decimal:
    """A target value in its figure's unit: yuan to the fen (rounded), a count whole (fractions refused)."""
    if figure not in FIGURES:
        raise _err("unknown_figure", figure=figure)
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise _err("not_a_number") from None
    if not value.is_finite():
        raise _err("not_a_number")
    if value < 0:
        raise _err("negative")
    if FIGURES[figure].money:
        return value.quantize(Decimal("0.01"), ROUND_HALF_UP)
    if value != value.to_integral_value():
        raise _err("not_whole", figure=FIGURES[figure].label)
    return value.quantize(Decimal("1"))


def _unit(figure: str) -> Decimal:
    return Decimal("0.01") if FIGURES[figure].money else Decimal("1")


# --- plans -------------------------------------------------------------------------------------------------


def default_period(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """This month or this quarter (a campaign defaults to the rest of this month)."""
    if kind == PlanKind.QUARTER:
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = dt.date(today.year, first_month, 1)
        last_month = first_month + 2
        return start, dt.date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
    start = today.replace(day=1) if kind == PlanKind.MONTH else today
    return start, today.replace(day=calendar.monthrange(today.year, today.month)[1])


def check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise _err("bad_period")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise _err("too_long", days=MAX_PERIOD_DAYS)


@transaction.atomic
def create_plan(staff: Staff, data: dict[str, Any]) -> Plan:
    """A new plan of the head's branch: name, kind, period, resources and actions committed."""
    if staff.role != Role.BRANCH_HEAD:
        raise _err("head_only")
    name = str(data.get("name") or "").strip()
    if not name:
        raise _err("no_name")
    kind = data.get("kind")
    if kind not in PlanKind.values:
        raise _err("bad_kind")
    start, end = data["starts_on"], data["ends_on"]
    check_period(start, end)
    plan = Plan.objects.create(
        branch_id=staff.branch_id,
        name=name,
        kind=kind,
        starts_on=start,
        ends_on=end,
        resources=str(data.get("resources") or "").strip(),
        actions=str(data.get("actions") or "").strip(),
        created_by=staff,
    )
    record(
        Action.PLAN_SAVE,
        user=staff.user,
        obj=plan,
        detail={"kind": kind, "starts_on": start.isoformat(), "ends_on": end.isoformat()},
    )
    # Its Check part's funnel flags, worked out in the background rather than on its first page views.
    transaction.on_commit(lambda: tasks.keep_plan_flags(plan.pk))
    return plan


# --- targets -----------------------------------------------------------------------------------------------


COLUMN = {
    ScopeKind.BRANCH: "branch_id",
    ScopeKind.SUB_BRANCH: "sub_branch_id",
    ScopeKind.TEAM: "team_id",
    ScopeKind.STAFF: "staff_id",
}


def _unit_filter(scope: str, obj_id: int) -> dict[str, Any]:
    return {"scope": scope, COLUMN[ScopeKind(scope)]: obj_id}


def _check_overlap(plan: Plan, scope: str, obj_id: int, figure: str, who: str) -> None:
    """A unit's figure may have one target at a time: no target in another plan whose period overlaps."""
    clash = (
        Target.objects.filter(figure=figure, **_unit_filter(scope, obj_id))
        .filter(branch_id=plan.branch_id)
        .exclude(plan=plan)
        .filter(starts_on__lte=plan.ends_on, ends_on__gte=plan.starts_on)
        .select_related("plan")
        .first()
    )
    if clash is not None:
        raise _err(
            "overlap",
            who=who,
            figure=FIGURES[figure].label,
            plan=clash.plan.name,
            start=clash.starts_on.isoformat(),
            end=clash.ends_on.isoformat(),
        )


def _parent_of(plan: Plan, scope: str, obj_id: int, figure: str) -> Target | None:
    """The plan's target of the same figure one level up, if any (the tree's parent link)."""
    up: tuple[str, int | None] | None = None
    if scope == ScopeKind.SUB_BRANCH:
        up = (ScopeKind.BRANCH, plan.branch_id)
    elif scope == ScopeKind.TEAM:
        team = Team.objects.filter(pk=obj_id).values("sub_branch_id").first()
        sub = team["sub_branch_id"] if team else None
        up = (ScopeKind.SUB_BRANCH, sub) if sub else (ScopeKind.BRANCH, plan.branch_id)
    elif scope == ScopeKind.STAFF:
        person = Staff.objects.filter(pk=obj_id).values("team_id", "sub_branch_id").first() or {}
        if person.get("team_id"):
            up = (ScopeKind.TEAM, person["team_id"])
        elif person.get("sub_branch_id"):
            up = (ScopeKind.SUB_BRANCH, person["sub_branch_id"])
    if up is None or up[1] is None:
        return None
    return Target.objects.filter(plan=plan, figure=figure, **_unit_filter(up[0], up[1])).first()


@transaction.atomic
def set_target(staff: Staff, plan: Plan, scope: str, scope_obj_id: int, figure: str, value: Any) -> Target:
    """Create or update the one target of a plan for (unit, figure)."""
    if plan.status != "active":
        raise _err("plan_closed")
    if scope not in ScopeKind.values:
        raise _err("bad_scope")
    amount = clean_value(figure, value)
    node = node_of(plan.branch_id, scope, scope_obj_id)
    _check_reach(staff, plan.branch_id, scope, scope_obj_id)
    _check_overlap(plan, scope, scope_obj_id, figure, node.name or str(ScopeKind(scope).label))
    target = Target.objects.filter(plan=plan, figure=figure, **_unit_filter(scope, scope_obj_id)).first()
    old = target.value if target else None
    if target is None:
        target = Target(
            plan=plan,
            branch_id=plan.branch_id,
            scope=scope,
            figure=figure,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            parent=_parent_of(plan, scope, scope_obj_id, figure),
            **({COLUMN[ScopeKind(scope)]: scope_obj_id} if scope != ScopeKind.BRANCH else {}),
        )
    target.value = amount
    target.updated_by = staff
    target.save()
    record(
        Action.TARGET_SET,
        user=staff.user,
        obj=target,
        detail={
            "plan": plan.pk,
            "scope": scope,
            "unit": scope_obj_id,
            "figure": figure,
            "old": str(old) if old is not None else None,
            "new": str(amount),
        },
    )
    return target


# --- splitting ---------------------------------------------------------------------------------------------


@dataclass
class Proposal:
    """A proposed split: each child with its value, the rule actually used and why it fell back, if so."""

    rows: list[tuple[Node, Decimal]]
    rule: str
    fallback: bool = False


def target_node(target: Target) -> tuple[str, int]:
    return target.scope, target.scope_id


def _largest_remainder(total: Decimal, weights: list[Decimal], unit: Decimal) -> list[Decimal]:
    """Shares of `total` in proportion to `weights`, in whole `unit`s that add up to it exactly: each gets
    the floor of its share and the units left over go to the largest remainders (ties: first listed)."""
    units = int((total / unit).to_integral_value(ROUND_DOWN))
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    raw = [Decimal(units) * w / weight_sum for w in weights]
    floors = [int(r.to_integral_value(ROUND_DOWN)) for r in raw]
    left = units - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(n) * unit for n in floors]


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of equal length just before: whole calendar months map to the same number of months
    before (November → October), any other period to the same number of days before."""
    whole_months = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if whole_months:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        first = dt.date(index // 12, index % 12 + 1, 1)
        last = start - dt.timedelta(days=1)
        return first, last
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def _by_column(scope: str) -> str:
    return {ScopeKind.SUB_BRANCH: "sub_branch_id", ScopeKind.TEAM: "team_id", ScopeKind.STAFF: "staff_id"}[
        ScopeKind(scope)
    ]


def _last_period_weights(staff: Staff, target: Target, kids: list[Node]) -> list[Decimal]:
    """Each child's value of the same figure over the previous period (read through the viewer's scope)."""
    start, end = previous_period(target.starts_on, target.ends_on)
    where = read.target_where(target)
    tables: dict[str, read.Values] = {}
    for scope in {k.scope for k in kids}:
        tables[scope] = read.values(staff.user, start, end, by=_by_column(scope), where=where)
    out = []
    for k in kids:
        v = tables[k.scope].get(k.obj_id, {}).get(target.figure)
        out.append(max(v or ZERO, ZERO))
    return out


# Pool potential: what the customers each child holds are expected to bring. A customer's expected value is
# its score's probability × its potential (PoolMember.expected_value, copied from the latest scoring); each
# customer counts once (its primary pool) among the latest published run's members, blocked or not. A
# customer is held by its owner (管户), the owner's team, and the sub-branch it is booked in — the way the
# pools pages count members per unit. Unscored members count nothing.
POOL_COLUMN = {
    ScopeKind.SUB_BRANCH: "customer__sub_branch_id",
    ScopeKind.TEAM: "customer__owner__team_id",
    ScopeKind.STAFF: "customer__owner_id",
}


def _pool_weights(staff: Staff, kids: list[Node]) -> list[Decimal]:
    run = latest_run(staff.user)
    if run is None:
        return [ZERO] * len(kids)
    members = PoolMember.objects.for_staff(staff.user).filter(run=run, is_primary=True)
    tables: dict[str, dict[int, Decimal]] = {}
    for scope in {k.scope for k in kids}:
        column = POOL_COLUMN[ScopeKind(scope)]
        ids = [k.obj_id for k in kids if k.scope == scope]
        rows = (
            members.filter(**{f"{column}__in": ids})
            .values(column)
            .annotate(v=Sum("expected_value"))
            .order_by()
        )
        tables[scope] = {r[column]: r["v"] or ZERO for r in rows}
    return [max(tables[k.scope].get(k.obj_id, ZERO), ZERO) for k in kids]


def propose(staff: Staff, target: Target, rule: str, today: dt.date) -> Proposal:
    """A proposed split of a target across its children by a rule; falls back to even (and says so) when
    the rule has nothing to go on."""
    if rule not in SplitRule.values or rule == SplitRule.MANUAL:
        raise _err("bad_rule")
    _check_reach(staff, target.branch_id, target.scope, target.scope_id)
    kids = children(target.branch_id, target.scope, target.scope_id)
    if not kids:
        raise _err("no_children")
    weights = [Decimal(1)] * len(kids)
    used = rule
    if rule == SplitRule.LAST_PERIOD:
        weights = _last_period_weights(staff, target, kids)
    elif rule == SplitRule.POOL_POTENTIAL:
        weights = _pool_weights(staff, kids)
    fallback = rule != SplitRule.EVEN and sum(weights, ZERO) <= 0
    if fallback:
        used = SplitRule.EVEN
    values = _largest_remainder(target.value, weights, _unit(target.figure))
    return Proposal(list(zip(kids, values, strict=True)), used, fallback)


def propose_split(staff: Staff, target: Target, rule: str, today: dt.date) -> list[tuple[Node, Decimal]]:
    """The children with their proposed values (see `propose` for the rule used)."""
    return propose(staff, target, rule, today).rows


@transaction.atomic
def save_split(staff: Staff, target: Target, values: dict[str, Any], rule: str) -> list[Target]:
    """Replace a target's children with these values ({'team:3': '1200.00', ...}); they must add up to it."""
    if target.plan.status != "active":
        raise _err("plan_closed")
    if rule not in SplitRule.values:
        raise _err("bad_rule")
    _check_reach(staff, target.branch_id, target.scope, target.scope_id)
    kids = {k.key: k for k in children(target.branch_id, target.scope, target.scope_id)}
    if not kids:
        raise _err("no_children")
    parts: dict[str, Decimal] = {}
    for key, raw in values.items():
        if key not in kids:
            raise _err("not_a_child", key=key)
        parts[key] = clean_value(target.figure, raw)
    total = sum(parts.values(), ZERO)
    if total != target.value:
        raise _err(
            "split_mismatch",
            total=total,
            target=target.value,
            difference=total - target.value,
        )
    for key in parts:
        _check_overlap(target.plan, kids[key].scope, kids[key].obj_id, target.figure, kids[key].name)
    existing = {
        f"{t.scope}:{t.scope_id}": t
        for t in Target.objects.filter(plan=target.plan, figure=target.figure).filter(
            _children_q(list(kids.values()))
        )
    }
    kept: list[Target] = []
    for key, amount in parts.items():
        node = kids[key]
        child = existing.pop(key, None) or Target(
            plan=target.plan,
            branch_id=target.branch_id,
            scope=node.scope,
            figure=target.figure,
            starts_on=target.starts_on,
            ends_on=target.ends_on,
            **{COLUMN[ScopeKind(node.scope)]: node.obj_id},
        )
        child.value, child.parent, child.split_rule, child.updated_by = amount, target, rule, staff
        child.save()
        kept.append(child)
    # Children left out of the split are replaced: their targets go (with any split below them).
    Target.objects.filter(pk__in=[t.pk for t in existing.values()]).delete()
    Target.objects.filter(parent=target).exclude(pk__in=[t.pk for t in kept]).delete()
    record(
        Action.TARGET_SPLIT,
        user=staff.user,
        obj=target,
        detail={"rule": rule, "figure": target.figure, "parts": {k: str(v) for k, v in parts.items()}},
    )
    return kept


def _children_q(kids: list[Node]) -> Q:
    by_scope: dict[str, list[int]] = defaultdict(list)
    for k in kids:
        by_scope[k.scope].append(k.obj_id)
    q = Q(pk__in=[])
    for scope, ids in by_scope.items():
        q |= Q(scope=scope, **{f"{COLUMN[ScopeKind(scope)]}__in": ids})
    return q
