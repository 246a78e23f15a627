"""PDCA cycles of a plan (playbook Part 3 §二): Do, Check and Act beside the plan's targets.

- Do: the figures, computed: each target in the viewer's scope against its actual so far and the time elapsed.
- Check: the deviations the product flags (people, teams or pools far behind pace, conversion drops,
  uncontacted claims) and the findings the lead writes, each keeping the flag it answers frozen as JSON.
- Act: adjustments to targets, resources or process, each linked to its finding; an adjustment of kind
  target may change one target's value in the same transaction (old and new kept).

Every read goes through read.py or a `for_staff` queryset, so a lead sees their team's deviations only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import Actor, actor_of
from xiaodai.core.roles import Perm, Role
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.plans import read
from xiaodai.plans.choices import AdjustmentKind, FindingKind, PlanStatus, ScopeKind
from xiaodai.plans.deviations import (  # re-exported: the plan page and tests read them here
    Deviation as Deviation,
)
from xiaodai.plans.deviations import (
    describe as describe,
)
from xiaodai.plans.deviations import (
    deviations as deviations,
)
from xiaodai.plans.deviations import (
    flagged,
    plain_number,
    plan_targets,
    who_of_target,
)
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.figures import FIGURES
from xiaodai.plans.models import Adjustment, Finding, Plan, Target

TEXT_MAX = 4000
# The keys a flag may carry: what the deviation is about and its numbers (a POSTed flag is checked).
FLAG_KEYS = frozenset(
    {
        "kind", "figure", "scope", "target_id", "staff_id", "team_id", "sub_branch_id", "pool", "who",
        "actual", "expected", "target", "ratio", "now", "before", "days", "stage", "drop", "entries", "n",
        "oldest",
    }
)  # fmt: skip
FLAG_MAX_CHARS = 2000

MESSAGES = {
    "not_allowed": gettext_lazy("Only the branch head and team leads write PDCA records."),
    "out_of_reach": gettext_lazy(
        "That is outside your team: a team lead writes findings about their team only."
    ),
    "text_required": gettext_lazy("Write what you found or what you change: the text cannot be empty."),
    "text_too_long": gettext_lazy("The text is too long: at most %(max)s characters."),
    "bad_kind": gettext_lazy("Choose what the finding or adjustment is about."),
    "bad_flag": gettext_lazy(
        "The flagged deviation could not be read; open the form again from the plan page."
    ),
    "bad_finding": gettext_lazy("Link the adjustment to one of this plan's findings."),
    "plan_closed": gettext_lazy("The plan %(plan)s is closed: its PDCA record can no longer change."),
    "bad_target": gettext_lazy("Choose one of this plan's targets (and only for an adjustment of targets)."),
    "value_required": gettext_lazy("Give the target's new value."),
    "negative": gettext_lazy("A target cannot be negative: %(value)s."),
    "not_whole": gettext_lazy("%(figure)s is a count: give a whole number, not %(value)s."),
    "has_children": gettext_lazy(
        "This target is split across %(n)s lower-level targets: change it by splitting it again."
    ),
}


def _error(code: str, **params: Any) -> PlanError:
    return PlanError(code, MESSAGES[code], **params)


# --- the plan page's PDCA part ------------------------------------------------------------------------------


@dataclass
class FindingRow:
    finding: Finding
    summary: str
    adjustments: list[Adjustment] = field(default_factory=list)


@dataclass
class DoRow:
    """A target in the Do table: its progress and how to show it."""

    progress: read.Progress

    @property
    def who(self) -> str:
        return who_of_target(self.progress.target)

    @property
    def level(self) -> str:
        return str(ScopeKind(self.progress.target.scope).label)

    @property
    def figure(self) -> str:
        return FIGURES[self.progress.target.figure].label

    @property
    def money(self) -> bool:
        return FIGURES[self.progress.target.figure].money

    @property
    def bar(self) -> Decimal:
        return min(self.progress.done_pct or Decimal(0), Decimal(100))


@dataclass
class Cycle:
    plan: Plan
    started: bool
    do: list[DoRow]
    deviations: list[Deviation] | None  # None: loaded after the page (plans:deviations)
    more_deviations: int
    findings: list[FindingRow]
    can_write: bool
    closed: bool


def visible(actor: Actor, flag: dict[str, Any]) -> bool:
    """Findings about a person are for that person, their team's lead and the head; about a team, for the
    team and the head; the others (pools, the branch, general findings) for everyone in the plan's branch."""
    if actor.role == Role.BRANCH_HEAD:
        return True
    if flag.get("staff_id") is not None:
        lead_of = actor.role == Role.TEAM_LEAD and flag.get("team_id") in (actor.team_id or -1,)
        return flag["staff_id"] == actor.staff_id or lead_of
    if flag.get("team_id") is not None:
        return flag["team_id"] == actor.team_id
    return True


# A page of deviations nobody reads to the end helps no one: the worst few of each kind, and how many more.
DEVIATIONS_PER_KIND = 10


def _worst(flagged: list[Deviation]) -> list[Deviation]:
    """The first DEVIATIONS_PER_KIND of each kind (they come worst first within a kind)."""
    seen: dict[str, int] = {}
    out = []
    for d in flagged:
        seen[d.kind] = seen.get(d.kind, 0) + 1
        if seen[d.kind] <= DEVIATIONS_PER_KIND:
            out.append(d)
    return out


def _do_levels(actor: Actor) -> tuple[str, ...]:
    if actor.role == Role.BRANCH_HEAD:
        return (ScopeKind.BRANCH, ScopeKind.SUB_BRANCH)
    if actor.role == Role.TEAM_LEAD:
        return (ScopeKind.TEAM, ScopeKind.STAFF)
    return (ScopeKind.STAFF,)


def check_context(user: Any, plan: Plan, today: dt.date) -> dict[str, Any]:
    """Context of the Check part's deviations alone (plans/partials/deviations.html, after the page)."""
    actor = actor_of(user)
    found, pending = flagged(user, plan, today, wait=False)
    worst = _worst(found)
    return {
        "pdca": {
            "deviations": worst,
            "more_deviations": len(found) - len(worst),
            "flags_pending": pending,
            "can_write": actor.has(Perm.MANAGE_TARGETS) and plan.status == PlanStatus.ACTIVE,
        }
    }


def cycle_context(
    user: Any,
    plan: Plan,
    today: dt.date,
    progress: list[read.Progress] | None = None,
    *,
    defer_check: bool = False,
) -> dict[str, Any]:
    """Template context for the PDCA part of the plan page (plans/partials/pdca.html): one key, `pdca`.
    `progress`: the plan's targets' progress (deviations.plan_targets) when the page has read it already.
    `defer_check`: leave the deviations out (None); the page loads them after itself (plans:deviations),
    as comparing two periods' funnels by team, person and pool costs as much as the rest of the page."""
    actor = actor_of(user)
    if progress is None:
        progress = read.progress(user, plan_targets(user, plan), today)
    adjustments = Adjustment.objects.select_related("made_by", "target", "target__team", "target__staff")
    findings = [
        FindingRow(f, describe(f.flag) if f.flag else "", list(f.adjustments.all()))
        for f in plan.findings.select_related("written_by").prefetch_related(
            Prefetch("adjustments", adjustments)
        )
        if visible(actor, f.flag or {})
    ]
    flagged = None if defer_check else deviations(user, plan, today, progress)
    cycle = Cycle(
        plan=plan,
        started=today >= plan.starts_on,
        # Do shows the viewer's own level and the one below (the plan's tree above has every target).
        do=[DoRow(p) for p in progress if p.target.scope in _do_levels(actor)],
        deviations=None if flagged is None else _worst(flagged),
        more_deviations=0 if flagged is None else len(flagged) - len(_worst(flagged)),
        findings=findings,
        can_write=actor.has(Perm.MANAGE_TARGETS) and plan.status == PlanStatus.ACTIVE,
        closed=plan.status == PlanStatus.CLOSED,
    )
    return {"pdca": cycle}


# --- writes -------------------------------------------------------------------------------------------------


def _check_writer(staff: Staff, plan: Plan) -> Actor:
    actor = actor_of(staff.user)
    if not actor.has(Perm.MANAGE_TARGETS):
        raise _error("not_allowed")
    if plan.branch_id != staff.branch_id:
        raise _error("out_of_reach")
    if plan.status != PlanStatus.ACTIVE:
        raise _error("plan_closed", plan=plan.name)
    return actor


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise _error("text_required")
    if len(text) > TEXT_MAX:
        raise _error("text_too_long", max=TEXT_MAX)
    return text


def _clean_flag(flag: Any) -> dict[str, Any]:
    if flag in (None, ""):
        return {}
    if not isinstance(flag, dict) or set(flag) - FLAG_KEYS:
        raise _error("bad_flag")
    if len(json.dumps(flag, ensure_ascii=False)) > FLAG_MAX_CHARS:
        raise _error("bad_flag")
    for key in ("staff_id", "team_id", "sub_branch_id", "target_id"):
        if flag.get(key) is not None and (type(flag[key]) is not int):
            raise _error("bad_flag")
    return flag


def _check_flag_reach(actor: Actor, plan: Plan, flag: dict[str, Any]) -> None:
    """The people, team or sub-branch a flag names must be in the plan's branch, and a lead's own team.
    Checked against the database, not the flag's own team_id (the flag comes back from the browser)."""
    lead = actor.role == Role.TEAM_LEAD
    staff_id, team_id = flag.get("staff_id"), flag.get("team_id")
    if staff_id is not None:
        person = Staff.objects.filter(pk=staff_id, branch_id=plan.branch_id).values("team_id").first()
        if person is None or (lead and person["team_id"] != actor.team_id):
            raise _error("out_of_reach")
    if team_id is not None:
        if not Team.objects.filter(pk=team_id, branch_id=plan.branch_id).exists():
            raise _error("out_of_reach")
        if lead and team_id != actor.team_id:
            raise _error("out_of_reach")
    sub_branch_id = flag.get("sub_branch_id")
    if sub_branch_id is not None and (
        lead or not SubBranch.objects.filter(pk=sub_branch_id, branch_id=plan.branch_id).exists()
    ):
        raise _error("out_of_reach")
    # A branch- or pool-wide flag with no team is beyond a lead (theirs carry their team: _team_of_view).
    if lead and flag and staff_id is None and team_id is None:
        raise _error("out_of_reach")


@transaction.atomic
def write_finding(
    staff: Staff, plan: Plan, kind: str, text: str, flag: dict[str, Any] | None = None
) -> Finding:
    """Write a Check finding on a plan, keeping the flagged deviation it answers (if any) as it stood."""
    actor = _check_writer(staff, plan)
    if kind not in FindingKind.values:
        raise _error("bad_kind")
    text = _clean_text(text)
    clean = _clean_flag(flag)
    _check_flag_reach(actor, plan, clean)
    finding = Finding.objects.create(plan=plan, kind=kind, text=text, flag=clean, written_by=staff)
    record(
        Action.FINDING_WRITE,
        user=staff.user,
        obj=finding,
        detail={
            "plan": plan.pk,
            "kind": kind,
            "flag_kind": clean.get("kind", ""),
            "scope": clean.get("scope", ""),
        },
    )
    return finding


def lead_reaches(actor: Actor, target: Target) -> bool:
    if actor.role == Role.BRANCH_HEAD:
        return True
    if target.scope == ScopeKind.TEAM:
        return target.team_id == actor.team_id
    if target.scope == ScopeKind.STAFF:
        return target.staff is not None and target.staff.team_id == actor.team_id
    return False


def _clean_value(target: Target, new_value: Any) -> Decimal:
    if new_value in (None, ""):
        raise _error("value_required")
    try:
        value = Decimal(str(new_value))
    except InvalidOperation as exc:
        raise _error("value_required") from exc
    if value < 0:
        raise _error("negative", value=value)
    money = FIGURES[target.figure].money
    if not money and value != value.to_integral_value():
        raise _error("not_whole", figure=FIGURES[target.figure].label, value=value)
    return value.quantize(Decimal("0.01") if money else Decimal(1))


@transaction.atomic
def make_adjustment(
    staff: Staff,
    plan: Plan,
    finding: Finding | None,
    kind: str,
    text: str,
    target: Target | None = None,
    new_value: Decimal | int | str | None = None,
) -> Adjustment:
    """Make an Act adjustment for a finding; for a target adjustment with a target, change its value in the
    same transaction (the old value is kept on the adjustment). A split target is refused: its children
    must keep adding up to it, so it changes by splitting again."""
    actor = _check_writer(staff, plan)
    if kind not in AdjustmentKind.values:
        raise _error("bad_kind")
    if finding is None or finding.plan_id != plan.pk:
        raise _error("bad_finding")
    text = _clean_text(text)
    old = new = None
    if target is not None or new_value not in (None, ""):
        if kind != AdjustmentKind.TARGET or target is None or target.plan_id != plan.pk:
            raise _error("bad_target")
        # Lock the row: two leads adjusting one target must not both read the same old value.
        target = Target.objects.select_for_update(of=("self",)).select_related("staff").get(pk=target.pk)
        if not lead_reaches(actor, target):
            raise _error("out_of_reach")
        n_children = target.children.count()
        if n_children:
            raise _error("has_children", n=n_children)
        new = _clean_value(target, new_value)
        old = target.value
        target.value = new
        target.updated_by = staff
        target.save(update_fields=["value", "updated_by", "updated_at"])
    adjustment = Adjustment.objects.create(
        plan=plan,
        finding=finding,
        kind=kind,
        text=text,
        target=target,
        old_value=old,
        new_value=new,
        made_by=staff,
    )
    record(
        Action.ADJUSTMENT_MAKE,
        user=staff.user,
        obj=adjustment,
        detail={
            "plan": plan.pk,
            "finding": finding.pk,
            "kind": kind,
            "target": target.pk if target else None,
            "old": plain_number(old),
            "new": plain_number(new),
        },
    )
    return adjustment
