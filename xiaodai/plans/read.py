"""Reads of the rollup, scoped to the viewer: figure values, balance growth, the funnel, progress against
target and pace. Every page (dashboard, daily report, PDCA, competitions, the API) reads through these, so
a figure means the same on all of them.

A handful of grouped queries over the small fact tables per call, whatever the size of the branch.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db.models import Max, QuerySet, Sum

from xiaodai.core.access import actor_of
from xiaodai.outreach.rules import is_working_day
from xiaodai.plans.choices import Figure, FunnelStage, Pace
from xiaodai.plans.figures import BALANCE_STOCK, FIGURES, FLOW_FIGURES, quantize
from xiaodai.plans.models import FigureFact, FigureRefresh, FunnelFact, Target

ZERO = Decimal("0")
# Grouping columns of the fact tables (None: one total).
GROUPS = ("sub_branch_id", "team_id", "staff_id")
BEHIND_BELOW = Decimal("0.9")  # under 90 % of the pace the time elapsed asks for
AHEAD_FROM = Decimal("1.1")
Values = dict[Any, dict[str, Decimal | None]]


def _narrow(qs: QuerySet[Any], where: dict[str, Any] | None) -> QuerySet[Any]:
    """Filter already-scoped facts to one sub-branch, team or person (`{"team_id": 3}`); only the grouping
    columns are accepted, so a request parameter cannot reach anything else."""
    for key, value in (where or {}).items():
        if key not in GROUPS and key not in ("pool", "product"):
            raise ValueError(key)
        qs = qs.filter(**{key: value})
    return qs


def facts(user: Any, where: dict[str, Any] | None = None) -> QuerySet[FigureFact]:
    return _narrow(FigureFact.objects.for_staff(user), where)


def flows(
    user: Any, start: dt.date, end: dt.date, by: str | None = None, where: dict[str, Any] | None = None
) -> Values:
    """Sum of every flow figure over [start, end] per group (key None when `by` is None)."""
    if by is not None and by not in GROUPS:
        raise ValueError(by)
    qs = facts(user, where).filter(day__range=(start, end), figure__in=FLOW_FIGURES)
    cols = [by, "figure"] if by else ["figure"]
    out: Values = defaultdict(dict)
    for r in qs.values(*cols).annotate(v=Sum("value")).order_by():
        out[r[by] if by else None][r["figure"]] = r["v"] or ZERO
    return out


def growth(
    user: Any, start: dt.date, end: dt.date, by: str | None = None, where: dict[str, Any] | None = None
) -> tuple[Values, dt.date | None, dt.date | None]:
    """Consumer-loan balance growth over [start, end]: the balance stock on the last data date up to the end
    less the stock on the last data date before the start. Without a stock before the start and one inside
    the period there is no growth to give (None); returns the two data dates used."""
    stock = facts(user, where).filter(figure=BALANCE_STOCK)
    last = stock.filter(day__lte=end).aggregate(d=Max("day"))["d"]
    before = stock.filter(day__lt=start).aggregate(d=Max("day"))["d"]
    out: Values = defaultdict(dict)
    if last is None or before is None or last < start:
        return out, before, last
    cols = [by] if by else []
    sums: dict[Any, dict[dt.date, Decimal]] = defaultdict(dict)
    for r in stock.filter(day__in=(before, last)).values(*cols, "day").annotate(v=Sum("value")).order_by():
        sums[r[by] if by else None][r["day"]] = r["v"] or ZERO
    for key, by_day in sums.items():
        out[key][Figure.BALANCE_GROWTH] = by_day.get(last, ZERO) - by_day.get(before, ZERO)
    return out, before, last


def values(
    user: Any, start: dt.date, end: dt.date, by: str | None = None, where: dict[str, Any] | None = None
) -> Values:
    """Every figure (flows and balance growth) per group; a figure with nothing recorded is 0, balance
    growth without an earlier stock is None."""
    out = flows(user, start, end, by, where)
    grown, _before, _last = growth(user, start, end, by, where)
    keys = set(out) | set(grown) | ({None} if by is None else set())
    table: Values = {}
    for key in keys:
        row: dict[str, Decimal | None] = {code: out.get(key, {}).get(code, ZERO) for code in FLOW_FIGURES}
        row[Figure.BALANCE_GROWTH] = grown.get(key, {}).get(Figure.BALANCE_GROWTH) if grown else None
        table[key] = row
    return table


def levels(user: Any, start: dt.date, end: dt.date) -> dict[str | None, Values]:
    """values() at every level at once: the branch total (key None), and per sub-branch, team and person,
    from one read of the flows and one of the balance stock. A person sits in one team and sub-branch, so
    grouping by all three returns about one row per person and figure, and the levels are sums of those."""
    flows_at: dict[str | None, dict[Any, dict[str, Decimal]]] = {
        c: defaultdict(lambda: defaultdict(lambda: ZERO)) for c in (None, *GROUPS)
    }
    qs = facts(user).filter(day__range=(start, end), figure__in=FLOW_FIGURES)
    for r in qs.values(*GROUPS, "figure").annotate(v=Sum("value")).order_by():
        flows_at[None][None][r["figure"]] += r["v"] or ZERO
        for col in GROUPS:
            flows_at[col][r[col]][r["figure"]] += r["v"] or ZERO
    grown_at: dict[str | None, dict[Any, Decimal]] = {c: defaultdict(lambda: ZERO) for c in (None, *GROUPS)}
    stock = facts(user).filter(figure=BALANCE_STOCK)
    last = stock.filter(day__lte=end).aggregate(d=Max("day"))["d"]
    before = stock.filter(day__lt=start).aggregate(d=Max("day"))["d"]
    has_growth = last is not None and before is not None and last >= start
    if has_growth:
        for r in (
            stock.filter(day__in=(before, last)).values(*GROUPS, "day").annotate(v=Sum("value")).order_by()
        ):
            sign = 1 if r["day"] == last else -1
            grown_at[None][None] += sign * (r["v"] or ZERO)
            for col in GROUPS:
                grown_at[col][r[col]] += sign * (r["v"] or ZERO)
    out: dict[str | None, Values] = {}
    for c in (None, *GROUPS):
        keys = (
            set(flows_at[c]) | (set(grown_at[c]) if has_growth else set()) | ({None} if c is None else set())
        )
        table: Values = {}
        for key in keys:
            row: dict[str, Decimal | None] = {
                code: flows_at[c].get(key, {}).get(code, ZERO) for code in FLOW_FIGURES
            }
            row[Figure.BALANCE_GROWTH] = grown_at[c][key] if has_growth and key in grown_at[c] else None
            table[key] = row
        out[c] = table
    return out


def daily(
    user: Any, start: dt.date, end: dt.date, figures: list[str], where: dict[str, Any] | None = None
) -> dict[str, dict[dt.date, Decimal]]:
    """Day-by-day series of flow figures (for trend charts)."""
    qs = facts(user, where).filter(day__range=(start, end), figure__in=figures)
    out: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for r in qs.values("figure", "day").annotate(v=Sum("value")).order_by("day"):
        out[r["figure"]][r["day"]] = r["v"] or ZERO
    return out


# --- the funnel ------------------------------------------------------------------------------------------


@dataclass
class FunnelStep:
    stage: int
    label: str
    entries: int
    rate: Decimal | None  # conversion from the step before, in %
    overall: Decimal | None  # share of the list, in %


def funnel(user: Any, start: dt.date, end: dt.date, where: dict[str, Any] | None = None) -> list[FunnelStep]:
    """The list funnel of the entries listed in [start, end]: how many reached each stage (an entry that
    reached a later stage counts at every earlier one) and the conversion at each step."""
    qs = _narrow(FunnelFact.objects.for_staff(user), where).filter(day__range=(start, end))
    at: dict[int, int] = {
        r["stage"]: r["n"] for r in qs.values("stage").annotate(n=Sum("entries")).order_by()
    }
    return steps(at)


def steps(at: dict[int, int]) -> list[FunnelStep]:
    """Cumulative funnel steps from the count of entries whose furthest stage is each stage."""
    out: list[FunnelStep] = []
    running = 0
    reached: dict[int, int] = {}
    for stage in sorted(FunnelStage.values, reverse=True):
        running += at.get(stage, 0)
        reached[stage] = running
    listed = reached[FunnelStage.LISTED]
    previous: int | None = None
    for stage in FunnelStage:
        n = reached[stage.value]
        rate = _pct(n, previous) if previous is not None else None
        out.append(FunnelStep(stage.value, str(stage.label), n, rate, _pct(n, listed)))
        previous = n
    return out


def funnel_by(
    user: Any, start: dt.date, end: dt.date, by: str, where: dict[str, Any] | None = None
) -> dict[Any, list[FunnelStep]]:
    """The funnel per group: `by` is a grouping column, 'pool' or 'product'."""
    if by not in (*GROUPS, "pool", "product"):
        raise ValueError(by)
    qs = _narrow(FunnelFact.objects.for_staff(user), where).filter(day__range=(start, end))
    at: dict[Any, dict[int, int]] = defaultdict(dict)
    for r in qs.values(by, "stage").annotate(n=Sum("entries")).order_by():
        at[r[by]][r["stage"]] = r["n"]
    return {key: steps(counts) for key, counts in at.items()}


def funnel_by_each(
    user: Any, start: dt.date, end: dt.date, bys: tuple[str, ...], where: dict[str, Any] | None = None
) -> dict[str, dict[Any, list[FunnelStep]]]:
    """funnel_by for several groupings that nest (a person's entries all sit in one team and sub-branch) from
    one read grouped by all of them: the rows stay about one per person and stage."""
    if any(by not in GROUPS for by in bys):
        raise ValueError(bys)
    qs = _narrow(FunnelFact.objects.for_staff(user), where).filter(day__range=(start, end))
    at: dict[str, dict[Any, dict[int, int]]] = {by: defaultdict(lambda: defaultdict(int)) for by in bys}
    for r in qs.values(*bys, "stage").annotate(n=Sum("entries")).order_by():
        for by in bys:
            at[by][r[by]][r["stage"]] += r["n"]
    return {by: {key: steps(counts) for key, counts in at[by].items()} for by in bys}


def _pct(part: int | Decimal, whole: int | Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- progress against target -----------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # a report asks for the same few periods once per cell: count each once
def working_days(start: dt.date, end: dt.date) -> int:
    days = (end - start).days + 1
    return sum(1 for i in range(max(days, 0)) if is_working_day(start + dt.timedelta(i)))


def elapsed_share(start: dt.date, end: dt.date, today: dt.date) -> Decimal:
    """The share of a period's working days that have passed by the end of `today` (0 to 1)."""
    if today < start:
        return ZERO
    if today >= end:
        return Decimal(1)
    total = working_days(start, end)
    if not total:
        return Decimal((today - start).days + 1) / Decimal((end - start).days + 1)
    return Decimal(working_days(start, today)) / Decimal(total)


def pace(actual: Decimal | None, target: Decimal | None, share: Decimal) -> str:
    """Behind, on or ahead of the pace the time elapsed asks for (a ±10 % band around it)."""
    if not target or actual is None:
        return Pace.NO_TARGET
    expected = target * share
    if expected == 0:
        return Pace.ON if actual == 0 else Pace.AHEAD
    ratio = actual / expected
    if ratio < BEHIND_BELOW:
        return Pace.BEHIND
    return Pace.AHEAD if ratio >= AHEAD_FROM else Pace.ON


@dataclass
class Progress:
    target: Target
    actual: Decimal | None
    share: Decimal  # time elapsed (0 to 1)
    pace: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done_pct(self) -> Decimal | None:
        return _pct(self.actual, self.target.value) if self.actual is not None else None

    @property
    def elapsed_pct(self) -> Decimal:
        return (self.share * 100).quantize(Decimal("0.1"))


SCOPE_COLUMN = {"branch": None, "sub_branch": "sub_branch_id", "team": "team_id", "staff": "staff_id"}


def target_where(target: Target) -> dict[str, Any]:
    column = SCOPE_COLUMN[target.scope]
    return {column: getattr(target, column)} if column else {}


def progress(user: Any, targets: list[Target], today: dt.date) -> list[Progress]:
    """Each target against its figure so far (up to today) and against the time elapsed. Targets of one
    period share their queries: one grouped read per period, whatever the levels (see levels)."""
    groups: dict[tuple[dt.date, dt.date, str], list[Target]] = defaultdict(list)
    for t in targets:
        groups[t.starts_on, t.ends_on, t.scope].append(t)
    out: dict[int, Progress] = {}
    read_once: dict[tuple[dt.date, dt.date], dict[str | None, Values]] = {}
    for (start, end, scope), members in groups.items():
        column = SCOPE_COLUMN[scope]
        until = min(end, today)
        if (start, until) not in read_once:  # every level of a period from one read (see levels)
            read_once[start, until] = levels(user, start, until)
        table = read_once[start, until][column]
        share = elapsed_share(start, end, today)
        for t in members:
            key = getattr(t, column) if column else None
            actual = table.get(key, {}).get(t.figure, ZERO if t.figure != Figure.BALANCE_GROWTH else None)
            if actual is not None:
                actual = quantize(t.figure, actual)
            out[t.pk] = Progress(t, actual, share, pace(actual, t.value, share))
    return [out[t.pk] for t in targets]


def last_refresh(user: Any) -> FigureRefresh | None:
    """The latest rebuild of the viewer's branch's figures (pages show 'figures as of')."""
    actor = actor_of(user)
    if actor.branch_id is None:
        return None
    return FigureRefresh.objects.filter(branch_id=actor.branch_id).order_by("-finished_at", "-id").first()


def funnel_refreshes(branch_id: int) -> QuerySet[FigureRefresh]:
    """A branch's rebuilds of the funnel, latest first: what is worked out from the funnel is good until the
    next one (the ten-minute refreshes of today's figures leave the funnel alone)."""
    return FigureRefresh.objects.filter(branch_id=branch_id, funnel_from__isnull=False).order_by(
        "-finished_at", "-id"
    )


def label(code: str) -> str:
    return FIGURES[code].label
