"""Supervision pages (督导): the live team board, conversion by objection and rebuttal, the lift against the
control group, and the campaign planner. Read-only and thin: the counting is in supervision.py and lift.py,
the planner's arithmetic in planner.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from xiaodai.core.access import require_perm
from xiaodai.core.roles import Perm
from xiaodai.outreach import lift as lf
from xiaodai.outreach import planner as pl
from xiaodai.outreach import supervision as s
from xiaodai.outreach.choices import WorkChannel

OBJECTION_DAYS = 30
LIFT_DAYS = 90
HUNDRED = Decimal(100)


def _page(request: HttpRequest, template: str, tab: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"nav": "supervision", "tab": tab, **context})


@require_GET
@require_perm(Perm.SUPERVISE)
def board(request: HttpRequest) -> HttpResponse:
    """Per person, one day (today by default): contacts against the plan. htmx polls the partial every 30 s
    while the day is today."""
    day, error = s.parse_day(request.GET, timezone.localdate())
    data = s.board(request.user, day, s.board_sort(request.GET))
    context = {"board": data, "error": error}
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "outreach/supervision/partials/board.html", context)
    else:
        response = _page(request, "outreach/supervision/board.html", "board", context)
    patch_vary_headers(response, ["HX-Request"])  # the partial and the page share a URL
    return response


CHANNELS = [("", gettext_lazy("All channels")), *WorkChannel.choices]


@require_GET
@require_perm(Perm.SUPERVISE)
def objections(request: HttpRequest) -> HttpResponse:
    """Which rebuttals work: per objection type, each rebuttal's uses and how those contacts ended."""
    period, error = s.parse_period(request.GET, timezone.localdate(), OBJECTION_DAYS)
    channel = request.GET.get("channel", "")
    if channel not in WorkChannel.values:
        if channel:
            error = error or _("Unknown channel: showing all channels.")
        channel = ""
    data = s.objections(request.user, period, channel)
    context = {"data": data, "error": error, "channels": CHANNELS, "min_uses": s.MIN_USES_TO_RANK}
    return _page(request, "outreach/supervision/objections.html", "objections", context)


@require_GET
@require_perm(Perm.SUPERVISE)
def lift(request: HttpRequest) -> HttpResponse:
    """Control group against the customers who were called, on the application funnel."""
    period, error = s.parse_period(request.GET, timezone.localdate(), LIFT_DAYS)
    raw_batch = request.GET.get("batch", "").strip()
    batch_id: int | None = None
    if raw_batch:
        batch_id = int(raw_batch) if raw_batch.isdigit() else -1
    start, end = period.bounds
    data = lf.lift(request.user, start, end, batch_id)
    if batch_id is not None and data.batch is None:
        error = error or _(
            "Allocation #%(batch)s is not one of your allocations with a control group in this period: "
            "showing all of them."
        ) % {"batch": raw_batch[:12]}
    context = {"data": data, "period": period, "error": error, "min_group": lf.MIN_GROUP}
    return _page(request, "outreach/supervision/lift.html", "lift", context)


# --- the planner ------------------------------------------------------------------------------------------


def _number(label: Any, **kwargs: Any) -> forms.DecimalField:
    widget = forms.NumberInput(attrs={"class": "form-control", "step": "any"})
    return forms.DecimalField(
        label=label, required=False, max_digits=12, decimal_places=4, widget=widget, **kwargs
    )


class PlannerForm(forms.Form):
    """The planner's inputs. Percentages are typed as percentages (35 = 35%). The range checks are
    planner.validate's, so the messages name what is wrong the same way everywhere."""

    pool = forms.ChoiceField(label=gettext_lazy("Pool"), required=False)
    pool_size = _number(gettext_lazy("Customers to call"))
    connect_rate = _number(gettext_lazy("Connect rate (%)"))
    calls_per_hour = _number(gettext_lazy("Calls per caller per hour"))
    hours_per_day = _number(gettext_lazy("Calling hours per day"))
    attempts = _number(gettext_lazy("Attempts per customer at most"))
    retry_factor = _number(gettext_lazy("Each retry connects at (percent of the previous attempt)"))
    callers = _number(gettext_lazy("Callers"))
    days = _number(gettext_lazy("Days"))

    WHOLE = ("pool_size", "attempts", "callers", "days")

    def __init__(
        self, data: Any, pools: s.PoolSizes, max_hours: float, initial: dict[str, str] | None = None
    ) -> None:
        super().__init__(data, initial=initial)
        self.pools = pools
        self.max_hours = max_hours
        pool_field = self.fields["pool"]
        assert isinstance(pool_field, forms.ChoiceField)
        pool_field.choices = [(p.code, f"{p.name} · {p.workable:,}") for p in pools.pools] or [
            ("", _("No pool figures yet"))
        ]
        pool_field.widget.attrs["class"] = "form-select"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.WHOLE:
            value = data.get(name)
            if value is not None and value != value.to_integral_value():
                self.add_error(name, _("Give a whole number."))
        if data.get("pool_size") is None and not self.has_error("pool_size"):
            chosen = self.pools.get(data.get("pool") or "")
            if chosen is None:
                self.add_error(
                    "pool_size", _("Type the number of customers: there are no pool figures to start from.")
                )
            else:
                data["pool_size"] = Decimal(chosen.workable)
        for name in ("calls_per_hour", "hours_per_day", "connect_rate", "attempts", "retry_factor"):
            if data.get(name) is None and not self.has_error(name):
                self.add_error(name, _("This input is needed."))
        if self.errors:
            return data
        try:
            pl.validate(self.inputs(), self.max_hours)
        except pl.PlanError as exc:
            self.add_error(exc.field, exc.message)
        for name in ("callers", "days"):
            value = data.get(name)
            if value is not None and value < 1:
                self.add_error(name, pl.MESSAGES[name])
        return data

    def inputs(self) -> pl.Inputs:
        d = self.cleaned_data
        return pl.Inputs(
            pool_size=int(d["pool_size"]),
            connect_rate=float(d["connect_rate"] / HUNDRED),
            calls_per_hour=float(d["calls_per_hour"]),
            hours_per_day=float(d["hours_per_day"]),
            attempts=int(d["attempts"]),
            retry_factor=float(d["retry_factor"] / HUNDRED),
        )


INPUTS = ("pool", "pool_size", "connect_rate", "calls_per_hour", "hours_per_day", "attempts", "retry_factor")


def _defaults(rate: s.MeasuredRate, callers: int) -> dict[str, str]:
    return {
        "pool": "",
        "connect_rate": f"{rate.rate * 100:.1f}",
        "calls_per_hour": str(pl.DEFAULT_CALLS_PER_HOUR),
        "hours_per_day": f"{pl.DEFAULT_HOURS_PER_DAY:g}",
        "attempts": str(pl.DEFAULT_ATTEMPTS),
        "retry_factor": f"{pl.DEFAULT_RETRY_FACTOR * 100:g}",
        "callers": str(callers) if callers else "",
    }


@require_GET
@require_perm(Perm.SUPERVISE)
def planner(request: HttpRequest) -> HttpResponse:
    """Days × callers for a concentrated calling campaign. A GET form: the first visit computes with the
    starting figures (pool figures, the measured connect rate, the team's callers); any submitted input
    replaces them, and a bad one is refused with its reason."""
    pools = s.pool_sizes(request.user)
    rate = s.connect_rate(request.user)
    max_hours = s.window_hours(request.user)
    defaults = _defaults(rate, s.callers_in_scope(request.user))
    submitted = any(k in request.GET for k in (*INPUTS, "callers", "days"))
    if submitted:
        form = PlannerForm(request.GET, pools, max_hours)
    elif pools.pools:
        form = PlannerForm(defaults, pools, max_hours)
    else:  # nothing to start from: an empty form, no errors before anyone typed anything
        form = PlannerForm(None, pools, max_hours, initial=defaults)
    need = by_callers = by_days = None
    if form.is_bound and form.is_valid():
        need = pl.need(form.inputs(), max_hours)
        callers, days = form.cleaned_data.get("callers"), form.cleaned_data.get("days")
        by_callers = pl.days_for(need, int(callers)) if callers is not None else None
        by_days = pl.callers_for(need, int(days)) if days is not None else None
    for name, field in form.fields.items():
        if name != "pool":
            field.widget.attrs["class"] = "form-control" + (" is-invalid" if name in form.errors else "")
    context = {
        "form": form,
        "need": need,
        "by_callers": by_callers,
        "by_days": by_days,
        "pools": pools,
        "rate": rate,
        "min_calls": s.MIN_CALLS_FOR_RATE,
        "rate_days": s.RATE_DAYS,
        "max_hours": max_hours,
        "default_rate": pl.DEFAULT_CONNECT_RATE * 100,
    }
    return _page(request, "outreach/supervision/planner.html", "planner", context)
