"""Reads behind the supervision pages (营销展业流程督导): the live team board, conversion by objection and
rebuttal, and the figures the campaign planner starts from.

Scoping (compliance A-02) is the querysets' `for_staff`: a team lead reads the outcomes recorded by their
team and sees their team's people, a branch head the whole branch. Outcomes are append-only (C-15): a
correction is a new row pointing at the one it corrects, so every count here reads only the rows nobody has
corrected (`corrected_by` is empty), which counts a corrected contact once, as its correction.

Counting happens in the database, one grouped query with conditional aggregation per table, so a page costs
the same handful of queries whatever the size of the team.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaodai.core.access import actor_of
from xiaodai.core.roles import ROLE_PERMS, Perm, Role
from xiaodai.customers.choices import INTERESTED, NOT_REACHED, ContactOutcome
from xiaodai.org.models import Staff
from xiaodai.outreach.choices import Objection, WorkChannel
from xiaodai.outreach.models import ContactPolicy, Outcome, ScriptVersion
from xiaodai.outreach.planner import DEFAULT_CONNECT_RATE
from xiaodai.pools import rules as pool_rules
from xiaodai.pools.models import PoolFigure
from xiaodai.pools.selectors import latest_run, top_level

# People with a calling workload: every role that works call lists, except the branch head (who supervises;
# a head who did make calls today still gets a row, see `board`).
CALLER_ROLES = tuple(
    r for r in Role.values if Perm.WORK_CALLS in ROLE_PERMS.get(r, ()) and r != Role.BRANCH_HEAD
)
PHONE = Q(channel=WorkChannel.PHONE)
CONVERTED = Q(outcome__in=INTERESTED)  # interested, will apply, applied
MAX_PERIOD_DAYS = 366


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A local (Asia/Shanghai) calendar day as a half-open UTC-aware range."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone())
    return start, start + dt.timedelta(days=1)


def current(user: Any) -> QuerySet[Outcome]:
    """The viewer's outcomes as they stand now: corrected originals replaced by their corrections."""
    return Outcome.objects.for_staff(user).filter(corrected_by__isnull=True)


# --- parameters -------------------------------------------------------------------------------------------


def parse_day(params: QueryDict, today: dt.date) -> tuple[dt.date, str]:
    """The board's day (`?day=YYYY-MM-DD`): today when absent; today and a message when unusable."""
    raw = params.get("day", "").strip()
    if not raw:
        return today, ""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return today, _("“%(value)s” is not a date: use the date picker (YYYY-MM-DD).") % {"value": raw[:20]}
    if day > today:
        return today, _("%(day)s has not happened yet: showing today.") % {"day": day.isoformat()}
    return day, ""


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, inclusive
    end: dt.date  # last day, inclusive

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return day_bounds(self.start)[0], day_bounds(self.end)[1]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(params: QueryDict, today: dt.date, default_days: int) -> tuple[Period, str]:
    """`?from=…&to=…` (inclusive local days); the last `default_days` days when absent or unusable, with a
    message saying what was wrong."""
    default = Period(today - dt.timedelta(days=default_days - 1), today)
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    if not raw_from and not raw_to:
        return default, ""
    try:
        start = dt.date.fromisoformat(raw_from) if raw_from else default.start
        end = dt.date.fromisoformat(raw_to) if raw_to else today
    except ValueError:
        return default, _("Dates are written YYYY-MM-DD: showing the last %(days)s days.") % {
            "days": default_days
        }
    if end > today:
        return default, _("The period cannot end after today: showing the last %(days)s days.") % {
            "days": default_days
        }
    if start > end:
        return default, _("The period starts after it ends: showing the last %(days)s days.") % {
            "days": default_days
        }
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        return default, _("A period is at most a year: showing the last %(days)s days.") % {
            "days": default_days
        }
    return Period(start, end), ""


# --- the live team board ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """A person's (or a team's) contacts of one day."""

    calls: int = 0  # phone outcomes
    reached: int = 0  # phone outcomes other than no answer, busy, wrong number
    interested: int = 0  # customers who ended interested, will apply or applied, any channel
    applied: int = 0  # customers who applied, any channel
    visits: int = 0
    wechat: int = 0
    capacity: int = 0  # the workload plan: daily call capacity

    def add(self, other: Tally) -> None:
        for name in ("calls", "reached", "interested", "applied", "visits", "wechat", "capacity"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def progress(self) -> int | None:
        """Calls against the plan, in percent (may pass 100)."""
        return round(self.calls * 100 / self.capacity) if self.capacity else None

    @property
    def bar(self) -> int:
        """The progress bar's width: the percent, capped at the bar's end."""
        return min(self.progress or 0, 100)

    @property
    def reach_rate(self) -> int | None:
        return round(self.reached * 100 / self.calls) if self.calls else None


@dataclass
class PersonRow:
    staff_id: int
    name: str
    employee_no: str
    team: str
    tally: Tally


@dataclass
class TeamRow:
    name: str
    people: int
    tally: Tally


@dataclass
class Board:
    day: dt.date
    is_today: bool
    sort: str
    rows: list[PersonRow]
    total: Tally
    teams: list[TeamRow]
    updated_at: dt.datetime


BOARD_SORTS: dict[str, Any] = {
    "name": lambda r: (r.name, r.employee_no),
    "team": lambda r: (r.team, r.name, r.employee_no),
    "calls": lambda r: r.tally.calls,
    "reached": lambda r: r.tally.reached,
    "interested": lambda r: r.tally.interested,
    "applied": lambda r: r.tally.applied,
    "visits": lambda r: r.tally.visits,
    "wechat": lambda r: r.tally.wechat,
    "progress": lambda r: r.tally.progress if r.tally.progress is not None else -1,
}


def board_sort(params: QueryDict) -> str:
    value = params.get("sort", "")
    return value if value.lstrip("-") in BOARD_SORTS else "team"


def board(user: Any, day: dt.date, sort: str = "team") -> Board:
    """Per person of the viewer's scope, one day: calls, reached, interested, applied, visits and WeChat
    contacts against the daily call capacity (two queries: the grouped counts and the people)."""
    start, end = day_bounds(day)
    counts = {
        row.pop("staff_id"): row
        for row in current(user)
        .filter(occurred_at__gte=start, occurred_at__lt=end)
        .order_by()
        .values("staff_id")
        .annotate(
            calls=Count("id", filter=PHONE),
            reached=Count("id", filter=PHONE & ~Q(outcome__in=NOT_REACHED)),
            interested=Count("customer_id", distinct=True, filter=CONVERTED),
            applied=Count("customer_id", distinct=True, filter=Q(outcome=ContactOutcome.APPLIED)),
            visits=Count("id", filter=Q(channel=WorkChannel.VISIT)),
            wechat=Count("id", filter=Q(channel=WorkChannel.WECHAT)),
        )
    }
    people = (
        Staff.objects.for_staff(user)
        .filter(Q(role__in=CALLER_ROLES, user__is_active=True) | Q(pk__in=list(counts)))
        .values("id", "name", "employee_no", "team__name", "daily_capacity")
    )
    rows = [
        PersonRow(
            staff_id=p["id"],
            name=p["name"],
            employee_no=p["employee_no"],
            team=p["team__name"] or "",
            tally=Tally(**counts.get(p["id"], {}), capacity=p["daily_capacity"]),
        )
        for p in people
    ]
    key = sort.lstrip("-")
    rows.sort(key=BOARD_SORTS["name"])
    rows.sort(key=BOARD_SORTS[key], reverse=sort.startswith("-"))
    total = Tally()
    by_team: dict[str, TeamRow] = {}
    for row in rows:
        total.add(row.tally)
        team = by_team.setdefault(row.team, TeamRow(row.team, 0, Tally()))
        team.people += 1
        team.tally.add(row.tally)
    return Board(
        day=day,
        is_today=day == timezone.localdate(),
        sort=sort,
        rows=rows,
        total=total,
        teams=sorted(by_team.values(), key=lambda t: (t.name == "", t.name)),
        updated_at=timezone.localtime(),
    )


# --- conversion by objection and rebuttal -------------------------------------------------------------------

MIN_USES_TO_RANK = 5  # a rebuttal used fewer times is not called the best, however well it did


@dataclass
class RebuttalRow:
    """One rebuttal (a script version and its index); with `index` None, the contacts where none was
    recorded."""

    script_version_id: int | None
    index: int | None
    title: str  # the script's title ("" when no script version was recorded)
    version: int | None
    text: str
    used: int = 0
    interested: int = 0
    will_apply: int = 0
    applied: int = 0
    best: bool = False

    @property
    def script(self) -> str:
        return f"{self.title} v{self.version}" if self.title else ""

    def short_script(self, width: int = 16) -> str:
        title = self.title if len(self.title) <= width else self.title[: width - 1] + "…"
        return f"{title} v{self.version}" if title else "—"

    @property
    def converted(self) -> int:
        return self.interested + self.will_apply + self.applied

    @property
    def rate(self) -> int | None:
        return round(self.converted * 100 / self.used) if self.used else None


@dataclass
class ObjectionRow:
    code: str
    label: str
    raised: int = 0
    rebuttals: list[RebuttalRow] = field(default_factory=list)
    none: RebuttalRow | None = None  # contacts where no rebuttal was recorded

    @property
    def converted(self) -> int:
        return sum(r.converted for r in self.rebuttals) + (self.none.converted if self.none else 0)

    @property
    def rate(self) -> int | None:
        return round(self.converted * 100 / self.raised) if self.raised else None


@dataclass
class Objections:
    period: Period
    channel: str
    rows: list[ObjectionRow]
    chart: dict[str, Any]

    @property
    def raised(self) -> int:
        return sum(r.raised for r in self.rows)


OBJECTION_LABELS = dict(Objection.choices)


def objections(user: Any, period: Period, channel: str = "") -> Objections:
    """Per objection raised in the period: how often, and per rebuttal used how often and how many of those
    contacts ended interested, will apply or applied (two queries: the counts and the script versions)."""
    start, end = period.bounds
    scoped = current(user).filter(occurred_at__gte=start, occurred_at__lt=end).exclude(objection="")
    if channel:
        scoped = scoped.filter(channel=channel)
    counted = list(
        scoped.order_by()
        .values("objection", "script_version_id", "rebuttal")
        .annotate(
            used=Count("id"),
            interested=Count("id", filter=Q(outcome=ContactOutcome.INTERESTED)),
            will_apply=Count("id", filter=Q(outcome=ContactOutcome.WILL_APPLY)),
            applied=Count("id", filter=Q(outcome=ContactOutcome.APPLIED)),
        )
    )
    versions = _versions(user, {r["script_version_id"] for r in counted if r["rebuttal"] is not None})
    by_code: dict[str, ObjectionRow] = {}
    for r in counted:
        code = r["objection"]
        row = by_code.setdefault(code, ObjectionRow(code, str(OBJECTION_LABELS.get(code, code))))
        row.raised += r["used"]
        figures = {k: r[k] for k in ("used", "interested", "will_apply", "applied")}
        if r["rebuttal"] is None:
            none = row.none or RebuttalRow(None, None, "", None, "")
            for k, v in figures.items():
                setattr(none, k, getattr(none, k) + v)
            row.none = none
            continue
        version = versions.get(r["script_version_id"] or 0)
        title, number = (version["script__title"], version["version"]) if version else ("", None)
        text = _rebuttal_text(version, code, r["rebuttal"])
        row.rebuttals.append(
            RebuttalRow(r["script_version_id"], r["rebuttal"], title, number, text, **figures)
        )
    rows = sorted(by_code.values(), key=lambda o: (-o.raised, o.code))
    for row in rows:
        row.rebuttals.sort(key=lambda b: (-(b.rate or 0), -b.used, b.script, b.index or 0))
        ranked = [b for b in row.rebuttals if b.used >= MIN_USES_TO_RANK]
        if len(ranked) > 1:
            max(ranked, key=lambda b: (b.rate or 0, b.used)).best = True
    return Objections(period=period, channel=channel, rows=rows, chart=_rebuttal_chart(rows))


def _versions(user: Any, ids: set[int | None]) -> dict[int, dict[str, Any]]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    branch_id = actor_of(user).branch_id or 0
    rows = ScriptVersion.objects.filter(pk__in=wanted, script__branch_id=branch_id).values(
        "id", "version", "script__title", "objections"
    )
    return {r["id"]: dict(r) for r in rows}


def _rebuttal_text(version: dict[str, Any] | None, code: str, index: int) -> str:
    """The rebuttal's words, from ScriptVersion.objections[code][index]."""
    if version is None:
        return _("Rebuttal #%(n)s (no script version recorded)") % {"n": index + 1}
    answers = (version["objections"] or {}).get(code) or []
    if isinstance(answers, list) and 0 <= index < len(answers):
        return str(answers[index])
    return _("Rebuttal #%(n)s (no longer in the script)") % {"n": index + 1}


CHART_REBUTTALS = 12


def _rebuttal_chart(rows: list[ObjectionRow]) -> dict[str, Any]:
    """The most used rebuttals: times used and contacts that ended interested or better, best rate on top."""
    items = [(o, b) for o in rows for b in o.rebuttals]
    items = sorted(items, key=lambda ob: -ob[1].used)[:CHART_REBUTTALS]
    items.sort(key=lambda ob: (ob[1].rate or 0, ob[1].used))
    # The tables below carry the rebuttal's words; the bar names the objection, the script and the index.
    labels = [f"{o.label} · {b.short_script()} #{(b.index or 0) + 1}" for o, b in items]
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": labels},
        "series": [
            {"name": _("Times used"), "type": "bar", "data": [b.used for _o, b in items]},
            {
                "name": _("Ended interested or better"),
                "type": "bar",
                "data": [b.converted for _o, b in items],
            },
        ],
    }


# --- the planner's starting figures -------------------------------------------------------------------------

MIN_CALLS_FOR_RATE = 100  # fewer calls than this measure no connect rate worth planning on
RATE_DAYS = 30
DEFAULT_WINDOW_HOURS = 11.0  # 09:00-20:00, ContactPolicy's default (C-04)


@dataclass(frozen=True)
class MeasuredRate:
    rate: float  # the rate to plan with (measured, or the default)
    calls: int
    reached: int
    measured: bool  # False: too few calls, the default is used

    @property
    def percent(self) -> float:
        return self.rate * 100


def connect_rate(user: Any) -> MeasuredRate:
    """Reached ÷ calls over the viewer's phone outcomes of the last 30 days (one query)."""
    since = timezone.now() - dt.timedelta(days=RATE_DAYS)
    got = (
        current(user)
        .filter(PHONE, occurred_at__gte=since)
        .aggregate(calls=Count("id"), reached=Count("id", filter=~Q(outcome__in=NOT_REACHED)))
    )
    calls, reached = int(got["calls"] or 0), int(got["reached"] or 0)
    if calls < MIN_CALLS_FOR_RATE:
        return MeasuredRate(DEFAULT_CONNECT_RATE, calls, reached, measured=False)
    return MeasuredRate(reached / calls, calls, reached, measured=True)


@dataclass(frozen=True)
class PoolSize:
    code: str  # "" = all pools, customers counted once
    name: str
    workable: int


@dataclass(frozen=True)
class PoolSizes:
    data_date: dt.date | None
    pools: list[PoolSize]  # "all pools" first, then each pool with workable customers

    def get(self, code: str) -> PoolSize | None:
        return next((p for p in self.pools if p.code == code), None)


ALL_POOLS = gettext_lazy("All pools (each customer once)")


def pool_sizes(user: Any) -> PoolSizes:
    """Workable customers per pool in the latest published run, at the widest level the viewer sees (the
    branch for a head, their team for a lead), added up over the units of that level (one query + the run)."""
    run = latest_run(user)
    if run is None:
        return PoolSizes(None, [])
    rows = (
        PoolFigure.objects.for_staff(user)
        .filter(run=run, level=top_level(user))
        .order_by()
        .values("pool")
        .annotate(workable=Sum("workable"), primary=Sum("primary_workable"))
    )
    by_pool = {r["pool"]: r for r in rows}
    pools = [
        PoolSize(p.code, str(p.name), int(by_pool[p.code]["workable"] or 0))
        for p in pool_rules.POOLS
        if p.code in by_pool and by_pool[p.code]["workable"]
    ]
    everyone = sum(int(r["primary"] or 0) for r in by_pool.values())
    return PoolSizes(run.data_date, [PoolSize("", str(ALL_POOLS), everyone), *pools] if pools else [])


def window_hours(user: Any) -> float:
    """Length of the branch's calling window (C-04): nobody calls longer than it a day."""
    branch_id = actor_of(user).branch_id or 0
    window = (
        ContactPolicy.objects.filter(branch_id=branch_id).values_list("window_start", "window_end").first()
    )
    if window is None:
        return DEFAULT_WINDOW_HOURS
    start, end = (dt.datetime.combine(dt.date(2000, 1, 1), t) for t in window)
    return max((end - start).total_seconds() / 3600, 0.0)


def callers_in_scope(user: Any) -> int:
    """How many people with a calling workload the viewer supervises (the planner's default callers)."""
    return Staff.objects.for_staff(user).filter(role__in=CALLER_ROLES, user__is_active=True).count()
