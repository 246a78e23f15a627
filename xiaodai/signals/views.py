"""Capital-flow pages (资金流): the overview, the customers behind the signals, the signal rules, and the
loan-use alerts post-loan staff review (C-17). Thin: reads through selectors, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Domain, Level, Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.org.models import Staff
from xiaodai.pools.exceptions import RuleError
from xiaodai.signals import rules as r
from xiaodai.signals import selectors, services
from xiaodai.signals.alerts import review_alert
from xiaodai.signals.choices import AlertKind, AlertStatus, Kind
from xiaodai.signals.exceptions import AlertError
from xiaodai.signals.forms import PREFIX, AlertReviewForm, SignalRuleForm
from xiaodai.signals.models import FlowAlert, SignalRule

ROWS_PER_PAGE = 50


def _staff(request: HttpRequest) -> Staff | None:
    return Staff.objects.filter(pk=actor_of(request.user).staff_id or 0).first()


@require_GET
@require_perm(Perm.VIEW_CAPITAL_FLOW)
def flow(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    period, error = selectors.parse_period(request.GET, today)
    runs = selectors.flow_runs(request.user)
    latest = runs[0] if runs else None
    weekly, sightings = selectors.weekly_chart(request.user, today)
    cards = selectors.kind_cards(request.user)
    context = {
        "nav": "capital_flow",
        "cards": cards,
        "signals": sum(c.signals for c in cards),
        "new": sum(c.new for c in cards),
        "weekly": weekly,
        "sightings": sightings,
        "weeks": selectors.CHART_WEEKS,
        "conv": selectors.conversions(request.user, period),
        "period": period,
        "error": error,
        "latest": latest,
        "quality": selectors.quality(latest) if latest else [],
        "loop_chart": selectors.loop_chart(runs) if runs else None,
        "loop_rate": latest.closed_loop_rate * 100
        if latest and latest.closed_loop_rate is not None
        else None,
        "sees_branch": actor_of(request.user).level(Domain.CUSTOMER) == Level.BRANCH,
    }
    return render(request, "signals/flow.html", context)


@require_GET
@require_perm(Perm.VIEW_CAPITAL_FLOW)
def customers(request: HttpRequest) -> HttpResponse:
    flt = selectors.signal_filter(request.GET)
    page = Paginator(selectors.signals(request.user, flt), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    actor = actor_of(request.user)
    context = {
        "nav": "capital_flow",
        "flt": flt,
        "page": page,
        "kinds": Kind.choices,
        "can_call": actor.has(Perm.WORK_CALLS),
        "can_open": actor.has(Perm.VIEW_CUSTOMERS),
    }
    return render(request, "signals/customers.html", context)


@require_GET
@require_perm(Perm.MANAGE_SIGNAL_RULES)
def rule_list(request: HttpRequest) -> HttpResponse:
    services.ensure_rules()
    rules = list(SignalRule.objects.select_related("updated_by"))
    order = {d.code: i for i, d in enumerate(r.ALL)}
    rules.sort(key=lambda rule: order.get(rule.code, len(order)))
    return render(request, "signals/rules.html", {"nav": "signal_rules", "rows": selectors.rule_rows(rules)})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_SIGNAL_RULES)
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    defn = r.BY_CODE.get(code)
    if defn is None:
        raise Http404
    services.ensure_rules()
    rule = SignalRule.objects.select_related("updated_by").get(code=code)
    form = SignalRuleForm(defn, rule, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_rule(
                code,
                params=form.param_values(),
                is_active=form.cleaned_data.get("is_active", False),
                note=form.cleaned_data["note"].strip(),
                by=_staff(request),
            )
        except RuleError as exc:
            form.add_error(form.field_for(exc.field), str(exc.message))
        else:
            if saved.version == rule.version:
                messages.info(request, _("Nothing changed: the rule already has these values."))
            else:
                messages.success(
                    request,
                    _("%(rule)s saved as version %(version)s. It takes effect on the next pipeline run.")
                    % {"rule": defn.name, "version": saved.version},
                )
            return redirect("signals:rule_edit", code=code)
    form.mark_invalid()
    code_lists = selectors.mcc_lists(defn, rule.params)
    context = {
        "nav": "signal_rules",
        "defn": defn,
        "rule": rule,
        "form": form,
        # Each visible field with what its saved merchant-code list covers (None for other fields).
        "fields": [(f, code_lists.get(f.name.removeprefix(PREFIX))) for f in form.visible_fields()],
        "history": selectors.rule_history(rule),
    }
    return render(request, "signals/rule_edit.html", context, status=400 if form.errors else 200)


@require_GET
@require_perm(Perm.REVIEW_FLOW_ALERTS)
def alert_list(request: HttpRequest) -> HttpResponse:
    flt = selectors.alert_filter(request.GET)
    page = Paginator(selectors.alerts(request.user, flt), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.alert_counts(request.user)
    context = {
        "nav": "flow_alerts",
        "flt": flt,
        "page": page,
        "tabs": [(code, label, counts[code]) for code, label in AlertStatus.choices],
        "kinds": AlertKind.choices,
    }
    return render(request, "signals/alerts.html", context)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.REVIEW_FLOW_ALERTS)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_scoped_or_404(
        FlowAlert.objects.select_related("customer", "customer__sub_branch", "reviewed_by"),
        request.user,
        pk=pk,
    )
    form = AlertReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff = _staff(request)
        try:
            if staff is None:  # the permission implies a staff record; a broken account reviews nothing
                raise AlertError(_("Your account has no staff record."))
            review_alert(alert, form.cleaned_data["status"], form.cleaned_data["note"], staff)
        except AlertError as exc:
            form.add_error(None, str(exc))
            alert.refresh_from_db()  # someone else may have reviewed it meanwhile: show what stands
        else:
            messages.success(request, _("Alert #%(id)s reviewed.") % {"id": alert.pk})
            return redirect("signals:alert", pk=alert.pk)
    context = {
        "nav": "flow_alerts",
        "alert": alert,
        "form": form,
        "is_open": alert.status == AlertStatus.OPEN,
    }
    return render(request, "signals/alert.html", context, status=400 if form.errors else 200)
