"""Customer pages: the searchable list, the customer page, and click-to-reveal. Thin: reads go through
the scoped queryset and selectors, writes through services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.customers import selectors, services
from xiaodai.customers.exceptions import CustomerError
from xiaodai.customers.filters import customer_filter
from xiaodai.customers.forms import ConsentForm, RevealForm
from xiaodai.customers.models import Customer


@require_GET
@require_perm(Perm.VIEW_CUSTOMERS)
def customer_list(request: HttpRequest) -> HttpResponse:
    flt = customer_filter(request.user, request.GET)
    page = Paginator(flt.qs, settings.XIAODAI_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": flt, "page": page, "sort": flt.data.get("sort", "customer_no")}
    if flt.form.cleaned_data.get("q") if flt.is_valid() else False:
        record(Action.CUSTOMER_SEARCH, request=request, detail={"results": page.paginator.count})
    partial = request.htmx  # type: ignore[attr-defined]
    template = "customers/partials/table.html" if partial else "customers/list.html"
    return render(request, template, context)


@require_GET
@require_perm(Perm.VIEW_CUSTOMERS)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_scoped_or_404(
        Customer.objects.select_related("sub_branch", "owner", "payroll_enterprise", "branch"),
        request.user,
        pk=pk,
    )
    record(Action.CUSTOMER_VIEW, request=request, obj=customer)
    today = timezone.localdate()
    context = {
        "customer": customer,
        "age": customer.age_on(today),
        "revealed": services.revealed_fields(request, customer),
        "can_reveal": actor_of(request.user).has(Perm.REVEAL_PII),
        "contact_points": customer.contact_points.all(),
        "credit_lines": customer.credit_lines.all(),
        "loans": customer.loans.all(),
        "cards": customer.cards.all(),
        "deposits": customer.deposits.all(),
        "applications": customer.applications.all(),
        "consent_state": selectors.consent_state(customer),
        "consents": customer.consents.select_related("collector").all()[:50],
        "opt_outs": customer.opt_outs.all(),
        "segments": [t for t in customer.tags.all() if t.kind == "segment"],
        "circles": [t for t in customer.tags.all() if t.kind == "circle"],
        "reveal_form": RevealForm(),
        "consent_form": ConsentForm(),
        "can_record_consent": actor_of(request.user).has(Perm.RECORD_CONSENT),
        "reveal_seconds": settings.XIAODAI_REVEAL_SECONDS,
    }
    return render(request, "customers/detail.html", context)


@require_POST
@require_perm(Perm.REVEAL_PII)
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_scoped_or_404(Customer.objects.all(), request.user, pk=pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("customers:detail", pk=customer.pk)
    try:
        services.reveal_field(
            request,
            customer,
            form.cleaned_data["field"],
            form.cleaned_data["reason"],
            settings.XIAODAI_REVEAL_SECONDS,
        )
    except CustomerError as exc:
        messages.error(request, exc.message)
    return redirect("customers:detail", pk=customer.pk)


@require_POST
@require_perm(Perm.RECORD_CONSENT)
def customer_consent(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_scoped_or_404(Customer.objects.all(), request.user, pk=pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("customers:detail", pk=customer.pk)
    data = form.cleaned_data
    services.record_consent(
        request,
        customer,
        purpose=data["purpose"],
        channel=data["channel"],
        granted=data["granted"],
        source=data["source"],
        wording_version=data["wording_version"],
    )
    messages.success(request, _("Consent recorded."))
    return redirect("customers:detail", pk=customer.pk)
