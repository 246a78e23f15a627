"""The daily report (日报) for the morning meeting: for each level the viewer sees (branch, sub-branches,
teams, people), every figure's value on the day and month to date, against the month's target, with
completion and pace.

Read through plans.read only, a fixed number of grouped queries over the small fact tables whatever the
number of people: per level one grouped read for the day and one for the month so far, one read of the
targets, one of the names per level, and one grouped read per distinct period of the targets that do not
start with the month (a quarter's target is measured from the quarter's start).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaodai.core.access import Actor, actor_of
from xiaodai.core.formatting import wan
from xiaodai.core.roles import ROLE_PERMS, Domain, Level, Perm, Role
from xiaodai.org.models import Branch, Staff, SubBranch, Team
from xiaodai.plans import read
from xiaodai.plans.choices import Figure, Pace, ScopeKind
from xiaodai.plans.figures import FIGURES, quantize
from xiaodai.plans.models import FigureRefresh, Target
from xiaodai.plans.rollup import local_today

ZERO = Decimal("0")
HUNDRED = Decimal(100)
# The report's figure order: outcome figures first (what the meeting is judged on), then process ones.
FIGURE_ORDER: tuple[str, ...] = tuple(FIGURES)
# Levels widest first; each is read grouped by its fact column (None: one total).
LEVEL_COLUMN: dict[str, str | None] = {
    ScopeKind.BRANCH: None,
    ScopeKind.SUB_BRANCH: "sub_branch_id",
    ScopeKind.TEAM: "team_id",
    ScopeKind.STAFF: "staff_id",
}
# People listed even with nothing recorded: everyone who works customers, so a zero shows at the meeting.
_LISTED_ROLES = [
    r for r, perms in ROLE_PERMS.items() if Perm.RECORD_EVENTS in perms and r != Role.BRANCH_HEAD
]
SORTS = ("name", *FIGURE_ORDER)

MSG_BAD_DAY = gettext_lazy("“%(value)s” is not a date (use YYYY-MM-DD): showing yesterday.")
MSG_FUTURE_DAY = gettext_lazy("%(day)s has not happened yet: showing yesterday.")


def parse_day(params: QueryDict, today: dt.date) -> tuple[dt.date, str]:
    """The report's day (`?day=YYYY-MM-DD`): yesterday when absent; yesterday and a message when the value
    is not a date or lies in the future."""
    yesterday = today - dt.timedelta(1)
    raw = params.get("day", "").strip()
    if not raw:
        return yesterday, ""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return yesterday, str(MSG_BAD_DAY) % {"value": raw[:20]}
    if day > today:
        return yesterday, str(MSG_FUTURE_DAY) % {"day": day.isoformat()}
    return day, ""


def parse_sort(params: QueryDict) -> str:
    value = params.get("sort", "")
    return value if value in SORTS else "name"


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass
class Cell:
    """One figure of one row: the day, the month so far, the target in force on the day and where the
    figure stands against it."""

    figure: str
    day: Decimal | None
    mtd: Decimal | None
    target: Decimal | None = None
    period: tuple[dt.date, dt.date] | None = None  # set when the target's period is not the month
    actual: Decimal | None = None  # what completion is measured on (month to date, or the target's period)
    done_pct: Decimal | None = None
    pace: str = Pace.NO_TARGET

    @property
    def money(self) -> bool:
        return FIGURES[self.figure].money

    @property
    def behind(self) -> bool:
        return self.pace == Pace.BEHIND

    # Page display: money in 万元 (10k yuan) as branch reports show it, counts grouped; "—" for nothing.
    def _show(self, value: Decimal | None) -> str:
        if value is None:
            return "—"
        return wan(value) if self.money else f"{int(value):,}"

    @property
    def day_text(self) -> str:
        return self._show(self.day)

    @property
    def mtd_text(self) -> str:
        return self._show(self.mtd)

    @property
    def target_text(self) -> str:
        return self._show(self.target)

    @property
    def tds(self) -> SafeString:
        """The cell's four table cells. Built here rather than in the template: a branch's report has some
        30,000 of them, and the template engine's lookups were most of the page's time. Plain f-strings, not
        format_html: every value is a number, a figure or pace code of ours or a formatted number, none of
        it text anyone typed (escaping 30,000 of them was a fifth of the page); the one text, the target's
        period, goes through format_html."""

        def value(v: Any) -> str:
            return "" if v is None else str(v)

        behind = " bg-red-lt" if self.behind else ""
        title = ""
        mark = ""
        if self.period:
            text = _("Target for %(start)s to %(end)s") % {
                "start": self.period[0].isoformat(),
                "end": self.period[1].isoformat(),
            }
            title = format_html(' title="{}"', text)
            mark = '<sup data-testid="target-period">*</sup>'
        done = f"{self.done_pct}%" if self.done_pct is not None else "—"
        f = self.figure
        return mark_safe(  # noqa: S308 (numbers and our own codes only, see above)
            f'<td class="text-end" data-figure="{f}" data-part="day" data-value="{value(self.day)}">'
            f"{self.day_text}</td>"
            f'<td class="text-end{behind}" data-figure="{f}" data-part="mtd" data-value="{value(self.mtd)}">'
            f"{self.mtd_text}</td>"
            f'<td class="text-end text-secondary" data-figure="{f}" data-part="target" '
            f'data-value="{value(self.target)}"{title}>{self.target_text}{mark}</td>'
            f'<td class="text-end{" bg-red-lt text-red" if self.behind else ""}" data-figure="{f}" '
            f'data-part="done" data-value="{value(self.done_pct)}" data-pace="{self.pace}">{done}</td>'
        )


@dataclass
class Row:
    key: int | None
    name: str
    note: str = ""  # the team of a person, the sub-branch of a team
    cells: list[Cell] = field(default_factory=list)

    def cell(self, figure: str) -> Cell:
        return next(c for c in self.cells if c.figure == figure)

    @property
    def tds(self) -> SafeString:
        """Every cell of the row (one template lookup per row instead of one per cell)."""
        return mark_safe("".join(c.tds for c in self.cells))  # noqa: S308 (each is built safe, Cell.tds)


@dataclass
class LevelTable:
    scope: str
    label: str
    rows: list[Row]
    total: Row

    @property
    def testid(self) -> str:
        return f"level-{self.scope}"

    @property
    def lines(self) -> list[tuple[Row, bool]]:
        """The rows then the totals row, flagged (one loop renders both on the page)."""
        return [(row, False) for row in self.rows] + [(self.total, True)]


@dataclass
class Report:
    day: dt.date
    month_start: dt.date
    month_end: dt.date
    branch_name: str
    levels: list[LevelTable]
    refreshed: FigureRefresh | None
    elapsed_pct: Decimal  # share of the month's working days gone by the end of the day
    sort: str = "name"
    is_yesterday: bool = True  # the day column reads 昨日 (yesterday), else 当日 (on the day)

    @property
    def figures(self) -> list[tuple[str, str, bool]]:
        """(code, label, money) of each figure, in report order."""
        return [(code, FIGURES[code].label, FIGURES[code].money) for code in FIGURE_ORDER]

    @property
    def as_of(self) -> dt.date | None:
        return self.refreshed.as_of if self.refreshed else None


# --- levels and names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelSpec:
    scope: str
    where: dict[str, Any]
    parent: tuple[str, int] | None  # the scope whose target the totals row is held to


def levels_for(actor: Actor) -> list[LevelSpec]:
    """A branch head sees every level of the branch; a team lead the team and its people; anyone else
    themselves."""
    level = actor.level(Domain.CUSTOMER)
    branch = actor.branch_id or 0
    if level == Level.BRANCH:
        top = (ScopeKind.BRANCH, branch)
        return [
            LevelSpec(ScopeKind.BRANCH, {}, top),
            LevelSpec(ScopeKind.SUB_BRANCH, {}, top),
            LevelSpec(ScopeKind.TEAM, {}, top),
            LevelSpec(ScopeKind.STAFF, {}, top),
        ]
    if level == Level.TEAM and actor.team_id is not None:
        team = {"team_id": actor.team_id}
        return [
            LevelSpec(ScopeKind.TEAM, team, (ScopeKind.TEAM, actor.team_id)),
            LevelSpec(ScopeKind.STAFF, team, (ScopeKind.TEAM, actor.team_id)),
        ]
    own = actor.staff_id or 0
    return [LevelSpec(ScopeKind.STAFF, {"staff_id": own}, (ScopeKind.STAFF, own))]


def _names(actor: Actor, spec: LevelSpec, keys: Iterable[Any]) -> dict[int, tuple[str, str]]:
    """Name and note of every row the level lists: everyone in it, and anyone the figures name."""
    present = [k for k in keys if k is not None]
    branch = actor.branch_id or 0
    if spec.scope == ScopeKind.SUB_BRANCH:
        subs = SubBranch.objects.filter(branch_id=branch).order_by("code")
        return {s.pk: (s.name, "") for s in subs}
    if spec.scope == ScopeKind.TEAM:
        team_id = spec.where.get("team_id")
        base = Q(pk=team_id) if team_id else Q(pk__in=present) | Q(branch_id=branch)
        teams = Team.objects.filter(base, branch_id=branch).values("id", "name", "sub_branch__name")
        return {t["id"]: (t["name"], t["sub_branch__name"] or "") for t in teams}
    if "staff_id" in spec.where:
        people: QuerySet[Staff] = Staff.objects.filter(pk=spec.where["staff_id"])
    else:
        members = Q(role__in=_LISTED_ROLES, user__is_active=True)
        if "team_id" in spec.where:
            members &= Q(team_id=spec.where["team_id"])
        people = Staff.objects.filter(members | Q(pk__in=present), branch_id=branch)
    rows = people.values("id", "name", "employee_no", "team__name")
    return {p["id"]: (p["name"], p["team__name"] or "") for p in rows}


def _unattributed(scope: str) -> str:
    if scope == ScopeKind.TEAM:
        return _("No team")
    if scope == ScopeKind.SUB_BRANCH:
        return _("No sub-branch")
    return _("Not attributed to anyone")


# --- targets ---------------------------------------------------------------------------------------------


TargetKey = tuple[str, int, str]  # (scope, scope id, figure)


@dataclass(frozen=True)
class TargetRow:
    """What the report reads of a target. A branch has a few thousand targets in force on a day (a month's
    and a quarter's plan), read as plain rows rather than model objects; half of them lose to another."""

    pk: int
    scope: str
    scope_id: int
    figure: str
    value: Decimal
    starts_on: dt.date
    ends_on: dt.date


_COLUMNS = ("id", "scope", "branch_id", "sub_branch_id", "team_id", "staff_id", "figure", "value")


def targets_on(user: Any, day: dt.date, month: tuple[dt.date, dt.date]) -> dict[TargetKey, TargetRow]:
    """The target in force on the day per scope and figure (one query). Periods of one scope and figure do
    not overlap; should two ever both hold, the month's own target wins, then the shorter period."""
    found: dict[TargetKey, TargetRow] = {}
    rows = Target.objects.for_staff(user).filter(starts_on__lte=day, ends_on__gte=day)
    for pk, scope, branch, sub, team, staff, figure, value, starts, ends in rows.order_by(
        "starts_on", "id"
    ).values_list(*_COLUMNS, "starts_on", "ends_on"):
        owner = {"branch": branch, "sub_branch": sub, "team": team, "staff": staff}[scope] or 0
        t = TargetRow(pk, scope, owner, figure, value, starts, ends)
        key = (scope, owner, figure)
        if key not in found or _preference(t, month) < _preference(found[key], month):
            found[key] = t
    return found


def _preference(t: TargetRow, month: tuple[dt.date, dt.date]) -> tuple[bool, int]:
    return ((t.starts_on, t.ends_on) != month, (t.ends_on - t.starts_on).days)


def period_actuals(
    user: Any, targets: Iterable[TargetRow], month_start: dt.date, day: dt.date
) -> dict[int, Any]:
    """Actuals of the targets that do not start with the month, from their own start (one grouped read per
    period and level, through read.progress)."""
    others = [t.pk for t in targets if t.starts_on != month_start]
    if not others:
        return {}
    # The few held to a quarter or a campaign, as Target objects for read.progress.
    targets_read = list(Target.objects.for_staff(user).filter(pk__in=others))
    return {p.target.pk: p.actual for p in read.progress(user, targets_read, day)}


# --- the report ------------------------------------------------------------------------------------------


def _cell(
    figure: str, on_day: Decimal | None, mtd: Decimal | None, target: TargetRow | None, ctx: _Context
) -> Cell:
    cell = Cell(figure, _q(figure, on_day), _q(figure, mtd))
    if target is None:
        return cell
    cell.target = target.value
    if (target.starts_on, target.ends_on) != ctx.month:
        cell.period = (target.starts_on, target.ends_on)
    cell.actual = cell.mtd if target.starts_on == ctx.month[0] else ctx.period_actual.get(target.pk)
    if cell.actual is not None and target.value:
        cell.done_pct = (cell.actual * HUNDRED / target.value).quantize(Decimal("0.1"))
    share = read.elapsed_share(target.starts_on, target.ends_on, ctx.day)
    cell.pace = read.pace(cell.actual, target.value, share)
    return cell


def _q(figure: str, value: Decimal | None) -> Decimal | None:
    return None if value is None else quantize(figure, value)


@dataclass
class _Context:
    day: dt.date
    month: tuple[dt.date, dt.date]
    targets: dict[TargetKey, TargetRow]
    period_actual: dict[int, Any]
    # Every level's figures on the day and month to date, each read once (read.levels).
    on_day: dict[str | None, read.Values]
    mtd: dict[str | None, read.Values]


def _row(
    key: int | None,
    name: str,
    note: str,
    on_day: dict[str, Decimal | None],
    mtd: dict[str, Decimal | None],
    target_of: tuple[str, int] | None,
    ctx: _Context,
) -> Row:
    cells = []
    for code in FIGURE_ORDER:
        target = ctx.targets.get((*target_of, code)) if target_of else None
        cells.append(_cell(code, on_day.get(code, _empty(code)), mtd.get(code, _empty(code)), target, ctx))
    return Row(key, name, note, cells)


def _empty(code: str) -> Decimal | None:
    return None if code == Figure.BALANCE_GROWTH else ZERO


def _sum(values: Iterable[dict[str, Decimal | None]]) -> dict[str, Decimal | None]:
    """Totals of a level: counts and money add up; balance growth is '—' only when no row has any."""
    total: dict[str, Decimal | None] = {code: _empty(code) for code in FIGURE_ORDER}
    for row in values:
        for code, value in row.items():
            if value is None:
                continue
            current = total.get(code)
            total[code] = value if current is None else current + value
    return total


def _level(
    user: Any, actor: Actor, spec: LevelSpec, branch_name: str, ctx: _Context, label: str
) -> LevelTable:
    column = LEVEL_COLUMN[spec.scope]
    # The level's narrowing (spec.where) is the viewer's own scope, which read.levels already applies.
    on_day, mtd = ctx.on_day[column], ctx.mtd[column]
    totals_target = spec.parent
    if column is None:
        # The branch level is one row: the branch's own figures, which are its totals.
        total = _row(None, branch_name, "", on_day.get(None, {}), mtd.get(None, {}), totals_target, ctx)
        return LevelTable(spec.scope, label, [], total)
    keys = set(on_day) | set(mtd)
    names = _names(actor, spec, keys)
    if spec.scope == ScopeKind.TEAM and "team_id" in spec.where:
        keys &= {spec.where["team_id"]}
    rows: list[Row] = []
    for key in sorted(set(names) | {k for k in keys if k is not None}):
        name, note = names.get(key, (f"#{key}", ""))
        rows.append(_row(key, name, note, on_day.get(key, {}), mtd.get(key, {}), (spec.scope, key), ctx))
    if None in keys and _has_any(on_day.get(None, {}), mtd.get(None, {})):
        # Figures counted without a team or person (e.g. money of a customer nobody owns) still add up.
        rows.append(
            _row(None, _unattributed(spec.scope), "", on_day.get(None, {}), mtd.get(None, {}), None, ctx)
        )
    total_day = _sum(on_day.get(r.key, {}) for r in rows)
    total_mtd = _sum(mtd.get(r.key, {}) for r in rows)
    total = _row(None, _("Total"), "", total_day, total_mtd, totals_target, ctx)
    return LevelTable(spec.scope, label, rows, total)


def _has_any(*tables: dict[str, Decimal | None]) -> bool:
    return any(v for t in tables for v in t.values())


def sort_rows(rows: list[Row], sort: str) -> None:
    """By name (the default), or by a figure's month to date, largest first."""
    rows.sort(key=lambda r: (r.key is None, r.name))
    if sort in FIGURES:
        rows.sort(key=lambda r: (r.key is not None, r.cell(sort).mtd or ZERO), reverse=True)


def build_report(user: Any, day: dt.date, sort: str = "name") -> Report:
    """The whole report for the viewer's levels on the day (see the module docstring for the queries)."""
    actor = actor_of(user)
    month = month_of(day)
    targets = targets_on(user, day, month)
    ctx = _Context(
        day,
        month,
        targets,
        period_actuals(user, targets.values(), month[0], day),
        read.levels(user, day, day),
        read.levels(user, month[0], day),
    )
    branch_name = Branch.objects.filter(pk=actor.branch_id or 0).values_list("name", flat=True).first() or ""
    labels = dict(ScopeKind.choices)
    levels = []
    for spec in levels_for(actor):
        table = _level(user, actor, spec, branch_name, ctx, str(labels[spec.scope]))
        sort_rows(table.rows, sort)
        levels.append(table)
    elapsed = read.elapsed_share(month[0], month[1], day)
    return Report(
        day=day,
        month_start=month[0],
        month_end=month[1],
        branch_name=branch_name,
        levels=levels,
        refreshed=read.last_refresh(user),
        elapsed_pct=(elapsed * HUNDRED).quantize(Decimal("0.1")),
        sort=sort,
        is_yesterday=day == local_today() - dt.timedelta(1),
    )
