"""Reads behind the capital-flow pages: the signals by kind, first sightings over time, conversions after a
signal against pool customers without one, the closed loop and data quality of the runs, the customers behind
the signals, the rules and the loan-use alerts.

Scoping (compliance A-02) is always the querysets' `for_staff`: signals, sightings and alerts through their
customer as it is now; FlowRun figures are the branch's, so only a viewer who sees the whole branch gets them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncWeek
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaodai.core.rule_history import Change, VersionRow, active_change, history, listed, params_changes
from xiaodai.customers.models import Application, Customer
from xiaodai.pools.models import PoolMember
from xiaodai.signals import mcc
from xiaodai.signals import rules as r
from xiaodai.signals.choices import AlertKind, AlertStatus, Kind, SalaryChange, Scenario
from xiaodai.signals.models import FlowAlert, FlowRun, Signal, SignalLog, SignalRule, SignalRuleVersion

ZERO = Decimal(0)
CHART_WEEKS = 26
CONVERSION_DAYS = 90  # the default period of the conversion table
CONVERSION_WINDOW = 30  # an application this many days after the signal counts as its conversion
MAX_PERIOD_DAYS = 366
LOOP_RUNS = 60  # the closed-loop chart: this many data dates at most
# The details a kind can carry (GET parameters are these codes, never personal data).
DETAILS: dict[str, list[tuple[str, Any]]] = {
    Kind.SCENARIO: list(Scenario.choices),
    Kind.SALARY_CHANGE: list(SalaryChange.choices),
}


# --- the overview page ------------------------------------------------------------------------------------


@dataclass
class DetailFigure:
    code: str
    label: str
    customers: int
    amount: Decimal


@dataclass
class KindCard:
    """The current signals of one kind: customers, signals, their amount, and those new since the last run."""

    kind: str
    label: str
    customers: int = 0
    signals: int = 0
    amount: Decimal = ZERO
    new: int = 0
    details: list[DetailFigure] = field(default_factory=list)


def kind_cards(user: Any) -> list[KindCard]:
    """One card per kind, in the order of Kind (two grouped queries)."""
    qs = Signal.objects.for_staff(user).order_by()
    by_kind = {
        row["kind"]: row
        for row in qs.values("kind").annotate(
            n_customers=Count("customer_id", distinct=True),
            n_signals=Count("id"),
            total=Sum("amount"),
            n_new=Count("id", filter=Q(is_new=True)),
        )
    }
    details: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    rows = qs.exclude(detail="").values("kind", "detail")
    for row in rows.annotate(n_customers=Count("customer_id", distinct=True), total=Sum("amount")):
        details[row["kind"]][row["detail"]] = row
    cards = []
    for code, label in Kind.choices:
        card = KindCard(code, str(label))
        if code in by_kind:
            row = by_kind[code]
            card.customers, card.signals, card.new = row["n_customers"], row["n_signals"], row["n_new"]
            card.amount = row["total"] or ZERO
        for detail, detail_label in DETAILS.get(code, []):
            found = details[code].get(detail)
            if found:
                card.details.append(
                    DetailFigure(detail, str(detail_label), found["n_customers"], found["total"])
                )
        cards.append(card)
    return cards


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_chart(user: Any, today: dt.date) -> tuple[dict[str, Any], int]:
    """Signals first seen per week (Monday to Sunday) and kind, the last CHART_WEEKS weeks: stacked bars; and
    how many sightings the chart holds."""
    weeks = [_week_start(today) - dt.timedelta(weeks=i) for i in range(CHART_WEEKS - 1, -1, -1)]
    counts: dict[tuple[dt.date, str], int] = {}
    logs = SignalLog.objects.for_staff(user).filter(seen_on__gte=weeks[0], seen_on__lte=today)
    for row in (
        logs.annotate(week=TruncWeek("seen_on")).values("week", "kind").annotate(n=Count("id")).order_by()
    ):
        week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
        counts[(week, row["kind"])] = row["n"]
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "type": "scroll"},  # one line whatever the card's width
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [w.strftime("%m-%d") for w in weeks]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": str(label),
                "type": "bar",
                "stack": "signals",
                "emphasis": {"focus": "series"},
                "data": [counts.get((w, code), 0) for w in weeks],
            }
            for code, label in Kind.choices
        ],
    }
    return option, sum(counts.values())


# --- conversions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, inclusive
    end: dt.date  # last day, inclusive


def parse_period(
    params: QueryDict, today: dt.date, default_days: int = CONVERSION_DAYS
) -> tuple[Period, str]:
    """`?from=…&to=…` (local days, inclusive); the last `default_days` days when absent or unusable, with a
    message saying what was wrong."""
    default = Period(today - dt.timedelta(days=default_days - 1), today)
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    if not raw_from and not raw_to:
        return default, ""
    fallback = _("showing the last %(days)s days.") % {"days": default_days}
    try:
        start = dt.date.fromisoformat(raw_from) if raw_from else default.start
        end = dt.date.fromisoformat(raw_to) if raw_to else today
    except ValueError:
        return default, _("Dates are written YYYY-MM-DD: %(then)s") % {"then": fallback}
    if end > today:
        return default, _("The period cannot end after today: %(then)s") % {"then": fallback}
    if start > end:
        return default, _("The period starts after it ends: %(then)s") % {"then": fallback}
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        return default, _("A period is at most a year: %(then)s") % {"then": fallback}
    return Period(start, end), ""


@dataclass
class ConversionRow:
    key: str  # a kind, or "total" / "baseline"
    label: str
    customers: int = 0
    converted: int = 0
    lift: float | None = None  # rate ÷ the baseline's rate

    @property
    def rate(self) -> float | None:
        """Converted customers in percent."""
        return self.converted * 100 / self.customers if self.customers else None


@dataclass
class Conversions:
    period: Period
    window: int
    rows: list[ConversionRow]  # per kind
    total: ConversionRow  # customers with any signal
    baseline: ConversionRow  # pool customers without a signal


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_default_timezone())


def conversions(user: Any, period: Period, window: int = CONVERSION_WINDOW) -> Conversions:
    """Customers with a signal first seen in the period, and how many started an application within `window`
    days after a sighting (the day itself included), per kind and in total; against the customers in scope
    in a pool with no signal first seen in the period, and how many started an application in the period.
    Lift = a rate ÷ the baseline rate."""
    logs = SignalLog.objects.for_staff(user).filter(seen_on__gte=period.start, seen_on__lte=period.end)
    seen: dict[int, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, kind, seen_on in logs.values_list("customer_id", "kind", "seen_on").iterator():
        seen[customer_id][kind].append(seen_on)
    applied: dict[int, list[dt.date]] = defaultdict(list)
    if seen:
        apps = Application.objects.filter(
            customer__in=logs.values("customer_id"),
            started_at__gte=_local_start(period.start),
            started_at__lt=_local_start(period.end + dt.timedelta(days=window + 1)),
        )
        for customer_id, started_at in apps.values_list("customer_id", "started_at").iterator():
            applied[customer_id].append(timezone.localtime(started_at).date())

    def converted(customer_id: int, days: list[dt.date]) -> bool:
        return any(
            s <= a <= s + dt.timedelta(days=window) for s in days for a in applied.get(customer_id, ())
        )

    rows = {code: ConversionRow(code, str(label)) for code, label in Kind.choices}
    total = ConversionRow("total", _("Any signal"))
    for customer_id, kinds in seen.items():
        for kind, days in kinds.items():
            row = rows.get(kind)
            if row is not None:
                row.customers += 1
                row.converted += converted(customer_id, days)
        total.customers += 1
        total.converted += converted(customer_id, [d for days in kinds.values() for d in days])

    with_signal = SignalLog.objects.filter(
        customer=OuterRef("pk"), seen_on__gte=period.start, seen_on__lte=period.end
    )
    started = Application.objects.filter(
        customer=OuterRef("pk"),
        started_at__gte=_local_start(period.start),
        started_at__lt=_local_start(period.end + dt.timedelta(days=1)),
    )
    base = (
        Customer.objects.for_staff(user)
        .filter(Exists(PoolMember.objects.filter(customer=OuterRef("pk"))))
        .exclude(Exists(with_signal))
        .aggregate(n=Count("pk"), converted=Count("pk", filter=Q(Exists(started))))
    )
    baseline = ConversionRow("baseline", _("In a pool, no signal"), base["n"], base["converted"])
    for row in [*rows.values(), total]:
        if row.rate is not None and baseline.rate:
            row.lift = row.rate / baseline.rate
    return Conversions(period, window, list(rows.values()), total, baseline)


# --- the closed loop and data quality (branch figures) ----------------------------------------------------


@dataclass
class QualityRow:
    key: str
    label: str
    count: int
    share: float | None  # of the transactions read, in percent
    used: bool  # counted but still used (True) or left out (False)


QUALITY_FIELDS: tuple[tuple[str, Any, bool], ...] = (
    ("duplicates", gettext_lazy("Duplicated transaction ids (counted once)"), False),
    ("foreign_currency", gettext_lazy("Currencies other than CNY (left out)"), False),
    ("bad_amount", gettext_lazy("Zero amounts or signs against the direction (left out)"), False),
    ("unknown_mcc", gettext_lazy("Unknown merchant codes (used, not classified by code)"), True),
    ("missing_counterparty", gettext_lazy("Missing counterparty (used, no name matching)"), True),
)


def quality(run: FlowRun) -> list[QualityRow]:
    return [
        QualityRow(
            key, str(label), getattr(run, key), getattr(run, key) * 100 / run.read if run.read else None, used
        )
        for key, label, used in QUALITY_FIELDS
    ]


@dataclass
class LoopPoint:
    data_date: dt.date
    disbursed: Decimal
    closed_loop: Decimal

    @property
    def rate(self) -> float | None:
        return float(self.closed_loop * 100 / self.disbursed) if self.disbursed else None


def flow_runs(user: Any) -> list[FlowRun]:
    """The branch's runs, newest first, one per data date (the latest run of a date); none for a viewer who
    does not see the whole branch."""
    out: list[FlowRun] = []
    dates: set[dt.date] = set()
    for run in FlowRun.objects.for_staff(user).order_by("-data_date", "-run_id")[: LOOP_RUNS * 3]:
        if run.data_date not in dates:
            dates.add(run.data_date)
            out.append(run)
        if len(out) == LOOP_RUNS:
            break
    return out


def loop_chart(runs: list[FlowRun]) -> dict[str, Any]:
    """The closed-loop rate by data date: a line, oldest on the left."""
    points = [LoopPoint(r.data_date, r.disbursed, r.closed_loop) for r in reversed(runs)]
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [p.data_date.isoformat() for p in points]},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": _("Closed-loop rate"),
                "type": "line",
                "smooth": False,
                "showSymbol": len(points) < 40,
                "connectNulls": False,
                "data": [None if p.rate is None else round(p.rate, 1) for p in points],
            }
        ],
    }


# --- the customers behind the signals ---------------------------------------------------------------------

SIGNAL_SORTS: dict[str, tuple[str, ...]] = {
    "-date": ("-last_on", "-amount", "customer_id", "id"),
    "date": ("last_on", "amount", "customer_id", "id"),
    "-amount": ("-amount", "-last_on", "customer_id", "id"),
    "amount": ("amount", "last_on", "customer_id", "id"),
}
DEFAULT_SIGNAL_SORT = "-date"


@dataclass(frozen=True)
class SignalFilter:
    """The list's filters: codes only (never personal data in a URL); "" when not given."""

    kind: str = ""
    detail: str = ""
    new: bool = False
    sort: str = DEFAULT_SIGNAL_SORT

    @property
    def filtered(self) -> bool:
        return bool(self.kind or self.detail or self.new)

    @property
    def details(self) -> list[tuple[str, str]]:
        """The detail choices of the chosen kind, for its select."""
        return [(code, str(label)) for code, label in DETAILS.get(self.kind, [])]


def signal_filter(params: QueryDict) -> SignalFilter:
    """Unknown codes are ignored (a typo or a tampered value is never a 500); a detail without its kind brings
    its kind along."""
    kind = params.get("kind", "")
    kind = kind if kind in Kind.values else ""
    detail = params.get("detail", "")
    owners = [k for k, choices in DETAILS.items() if detail in {code for code, _label in choices}]
    if not owners or (kind and kind not in owners):
        detail = ""
    elif not kind:
        kind = owners[0]
    sort = params.get("sort", "")
    return SignalFilter(
        kind=kind,
        detail=detail,
        new=params.get("new", "") == "1",
        sort=sort if sort in SIGNAL_SORTS else DEFAULT_SIGNAL_SORT,
    )


def signals(user: Any, flt: SignalFilter) -> QuerySet[Signal]:
    """The viewer's signals, filtered and sorted, with what each row shows in the same query."""
    qs = Signal.objects.for_staff(user)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.detail:
        qs = qs.filter(detail=flt.detail)
    if flt.new:
        qs = qs.filter(is_new=True)
    related = (
        "customer",
        "customer__sub_branch",
        "customer__owner",
        "customer__owner__team",
        "customer__worker",
    )
    return qs.select_related(*related).order_by(*SIGNAL_SORTS[flt.sort])


# --- rules ------------------------------------------------------------------------------------------------


def param_label(defn: r.SignalDef, name: str) -> str:
    found = next((p for p in defn.params if p.name == name), None)
    if found is None:
        return name
    unit = getattr(found, "unit", "")
    return f"{found.label} ({unit})" if unit else str(found.label)


def _changes(defn: r.SignalDef, old: SignalRuleVersion, new: SignalRuleVersion) -> list[Change]:
    """What a version changed compared with the one before it."""
    active = active_change(old, new)
    names = [p.name for p in defn.params]
    return ([active] if active else []) + params_changes(names, lambda n: param_label(defn, n), old, new)


def rule_history(rule: SignalRule) -> list[VersionRow]:
    """Every version of a rule, newest first, each with what it changed (one query)."""
    defn = r.BY_CODE[rule.code]
    versions = list(rule.versions.select_related("created_by").order_by("version"))
    return history(versions, lambda old, new: _changes(defn, old, new))


LIST_PREVIEW = 6


def shown_value(value: Any) -> str:
    """A parameter's value on the rules page: a list shows its first entries and how many there are."""
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        if len(items) <= LIST_PREVIEW:
            return ", ".join(items) or "—"
        more = _("%(n)s more") % {"n": len(items) - LIST_PREVIEW}
        return ", ".join(items[:LIST_PREVIEW]) + f" … ({more})"
    return str(value)


@dataclass(frozen=True)
class RuleRow:
    defn: r.SignalDef
    rule: SignalRule
    params: list[tuple[str, str]]  # (label with unit, value)


def rule_rows(rules: list[SignalRule]) -> list[RuleRow]:
    """The rules page: the general settings, then the rules in the order of rules.ALL."""
    return [
        RuleRow(
            r.BY_CODE[rule.code],
            rule,
            [
                (param_label(r.BY_CODE[rule.code], p.name), shown_value(rule.params.get(p.name, p.default)))
                for p in r.BY_CODE[rule.code].params
            ],
        )
        for rule in rules
        if rule.code in r.BY_CODE
    ]


@dataclass(frozen=True)
class CodeList:
    """What a merchant-code list covers: how many known codes, and the names of a few."""

    name: str
    size: int | None  # None when the stored list does not parse
    samples: list[tuple[str, str]]


MCC_SAMPLES = 5


def mcc_lists(defn: r.SignalDef, params: dict[str, Any]) -> dict[str, CodeList]:
    out = {}
    for p in defn.params:
        if isinstance(p, r.ListParam) and p.kind == "mcc":
            try:
                codes = mcc.expand(listed(params.get(p.name, p.default)), p.name)
            except ValueError:
                out[p.name] = CodeList(p.name, None, [])
                continue
            samples = [(code, mcc.label(code)) for code in codes[:MCC_SAMPLES]]
            out[p.name] = CodeList(p.name, len(codes), samples)
    return out


# --- loan-use alerts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFilter:
    status: str = ""
    kind: str = ""

    @property
    def filtered(self) -> bool:
        return bool(self.status or self.kind)


def alert_filter(params: QueryDict) -> AlertFilter:
    status, kind = params.get("status", ""), params.get("kind", "")
    return AlertFilter(
        status=status if status in AlertStatus.values else "",
        kind=kind if kind in AlertKind.values else "",
    )


def alerts(user: Any, flt: AlertFilter) -> QuerySet[FlowAlert]:
    """The viewer's alerts: open ones first, then the latest money movement first."""
    qs = FlowAlert.objects.for_staff(user)
    if flt.status:
        qs = qs.filter(status=flt.status)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    open_first = Case(
        When(status=AlertStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        qs.select_related("customer", "customer__sub_branch", "reviewed_by")
        .annotate(open_first=open_first)
        .order_by("open_first", "-flow_on", "-id")
    )


def alert_counts(user: Any) -> dict[str, int]:
    """Alerts per status in the viewer's scope (the tabs' badges)."""
    rows = FlowAlert.objects.for_staff(user).order_by().values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(AlertStatus.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
