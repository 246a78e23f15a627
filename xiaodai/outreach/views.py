"""The workbench: today's list, the call screen and its outcome form, and the contact rules page.
Thin: reads through selectors, writes through services."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaodai.core.access import actor_of, require_perm
from xiaodai.core.roles import Perm
from xiaodai.core.scoping import get_scoped_or_404
from xiaodai.customers import services as customer_services
from xiaodai.customers.exceptions import CustomerError
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff
from xiaodai.outreach import choices as c
from xiaodai.outreach import rules, selectors, services
from xiaodai.outreach.exceptions import OutreachError
from xiaodai.outreach.forms import ContactPolicyForm, OutcomeForm
from xiaodai.outreach.models import Outcome

# The keys of the call screen: the common outcomes, in the order a telemarketer meets them.
SHORTCUTS = (
    ("1", c.ContactOutcome.NO_ANSWER),
    ("2", c.ContactOutcome.BUSY),
    ("3", c.ContactOutcome.WRONG_NUMBER),
    ("4", c.ContactOutcome.NOT_NOW),
    ("5", c.ContactOutcome.INTERESTED),
    ("6", c.ContactOutcome.WILL_APPLY),
    ("7", c.ContactOutcome.APPLIED),
    ("8", c.ContactOutcome.REFUSED),
    ("9", c.ContactOutcome.DO_NOT_CALL),
)
REVEAL_REASON = "外呼联系客户"  # the purpose of a reveal from the call screen: calling the customer


def _staff(request: HttpRequest) -> Staff:
    staff = getattr(request.user, "staff", None)
    if staff is None:  # require_perm already refused users without a staff record
        raise Http404
    return staff


def _channel(request: HttpRequest) -> str:
    value = request.GET.get("channel") or request.POST.get("channel") or c.WorkChannel.PHONE
    return value if value in c.WorkChannel.values else c.WorkChannel.PHONE


@require_GET
@require_perm(Perm.WORK_CALLS)
def today(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    channel = _channel(request)
    now = timezone.now()
    policy = rules.policy_for(staff.branch_id)
    worklist = selectors.call_list(staff, channel, now, more=request.GET.get("more") == "1", policy=policy)
    context = {
        "nav": "work",
        "list": worklist,
        "channel": channel,
        "channels": c.WorkChannel.choices,
        "more": request.GET.get("more") == "1",
        "policy": policy,
        "today": timezone.localdate(),
        "follow_ups": selectors.open_follow_ups(staff).select_related("customer").order_by("due_on")[:20],
    }
    return render(request, "outreach/today.html", context)


def _card_context(
    request: HttpRequest, customer: Customer, channel: str, form: OutcomeForm
) -> dict[str, object]:
    now = timezone.now()
    card = selectors.card(customer, channel, now)
    staff = getattr(request.user, "staff", None)
    following = selectors.next_customer(staff, channel, now, after=customer.pk) if staff else None
    return {
        "skip_to": following,
        # Visits and WeChat contacts may be logged after the window; a call cannot be.
        "blocking": [
            p for p in card.problems if channel == c.WorkChannel.PHONE or p.code != "outside_window"
        ],
        "nav": "work",
        "card": card,
        "customer": customer,
        "channel": channel,
        "channels": c.WorkChannel.choices,
        "form": form,
        "shortcuts": [(key, code, c.ContactOutcome(code).label) for key, code in SHORTCUTS],
        "objections": c.Objection.choices,
        "revealed": customer_services.revealed_fields(request, customer),
        "can_reveal": actor_of(request.user).has(Perm.REVEAL_PII),
        "contact_points": customer.contact_points.all(),
        "prohibited": sorted(c.PROHIBITED_PURPOSES),
        "referrals": sorted(c.REFERRALS),
        "age": customer.age_on(timezone.localdate()),
    }


def _initial(customer: Customer, channel: str) -> dict[str, object]:
    return {"token": uuid.uuid4(), "channel": channel}


@require_http_methods(["GET", "POST"])
@require_perm(Perm.WORK_CALLS)
def call(request: HttpRequest, pk: int) -> HttpResponse:
    """The call screen (GET) and its save-and-next (POST)."""
    customer = get_scoped_or_404(
        Customer.objects.select_related("sub_branch", "owner", "worker"), request.user, pk=pk
    )
    channel = _channel(request)
    if request.method == "GET":
        form = OutcomeForm(initial=_initial(customer, channel))
        return render(request, "outreach/call.html", _card_context(request, customer, channel, form))
    staff = _staff(request)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return render(
            request, "outreach/call.html", _card_context(request, customer, channel, form), status=400
        )
    data = form.cleaned_data
    corrects = None
    if data.get("corrects"):
        corrects = get_scoped_or_404(
            Outcome.objects.all(), request.user, pk=data["corrects"], customer=customer
        )
    try:
        services.record_outcome(
            staff,
            services.OutcomeInput(
                customer=customer,
                channel=data["channel"],
                outcome=data["outcome"],
                token=data["token"],
                objection=data["objection"],
                rebuttal=data["rebuttal"],
                purpose=data["purpose"],
                amount=data["amount"],
                follow_up_on=data["follow_up_on"],
                notes=data["notes"],
                script_version_id=data["script_version"],
                recording_ref=data["recording_ref"],
                visit_place=data["visit_place"],
                wechat_kind=data["wechat_kind"],
                occurred_at=data["occurred_at"],
                corrects=corrects,
            ),
        )
    except OutreachError as exc:
        if exc.code == "duplicate":  # a double click: the first click saved; carry on to the next customer
            messages.info(request, exc.message)
            return _to_next(staff, channel, customer.pk)
        services.refuse(staff, customer, exc, request=request)
        form.add_error(None, exc.message)
        context = _card_context(request, customer, channel, form)
        return render(request, "outreach/call.html", context, status=400)
    messages.success(
        request,
        _("Saved: %(outcome)s.") % {"outcome": c.ContactOutcome(data["outcome"]).label},
    )
    if corrects is not None:
        return redirect(f"{reverse('outreach:call', args=[customer.pk])}?channel={channel}")
    return _to_next(staff, channel, customer.pk)


def _to_next(staff: Staff, channel: str, current: int) -> HttpResponse:
    following = selectors.next_customer(staff, channel, timezone.now(), after=current)
    if following is None:
        return redirect(f"{reverse('outreach:today')}?channel={channel}")
    return redirect(f"{reverse('outreach:call', args=[following])}?channel={channel}")


@require_POST
@require_perm(Perm.REVEAL_PII)
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Click-to-reveal the phone number on the call screen (audited; the purpose is the call itself)."""
    customer = get_scoped_or_404(Customer.objects.all(), request.user, pk=pk)
    try:
        customer_services.reveal_field(
            request, customer, "phone", REVEAL_REASON, settings.XIAODAI_REVEAL_SECONDS
        )
    except CustomerError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('outreach:call', args=[customer.pk])}?channel={_channel(request)}")


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_CONTACT_RULES)
def contact_rules(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    policy = rules.policy_for(staff.branch_id)
    form = ContactPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.Meta.fields}
            fresh = rules.policy_for(
                staff.branch_id
            )  # the form wrote into `policy`: audit from the stored row
            services.update_policy(fresh, staff, values)
            messages.success(request, _("Contact rules saved (version %(v)s).") % {"v": fresh.version})
            return redirect("outreach:rules")
        return render(
            request, "outreach/rules.html", {"nav": "work", "form": form, "policy": policy}, status=400
        )
    return render(request, "outreach/rules.html", {"nav": "work", "form": form, "policy": policy})
