"""Reads behind the pool pages: the inventory (资源盘点) from the pre-aggregated PoolFigure rows only, and the
members of one pool for the drill-down and its export.

Scoping (compliance A-02) is the querysets' `for_staff`: a branch head reads every figure of the branch, a
team lead the rows of their team and its people, a person their own row; so whatever the page adds up stays
inside what the viewer may see. The inventory costs a fixed handful of queries whatever the number of
customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaodai.core import charts
from xiaodai.core.access import actor_of
from xiaodai.core.roles import Domain
from xiaodai.core.roles import Level as Reach
from xiaodai.core.rule_history import Change, VersionRow, active_change, history, params_changes
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools import rules as r
from xiaodai.pools.choices import Level
from xiaodai.pools.models import PoolFigure, PoolMember, PoolRule, PoolRuleVersion

ZERO = Decimal(0)
FUNNEL = PoolFigure.FUNNEL
FIELDS: tuple[str, ...] = (
    "customers", "primary", "workable", "potential", "workable_potential", "primary_workable",
    "primary_potential", "covered", "entered", "left", *FUNNEL,
)  # fmt: skip
_MONEY_FIELDS = ("potential", "workable_potential", "primary_potential")
FUNNEL_LABELS = {
    "contacted": gettext_lazy("Contacted"),
    "reached": gettext_lazy("Reached"),
    "interested": gettext_lazy("Interested"),
    "applied": gettext_lazy("Applied"),
    "approved": gettext_lazy("Approved"),
    "disbursed": gettext_lazy("Disbursed"),
    "drawn": gettext_lazy("Drawn down"),
}
LEVELS = (Level.BRANCH, Level.SUB_BRANCH, Level.TEAM, Level.OWNER)
# Which drill-down filter a unit of each level stands for.
UNIT_FILTER = {Level.SUB_BRANCH: "sub_branch", Level.TEAM: "team", Level.OWNER: "owner"}
TABLE_SORTS = (
    "unit", "customers", "workable", "potential", "coverage", "entered", "contacted", "applied", "drawn",
)  # fmt: skip
MEASURES = ("customers", "potential")
# Per level: the unit's id, its name, and a second line (the sub-branch of a team, the team of a person).
UNIT_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    Level.BRANCH: ("branch_id", "branch__name", None),
    Level.SUB_BRANCH: ("sub_branch_id", "sub_branch__name", None),
    Level.TEAM: ("team_id", "team__name", "team__sub_branch__name"),
    Level.OWNER: ("owner_id", "owner__name", "owner__team__name"),
}


@dataclass
class Counts:
    """Figures of one pool (or several added up) at one unit (or several added up)."""

    customers: int = 0
    primary: int = 0
    workable: int = 0
    potential: Decimal = ZERO
    workable_potential: Decimal = ZERO
    primary_workable: int = 0
    primary_potential: Decimal = ZERO
    covered: int = 0
    entered: int = 0
    left: int = 0
    contacted: int = 0
    reached: int = 0
    interested: int = 0
    applied: int = 0
    approved: int = 0
    disbursed: int = 0
    drawn: int = 0

    def add(self, row: dict[str, Any], prefix: str = "") -> None:
        for name in FIELDS:
            value = row.get(prefix + name) or 0
            if name in _MONEY_FIELDS:
                value = Decimal(str(value))
            setattr(self, name, getattr(self, name) + value)

    @property
    def coverage(self) -> float:
        """Share of the workable customers contacted within the coverage window, in percent."""
        return round(self.covered * 100 / self.workable, 1) if self.workable else 0.0

    def funnel(self) -> list[tuple[str, str, int]]:
        return [(name, str(FUNNEL_LABELS[name]), getattr(self, name)) for name in FUNNEL]


@dataclass
class PoolCard:
    pool: r.PoolDef
    counts: Counts

    @property
    def show_chinese(self) -> bool:
        """The pool's own Chinese word beside its name, unless the name already is that word."""
        return str(self.pool.name) != self.pool.chinese


@dataclass
class Unit:
    """One organisation unit of a level (a sub-branch, a team, a person) with its figures."""

    key: int | None
    label: str
    note: str
    counts: Counts
    by_pool: dict[str, Counts] = field(default_factory=dict)

    def figures(self, pool: str) -> Counts:
        """This unit's figures of one pool, or of every pool when `pool` is empty (customers counted once)."""
        if pool:
            return self.by_pool.get(pool, Counts())
        total = replace(self.counts)
        # Every member has exactly one primary pool: counted there, a customer counts once.
        total.customers = self.counts.primary
        total.workable = self.counts.primary_workable
        total.potential = self.counts.primary_potential
        return total


@dataclass
class MatrixRow:
    unit: Unit
    cells: list[tuple[str, Decimal | int, int]]  # (pool code, value, shade in percent)


@dataclass
class Inventory:
    run: PipelineRun
    top: str  # the widest level the viewer's figures exist at
    levels: list[tuple[str, str]]  # the levels the viewer may switch between
    level: str
    pool: str  # the selected pool, or "" for all
    sort: str
    measure: str
    cards: list[PoolCard]
    total: Counts
    table: list[tuple[Unit, Counts]]  # the units of `level`, sorted, with their figures of `pool`
    link_filter: str  # the drill-down filter a unit of `level` stands for ("" at branch level)
    matrix_level: str
    matrix: list[MatrixRow]
    matrix_filter: str
    charts: dict[str, dict[str, Any]]

    @property
    def selected(self) -> r.PoolDef | None:
        return r.BY_CODE.get(self.pool) if self.pool else None

    @property
    def distinct_customers(self) -> int:
        return self.total.primary

    @property
    def selected_counts(self) -> Counts:
        if not self.pool:
            return self.total
        return next((c.counts for c in self.cards if c.pool.code == self.pool), Counts())


def latest_run(user: Any) -> PipelineRun | None:
    """The published run of the viewer's branch (the one whose results the pages show), if any."""
    branch_id = actor_of(user).branch_id
    if branch_id is None:
        return None
    runs = PipelineRun.objects.filter(branch_id=branch_id, is_published=True)
    return runs.order_by("-finished_at", "-id").first()


def top_level(user: Any) -> str:
    """The level whose rows add up to everything the viewer may see."""
    actor = actor_of(user)
    reach = actor.level(Domain.CUSTOMER)
    if reach == Reach.BRANCH:
        return Level.BRANCH
    if reach == Reach.TEAM and actor.team_id is not None:
        return Level.TEAM
    return Level.OWNER


def _choice(params: QueryDict, key: str, allowed: tuple[str, ...] | list[str], default: str) -> str:
    value = params.get(key, "")
    return value if value in allowed else default


def _unit_rows(figures: QuerySet[PoolFigure], level: str) -> list[Unit]:
    """Every unit of a level with its figures per pool and in total (one query)."""
    key, label, note = UNIT_COLUMNS[level]
    columns = ["pool", key, label, *([note] if note else []), *FIELDS]
    units: dict[int | None, Unit] = {}
    for row in figures.filter(level=level).values(*columns):
        unit = units.get(row[key])
        if unit is None:
            extra = (row[note] or "") if note else ""
            unit = units[row[key]] = Unit(row[key], row[label] or "—", extra, Counts())
        unit.counts.add(row)
        unit.by_pool.setdefault(row["pool"], Counts()).add(row)
    return list(units.values())


def _sort_units(units: list[Unit], pool: str, sort: str) -> list[Unit]:
    """`key` ascending, `-key` descending; ties keep the units' alphabetical order."""
    key, desc = sort.lstrip("-"), sort.startswith("-")
    by_label = sorted(units, key=lambda u: u.label, reverse=desc and key == "unit")
    if key == "unit":
        return by_label
    return sorted(by_label, key=lambda u: getattr(u.figures(pool), key), reverse=desc)


def _shade(value: Decimal | int, peak: Decimal | int) -> int:
    """A cell's background strength, 0–50 % of the primary colour, relative to the largest cell."""
    return round(float(value) * 50 / float(peak))


def _matrix(units: list[Unit], measure: str) -> list[MatrixRow]:
    values = [[getattr(u.by_pool.get(p.code, Counts()), measure) for p in r.POOLS] for u in units]
    peak = max((v for row in values for v in row), default=0) or 1
    return [
        MatrixRow(u, [(p.code, v, _shade(v, peak)) for p, v in zip(r.POOLS, row, strict=True)])
        for u, row in zip(units, values, strict=True)
    ]


def inventory(user: Any, run: PipelineRun, params: QueryDict) -> Inventory:
    """The inventory page: cards per pool, the viewer's total, a table per unit of the chosen level and a
    pool × unit matrix. Three or four queries on PoolFigure, whatever the size of the branch."""
    top = top_level(user)
    levels = list(LEVELS[LEVELS.index(Level(top)) :])
    level_choices = [(lv.value, str(lv.label)) for lv in levels]
    below = levels[1] if len(levels) > 1 else levels[0]
    level = _choice(params, "level", [lv.value for lv in levels], below.value)
    pool = _choice(params, "pool", r.POOL_CODES, "")
    sort = _choice(params, "sort", [*TABLE_SORTS, *(f"-{s}" for s in TABLE_SORTS)], "-potential")
    measure = _choice(params, "measure", MEASURES, "customers")

    figures = PoolFigure.objects.for_staff(user).filter(run=run)
    sums = {f"s_{name}": Sum(name) for name in FIELDS}
    by_pool = {row["pool"]: row for row in figures.filter(level=top).values("pool").annotate(**sums)}
    cards = []
    total = Counts()
    for pool_def in r.POOLS:
        counts = Counts()
        if pool_def.code in by_pool:
            counts.add(by_pool[pool_def.code], prefix="s_")
            total.add(by_pool[pool_def.code], prefix="s_")
        cards.append(PoolCard(pool_def, counts))

    cache: dict[str, list[Unit]] = {level: _unit_rows(figures, level)}
    # The matrix shows the units just below the viewer: sub-branches for the branch head, people for a lead.
    matrix_level = below.value if below.value != top else ""
    if matrix_level and matrix_level not in cache:
        cache[matrix_level] = _unit_rows(figures, matrix_level)
    matrix_units = sorted(cache.get(matrix_level, []), key=lambda u: u.label)

    selected = next((c.counts for c in cards if c.pool.code == pool), total) if pool else total
    return Inventory(
        run=run,
        top=top,
        levels=level_choices,
        level=level,
        pool=pool,
        sort=sort,
        measure=measure,
        cards=cards,
        total=total,
        table=[(u, u.figures(pool)) for u in _sort_units(cache[level], pool, sort)],
        link_filter=UNIT_FILTER.get(Level(level), ""),
        matrix_level=matrix_level,
        matrix=_matrix(matrix_units, measure),
        matrix_filter=UNIT_FILTER.get(Level(matrix_level), "") if matrix_level else "",
        charts={"pools": _pools_chart(cards), "funnel": _funnel_chart(selected)},
    )


def _pools_chart(cards: list[PoolCard]) -> dict[str, Any]:
    """Customers, workable and covered per pool: horizontal bars, the first pool on top."""
    shown = cards[::-1]
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},  # customers: whole numbers on the axis
        "yAxis": {"type": "category", "data": [str(c.pool.name) for c in shown]},
        "series": [
            {"name": _("Customers"), "type": "bar", "data": [c.counts.customers for c in shown]},
            {"name": _("Workable"), "type": "bar", "data": [c.counts.workable for c in shown]},
            {"name": _("Covered"), "type": "bar", "data": [c.counts.covered for c in shown]},
        ],
    }


def _funnel_chart(counts: Counts) -> dict[str, Any]:
    return charts.funnel([(label, value) for _n, label, value in counts.funnel()])


# --- the drill-down ---------------------------------------------------------------------------------------

MEMBER_SORTS: dict[str, tuple[Any, ...]] = {
    "potential": (F("potential").asc(), "customer_id"),
    "-potential": (F("potential").desc(), "customer_id"),
    "days": (F("days").asc(nulls_last=True), "customer_id"),
    "-days": (F("days").desc(nulls_last=True), "customer_id"),
    "customer": ("customer__customer_no",),
    "-customer": ("-customer__customer_no",),
    # Unscored members (blocked) go last whichever way; ties by potential, then a stable id.
    "expected_value": (F("expected_value").asc(nulls_last=True), F("potential").desc(), "customer_id"),
    "-expected_value": (F("expected_value").desc(nulls_last=True), F("potential").desc(), "customer_id"),
    "probability": (F("probability").asc(nulls_last=True), "customer_id"),
    "-probability": (F("probability").desc(nulls_last=True), "customer_id"),
}
DEFAULT_MEMBER_SORT = "-expected_value"  # who to call first: the list sorts by expected value


@dataclass(frozen=True)
class MemberFilter:
    """The drill-down's filters: ids only (never personal data in a URL), each None when not given."""

    sub_branch: int | None = None
    team: int | None = None
    owner: int | None = None
    workable: bool | None = None
    sort: str = DEFAULT_MEMBER_SORT

    def as_detail(self) -> dict[str, Any]:
        """For the audit trail and the export's cover sheet."""
        return {
            k: v
            for k, v in (
                ("sub_branch", self.sub_branch),
                ("team", self.team),
                ("owner", self.owner),
                ("workable", self.workable),
                ("sort", self.sort),
            )
            if v is not None
        }


def _id(params: QueryDict, key: str) -> int | None:
    """A positive id, or None for anything else (a typo or a tampered value is ignored, never a 500)."""
    text = params.get(key, "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    value = int(text)
    return value if value > 0 else None


def member_filter(params: QueryDict) -> MemberFilter:
    workable = {"1": True, "0": False}.get(params.get("workable", ""))
    sort = params.get("sort", "")
    return MemberFilter(
        sub_branch=_id(params, "sub_branch"),
        team=_id(params, "team"),
        owner=_id(params, "owner"),
        workable=workable,
        sort=sort if sort in MEMBER_SORTS else DEFAULT_MEMBER_SORT,
    )


def members(user: Any, pool: str, flt: MemberFilter) -> QuerySet[PoolMember]:
    """The viewer's members of one pool, filtered and sorted, with what each row shows in the same query."""
    qs = PoolMember.objects.for_staff(user).filter(pool=pool)
    if flt.sub_branch is not None:
        qs = qs.filter(customer__sub_branch_id=flt.sub_branch)
    if flt.team is not None:
        qs = qs.filter(customer__owner__team_id=flt.team)
    if flt.owner is not None:
        qs = qs.filter(customer__owner_id=flt.owner)
    if flt.workable is True:
        qs = qs.filter(blocked=0)
    elif flt.workable is False:
        qs = qs.filter(blocked__gt=0)
    related = (
        "customer",
        "customer__sub_branch",
        "customer__owner",
        "customer__owner__team",
        "customer__score",
    )
    return qs.select_related(*related).order_by(*MEMBER_SORTS[flt.sort])


# --- rules ------------------------------------------------------------------------------------------------


def _changes(pool: r.PoolDef, old: PoolRuleVersion, new: PoolRuleVersion) -> list[Change]:
    """What a version changed compared with the one before it."""
    out = []
    if old.priority != new.priority:
        out.append(Change(_("Priority"), str(old.priority), str(new.priority)))
    active = active_change(old, new)
    if active:
        out.append(active)
    names = sorted(set(old.params) | set(new.params))
    return out + params_changes(names, lambda name: _param_label(pool, name), old, new)


def _param_label(pool: r.PoolDef, name: str) -> str:
    found = next((p for p in pool.params if p.name == name), None)
    if found is None:
        return name
    return f"{found.label} ({found.unit})" if found.unit else str(found.label)


def rule_history(rule: PoolRule) -> list[VersionRow]:
    """Every version of a rule, newest first, each with what it changed (one query)."""
    pool = r.BY_CODE[rule.code]
    versions = list(rule.versions.select_related("created_by").order_by("version"))
    return history(versions, lambda old, new: _changes(pool, old, new))


@dataclass(frozen=True)
class RuleRow:
    pool: r.PoolDef
    rule: PoolRule
    params: list[tuple[str, str]]  # (label with unit, value)


def rule_rows(rules: list[PoolRule]) -> list[RuleRow]:
    """The rules page: the pools in priority order, then the general settings."""
    out = []
    for rule in rules:
        pool = r.BY_CODE.get(rule.code)
        if pool is None:
            continue
        params = [(_param_label(pool, p.name), str(rule.params.get(p.name, p.default))) for p in pool.params]
        out.append(RuleRow(pool, rule, params))
    return sorted(out, key=lambda row: (row.pool.code == r.GENERAL.code, row.rule.priority, row.pool.code))
