"""Check of a PDCA cycle: the deviations the product flags on a plan (people, teams or pools far behind
pace, conversion drops, uncontacted claims). Every read goes through read.py or a `for_staff` queryset, so a
lead sees their team's deviations only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Min, Subquery
from django.utils.translation import gettext as _

from xiaodai.allocation.choices import Kind, Status
from xiaodai.allocation.models import Assignment
from xiaodai.core.access import Actor, Viewer, actor_of
from xiaodai.core.roles import Domain, Role
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.plans import read
from xiaodai.plans.choices import FindingKind, FunnelStage, PlanStatus, ScopeKind
from xiaodai.plans.figures import FIGURES
from xiaodai.plans.models import FlagSet, Plan, Target
from xiaodai.plans.querysets import reach_of
from xiaodai.plans.rollup import zone
from xiaodai.pools import rules as pool_rules

# "Far" behind is stricter than read.pace's 10 % band: a target under 70 % of what the time elapsed asks
# for will not be caught up by working harder alone, so it is worth a finding (the 10 % band only colours it).
FAR_BEHIND = Decimal("0.7")
# A conversion drop counts from 5 points down, and only over at least 30 entries at the step's start in
# both periods: below that, one or two customers swing the rate by more than 5 points on their own.
DROP_POINTS = Decimal("5")
MIN_ENTRIES = 30
# Claimed customers left uncontacted this many days lose the protection that made claiming worth it;
# the allocation rules lapse them soon after, so the lead should hear of it first.
UNCONTACTED_DAYS = 3
# A viewer who finds a plan's funnel flags not kept asks the job queue for them; the next viewers in this
# process within this long do not ask again (the job takes a few seconds).
ASK_AGAIN_SECONDS = 120
# A pool is compared on the entries that got as far as an application: the first outcome of the work
# itself (approval and disbursement wait on the bank's credit process and lag behind the calls).
POOL_STAGE = FunnelStage.APPLIED


def plan_targets(user: Any, plan: Plan) -> list[Target]:
    """The plan's targets the viewer may see, each with its branch, sub-branch, team and person attached.

    A plan of a 200-person branch holds some 2,000 targets but only a few hundred distinct units: the units
    are read once each and attached, rather than joined and built again for every target."""
    targets = list(Target.objects.for_staff(user).filter(plan=plan).order_by("figure", "scope", "id"))
    branch = plan.branch
    subs = SubBranch.objects.in_bulk({t.sub_branch_id for t in targets if t.sub_branch_id})
    teams = Team.objects.in_bulk({t.team_id for t in targets if t.team_id})
    people = Staff.objects.in_bulk({t.staff_id for t in targets if t.staff_id})
    # Straight into each target's cache of related objects: assigning through the descriptors (t.team = …)
    # checks and sets the key again, four times per target.
    fields = [Target._meta.get_field(name) for name in ("branch", "sub_branch", "team", "staff")]
    cache_branch, cache_sub, cache_team, cache_staff = (f.set_cached_value for f in fields)  # type: ignore[union-attr]
    for t in targets:
        cache_branch(t, branch)
        cache_sub(t, subs.get(t.sub_branch_id) if t.sub_branch_id else None)
        cache_team(t, teams.get(t.team_id) if t.team_id else None)
        cache_staff(t, people.get(t.staff_id) if t.staff_id else None)
    return targets


# --- Check: deviations --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """One flagged deviation: its kind (FindingKind), whom or what it is about and its numbers.

    `flag` is the JSON kept on the finding written about it; `query` prefills the finding form."""

    kind: str
    who: str
    subject: dict[str, Any]
    numbers: dict[str, Any]
    severity: Decimal = Decimal(0)  # how far off (for ordering, larger first)

    @property
    def flag(self) -> dict[str, Any]:
        return {"kind": self.kind, "who": self.who, **self.subject, **self.numbers}

    @property
    def summary(self) -> str:
        return describe(self.flag)

    @property
    def query(self) -> str:
        return urlencode({"kind": self.kind, "flag": json.dumps(self.flag, ensure_ascii=False)})


def _period(plan: Plan, today: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    """The plan's period so far and the period of equal length just before it (None before it starts)."""
    if today < plan.starts_on:
        return None
    end = min(plan.ends_on, today)
    days = (end - plan.starts_on).days + 1
    return (plan.starts_on, end), (plan.starts_on - dt.timedelta(days), plan.starts_on - dt.timedelta(1))


def plain_number(value: Decimal | int | None) -> str:
    return "" if value is None else str(value)


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"))


def who_of_target(t: Target) -> str:
    """The name of whom a target is set for (its branch, sub-branch, team or person)."""
    owner = {"branch": t.branch, "sub_branch": t.sub_branch, "team": t.team, "staff": t.staff}[t.scope]
    return getattr(owner, "name", "") or str(ScopeKind(t.scope).label)


def _target_subject(t: Target) -> dict[str, Any]:
    subject: dict[str, Any] = {"scope": t.scope, "target_id": t.pk, "figure": t.figure}
    if t.scope == ScopeKind.SUB_BRANCH:
        subject["sub_branch_id"] = t.sub_branch_id
    elif t.scope == ScopeKind.TEAM:
        subject["team_id"] = t.team_id
    elif t.scope == ScopeKind.STAFF:
        # The person's team rides along so a lead's reach can be told from the flag (and is checked).
        subject["staff_id"] = t.staff_id
        subject["team_id"] = t.staff.team_id if t.staff else None
    return subject


def behind_targets(progress: Iterable[read.Progress]) -> list[Deviation]:
    """Targets whose actual so far is under FAR_BEHIND of what the time elapsed asks for."""
    out = []
    for p in progress:
        t = p.target
        if p.actual is None or not t.value or not p.share:
            continue
        expected = t.value * p.share
        if p.actual >= expected * FAR_BEHIND:
            continue
        numbers = {
            "actual": plain_number(p.actual),
            "expected": plain_number(expected.quantize(Decimal("0.01") if FIGURES[t.figure].money else 1)),
            "target": plain_number(t.value),
            "ratio": plain_number(_ratio(p.actual, expected)),
        }
        severity = 1 - p.actual / expected
        out.append(
            Deviation(FindingKind.BEHIND_PACE, who_of_target(t), _target_subject(t), numbers, severity)
        )
    return out


def _reached(steps: list[read.FunnelStep], stage: int) -> int:
    return next((s.entries for s in steps if s.stage == stage), 0)


def _pool_name(code: str) -> str:
    pool = pool_rules.BY_CODE.get(code)
    return str(pool.name) if pool else (code or _("No pool"))


def behind_pools(user: Any, plan: Plan, today: dt.date) -> list[Deviation]:
    """Pools whose entries reaching POOL_STAGE this period are under FAR_BEHIND of the previous period of
    equal length (pools have no targets, so last period's output is the pace they are held to)."""
    periods = _period(plan, today)
    if periods is None:
        return []
    (start, end), (p_start, p_end) = periods
    now = read.funnel_by(user, start, end, by="pool")
    before = read.funnel_by(user, p_start, p_end, by="pool")
    actor = actor_of(user)
    extra = _team_of_view(actor)
    out = []
    for pool, steps in sorted(before.items(), key=lambda kv: kv[0] or ""):
        was = _reached(steps, POOL_STAGE)
        if _reached(steps, FunnelStage.LISTED) < MIN_ENTRIES or not was:
            continue
        is_now = _reached(now.get(pool, []), POOL_STAGE)
        if Decimal(is_now) >= Decimal(was) * FAR_BEHIND:
            continue
        numbers = {
            "stage": POOL_STAGE.value,
            "now": is_now,
            "before": was,
            "days": (end - start).days + 1,
            "ratio": plain_number(_ratio(Decimal(is_now), Decimal(was))),
        }
        subject = {"scope": "pool", "pool": pool, **extra}
        out.append(
            Deviation(FindingKind.BEHIND_PACE, _pool_name(pool), subject, numbers, 1 - Decimal(is_now) / was)
        )
    return out


def _team_of_view(actor: Actor) -> dict[str, Any]:
    """Figures read by a team lead cover their team only: their flags say so (branch-wide ones do not)."""
    if actor.role == Role.TEAM_LEAD and actor.team_id is not None:
        return {"team_id": actor.team_id}
    return {}


def conversion_drops(user: Any, plan: Plan, today: dt.date) -> list[Deviation]:
    """Funnel steps whose conversion fell by DROP_POINTS or more against the previous period of equal length,
    per team and per person, over at least MIN_ENTRIES entries at the step's start in both periods."""
    periods = _period(plan, today)
    if periods is None:
        return []
    (start, end), (p_start, p_end) = periods
    found: list[tuple[str, int, read.FunnelStep, read.FunnelStep, int, int]] = []
    # Teams and people from one read per period (a person's entries all sit in their team).
    nows = read.funnel_by_each(user, start, end, ("team_id", "staff_id"))
    befores = read.funnel_by_each(user, p_start, p_end, ("team_id", "staff_id"))
    for by in ("team_id", "staff_id"):
        now, before = nows[by], befores[by]
        for key, steps in now.items():
            if key is None or key not in before:
                continue
            old = before[key]
            for i in range(1, len(steps)):
                cur, prev = steps[i], old[i]
                base_now, base_before = steps[i - 1].entries, old[i - 1].entries
                if min(base_now, base_before) < MIN_ENTRIES or cur.rate is None or prev.rate is None:
                    continue
                if prev.rate - cur.rate >= DROP_POINTS:
                    found.append((by, key, cur, prev, base_now, base_before))
    teams = dict(
        Team.objects.filter(pk__in=[k for by, k, *_r in found if by == "team_id"]).values_list("id", "name")
    )
    people = {
        s["id"]: s
        for s in Staff.objects.filter(pk__in=[k for by, k, *_r in found if by == "staff_id"]).values(
            "id", "name", "team_id"
        )
    }
    out = []
    for by, key, cur, prev, base_now, _base_before in found:
        if by == "team_id":
            who, subject = teams.get(key, ""), {"scope": "team", "team_id": key}
        else:
            person = people.get(key, {})
            who = person.get("name", "")
            subject = {"scope": "staff", "staff_id": key, "team_id": person.get("team_id")}
        assert cur.rate is not None  # checked above
        assert prev.rate is not None
        drop = prev.rate - cur.rate
        numbers = {
            "stage": cur.stage,
            "now": plain_number(cur.rate),
            "before": plain_number(prev.rate),
            "drop": plain_number(drop),
            "entries": base_now,
        }
        out.append(Deviation(FindingKind.CONVERSION_DROP, who, subject, numbers, drop / 100))
    return out


def uncontacted_claims(user: Any, plan: Plan, today: dt.date) -> list[Deviation]:
    """Per person: active claims (认领) never contacted and older than UNCONTACTED_DAYS. Only while the plan
    runs: it is the state of the claims now, not a figure of the plan's period."""
    if not plan.starts_on <= today <= plan.ends_on:
        return []
    cutoff = dt.datetime.combine(today - dt.timedelta(UNCONTACTED_DAYS), dt.time(0), zone())
    rows = (
        Assignment.objects.for_staff(user)
        .filter(
            branch_id=plan.branch_id,
            kind=Kind.CLAIM,
            status=Status.ACTIVE,
            last_contact_at__isnull=True,
            created_at__lt=cutoff,
        )
        .values("staff_id", "staff__name", "staff__team_id")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .order_by("-n", "staff_id")
    )
    out = []
    for r in rows:
        oldest = r["oldest"].astimezone(zone()).date()
        subject = {"scope": "staff", "staff_id": r["staff_id"], "team_id": r["staff__team_id"]}
        numbers = {"n": r["n"], "days": UNCONTACTED_DAYS, "oldest": oldest.isoformat()}
        out.append(
            Deviation(FindingKind.UNCONTACTED_CLAIMS, r["staff__name"], subject, numbers, Decimal(r["n"]))
        )
    return out


def flags_to_json(found: Iterable[Deviation]) -> list[dict[str, Any]]:
    keep = ("kind", "who", "subject", "numbers")
    return [{**{k: getattr(d, k) for k in keep}, "severity": str(d.severity)} for d in found]


def flags_from_json(rows: list[dict[str, Any]]) -> list[Deviation]:
    """Kept flags back as deviations; a pool's name is put back in the reader's language."""
    return [
        Deviation(
            r["kind"],
            _pool_name(r["subject"]["pool"]) if r["subject"].get("scope") == "pool" else r["who"],
            r["subject"],
            r["numbers"],
            Decimal(r["severity"]),
        )
        for r in rows
    ]


def _kept(user: Any, plan: Plan, today: dt.date) -> list[Deviation] | None:
    """The funnel flags kept for the viewer's reach, if there and still good (same funnel refresh, day)."""
    latest = read.funnel_refreshes(plan.branch_id).values("pk")[:1]
    rows = (
        FlagSet.objects.for_staff(user)
        .filter(plan=plan, day=today, refresh_id=Subquery(latest))
        .values_list("flags", flat=True)
        .first()
    )
    return None if rows is None else flags_from_json(rows)


def _kept_for(user: Any) -> bool:
    """Whether flags are kept for the viewer's reach (a head's, a lead's), not a person's own."""
    actor = actor_of(user)
    return reach_of(actor.level(Domain.CUSTOMER), actor.team_id) is not None


def _ask_for_flags(plan: Plan, today: dt.date) -> None:
    """Queue the job that keeps the plan's funnel flags, once a minute or two per process at most."""
    from xiaodai.plans import tasks  # tasks imports this module

    if cache.add(f"plans.flags-asked:{plan.pk}:{today}", True, ASK_AGAIN_SECONDS):
        tasks.keep_plan_flags(plan.pk)


def _funnel_flags(
    user: Any, plan: Plan, today: dt.date, *, wait: bool = True
) -> tuple[list[Deviation], list[Deviation], bool]:
    """Pools behind and conversion drops, and whether they are still being counted. From the set the
    refresh job kept for the viewer's reach when it is there and still good; else, with `wait`, worked out
    now (comparing two periods' funnels by pool, team and person: half a second for a branch at a million
    customers), or without it, asked of the job queue and left out for now. A person's own flags (no kept
    set) are always worked out: they cover their own entries only. (Targets far behind and uncontacted
    claims are read fresh every time, elsewhere.)"""
    kept = _kept(user, plan, today)
    if kept is None and not wait and _kept_for(user) and read.funnel_refreshes(plan.branch_id).exists():
        _ask_for_flags(plan, today)
        kept = _kept(user, plan, today)  # a queue that runs jobs at once (tests, debugging) kept them now
        if kept is None:
            return [], [], True
    if kept is not None:
        pools = [d for d in kept if d.kind == FindingKind.BEHIND_PACE]
        return pools, [d for d in kept if d.kind == FindingKind.CONVERSION_DROP], False
    return behind_pools(user, plan, today), conversion_drops(user, plan, today), False


def keep_flags(plan: Plan, today: dt.date) -> int:
    """Work out and keep a plan's funnel flags for the whole branch and for each of its teams, as of the
    branch's latest funnel refresh (the refresh job calls this right after rebuilding the funnel). Returns
    the number of sets kept; none when the funnel was never counted or the plan has not started."""
    refresh = read.funnel_refreshes(plan.branch_id).first()
    if refresh is None or _period(plan, today) is None:
        return 0
    teams = Team.objects.filter(branch_id=plan.branch_id).order_by("pk").values_list("pk", flat=True)
    viewers = [Viewer(Role.BRANCH_HEAD, plan.branch_id)]
    viewers += [Viewer(Role.TEAM_LEAD, plan.branch_id, team_id) for team_id in teams]
    rows = []
    for viewer in viewers:
        actor = actor_of(viewer)
        reach = reach_of(actor.level(Domain.CUSTOMER), actor.team_id)
        assert reach is not None  # a head's and a lead's reach are kept by construction
        found = behind_pools(viewer, plan, today) + conversion_drops(viewer, plan, today)
        rows.append(FlagSet(plan=plan, reach=reach, refresh=refresh, day=today, flags=flags_to_json(found)))
    with transaction.atomic():
        FlagSet.objects.filter(plan=plan).delete()
        FlagSet.objects.bulk_create(rows)
    return len(rows)


def keep_branch_flags(branch_id: int, today: dt.date) -> int:
    """keep_flags for every active plan of a branch running today."""
    plans = Plan.objects.filter(
        branch_id=branch_id, status=PlanStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today
    ).order_by("pk")
    return sum(keep_flags(plan, today) for plan in plans)


def deviations(
    user: Any, plan: Plan, today: dt.date, progress: list[read.Progress] | None = None
) -> list[Deviation]:
    """Every deviation the product flags on a plan for this viewer, worst first within each kind."""
    return flagged(user, plan, today, progress)[0]


def flagged(
    user: Any, plan: Plan, today: dt.date, progress: list[read.Progress] | None = None, *, wait: bool = True
) -> tuple[list[Deviation], bool]:
    """deviations(), and whether the funnel's flags are still being counted (only without `wait`: the plan
    page's Check part shows the rest at once and loads them again shortly)."""
    if progress is None:
        progress = read.progress(user, plan_targets(user, plan), today)
    pools, drops, pending = _funnel_flags(user, plan, today, wait=wait)
    groups = [behind_targets(progress) + pools, drops, uncontacted_claims(user, plan, today)]
    return [d for group in groups for d in sorted(group, key=lambda d: -d.severity)], pending


def describe(flag: dict[str, Any]) -> str:
    """One line on a flag (a deviation now, or one frozen on a finding) in the reader's language."""
    kind, who = flag.get("kind"), flag.get("who", "")
    try:
        if kind == FindingKind.BEHIND_PACE and flag.get("scope") == "pool":
            return _(
                "Pool %(who)s: %(now)s entries got as far as %(stage)s against %(before)s in the %(days)s "
                "days before (%(ratio)s%%)."
            ) % {**flag, "who": who, "stage": FunnelStage(int(flag["stage"])).label}
        if kind == FindingKind.BEHIND_PACE:
            return _(
                "%(who)s: %(figure)s %(actual)s against %(expected)s expected by now (%(ratio)s%%; target "
                "%(target)s)."
            ) % {**flag, "who": who, "figure": FIGURES[flag["figure"]].label}
        if kind == FindingKind.CONVERSION_DROP:
            return _(
                "%(who)s: conversion to %(stage)s %(now)s%% against %(before)s%% the period before (down "
                "%(drop)s points over %(entries)s entries)."
            ) % {**flag, "who": who, "stage": FunnelStage(int(flag["stage"])).label}
        if kind == FindingKind.UNCONTACTED_CLAIMS:
            return _(
                "%(who)s: %(n)s claimed customers not contacted for over %(days)s days (oldest claimed on "
                "%(oldest)s)."
            ) % {**flag, "who": who}
    except (KeyError, ValueError, TypeError):
        pass  # an older or hand-made flag: show what it is about, not a broken sentence
    return str(who)
