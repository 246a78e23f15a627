"""Contact rules (compliance C-01..C-05, C-16, C-18): may this customer be contacted on this channel now?

One function, `check`, answers for the call screen and the outcome service alike; the call list applies the
same rules set-based (selectors.call_list) and the screen re-checks the one customer live, so a consent
withdrawn or a cap reached since the list was built still stops the call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaodai.customers.choices import ConsentPurpose
from xiaodai.customers.models import Consent, Customer, OptOut
from xiaodai.outreach import choices as c
from xiaodai.outreach.models import ContactPolicy, Outcome


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def policy_for(branch_id: int) -> ContactPolicy:
    """The branch's contact rules (created with the defaults the first time they are asked for)."""
    policy, _created = ContactPolicy.objects.get_or_create(branch_id=branch_id)
    return policy


def is_working_day(day: dt.date) -> bool:
    """A working day by the State Council calendar, make-up working days (调休) included. Years the
    calendar package does not know yet fall back to Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def in_window(policy: ContactPolicy, at: dt.datetime) -> bool:
    """Inside the calling window (local time, default 09:00-20:00) on a day calls are allowed (C-04)."""
    local = at.astimezone(local_zone())
    if not policy.holidays_allowed and not is_working_day(local.date()):
        return False
    return policy.window_start <= local.time() < policy.window_end


def next_window_start(policy: ContactPolicy, at: dt.datetime) -> dt.datetime:
    """When calls may start again after `at` (for the message that says so)."""
    local = at.astimezone(local_zone())
    day = local.date()
    for _step in range(30):
        start = dt.datetime.combine(day, policy.window_start, tzinfo=local_zone())
        allowed_day = policy.holidays_allowed or is_working_day(day)
        if allowed_day and start > local:
            return start
        if allowed_day and local.time() < policy.window_end and start <= local:
            return local
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, policy.window_start, tzinfo=local_zone())


@dataclass(frozen=True)
class Problem:
    """One reason the contact may not happen now: a code for tests and the API, a sentence for people."""

    code: str
    message: str


def _day_bounds(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = at.astimezone(local_zone())
    start = dt.datetime.combine(local.date(), dt.time(0), tzinfo=local_zone())
    return start, start + dt.timedelta(days=1)


def effective(queryset: QuerySet[Outcome]) -> QuerySet[Outcome]:
    """One record per contact: the latest of its corrections (a correction keeps the contact's time and
    channel and replaces what it says; it is not a second contact)."""
    return queryset.filter(corrected_by__isnull=True)


def consent_problem(customer: Customer, channel: str, at: dt.datetime) -> Problem | None:
    """C-01: an active, channel-specific marketing consent (the latest record for the channel wins)."""
    latest = (
        Consent.objects.filter(customer=customer, purpose=ConsentPurpose.MARKETING, channel=channel)
        .order_by("-recorded_at", "-id")
        .first()
    )
    if latest is None or not latest.granted:
        return Problem("no_consent", _("The customer has not consented to marketing on this channel."))
    if latest.expires_at is not None and latest.expires_at <= at:
        return Problem("consent_expired", _("The customer's marketing consent on this channel has expired."))
    return None


def check(
    customer: Customer,
    channel: str,
    at: dt.datetime | None = None,
    *,
    policy: ContactPolicy | None = None,
) -> list[Problem]:
    """Every rule the contact breaks (an empty list means it may go ahead)."""
    at = at or timezone.now()
    policy = policy or policy_for(customer.branch_id)
    problems: list[Problem] = []
    if customer.is_vulnerable:
        problems.append(Problem("vulnerable", _("The customer is flagged vulnerable: no marketing.")))
    opted_out = (
        OptOut.objects.filter(customer=customer)
        .filter(Q(channel="") | Q(channel=channel))
        .order_by("-recorded_at")
        .first()
    )
    if opted_out is not None:
        problems.append(
            Problem(
                "opted_out",
                _("The customer opted out of contact on %(date)s.")
                % {"date": opted_out.recorded_at.astimezone(local_zone()).date().isoformat()},
            )
        )
    problem = consent_problem(customer, channel, at)
    if problem is not None:
        problems.append(problem)
    frozen = frozen_until(customer, at, policy)
    if frozen is not None:
        problems.append(
            Problem(
                "frozen",
                _("The customer refused on a recent contact: no contact before %(date)s.")
                % {"date": frozen.isoformat()},
            )
        )
    if not in_window(policy, at):
        problems.append(
            Problem(
                "outside_window",
                _("Outside the contact window (%(start)s-%(end)s on working days); next from %(next)s.")
                % {
                    "start": policy.window_start.strftime("%H:%M"),
                    "end": policy.window_end.strftime("%H:%M"),
                    "next": next_window_start(policy, at).strftime("%Y-%m-%d %H:%M"),
                },
            )
        )
    problems.extend(cap_problems(customer, channel, at, policy))
    return problems


def frozen_until(customer: Customer, at: dt.datetime, policy: ContactPolicy) -> dt.date | None:
    """C-03: after a refusal no contact for `refusal_freeze_days`, unless a newer explicit consent exists."""
    since = at - dt.timedelta(days=policy.refusal_freeze_days)
    refusal = (
        effective(Outcome.objects.filter(customer=customer, outcome__in=c.STOPS, occurred_at__gt=since))
        .order_by("-occurred_at")
        .first()
    )
    if refusal is None:
        return None
    renewed = Consent.objects.filter(
        customer=customer,
        purpose=ConsentPurpose.MARKETING,
        granted=True,
        recorded_at__gt=refusal.occurred_at,
    ).exists()
    if renewed:
        return None
    until: dt.datetime = refusal.occurred_at + dt.timedelta(days=policy.refusal_freeze_days)
    return until.astimezone(local_zone()).date()


def cap_problems(customer: Customer, channel: str, at: dt.datetime, policy: ContactPolicy) -> list[Problem]:
    """C-05: per customer and channel, across all staff: attempts today and contacts in 30 days."""
    per_day, per_30d = policy.caps(channel)
    day_start, day_end = _day_bounds(at)
    base = effective(Outcome.objects.filter(customer=customer, channel=channel))
    today = base.filter(occurred_at__gte=day_start, occurred_at__lt=day_end).count()
    problems = []
    if today >= per_day:
        problems.append(
            Problem(
                "cap_day",
                _("Already contacted %(n)s times today on this channel (limit %(cap)s).")
                % {"n": today, "cap": per_day},
            )
        )
    month = base.filter(occurred_at__gt=at - dt.timedelta(days=30), occurred_at__lte=at).count()
    if month >= per_30d:
        problems.append(
            Problem(
                "cap_30d",
                _("Already contacted %(n)s times in 30 days on this channel (limit %(cap)s).")
                % {"n": month, "cap": per_30d},
            )
        )
    return problems
