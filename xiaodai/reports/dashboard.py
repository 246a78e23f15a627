"""Selectors of the performance pages: the dashboard ("where we stand" against the plan), the list funnel,
and the records behind any figure or funnel stage.

The dashboard and the funnel read only the rollup through xiaodai.plans.read (a few grouped queries over the
small fact tables, whatever the size of the branch); names of the people, teams and sub-branches shown take
one query per kind. Only the drill-down reads the source tables, live, paginated and within the viewer's
scope, with the rules the rollup counts by (xiaodai/plans/rollup.py), so a figure and its records agree.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _

from xiaodai.core import charts
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain, Level
from xiaodai.org.models import Staff, SubBranch, Team
from xiaodai.plans import read
from xiaodai.plans.choices import Figure, PlanKind, PlanStatus, ScopeKind
from xiaodai.plans.figures import FIGURES, quantize
from xiaodai.plans.models import FunnelFact, Plan, Target
from xiaodai.pools import rules as pool_rules

MAX_PERIOD_DAYS = 366
TREND_FIGURES: list[str] = [Figure.CALLS, Figure.REACHED, Figure.DISBURSED_AMOUNT]
WAN = Decimal(10000)
# The grouping column of each level below the viewer's, and the model its names come from.
CHILD_MODELS: dict[str, type[Any]] = {
    ScopeKind.SUB_BRANCH: SubBranch,
    ScopeKind.TEAM: Team,
    ScopeKind.STAFF: Staff,
}
CHILD_LEVELS: dict[str, list[str]] = {
    ScopeKind.BRANCH: [ScopeKind.SUB_BRANCH, ScopeKind.TEAM, ScopeKind.STAFF],
    ScopeKind.TEAM: [ScopeKind.STAFF],
    ScopeKind.STAFF: [],
}
# Request parameter → fact column, for the filters and the funnel breakdown.
FILTER_COLUMNS = {"sub_branch": "sub_branch_id", "team": "team_id", "staff": "staff_id"}
BY_COLUMNS = {**FILTER_COLUMNS, "pool": "pool", "product": "product"}


def viewer_level(user: Any) -> str:
    """The level the viewer stands at: a head the branch, a lead their team, anyone else themselves."""
    actor = actor_of(user)
    level = actor.level(Domain.CUSTOMER)
    if level == Level.BRANCH:
        return ScopeKind.BRANCH
    if level == Level.TEAM and actor.team_id is not None:
        return ScopeKind.TEAM
    return ScopeKind.STAFF


# --- periods ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date  # inclusive
    end: dt.date  # inclusive
    plan: Plan | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def until(self, today: dt.date) -> dt.date:
        """Figures are counted up to today: the rest of the period has not happened yet."""
        return min(self.end, today)

    @property
    def previous(self) -> Period:
        """The period of equal length just before this one (for comparisons)."""
        end = self.start - dt.timedelta(1)
        return Period(end - dt.timedelta(self.days - 1), end)

    @property
    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def month_of(today: dt.date) -> Period:
    last = calendar.monthrange(today.year, today.month)[1]
    return Period(today.replace(day=1), today.replace(day=last))


def parse_dates(params: QueryDict) -> tuple[Period | None, str]:
    """`?from=…&to=…` (inclusive days): None without them; None and a message when unusable."""
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    if not raw_from and not raw_to:
        return None, ""
    if not raw_from or not raw_to:
        return None, _("Give both a first and a last day, or neither.")
    try:
        start, end = dt.date.fromisoformat(raw_from), dt.date.fromisoformat(raw_to)
    except ValueError:
        return None, _("Dates are written YYYY-MM-DD: “%(from)s” to “%(to)s” is not a period.") % {
            "from": raw_from[:20],
            "to": raw_to[:20],
        }
    if start > end:
        return None, _("The period starts after it ends.")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        return None, _("A period is at most %(days)s days.") % {"days": MAX_PERIOD_DAYS}
    return Period(start, end), ""


def active_plans(user: Any, today: dt.date) -> list[Plan]:
    """The active plans covering today, the month plan first (then the shortest)."""
    plans = list(
        Plan.objects.for_staff(user).filter(
            status=PlanStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today
        )
    )
    plans.sort(key=lambda p: (p.kind != PlanKind.MONTH, p.ends_on - p.starts_on, -p.pk))
    return plans


def dashboard_period(params: QueryDict, user: Any, today: dt.date) -> tuple[Period, list[Plan], str]:
    """The chosen plan's period (`?plan=`), a custom period (`?from=&to=`, no targets), else the default:
    the month plan, or the calendar month without a plan. Bad input gives the default and a message."""
    plans = active_plans(user, today)
    default = Period(plans[0].starts_on, plans[0].ends_on, plans[0]) if plans else month_of(today)
    custom, error = parse_dates(params)
    if custom is not None:
        return custom, plans, ""
    if error:
        return default, plans, error
    raw = params.get("plan", "").strip()
    if raw:
        chosen = next((p for p in plans if str(p.pk) == raw), None)
        if chosen is None:
            return default, plans, _("That plan is not one of the active plans covering today.")
        return Period(chosen.starts_on, chosen.ends_on, chosen), plans, ""
    return default, plans, ""


# --- the dashboard ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One figure's actual, and its progress when there is a target."""

    figure: str
    actual: Decimal | None
    progress: read.Progress | None = None

    @property
    def label(self) -> str:
        return FIGURES[self.figure].label

    @property
    def money(self) -> bool:
        return FIGURES[self.figure].money

    @property
    def drillable(self) -> bool:
        return self.figure != Figure.BALANCE_GROWTH  # a difference of two stocks: no records behind it

    @property
    def bar(self) -> int:
        pct = self.progress.done_pct if self.progress else None
        return int(min(pct or 0, Decimal(100)))


def _own_where(user: Any, level: str) -> dict[str, Any]:
    actor = actor_of(user)
    if level == ScopeKind.TEAM:
        return {"team_id": actor.team_id}
    return {"staff_id": actor.staff_id} if level == ScopeKind.STAFF else {}


def _progress_of(target: Target, actual: Decimal | None, today: dt.date) -> read.Progress:
    """read.progress's Progress from a value already read for the target's period (the same sums, the same
    pace rule, without reading the facts a second time)."""
    share = read.elapsed_share(target.starts_on, target.ends_on, today)
    if actual is not None:
        actual = quantize(target.figure, actual)
    return read.Progress(target, actual, share, read.pace(actual, target.value, share))


def cards(user: Any, period: Period, today: dt.date) -> list[Cell]:
    """Each figure for the viewer's own level: with the chosen plan's target, its progress and pace."""
    level = viewer_level(user)
    targets: list[Target] = []
    if period.plan is not None:
        targets = list(
            Target.objects.for_staff(user).filter(plan=period.plan, scope=level, **_own_where(user, level))
        )
    # One read for every figure: the targets' progress is taken from it (read.progress would read it again).
    row = read.values(user, period.start, period.until(today))[None]
    by_figure = {t.figure: t for t in targets}
    out = []
    for code in Figure.values:
        value = row.get(code)
        if code in by_figure:
            prog = _progress_of(by_figure[code], value, today)
            out.append(Cell(code, prog.actual, prog))
        else:
            out.append(Cell(code, quantize(code, value) if value is not None else None))
    return out


@dataclass
class ChildRow:
    key: int | None
    name: str
    cells: list[Cell]


@dataclass
class ChildTable:
    level: str
    levels: list[str]
    param: str  # the drill-down filter this level's rows narrow to
    rows: list[ChildRow] = field(default_factory=list)
    sort: str = "name"


def parse_child(params: QueryDict, level: str) -> tuple[str | None, str]:
    levels = CHILD_LEVELS[level]
    if not levels:
        return None, ""
    raw = params.get("level", "").strip()
    if raw and raw not in levels:
        return levels[0], _("Unknown level “%(level)s”: showing %(shown)s.") % {
            "level": raw[:20],
            "shown": ScopeKind(levels[0]).label,
        }
    return raw or levels[0], ""


def parse_sort(params: QueryDict) -> str:
    raw = params.get("sort", "").strip()
    return raw if raw.lstrip("-") in ("name", *Figure.values) else "name"


def child_table(user: Any, period: Period, today: dt.date, child: str, sort: str) -> ChildTable:
    """The next level down: each child's figures and its progress against its own target."""
    level = viewer_level(user)
    column = read.SCOPE_COLUMN[child]
    table = read.values(user, period.start, period.until(today), by=column)
    targets: list[Target] = []
    if period.plan is not None:
        targets = list(Target.objects.for_staff(user).filter(plan=period.plan, scope=child))
    by_key = {(getattr(t, column or "branch_id"), t.figure): t for t in targets}
    ids = {k for k in table if k is not None} | {k for k, _f in by_key}
    names_qs = CHILD_MODELS[child].objects.filter(id__in=ids)
    if level == ScopeKind.TEAM:  # a lead sees every member, even one with nothing counted yet
        names_qs = CHILD_MODELS[child].objects.filter(Q(id__in=ids) | Q(team_id=actor_of(user).team_id))
    names = dict(names_qs.values_list("id", "name"))
    keys: list[int | None] = list(names)
    if None in table and any(table[None].values()):
        keys.append(None)  # money of customers nobody owns or works
    rows = []
    for key in keys:
        values = table.get(key, {})
        row_cells = []
        for code in Figure.values:
            raw = values.get(code, read.ZERO if code != Figure.BALANCE_GROWTH else None)
            target = by_key.get((key, code))
            if target is not None:
                prog = _progress_of(target, raw, today)
                row_cells.append(Cell(code, prog.actual, prog))
            else:
                row_cells.append(Cell(code, quantize(code, raw) if raw is not None else None))
        rows.append(ChildRow(key, names.get(key, "") if key is not None else _("Not attributed"), row_cells))
    _sort_rows(rows, sort)
    return ChildTable(child, CHILD_LEVELS[level], child, rows, sort)


def _sort_rows(rows: list[ChildRow], sort: str) -> None:
    key, desc = sort.lstrip("-"), sort.startswith("-")
    if key == "name":
        rows.sort(key=lambda r: (r.key is None, r.name), reverse=desc)
        return
    index = Figure.values.index(key)
    # Rows without a value sort last whichever the direction.
    present = [r for r in rows if r.cells[index].actual is not None]
    absent = [r for r in rows if r.cells[index].actual is None]
    present.sort(key=lambda r: r.cells[index].actual or read.ZERO, reverse=desc)
    rows[:] = present + absent


def trend_chart(user: Any, period: Period, today: dt.date) -> tuple[dict[str, Any], bool]:
    """Daily calls and reached contacts (bars) and the amount disbursed (a line, in 10k yuan) over the
    period; and whether there is anything to draw."""
    end = period.until(today)
    series = read.daily(user, period.start, end, TREND_FIGURES)
    days = [period.start + dt.timedelta(i) for i in range(max((end - period.start).days + 1, 0))]
    money = series.get(Figure.DISBURSED_AMOUNT, {})
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [d.strftime("%m-%d") for d in days]},
        "yAxis": [
            {"type": "value", "minInterval": 1, "name": _("Contacts")},
            {"type": "value", "name": _("10k yuan"), "splitLine": {"show": False}},
        ],
        "series": [
            *(
                {
                    "name": FIGURES[code].label,
                    "type": "bar",
                    "data": [int(series.get(code, {}).get(d, 0)) for d in days],
                }
                for code in (Figure.CALLS, Figure.REACHED)
            ),
            {
                "name": _("Disbursed (10k yuan)"),
                "type": "line",
                "yAxisIndex": 1,
                "smooth": True,
                # A chart needs plain numbers: 10k yuan to two places is display only, the cards keep Decimal.
                "data": [float((money.get(d, read.ZERO) / WAN).quantize(Decimal("0.01"))) for d in days],
            },
        ],
    }
    return option, any(series.values())


# --- filters (funnel and drill-down) ---------------------------------------------------------------------


@dataclass
class Options:
    """The filter values a viewer may pick: only people, teams and sub-branches within their scope."""

    sub_branches: list[tuple[int, str]] = field(default_factory=list)
    teams: list[tuple[int, str]] = field(default_factory=list)
    staff: list[tuple[int, str]] = field(default_factory=list)
    pools: list[tuple[str, str]] = field(default_factory=list)
    products: list[str] = field(default_factory=list)

    def ids(self, name: str) -> set[int]:
        attr = {"sub_branch": "sub_branches", "team": "teams", "staff": "staff"}[name]
        return {pk for pk, _n in getattr(self, attr)}


def filter_options(user: Any, *, products: bool = True) -> Options:
    level = viewer_level(user)
    actor = actor_of(user)
    out = Options(pools=[(p.code, str(p.name)) for p in pool_rules.POOLS])
    if level == ScopeKind.BRANCH:
        out.sub_branches = list(
            SubBranch.objects.filter(branch_id=actor.branch_id or 0)
            .order_by("name")
            .values_list("id", "name")
        )
        out.teams = list(Team.objects.for_staff(user).order_by("name").values_list("id", "name"))
    if level in (ScopeKind.BRANCH, ScopeKind.TEAM):
        out.staff = list(Staff.objects.for_staff(user).order_by("name").values_list("id", "name"))
    if products:
        out.products = _products(user)
    return out


# The product filter's options change only when the funnel is rebuilt; they are kept that long per process.
PRODUCTS_KEPT_SECONDS = 3600


def _products(user: Any) -> list[str]:
    """Every product on the viewer's funnel. Finding them reads the whole funnel table (a third of the funnel
    page at a million customers), so they are kept per funnel refresh and viewer's reach."""
    actor = actor_of(user)
    funnel_refresh = read.funnel_refreshes(actor.branch_id or 0).values_list("pk", flat=True).first()
    reach = (actor.branch_id, actor.level(Domain.CUSTOMER), actor.team_id, actor.staff_id)
    key = "reports.funnel-products:" + ":".join(str(part) for part in (*reach, funnel_refresh))

    def found() -> list[str]:
        facts = FunnelFact.objects.for_staff(user).exclude(product="")
        return sorted(facts.values_list("product", flat=True).distinct().order_by())

    return list(cache.get_or_set(key, found, PRODUCTS_KEPT_SECONDS) or [])


@dataclass
class Filters:
    sub_branch: int | None = None
    team: int | None = None
    staff: int | None = None
    pool: str = ""
    product: str = ""

    @property
    def where(self) -> dict[str, Any]:
        """The narrowing for read.funnel / funnel_by."""
        out: dict[str, Any] = {}
        for name, column in FILTER_COLUMNS.items():
            if getattr(self, name) is not None:
                out[column] = getattr(self, name)
        if self.pool:
            out["pool"] = self.pool
        if self.product:
            out["product"] = self.product
        return out

    @property
    def params(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items() if v not in (None, "")}

    @property
    def any(self) -> bool:
        return bool(self.params)


FILTER_LABELS = {
    "sub_branch": ScopeKind.SUB_BRANCH.label,
    "team": ScopeKind.TEAM.label,
    "staff": ScopeKind.STAFF.label,
}


def parse_filters(params: QueryDict, options: Options) -> tuple[Filters, list[str]]:
    """The filters asked for that are within the viewer's choices; a message for each one that is not."""
    out, errors = Filters(), []
    for name in FILTER_COLUMNS:
        raw = params.get(name, "").strip()
        if not raw:
            continue
        if raw.isdigit() and int(raw) in options.ids(name):
            setattr(out, name, int(raw))
        else:
            errors.append(
                _("%(what)s “%(value)s” is not one you can look at: the filter was left out.")
                % {"what": FILTER_LABELS[name], "value": raw[:20]}
            )
    raw_pool = params.get("pool", "").strip()
    if raw_pool:
        if raw_pool in {code for code, _n in options.pools}:
            out.pool = raw_pool
        else:
            errors.append(_("Unknown pool “%(value)s”: the filter was left out.") % {"value": raw_pool[:32]})
    raw_product = params.get("product", "").strip()
    if raw_product:
        if raw_product in options.products:
            out.product = raw_product
        else:
            errors.append(
                _("No list entry in your scope has the product “%(value)s”: the filter was left out.")
                % {"value": raw_product[:50]}
            )
    return out, errors


# --- the funnel ------------------------------------------------------------------------------------------


@dataclass
class StageRow:
    step: read.FunnelStep
    previous: read.FunnelStep | None

    @property
    def change(self) -> Decimal | None:
        """Conversion from the step before, against the previous period, in percentage points."""
        if self.step.rate is None or self.previous is None or self.previous.rate is None:
            return None
        return self.step.rate - self.previous.rate


@dataclass
class BreakdownRow:
    key: Any
    name: str
    steps: list[read.FunnelStep]
    param: str  # the drill-down filter value of this row


def default_by(level: str) -> str:
    defaults: dict[str, str] = {ScopeKind.BRANCH: "team", ScopeKind.TEAM: "staff"}
    return defaults.get(level, "pool")


def parse_by(params: QueryDict, level: str) -> tuple[str, str]:
    raw = params.get("by", "").strip()
    if not raw:
        return default_by(level), ""
    if raw not in BY_COLUMNS:
        return default_by(level), _("Unknown breakdown “%(by)s”.") % {"by": raw[:20]}
    return raw, ""


def funnel_stages(user: Any, period: Period, filters: Filters) -> list[StageRow]:
    """The funnel of the period against the one of equal length before it (two grouped reads)."""
    now = read.funnel(user, period.start, period.end, filters.where)
    before = read.funnel(user, period.previous.start, period.previous.end, filters.where)
    has_before = bool(before and before[0].entries)
    return [StageRow(step, before[i] if has_before else None) for i, step in enumerate(now)]


def breakdown(user: Any, period: Period, filters: Filters, by: str) -> list[BreakdownRow]:
    groups = read.funnel_by(user, period.start, period.end, BY_COLUMNS[by], filters.where)
    names: dict[Any, str] = {}
    if by in CHILD_MODELS:
        ids = [k for k in groups if k is not None]
        names = dict(CHILD_MODELS[by].objects.filter(id__in=ids).values_list("id", "name"))
    elif by == "pool":
        names = {code: str(p.name) for code, p in pool_rules.BY_CODE.items()}
    rows = []
    for key, steps in groups.items():
        if by == "product":
            name = key or _("No product yet")
        else:
            name = names.get(key, key if key not in (None, "") else _("Not attributed"))
        rows.append(BreakdownRow(key, str(name), steps, "" if key is None else str(key)))
    rows.sort(key=lambda r: (-r.steps[0].entries, r.name))
    return rows


def funnel_chart(rows: list[StageRow]) -> dict[str, Any]:
    return charts.funnel([(r.step.label, r.step.entries) for r in rows])
